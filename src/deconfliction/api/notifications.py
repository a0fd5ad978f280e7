"""/v1/notifications, /v1/stream, /v1/contacts: what a party must know, live, and who answers for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Header, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import SEQ_MAX, KeyDep, Limit, RuntimeDep, as_party, json_response, paged
from deconfliction.domain.notification import NotificationState
from deconfliction.domain.party import Party
from deconfliction.errors import InvalidInput
from deconfliction.service import notifications as notes
from deconfliction.service.signing import signed_receipt
from deconfliction.store.wakeup import notifications_channel

router = APIRouter(tags=["notifications"])


HEARTBEAT_S = 15.0
STREAM_PAGE = 500
"""Notifications read at once by a stream."""


@router.get(
    "/v1/notifications",
    operation_id="listNotifications",
    response_model=wire.NotificationPage,
    summary="Your notifications, newest last",
)
async def list_(
    rt: RuntimeDep,
    key: KeyDep,
    state: NotificationState | None = None,
    cursor: str | None = None,
    limit: Limit = None,
) -> Response:
    def work(party: Party) -> Response:
        return paged(
            rt,
            cursor,
            limit,
            lambda after, n: notes.list_notifications(rt, party, state=state, after=after, limit=n),
            notes.notification_view,
            lambda n: n.id,
            wire.NotificationPage,
        )

    return await as_party(rt, key, work)


@router.get(
    "/v1/notifications/overdue",
    operation_id="listOverdueNotifications",
    response_model=wire.OverdueNotificationPage,
    summary="What is late: yours (the coordinator: everyone's)",
)
async def overdue(
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
            lambda after, n: notes.overdue(rt, party, after=after, limit=n),
            notes.overdue_view,
            lambda n: n.id,
            wire.OverdueNotificationPage,
        )

    return await as_party(rt, key, work)


@router.get(
    "/v1/notifications/{notification_id}",
    operation_id="getNotification",
    response_model=wire.Notification,
    summary="One notification",
)
async def get(notification_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt,
        key,
        lambda party: json_response(notes.notification_view(notes.get_notification(rt, party, notification_id))),
    )


@router.post(
    "/v1/notifications/{notification_id}/ack",
    operation_id="acknowledgeNotification",
    response_model=wire.NotificationWrite,
    responses=problems(409),
    summary="Acknowledge: received (not approved)",
)
async def ack(notification_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        n, receipt = notes.acknowledge_notification(rt, party, notification_id)
        return json_response(
            wire.NotificationWrite(notification=notes.notification_view(n), receipt=signed_receipt(rt, receipt))
        )

    return await as_party(rt, key, work)


@router.get(
    "/v1/contacts",
    operation_id="getContacts",
    response_model=wire.Contacts,
    summary="Your on-call ladder, primary first",
)
async def contacts(rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt,
        key,
        lambda party: json_response(
            wire.Contacts(contacts=[wire.Contact(**c.record()) for c in notes.get_contacts(rt, party)])
        ),
    )


@router.put(
    "/v1/contacts",
    operation_id="replaceContacts",
    response_model=wire.ContactsWrite,
    summary="Replace your on-call ladder",
)
async def put_contacts(
    rt: RuntimeDep,
    key: KeyDep,
    body: Annotated[
        dict[str, Any], Body(examples=[{"contacts": [{"name": "Duty officer", "channels": {"phone": "+1 555 0100"}}]}])
    ],
) -> Response:
    extra = [k for k in body if k != "contacts"]
    if extra:
        raise InvalidInput.one(extra[0], "unknown_field", f"unknown member {extra[0]!r}")

    def work(party: Party) -> Response:
        ladder, receipt = notes.set_contacts(rt, party, body.get("contacts"))
        return json_response(
            wire.ContactsWrite(
                contacts=[wire.Contact(**c.record()) for c in ladder], receipt=signed_receipt(rt, receipt)
            )
        )

    return await as_party(rt, key, work)


@router.get(
    "/v1/stream",
    operation_id="streamEvents",
    summary="Your notifications as Server-Sent Events, resumable with Last-Event-ID",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    rt: RuntimeDep,
    key: KeyDep,
    last_event_id: Annotated[
        int | None, Header(alias="Last-Event-ID", ge=0, le=SEQ_MAX, description="The id of the last event received")
    ] = None,
    after: Annotated[int | None, Query(ge=0, le=SEQ_MAX, description="Start after this notification number")] = None,
    limit: Annotated[int | None, Query(ge=1, description="Close the stream after this many events")] = None,
    idle_s: Annotated[
        float | None, Query(gt=0, le=3600, description="Close the stream after this many seconds without an event")
    ] = None,
) -> Response:
    """Each event: `id` = the notification's number, `event: notification`, `data` = the notification.
    After a disconnect, reconnect with `Last-Event-ID` (browsers do it by themselves): the stream resumes
    right after it, with no gap and no repeat. A comment line every 15 s keeps proxies from closing it.
    A notification is sent as soon as the write that made it commits, whichever server process took it."""
    start = after or 0 if last_event_id is None else last_event_id
    party = await as_party(rt, key, lambda p: p)

    async def events() -> AsyncIterator[bytes]:
        # woken by the commits that add this party's notifications (store/wakeup.py); subscribed before
        # the first read, so nothing committed after that read is missed
        sub = rt.store.wakeups.subscribe(notifications_channel(party.id)) if rt.stream_wakeups else None
        loop = asyncio.get_running_loop()
        try:
            seen, sent = start, 0
            yield b": connected\n\n"
            last_out = last_event = loop.time()
            read = True
            while limit is None or sent < limit:
                if read:
                    batch = await run_in_threadpool(notes.stream_after, rt, party, seen, STREAM_PAGE)
                    for n in batch:
                        yield f"id: {n.seq}\nevent: notification\ndata: ".encode() + orjson.dumps(n.record()) + b"\n\n"
                        seen, sent = n.seq, sent + 1
                        if limit is not None and sent >= limit:
                            return
                    if batch:
                        last_out = last_event = loop.time()
                    if len(batch) == STREAM_PAGE:
                        continue  # more may be waiting; otherwise a commit since that read has woken us
                now = loop.time()
                if idle_s is not None and now - last_event >= idle_s:
                    return
                if now - last_out >= HEARTBEAT_S:
                    yield b": heartbeat\n\n"
                    last_out = now
                timeout = HEARTBEAT_S - (now - last_out)
                if idle_s is not None:
                    timeout = min(timeout, idle_s - (now - last_event))
                if sub is not None:
                    read = await sub.wait(timeout)
                else:  # polling (DECONFLICTION_STREAM_WAKEUPS=false)
                    await asyncio.sleep(min(timeout, rt.stream_poll_s))
                    read = True
        finally:
            if sub is not None:
                sub.close()

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
