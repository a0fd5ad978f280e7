"""Wake-ups: a writer says "something committed on this channel"; readers wait for it instead of polling.

The port has two sides::

    with store.write() as tx:            # writer: inside the transaction; told only if it commits
        tx.wake("notifications.pt_bravo")

    with store.wakeups.subscribe("notifications.pt_bravo") as sub:   # reader, in an asyncio task
        while True:
            ...read what is new...
            await sub.wait(timeout)       # True: woken (read again); False: the timeout passed

A channel is a plain string (``notifications.<party id>``: see ``notifications_channel``); a wake-up
carries no payload: the reader queries what it wants, so a wake-up lost or doubled costs a query, never
an event. A subscription woken while its reader is busy stays woken, so a commit between the reader's
query and its next ``wait`` is never missed. Repositories wake their channels themselves
(``notifications.add`` wakes its party's channel), so no write path can forget.

How the signal travels, per backend:

- **PostgreSQL**: ``pg_notify`` in the writing transaction (PostgreSQL delivers it on commit, and drops it
  on rollback). Each process keeps one ``LISTEN`` connection, opened when its first reader subscribes,
  and fans each notification out to its own readers. After (re)connecting, every reader is woken once:
  whatever committed while nobody listened is read. The writer's own process is woken by the writer,
  right after the commit (its listener skips the notifications it sent: they carry its token).
- **SQLite**: in-process, the writer wakes the readers right after its commit. Other processes on the
  same file learn it from ``<file>.wake``, an append-only file of ``<writer token> <channel>`` lines
  written after each commit that woke something (under the file lock every writer already holds); one
  thread per process looks at its size every ``WATCH_S`` while a reader waits: a ``stat``, not a query.
  The file is replaced when it grows past ``WAKE_FILE_MAX``; a reader that sees it replaced wakes all.
  The watcher holds the file it follows open, so a replacement never gets the inode it compares with.
- **Safety net**, both backends: every ``safety_net_s`` (DECONFLICTION_STREAM_POLL_S) each process reads
  the store's head (ledger and notification counters, one query per process, not per reader) and wakes
  every reader when it moved: a commit that no wake-up announced is still seen, late.

A new kind of live reader (alerts, tracks) takes a channel of its own: its repository calls
``tx.wake("alerts")`` where it writes, its reader subscribes to ``"alerts"``. What it writes is then told
at once; the safety net sees it only if it also moves the ledger head (``HEAD_QUERY``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

PG_CHANNEL = "deconfliction"
"""The one PostgreSQL notification channel; the payload is the wake-up's channel name."""

LISTENER_NAME = "deconfliction-wakeups"
"""PostgreSQL: the listener connection's application_name (as pg_stat_activity shows it)."""

HEAD_QUERY = "SELECT last_seq, last_notification FROM store_head WHERE id = 1"
"""What the safety net reads: it moves with every ledger entry and every notification."""

WATCH_S = 0.01
"""SQLite: how often a process looks at ``<file>.wake`` for other processes' commits while a reader waits."""

WAKE_FILE_MAX = 1 << 20
"""SQLite: ``<file>.wake`` is replaced by an empty one when it grows past this many bytes."""

DEFAULT_SAFETY_NET_S = 10.0


def notifications_channel(party_id: str) -> str:
    """The channel woken when a notification for ``party_id`` commits (its stream's)."""
    return f"notifications.{party_id}"


