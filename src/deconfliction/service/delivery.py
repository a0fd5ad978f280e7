"""Use cases of delivery: a party registers webhooks and e-mail addresses; every notification it gets is
queued for each of them in the same transaction; ``run_deliveries`` sends what is due, retries with
backoff for at least 24 hours, and leaves dead letters the party can read and replay.

Sending happens outside any transaction: a round first claims the due deliveries (a lease, so another
process does not send them at the same time), then sends, then records each outcome. A crash between
sending and recording means one more attempt after the lease: receivers get at-least-once delivery and
deduplicate by ``webhook-id`` (the delivery) or the notification id (in the body and in
``Deconfliction-Notification``).
"""

from __future__ import annotations

import secrets
import smtplib
import time
from dataclasses import dataclass, replace
from email.message import EmailMessage
from typing import Protocol

import httpx
import orjson

from deconfliction.domain.delivery import Delivery, DeliveryState, Endpoint, EndpointKind, new_secret, signature
from deconfliction.domain.notification import Notification
from deconfliction.domain.party import Party, Role
from deconfliction.errors import Forbidden, InvalidInput, NotFound, StateConflict
from deconfliction.service.egress import webhook_target
from deconfliction.service.events import after_commit, emit
from deconfliction.service.runtime import Runtime
from deconfliction.service.sealed import seal, unseal
from deconfliction.store.ports import Transaction

MAX_ENDPOINTS = 10


class Sender(Protocol):
    """How a delivery leaves the service; raises on failure (the message is the recorded error)."""

    def webhook(self, url: str, headers: dict[str, str], body: bytes, server_name: str | None = None) -> None:
        """POST ``body`` to ``url`` (an address the service checked); ``server_name``: the TLS server
        name to verify the certificate against when ``url`` names an address, not the host."""

    def email(self, to: str, subject: str, body: str) -> None: ...


@dataclass(frozen=True)
class NetworkSender:
    """httpx for webhooks (any 2xx is success), SMTP for e-mail."""

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "deconfliction@localhost"
    timeout_s: float = 10.0

    def webhook(self, url: str, headers: dict[str, str], body: bytes, server_name: str | None = None) -> None:
        extensions = {"sni_hostname": server_name} if server_name else None
        with httpx.Client(timeout=self.timeout_s) as client:
            r = client.post(url, content=body, headers=headers, extensions=extensions)
        if not 200 <= r.status_code < 300:
            raise RuntimeError(f"HTTP {r.status_code}")

    def email(self, to: str, subject: str, body: str) -> None:
        if not self.smtp_host:
            raise RuntimeError("no SMTP server configured (DECONFLICTION_SMTP_HOST)")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.smtp_from, to, subject
        msg.set_content(body)
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_s) as smtp:
            smtp.send_message(msg)


def register_endpoint(rt: Runtime, actor: Party, kind: str, address: str) -> tuple[Endpoint, tuple[int, str]]:
    """A webhook (https or http URL; its secret is returned once) or an e-mail address."""
    if actor.role is Role.OBSERVER:
        raise Forbidden("an observer receives no notifications")
    try:
        k = EndpointKind(kind)
    except ValueError:
        raise InvalidInput.one("kind", "invalid_value", "kind is 'webhook' or 'email'") from None
    address = address.strip()
    if k is EndpointKind.WEBHOOK:  # public addresses and the networks the deployment allows (service/egress.py)
        webhook_target(address, rt.webhook_allow, field="address")
    elif "@" not in address or len(address) > 320 or any(c.isspace() for c in address):
        raise InvalidInput.one("address", "invalid_email", "an e-mail address such as ops@example.org")
    with rt.store.write() as tx:
        if len(tx.endpoints.for_party(actor.id)) >= MAX_ENDPOINTS:
            raise InvalidInput.one("address", "too_many", f"at most {MAX_ENDPOINTS} active endpoints")
        endpoint = Endpoint(
            rt.ids.new_id("ep"),
            actor.id,
            k,
            address,
            new_secret(secrets.token_bytes(32)) if k is EndpointKind.WEBHOOK else "",
            rt.clock(),
        )
        # stored sealed when a key file is configured (docs/security.md); returned in clear, once
        tx.endpoints.add(replace(endpoint, secret=seal(rt.secrets_key, endpoint.secret)))
        tx.events.append(
            at=endpoint.created_at,
            actor_id=actor.id,
            type="party.endpoint_added",
            subject_id=endpoint.id,
            payload={"endpoint": endpoint.id, "kind": k.value, "address": address},
            audience=[actor.id],
        )
        return endpoint, tx.events.head()


def list_endpoints(rt: Runtime, actor: Party) -> list[Endpoint]:
    with rt.store.read() as tx:
        return tx.endpoints.for_party(actor.id)


def remove_endpoint(rt: Runtime, actor: Party, endpoint_id: str) -> tuple[int, str]:
    with rt.store.write() as tx:
        e = tx.endpoints.get(endpoint_id)
        if e is None or e.party_id != actor.id or not e.active:
            raise NotFound(f"no endpoint {endpoint_id}", id=endpoint_id)
        tx.endpoints.deactivate(endpoint_id)
        tx.events.append(
            at=rt.clock(),
            actor_id=actor.id,
            type="party.endpoint_removed",
            subject_id=endpoint_id,
            payload={"endpoint": endpoint_id},
            audience=[actor.id],
        )
        return tx.events.head()


