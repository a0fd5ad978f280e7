"""Identifiers sort by creation: lists ordered by id keep the order things were made in."""

from __future__ import annotations

import threading
import time

import pytest

from deconfliction.service.runtime import Ids


def test_ids_made_in_one_millisecond_grow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)  # the clock stands still
    ids = Ids()
    made = [ids.new_id("op") for _ in range(2000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert all(len(i) == len("op_") + 26 for i in made)


def test_ids_grow_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_800_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    ids = Ids()
    before = ids.new_id("un")
    now[0] -= 5.0
    after = ids.new_id("un")
    now[0] += 10.0
    later = ids.new_id("un")
    assert before < after < later
    assert later[3:13] != before[3:13]  # a new millisecond: the clock's time again, not a carried one


def test_ids_from_many_threads_are_distinct_and_each_thread_sees_them_grow() -> None:
    ids = Ids()
    per_thread: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        for _ in range(2000):
            out.append(ids.new_id("nt"))

    threads = [threading.Thread(target=make, args=(out,)) for out in per_thread]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(out == sorted(out) for out in per_thread)
    assert len({i for out in per_thread for i in out}) == 8000
