"""/v1/requests: ask another party (to enter its zone, cross a line, pass its site); it approves, denies
or comments. Separate from acknowledging: "received" is never "approved"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, Limit, RuntimeDep, as_party, json_response, paged
from deconfliction.api.schemas import AnswerIn, RequestIn
from deconfliction.domain.party import Party
from deconfliction.domain.request import RequestState
from deconfliction.service import requests
from deconfliction.service.signing import signed_receipt

router = APIRouter(prefix="/v1/requests", tags=["requests"])


@router.post(
    "",
    operation_id="createRequest",
    response_model=wire.RequestWrite,
    status_code=201,
    summary="Ask another party: to enter its zone, cross a line, pass its site",
)
async def make(body: RequestIn, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        r, receipt = requests.make_request(rt, party, body.model_dump())
        return json_response(
            wire.RequestWrite(request=requests.request_view(r), receipt=signed_receipt(rt, receipt)),
            201,
            {"Location": f"/v1/requests/{r.id}"},
        )

    return await as_party(rt, key, work)


@router.get(
    "",
    operation_id="listRequests",
    response_model=wire.RequestPage,
    summary="Requests you made or were asked (the coordinator and auditors: all)",
)
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    state: RequestState | None = None,
    cursor: str | None = None,
    limit: Limit = None,
) -> Response:
    def work(party: Party) -> Response:
        return paged(
            rt,
            cursor,
            limit,
            lambda after, n: requests.list_requests(rt, party, state=state, after=after, limit=n),
            requests.request_view,
            lambda r: r.id,
            wire.RequestPage,
        )

    return await as_party(rt, key, work)


@router.get(
    "/{request_id}", operation_id="getRequest", response_model=wire.Request, summary="One request and its state"
)
async def get(request_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt, key, lambda party: json_response(requests.request_view(requests.get_request(rt, party, request_id)))
    )


def _action(action: str, summary: str) -> Callable[..., Any]:
    async def handler(
        request_id: str, rt: RuntimeDep, key: KeyDep, body: Annotated[AnswerIn | None, Body()] = None
    ) -> Response:
        def work(party: Party) -> Response:
            r, receipt = requests.act(rt, party, request_id, action, body.text if body else None)
            return json_response(
                wire.RequestWrite(request=requests.request_view(r), receipt=signed_receipt(rt, receipt))
            )

        return await as_party(rt, key, work)

    handler.__doc__ = summary
    return handler


for _verb, _summary in (
    ("approve", "The party asked approves (optional text)"),
    ("deny", "The party asked denies (optional text)"),
    ("comment", "Either side comments (text required); the request stays open"),
    ("withdraw", "The requester withdraws it"),
):
    router.add_api_route(
        f"/{{request_id}}/{_verb}",
        _action(_verb, _summary),
        methods=["POST"],
        summary=_summary,
        operation_id=f"{_verb}Request",
        response_model=wire.RequestWrite,
        responses=problems(409),
        name=f"request_{_verb}",
    )
