"""The storage contract: one abstract suite, subclassed once per backend. A new backend is done when a
subclass of ``StoreContract`` passes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import shapely

from deconfliction.domain.conflict import Conflict, ConflictState, Encounter
from deconfliction.domain.exercise import DeploymentMode, ScenarioAnchor
from deconfliction.domain.ledger import GENESIS, seal
from deconfliction.domain.limits import Limits
from deconfliction.domain.operation import Operation, OperationState
from deconfliction.domain.party import Party, Role
from deconfliction.domain.policy import DEFAULT_RULES, OperationKind
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.store import open_store
from deconfliction.store.ports import CandidateQuery, Store, StoredResponse
from tests.conftest import T0, square, truncate
from tests.shapes import circle, parse_shape

L = Limits()
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def party(name: str, role: Role = Role.PARTY) -> Party:
    return Party(f"pt_{name}", name, role, NOW)


def operation(
    op_id: str,
    owner: str,
    lon: float = 40.0,
    lat: float = 35.0,
    *,
    state=OperationState.DRAFT,
    hours: float = 2.0,
    lo: float = 0.0,
    hi: float = 3000.0,
    footprint: dict | None = None,
) -> Operation:
    v = Volume4D.create(
        parse_shape(footprint or square(lon, lat), L),
        AltitudeBand(lo, hi),
        TimeWindow(T0, T0 + timedelta(hours=hours)),
    )
    return Operation(op_id, owner, OperationKind.AIR, 3, state, 1, f"ovn-{op_id}", (v,), f"title {op_id}", NOW, NOW)


def query(
    lon: float,
    lat: float,
    size: float = 0.1,
    start: datetime = T0,
    hours: float = 1.0,
    alt: tuple[float, float] | None = (0.0, 100.0),
) -> CandidateQuery:
    return CandidateQuery(
        ((lon, lat, lon + size, lat + size),),
        start,
        start + timedelta(hours=hours),
        alt[0] if alt else None,
        alt[1] if alt else None,
    )


def conflict(cid: str, a: str, b: str, state: ConflictState = ConflictState.OPEN, version: int = 1) -> Conflict:
    e = Encounter(
        0,
        0,
        12.5,
        0.0,
        0.0,
        TimeWindow(T0, T0 + timedelta(hours=1)),
        AltitudeBand(0, 100),
        shapely.box(40, 35, 40.1, 35.1),
        (40.0, 35.0),
        (40.1, 35.1),
    )
    return Conflict(
        cid,
        "operation",
        state,
        version,
        a,
        "pt_alpha",
        b,
        "pt_bravo",
        "tok-a",
        "tok-b",
        DEFAULT_RULES[0],
        (e,),
        NOW,
        NOW,
    )


class StoreContract:
    """Every backend passes these. Subclasses provide the ``store`` fixture (and ``reopen``)."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        raise NotImplementedError

    def reopen(self, store: Store) -> Store:
        raise NotImplementedError

    def connect_directly(self) -> tuple[Any, Any]:
        """A connection of the database driver itself to the store's database (rows by column name), and
        its dialect: for a migration's data step, run as the runner would, on rows written around the store."""
        from deconfliction.store.sql import POSTGRES, SQLITE

        if self.url.startswith("sqlite"):
            import sqlite3

            conn: Any = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            conn.row_factory = sqlite3.Row
            return conn, SQLITE
        import psycopg
        from psycopg.rows import dict_row

        return psycopg.connect(self.url, row_factory=dict_row), POSTGRES

    @pytest.fixture
    def seeded(self, store: Store) -> Store:
        with store.write() as tx:
            tx.parties.add(party("alpha"), "hash-alpha")
            tx.parties.add(party("bravo"), "hash-bravo")
        return store

    # ------------------------------------------------------------------------------------------ parties

    def test_parties(self, store: Store) -> None:
        with store.write() as tx:
            for name in ("alpha", "bravo", "cell"):
                tx.parties.add(party(name, Role.COORDINATOR if name == "cell" else Role.PARTY), f"hash-{name}")
        with store.read() as tx:
            assert tx.parties.get("pt_alpha") == party("alpha")
            assert tx.parties.by_name("cell").role is Role.COORDINATOR
            assert tx.parties.by_key_hash("hash-bravo") == party("bravo")
            assert tx.parties.by_key_hash("nope") is None
            assert [p.name for p in tx.parties.list()] == ["alpha", "bravo", "cell"]
            assert [p.name for p in tx.parties.list(after="pt_alpha", limit=1)] == ["bravo"]
            assert tx.parties.get_many({"pt_cell", "pt_alpha", "pt_nobody"}) == {
                "pt_alpha": party("alpha"),
                "pt_cell": party("cell", Role.COORDINATOR),
            }
            assert tx.parties.get_many(()) == {}

    def test_a_glance_sees_each_commit_and_leaves_transactions_as_they_were(self, seeded: Store) -> None:
        """Each statement of a glance sees what had committed when it ran (no snapshot shared between
        them, unlike a read); the connections it used go back to serving transactions: a write that
        fails leaves nothing, a read keeps one snapshot, also after a glance whose statement failed."""
        import sqlite3

        import psycopg

        with seeded.glance() as tx:
            assert tx.parties.get("pt_charlie") is None
            with seeded.write() as w:
                w.parties.add(party("charlie"), "hash-charlie")
            assert tx.parties.get("pt_charlie") == party("charlie")
        with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)), seeded.glance() as tx:
            tx.parties.add(party("alpha"), "hash-alpha")  # already there: the statement fails
        with contextlib.ExitStack() as stack:  # several at once: every pooled connection has glanced
            for _ in range(8):
                assert stack.enter_context(seeded.glance()).parties.get("pt_alpha") == party("alpha")
        for n in range(3):
            with pytest.raises(RuntimeError, match="rolled back"):
                self._write_then_fail(seeded, party(f"delta{n}"))
            with seeded.read() as tx:
                assert tx.parties.get(f"pt_delta{n}") is None
                with seeded.write() as w:
                    w.parties.add(party(f"echo{n}"), f"hash-echo{n}")
                assert tx.parties.get(f"pt_echo{n}") is None  # the read's own snapshot

    @staticmethod
    def _write_then_fail(store: Store, p: Party) -> None:
        with store.write() as w:
            w.parties.add(p, f"hash-{p.name}")
            raise RuntimeError("rolled back")

    def test_units_and_their_keys(self, seeded: Store) -> None:
        from deconfliction.domain.notification import Contact
        from deconfliction.domain.unit import Unit
        from deconfliction.store.ports import UnitKey

        area = parse_shape(square(40.0, 35.0), L)
        assert not isinstance(area, str)
        convoy = Unit("un_1", "pt_alpha", "Convoy team", (Contact("Lead", {"phone": "+1"}),), area, 1, NOW, NOW)  # type: ignore[arg-type]
        office = Unit("un_2", "pt_alpha", "Field office", (), None, 1, NOW, NOW)
        same_name = Unit("un_3", "pt_bravo", "Convoy team", (), None, 1, NOW, NOW)
        with seeded.write() as tx:
            for u in (convoy, office, same_name):
                tx.units.add(u)
            tx.units.add_key(UnitKey("uk_1", "un_1", NOW), "hash-unit-1")
            tx.units.add_key(UnitKey("uk_2", "un_1", NOW + timedelta(seconds=1)), "hash-unit-2")
        with seeded.read() as tx:
            assert tx.units.get("un_1") == convoy and tx.units.get("un_9") is None
            assert tx.units.by_name("pt_alpha", "Field office") == office
            assert tx.units.by_name("pt_bravo", "Field office") is None
            assert [u.id for u in tx.units.list(party_id="pt_alpha")] == ["un_1", "un_2"]
            assert [u.id for u in tx.units.list(after="un_1", limit=1)] == ["un_2"]
            assert tx.units.by_key_hash("hash-unit-2") == convoy
            assert tx.units.by_key_hash("hash-alpha") is None
        later = NOW + timedelta(minutes=1)
        with seeded.write() as tx:
            tx.units.save(convoy.with_contacts((Contact("Deputy", {"radio": "ch 4"}),), later))
            tx.units.revoke_key("uk_2", later)
        with seeded.read() as tx:
            got = tx.units.get("un_1")
            assert got is not None and got.version == 2 and got.contacts == (Contact("Deputy", {"radio": "ch 4"}),)
            assert got.area == area
            assert tx.units.by_key_hash("hash-unit-2") is None
            assert tx.units.by_key_hash("hash-unit-1") == got
            assert [(k.id, k.revoked_at) for k in tx.units.keys("un_1")] == [("uk_1", None), ("uk_2", later)]
        import sqlite3

        import psycopg

        with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)), seeded.write() as tx:
            tx.units.add(Unit("un_4", "pt_alpha", "Convoy team", (), None, 1, NOW, NOW))  # unique in its party

    def test_unit_of_operations_and_notifications(self, seeded: Store) -> None:
        from deconfliction.domain.notification import Notification
        from deconfliction.domain.unit import Unit

        with seeded.write() as tx:
            for uid in ("un_1", "un_2"):
                tx.units.add(Unit(uid, "pt_alpha", uid, (), None, 1, NOW, NOW))
            tx.operations.add(replace(operation("op_1", "pt_alpha"), unit_id="un_1"))
            tx.operations.add(replace(operation("op_2", "pt_alpha", 41.0), unit_id="un_2"))
            tx.operations.add(operation("op_3", "pt_alpha", 42.0))
            for i, unit in enumerate(("un_1", "un_2", None), start=1):
                n = Notification(
                    f"nt_{i}",
                    tx.notifications.next_seq(),
                    "pt_alpha",
                    "conflict.opened",
                    "cf",
                    1,
                    {},
                    NOW,
                    NOW,
                    unit_id=unit,
                )
                tx.notifications.add(n)
        with seeded.read() as tx:
            got = tx.operations.get("op_1")
            assert got is not None and got.unit_id == "un_1"
            assert tx.operations.unit_of("op_2") == "un_2" and tx.operations.unit_of("op_3") is None
            assert tx.operations.unit_of("op_9") is None
            assert [o.id for o in tx.operations.list(owner_id="pt_alpha", unit_id="un_1")] == ["op_1", "op_3"]
            assert [o.id for o in tx.operations.list(owner_id="pt_alpha")] == ["op_1", "op_2", "op_3"]
            assert [n.id for n in tx.notifications.list(party_id="pt_alpha", unit_id="un_2")] == ["nt_2", "nt_3"]
            assert [n.id for n in tx.notifications.for_party("pt_alpha", unit_id="un_1")] == ["nt_1", "nt_3"]
            assert len(tx.notifications.for_party("pt_alpha")) == 3
            n1 = tx.notifications.get("nt_1")
            assert n1 is not None and n1.unit_id == "un_1"
        with seeded.write() as tx:  # a revision may move it to another unit
            op = tx.operations.get("op_3")
            assert op is not None
            tx.operations.replace(replace(op, unit_id="un_2", version=2))
        with seeded.read() as tx:
            assert tx.operations.unit_of("op_3") == "un_2"

    def test_party_keys_and_used_signatures(self, seeded: Store) -> None:
        from datetime import timedelta

        from deconfliction.store.ports import PartyKey

        k1 = PartyKey("k_1", "pt_alpha", bytes(range(32)), NOW)
        k2 = PartyKey("k_2", "pt_alpha", bytes(32), NOW + timedelta(seconds=1))
        with seeded.write() as tx:
            tx.party_keys.add(k2)
            tx.party_keys.add(k1)
            tx.party_keys.revoke("k_1", NOW + timedelta(seconds=5))
        with seeded.read() as tx:
            assert tx.party_keys.get("k_2") == k2
            assert tx.party_keys.get("k_1") == PartyKey(
                "k_1", "pt_alpha", bytes(range(32)), NOW, NOW + timedelta(seconds=5)
            )
            assert [k.key_id for k in tx.party_keys.for_party("pt_alpha")] == ["k_1", "k_2"]
            assert tx.party_keys.for_party("pt_bravo") == []
            assert tx.party_keys.get("k_3") is None
        later = NOW + timedelta(seconds=600)
        with seeded.write() as tx:
            assert tx.party_keys.use_signature("d1", "pt_alpha", NOW + timedelta(seconds=300), NOW)
            assert not tx.party_keys.use_signature("d1", "pt_alpha", NOW + timedelta(seconds=300), NOW)
            # once expired, the record is forgotten (the signature's timestamp refuses it by then)
            assert tx.party_keys.use_signature("d1", "pt_alpha", later + timedelta(seconds=300), later)

    def test_api_keys(self, seeded: Store) -> None:
        from deconfliction.store.ports import ApiKey

        k1 = ApiKey("ak_1", "pt_alpha", "gateway", NOW, NOW + timedelta(hours=1))
        k2 = ApiKey("ak_2", "pt_alpha", "spare", NOW + timedelta(seconds=1))
        with seeded.write() as tx:
            tx.api_keys.add(k2, "h2")
            tx.api_keys.add(k1, "h1")
            tx.api_keys.revoke("ak_2", NOW + timedelta(seconds=5))
            tx.api_keys.revoke("ak_2", NOW + timedelta(seconds=9))  # the first revocation stands
        with seeded.read() as tx:
            assert tx.api_keys.get("ak_1") == k1 and tx.api_keys.by_hash("h1") == k1
            assert tx.api_keys.by_hash("h2") == replace(k2, revoked_at=NOW + timedelta(seconds=5))
            assert tx.api_keys.by_hash("nope") is None and tx.api_keys.get("ak_3") is None
            assert [k.id for k in tx.api_keys.for_party("pt_alpha")] == ["ak_1", "ak_2"]
            assert tx.api_keys.for_party("pt_bravo") == []
        assert k1.active(NOW) and not k1.active(NOW + timedelta(hours=1))
        import sqlite3

        import psycopg

        with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)), seeded.write() as tx:
            tx.api_keys.add(ApiKey("ak_4", "pt_bravo", "same secret", NOW), "h1")

    def test_migration_22_carries_every_partys_first_key(self, seeded: Store) -> None:
        """Keys kept on the party's row before migration 22 become its first API key, still valid."""
        from deconfliction.store.ports import ApiKey
        from deconfliction.store.sql import POSTGRES, SQLITE, migration_scripts, statements

        script = next(text for version, _, text in migration_scripts() if version == 22)
        dialect = SQLITE if self.url.startswith("sqlite") else POSTGRES
        copy = [s for s in statements(script, dialect) if s.startswith("INSERT")]
        if self.url.startswith("sqlite"):
            import sqlite3

            conn: Any = sqlite3.connect(self.url.removeprefix("sqlite:///"))
        else:
            import psycopg

            conn = psycopg.connect(self.url)
        try:  # the parties were added with their key on their row only: as before the migration
            cur = conn.cursor()
            for stmt in copy:
                cur.execute(stmt)
            conn.commit()
        finally:
            conn.close()
        with seeded.read() as tx:
            first = tx.api_keys.by_hash("hash-alpha")
            assert first == ApiKey("ak_alpha", "pt_alpha", "first key", party("alpha").created_at)
            assert first.active(NOW) and tx.api_keys.by_hash("hash-bravo") is not None

    def test_client_certificates(self, seeded: Store) -> None:
        import sqlite3

        import psycopg

        from deconfliction.store.ports import ClientCertificate

        a, b = "a" * 64, "b" * 64
        with seeded.write() as tx:
            tx.client_certificates.add(ClientCertificate(b, "pt_alpha", "gateway 2", NOW + timedelta(seconds=1)))
            tx.client_certificates.add(ClientCertificate(a, "pt_alpha", "gateway 1", NOW))
            tx.client_certificates.revoke(a, NOW + timedelta(seconds=5))
            tx.client_certificates.revoke(a, NOW + timedelta(seconds=9))  # the first revocation stands
        with seeded.read() as tx:
            got = tx.client_certificates.get(a)
            assert got == ClientCertificate(a, "pt_alpha", "gateway 1", NOW, NOW + timedelta(seconds=5))
            assert got is not None and not got.active
            assert [c.fingerprint for c in tx.client_certificates.for_party("pt_alpha")] == [a, b]
            assert tx.client_certificates.for_party("pt_bravo") == []
            assert tx.client_certificates.get("c" * 64) is None
        with (
            pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)),
            seeded.write() as tx,
        ):  # one binding per certificate, whoever holds it
            tx.client_certificates.add(ClientCertificate(b, "pt_bravo", "theirs", NOW))

    def test_a_signed_event_keeps_its_signature_in_the_chain(self, seeded: Store) -> None:
        from deconfliction.domain.ledger import GENESIS, seal

        signed = {"key_id": "k_1", "signature": "x", "request": {"body": {"n": 1.5}}}
        with seeded.write() as tx:
            tx.events.append(at=NOW, actor_id="pt_alpha", type="t", subject_id="s", payload={}, signed=signed)
            tx.events.append(at=NOW, actor_id="pt_alpha", type="t", subject_id="s", payload={})
        with seeded.read() as tx:
            first, second = tx.events.after(0)
        assert first.signed == signed and second.signed is None
        assert seal(first.sealed().entry, GENESIS).hash == first.hash
        assert "signed" in first.sealed().entry.content() and "signed" not in second.sealed().entry.content()

    # --------------------------------------------------------------------------------------- operations

    def test_operation_round_trip(self, seeded: Store) -> None:
        op = operation("op_1", "pt_alpha", footprint=circle([40.0, 35.0], 800.0))
        with seeded.write() as tx:
            tx.operations.add(op)
        with seeded.read() as tx:
            got = tx.operations.get("op_1")
        assert got == op
        assert got is not None and got.volumes[0].shape.core.equals(op.volumes[0].shape.core)
        assert got.volumes[0].shape.radius_m == 800.0
        assert got.created_at == NOW and got.volumes[0].window.start == T0

    def test_replace_and_list(self, seeded: Store) -> None:
        with seeded.write() as tx:
            for i in range(5):
                tx.operations.add(operation(f"op_{i}", "pt_alpha" if i % 2 == 0 else "pt_bravo"))
        with seeded.write() as tx:
            op = tx.operations.get("op_2")
            assert op is not None
            tx.operations.replace(replace(op, state=OperationState.PLANNED, version=2, ovn="new"))
        with seeded.read() as tx:
            assert tx.operations.get("op_2").version == 2  # type: ignore[union-attr]
            assert [o.id for o in tx.operations.list(owner_id="pt_alpha")] == ["op_0", "op_2", "op_4"]
            assert [o.id for o in tx.operations.list(states=[OperationState.PLANNED])] == ["op_2"]
            assert [o.id for o in tx.operations.list(after="op_1", limit=2)] == ["op_2", "op_3"]
            assert tx.operations.get("op_missing") is None

    def test_candidates_filter_space_time_altitude(self, seeded: Store) -> None:
        with seeded.write() as tx:
            tx.operations.add(operation("op_here", "pt_alpha", 40.0, 35.0, lo=0, hi=500))
            tx.operations.add(operation("op_far", "pt_alpha", 50.0, 10.0))
        with seeded.read() as tx:
            found = {(c.operation_id, c.index) for c in tx.operations.candidates(query(40.05, 35.05))}
            assert found == {("op_here", 0)}
            # a box that only touches the stored footprint's box is still a candidate
            assert tx.operations.candidates(query(40.1, 35.0))
            assert not tx.operations.candidates(query(41.0, 35.0))
            assert not tx.operations.candidates(query(40.05, 35.05, start=T0 + timedelta(hours=3)))
            assert not tx.operations.candidates(query(40.05, 35.05, alt=(600.0, 900.0)))
            assert tx.operations.candidates(query(40.05, 35.05, alt=None))
            c = tx.operations.candidates(query(40.05, 35.05))[0]
            assert (c.owner_id, c.kind, c.ovn) == ("pt_alpha", OperationKind.AIR, "ovn-op_here")

    def test_candidates_leave_out_the_owner_asked(self, seeded: Store) -> None:
        with seeded.write() as tx:
            tx.operations.add(operation("op_a", "pt_alpha", 40.0, 35.0))
            tx.operations.add(operation("op_b", "pt_bravo", 40.02, 35.02))
        with seeded.read() as tx:
            everyone = {c.operation_id for c in tx.operations.candidates(query(40.05, 35.05))}
            assert everyone == {"op_a", "op_b"}
            but_alpha = replace(query(40.05, 35.05), exclude_owner="pt_alpha")
            assert {c.operation_id for c in tx.operations.candidates(but_alpha)} == {"op_b"}
            but_bravo = replace(query(40.05, 35.05), exclude_owner="pt_bravo")
            assert {c.operation_id for c in tx.operations.candidates(but_bravo)} == {"op_a"}

    def test_live_occupancies_of_operations_by_id(self, seeded: Store) -> None:
        """The volumes of live operations by id, as ``candidates`` returns them, wherever they are; not the
        owner asked to leave out, not an ended or cancelled one, nothing for an unknown id."""
        two = Volume4D.create(
            parse_shape(square(41.0, 36.0), L), AltitudeBand(100.0, 200.0), TimeWindow(T0, T0 + timedelta(hours=1))
        )
        a = operation("op_a", "pt_alpha", 40.0, 35.0)
        a = replace(a, volumes=(*a.volumes, two))
        with seeded.write() as tx:
            tx.operations.add(a)
            tx.operations.add(operation("op_b", "pt_bravo", 50.0, 10.0))
            tx.operations.add(operation("op_ended", "pt_bravo", state=OperationState.ENDED))
            tx.operations.add(operation("op_cancelled", "pt_bravo", state=OperationState.CANCELLED))
        with seeded.read() as tx:
            got = tx.operations.live_occupancies(["op_a", "op_b", "op_ended", "op_cancelled", "op_missing"])
            assert [(o.operation_id, o.index) for o in got] == [("op_a", 0), ("op_a", 1), ("op_b", 0)]
            by_query = {(c.operation_id, c.index): c for c in tx.operations.candidates(query(40.05, 35.05))}
            same = by_query[("op_a", 0)]
            first = got[0]
            assert (first.owner_id, first.kind, first.ovn, first.altitude, first.window) == (
                same.owner_id,
                same.kind,
                same.ovn,
                same.altitude,
                same.window,
            )
            assert first.shape.core.equals(same.shape.core) and first.shape.boxes == same.shape.boxes
            assert got[1].altitude == AltitudeBand(100.0, 200.0)
            but_alpha = tx.operations.live_occupancies(["op_a", "op_b"], exclude_owner="pt_alpha")
            assert [o.operation_id for o in but_alpha] == ["op_b"]
            assert tx.operations.live_occupancies([]) == []
            # near: only the volumes the index's own tests keep for one of the queries
            ids = ["op_a", "op_b"]
            near_a = tx.operations.live_occupancies(ids, near=[query(40.05, 35.05)])
            assert [(o.operation_id, o.index) for o in near_a] == [("op_a", 0)]
            both = tx.operations.live_occupancies(ids, near=[query(40.05, 35.05), query(50.05, 10.05)])
            assert [(o.operation_id, o.index) for o in both] == [("op_a", 0), ("op_b", 0)]
            assert not tx.operations.live_occupancies(ids, near=[query(40.05, 35.05, start=T0 + timedelta(hours=3))])
            assert not tx.operations.live_occupancies(ids, near=[query(40.05, 35.05, alt=(3500.0, 4000.0))])
            assert [o.index for o in tx.operations.live_occupancies(ids, near=[query(41.05, 36.05, alt=None)])] == [1]
            for q in (query(40.05, 35.05), query(40.1, 35.0), query(41.0, 35.0), query(41.05, 36.05, alt=(0.0, 150.0))):
                index = {(c.operation_id, c.index) for c in tx.operations.candidates(q)}
                assert index <= {(o.operation_id, o.index) for o in tx.operations.live_occupancies(ids, near=[q])}

    def test_candidates_tiny_and_huge_footprints(self, seeded: Store) -> None:
        tiny = circle([40.05, 35.05], 5.0)
        huge = square(30.0, 30.0, 4.0)
        with seeded.write() as tx:
            tx.operations.add(operation("op_tiny", "pt_alpha", footprint=tiny))
            tx.operations.add(operation("op_huge", "pt_bravo", footprint=huge))
        with seeded.read() as tx:
            # the index may return more than meets the query (coarse cells), never less
            assert "op_tiny" in {c.operation_id for c in tx.operations.candidates(query(39.0, 34.0, size=2.0))}
            assert {c.operation_id for c in tx.operations.candidates(query(31.0, 31.0, size=0.001))} == {"op_huge"}
            assert not tx.operations.candidates(query(-60.0, -40.0, size=2.0))

    def test_candidates_across_the_antimeridian(self, seeded: Store) -> None:
        across = {
            "type": "Polygon",
            "coordinates": [[[179.9, 10], [-179.9, 10], [-179.9, 10.1], [179.9, 10.1], [179.9, 10]]],
        }
        with seeded.write() as tx:
            tx.operations.add(operation("op_am", "pt_alpha", footprint=across))
        with seeded.read() as tx:
            assert tx.operations.candidates(query(-179.95, 10.02, size=0.01))
            assert tx.operations.candidates(query(179.92, 10.02, size=0.01))
            assert not tx.operations.candidates(query(179.0, 10.02, size=0.01))

    def test_ended_operations_leave_the_index(self, seeded: Store) -> None:
        op = operation("op_1", "pt_alpha")
        with seeded.write() as tx:
            tx.operations.add(op)
        with seeded.write() as tx:
            tx.operations.replace(replace(op, state=OperationState.CANCELLED, version=2))
        with seeded.read() as tx:
            assert not tx.operations.candidates(query(40.05, 35.05))
            assert tx.operations.get("op_1").state is OperationState.CANCELLED  # type: ignore[union-attr]

    def test_add_many_stores_what_add_stores(self, seeded: Store) -> None:
        """The batch add (the loader's path) leaves the same operations, volumes and index rows as one
        add per operation: the same candidates for every query, nothing for an operation that is not live."""
        across = {
            "type": "Polygon",
            "coordinates": [[[179.9, 10], [-179.9, 10], [-179.9, 10.1], [179.9, 10.1], [179.9, 10]]],
        }
        shapes: list[tuple[str, dict[str, Any] | None, float, float, OperationState]] = [
            ("here", None, 40.0, 35.0, OperationState.PLANNED),
            ("tiny", circle([40.05, 35.05], 5.0), 0, 0, OperationState.DRAFT),
            ("huge", square(30.0, 30.0, 4.0), 0, 0, OperationState.ACTIVE),
            ("am", across, 0, 0, OperationState.PLANNED),
            ("gone", None, 40.02, 35.02, OperationState.CANCELLED),
        ]

        def ops(prefix: str) -> list[Operation]:
            made = []
            for name, fp, lon, lat, state in shapes:
                op = operation(f"{prefix}_{name}", "pt_alpha", lon, lat, footprint=fp, lo=0, hi=500)
                made.append(replace(op, state=state, volumes=(*op.volumes, operation("x", "y", 50.0, 10.0).volumes[0])))
            return made

        batch, single, unbulked = ops("a"), ops("b"), ops("c")
        with seeded.write(bulk=True) as tx:  # PostgreSQL: COPY
            tx.operations.add_many(batch)
        with seeded.write() as tx:  # PostgreSQL: a pipelined write, where COPY cannot run
            tx.operations.add_many(unbulked)
            for op in single:
                tx.operations.add(op)
        queries = [
            query(40.05, 35.05),
            query(39.0, 34.0, size=2.0),
            query(31.0, 31.0, size=0.001),
            query(-179.95, 10.02, size=0.01),
            query(179.92, 10.02, size=0.01),
            query(50.05, 10.05),
            query(40.05, 35.05, alt=(600.0, 900.0)),
        ]
        with seeded.read() as tx:
            for q in queries:
                got = sorted((c.operation_id, c.index) for c in tx.operations.candidates(q))
                by_batch = [(i[2:], n) for i, n in got if i.startswith("a_")]
                by_add = [(i[2:], n) for i, n in got if i.startswith("b_")]
                by_unbulked = [(i[2:], n) for i, n in got if i.startswith("c_")]
                assert by_batch == by_add == by_unbulked, q
            assert {c.operation_id for c in tx.operations.candidates(query(40.05, 35.05))} >= {"a_here", "a_tiny"}
            assert "a_gone" not in {c.operation_id for c in tx.operations.candidates(query(40.0, 35.0))}
            for a, b in zip(batch, single, strict=True):
                got_a, got_b = tx.operations.get(a.id), tx.operations.get(b.id)
                assert got_a is not None and got_b is not None
                assert (got_a.state, got_a.ovn, got_a.title, len(got_a.volumes)) == (a.state, a.ovn, a.title, 2)
                assert [v.footprint for v in got_a.volumes] == [v.footprint for v in got_b.volumes]
                assert [v.shape.core.equals(w.shape.core) for v, w in zip(got_a.volumes, a.volumes, strict=True)] == [
                    True,
                    True,
                ]
            assert [o.id for o in tx.operations.list(owner_id="pt_alpha", after="a", limit=5)] == sorted(
                o.id for o in batch
            )

    # ---------------------------------------------------------------------------------------- conflicts

    def test_conflicts(self, seeded: Store) -> None:
        with seeded.write() as tx:
            tx.conflicts.save(conflict("cf_1", "op_a", "op_b"))
            tx.conflicts.save(conflict("cf_2", "op_a", "op_c", ConflictState.RESOLVED))
        with seeded.write() as tx:
            tx.conflicts.save(replace(conflict("cf_1", "op_a", "op_b"), version=2, token_a="tok-a2"))
        with seeded.read() as tx:
            got = tx.conflicts.get("cf_1")
            assert got is not None and got.version == 2 and got.token_a == "tok-a2"
            assert got.encounters[0].region.equals(shapely.box(40, 35, 40.1, 35.1))
            assert got.rule == DEFAULT_RULES[0]
            assert set(tx.conflicts.for_operation("op_a")) == {"op_b", "op_c"}
            assert set(tx.conflicts.for_operation("op_b")) == {"op_a"}
            assert [c.id for c in tx.conflicts.list(party_id="pt_alpha", state=ConflictState.OPEN)] == ["cf_1"]
            assert [c.id for c in tx.conflicts.list(operation_id="op_c")] == ["cf_2"]
            assert tx.conflicts.list(party_id="pt_nobody") == []

    def test_conflicts_ended_states_and_the_historical_mark(self, seeded: Store) -> None:
        end = T0 + timedelta(hours=1)  # every conflict() ends then
        with seeded.write() as tx:
            tx.conflicts.save(conflict("cf_1", "op_a", "op_b"))
            tx.conflicts.save(replace(conflict("cf_2", "op_a", "op_c"), historical=True))
            tx.conflicts.save(conflict("cf_3", "op_a", "op_d", ConflictState.RESOLVED))
            tx.conflicts.save(conflict("cf_4", "op_a", "op_e", ConflictState.EXPIRED))
        with seeded.read() as tx:
            assert tx.conflicts.ended(end - timedelta(microseconds=1)) == []
            assert [c.id for c in tx.conflicts.ended(end)] == ["cf_1", "cf_2"]  # open ones only
            assert [c.id for c in tx.conflicts.ended(end, limit=1)] == ["cf_1"]
            got = tx.conflicts.get("cf_2")
            assert got is not None and got.historical and tx.conflicts.get("cf_1").historical is False  # type: ignore[union-attr]
            assert tx.conflicts.get("cf_4").state is ConflictState.EXPIRED  # type: ignore[union-attr]
            both = (ConflictState.OPEN, ConflictState.RESOLVED)
            assert [c.id for c in tx.conflicts.list(states=both)] == ["cf_1", "cf_2", "cf_3"]
            assert [c.id for c in tx.conflicts.list(states=())] == []
        with seeded.write() as tx:  # moved on: its window's end follows the record
            later = replace(conflict("cf_1", "op_a", "op_b"), version=2)
            e = later.encounters[0]
            tx.conflicts.save(replace(later, encounters=(replace(e, window=TimeWindow(T0, end + timedelta(days=1))),)))
        with seeded.read() as tx:
            assert [c.id for c in tx.conflicts.ended(end)] == ["cf_2"]

    def test_records_before_migration_14_get_their_windows_end(self, seeded: Store) -> None:
        from deconfliction.store.sql.backfills import backfill_conflict_window_end

        with seeded.write() as tx:
            tx.conflicts.save(conflict("cf_1", "op_a", "op_b"))
        conn, dialect = self.connect_directly()
        try:
            cur = conn.cursor()
            cur.execute("UPDATE conflicts SET window_end = NULL")  # as a row written before the migration
            conn.commit()
            with seeded.read() as tx:
                assert tx.conflicts.ended(T0 + timedelta(days=1)) == []
            assert backfill_conflict_window_end(cur, dialect) == 1
            conn.commit()
            assert backfill_conflict_window_end(cur, dialect) == 0
        finally:
            conn.close()
        with seeded.read() as tx:
            assert [c.id for c in tx.conflicts.ended(T0 + timedelta(hours=1))] == ["cf_1"]

    def test_the_schema_reports_the_migrations_not_applied(self, store: Store) -> None:
        from deconfliction.store.sql.migrate import shipped

        last = shipped()[-1]
        with store.read() as tx:
            assert tx.schema.pending() == []
        if self.url.startswith("sqlite"):
            import sqlite3

            conn: Any = sqlite3.connect(self.url.removeprefix("sqlite:///"))
        else:
            import psycopg

            conn = psycopg.connect(self.url)
        try:  # as if this version brought the last migration and the database had not applied it yet
            conn.execute(f"DELETE FROM schema_migrations WHERE version = {last.version}")
            conn.commit()
            with store.read() as tx:
                assert tx.schema.pending() == [last.name]
        finally:
            conn.rollback()
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at, checksum) "
                f"VALUES ({last.version}, '{last.name}', 0, '{last.checksum}')"
            )
            conn.commit()
            conn.close()
        with store.read() as tx:
            assert tx.schema.pending() == []

    def test_historical_operations_and_a_partys_places(self, seeded: Store) -> None:
        with seeded.write() as tx:
            tx.operations.add(replace(operation("op_1", "pt_alpha", 40.0, 35.0), historical=True))
            tx.operations.add(operation("op_2", "pt_alpha", 41.0, 36.0))
            tx.operations.add(operation("op_3", "pt_bravo", 42.0, 37.0))
        with seeded.read() as tx:
            assert tx.operations.get("op_1").historical and not tx.operations.get("op_2").historical  # type: ignore[union-attr]
            places = tx.operations.places("pt_alpha")
            assert sorted((round(lon, 2), round(lat, 2)) for lon, lat, _ in places) == [(40.05, 35.05), (41.05, 36.05)]
            assert all(reach > 5_000 for _, _, reach in places)
            assert [
                (round(lon, 2), round(lat, 2)) for lon, lat, _ in tx.operations.places("pt_alpha", exclude="op_2")
            ] == [(40.05, 35.05)]
            assert len(tx.operations.places("pt_alpha", limit=1)) == 1
            assert tx.operations.places("pt_nobody") == []

    # ----------------------------------------------------------------------------- idempotency, events

    # ------------------------------------------------------------------------- sites, zones, lines

    def test_sites_round_trip_and_the_box_index(self, seeded: Store) -> None:
        from deconfliction.domain.site import SiteCategory, SitePoint, new_site, withdraw_site

        def site(sid: str, footprint: Any, radius: float = 100.0) -> Any:
            return new_site(
                site_id=sid,
                owner_id="pt_alpha",
                name=f"site {sid}",
                category=SiteCategory.HOSPITAL,
                footprint=footprint,
                radius_m=radius,
                accuracy_m=10.0,
                valid_until=T0 + timedelta(days=3),
                now=NOW,
            )

        point = site("st_1", SitePoint((40.0, 35.0)))
        across = [[179.95, 10.0], [-179.95, 10.0], [-179.95, 10.1], [179.95, 10.1], [179.95, 10.0]]
        area = site("st_2", parse_shape({"type": "Polygon", "coordinates": [across]}, L), 0.0)
        wide = site("st_3", SitePoint((41.0, 35.0)), 20_000.0)
        with seeded.write() as tx:
            for s, tok in ((point, "t1"), (area, "t2"), (wide, "t3")):
                tx.sites.add(s, tok)
        with seeded.read() as tx:
            assert tx.sites.get("st_1") == point and tx.sites.get("st_2") == area
            assert tx.sites.get("st_9") is None
            assert [x.id for x in tx.sites.list()] == ["st_1", "st_2", "st_3"]
            assert [x.id for x in tx.sites.list(after="st_1", limit=1)] == ["st_2"]
            assert tx.sites.near([(39.99, 34.99, 40.01, 35.01)]) == [(point, "t1")]
            # across the antimeridian, from the other side
            assert [x.id for x, _ in tx.sites.near([(-180.0, 10.0, -179.9, 10.05)])] == ["st_2"]
            # the box grows by radius + accuracy: 20 km reaches 0.15 degrees west of the centre
            assert [x.id for x, _ in tx.sites.near([(40.8, 34.9, 40.85, 35.1)])] == ["st_3"]
            assert tx.sites.near([(0.0, 0.0, 1.0, 1.0)]) == []
            # the index asked for every kind at once, then the records of what it found
            both = [(39.99, 34.99, 40.01, 35.01), (-180.0, 10.0, -179.9, 10.05)]
            keys = tx.area_index.near({"site": both, "zone": both, "band": []})
            assert keys == {"site": ["st_1", "st_2"], "zone": [], "band": []}
            assert tx.sites.filed(keys["site"]) == [(point, "t1"), (area, "t2")]
            assert tx.sites.filed([]) == [] and tx.area_index.near({}) == {}
        with seeded.write() as tx:
            tx.sites.replace(withdraw_site(point, party_id="pt_alpha", now=NOW))
        with seeded.read() as tx:
            assert tx.sites.near([(39.99, 34.99, 40.01, 35.01)]) == []
            assert tx.sites.get("st_1").state.value == "withdrawn"
            assert [x.id for x in tx.sites.list(active=True)] == ["st_2", "st_3"]
            assert [x.id for x in tx.sites.list(active=False, owner_id="pt_alpha")] == ["st_1"]
            assert tx.sites.list(owner_id="pt_bravo") == []

    def test_zones_versions_and_the_box_index(self, seeded: Store) -> None:
        from deconfliction.domain.zone import ZoneAnswer, answer_zone, propose_zone, revise_zone

        validity = TimeWindow(T0, T0 + timedelta(days=30))
        v1 = propose_zone(
            zone_id="zn_1",
            owner_id="pt_alpha",
            counterparties=["pt_bravo"],
            footprint=parse_shape(square(40.0, 35.0), L),
            validity=validity,
            now=NOW,
            name="north bank",
        )
        with seeded.write() as tx:
            tx.zones.add(v1, "z1")
        near = [(40.05, 35.05, 40.06, 35.06)]
        with seeded.read() as tx:
            assert tx.zones.get("zn_1") == v1 and tx.zones.near(near) == []  # proposed: not filed
        agreed = answer_zone(v1, party_id="pt_bravo", answer=ZoneAnswer.ACCEPTED, now=NOW).zone
        with seeded.write() as tx:
            tx.zones.replace(agreed)
        with seeded.read() as tx:
            assert tx.zones.near(near) == [(agreed, "z1")]
        v2 = revise_zone(agreed, party_id="pt_alpha", now=NOW, footprint=parse_shape(square(41.0, 35.0), L))
        with seeded.write() as tx:
            tx.zones.add(v2, "z2")
        change = answer_zone(v2, party_id="pt_bravo", answer=ZoneAnswer.ACCEPTED, now=NOW, current_agreed=agreed)
        with seeded.write() as tx:
            for z in change.changed:
                tx.zones.replace(z)
        with seeded.read() as tx:
            assert tx.zones.near(near) == []
            assert tx.zones.near([(41.05, 35.05, 41.06, 35.06)]) == [(change.zone, "z2")]
            keys = tx.area_index.near({"zone": [(41.05, 35.05, 41.06, 35.06)], "site": near})
            assert keys == {"zone": ["zn_1@2"], "site": []}  # a zone's key names its version
            assert tx.zones.filed(keys["zone"]) == [(change.zone, "z2")]
            assert tx.zones.get("zn_1") == change.zone
            assert tx.zones.get("zn_1", 1) == change.superseded
            assert [z.version for z in tx.zones.versions("zn_1")] == [1, 2]
            assert [(z.id, z.version) for z in tx.zones.list()] == [("zn_1", 1), ("zn_1", 2)]
            assert tx.zones.list(after="zn_1") == []

    def test_lines_and_their_bands(self, seeded: Store) -> None:
        from deconfliction.domain.line import band_along, split_area
        from deconfliction.store.ports import LineRecord

        area = parse_shape(square(40.0, 35.0, 0.2), L)
        split = split_area(area, ((39.9, 35.1), (40.3, 35.1)), "pt_alpha", "pt_bravo")  # type: ignore[arg-type]
        band = band_along(split, band_id="ln_1", half_width_m=500.0, validity=TimeWindow(T0, T0 + timedelta(days=9)))
        line = LineRecord(
            "ln_1", "pt_alpha", "river", square(40.0, 35.0, 0.2), ((39.9, 35.1), (40.3, 35.1)),
            "pt_alpha", "pt_bravo", "zn_l", "zn_r", band, NOW,
        )  # fmt: skip
        bare = LineRecord(
            "ln_2", "pt_alpha", "", {}, ((0.0, 0.0), (1.0, 1.0)), "pt_alpha", "pt_bravo", "a", "b", None, NOW
        )
        with seeded.write() as tx:
            tx.lines.add(line, "l1")
            tx.lines.add(bare, "l2")
        with seeded.read() as tx:
            assert tx.lines.get("ln_1") == line and tx.lines.get("ln_2") == bare
            assert [x.id for x in tx.lines.list()] == ["ln_1", "ln_2"]
            assert tx.lines.bands_near([(40.1, 35.103, 40.11, 35.104)]) == [(band, "l1")]
            assert tx.lines.bands_near([(40.1, 35.15, 40.11, 35.16)]) == []
            keys = tx.area_index.near({"band": [(40.1, 35.103, 40.11, 35.104)], "zone": [(40.1, 35.1, 40.2, 35.2)]})
            assert keys == {"band": ["ln_1"], "zone": []}
            assert tx.lines.bands_filed(keys["band"]) == [(band, "l1")]
        with seeded.write() as tx:
            tx.lines.replace(replace(line, withdrawn_at=NOW))
        with seeded.read() as tx:
            assert tx.lines.get("ln_1") == replace(line, withdrawn_at=NOW)
            assert tx.lines.bands_near([(40.1, 35.103, 40.11, 35.104)]) == []  # no longer counts

    def test_movements_keep_the_route_and_schedule(self, seeded: Store) -> None:
        movement = {"route": {"type": "LineString", "coordinates": [[40.0, 35.0], [40.1, 35.0]]}, "speed_m_s": 8.5}
        with seeded.write() as tx:
            tx.operations.add(operation("op_1", "pt_alpha"))
            tx.movements.put("op_1", 1, movement, NOW)
        with seeded.read() as tx:
            assert tx.movements.get("op_1") == (1, movement)
            assert tx.movements.get("op_2") is None
        with seeded.write() as tx:
            tx.movements.put("op_1", 2, {**movement, "speed_m_s": 5.0}, NOW)
        with seeded.read() as tx:
            assert tx.movements.get("op_1") == (2, {**movement, "speed_m_s": 5.0})

    def test_idempotency(self, store: Store) -> None:
        stored = StoredResponse("fp", 201, {"ETag": '"1"'}, b'{"ok": true}')
        with store.write() as tx:
            tx.idempotency.put("pt_alpha", "key-1", stored, NOW)
        with store.read() as tx:
            assert tx.idempotency.get("pt_alpha", "key-1") == stored
            assert tx.idempotency.get("pt_bravo", "key-1") is None

    def test_events_are_numbered_in_commit_order(self, store: Store) -> None:
        with store.write() as tx:
            assert tx.events.append(at=NOW, actor_id=None, type="a", subject_id="x", payload={"n": 1}) == 1
            assert tx.events.append(at=NOW, actor_id="pt_a", type="b", subject_id="y", payload={}) == 2
        with store.write() as tx:
            assert tx.events.append(at=NOW, actor_id=None, type="c", subject_id="z", payload={}) == 3
        with store.read() as tx:
            events = tx.events.after(1)
        assert [(e.seq, e.type) for e in events] == [(2, "b"), (3, "c")]
        assert events[0].actor_id == "pt_a"

    def test_changes_since_a_head_are_the_types_and_subjects_of_later_entries(self, store: Store) -> None:
        with store.write() as tx:
            tx.events.append(at=NOW, actor_id=None, type="operation.created", subject_id="op_a", payload={})
        with store.write() as tx:
            tx.events.append(at=NOW, actor_id=None, type="operation.changed", subject_id="op_b", payload={})
            tx.events.append(at=NOW, actor_id=None, type="conflict.opened", subject_id="cf_x", payload={})
            tx.events.append(at=NOW, actor_id=None, type="operation.changed", subject_id="op_b", payload={})
            tx.events.append(at=NOW, actor_id=None, type="operation.created", subject_id="op_c", payload={})
        a, b = ("operation.created", "op_a"), ("operation.changed", "op_b")
        x, c = ("conflict.opened", "cf_x"), ("operation.created", "op_c")
        with store.read() as tx:
            assert tx.events.changes_since(0) == {a, b, x, c}
            assert tx.events.changes_since(1) == {b, x, c}
            assert tx.events.changes_since(3) == {b, c}
            assert tx.events.changes_since(4) == {c}
            assert tx.events.changes_since(5) == set()

    def test_get_many_returns_the_operations_that_exist_by_id(self, seeded: Store) -> None:
        with seeded.write() as tx:
            for op_id in ("op_b", "op_a", "op_c"):
                tx.operations.add(operation(op_id, "pt_alpha"))
        with seeded.read() as tx:
            found = tx.operations.get_many({"op_c", "op_a", "op_none"})
            assert [o.id for o in found] == ["op_a", "op_c"]
            assert found[0] == tx.operations.get("op_a")
            assert tx.operations.get_many(()) == []

    def test_historical_names_the_historical_records_among_the_ids(self, seeded: Store) -> None:
        with seeded.write() as tx:
            tx.operations.add(operation("op_live", "pt_alpha"))
            tx.operations.add(replace(operation("op_past", "pt_alpha"), historical=True))
            tx.operations.add(replace(operation("op_past2", "pt_bravo"), historical=True))
        with seeded.read() as tx:
            assert tx.operations.historical({"op_live", "op_past", "op_none"}) == {"op_past"}
            assert tx.operations.historical(["op_past2", "op_past"]) == {"op_past", "op_past2"}
            assert tx.operations.historical({"op_live"}) == set()
            assert tx.operations.historical(()) == set()

    def test_events_form_a_hash_chain_ending_at_the_head(self, store: Store) -> None:
        with store.read() as tx:
            assert tx.events.head() == (0, GENESIS)
        with store.write() as tx:
            tx.events.append(at=NOW, actor_id=None, type="a", subject_id="x", payload={"n": 1.5}, audience=["*"])
            tx.events.append(at=NOW, actor_id="pt_a", type="b", subject_id="y", payload={"k": [1, "é"]})
        with store.write() as tx:
            tx.events.append(at=NOW, actor_id=None, type="c", subject_id="z", payload={}, audience=["pt_a", "pt_b"])
        with store.read() as tx:
            events = tx.events.after(0)
            head = tx.events.head()
            assert tx.events.hash_at(0) == GENESIS
            assert tx.events.hash_at(2) == events[1].hash
            assert tx.events.hash_at(4) is None
        previous = GENESIS
        for e in events:  # what was stored re-seals to the same hashes
            assert seal(e.sealed().entry, previous) == e.sealed()
            previous = e.hash
        assert head == (3, previous)
        assert [e.audience for e in events] == [("*",), (), ("pt_a", "pt_b")]

    # ---------------------------------------------------------------------------------- transactions

    def test_a_failed_write_leaves_nothing(self, seeded: Store) -> None:
        def failing_write() -> None:
            with seeded.write() as tx:
                tx.operations.add(operation("op_1", "pt_alpha"))
                tx.events.append(at=NOW, actor_id=None, type="x", subject_id="op_1", payload={})
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            failing_write()
        with seeded.read() as tx:
            assert tx.operations.get("op_1") is None
            assert tx.events.after(0) == []
            assert not tx.operations.candidates(query(40.05, 35.05))

    def test_a_write_whose_statement_fails_leaves_nothing(self, seeded: Store) -> None:
        """A statement refused by the database (here a duplicate id) fails the write, and nothing of it
        stays: not the rows before it, not its ledger entries, not the head (on PostgreSQL the write is
        pipelined, so the error surfaces at the next read or at the end, never lost)."""
        import sqlite3

        import psycopg

        with seeded.write() as tx:
            tx.operations.add(operation("op_1", "pt_alpha"))
        with seeded.read() as tx:
            head = tx.events.head()

        def refused_write() -> None:
            with seeded.write() as tx:
                tx.operations.add(operation("op_2", "pt_alpha", 41.0, 35.0))
                tx.events.append(at=NOW, actor_id=None, type="x", subject_id="op_2", payload={})
                tx.operations.add(operation("op_1", "pt_bravo"))  # the same id again
                tx.notifications.next_seq()

        with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
            refused_write()
        with seeded.read() as tx:
            assert tx.operations.get("op_2") is None
            assert tx.events.head() == head
            assert tx.notifications.last_seq() == 0
        with seeded.write() as tx:  # and the store writes on as before
            tx.operations.add(operation("op_3", "pt_alpha", 42.0, 35.0))
            assert tx.events.append(at=NOW, actor_id=None, type="x", subject_id="op_3", payload={}) == head[0] + 1

    def test_reads_do_not_see_uncommitted_writes(self, seeded: Store) -> None:
        in_write, release = threading.Event(), threading.Event()
        seen: list[Any] = []

        def writer() -> None:
            with seeded.write() as tx:
                tx.operations.add(operation("op_1", "pt_alpha"))
                in_write.set()
                release.wait(10)

        t = threading.Thread(target=writer)
        t.start()
        assert in_write.wait(10)
        with seeded.read() as tx:
            seen.append(tx.operations.get("op_1"))
        release.set()
        t.join()
        assert seen == [None]
        with seeded.read() as tx:
            assert tx.operations.get("op_1") is not None

    def test_writes_are_serialised(self, seeded: Store) -> None:
        """A second writer waits for the first to commit and then sees its work."""
        in_first, release = threading.Event(), threading.Event()
        second_saw: list[Any] = []

        def first() -> None:
            with seeded.write() as tx:
                tx.operations.add(operation("op_1", "pt_alpha"))
                in_first.set()
                release.wait(10)

        def second() -> None:
            with seeded.write() as tx:
                second_saw.append(tx.operations.get("op_1"))

        t1 = threading.Thread(target=first)
        t1.start()
        assert in_first.wait(10)
        t2 = threading.Thread(target=second)
        t2.start()
        t2.join(0.3)
        assert t2.is_alive(), "the second writer must wait for the first"
        release.set()
        t1.join()
        t2.join()
        assert second_saw and second_saw[0] is not None

    def test_committed_writes_survive_reopening(self, seeded: Store) -> None:
        with seeded.write() as tx:
            tx.operations.add(operation("op_1", "pt_alpha"))
        again = self.reopen(seeded)
        try:
            with again.read() as tx:
                assert tx.operations.get("op_1") is not None
                assert tx.parties.get("pt_alpha") is not None
        finally:
            again.close()

    def test_migrations_are_idempotent(self, seeded: Store) -> None:
        again = self.reopen(seeded)
        again.close()
        again = self.reopen(seeded)
        try:
            with again.read() as tx:
                assert [p.name for p in tx.parties.list()] == ["alpha", "bravo"]
        finally:
            again.close()

    # ------------------------------------------------------------------------ deployment (docs/exercise.md)

    def test_the_first_entry_of_an_unmarked_database_marks_it_live(self, store: Store) -> None:
        with store.read() as tx:
            assert tx.deployment.mode() is None and tx.deployment.anchor() is None
        with store.write() as tx:
            tx.events.append(at=NOW, actor_id=None, type="party.created", subject_id="pt_a", payload={})
        with store.read() as tx:
            assert tx.deployment.mode() is DeploymentMode.LIVE
            (e,) = tx.events.after(0)
        assert not e.exercise and "exercise" not in e.sealed().entry.content()

    def test_an_exercise_database_marks_every_entry_and_keeps_its_anchor(self, store: Store) -> None:
        anchor = ScenarioAnchor(NOW - timedelta(days=3650), NOW, 60.0, 0.0)
        with store.write() as tx:
            tx.deployment.mark(DeploymentMode.EXERCISE)
            tx.deployment.put_anchor(anchor)
            tx.events.append(at=NOW, actor_id=None, type="exercise.started", subject_id="exercise", payload={})
        with store.write() as tx:  # a later transaction reads the mark with the chain's head
            tx.events.append(at=NOW, actor_id="pt_a", type="party.created", subject_id="pt_a", payload={"n": 1})
            tx.deployment.put_anchor(anchor.advanced_by(900.000001))
        again = self.reopen(store)
        try:
            with again.read() as tx:
                assert tx.deployment.mode() is DeploymentMode.EXERCISE
                assert tx.deployment.anchor() == anchor.advanced_by(900.000001)
                events = tx.events.after(0)
        finally:
            again.close()
        assert [e.exercise for e in events] == [True, True]
        previous = GENESIS
        for e in events:  # the stored hashes are those of the marked content
            sealed = seal(e.sealed().entry, previous)
            assert (sealed.content_hash, sealed.hash) == (e.content_hash, e.hash)
            assert e.sealed().entry.content()["exercise"] is True
            previous = e.hash

    # ------------------------------------------------------------------- notifications and their delivery

    def test_notifications_order_state_and_queries(self, seeded: Store) -> None:
        from deconfliction.domain.notification import Notification, NotificationState

        def note(i: int, seq: int, party_id: str, kind: str, subject: str, **kw: Any) -> Notification:
            return Notification(f"nt_{i}", seq, party_id, kind, subject, i, {"n": i}, NOW, kw.pop("deadline"), **kw)

        with seeded.read() as tx:
            assert tx.notifications.last_seq() == 0
        with seeded.write() as tx:
            seqs = [tx.notifications.next_seq() for _ in range(5)]
            assert seqs == [1, 2, 3, 4, 5] and tx.notifications.last_seq() == 5
            tx.notifications.add(note(1, 1, "pt_alpha", "conflict.opened", "cf_1", deadline=NOW))
            tx.notifications.add(
                note(2, 2, "pt_alpha", "conflict.changed", "cf_1", deadline=NOW + timedelta(hours=1), step=1)
            )
            tx.notifications.add(note(3, 3, "pt_alpha", "conflict.opened", "cf_2", deadline=NOW + timedelta(hours=1)))
            tx.notifications.add(
                note(
                    4, 4, "pt_bravo", "conflict.opened", "cf_1", deadline=NOW - timedelta(hours=1), at_coordinator=True
                )
            )
            full = note(
                5,
                5,
                "pt_bravo",
                "zone.proposed",
                "zn_1",
                deadline=NOW - timedelta(minutes=1),
                starts_at=NOW + timedelta(hours=2),
                escalations=({"step": 1, "to": "watch desk"},),
            )
            tx.notifications.add(full)
        with seeded.read() as tx:
            assert tx.notifications.get("nt_5") == full
            assert tx.notifications.get("nt_9") is None
            assert [n.id for n in tx.notifications.for_party("pt_alpha")] == ["nt_1", "nt_2", "nt_3"]
            assert [n.id for n in tx.notifications.for_party("pt_alpha", after_seq=1, limit=1)] == ["nt_2"]
            assert [n.id for n in tx.notifications.about("pt_alpha", "conflict.opened", "cf_1")] == ["nt_1"]
            assert [n.id for n in tx.notifications.for_subject("pt_alpha", "cf_1")] == ["nt_1", "nt_2"]
            assert [n.id for n in tx.notifications.list(party_id="pt_bravo")] == ["nt_4", "nt_5"]
            assert [n.id for n in tx.notifications.list(after="nt_2", limit=2)] == ["nt_3", "nt_4"]
            # overdue: a deadline at or before the time, or escalated already (step > 0)
            assert [n.id for n in tx.notifications.list(overdue_at=NOW)] == ["nt_1", "nt_2", "nt_4", "nt_5"]
            # due for escalation: deadline passed and not with the coordinator yet, oldest deadline first
            assert [n.id for n in tx.notifications.escalations_due(NOW)] == ["nt_5", "nt_1"]
            assert [n.id for n in tx.notifications.escalations_due(NOW, limit=1)] == ["nt_5"]
        acked = replace(
            full,
            state=NotificationState.ACKNOWLEDGED,
            acknowledged_at=NOW + timedelta(minutes=3),
            acknowledged_by="pt_bravo",
            step=2,
            escalations=({"step": 1, "to": "watch desk"}, {"step": 2, "to": "pt_cell"}),
            at_coordinator=True,
        )
        with seeded.write() as tx:
            tx.notifications.save(acked)
            tx.notifications.save(
                replace(
                    note(1, 1, "pt_alpha", "conflict.opened", "cf_1", deadline=NOW),
                    state=NotificationState.SUPERSEDED,
                    superseded_by="nt_2",
                )
            )
        with seeded.read() as tx:
            assert tx.notifications.get("nt_5") == acked
            got = tx.notifications.get("nt_1")
            assert got is not None and got.superseded_by == "nt_2"
            assert [n.id for n in tx.notifications.list(pending=True)] == ["nt_2", "nt_3", "nt_4"]
            assert [n.id for n in tx.notifications.list(pending=False)] == ["nt_1", "nt_5"]
            assert [n.id for n in tx.notifications.list(state=NotificationState.ACKNOWLEDGED)] == ["nt_5"]
            assert [n.id for n in tx.notifications.escalations_due(NOW)] == []

    def test_contacts_ladders(self, seeded: Store) -> None:
        from deconfliction.domain.notification import Contact

        ladder = (Contact("Watch desk", {"phone": "+100", "email": "desk@alpha.example"}), Contact("Duty officer"))
        with seeded.read() as tx:
            assert tx.contacts.get("pt_alpha") == ()
        with seeded.write() as tx:
            tx.contacts.put("pt_alpha", ladder, NOW)
        with seeded.read() as tx:
            assert tx.contacts.get("pt_alpha") == ladder
            assert tx.contacts.get("pt_bravo") == ()
        with seeded.write() as tx:  # replaced whole
            tx.contacts.put("pt_alpha", ladder[1:], NOW + timedelta(hours=1))
        with seeded.read() as tx:
            assert tx.contacts.get("pt_alpha") == ladder[1:]

    def test_contacts_and_endpoints_prefetched(self, seeded: Store) -> None:
        """``prefetch`` reads several parties' ladders and active endpoints at once; what ``get`` and
        ``for_party`` answer afterwards is what they read, and the transaction's own changes show."""
        from deconfliction.domain.delivery import Endpoint, EndpointKind
        from deconfliction.domain.notification import Contact

        ladder = (Contact("Watch desk", {"phone": "+100"}),)
        hook = Endpoint("ep_1", "pt_alpha", EndpointKind.WEBHOOK, "https://alpha.example/hook", "s", NOW)
        with seeded.write() as tx:
            tx.contacts.put("pt_alpha", ladder, NOW)
            tx.endpoints.add(hook)
        with seeded.write() as tx:
            tx.contacts.prefetch(["pt_alpha", "pt_bravo", "pt_nobody"])
            tx.endpoints.prefetch(["pt_alpha", "pt_bravo", "pt_nobody"])
            assert tx.contacts.get("pt_alpha") == ladder and tx.contacts.get("pt_bravo") == ()
            assert tx.contacts.get("pt_nobody") == ()
            assert tx.endpoints.for_party("pt_alpha") == [hook] and tx.endpoints.for_party("pt_bravo") == []
            tx.contacts.put("pt_bravo", ladder, NOW)  # the transaction's own changes are read back
            assert tx.contacts.get("pt_bravo") == ladder
            second = replace(hook, id="ep_2", party_id="pt_bravo")
            tx.endpoints.add(second)
            assert tx.endpoints.for_party("pt_bravo") == [second]
            tx.endpoints.deactivate("ep_1")
            assert tx.endpoints.for_party("pt_alpha") == []
            tx.contacts.prefetch([])  # nothing to read
        with seeded.read() as tx:
            assert tx.contacts.get("pt_bravo") == ladder and tx.endpoints.for_party("pt_alpha") == []

    def test_endpoints_and_deliveries(self, seeded: Store) -> None:
        from deconfliction.domain.delivery import Delivery, DeliveryState, Endpoint, EndpointKind
        from deconfliction.domain.notification import Notification

        hook = Endpoint("ep_1", "pt_alpha", EndpointKind.WEBHOOK, "https://alpha.example/hook", "s3cret", NOW)
        mail = Endpoint("ep_2", "pt_alpha", EndpointKind.EMAIL, "desk@alpha.example", "", NOW)
        other = Endpoint("ep_3", "pt_bravo", EndpointKind.WEBHOOK, "https://bravo.example/hook", "x", NOW)
        with seeded.write() as tx:
            for e in (hook, mail, other):
                tx.endpoints.add(e)
            tx.notifications.add(
                Notification("nt_1", tx.notifications.next_seq(), "pt_alpha", "k", "s", 1, {}, NOW, None)
            )
        with seeded.write() as tx:
            tx.endpoints.deactivate("ep_2")
        with seeded.read() as tx:
            assert tx.endpoints.get("ep_1") == hook
            assert tx.endpoints.get("ep_9") is None
            assert tx.endpoints.for_party("pt_alpha") == [hook]
            assert tx.endpoints.for_party("pt_alpha", active_only=False) == [hook, replace(mail, active=False)]
        body = b'{"binary":"\\u0000\xff"}'
        d1 = Delivery("dl_1", "ep_1", "pt_alpha", "nt_1", body, NOW, NOW + timedelta(seconds=30))
        d2 = Delivery("dl_2", "ep_1", "pt_alpha", "nt_1", b"{}", NOW, NOW + timedelta(seconds=10))
        d3 = Delivery("dl_3", "ep_3", "pt_bravo", "nt_1", b"{}", NOW, NOW)
        with seeded.write() as tx:
            for d in (d1, d2, d3):
                tx.deliveries.add(d)
        with seeded.read() as tx:
            assert tx.deliveries.get("dl_1") == d1 and isinstance(tx.deliveries.get("dl_1").body, bytes)  # type: ignore[union-attr]
            assert tx.deliveries.get("dl_9") is None
            assert [d.id for d in tx.deliveries.due(NOW)] == ["dl_3"]
            assert [d.id for d in tx.deliveries.due(NOW + timedelta(minutes=1))] == ["dl_3", "dl_2", "dl_1"]
            assert [d.id for d in tx.deliveries.due(NOW + timedelta(minutes=1), limit=1)] == ["dl_3"]
            assert [d.id for d in tx.deliveries.list(party_id="pt_alpha")] == ["dl_1", "dl_2"]
            assert [d.id for d in tx.deliveries.list(party_id="pt_alpha", after="dl_1")] == ["dl_2"]
        done = replace(d1, attempts=2, state=DeliveryState.DELIVERED, delivered_at=NOW + timedelta(seconds=31))
        dead = replace(d2, attempts=9, state=DeliveryState.DEAD, last_error="HTTP 500")
        with seeded.write() as tx:
            tx.deliveries.save(done)
            tx.deliveries.save(dead)
        with seeded.read() as tx:
            assert tx.deliveries.get("dl_1") == done and tx.deliveries.get("dl_2") == dead
            assert [d.id for d in tx.deliveries.due(NOW + timedelta(days=1))] == ["dl_3"]
            assert [d.id for d in tx.deliveries.list(party_id="pt_alpha", state=DeliveryState.DEAD)] == ["dl_2"]

    # --------------------------------------------------------------------- hotline, requests, incidents

    def test_hotline_threads_messages_and_languages(self, seeded: Store) -> None:
        from deconfliction.domain.hotline import Message, MessageContent, Thread

        with seeded.write() as tx:
            tx.parties.add(party("cell", Role.COORDINATOR), "hash-cell")
            t1 = Thread("th_1", "Crossing at the bridge", ("pt_alpha", "pt_bravo"), "pt_alpha", NOW)
            t2 = Thread("th_2", "Convoy", ("pt_bravo", "pt_cell"), "pt_bravo", NOW)
            tx.hotline.add_thread(t1)
            tx.hotline.add_thread(t2)
            m1 = Message("ms_1", "th_1", "pt_alpha", MessageContent(text="On tient le pont", language="fr"), NOW)
            m2 = Message(
                "ms_2",
                "th_1",
                "pt_bravo",
                MessageContent(template="ack", params={"who": "Bravo"}, refs=(("op", "op_1"),)),
                NOW + timedelta(minutes=1),
            )
            tx.hotline.add_message(m2)
            tx.hotline.add_message(m1)
        with seeded.read() as tx:
            assert tx.hotline.thread("th_1") == t1 and tx.hotline.thread("th_9") is None
            assert tx.hotline.threads_of("pt_alpha") == [t1]
            assert [t.id for t in tx.hotline.threads_of("pt_bravo")] == ["th_1", "th_2"]
            assert [t.id for t in tx.hotline.threads_of("pt_bravo", after="th_1")] == ["th_2"]
            assert [t.id for t in tx.hotline.threads_of(None, limit=1)] == ["th_1"]
            assert tx.hotline.messages("th_1") == [m1, m2]
            assert tx.hotline.messages("th_2") == []
            assert tx.hotline.language("pt_alpha") == "en"  # the default
        with seeded.write() as tx:
            tx.hotline.set_language("pt_alpha", "ar")
            tx.hotline.set_language("pt_bravo", "fr")
            tx.hotline.set_language("pt_alpha", "uk")
        with seeded.read() as tx:
            assert (tx.hotline.language("pt_alpha"), tx.hotline.language("pt_bravo")) == ("uk", "fr")

    def test_requests_and_their_answers(self, seeded: Store) -> None:
        from deconfliction.domain.request import Request, RequestKind, RequestState

        with seeded.write() as tx:
            tx.parties.add(party("charlie"), "hash-charlie")
        q1 = Request(
            "rq_1",
            RequestKind.CROSS_LINE,
            "pt_alpha",
            "pt_bravo",
            "ln_1",
            "Crossing at 0600",
            TimeWindow(T0, T0 + timedelta(hours=1)),
            NOW,
        )
        q2 = Request("rq_2", RequestKind.OTHER, "pt_bravo", "pt_charlie", "", "A word", None, NOW)
        with seeded.write() as tx:
            tx.requests.add(q1)
            tx.requests.add(q2)
        with seeded.read() as tx:
            assert tx.requests.get("rq_1") == q1 and tx.requests.get("rq_2") == q2
            assert tx.requests.get("rq_9") is None
            assert [q.id for q in tx.requests.list(party_id="pt_alpha")] == ["rq_1"]
            assert [q.id for q in tx.requests.list(party_id="pt_bravo")] == ["rq_1", "rq_2"]  # asked and asking
            assert [q.id for q in tx.requests.list(party_id=None, after="rq_1")] == ["rq_2"]
        answered = replace(
            q1,
            state=RequestState.APPROVED,
            comments=({"by": "pt_bravo", "text": "use lane 2", "at": 1},),
            answered_at=NOW + timedelta(minutes=5),
            answer="approved, lane 2",
        )
        with seeded.write() as tx:
            tx.requests.save(answered)
        with seeded.read() as tx:
            assert tx.requests.get("rq_1") == answered
            assert [q.id for q in tx.requests.list(party_id=None, state=RequestState.OPEN)] == ["rq_2"]
            assert [q.id for q in tx.requests.list(party_id="pt_alpha", state=RequestState.APPROVED)] == ["rq_1"]

    def test_incidents(self, seeded: Store) -> None:
        from deconfliction.domain.incident import Incident

        i1 = Incident("in_1", "pt_alpha", 40.5, 35.25, T0, "Shelling near the depot", 500.0, 600, 300, NOW)
        i2 = Incident("in_2", "pt_bravo", -179.9, -45.0, T0 + timedelta(hours=1), "Drone sighted", 50.0, 0, 0, NOW)
        with seeded.write() as tx:
            tx.incidents.add(i2)
            tx.incidents.add(i1)
        with seeded.read() as tx:
            assert tx.incidents.get("in_1") == i1 and tx.incidents.get("in_2") == i2
            assert tx.incidents.get("in_9") is None
            assert tx.incidents.list() == [i1, i2]
            assert tx.incidents.list(reporter_id="pt_bravo") == [i2]
            assert tx.incidents.list(after="in_1", limit=5) == [i2]
            assert tx.incidents.list(limit=1) == [i1]

    def test_authentication_failures_over_a_sliding_window(self, store: Store) -> None:
        at = [NOW + timedelta(seconds=s) for s in (0, 10, 20, 70)]
        with store.write() as tx:
            assert tx.auth_failures.record("address:10.0.0.1", at[0], NOW - timedelta(minutes=1)) == 1
            assert tx.auth_failures.record("address:10.0.0.1", at[1], NOW - timedelta(minutes=1)) == 2
            assert tx.auth_failures.record("party:pt_alpha", at[1], NOW - timedelta(minutes=1)) == 1
        with store.read() as tx:
            assert tx.auth_failures.window("address:10.0.0.1", NOW) == (2, at[0])
            assert tx.auth_failures.window("address:10.0.0.1", at[1]) == (1, at[1])
            assert tx.auth_failures.window("address:10.0.0.9", NOW) == (0, None)
        with store.write() as tx:  # recording forgets what fell out of the window
            assert tx.auth_failures.record("address:10.0.0.1", at[3], at[3] - timedelta(minutes=1)) == 2
        with store.read() as tx:
            assert tx.auth_failures.window("address:10.0.0.1", NOW - timedelta(days=1)) == (2, at[1])
            assert tx.auth_failures.window("party:pt_alpha", NOW) == (1, at[1])

    # ------------------------------------------------------------------------------ gauges (for /metrics)

    def test_gauges_count_open_conflicts_overdue_notifications_and_applied_migrations(self, seeded: Store) -> None:
        from deconfliction.domain.notification import Notification, NotificationState
        from deconfliction.store.sql import migration_scripts

        with seeded.read() as tx:
            assert (tx.gauges.open_conflicts(), tx.gauges.overdue_notifications(NOW)) == (0, 0)
            assert tx.gauges.migrations() == {m[0] for m in migration_scripts()}
        with seeded.write() as tx:
            tx.conflicts.save(conflict("cf_1", "op_a", "op_b"))
            tx.conflicts.save(conflict("cf_2", "op_a", "op_c"))
            tx.conflicts.save(conflict("cf_3", "op_b", "op_c", ConflictState.RESOLVED))
            for i, (deadline, step) in enumerate(
                [(NOW - timedelta(seconds=1), 0), (NOW + timedelta(hours=1), 1), (NOW + timedelta(hours=1), 0)]
            ):
                seq = tx.notifications.next_seq()
                tx.notifications.add(
                    Notification(f"nt_{i}", seq, "pt_alpha", "conflict.opened", "cf_1", 1, {}, NOW, deadline, step=step)
                )
            seq = tx.notifications.next_seq()
            tx.notifications.add(
                Notification("nt_9", seq, "pt_alpha", "conflict.opened", "cf_2", 1, {}, NOW, NOW - timedelta(hours=1),
                             state=NotificationState.ACKNOWLEDGED)
            )  # fmt: skip
        with seeded.read() as tx:
            assert tx.gauges.open_conflicts() == 2
            # past its deadline, or escalated at least once (step > 0); acknowledged ones never count
            assert tx.gauges.overdue_notifications(NOW) == 2

    # ------------------------------------------------------------------------------ the DSS's records

    def test_dss_references_subscriptions_availability_and_reports(self, store: Store) -> None:
        from deconfliction.dss.extents import Extent
        from deconfliction.dss.records import CONSTRAINT, INTENT, Reference, Subscription

        here = Extent(shapely.box(10.0, 50.0, 10.1, 50.1), 0.0, 100.0, NOW, NOW + timedelta(hours=1))
        there = Extent(shapely.box(20.0, 50.0, 20.1, 50.1), 0.0, 100.0, NOW, NOW + timedelta(hours=1))
        later = Extent(here.footprint, 0.0, 100.0, NOW + timedelta(hours=2), NOW + timedelta(hours=3))
        sub = Subscription("sb_1", "uss1", "v1", 0, "https://uss1.example", True, False, True, here)
        intent = Reference("oi_1", INTENT, "uss1", 1, "ovn-1", "Accepted", "https://uss1.example", "sb_1", here, "op_1")
        with store.write() as tx:
            tx.dss.put_subscription(sub)
            tx.dss.put_subscription(replace(sub, id="sb_2", notify_for_intents=False, implicit=False, extent=there))
            tx.dss.put_reference(intent)
            tx.dss.put_reference(replace(intent, id="cr_1", kind=CONSTRAINT, state="", subscription_id=None))
        with store.read() as tx:
            got = tx.dss.reference(INTENT, "oi_1")
            assert got is not None and (got.ovn, got.mirror_id, got.subscription_id) == ("ovn-1", "op_1", "sb_1")
            assert got.extent.footprint is not None and got.extent.footprint.equals(here.footprint)
            assert tx.dss.reference(CONSTRAINT, "oi_1") is None  # by kind
            either = [tx.dss.reference(None, i) for i in ("oi_1", "cr_1", "xx_1")]  # of either kind
            assert [r.kind if r is not None else None for r in either] == [INTENT, CONSTRAINT, None]
            assert [r.id for r in tx.dss.search_references(INTENT, here)] == ["oi_1"]
            assert tx.dss.search_references(INTENT, there) == [] and tx.dss.search_references(INTENT, later) == []
            assert tx.dss.dependents("sb_1") == ["oi_1"]
            assert tx.dss.subscription("sb_1") == sub
            assert [s.id for s in tx.dss.search_subscriptions(here)] == ["sb_1"]
            assert [s.id for s in tx.dss.search_subscriptions(there, flag="notify_for_intents")] == []
            assert tx.dss.availability("uss1") is None
        with store.write() as tx:
            tx.dss.increment(["sb_1", "sb_1"])
            tx.dss.put_availability("uss1", "Down", "v2")
            tx.dss.add_report("rp_1", "uss1", NOW, '{"problem": "x"}')
            tx.dss.delete_reference("oi_1")
            tx.dss.delete_subscription("sb_2")
        with store.read() as tx:
            counted = tx.dss.subscription("sb_1")
            assert counted is not None and counted.notification_index == 2
            assert tx.dss.availability("uss1") == ("Down", "v2")
            assert tx.dss.reference(INTENT, "oi_1") is None and tx.dss.subscription("sb_2") is None
            assert tx.dss.dependents("sb_1") == []

    def test_dss_records_written_before_migration_29_are_filed_by_its_step(self, store: Store) -> None:
        from deconfliction.dss.extents import Extent
        from deconfliction.dss.records import INTENT, Reference, Subscription
        from deconfliction.store.sql.backfills import file_dss_cells

        # one small footprint, one across a quarter of the world (filed at a coarse level) and one far away
        shapes = [
            shapely.box(10.0, 50.0, 10.01, 50.01),
            shapely.box(-80.0, -40.0, 80.0, 60.0),
            shapely.box(-170, -80, -169, -79),
        ]
        here = [Extent(f, 0.0, 100.0, NOW, NOW + timedelta(hours=1)) for f in shapes]
        with store.write() as tx:
            for i, extent in enumerate(here):
                tx.dss.put_reference(
                    Reference(f"oi_{i}", INTENT, "uss1", 1, f"ovn-{i}", "Accepted", "https://u", None, extent)
                )
                tx.dss.put_subscription(
                    Subscription(f"sb_{i}", "uss1", "v1", 0, "https://u", True, False, False, extent)
                )
        probe = Extent(shapely.box(10.005, 50.005, 10.006, 50.006), 0.0, 100.0, NOW, NOW + timedelta(hours=1))

        def found() -> tuple[list[str], list[str]]:
            with store.read() as tx:
                return [r.id for r in tx.dss.search_references(INTENT, probe)], [
                    s.id for s in tx.dss.search_subscriptions(probe)
                ]

        assert found() == (["oi_0", "oi_1"], ["sb_0", "sb_1"])
        conn, dialect = self.connect_directly()
        try:
            cur = conn.cursor()
            cur.execute("DELETE FROM dss_cells")  # as records written before the migration
            conn.commit()
            assert found() == ([], [])
            assert file_dss_cells(cur, dialect) == 6
            conn.commit()
        finally:
            conn.close()
        assert found() == (["oi_0", "oi_1"], ["sb_0", "sb_1"])


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Any) -> Iterator[Store]:
        self.url = f"sqlite:///{tmp_path}/contract.db"
        s = open_store(self.url)
        yield s
        s.close()

    def reopen(self, store: Store) -> Store:
        return open_store(self.url)


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[Store]:
        truncate(postgres_url)
        self.url = postgres_url
        s = open_store(postgres_url)
        yield s
        s.close()

    def reopen(self, store: Store) -> Store:
        return open_store(self.url)


def test_every_repository_method_is_in_the_contract() -> None:
    """Each method of each repository of ``ports.Transaction`` is called by the contract suite, which
    every backend runs: a repository (or a method) added without its contract test fails here."""
    import inspect
    import re
    import typing

    from deconfliction.store import ports

    source = inspect.getsource(StoreContract)
    missing = []
    for name, member in vars(ports.Transaction).items():
        if not isinstance(member, property):
            continue
        repo = typing.get_type_hints(member.fget)["return"]
        for method, fn in vars(repo).items():
            if callable(fn) and not method.startswith("_") and not re.search(rf"\btx\.{name}\.{method}\(", source):
                missing.append(f"{name}.{method}")
    assert missing == []
