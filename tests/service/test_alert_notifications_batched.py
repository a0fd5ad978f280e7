"""A cycle's alert changes are notified a few hundred to a transaction (``notify_alerts``): a newly elected
cycle raises thousands at once, and one transaction each cost it seconds of CPU. The ledger entries and
notifications must be those of ``notify_alert`` one change at a time, in the same order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from deconfliction.domain.party import Party
from deconfliction.domain.tactical import Alert, AlertChange, AlertKind, AlertState, Prediction, TacticalRule
from deconfliction.service import notifications as notes
from deconfliction.service.ledger import export_ledger
from deconfliction.service.runtime import Runtime
from tests.conftest import T0


@pytest.fixture
def who(parties: dict[str, tuple[Party, str]]) -> dict[str, Party]:
    return {n: p for n, (p, _) in parties.items()}


def changes(prefix: str, alpha: str, bravo: str, n: int) -> list[AlertChange]:
    out = []
    for k in range(n):
        p = Prediction(
            T0 + timedelta(seconds=60 + k), T0 + timedelta(seconds=90 + k), 900.0 + k, 100.0, False, TacticalRule()
        )
        kind = ("raised", "ongoing", "resolved")[k % 3]
        state = AlertState.RESOLVED if kind == "resolved" else AlertState.NEW
        a = Alert(f"{prefix}{k}", AlertKind.TRACKS, ((alpha, f"A{k}"), (bravo, f"B{k}")), state, p, T0, T0, T0)
        out.append(AlertChange(kind, a))
    return out


def told(rt: Runtime, party: Party, prefix: str) -> tuple[list[Any], list[Any]]:
    """What ``party`` was told about alerts ``prefix...``: its notifications and ledger entries, ids made
    alike."""

    def alike(v: Any) -> Any:
        return orjson_like(v).replace(prefix, "#")

    stream, after = [], 0
    while page := notes.stream_after(rt, party, after):
        stream += page
        after = page[-1].seq
    notes_ = [
        (n.kind, alike(n.subject_id), alike(n.body), n.deadline) for n in stream if n.subject_id.startswith(prefix)
    ]
    entries = [
        (x["content"]["type"], alike(x["content"]["audience"]), alike(x["content"]["payload"]))
        for x in list(export_ledger(rt, party))[1:]
        if "content" in x and x["content"]["subject"].startswith(prefix)
    ]
    return notes_, entries


def orjson_like(v: Any) -> str:
    import orjson

    return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()


def test_a_cycles_changes_are_told_as_one_by_one_in_few_transactions(
    rt: Runtime, who: dict[str, Party], monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha, bravo = who["alpha"], who["bravo"]
    for ch in changes("one-", alpha.id, bravo.id, 600):
        notes.notify_alert(rt, ch)
    writes = 0
    write = rt.store.write

    def counted() -> Any:
        nonlocal writes
        writes += 1
        return write()

    monkeypatch.setattr(rt.store, "write", counted)
    notes.notify_alerts(rt, changes("all-", alpha.id, bravo.id, 600))
    assert writes == 2  # 400 changes told (raised, resolved), 250 to a transaction
    for party in (alpha, bravo):
        one, batched = told(rt, party, "one-"), told(rt, party, "all-")
        assert one == batched
        assert len(one[0]) == 400 and len(one[1]) == 400
