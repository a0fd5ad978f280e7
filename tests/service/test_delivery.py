"""Delivery beyond the stream: a real HTTP receiver gets signed webhooks; one that is down for a while gets
every delivery once it is back; one down for more than a day leaves dead letters that replay; a real SMTP
server receives the e-mails."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from deconfliction.domain.delivery import DeliveryState, signature_valid
from deconfliction.domain.party import Party
from deconfliction.service import delivery
from deconfliction.service import operations as ops
from deconfliction.service.delivery import NetworkSender
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Store
from tests.conftest import FakeClock
from tests.service.test_operations import draft


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """A real webhook receiver on a port of its own, started and stopped at will."""

    def __init__(self, port: int, secret: str = "") -> None:
        self.port, self.secret = port, secret
        self.got: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:  # as a receiver does, with the Standard Webhooks project's own library
                    Webhook(outer.secret).verify(body, dict(self.headers))
                    ok = True
                except WebhookVerificationError:
                    ok = False
                ts, message_id = int(self.headers["webhook-timestamp"]), self.headers["webhook-id"]
                if not ok or not signature_valid(outer.secret, message_id, ts, body, self.headers["webhook-signature"]):
                    outer.bad_signatures += 1
                    self.send_response(401)
                else:
                    outer.got.append(orjson.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


LOOPBACK = (ip_network("127.0.0.0/8"),)


@pytest.fixture
def rt(store: Store, clock: FakeClock) -> Runtime:
    """The receivers here listen on loopback, which a deployment must allow (docs/security.md)."""
    return Runtime(store, clock=clock, webhook_allow=LOOPBACK)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(free_port())
    yield r
    r.stop()


def conflict(rt: Runtime, parties: dict[str, tuple[Party, str]], lon: float = 40.0) -> None:
    ops.submit_operation(rt, parties["alpha"][0], draft(lon, 35))
    ops.submit_operation(rt, parties["bravo"][0], draft(lon + 0.05, 35.05))


def test_webhooks_are_signed_and_delivered_once(
    rt: Runtime, parties: dict[str, tuple[Party, str]], receiver: Receiver
) -> None:
    endpoint, _ = delivery.register_endpoint(
        rt, parties["alpha"][0], "webhook", f"http://127.0.0.1:{receiver.port}/hook"
    )
    receiver.secret = endpoint.secret
    receiver.start()
    conflict(rt, parties)
    assert delivery.run_deliveries(rt, NetworkSender()) == (1, 0)
    assert delivery.run_deliveries(rt, NetworkSender()) == (0, 0)  # once
    (got,) = receiver.got
    assert got["party"] == parties["alpha"][0].id and got["kind"] == "conflict.opened"
    assert receiver.bad_signatures == 0
    (d,) = delivery.list_deliveries(rt, parties["alpha"][0])
    assert d.state is DeliveryState.DELIVERED and d.attempts == 1


def test_a_receiver_down_for_a_while_gets_every_delivery_once_it_is_back(
    rt: Runtime, parties: dict[str, tuple[Party, str]], receiver: Receiver, clock: FakeClock
) -> None:
    endpoint, _ = delivery.register_endpoint(rt, parties["alpha"][0], "webhook", f"http://127.0.0.1:{receiver.port}/")
    receiver.secret = endpoint.secret
    for lon in (40.0, 41.0, 42.0):
        conflict(rt, parties, lon)
    waits = []
    for _ in range(6):  # down: every attempt fails, each retry waits twice as long (5, 10, 20, ... s)
        assert delivery.run_deliveries(rt, NetworkSender(timeout_s=2)) == (0, 3)
        (d, *_) = delivery.list_deliveries(rt, parties["alpha"][0])
        waits.append((d.next_attempt_at - clock.now).total_seconds())
        assert delivery.run_deliveries(rt, NetworkSender()) == (0, 0)  # not due yet
        clock.advance(seconds=waits[-1])
    assert waits == [5, 10, 20, 40, 80, 160]
    receiver.start()
    assert delivery.run_deliveries(rt, NetworkSender()) == (3, 0)
    assert sorted(g["subject"] for g in receiver.got) == sorted(
        n["subject"] for n in (orjson.loads(d.body) for d in delivery.list_deliveries(rt, parties["alpha"][0]))
    )
    assert len({g["id"] for g in receiver.got}) == 3


def test_after_a_day_of_failures_a_dead_letter_that_replays(
    rt: Runtime, parties: dict[str, tuple[Party, str]], receiver: Receiver, clock: FakeClock
) -> None:
    endpoint, _ = delivery.register_endpoint(rt, parties["alpha"][0], "webhook", f"http://127.0.0.1:{receiver.port}/")
    receiver.secret = endpoint.secret
    conflict(rt, parties)
    start = clock.now
    while clock.now - start < timedelta(hours=27):
        delivery.run_deliveries(rt, NetworkSender(timeout_s=2))
        clock.advance(hours=1)
    (dead,) = delivery.list_deliveries(rt, parties["alpha"][0], state=DeliveryState.DEAD)
    assert dead.attempts >= 24 and dead.last_error  # tried at least hourly for more than a day
    assert delivery.list_deliveries(rt, parties["bravo"][0], state=DeliveryState.DEAD) == []
    receiver.start()
    again = delivery.replay_dead(rt, parties["alpha"][0], dead.id)
    assert again.state is DeliveryState.PENDING
    assert delivery.run_deliveries(rt, NetworkSender()) == (1, 0)
    assert len(receiver.got) == 1


def test_e_mail_reaches_a_real_smtp_server(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    from aiosmtpd.controller import Controller

    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        delivery.register_endpoint(rt, parties["bravo"][0], "email", "duty@bravo.example")
        conflict(rt, parties)
        assert delivery.run_deliveries(rt, NetworkSender("127.0.0.1", port, "cell@example.org")) == (1, 0)
    finally:
        smtp.stop()
    (mail,) = received
    assert mail.rcpt_tos == ["duty@bravo.example"]
    text = mail.content.decode()
    assert "Subject: [deconfliction] conflict.opened" in text and "Acknowledge before" in text


def test_bad_endpoints_are_refused_by_field(rt: Runtime, parties: dict[str, tuple[Party, str]]) -> None:
    from deconfliction.errors import InvalidInput

    for kind, address, field in (
        ("webhook", "ftp://x", "address"),
        ("email", "no-at-sign", "address"),
        ("pigeon", "x", "kind"),
    ):
        with pytest.raises(InvalidInput) as e:
            delivery.register_endpoint(rt, parties["alpha"][0], kind, address)
        assert e.value.errors[0].field == field


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://[::1]:9/hook", "loopback"),
        ("http://localhost:9/hook", "loopback"),  # a name that resolves to loopback
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/hook", "link-local"),
        ("https://10.1.2.3/hook", "a private range"),
        ("https://172.16.0.1/hook", "a private range"),
        ("https://192.168.1.1/hook", "a private range"),
        ("https://[fd00::1]/hook", "a private range"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://0.0.0.0:9/hook", "not a public address"),
    ],
)
def test_webhooks_into_the_deployments_own_networks_are_refused(
    rt: Runtime, parties: dict[str, tuple[Party, str]], address: str, why: str
) -> None:
    from deconfliction.errors import InvalidInput

    closed = replace(rt, webhook_allow=())
    with pytest.raises(InvalidInput) as e:
        delivery.register_endpoint(closed, parties["alpha"][0], "webhook", address)
    (error,) = e.value.errors
    assert (error.field, error.code) == ("address", "address_not_allowed")
    assert why in error.message and "DECONFLICTION_WEBHOOK_ALLOW_NETWORKS" in error.message
    assert delivery.list_endpoints(closed, parties["alpha"][0]) == []
    # a network the deployment names is allowed, and nothing wider
    if "127.0.0.1" in address or "localhost" in address:
        delivery.register_endpoint(rt, parties["alpha"][0], "webhook", address.replace("localhost", "127.0.0.1"))


def test_a_webhook_whose_address_is_no_longer_allowed_is_not_called(
    rt: Runtime, parties: dict[str, tuple[Party, str]], receiver: Receiver, clock: FakeClock
) -> None:
    """Checked again at delivery: an allowance withdrawn (or a name that now resolves inside) stops the
    delivery, which is recorded as failed with the reason; allowed again, it is delivered."""
    endpoint, _ = delivery.register_endpoint(rt, parties["alpha"][0], "webhook", f"http://127.0.0.1:{receiver.port}/")
    receiver.secret = endpoint.secret
    receiver.start()
    conflict(rt, parties)
    closed = replace(rt, webhook_allow=())
    assert delivery.run_deliveries(closed, NetworkSender()) == (0, 1)
    assert receiver.got == []
    (d,) = delivery.list_deliveries(rt, parties["alpha"][0])
    assert d.last_error is not None and "loopback" in d.last_error
    clock.advance(seconds=3600)
    assert delivery.run_deliveries(rt, NetworkSender()) == (1, 0)
    assert len(receiver.got) == 1


def test_the_allowed_networks_setting_is_parsed_and_a_bad_one_named() -> None:
    from deconfliction.settings import Settings

    env = {"DECONFLICTION_WEBHOOK_ALLOW_NETWORKS": "10.0.0.0/8, fd00::/8"}
    assert Settings.from_env(env).webhook_allow_networks == (ip_network("10.0.0.0/8"), ip_network("fd00::/8"))
    with pytest.raises(ValueError, match="DECONFLICTION_WEBHOOK_ALLOW_NETWORKS: 'ten' is not a network"):
        Settings.from_env({"DECONFLICTION_WEBHOOK_ALLOW_NETWORKS": "ten"})