class Subscription:
    """One reader's interest in one channel, waited on in the asyncio loop it was made in."""

    def __init__(self, hub: WakeupHub, channel: str, loop: asyncio.AbstractEventLoop) -> None:
        self.channel = channel
        self._hub = hub
        self._loop = loop
        self._event = asyncio.Event()

    def _wake(self) -> bool:
        """From any thread. False when the reader's loop is gone (the subscription is then dropped)."""
        try:
            self._loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # loop closed
            return False
        return True

    async def wait(self, timeout: float | None = None) -> bool:
        """Until woken (True; the wake-up is consumed) or ``timeout`` seconds passed (False)."""
        if not self._event.is_set():
            try:
                async with asyncio.timeout(timeout):
                    await self._event.wait()
            except TimeoutError:
                return False
        self._event.clear()
        return True

    def close(self) -> None:
        self._hub._remove(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Wakeups(Protocol):
    """The reader side of the port (``Store.wakeups``)."""

    def subscribe(self, channel: str) -> Subscription:
        """Called in a running asyncio loop; the subscription wakes from the next commit on."""

    def close(self) -> None: ...


class WakeupHub:
    """The process's subscriptions; fired from any thread. Backends add how commits reach it, in one
    background thread started with the first subscription (``_watch``)."""

    def __init__(self, safety_net_s: float = DEFAULT_SAFETY_NET_S) -> None:
        self.safety_net_s = safety_net_s
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}
        self._stop = threading.Event()
        self._active = threading.Event()
        """Set while someone is subscribed: the watcher sleeps otherwise."""
        self._thread: threading.Thread | None = None

    def subscribe(self, channel: str) -> Subscription:
        sub = Subscription(self, channel, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(channel, set()).add(sub)
            self._active.set()
            start = self._thread is None and not self._stop.is_set()
            if start:
                self._thread = threading.Thread(target=self._watch_forever, name="wakeups", daemon=True)
        if start:
            assert self._thread is not None
            self._thread.start()
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.channel)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.channel]
                    if not self._subs:
                        self._active.clear()

    def subscribers(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subs.values())

    def fire(self, channels: Iterable[str]) -> None:
        """Wake the readers of these channels (in this process)."""
        with self._lock:
            targets = [s for c in set(channels) for s in self._subs.get(c, ())]
        self._wake(targets)

    def fire_all(self) -> None:
        with self._lock:
            targets = [s for subs in self._subs.values() for s in subs]
        self._wake(targets)

    def _wake(self, targets: list[Subscription]) -> None:
        gone = [s for s in targets if not s._wake()]
        for s in gone:
            self._remove(s)

    def _watch_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._watch()
            except Exception:  # a bug or a broken file: said, and the watcher starts again
                log.exception("wake-up watcher failed; starting it again in 1 s")
                self.fire_all()
                self._stop.wait(1.0)

    def _watch(self) -> None:
        """Backends: deliver other processes' commits until ``self._stop`` is set (here: in-process only)."""
        self._stop.wait()

    def _idle(self) -> bool:
        """For watchers: wait while nobody is subscribed; True when it is time to stop."""
        while not self._active.wait(0.25):
            if self._stop.is_set():
                return True
        return self._stop.is_set()

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)


class _SafetyNet:
    """Reads the store's head every ``period`` seconds; ``due`` says when it moved since the last look."""

    def __init__(self, period: float, read_head: Callable[[], Any]) -> None:
        self.period = period
        self._read_head = read_head
        self._last: Any = None
        self.next_at = time.monotonic() + period

    def check(self) -> bool:
        self.next_at = time.monotonic() + self.period
        head = self._read_head()
        moved = self._last is not None and head != self._last
        self._last = head
        return moved


