"""OAuth 2 bearer JWTs as the standard wants them (pure: keys are passed in).

RS256 only, signature checked against the configured PEM public keys, ``aud`` one of the accepted
audiences, ``exp`` required, ``sub`` the USS (the manager of what it writes). A missing or bad token is
401; a good token without a scope the endpoint accepts is 403.
"""

from __future__ import annotations

from collections.abc import Sequence
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


class TokenVerifier:
    def __init__(self, public_keys_pem: Sequence[bytes], audiences: Sequence[str]) -> None:
        if not public_keys_pem:
            raise ValueError("at least one public key is required")
        self._keys = [load_pem_public_key(pem) for pem in public_keys_pem]
        self._audiences = list(audiences)

    def verify(self, authorization: str | None, accepted_scopes: Sequence[str]) -> Caller:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise AuthError(401, "Missing access token")
        token = authorization[7:].strip()
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
        if accepted_scopes and not scopes.intersection(accepted_scopes):
            raise AuthError(403, f"Missing scope: one of {', '.join(accepted_scopes)} is required")
        return Caller(subject, scopes)
