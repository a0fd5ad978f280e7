"""Logs, metrics and probes (docs/operations.md), in process on both backends: the access log with the
route template and the party and never the key; the domain's events logged and counted where they
happen (and not when the write is rolled back); the gauges read from the database; failed
authentications counted by kind and a lockout counted and recorded once; the probes."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from deconfliction.api.app import create_app
from deconfliction.domain.party import Party
from deconfliction.logs import JsonFormatter, TextFormatter
from deconfliction.service import delivery, events
from deconfliction.service.guard import record_failure
from deconfliction.service.health import readiness
from deconfliction.service.notifications import run_escalations
from deconfliction.service.runtime import Runtime
from deconfliction.service.tactical.cycle import CycleReport, TacticalService
from tests.conftest import FakeClock, auth, crossing_pair
from tests.service.test_delivery import free_port
from tests.tactical.test_tracks_api import GEOD, rep


def metrics(c: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(page: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


def events_of(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == name]


@pytest.fixture
def keys(parties: dict[str, tuple[Party, str]]) -> dict[str, str]:
    return {name: key for name, (_, key) in parties.items()}


def test_the_access_log_names_the_route_status_and_party_never_the_key(
    client: TestClient, keys: dict[str, str], parties: dict[str, tuple[Party, str]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="deconfliction.access"):
        a, _ = crossing_pair(client, keys["alpha"], keys["bravo"])
        op_id = a.json()["operation"]["id"]
        assert client.get(f"/v1/operations/{op_id}", headers=auth(keys["alpha"])).status_code == 200
        assert client.get("/v1/operations", headers=auth("wrong-" + "k" * 40)).status_code == 401
        assert client.get("/no/such/page").status_code == 404
    access = [r for r in caplog.records if r.name == "deconfliction.access"]
    got = [(r.method, r.route, r.status, r.party) for r in access]  # type: ignore[attr-defined]
    alpha, bravo = parties["alpha"][0].id, parties["bravo"][0].id
    assert got == [
        ("POST", "/v1/operations", 201, alpha),
        ("POST", "/v1/operations", 201, bravo),
        ("GET", "/v1/operations/{op_id}", 200, alpha),
        ("GET", "/v1/operations", 401, None),
        ("GET", "(unmatched)", 404, None),
    ]
    assert all(r.duration_ms >= 0 for r in access)  # type: ignore[attr-defined]
    for formatter in (TextFormatter(), JsonFormatter()):
        text = "\n".join(formatter.format(r) for r in caplog.records)
        assert not any(k in text for k in keys.values()) and "k" * 40 not in text
        assert "Authorization" not in text and "Bearer" not in text
    line = orjson.loads(JsonFormatter().format(access[2]))
    assert (line["route"], line["status"], line["party"], line["logger"]) == (
        "/v1/operations/{op_id}",
        200,
        alpha,
        "deconfliction.access",
    )


def test_requests_are_timed_by_route_template(client: TestClient, keys: dict[str, str]) -> None:
    a, _ = crossing_pair(client, keys["alpha"], keys["bravo"])
    op_id = a.json()["operation"]["id"]
    for _ in range(3):
        client.get(f"/v1/operations/{op_id}", headers=auth(keys["alpha"]))
    page = metrics(client)
    route = {"method": "GET", "route": "/v1/operations/{op_id}"}
    assert value(page, "deconfliction_http_requests_total", status="200", **route) == 3
    assert value(page, "deconfliction_http_request_duration_seconds_count", **route) == 3
    assert value(page, "deconfliction_http_request_duration_seconds_bucket", le="+Inf", **route) == 3
    assert not any(op_id in str(labels) for _, labels in page)  # never a series per object


def test_conflicts_acknowledgements_and_escalations_are_logged_and_counted(
    rt: Runtime,
    client: TestClient,
    keys: dict[str, str],
    parties: dict[str, tuple[Party, str]],
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="deconfliction.events"):
        crossing_pair(client, keys["alpha"], keys["bravo"])
        (opened,) = events_of(caplog, "conflict.opened")
        assert sorted(opened.parties) == sorted([parties["alpha"][0].id, parties["bravo"][0].id])  # type: ignore[attr-defined]
        page = metrics(client)
        assert value(page, "deconfliction_conflicts_opened_total") == 1
        assert value(page, "deconfliction_open_conflicts") == 1
        assert value(page, "deconfliction_overdue_notifications") == 0

        # alpha acknowledges its notification; bravo lets its deadline pass
        (n,) = client.get("/v1/notifications", headers=auth(keys["alpha"])).json()["items"]
        assert client.post(f"/v1/notifications/{n['id']}/ack", headers=auth(keys["alpha"])).status_code == 200
        (acked,) = events_of(caplog, "notification.acknowledged")
        assert acked.notification == n["id"] and acked.party == parties["alpha"][0].id  # type: ignore[attr-defined]
        clock.advance(hours=23)
        assert value(metrics(client), "deconfliction_overdue_notifications") == 1
        assert run_escalations(rt) >= 1
        escalated = events_of(caplog, "notification.escalated")
        assert escalated and all(e.party == parties["bravo"][0].id for e in escalated)  # type: ignore[attr-defined]
        assert all(e.levelno == logging.INFO for e in [opened, acked, *escalated])
    page = metrics(client)
    assert value(page, "deconfliction_notifications_acknowledged_total") == 1
    steps = value(page, "deconfliction_escalations_total", to="contact") + value(
        page, "deconfliction_escalations_total", to="coordinator"
    )
    assert steps == len(escalated)


def test_a_failed_delivery_is_a_warning_and_counted(
    rt: Runtime, client: TestClient, keys: dict[str, str], parties: dict[str, tuple[Party, str]], caplog: Any
) -> None:
    local = replace(rt, webhook_allow=(ipaddress.ip_network("127.0.0.0/8"),))  # the same instruments
    delivery.register_endpoint(local, parties["alpha"][0], "webhook", f"http://127.0.0.1:{free_port()}/down")
    crossing_pair(client, keys["alpha"], keys["bravo"])
    with caplog.at_level(logging.INFO, logger="deconfliction.events"):
        assert delivery.run_deliveries(local, delivery.NetworkSender(timeout_s=2)) == (0, 1)
    (failed,) = events_of(caplog, "delivery.failed")
    assert failed.levelno == logging.WARNING
    assert (failed.channel, failed.party, failed.attempt, failed.dead) == ("webhook", parties["alpha"][0].id, 1, False)  # type: ignore[attr-defined]
    assert value(metrics(client), "deconfliction_deliveries_failed_total", channel="webhook") == 1


def test_alerts_raised_and_resolved_cycles_and_reports_are_counted(
    client: TestClient, keys: dict[str, str], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    service: TacticalService = client.app.state.tactical  # type: ignore[attr-defined]
    lon_b, lat_b, _ = GEOD.fwd(30.0, 40.0, 90.0, 6000.0)
    with caplog.at_level(logging.INFO, logger="deconfliction.events"):
        client.post("/v1/tracks", json={"reports": [rep(clock, "A1", 40.0, 30.0)]}, headers=auth(keys["alpha"]))
        client.post("/v1/tracks", json={"reports": [rep(clock, "B1", lat_b, lon_b)]}, headers=auth(keys["bravo"]))
        service.cycle()
        (raised,) = events_of(caplog, "alert.raised")
        page = metrics(client)
        assert value(page, "deconfliction_alerts_total", change="raised", kind="tracks") == 1
        assert value(page, "deconfliction_tracks") == 2
        assert value(page, "deconfliction_position_reports_ingested_total", path="http") == 2
        assert value(page, "deconfliction_tactical_cycle_duration_seconds_count") == 1
        clock.advance(seconds=600)  # the tracks expire, the alert clears
        service.cycle()
        service.cycle()
        (resolved,) = events_of(caplog, "alert.resolved")
        assert resolved.alert == raised.alert  # type: ignore[attr-defined]
    page = metrics(client)
    assert value(page, "deconfliction_alerts_total", change="resolved", kind="tracks") == 1
    assert value(page, "deconfliction_tracks") == 0


def test_a_cycle_longer_than_its_period_is_an_overrun(rt: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    slow = CycleReport(rt.clock(), 10, 0, None, [], 1.4)
    quick = CycleReport(rt.clock(), 10, 0, None, [], 0.2)
    with caplog.at_level(logging.INFO, logger="deconfliction.events"):
        events.cycled(rt, quick, 1.0)
        events.cycled(rt, slow, 1.0)
    (overrun,) = events_of(caplog, "tactical.cycle_overrun")
    assert overrun.levelno == logging.WARNING and overrun.seconds == 1.4  # type: ignore[attr-defined]
    assert rt.metrics.cycle_overruns._value.get() == 1


def _emit_then_fail(rt: Runtime) -> None:
    with events.after_commit(), rt.store.write():
        events.emit(rt, "conflict.opened", "conflict opened")
        raise RuntimeError("rolled back")


def test_a_write_rolled_back_is_neither_logged_nor_counted(rt: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="deconfliction.events"):
        with pytest.raises(RuntimeError, match="rolled back"):
            _emit_then_fail(rt)
        assert events_of(caplog, "conflict.opened") == []
        with events.after_commit(), rt.store.write():
            events.emit(rt, "conflict.opened", "conflict opened")
            assert events_of(caplog, "conflict.opened") == []  # not before the commit
        assert len(events_of(caplog, "conflict.opened")) == 1
    assert rt.metrics.conflicts_opened._value.get() == 1


# ------------------------------------------------------------------------------ failed authentications

LIMIT = 3


def test_failed_authentications_are_counted_by_kind_and_a_lockout_once(
    rt: Runtime, parties: dict[str, tuple[Party, str]], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.api.test_signing_api import post_signed, public

    guarded = replace(rt, limits=replace(rt.limits, auth_failures_max=LIMIT, auth_failures_window_s=60))
    alpha_key, cell_key = parties["alpha"][1], parties["cell"][1]
    app = create_app(runtime=guarded)
    guesses = [f"guess-{i}-" + "g" * 40 for i in range(LIMIT + 3)]
    with (
        TestClient(app, client=("203.0.113.9", 1)) as attacker,
        TestClient(app, client=("198.51.100.9", 1)) as other,
        caplog.at_level(logging.INFO, logger="deconfliction.events"),
    ):
        statuses = [attacker.get("/v1/operations", headers=auth(g)).status_code for g in guesses]
        assert statuses == [401] * LIMIT + [429] * 3  # refused while locked: not counted again
        # a signature guessed by the holder of alpha's key, from elsewhere
        k, wrong = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        assert other.post("/v1/keys", json={"public_key": public(k)}, headers=auth(alpha_key)).status_code == 201
        assert post_signed(other, alpha_key, wrong, clock).status_code == 401
        page = metrics(other)
        ledger = [
            orjson.loads(line) for line in other.get("/v1/ledger", headers=auth(cell_key)).content.splitlines()[1:]
        ]
    # a client certificate bound to nobody goes through the same count (the TLS tests drive it end to end)
    record_failure(guarded, "certificate", "192.0.2.50")
    assert value(page, "deconfliction_auth_failures_total", kind="api_key") == LIMIT
    assert value(page, "deconfliction_auth_failures_total", kind="signature") == 1
    assert guarded.metrics.auth_failures.labels("certificate")._value.get() == 1
    assert value(page, "deconfliction_auth_lockouts_total", scope="address") == 1
    locks = [e for e in ledger if e.get("content", {}).get("type") == "auth.locked_out"]
    assert len(locks) == 1 and locks[0]["content"]["payload"]["address"] == "203.0.113.9"
    failed = events_of(caplog, "auth.failed")
    assert [f.kind for f in failed] == ["api_key"] * LIMIT + ["signature", "certificate"]  # type: ignore[attr-defined]
    assert all(f.levelno == logging.WARNING for f in failed)
    (locked,) = events_of(caplog, "auth.locked_out")
    assert locked.scope == "address:203.0.113.9"  # type: ignore[attr-defined]
    text = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert not any(g in text for g in guesses) and alpha_key not in text


# ------------------------------------------------------------------------------------------- the probes


def test_liveness_needs_nothing_and_readiness_says_what_fails(client: TestClient, rt: Runtime) -> None:
    assert client.get("/v1/health/live").json() == {
        "status": "ok",
        "version": client.get("/v1/health").json()["version"],
    }
    r = client.get("/v1/health/ready")
    # the tests drive the tactical cycle themselves: this process does not run it, so it is not ready
    assert r.status_code == 503
    checks = {c["name"]: c for c in r.json()["checks"]}
    assert checks["database"]["ok"] and checks["migrations"]["ok"]
    assert not checks["tactical_cycle"]["ok"] and "no process has run a cycle" in checks["tactical_cycle"]["detail"]
    assert r.json()["status"] == "not_ready" and r.json()["backend"] == rt.store.backend
    assert client.get("/v1/health").status_code == 200  # the old endpoint still answers


class _Running:
    cycle_s = 1.0
    elected = True

    def cycle_elected(self) -> bool:
        return True


def test_readiness_follows_the_schema(rt: Runtime) -> None:
    """The schema's record is put back as it was: on PostgreSQL the tests share one database."""
    assert all(c.ok for c in readiness(rt, _Running()))
    with rt.store.write() as tx:
        cur = tx.gauges._cur  # type: ignore[attr-defined]
        cur.execute("SELECT * FROM schema_migrations WHERE version = 18")
        kept = dict(cur.fetchone())
    try:
        with rt.store.write() as tx:  # a newer version migrated this database
            tx.gauges._cur.execute(  # type: ignore[attr-defined]
                "INSERT INTO schema_migrations (version, name, applied_at, checksum) VALUES (9999, 'x', 0, 'x')"
            )
        found = {c.name: c for c in readiness(rt, _Running())}
        assert not found["migrations"].ok and "9999" in found["migrations"].detail
        with rt.store.write() as tx:  # and one this version ships is missing
            tx.gauges._cur.execute("DELETE FROM schema_migrations WHERE version IN (9999, 18)")  # type: ignore[attr-defined]
        found = {c.name: c for c in readiness(rt, _Running())}
        assert not found["migrations"].ok and "not applied: 18" in found["migrations"].detail
    finally:
        with rt.store.write() as tx:
            cur = tx.gauges._cur  # type: ignore[attr-defined]
            cur.execute("DELETE FROM schema_migrations WHERE version IN (9999, 18)")
            mark = "?" if rt.store.backend == "sqlite" else "%s"
            columns, values = ", ".join(kept), tuple(kept.values())
            cur.execute(f"INSERT INTO schema_migrations ({columns}) VALUES ({', '.join([mark] * len(kept))})", values)
    assert all(c.ok for c in readiness(rt, _Running()))