class SQLiteWakeups(WakeupHub):
    """In-process after commit; other processes on the file through ``<file>.wake`` (see the module)."""

    def __init__(self, db_path: Path, safety_net_s: float = DEFAULT_SAFETY_NET_S) -> None:
        super().__init__(safety_net_s)
        self._db_path = db_path
        self.path = Path(f"{db_path}.wake")
        self._token = secrets.token_hex(8)

    def announce(self, channels: set[str]) -> None:
        """After a commit that woke ``channels``; the caller still holds the file's write lock, so appends
        and replacements of the wake file never interleave between processes."""
        self.fire(channels)
        data = "".join(f"{self._token} {c}\n" for c in sorted(channels)).encode()
        try:
            with contextlib.suppress(FileNotFoundError):
                if os.stat(self.path).st_size > WAKE_FILE_MAX:
                    fresh = self.path.with_name(self.path.name + f".{self._token}")
                    os.close(os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
                    os.replace(fresh, self.path)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError as exc:  # other processes' readers see it through the safety net
            log.warning("could not write the wake-up file %s: %s", self.path, exc)

    def _watch(self) -> None:
        conn = sqlite3.connect(self._db_path, isolation_level=None, check_same_thread=False, timeout=30.0)
        tracked = _Tracked(self.path)
        try:
            net = _SafetyNet(self.safety_net_s, lambda: conn.execute(HEAD_QUERY).fetchone())
            net.check()
            tracked.follow()
            self.fire_all()  # what committed between the first subscription and this look
            while not self._stop.wait(WATCH_S):
                if not self._active.is_set():
                    if self._idle():
                        return
                    net.check()  # the head now is the one to compare with
                    tracked.follow()
                    self.fire_all()  # as at the start
                    continue
                now_ino, size = self._stat()
                if now_ino != tracked.ino:
                    first = tracked.ino is None  # made by the first commit that woke something: read it all
                    tracked.follow(at_end=not first)
                    if not first:  # replaced: what was appended to the old file since the last look is unknown
                        self.fire_all()
                elif size < tracked.offset:  # cannot happen (files are only appended to or replaced): as replaced
                    tracked.offset = size
                    self.fire_all()
                if tracked.ino == now_ino and size > tracked.offset:
                    channels = tracked.read_lines(size, self._token)
                    if channels:
                        self.fire(channels)
                if time.monotonic() >= net.next_at:
                    try:
                        if net.check():
                            self.fire_all()
                    except sqlite3.Error as exc:
                        log.warning("wake-up safety net: %s", exc)
        finally:
            tracked.close()
            conn.close()

    def _stat(self) -> tuple[int | None, int]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None, 0
        return st.st_ino, st.st_size


class _Tracked:
    """The wake file a SQLite watcher follows, held open: while it is open its inode cannot be given to the
    file that replaces it, so "the inode changed" always means "replaced". (Compared by inode number
    alone, a file replaced twice between two looks can come back with the inode and the size last seen,
    and its lines are never read: a reader sleeps until the safety net.)"""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ino: int | None = None
        self.offset = 0
        self._file: Any = None

    def follow(self, *, at_end: bool = True) -> None:
        """Track the file now at the path, from its end or from its start (``at_end=False``)."""
        self.close()
        try:
            f = open(self.path, "rb")  # noqa: SIM115 (held until the next follow or close)
        except FileNotFoundError:
            self.ino, self.offset = None, 0
            return
        st = os.fstat(f.fileno())
        self._file, self.ino = f, st.st_ino
        self.offset = st.st_size if at_end else 0

    def read_lines(self, size: int, token: str) -> set[str]:
        """The channels of other writers' complete lines from ``offset`` up to ``size``; consumes them."""
        try:
            self._file.seek(self.offset)
            chunk = self._file.read(size - self.offset)
        except OSError:
            return set()
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        channels = set()
        for line in chunk[:end].decode(errors="replace").splitlines():
            writer, _, channel = line.partition(" ")
            if writer != token and channel:
                channels.add(channel)
        return channels

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class PostgresWakeups(WakeupHub):
    """One LISTEN connection per process (see the module)."""

    def __init__(self, url: str, safety_net_s: float = DEFAULT_SAFETY_NET_S) -> None:
        super().__init__(safety_net_s)
        self._url = url
        self._token = secrets.token_hex(8)

    def payloads(self, channels: set[str]) -> list[str]:
        """The NOTIFY payloads of a commit's channels: ``<this store's token> <channel>``; the writer wakes
        its own process's readers itself, right after the commit, and its listener skips them."""
        return [f"{self._token} {c}" for c in sorted(channels)]

    def _watch(self) -> None:
        import psycopg

        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._url, autocommit=True, connect_timeout=10, application_name=LISTENER_NAME
                ) as conn:
                    conn.execute(f"LISTEN {PG_CHANNEL}")
                    net = _SafetyNet(self.safety_net_s, lambda: conn.execute(HEAD_QUERY).fetchone())
                    net.check()
                    self.fire_all()  # whatever committed before this connection listened
                    backoff = 0.5
                    while not self._stop.is_set():
                        wait = max(0.0, min(0.25, net.next_at - time.monotonic()))
                        for n in conn.notifies(timeout=wait):
                            token, _, channel = n.payload.partition(" ")
                            if token != self._token:
                                self.fire((channel,))
                        if time.monotonic() >= net.next_at:
                            if not self._active.is_set():  # nobody to wake: no query
                                net.next_at = time.monotonic() + net.period
                            elif net.check():
                                self.fire_all()
            except psycopg.Error as exc:
                if self._stop.is_set():
                    return
                log.warning("wake-up listener lost its connection (%s); reconnecting in %.1f s", exc, backoff)
                self.fire_all()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
