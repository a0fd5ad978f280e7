"""Webhook delivery rules (domain/delivery.py): the signature a receiver checks, the retry schedule at
its first step and its ceiling, the 26-hour give-up edge on both sides, and each state change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deconfliction.domain.delivery import (
    Delivery,
    DeliveryState,
    retry_after,
    signature,
    signature_valid,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

# Standard Webhooks: base64 of HMAC-SHA256 over "<id>.<timestamp>.<body>", keyed by the base64 after "whsec_"
# ("test" decodes to b5eb2d); computed by an independent implementation:
# printf '%s' 'dl_1.1700000000.{"a":1}' | openssl dgst -sha256 -mac HMAC -macopt hexkey:b5eb2d -binary | base64
OPENSSL_HMAC = "xLWteIAyOolcxYehw6EGxe1nCn60cCoeIhp4+deLQ5w="
# an endpoint registered before (no whsec_ prefix): its UTF-8 bytes are the key
# printf '%s' 'dl_1.1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'legacy-secret' -binary | base64
OPENSSL_LEGACY = "80/0RUAyWmDYgsKnNsxd8YqDHuTaYU9BIQVyqrXBCXU="
# a whsec_ secret whose rest is not strict base64 ("$" is outside the alphabet; a lenient decoder would drop it
# and key with b5eb2d): its UTF-8 bytes, prefix included, are the key
# printf '%s' 'dl_1.1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_te$st' -binary | base64
OPENSSL_NOT_BASE64 = "DDOFSS/ps0lN3N+2R5pMCguWM/tszZkcxaRqov6Anyw="


def test_signature_is_the_standard_webhooks_hmac_as_openssl_computes_it() -> None:
    assert signature("whsec_test", "dl_1", 1_700_000_000, b'{"a":1}') == "v1," + OPENSSL_HMAC
    assert signature("legacy-secret", "dl_1", 1_700_000_000, b'{"a":1}') == "v1," + OPENSSL_LEGACY
    assert signature("whsec_te$st", "dl_1", 1_700_000_000, b'{"a":1}') == "v1," + OPENSSL_NOT_BASE64


def test_a_receiver_accepts_the_signature_and_nothing_else() -> None:
    body = b'{"a":1}'
    good = "v1," + OPENSSL_HMAC
    assert signature_valid("whsec_test", "dl_1", 1_700_000_000, body, good)
    assert signature_valid("whsec_test", "dl_1", 1_700_000_000, body, "v1,bm90aGluZw== " + good)  # any of several
    assert not signature_valid("whsec_test", "dl_1", 1_700_000_001, body, good)  # another timestamp
    assert not signature_valid("whsec_test", "dl_2", 1_700_000_000, body, good)  # another message id
    assert not signature_valid("whsec_other", "dl_1", 1_700_000_000, body, good)  # another secret
    assert not signature_valid("whsec_test", "dl_1", 1_700_000_000, b'{"a":2}', good)  # another body
    assert not signature_valid("whsec_test", "dl_1", 1_700_000_000, body, OPENSSL_HMAC)  # without its version


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(0, 5), (1, 5), (2, 10), (3, 20), (4, 40), (10, 2560), (11, 3600), (12, 3600), (40, 3600)],
)
def test_retry_waits_double_from_five_seconds_up_to_an_hour(attempts: int, seconds: int) -> None:
    assert retry_after(attempts) == timedelta(seconds=seconds)


def delivery(**kw: object) -> Delivery:
    base: dict[str, object] = {
        "id": "dl_1",
        "endpoint_id": "ep_1",
        "party_id": "pt_a",
        "notification_id": "nt_1",
        "body": b"{}",
        "created_at": NOW,
        "next_attempt_at": NOW,
    }
    base.update(kw)
    return Delivery(**base)  # type: ignore[arg-type]


def test_a_new_delivery_is_pending_with_no_attempt() -> None:
    d = delivery()
    assert (d.attempts, d.state, d.last_error, d.delivered_at) == (0, DeliveryState.PENDING, None, None)


def test_a_claim_holds_the_delivery_for_sixty_seconds() -> None:
    d = delivery().claimed(NOW + timedelta(seconds=7))
    assert d.next_attempt_at == NOW + timedelta(seconds=67)
    assert (d.attempts, d.state) == (0, DeliveryState.PENDING)


def test_success_counts_the_attempt_and_records_when() -> None:
    at = NOW + timedelta(seconds=3)
    d = delivery(attempts=2).succeeded(at)
    assert (d.attempts, d.state, d.delivered_at) == (3, DeliveryState.DELIVERED, at)


def test_a_failure_is_retried_after_the_schedule_with_the_error_cut_to_500_characters() -> None:
    at = NOW + timedelta(minutes=1)
    d = delivery(attempts=2).failed(at, "x" * 501)
    assert d.state is DeliveryState.PENDING
    assert d.attempts == 3
    assert d.next_attempt_at == at + timedelta(seconds=20)  # the third failure: 5, 10, 20
    assert d.last_error == "x" * 500
    short = delivery().failed(at, "refused")
    assert (short.last_error, short.next_attempt_at, short.attempts) == ("refused", at + timedelta(seconds=5), 1)


def test_a_delivery_failing_26_hours_after_it_was_created_is_a_dead_letter() -> None:
    just_before = NOW + timedelta(hours=26) - timedelta(microseconds=1)
    alive = delivery(attempts=30).failed(just_before, "timeout")
    assert alive.state is DeliveryState.PENDING
    assert alive.next_attempt_at == just_before + timedelta(hours=1)
    at = NOW + timedelta(hours=26)
    dead = delivery(attempts=30).failed(at, "timeout " * 100)
    assert dead.state is DeliveryState.DEAD
    assert dead.attempts == 31
    assert dead.last_error == "timeout " * 100  # a dead letter keeps its whole last error
    assert dead.next_attempt_at == NOW  # not scheduled again


def test_a_replayed_dead_letter_is_pending_now_with_a_fresh_26_hours() -> None:
    later = NOW + timedelta(days=3)
    d = delivery(attempts=31, state=DeliveryState.DEAD, last_error="timeout").replayed(later)
    assert (d.state, d.created_at, d.next_attempt_at, d.last_error) == (DeliveryState.PENDING, later, later, None)
    assert d.attempts == 31
    assert d.failed(later + timedelta(hours=25), "again").state is DeliveryState.PENDING


def test_a_new_secret_is_whsec_and_the_base64_of_its_key() -> None:
    from deconfliction.domain.delivery import new_secret

    assert new_secret(bytes([0xB5, 0xEB, 0x2D])) == "whsec_test"  # the secret the signature above uses
    assert new_secret(b"") == "whsec_"
    key = bytes(range(32))
    assert signature(new_secret(key), "dl_1", 1, b"{}") != signature(new_secret(key[:-1]), "dl_1", 1, b"{}")
