"""/v1/threads, /v1/templates, /v1/preferences: the hotline between parties."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.http import KeyDep, Limit, RuntimeDep, as_party, json_response, paged
from deconfliction.api.schemas import MessageIn, PreferencesIn, ThreadIn
from deconfliction.domain.hotline import LANGUAGES, PARAM_KINDS, TEMPLATES, parse_message, template_fields
from deconfliction.domain.party import Party
from deconfliction.service import hotline
from deconfliction.service.signing import signed_receipt

router = APIRouter(tags=["hotline"])


@router.post(
    "/v1/threads",
    operation_id="createThread",
    response_model=wire.ThreadWrite,
    status_code=201,
    summary="Start a hotline thread with other parties",
)
async def start(body: ThreadIn, rt: RuntimeDep, key: KeyDep) -> Response:
    content = parse_message(body.message)

    def work(party: Party) -> Response:
        thread, message, receipt = hotline.start_thread(rt, party, body.participants, body.subject, content)
        return json_response(
            wire.ThreadWrite(thread=thread.id, message=message.id, receipt=signed_receipt(rt, receipt)),
            201,
            {"Location": f"/v1/threads/{thread.id}"},
        )

    return await as_party(rt, key, work)


@router.get(
    "/v1/threads",
    operation_id="listThreads",
    response_model=wire.ThreadSummaryPage,
    summary="Your hotline threads (the coordinator and auditors: all)",
)
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    cursor: str | None = None,
    limit: Limit = None,
) -> Response:
    def work(party: Party) -> Response:
        return paged(
            rt,
            cursor,
            limit,
            lambda after, n: hotline.list_threads(rt, party, after=after, limit=n),
            lambda t: t,
            lambda t: t["id"],
            wire.ThreadSummaryPage,
        )

    return await as_party(rt, key, work)


@router.get(
    "/v1/threads/{thread_id}",
    operation_id="getThread",
    response_model=wire.Thread,
    summary="A thread with its messages, in your language",
)
async def get(thread_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt, key, lambda party: json_response(wire.Thread.model_validate(hotline.get_thread(rt, party, thread_id)))
    )


@router.post(
    "/v1/threads/{thread_id}/messages",
    operation_id="postMessage",
    response_model=wire.MessageWrite,
    status_code=201,
    summary="Post a message in a thread",
)
async def post(thread_id: str, body: MessageIn, rt: RuntimeDep, key: KeyDep) -> Response:
    content = parse_message(body.model_dump(exclude_none=True), where="")

    def work(party: Party) -> Response:
        message, receipt = hotline.post_message(rt, party, thread_id, content)
        return json_response(wire.MessageWrite(message=message.id, receipt=signed_receipt(rt, receipt)), 201)

    return await as_party(rt, key, work)


@router.get(
    "/v1/templates",
    operation_id="listTemplates",
    response_model=wire.Templates,
    summary="The message templates, with their parameters and translations",
)
async def templates(rt: RuntimeDep, key: KeyDep) -> Response:
    body = wire.Templates(
        languages=list(LANGUAGES),
        templates={
            k: {
                "params": sorted(template_fields(k)),
                "values": {f: PARAM_KINDS[f] for f in sorted(template_fields(k)) if f in PARAM_KINDS},
                "text": v,
            }
            for k, v in TEMPLATES.items()
        },
    )
    return await as_party(rt, key, lambda _party: json_response(body))


@router.get(
    "/v1/preferences",
    operation_id="getPreferences",
    response_model=wire.Preferences,
    summary="Your preferences (the language messages are shown in)",
)
async def preferences(rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt, key, lambda party: json_response(wire.Preferences(language=hotline.get_language(rt, party)))
    )


@router.put(
    "/v1/preferences",
    operation_id="setPreferences",
    response_model=wire.Preferences,
    summary="Set your language: en, ru or ar",
)
async def set_preferences(body: PreferencesIn, rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt, key, lambda party: json_response(wire.Preferences(language=hotline.set_language(rt, party, body.language)))
    )
