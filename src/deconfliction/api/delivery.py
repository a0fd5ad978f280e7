"""/v1/endpoints and /v1/deliveries: where a party's notifications are also sent (webhooks, e-mail),
and what could not be delivered (dead letters, replayable)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.contract import problems
from deconfliction.api.http import KeyDep, Limit, RuntimeDep, as_party, json_response, paged
from deconfliction.api.schemas import EndpointIn
from deconfliction.domain.delivery import Delivery, DeliveryState, Endpoint
from deconfliction.domain.party import Party
from deconfliction.domain.volume import format_time
from deconfliction.service import delivery
from deconfliction.service.signing import signed_receipt

router = APIRouter(tags=["delivery"])


def endpoint_view(e: Endpoint, *, with_secret: bool = False) -> wire.Endpoint:
    out = wire.Endpoint(
        id=e.id, kind=e.kind.value, address=e.address, created_at=format_time(e.created_at), active=e.active
    )
    if with_secret and e.secret:
        out.secret = e.secret
    return out


def delivery_view(d: Delivery) -> wire.Delivery:
    return wire.Delivery(
        id=d.id,
        endpoint=d.endpoint_id,
        notification=d.notification_id,
        state=d.state.value,
        attempts=d.attempts,
        created_at=format_time(d.created_at),
        next_attempt_at=format_time(d.next_attempt_at),
        last_error=d.last_error,
        delivered_at=None if d.delivered_at is None else format_time(d.delivered_at),
    )


@router.post(
    "/v1/endpoints",
    operation_id="createEndpoint",
    response_model=wire.EndpointWrite,
    status_code=201,
    summary="Also send your notifications to a webhook or e-mail",
)
async def add(body: EndpointIn, rt: RuntimeDep, key: KeyDep) -> Response:
    """A webhook's `secret` is shown once, here: keep it to check each request's signature."""

    def work(party: Party) -> Response:
        e, receipt = delivery.register_endpoint(rt, party, body.kind, body.address)
        return json_response(
            wire.EndpointWrite(endpoint=endpoint_view(e, with_secret=True), receipt=signed_receipt(rt, receipt)), 201
        )

    return await as_party(rt, key, work)


@router.get(
    "/v1/endpoints",
    operation_id="listEndpoints",
    response_model=wire.EndpointList,
    summary="Your active endpoints",
)
async def list_endpoints(rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt,
        key,
        lambda party: json_response(
            wire.EndpointList(items=[endpoint_view(e) for e in delivery.list_endpoints(rt, party)])
        ),
    )


@router.delete(
    "/v1/endpoints/{endpoint_id}",
    operation_id="deleteEndpoint",
    response_model=wire.EndpointRemoved,
    summary="Stop sending to an endpoint",
)
async def remove(endpoint_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    def work(party: Party) -> Response:
        receipt = delivery.remove_endpoint(rt, party, endpoint_id)
        return json_response(wire.EndpointRemoved(removed=endpoint_id, receipt=signed_receipt(rt, receipt)))

    return await as_party(rt, key, work)


@router.get(
    "/v1/deliveries",
    operation_id="listDeliveries",
    response_model=wire.DeliveryPage,
    summary="Your deliveries; state=dead lists the dead letters",
)
async def list_deliveries(
    rt: RuntimeDep,
    key: KeyDep,
    state: DeliveryState | None = None,
    cursor: str | None = None,
    limit: Limit = None,
) -> Response:
    def work(party: Party) -> Response:
        return paged(
            rt,
            cursor,
            limit,
            lambda after, n: delivery.list_deliveries(rt, party, state=state, after=after, limit=n),
            delivery_view,
            lambda d: d.id,
            wire.DeliveryPage,
        )

    return await as_party(rt, key, work)


@router.post(
    "/v1/deliveries/{delivery_id}/replay",
    operation_id="replayDelivery",
    response_model=wire.Delivery,
    responses=problems(409),
    summary="Send a dead letter again",
)
async def replay(delivery_id: str, rt: RuntimeDep, key: KeyDep) -> Response:
    return await as_party(
        rt, key, lambda party: json_response(delivery_view(delivery.replay_dead(rt, party, delivery_id)))
    )
