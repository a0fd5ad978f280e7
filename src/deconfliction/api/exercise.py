"""/v1/clock and /v1/exercise: the service's "now", and the coordinator's jumps of an exercise clock.

``ExerciseHeader`` marks every HTTP answer of an exercise server (``Deconfliction-Exercise: 1``), errors,
streams and the web map's files included, so exercise data can never be taken for live data.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deconfliction import wire
from deconfliction.api.http import KeyDep, RuntimeDep, as_party, json_response
from deconfliction.domain.party import Party
from deconfliction.service import exercise
from deconfliction.service.signing import signed_receipt

router = APIRouter(tags=["exercise"])


class ClockOut(BaseModel):
    now: str = Field(description="The service's current time, RFC 3339 UTC: scenario time on an exercise server")
    exercise: bool = Field(description="True on an exercise server (docs/exercise.md)")
    speed: float = Field(description="Scenario seconds per real second (1 on a live server)")
    scenario_start: str | None = Field(None, description="Exercise only: the scenario time it started at")
    advanced_s: float | None = Field(None, description="Exercise only: scenario seconds added by jumps, in total")


class AdvanceOut(BaseModel):
    clock: ClockOut
    receipt: wire.Receipt = Field(description="The signed receipt of the exercise.advanced ledger entry")


@router.get(
    "/v1/clock",
    operation_id="getClock",
    summary="The service's now (scenario time on an exercise server)",
    response_model=ClockOut,
)
async def clock(rt: RuntimeDep) -> Response:
    """No key needed: the web map reads it to show the service's time, countdowns and the EXERCISE
    banner. Real time on a live server; on an exercise server the scenario time, with its speed."""
    return json_response(ClockOut.model_validate(exercise.clock_view(rt).record()))


@router.post(
    "/v1/exercise/advance",
    operation_id="advanceExerciseClock",
    summary="Move the exercise clock forward (coordinator, exercise server only)",
    response_model=AdvanceOut,
    responses={403: {"description": "not a coordinator"}, 409: {"description": "not_an_exercise: a live server"}},
)
async def advance(
    rt: RuntimeDep,
    key: KeyDep,
    body: Annotated[dict[str, Any], Body(examples=[{"seconds": 900}])],
) -> Response:
    """Deadlines, escalations, expiries and the tactical picture then run as if the time had passed
    (the next round, within a second). Each jump is a ledger entry `exercise.advanced`, readable by
    every party. A live server answers 409 `not_an_exercise`."""

    def work(party: Party) -> Response:
        seconds = exercise.parse_advance(body)
        view, receipt = exercise.advance(rt, party, seconds)
        return json_response(
            AdvanceOut(clock=ClockOut.model_validate(view.record()), receipt=signed_receipt(rt, receipt))
        )

    return await as_party(rt, key, work)


class ExerciseHeader:
    """Pure ASGI: ``Deconfliction-Exercise: 1`` on every answer while the app's runtime runs on a scenario
    clock (known only once the lifespan opened the database, so it is looked up per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app = scope.get("app")
        rt = getattr(getattr(app, "state", None), "runtime", None)
        if rt is None or exercise.scenario_clock(rt) is None:
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (exercise.HEADER.lower().encode(), b"1")]
            await send(message)

        await self.app(scope, receive, marked)
