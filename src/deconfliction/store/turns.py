"""Group commit's turn-taking, the same on both backends (store/sqlite.py, store/postgres.py).

A process's writers take turns on its one writing connection. The first opens a transaction (a group);
when it finishes while others of the process are waiting, the transaction stays open and the turn passes
to the next (``hand_over``), up to ``MAX_GROUP`` writers; the last ends the group (commits, or rolls back
if the shared transaction broke) and every member returns only after that (``Group.done``). What a
member does inside the transaction (its savepoint, its own rollback) is the backend's.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

MAX_GROUP = 64
"""Writes committed together at most: bounds the wait of the first member of a group."""


class Group:
    """One open transaction shared by consecutive writers."""

    def __init__(self) -> None:
        self.size = 0
        self.woken: set[str] = set()
        """The wake-up channels of the members that succeeded: announced once the group commits."""
        self.done = threading.Event()
        self.error: BaseException | None = None
        """What broke the shared transaction (or its commit): every member fails with it."""


G = TypeVar("G", bound=Group)


class Turns(Generic[G]):
    """Whose turn it is to write, and the group open on the writing connection."""

    def __init__(self, max_group: int = MAX_GROUP) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._max = max_group
        self.waiting = 0
        """Writers waiting for their turn."""
        self.group: G | None = None
        """The open group: set by the writer that opened it, cleared by ``end``."""

    def take(self) -> G | None:
        """Wait for this writer's turn; the group it joins, or None: it opens one (and sets ``group``)."""
        with self._cond:
            self.waiting += 1
            while self._busy:
                self._cond.wait()
            self.waiting -= 1
            self._busy = True
            return self.group

    def hand_over(self, group: G) -> bool:
        """After a member's work: pass the open transaction to a waiting writer (True: then wait for
        ``group.done``), or not (False: this member ends the group)."""
        group.size += 1
        with self._cond:
            if group.error is None and self.waiting > 0 and group.size < self._max:
                self._busy = False
                self._cond.notify()
                return True
        return False

    def end(self, group: G | None) -> None:
        """The group ended (``group``), or none could be opened (None): its members return, and the next
        writer opens a new one."""
        self.group = None
        if group is not None:
            group.done.set()
        with self._cond:
            self._busy = False
            self._cond.notify()
