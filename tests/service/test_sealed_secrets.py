"""Webhook secrets at rest (docs/security.md): with DECONFLICTION_SECRETS_KEY_FILE they are stored sealed
(AES-256-GCM), so the database alone does not reveal them, and deliveries are still signed with the
secret the party was shown; a sealed secret without its key fails the delivery with the reason."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from deconfliction.domain.party import Party
from deconfliction.service import delivery
from deconfliction.service.delivery import NetworkSender
from deconfliction.service.runtime import Runtime
from deconfliction.service.sealed import PREFIX, load_key, seal, unseal
from deconfliction.settings import Settings
from tests.service.test_delivery import LOOPBACK, Receiver, conflict, free_port


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.key"
    path.write_bytes(bytes(range(32)) * 2)
    return path


def test_a_webhook_secret_is_stored_sealed_and_deliveries_are_signed_with_it(
    rt: Runtime, parties: dict[str, tuple[Party, str]], key_file: Path
) -> None:
    sealed_rt = replace(rt, secrets_key=Settings(secrets_key_file=str(key_file)).secrets_key(), webhook_allow=LOOPBACK)
    receiver = Receiver(free_port())
    try:
        endpoint, _ = delivery.register_endpoint(
            sealed_rt, parties["alpha"][0], "webhook", f"http://127.0.0.1:{receiver.port}/hook"
        )
        assert endpoint.secret and not endpoint.secret.startswith(PREFIX)  # the party is shown it in clear
        with rt.store.read() as tx:
            stored = tx.endpoints.get(endpoint.id)
        assert stored is not None and stored.secret.startswith(PREFIX)
        assert endpoint.secret not in stored.secret
        receiver.secret = endpoint.secret
        receiver.start()
        conflict(sealed_rt, parties)
        assert delivery.run_deliveries(sealed_rt, NetworkSender()) == (1, 0)
        assert receiver.bad_signatures == 0 and len(receiver.got) == 1
    finally:
        receiver.stop()


def test_a_sealed_secret_without_its_key_fails_the_delivery_with_the_reason(
    rt: Runtime, parties: dict[str, tuple[Party, str]], key_file: Path
) -> None:
    sealed_rt = replace(rt, secrets_key=load_key(str(key_file), "K"), webhook_allow=LOOPBACK)
    delivery.register_endpoint(sealed_rt, parties["alpha"][0], "webhook", f"http://127.0.0.1:{free_port()}/")
    conflict(rt, parties)
    keyless = replace(rt, webhook_allow=LOOPBACK)  # a server started without the key
    assert delivery.run_deliveries(keyless, NetworkSender()) == (0, 1)
    (d,) = delivery.list_deliveries(rt, parties["alpha"][0])
    assert "DECONFLICTION_SECRETS_KEY_FILE" in (d.last_error or "")


def test_sealing_round_trips_and_refuses_another_key() -> None:
    k1, k2 = bytes(32), bytes([1]) * 32
    box = seal(k1, "s3cret")
    assert box.startswith(PREFIX) and "s3cret" not in box and seal(k1, "s3cret") != box  # a fresh nonce
    assert unseal(k1, box) == "s3cret"
    assert unseal(None, "plain") == "plain" and seal(None, "plain") == "plain"
    with pytest.raises(ValueError, match="another key"):
        unseal(k2, box)
    with pytest.raises(ValueError, match="DECONFLICTION_SECRETS_KEY_FILE"):
        unseal(None, box)


def test_a_short_or_missing_key_file_is_refused_naming_the_setting(tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 10)
    for path in (short, tmp_path / "missing.key"):
        with pytest.raises(ValueError, match="DECONFLICTION_SECRETS_KEY_FILE"):
            Settings.from_env({"DECONFLICTION_SECRETS_KEY_FILE": str(path)}).secrets_key()
