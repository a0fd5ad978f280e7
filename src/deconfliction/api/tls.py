"""TLS and mutual TLS for ``deconflict serve`` (docs/security.md).

The files named by DECONFLICTION_TLS_CERT_FILE, ..._KEY_FILE and ..._CLIENT_CA_FILE are checked before the
server starts; a bad one stops the start naming the setting and the path, never the file's content. With
a client CA the server asks every caller for a certificate (optional: a caller may still use its API key)
and verifies it against that CA; the verified certificate reaches the application as the ASGI TLS
extension (``scope["extensions"]["tls"]["client_cert_chain"]``), which uvicorn does not fill itself.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from deconfliction.api.problems import problem_body
from deconfliction.settings import ENV_PREFIX, Settings


def check_tls(settings: Settings) -> dict[str, Any]:
    """uvicorn's ssl options from the settings ({} when TLS is off); ValueError naming the setting when a
    file is missing, unreadable, not PEM, or the key does not match the certificate."""
    cert, key, ca = settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file
    if not cert and not key:
        if ca:
            raise ValueError(
                f"{ENV_PREFIX}TLS_CLIENT_CA_FILE is set but {ENV_PREFIX}TLS_CERT_FILE is not: "
                "client certificates need TLS"
            )
        return {}
    if not cert:
        raise ValueError(f"{ENV_PREFIX}TLS_KEY_FILE is set but {ENV_PREFIX}TLS_CERT_FILE is not")
    if not key:
        raise ValueError(f"{ENV_PREFIX}TLS_CERT_FILE is set but {ENV_PREFIX}TLS_KEY_FILE is not")
    _pem_certificates(f"{ENV_PREFIX}TLS_CERT_FILE", cert)
    _readable(f"{ENV_PREFIX}TLS_KEY_FILE", key)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        raise ValueError(
            f"{ENV_PREFIX}TLS_KEY_FILE={key}: not a readable unencrypted PEM private key of the certificate in "
            f"{ENV_PREFIX}TLS_CERT_FILE ({type(exc).__name__})"
        ) from None
    options: dict[str, Any] = {"ssl_certfile": cert, "ssl_keyfile": key}
    if ca:
        _pem_certificates(f"{ENV_PREFIX}TLS_CLIENT_CA_FILE", ca)
        try:
            context.load_verify_locations(cafile=ca)
        except ssl.SSLError as exc:
            raise ValueError(f"{ENV_PREFIX}TLS_CLIENT_CA_FILE={ca}: not PEM CA certificates ({exc.reason})") from None
        options.update(ssl_ca_certs=ca, ssl_cert_reqs=ssl.CERT_OPTIONAL)
    return options


def _readable(setting: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ValueError(f"{setting}={path}: cannot be read ({exc.strerror})") from None


def _pem_certificates(setting: str, path: str) -> None:
    from cryptography import x509

    try:
        x509.load_pem_x509_certificates(_readable(setting, path))
    except ValueError:
        raise ValueError(f"{setting}={path}: not a PEM certificate") from None


def fingerprint(der: bytes) -> str:
    """A certificate's fingerprint as parties bind it: SHA-256 of its DER encoding, lower-case hex."""
    return hashlib.sha256(der).hexdigest()


def client_fingerprint(scope: Mapping[str, Any]) -> str | None:
    """The fingerprint of the verified client certificate of this connection, if it sent one."""
    tls = scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    return fingerprint(ssl.PEM_cert_to_DER_cert(chain[0]))


def _with_client_certificate(protocol: Any, transport: Any) -> None:
    """Wrap this connection's app so that each request's scope carries the client certificate."""
    ssl_object = transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        return
    tls = {"client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)], "client_cert_error": None}
    inner = protocol.app

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope.setdefault("extensions", {})["tls"] = tls
        await inner(scope, receive, send)

    protocol.app = app


def _malformed(protocol: Any) -> None:
    """The answer to bytes that are not an HTTP/1.1 request (a request line or header that the parser
    refuses: a control character in a header value, say), which never reach the application: a problem
    document, as every other error (uvicorn's own answer is plain text), then the connection closed."""
    body = problem_body(
        400, "malformed_request", "Bad Request", "the request is not valid HTTP/1.1 (its request line or a header)"
    )
    head = [b"HTTP/1.1 400 Bad Request\r\n"]
    head += [name + b": " + value + b"\r\n" for name, value in protocol.server_state.default_headers]
    head += [
        b"content-type: application/problem+json\r\n",
        b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
        b"connection: close\r\n\r\n",
    ]
    protocol.transport.write(b"".join(head) + body)
    protocol.transport.close()


class ClientCertificateH11(H11Protocol):
    """uvicorn's h11 protocol, handing the client certificate on (used where httptools is missing)."""

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        _with_client_certificate(self, transport)

    def send_400_response(self, msg: str) -> None:
        _malformed(self)


@functools.cache
def _timeouts() -> tuple[float | None, float | None]:
    settings = Settings.from_env()
    return settings.header_timeout_s, settings.body_timeout_s


class HardenedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol (its default) with what a hostile network needs: a request's headers
    must arrive within DECONFLICTION_HEADER_TIMEOUT_S of its first byte and its body within
    DECONFLICTION_BODY_TIMEOUT_S, and a connection that sends nothing is closed after the latter; else the
    connection is closed (a slow client holds no more than a socket for that long); and the
    client certificate, when one was verified, is handed on to the application."""

    _deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float | None) -> None:
        self._disarm()
        if seconds is not None:  # None: that deadline is not set (docs/settings.md)
            self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        _with_client_certificate(self, transport)
        # a connection that has sent nothing yet (a browser opens some ahead of use) gets the longer
        # deadline: closing a socket a browser is about to use would race its first request
        self._arm(_timeouts()[1])

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(_timeouts()[0])

    def on_headers_complete(self) -> None:
        self._arm(_timeouts()[1])
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        _malformed(self)