def enqueue(tx: Transaction, rt: Runtime, n: Notification) -> None:
    """Inside the write that created ``n``: one delivery per active endpoint of its party."""
    endpoints = tx.endpoints.for_party(n.party_id)
    if not endpoints:
        return
    body = orjson.dumps(n.record())
    now = rt.clock()
    for e in endpoints:
        tx.deliveries.add(Delivery(rt.ids.new_id("dl"), e.id, n.party_id, n.id, body, now, now))


def _send(sender: Sender, e: Endpoint, d: Delivery, rt: Runtime) -> None:
    if e.kind is EndpointKind.WEBHOOK:
        # checked again at every delivery (a name's address can change), and sent to the address checked
        target = webhook_target(e.address, rt.webhook_allow)
        ts = int(time.time())
        headers = {  # Standard Webhooks (standardwebhooks.com): receivers verify with its libraries
            "Host": target.host,
            "Content-Type": "application/json",
            "webhook-id": d.id,
            "webhook-timestamp": str(ts),
            "webhook-signature": signature(unseal(rt.secrets_key, e.secret), d.id, ts, d.body),
            "Deconfliction-Notification": d.notification_id,
        }
        sender.webhook(target.url, headers, d.body, target.server_name)
        return
    note = orjson.loads(d.body)
    subject = f"[deconfliction] {note['kind']} {note['subject']}"
    deadline = (
        f"\nAcknowledge before {note['deadline']} (POST /v1/notifications/{note['id']}/ack).\n"
        if note.get("deadline")
        else "\nFor information: nothing to acknowledge in time.\n"
    )
    sender.email(e.address, subject, orjson.dumps(note, option=orjson.OPT_INDENT_2).decode() + deadline)


def run_deliveries(rt: Runtime, sender: Sender, limit: int = 50) -> tuple[int, int]:
    """One round: claim what is due, send it, record the outcomes. Returns (delivered, failed)."""
    with rt.store.read() as tx:  # most rounds have nothing to do: they leave the serialised write alone
        if not tx.deliveries.due(rt.clock(), 1):
            return 0, 0
    with rt.store.write() as tx:
        now = rt.clock()
        due = tx.deliveries.due(now, limit)
        endpoints: dict[str, Endpoint | None] = {}
        for d in due:
            tx.deliveries.save(d.claimed(now))
            endpoints[d.endpoint_id] = endpoints.get(d.endpoint_id) or tx.endpoints.get(d.endpoint_id)
    outcomes = []
    for d in due:
        e = endpoints[d.endpoint_id]
        error = None
        if e is None or not e.active:
            error = "endpoint removed"
        else:
            try:
                _send(sender, e, d, rt)
            except Exception as exc:  # any failure of the receiver is a failed attempt, recorded
                error = f"{type(exc).__name__}: {exc}"
        outcomes.append((d, error))
    if not outcomes:  # claimed by another process between the look and the write
        return 0, 0
    with after_commit(), rt.store.write() as tx:
        now = rt.clock()
        for d, error in outcomes:
            outcome = d.succeeded(now) if error is None else d.failed(now, error)
            tx.deliveries.save(outcome)
            if error is not None:
                e = endpoints[d.endpoint_id]
                gave_up = outcome.state is DeliveryState.DEAD
                emit(
                    rt,
                    "delivery.failed",
                    f"delivery {d.id} of notification {d.notification_id} to {d.party_id} failed "
                    f"(attempt {outcome.attempts}{', given up: a dead letter' if gave_up else ''}): {error}",
                    delivery=d.id,
                    notification=d.notification_id,
                    party=d.party_id,
                    channel=e.kind.value if e is not None else "removed",
                    endpoint=d.endpoint_id,
                    attempt=outcome.attempts,
                    dead=gave_up,
                    error=error,
                )
    delivered = sum(1 for _, error in outcomes if error is None)
    return delivered, len(outcomes) - delivered


def list_deliveries(
    rt: Runtime, actor: Party, *, state: DeliveryState | None = None, after: str | None = None, limit: int = 100
) -> list[Delivery]:
    with rt.store.read() as tx:
        return tx.deliveries.list(party_id=actor.id, state=state, after=after, limit=limit)


def replay_dead(rt: Runtime, actor: Party, delivery_id: str) -> Delivery:
    """Send a dead letter again (fresh 26 hours of retries)."""
    with rt.store.write() as tx:
        d = tx.deliveries.get(delivery_id)
        if d is None or d.party_id != actor.id:
            raise NotFound(f"no delivery {delivery_id}", id=delivery_id)
        if d.state is not DeliveryState.DEAD:
            raise StateConflict(f"delivery {delivery_id} is {d.state.value}, not dead", state=d.state.value)
        again = d.replayed(rt.clock())
        tx.deliveries.save(again)
        return again
