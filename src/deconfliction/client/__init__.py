"""A Python client for a party's own systems: typed methods for the HTTP API (docs/api.md), signed
writes, and receipts kept and verified.

    from deconfliction.client import Client

    with Client("https://cell.example/", api_key, signing_key=private_key) as client:
        result = client.submit("air", volumes, title="ISR orbit")
        client.plan(result.operation, known_conflict_tokens=result.tokens)
        assert client.verify_receipts().ok

Results are frozen dataclasses (``Operation``, ``Conflict``, ``WriteResult``, ``Page`` ...). Changes send
``If-Match`` with the version of the ``Operation`` given (or the ``version`` argument).

Errors. Every refusal of the service is an ``ApiError`` carrying the problem document's ``status``,
``code``, ``title``, ``detail`` and ``errors`` (field errors of a 422), one subclass per code:

    ApiError
     +-- ValidationFailed             422 validation_failed      .errors
     |    +-- BodyTooLarge            413 body_too_large         .limit
     |    +-- WindowInPast            422 window_in_past         .errors (each window's end)
     +-- NotAuthenticated             401 not_authenticated
     |    +-- SignatureRequired       401 signature_required
     |    +-- SignatureInvalid        401 signature_invalid
     |    +-- SignatureReplayed       401 signature_replayed
     +-- Forbidden                    403 forbidden
     +-- NotFound                     404 not_found
     +-- MethodNotAllowed             405 method_not_allowed
     +-- StateConflict                409 state_conflict
     |    +-- InvalidTransition       409 invalid_transition     .state, .requested
     |    +-- MissingConflictTokens   409 missing_conflict_tokens .missing, .tokens
     |    +-- AwaitingAcknowledgement 409 awaiting_acknowledgement .conflicts
     |    +-- AlreadyExists           409 already_exists
     |    +-- IdempotencyKeyReused    409 idempotency_key_reused .key
     |    +-- TrackNotClaimable       409 track_not_claimable    .track
     +-- StaleVersion                 412 stale_version          .current_version
     +-- PreconditionRequired         428 precondition_required
     +-- TooManyFailures              429 too_many_failures      .retry_after_s
     +-- ServerError                  5xx

A code the client does not know maps to its status's class. Not reaching the service at all raises
httpx's own ``httpx.TransportError`` (``ConnectError``, ``ReadTimeout`` ...) once the retries are spent.

Signatures. Given ``signing_key``, every write carries the three signature headers of
``deconfliction.domain.signing.sign_request``, computed over the exact path and the JSON body the
client sends: the body is serialised once, those bytes are sent, and what they parse back to is signed.
Register the key first (``register_key()``); ``rotate(new_key)`` registers a new key, switches to it and
revokes the old one.

Retries and idempotency. Every write to an operation carries an ``Idempotency-Key``, generated per call
(or given), and the same key and the same body bytes on every attempt. A request that never reached the
service (connect error) is sent again; so is one whose answer was lost (read error, timeout) or was a 5xx,
when it is safe to repeat: reads, operation writes, revoking a key. Creating a party and registering a key
take no Idempotency-Key and are not repeated once sent.

A signed write is signed again on each attempt, with a fresh timestamp, because the service accepts a
signature once and only within 300 s of its clock. That cannot apply a write twice: the service looks up
the Idempotency-Key first, inside the write's transaction, and when the first attempt committed it
answers the stored response (``WriteResult.replayed``) without looking at the new signature (writes are
serialised and the lookup runs after the lock, so a retry racing a slow first attempt waits for it and
then finds its response); when the first
attempt did not commit, nothing of it was kept (its signature was not recorded as used either), so the
retry is the first application, and its signature is the one the ledger keeps. The key's fingerprint
covers the method, the path and the body bytes, which are the same, so the retry cannot ask for anything
else than what was signed the first time.

Receipts. Every receipt the service returns is kept in ``client.receipts``; ``verify_receipts()`` fetches
the party's ledger export (every page) or takes given lines and runs ``deconfliction.domain.ledger.verify``
with them: each receipt must be in the chain with its hash, and its service signature must verify with a
``service.key`` announced in the export (``Report.receipts_signed``, ``Report.problems``).
"""

from deconfliction.client.errors import (
    AlreadyExists,
    ApiError,
    AwaitingAcknowledgement,
    BodyTooLarge,
    FieldError,
    Forbidden,
    IdempotencyKeyReused,
    InvalidTransition,
    MethodNotAllowed,
    MissingConflictTokens,
    NotAuthenticated,
    NotFound,
    PreconditionRequired,
    ServerError,
    SignatureInvalid,
    SignatureReplayed,
    SignatureRequired,
    StaleVersion,
    StateConflict,
    TooManyFailures,
    TrackNotClaimable,
    ValidationFailed,
    WindowInPast,
)
from deconfliction.client.models import (
    Altitude,
    ApiKey,
    ApiKeyChange,
    AwaitingConflict,
    Clock,
    ClockAdvanced,
    Conflict,
    Contact,
    Counterpart,
    DeclarationWarning,
    Encounter,
    Health,
    KeyChange,
    LedgerHead,
    Operation,
    Page,
    Party,
    PartyCreated,
    Readiness,
    ReadinessCheck,
    Receipt,
    Rotation,
    Rule,
    ServiceKey,
    Side,
    SigningKey,
    TrackStatement,
    Unit,
    UnitKey,
    Volume,
    Window,
    WriteResult,
)
from deconfliction.client.sync import Client, key_id_of, public_key_text

__all__ = [
    "AlreadyExists",
    "Altitude",
    "ApiError",
    "ApiKey",
    "ApiKeyChange",
    "AwaitingAcknowledgement",
    "AwaitingConflict",
    "BodyTooLarge",
    "Client",
    "Clock",
    "ClockAdvanced",
    "Conflict",
    "Contact",
    "Counterpart",
    "DeclarationWarning",
    "Encounter",
    "FieldError",
    "Forbidden",
    "Health",
    "IdempotencyKeyReused",
    "InvalidTransition",
    "KeyChange",
    "LedgerHead",
    "MethodNotAllowed",
    "MissingConflictTokens",
    "NotAuthenticated",
    "NotFound",
    "Operation",
    "Page",
    "Party",
    "PartyCreated",
    "PreconditionRequired",
    "Readiness",
    "ReadinessCheck",
    "Receipt",
    "Rotation",
    "Rule",
    "ServerError",
    "ServiceKey",
    "Side",
    "SignatureInvalid",
    "SignatureReplayed",
    "SignatureRequired",
    "SigningKey",
    "StaleVersion",
    "StateConflict",
    "TooManyFailures",
    "TrackNotClaimable",
    "TrackStatement",
    "Unit",
    "UnitKey",
    "ValidationFailed",
    "Volume",
    "Window",
    "WindowInPast",
    "WriteResult",
    "key_id_of",
    "public_key_text",
]
