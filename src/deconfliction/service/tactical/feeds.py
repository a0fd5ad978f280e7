"""Live feeds (asyncio): an SBS-1 TCP client with reconnect, and Cursor-on-Target UDP and TCP listeners.

Each feed belongs to one party (the aircraft it reports are that party's), turns what it receives into
``PositionReport`` objects with the pure parsers (``sbs``, ``cot``) and hands them to a sink (the track
store). A malformed line, datagram or event is counted and logged (the first ten of each feed, then one
in a thousand) and never stops the feed. Configuration strings (docs/tactical.md):

    host:port=Party name[;host:port=Other party ...]

A feed configured as ``host:port=sensor:NAME`` is a **sensor** (a radar, an observation post): it
belongs to no party, and every track it reports is of no party (unknown, or the affiliation its CoT
type gives: hostile, pending, neutral).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from deconfliction.domain.tactical import PositionReport
from deconfliction.formats.cot import MAX_EVENT_BYTES, CotError, CotIgnored, parse_cot, split_stream
from deconfliction.formats.sbs import SbsAssembler, SbsError, parse_sbs_line

log = logging.getLogger("deconfliction.service.tactical.feeds")

Sink = Callable[[list[PositionReport]], object]
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    party: str
    """A party's name (as configured) or id, or ``sensor:NAME`` for a sensor of no party."""

    @property
    def sensor(self) -> str | None:
        """The sensor's name when the feed is a sensor's (``=sensor:NAME``), else None."""
        head, sep, name = self.party.partition(":")
        return name.strip() if sep and head.strip().lower() == "sensor" and name.strip() else None


def parse_endpoints(raw: str | None, setting: str) -> list[Endpoint]:
    """``host:port=Party[;...]``; a bad entry raises ValueError naming the setting."""
    out: list[Endpoint] = []
    for part in (raw or "").split(";"):
        part = part.strip()
        if not part:
            continue
        addr, sep, party = part.partition("=")
        host, colon, port = addr.strip().rpartition(":")
        if not sep or not colon or not party.strip() or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{setting}: {part!r} is not host:port=Party name")
        out.append(Endpoint(host.strip().strip("[]"), int(port), party.strip()))
    return out


@dataclass
class FeedCounters:
    """What a feed has done since the service started."""

    name: str
    received: int = 0
    reports: int = 0
    ignored: int = 0
    malformed: int = 0
    connections: int = 0
    errors: int = 0
    connected: bool = False
    last_error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass
class _Feed:
    name: str
    party_id: str
    sink: Sink
    clock: Clock
    counters: FeedCounters = field(init=False)

    def __post_init__(self) -> None:
        self.counters = FeedCounters(self.name)

    def malformed(self, text: str, reason: str) -> None:
        self.counters.malformed += 1
        n = self.counters.malformed
        if n <= 10 or n % 1000 == 0:
            log.warning("%s: malformed input #%d (%s): %r", self.name, n, reason, text[:120])

    def deliver(self, reports: list[PositionReport]) -> None:
        if reports:
            self.counters.reports += len(reports)
            self.sink(reports)


