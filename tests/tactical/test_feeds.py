"""The feeds over real sockets: an SBS-1 TCP server the client connects (and reconnects) to, a CoT
datagram to the UDP listener, CoT events streamed to the TCP listener. Malformed input is counted, never
fatal."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from deconfliction.domain.tactical import PositionReport, TacticalPolicy
from deconfliction.service.tactical.cycle import TacticalService
from deconfliction.service.tactical.feeds import CotTcpListener, CotUdpListener, Endpoint, SbsClient, parse_endpoints
from deconfliction.store.tracks import TrackStore
from tests.tactical.test_parsers import COT, POS, VEL

T = datetime(2026, 11, 23, 8, 0, 0, 500_000, tzinfo=UTC)


def clock() -> datetime:
    return T


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def run(coro: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(coro())


def test_endpoint_strings() -> None:
    assert parse_endpoints("10.0.0.5:30003=North Force; [::1]:6969=pt_01", "X") == [
        Endpoint("10.0.0.5", 30003, "North Force"),
        Endpoint("::1", 6969, "pt_01"),
    ]
    for bad in ("10.0.0.5:30003", "host=North", "host:99999=North", "host:port=North"):
        with pytest.raises(ValueError, match="DECONFLICTION_SBS_FEEDS"):
            parse_endpoints(bad, "DECONFLICTION_SBS_FEEDS")


def test_sbs_client_reads_a_real_server_and_reconnects() -> None:
    got: list[PositionReport] = []
    sessions = 0

    async def main() -> None:
        nonlocal sessions

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            nonlocal sessions
            sessions += 1
            lines = [VEL, POS, "MSG,3,garbage", POS.replace("4CA2D6", "ABCDEF"), ""] if sessions == 1 else [VEL, POS]
            writer.write(("\r\n".join(lines) + "\r\n").encode())
            await writer.drain()
            writer.close()  # the client must reconnect

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = SbsClient(Endpoint("127.0.0.1", port, "North"), "pt_north", got.extend, clock, backoff_max_s=0.1)
        task = asyncio.create_task(client.run())
        await until(lambda: len(got) >= 2 and client.counters.connections >= 2)
        task.cancel()
        server.close()
        assert client.counters.malformed == 1
        assert client.counters.received >= 6
        assert client.counters.ignored >= 2  # a velocity line, and a position without velocity

    run(main)
    assert got[0].track_id == "4CA2D6" and got[0].party_id == "pt_north" and got[0].time == T
    assert got[0].altitude_m == 37000 * 0.3048 and got[0].track_deg == 271.0


def test_sbs_client_keeps_trying_when_nothing_listens() -> None:
    async def main() -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed again: nothing listens there
        client = SbsClient(Endpoint("127.0.0.1", port, "North"), "p", lambda r: None, clock, backoff_max_s=0.05)
        task = asyncio.create_task(client.run())
        await until(lambda: client.counters.errors >= 3)
        task.cancel()
        assert not client.counters.connected and client.counters.last_error

    run(main)


def test_cot_datagram_reaches_the_store_through_the_udp_listener() -> None:
    service = TacticalService(TacticalPolicy(), clock, lambda: "al_1", TrackStore())

    async def main() -> None:
        listener = CotUdpListener(Endpoint("127.0.0.1", 0, "North"), "pt_north", service.ingest, clock)
        await listener.start()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(COT.encode(), ("127.0.0.1", listener.port))
            s.sendto(b"<event uid='x'", ("127.0.0.1", listener.port))
            s.sendto(COT.replace('type="a-f-A-C-F"', 'type="b-t-f"').encode(), ("127.0.0.1", listener.port))
        await until(lambda: listener.counters.received == 3)
        listener.close()
        assert (listener.counters.reports, listener.counters.malformed, listener.counters.ignored) == (1, 1, 1)

    run(main)
    assert service.store.track(("pt_north", "ICAO-4CA2D6"))["alt"] == 11277.6


def test_cot_tcp_stream_with_split_and_joined_events() -> None:
    got: list[PositionReport] = []

    async def main() -> None:
        listener = CotTcpListener(Endpoint("127.0.0.1", 0, "North"), "pt_north", got.extend, clock)
        await listener.start()
        other = COT.replace("ICAO-4CA2D6", "ICAO-ABCDEF")
        data = (COT + other).encode()
        _, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.write(data + b"<event broken>" + COT.encode()[:50])
        await writer.drain()
        writer.write(COT.encode()[50:])
        await writer.drain()
        await until(lambda: len(got) == 3 and listener.counters.malformed == 1)
        writer.close()
        listener.close()

    run(main)
    assert [r.track_id for r in got] == ["ICAO-4CA2D6", "ICAO-ABCDEF", "ICAO-4CA2D6"]


def test_a_feed_of_a_started_service_reaches_the_store_in_batches_off_the_event_loop() -> None:
    service = TacticalService(TacticalPolicy(), clock, lambda: "al_1", TrackStore())
    written: list[int] = []
    ingest = service.ingest

    def counted(reports: list[PositionReport], path: str = "http") -> Any:
        written.append(len(reports))
        return ingest(reports, path)

    service.ingest = counted  # type: ignore[method-assign]

    async def main() -> None:
        listener = CotUdpListener(Endpoint("127.0.0.1", 0, "North"), "pt_north", service.ingest_soon, clock)
        service.add_feed(listener)
        await service.start(run_cycle=False)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for uid in ("ICAO-1", "ICAO-2", "ICAO-3"):
                s.sendto(COT.replace("ICAO-4CA2D6", uid).encode(), ("127.0.0.1", listener.port))
        await until(lambda: listener.counters.reports == 3)
        assert service.store.track(("pt_north", "ICAO-1")) is None  # held for the next batch, not written yet
        await until(lambda: sum(written) == 3)
        await service.stop()

    run(main)
    assert len(written) <= 2  # one batch (two if the datagrams straddled a flush), not one per report
    assert all(service.store.track(("pt_north", f"ICAO-{n}")) is not None for n in (1, 2, 3))
