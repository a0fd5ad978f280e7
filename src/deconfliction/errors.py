"""The one error tree of the service.

Every failure a caller can act on is one of these, raised by the domain or the service and turned into
an RFC 9457 problem document in exactly one place (``deconfliction.api.problems``). The ``code`` of each
class is part of the public contract: clients switch on it, so it never changes once published.

    DeconflictionError
     +-- InvalidInput            422 validation_failed      bad request content; carries FieldErrors
     |    +-- BodyTooLarge       413 body_too_large
     |    +-- InvalidQuery       400 invalid_query          a bad query parameter of /ogc (OGC API - Features)
     +-- OldSignatureHeaders     400 old_signature_headers  signed with the headers' former names
     +-- NotAuthenticated        401 not_authenticated      missing or wrong API key
 |    +-- SignatureRequired  401 signature_required     the party has a signing key: writes must be signed
 |    +-- SignatureInvalid   401 signature_invalid      unknown or revoked key, stale time, wrong signature
 |    +-- SignatureReplayed  401 signature_replayed     this signature was accepted before
     +-- Forbidden               403 forbidden              authenticated, but the role may not do this
     +-- NotFound                404 not_found              absent, or not visible to the caller (same answer)
     +-- StateConflict           409 ...                    the request is valid but the current state refuses it
     |    +-- InvalidTransition  409 invalid_transition     e.g. activating an ended operation
     |    +-- MissingConflictTokens 409 missing_conflict_tokens  proof of knowledge absent or outdated
     |    +-- AwaitingAcknowledgement 409 awaiting_acknowledgement  the other side has not acknowledged
     |    +-- AlreadyExists      409 already_exists
     |    +-- IdempotencyKeyReused 409 idempotency_key_reused  same key, different request
     |    +-- NotAnExercise      409 not_an_exercise        the exercise clock of a server on real time
     |    +-- TrackNotClaimable  409 track_not_claimable    claiming a track that is already a party's
     +-- PreconditionFailed      412 stale_version          If-Match does not match the current version
     +-- PreconditionRequired    428 precondition_required  an update without If-Match
     +-- TooManyFailures         429 too_many_failures      too many failed authentications: wait Retry-After

Nothing here knows about HTTP beyond the status number each class suggests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One reason a request was refused: which field (a JSON path such as
    ``volumes[0].footprint.coordinates[0][3]``), a stable code and a sentence for people."""

    field: str
    code: str
    message: str
    detail: dict[str, Any] = dataclass_field(default_factory=dict)

    def at(self, prefix: str) -> FieldError:
        """The same error, located under ``prefix`` (for errors raised by a nested parser)."""
        if not prefix:
            return self
        joined = (
            prefix
            if not self.field
            else (f"{prefix}{self.field}" if self.field.startswith("[") else f"{prefix}.{self.field}")
        )
        return FieldError(joined, self.code, self.message, self.detail)


class DeconflictionError(Exception):
    status = 500
    code = "internal_error"
    title = "Internal error"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class InvalidInput(DeconflictionError):
    status = 422
    code = "validation_failed"
    title = "The request is not valid"

    def __init__(self, errors: Sequence[FieldError], message: str | None = None) -> None:
        if not errors:
            raise ValueError("InvalidInput needs at least one FieldError")
        self.errors = list(errors)
        first = self.errors[0]
        default = f"{first.field}: {first.message}" if first.field else first.message
        super().__init__(message or default)

    @classmethod
    def one(cls, field_: str, code: str, message: str, **detail: Any) -> InvalidInput:
        return cls([FieldError(field_, code, message, detail)])

    def at(self, prefix: str) -> InvalidInput:
        return InvalidInput([e.at(prefix) for e in self.errors])


class InvalidQuery(InvalidInput):
    """A query parameter of a standard interface that answers 400 for it (OGC API - Features)."""

    status = 400
    code = "invalid_query"
    title = "A query parameter is not valid"

    def at(self, prefix: str) -> InvalidQuery:
        return InvalidQuery([e.at(prefix) for e in self.errors])


class BodyTooLarge(InvalidInput):
    status = 413
    code = "body_too_large"
    title = "The request body is too large"


class OldSignatureHeaders(DeconflictionError):
    status = 400
    code = "old_signature_headers"
    title = (
        "Signature headers are now Deconfliction-Signature-Key-Id, Deconfliction-Signature-Timestamp and "
        "Deconfliction-Signature"
    )


class NotAuthenticated(DeconflictionError):
    status = 401
    code = "not_authenticated"
    title = "Missing or invalid API key"


class SignatureRequired(NotAuthenticated):
    code = "signature_required"
    title = (
        "This party signs its writes: send Deconfliction-Signature-Key-Id, Deconfliction-Signature-Timestamp "
        "and Deconfliction-Signature"
    )


class SignatureInvalid(NotAuthenticated):
    code = "signature_invalid"
    title = "The request's signature is not valid"


class SignatureReplayed(NotAuthenticated):
    code = "signature_replayed"
    title = "This signature was already used"


class Forbidden(DeconflictionError):
    status = 403
    code = "forbidden"
    title = "Not allowed for this role"


class NotFound(DeconflictionError):
    status = 404
    code = "not_found"
    title = "Not found"


class StateConflict(DeconflictionError):
    status = 409
    code = "state_conflict"
    title = "The current state does not allow this"


class InvalidTransition(StateConflict):
    code = "invalid_transition"
    title = "This state change is not allowed"


class MissingConflictTokens(StateConflict):
    code = "missing_conflict_tokens"
    title = "The request does not show knowledge of every current conflict"


class AwaitingAcknowledgement(StateConflict):
    code = "awaiting_acknowledgement"
    title = "The other side has not acknowledged these conflicts as they are now"


class AlreadyExists(StateConflict):
    code = "already_exists"
    title = "Already exists"


class IdempotencyKeyReused(StateConflict):
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used for a different request"


class NotAnExercise(StateConflict):
    code = "not_an_exercise"
    title = "This server runs on real time, not on an exercise clock"


class TrackNotClaimable(StateConflict):
    code = "track_not_claimable"
    title = "This track already belongs to a party"


class PreconditionFailed(DeconflictionError):
    status = 412
    code = "stale_version"
    title = "The object changed since you read it"


class TooManyFailures(DeconflictionError):
    """Too many failed authentications from this address, or for this party (docs/security.md). Carries
    ``retry_after_s``: the seconds until the oldest counted failure leaves the window."""

    status = 429
    code = "too_many_failures"
    title = "Too many failed authentications; try again later"


class PreconditionRequired(DeconflictionError):
    status = 428
    code = "precondition_required"
    title = "Send If-Match with the version you read"
