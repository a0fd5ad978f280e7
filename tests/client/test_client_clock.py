"""The Python client's clock: a live server's is real time and refuses a jump; an exercise server's jump
is taken by the coordinator and kept as a receipt (the real exercise server: tests/api/test_exercise_server.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deconfliction.client import Client, Forbidden, StateConflict
from tests.client.test_client import Served, served  # noqa: F401 (the fixture)


def test_a_live_server_s_clock_is_real_time_and_refuses_a_jump(served: Served) -> None:  # noqa: F811
    with Client(served.url, served.keys["cell"], retries=0) as cell:
        clock = cell.clock()
        assert not clock.exercise and clock.speed == 1.0 and clock.scenario_start is None
        assert abs(clock.now - served.rt.clock()) < timedelta(seconds=5)
        with pytest.raises(StateConflict) as refused:
            cell.advance_exercise(60)
        assert refused.value.code == "not_an_exercise"
    with Client(served.url, served.keys["alpha"], retries=0) as alpha, pytest.raises(Forbidden):
        alpha.advance_exercise(60)
