"""PostgreSQL plans each index search once (store/sql/base.py, ``GenericPlans``): the operations' candidate
query and the DSS's search are prepared statements whose executions reuse one generic plan, instead of the
server planning a union of cell ranges and ancestors again on every check (as much time as the search);
the other statements of the transaction are planned as before."""

from __future__ import annotations

from datetime import timedelta

import shapely

from deconfliction.dss.extents import Extent
from deconfliction.dss.records import INTENT
from deconfliction.store.ports import CandidateQuery
from deconfliction.store.postgres import PostgresStore
from tests.conftest import T0, truncate


def test_index_searches_reuse_their_generic_plan(postgres_url: str) -> None:
    truncate(postgres_url)
    store = PostgresStore(postgres_url, min_size=1, max_size=1)  # one session: its prepared statements
    try:
        query = CandidateQuery(((10.0, 10.0, 10.1, 10.1),), T0, T0 + timedelta(hours=1), 0.0, 100.0, "pt_x")
        extent = Extent(shapely.box(10.0, 10.0, 10.1, 10.1), 0.0, 100.0, T0, T0 + timedelta(hours=1))
        for _ in range(12):  # psycopg prepares a statement on its fifth execution in a session
            with store.read() as tx:
                assert tx.operations.candidates(query) == []
                assert tx.dss.search_references(INTENT, extent) == []
        with store.read() as tx:
            rows = tx._cur.execute(  # the same session's view of what it prepared
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
            ).fetchall()
        # and only there: the statements after a search are planned as the session's setting says
        for begin in (store.read, store.write):
            with begin() as tx:
                tx.operations.candidates(query)
                tx.dss.search_references(INTENT, extent)
                assert tx._cur.execute("SHOW plan_cache_mode").fetchone()["plan_cache_mode"] == "auto"
        searches = {
            table: [r for r in rows if f"FROM {table}" in r["statement"]] for table in ("volume_cells", "dss_cells")
        }
        for table, found in searches.items():
            assert len(found) == 1, (table, rows)
            assert found[0]["custom_plans"] == 0 and found[0]["generic_plans"] >= 6, (table, found)
    finally:
        store.close()