class SbsClient(_Feed):
    """Connects to a dump1090-style SBS-1 server (TCP 30003), reads lines, reconnects with backoff."""

    def __init__(self, endpoint: Endpoint, party_id: str, sink: Sink, clock: Clock, *, backoff_max_s: float = 30.0):
        super().__init__(f"sbs {endpoint.host}:{endpoint.port}", party_id, sink, clock)
        self.endpoint = endpoint
        self.backoff_max_s = backoff_max_s
        self.assembler = SbsAssembler(party_id)

    async def run(self) -> None:
        delay = 0.5
        while True:
            try:
                reader, writer = await asyncio.open_connection(self.endpoint.host, self.endpoint.port, limit=4096)
            except OSError as exc:
                self.counters.errors += 1
                self.counters.last_error = str(exc)
                log.warning("%s: cannot connect (%s); retrying in %.1f s", self.name, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            self.counters.connections += 1
            self.counters.connected = True
            delay = 0.5
            log.info("%s: connected", self.name)
            try:
                await self._read(reader)
            except (OSError, asyncio.IncompleteReadError) as exc:
                self.counters.errors += 1
                self.counters.last_error = str(exc)
                log.warning("%s: connection lost (%s)", self.name, exc)
            finally:
                self.counters.connected = False
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
            await asyncio.sleep(delay)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await reader.readline()
            except ValueError:  # a line over the stream limit: skip to the next newline
                self.malformed("", "line too long")
                with contextlib.suppress(asyncio.LimitOverrunError, ValueError):
                    await reader.readuntil(b"\n")
                continue
            if not raw:
                return
            self.counters.received += 1
            line = raw.decode("ascii", "replace").strip()
            if not line:
                continue
            msg = parse_sbs_line(line)
            if isinstance(msg, SbsError):
                self.malformed(msg.line, msg.reason)
                continue
            report = self.assembler.feed(msg, self.clock())
            if report is None:
                self.counters.ignored += 1
            else:
                self.deliver([report])
            if self.counters.received % 10_000 == 0:
                self.assembler.forget_before(self.clock() - timedelta(minutes=5))


class _CotFeed(_Feed):
    def handle(self, data: bytes) -> None:
        self.counters.received += 1
        out = parse_cot(data, self.party_id, self.clock())
        if isinstance(out, CotError):
            self.malformed(out.text, out.reason)
        elif isinstance(out, CotIgnored):
            self.counters.ignored += 1
        else:
            self.deliver([out])


class CotUdpListener(_CotFeed, asyncio.DatagramProtocol):
    """One CoT event per datagram."""

    def __init__(self, endpoint: Endpoint, party_id: str, sink: Sink, clock: Clock):
        _Feed.__init__(self, f"cot udp {endpoint.host}:{endpoint.port}", party_id, sink, clock)
        self.endpoint = endpoint
        self.transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.endpoint.host, self.endpoint.port)
        )
        self.transport = transport
        self.counters.connected = True

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        try:
            self.handle(data)
        except Exception as exc:  # a feed never dies on input
            self.counters.errors += 1
            log.exception("%s: unexpected error on a datagram: %s", self.name, exc)

    @property
    def port(self) -> int:
        sock = self.transport.get_extra_info("sockname") if self.transport else None
        return int(sock[1]) if sock else self.endpoint.port

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        self.counters.connected = False


class CotTcpListener(_CotFeed):
    """CoT events one after the other on TCP connections (TAK style); each event at most 64 KiB."""

    def __init__(self, endpoint: Endpoint, party_id: str, sink: Sink, clock: Clock):
        super().__init__(f"cot tcp {endpoint.host}:{endpoint.port}", party_id, sink, clock)
        self.endpoint = endpoint
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, self.endpoint.host, self.endpoint.port)
        self.counters.connected = True

    @property
    def port(self) -> int:
        if self.server is None or not self.server.sockets:
            return self.endpoint.port
        return int(self.server.sockets[0].getsockname()[1])

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counters.connections += 1
        buffer = b""
        try:
            while True:
                chunk = await reader.read(65_536)
                if not chunk:
                    break
                buffer += chunk
                events, junk, buffer = split_stream(buffer)
                for bad in junk:
                    self.counters.received += 1
                    self.malformed(bad.decode("utf-8", "replace"), "not a CoT event")
                for ev in events:
                    self.handle(ev)
                if len(buffer) > MAX_EVENT_BYTES:
                    self.malformed(buffer[:120].decode("utf-8", "replace"), "no </event> within 64 KiB")
                    buffer = b""
        except OSError as exc:
            self.counters.errors += 1
            self.counters.last_error = str(exc)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        self.counters.connected = False
