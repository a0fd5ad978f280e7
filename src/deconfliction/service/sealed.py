"""Secrets the service must read back (webhook HMAC secrets), sealed in the database under a key kept
outside it (DECONFLICTION_SECRETS_KEY_FILE, docs/security.md): a database dump alone does not reveal them.

AES-256-GCM with a random nonce; the stored text is ``sealed1:<base64url of nonce and ciphertext>``. The
key is the SHA-256 of the key file's bytes. A value without the prefix is a secret stored in clear (no
key configured when it was registered); it keeps working.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed1:"
_AAD = b"deconfliction endpoint secret"


def load_key(path: str, setting: str) -> bytes:
    """The sealing key from a file of at least 32 bytes (e.g. ``head -c 32 /dev/urandom > key``)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{setting}={path}: cannot be read ({exc.strerror})") from None
    if len(raw) < 32:
        raise ValueError(f"{setting}={path}: holds {len(raw)} bytes; a key file holds at least 32 random bytes")
    return hashlib.sha256(raw).digest()


def seal(key: bytes | None, secret: str) -> str:
    """The text to store: sealed under ``key``, or the secret itself when no key is configured."""
    if key is None or not secret:
        return secret
    nonce = os.urandom(12)
    box = AESGCM(key).encrypt(nonce, secret.encode("utf-8"), _AAD)
    return PREFIX + base64.urlsafe_b64encode(nonce + box).decode()


def unseal(key: bytes | None, stored: str) -> str:
    """The secret of a stored value; ValueError when it is sealed and the key is missing or another."""
    if not stored.startswith(PREFIX):
        return stored
    if key is None:
        raise ValueError("this secret is sealed; set DECONFLICTION_SECRETS_KEY_FILE to the key file it was sealed with")
    data = base64.urlsafe_b64decode(stored.removeprefix(PREFIX))
    try:
        return AESGCM(key).decrypt(data[:12], data[12:], _AAD).decode("utf-8")
    except InvalidTag:
        raise ValueError("this secret was sealed under another key (DECONFLICTION_SECRETS_KEY_FILE)") from None
