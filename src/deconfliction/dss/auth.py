"""OAuth 2 bearer JWTs as the standard wants them (pure: keys are passed in).

RS256 only, signature checked against the configured PEM public keys, ``aud`` one of the accepted
audiences, ``exp`` required, ``sub`` the USS (the manager of what it writes). A missing or bad token is
401; a good token without a scope the endpoint accepts is 403.

A USS sends the same token with every request until it expires, so a token whose signature and claims
have been checked is remembered (by its exact text) with its subject, scopes and expiry: later uses
check only the expiry and the scope, not the RSA signature again. The cache is bounded and emptied
when full; a token refused is never remembered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_public_key


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Caller:
    subject: str
    scopes: frozenset[str]


EXPIRED = "Invalid access token: Signature has expired"
"""PyJWT's words for an expired token, also said of a remembered one."""


class TokenVerifier:
    CACHE_SIZE = 4096
    """Tokens remembered at most (a few per USS in practice); the cache is emptied when full."""

    def __init__(
        self,
        public_keys_pem: Sequence[bytes],
        audiences: Sequence[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not public_keys_pem:
            raise ValueError("at least one public key is required")
        self._keys = [load_pem_public_key(pem) for pem in public_keys_pem]
        self._audiences = list(audiences)
        self._clock = clock
        self._verified: dict[str, tuple[Caller, float]] = {}

    def verify(self, authorization: str | None, accepted_scopes: Sequence[str]) -> Caller:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError(401, "Missing access token")
        token = authorization[7:].strip()
        known = self._verified.get(token)
        if known is not None:
            caller, exp = known
            if exp <= self._clock():  # as PyJWT judges it (no leeway)
                self._verified.pop(token, None)
                raise AuthError(401, EXPIRED)
        else:
            caller, exp = self._decode(token)
            if len(self._verified) >= self.CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = (caller, exp)
        if accepted_scopes and not caller.scopes.intersection(accepted_scopes):
            raise AuthError(403, f"Missing scope: one of {', '.join(accepted_scopes)} is required")
        return caller

    def _decode(self, token: str) -> tuple[Caller, float]:
        """The token's caller and expiry, its signature and claims checked (PyJWT: ``exp`` in the future,
        ``nbf`` and ``iat`` not, ``aud`` accepted); refused with 401 otherwise. A token valid now stays
        valid until its ``exp``: only that is checked again when it is used later."""
        claims = None
        error = "Invalid access token"
        for key in self._keys:
            try:
                claims = jwt.decode(
                    token,
                    key=key,  # type: ignore[arg-type]
                    algorithms=["RS256"],
                    audience=self._audiences,
                    options={"require": ["exp", "sub", "aud"]},
                )
                break
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                error = f"Invalid access token: {exc}"
                break
        if claims is None:
            raise AuthError(401, error)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthError(401, "Invalid access token: no subject")
        raw = claims.get("scope", "")
        scopes = frozenset(raw.split() if isinstance(raw, str) else [])
        return Caller(subject, scopes), float(claims["exp"])
