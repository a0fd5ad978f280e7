"""The client's error tree (drawn in the package docstring): one exception per problem ``code`` of the
API (docs/api.md), and for a code it does not know yet the class of the status, so ``except`` clauses
written today keep working when the service adds a code."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import httpx

from deconfliction.client.models import AwaitingConflict, Conflict, tokens_of


@dataclass(frozen=True)
class FieldError:
    """One reason a request was refused: a JSON path, header or query parameter, a stable code and a
    sentence for people."""

    field: str
    code: str
    message: str
    detail: Mapping[str, Any] = dataclass_field(default_factory=dict)


class ApiError(Exception):
    """The service refused the request; ``problem`` is the whole RFC 9457 document."""

    def __init__(self, status: int, problem: Mapping[str, Any]) -> None:
        self.status = status
        self.problem = dict(problem)
        self.code = str(problem.get("code", "http_error"))
        self.title = str(problem.get("title", ""))
        self.detail = str(problem.get("detail", ""))
        self.errors = tuple(
            FieldError(str(e.get("field", "")), str(e.get("code", "")), str(e.get("message", "")), e.get("detail", {}))
            for e in problem.get("errors", ())
            if isinstance(e, Mapping)
        )
        super().__init__(f"{status} {self.code}: {self.detail}")


class ValidationFailed(ApiError):
    pass


class WindowInPast(ValidationFailed):
    """Every window of the declaration has wholly passed; ``errors`` names each end. File it with
    ``historical=True`` if it is a record for an inquiry."""


class BodyTooLarge(ValidationFailed):
    @property
    def limit(self) -> int | None:
        return self.problem.get("limit")


class NotAuthenticated(ApiError):
    pass


class SignatureRequired(NotAuthenticated):
    pass


class SignatureInvalid(NotAuthenticated):
    pass


class SignatureReplayed(NotAuthenticated):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class MethodNotAllowed(ApiError):
    pass


class StateConflict(ApiError):
    pass


class InvalidTransition(StateConflict):
    @property
    def state(self) -> str | None:
        return self.problem.get("state")

    @property
    def requested(self) -> str | None:
        return self.problem.get("requested")


class MissingConflictTokens(StateConflict):
    """Proof of knowledge failed: ``missing`` holds each conflict the request did not show, in the
    caller's view, with its current ``token``; show them to a person, then retry with ``tokens``."""

    @property
    def missing(self) -> tuple[Conflict, ...]:
        return tuple(Conflict.from_json(c) for c in self.problem.get("missing", ()))

    @property
    def tokens(self) -> tuple[str, ...]:
        return tokens_of(self.missing)


class AwaitingAcknowledgement(StateConflict):
    """The acknowledgement gate (docs/notifications.md): ``conflicts`` are those the other side has not
    acknowledged as they are now, each with who is awaited. Wait for the acknowledgements, or send the
    request again with ``override={conflict_id: reason}`` (a deliberate decision, recorded and told)."""

    @property
    def conflicts(self) -> tuple[AwaitingConflict, ...]:
        return tuple(AwaitingConflict.from_json(c) for c in self.problem.get("conflicts", ()))


class AlreadyExists(StateConflict):
    pass


class IdempotencyKeyReused(StateConflict):
    @property
    def key(self) -> str | None:
        return self.problem.get("key")


class TrackNotClaimable(StateConflict):
    @property
    def track(self) -> str | None:
        return self.problem.get("track")


class StaleVersion(ApiError):
    @property
    def current_version(self) -> int | None:
        return self.problem.get("current_version")


class PreconditionRequired(ApiError):
    pass


class TooManyFailures(ApiError):
    """Too many failed authentications from this address (or signatures for this party): wait."""

    @property
    def retry_after_s(self) -> int | None:
        return self.problem.get("retry_after_s")


class ServerError(ApiError):
    pass


BY_CODE: dict[str, type[ApiError]] = {
    "validation_failed": ValidationFailed,
    "body_too_large": BodyTooLarge,
    "window_in_past": WindowInPast,
    "not_authenticated": NotAuthenticated,
    "signature_required": SignatureRequired,
    "signature_invalid": SignatureInvalid,
    "signature_replayed": SignatureReplayed,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "method_not_allowed": MethodNotAllowed,
    "state_conflict": StateConflict,
    "invalid_transition": InvalidTransition,
    "missing_conflict_tokens": MissingConflictTokens,
    "awaiting_acknowledgement": AwaitingAcknowledgement,
    "already_exists": AlreadyExists,
    "idempotency_key_reused": IdempotencyKeyReused,
    "track_not_claimable": TrackNotClaimable,
    "stale_version": StaleVersion,
    "precondition_required": PreconditionRequired,
    "too_many_failures": TooManyFailures,
    "internal_error": ServerError,
}

BY_STATUS: dict[int, type[ApiError]] = {
    401: NotAuthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: StateConflict,
    412: StaleVersion,
    413: BodyTooLarge,
    422: ValidationFailed,
    428: PreconditionRequired,
    429: TooManyFailures,
}


def error_for(response: httpx.Response) -> ApiError:
    """The exception for an error response: by its problem ``code``, else by its status. A body that is
    not a problem document (a proxy's page) keeps its first 500 characters as ``detail``."""
    problem: Mapping[str, Any]
    try:
        parsed = response.json()
    except ValueError:
        parsed = None
    if isinstance(parsed, Mapping) and "code" in parsed:
        problem = parsed
    else:
        problem = {"code": "http_error", "title": response.reason_phrase, "detail": response.text[:500]}
    status = response.status_code
    cls = BY_CODE.get(str(problem["code"])) or (ServerError if status >= 500 else BY_STATUS.get(status, ApiError))
    return cls(status, problem)