@pytest.mark.postgres
def test_readiness_when_the_database_is_gone() -> None:
    """The database dropped under a running store (connections killed): not ready, and why."""
    from deconfliction.store import open_store
    from tests.conftest import make_postgres_database

    url, drop = make_postgres_database()
    store = open_store(url)
    try:
        rt = Runtime(store)
        assert all(c.ok for c in readiness(rt, _Running()))
        drop()
        found = {c.name: c for c in readiness(rt, _Running())}
        assert not found["database"].ok and not found["migrations"].ok and found["tactical_cycle"].ok
    finally:
        store.close()
        drop()


def test_gauges_from_the_database_count_what_the_lists_count(
    rt: Runtime, client: TestClient, keys: dict[str, str], clock: FakeClock
) -> None:
    for lon in (40.0, 41.0, 42.0):
        for who, dx in (("alpha", 0.0), ("bravo", 0.05)):
            body = {"kind": "air", "volumes": [_volume(lon + dx)]}
            assert client.post("/v1/operations", json=body, headers=auth(keys[who])).status_code == 201
    with rt.store.read() as tx:
        assert tx.gauges.open_conflicts() == 3
        assert tx.gauges.overdue_notifications(clock()) == 0
        later = clock() + timedelta(hours=23)
        assert tx.gauges.overdue_notifications(later) == len(tx.notifications.list(overdue_at=later, limit=1000)) == 6


def _volume(lon: float) -> dict[str, Any]:
    from tests.conftest import square, volume_json

    return volume_json(square(lon, 35.0))


def test_probes_and_scrapes_are_logged_at_debug(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="deconfliction.access"):
        client.get("/v1/health/live")
        client.get("/metrics")
        client.get("/v1/clock")
    levels = {r.route: r.levelno for r in caplog.records if r.name == "deconfliction.access"}  # type: ignore[attr-defined]
    assert levels == {"/v1/health/live": logging.DEBUG, "/metrics": logging.DEBUG, "/v1/clock": logging.INFO}


def test_reports_are_counted_per_path_through_the_real_feeds(
    rt: Runtime, parties: dict[str, tuple[Party, str]]
) -> None:
    """An SBS-1 server, a CoT datagram and a CoT TCP stream, through the feeds as the server wires them."""
    import asyncio
    import socket

    from deconfliction.service.tactical.setup import build_tactical
    from tests.tactical.test_feeds import T, until
    from tests.tactical.test_parsers import COT, POS, VEL

    timed = replace(rt, clock=lambda: T)  # the feeds' sample messages are of T
    sbs_port, udp_port, tcp_port = free_port(), free_port(), free_port()
    counted = timed.metrics.reports

    async def main() -> None:
        async def sbs(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(("\r\n".join([VEL, POS]) + "\r\n").encode())
            await writer.drain()
            writer.close()

        sbs_server = await asyncio.start_server(sbs, "127.0.0.1", sbs_port)
        service = build_tactical(
            timed,
            cycle_s=0,
            expiry_s=30,
            policy_file=None,
            sbs_feeds=f"127.0.0.1:{sbs_port}=alpha",
            cot_udp=f"127.0.0.1:{udp_port}=alpha",
            cot_tcp=f"127.0.0.1:{tcp_port}=alpha",
        )
        await service.start(run_cycle=False)
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(COT.encode(), ("127.0.0.1", udp_port))
            _, writer = await asyncio.open_connection("127.0.0.1", tcp_port)
            writer.write(COT.replace("ICAO-4CA2D6", "ICAO-ABCDEF").encode())
            await writer.drain()
            await until(lambda: all(counted.labels(p)._value.get() >= 1 for p in ("sbs", "cot_udp", "cot_tcp")))
            writer.close()
        finally:
            await service.stop()
            sbs_server.close()

    asyncio.run(main())
    assert counted.labels("cot_udp")._value.get() == counted.labels("cot_tcp")._value.get() == 1
    assert counted.labels("http")._value.get() == 0


def test_a_scrape_reads_the_database_once(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from deconfliction.service.metrics import scrape

    reads = []
    real = rt.store.read

    def counted() -> Any:
        reads.append(1)
        return real()

    monkeypatch.setattr(rt.store, "read", counted)
    page = scrape(rt).decode()
    assert "deconfliction_open_conflicts 0.0" in page and "deconfliction_overdue_notifications 0.0" in page
    assert len(reads) == 1  # one read transaction, two small counts
