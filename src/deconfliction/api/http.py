"""Small HTTP helpers shared by the resource modules: auth, ETags, cursors, idempotency, JSON."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from deconfliction import wire
from deconfliction.api.access import note_party
from deconfliction.api.tls import client_fingerprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.party import Party
from deconfliction.domain.signing import (
    KEY_ID_HEADER,
    OLD_SIGNATURE_HEADERS,
    SIGNATURE_HEADER,
    SIGNATURE_HEADERS,
    TIMESTAMP_HEADER,
    SignedRequest,
)
from deconfliction.errors import (
    InvalidInput,
    NotAuthenticated,
    OldSignatureHeaders,
    PreconditionRequired,
    SignatureInvalid,
    SignatureReplayed,
    SignatureRequired,
)
from deconfliction.service.api_keys import check_active, check_active_in
from deconfliction.service.certificates import NOT_BOUND, party_of_certificate
from deconfliction.service.exercise import real_now
from deconfliction.service.guard import guarded, party_scope, record_failure, refuse_if_locked
from deconfliction.service.operations import Idempotency
from deconfliction.service.parties import party_of_key
from deconfliction.service.runtime import Runtime
from deconfliction.service.signing import accept_signature_alone, require_signature, require_signature_in
from deconfliction.store.ports import StoredResponse

T = TypeVar("T")


async def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]

_bearer = HTTPBearer(auto_error=False, description="Your party's API key")


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Caller(str):
    """An API key, with what the edge knows of the request: the source address (failures are counted
    per address, docs/security.md), whether it carries a signature, and the request itself (a write's
    signature is checked against it)."""

    address: str | None = None
    signed: bool = False
    request: Request | None = None
    party: Party | None = None
    """Set when the edge has already looked the key up (an unsigned write): ``as_party`` takes it as is
    rather than checking the key a second time in the same request."""

    @classmethod
    def of(cls, value: str, request: Request) -> Caller:
        caller = cls(value)
        caller.address = request.client.host if request.client else None
        caller.signed = any(request.headers.get(h) for h in SIGNATURE_HEADERS)
        caller.request = request
        return caller


class CertificateCaller(Caller):
    """Not an API key: the fingerprint of the verified client certificate of a request that sent no
    ``Authorization`` header (mutual TLS, docs/security.md)."""


async def bearer_key(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    """The API key of an ``Authorization: Bearer`` header, else the connection's client certificate. A
    request with neither is refused here, before the body is read; a wrong one with the request's work
    (one database read, in the worker thread), except an unsigned write: its caller is looked up here, so
    that a party with a signing key is told ``signature_required`` before anything else."""
    if credentials is None or not credentials.credentials:
        fingerprint = client_fingerprint(request.scope)
        if fingerprint is None:
            raise NotAuthenticated("send your API key as 'Authorization: Bearer <key>'")
        caller: Caller = CertificateCaller.of(fingerprint, request)
    else:
        caller = Caller.of(credentials.credentials, request)
    if request.method in WRITE_METHODS:
        refuse_old_signature_headers(request)
    if request.method in WRITE_METHODS and not caller.signed:
        # the one rule of signed writes (docs/signing.md): a party with a key signs every write, and an
        # unsigned one is refused here, before its body or ids are looked at
        rt: Runtime = request.app.state.runtime
        caller.party = await run_in_threadpool(_unsigned_writer, rt, caller)
    return caller


def _unsigned_writer(rt: Runtime, caller: Caller) -> Party:
    """The caller of an unsigned write, refused if its party signs (``require_signature``). A key verified
    recently is checked still valid and the signature rule applied in one read, not two."""
    checked: list[SignatureRequired | None] = []

    def recheck(digest: str, party: Party) -> None:
        with rt.store.glance() as tx:  # two facts that need not come from one snapshot
            check_active_in(tx, rt, digest)  # first: a revoked key is told so, whatever its party signs
            try:
                require_signature_in(tx, party)
            except SignatureRequired as exc:  # raised below: the key itself stays known (cached)
                checked.append(exc)
                return
        checked.append(None)

    party = _party(rt, caller, recheck)
    if not checked:
        require_signature(rt, party)
    elif checked[0] is not None:
        raise checked[0]
    return party


KeyDep = Annotated[str, Depends(bearer_key)]


def _party(rt: Runtime, key: str, recheck: Callable[[str, Party], None] | None = None) -> Party:
    """The caller's party: a key verified recently is not looked up again, only checked still valid
    (``recheck``, by default ``check_active``); an unknown one counts against the address."""
    address = getattr(key, "address", None)
    if isinstance(key, CertificateCaller):  # never cached: a revoked binding ends at once
        return guarded(rt, "certificate", address, lambda tx: party_of_certificate(tx, key), NOT_BOUND)
    return rt.keys.party(
        key,
        lambda: guarded(
            rt, "api_key", address, lambda tx: party_of_key(tx, key, real_now(rt)), "this API key is not valid"
        ),
        # a key revoked or expired since it was cached ends at once
        recheck or (lambda digest, _party: check_active(rt, digest)),
    )


async def as_party(rt: Runtime, key: str, work: Callable[[Party], T]) -> T:
    """Authenticate the key and run ``work`` for that party in one worker-thread hop: database work
    never blocks the event loop, and a request costs one thread handover, not one per dependency. A key
    verified in the last ``rt.keys.ttl_s`` seconds is not read from the database again."""

    address = getattr(key, "address", None)
    request: Request | None = getattr(key, "request", None)
    alone = None  # a signed write whose use case does not take the signature: checked here, before it
    if request is not None and request.method in WRITE_METHODS and not getattr(request.state, SIGNATURE_TAKEN, False):
        alone = signed_request(request, await request.body())

    known: Party | None = getattr(key, "party", None)

    def job() -> T:
        caller = known if known is not None else _party(rt, key)
        note_party(caller.id)  # the access log's party
        if getattr(key, "signed", False):  # signatures are guessed by a key holder: counted per party
            refuse_if_locked(rt, [party_scope(caller.id)])
        try:
            if alone is not None:
                accept_signature_alone(rt, caller, alone)
            return work(caller)
        except (SignatureInvalid, SignatureReplayed):
            record_failure(rt, "signature", address, caller.id)
            raise

    return await run_in_threadpool(job)


SIGNATURE_TAKEN = "signature_in_transaction"
"""Set on ``request.state`` by ``request_signature``: the route hands the signature to its use case,
which checks it inside the write's own transaction and keeps it in the ledger entry."""


def json_bytes(body: Any) -> bytes:
    """An answer's bytes: a response model by its own serializer (``wire.to_json``), anything else
    (a ledger line, a replayed view) by orjson, with the members of any model inside it."""
    return wire.to_json(body) if isinstance(body, BaseModel) else orjson.dumps(body, default=_model_members)


def _model_members(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return wire.to_record(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json_bytes(body), status_code=status, media_type="application/json", headers=headers)


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(if_match: str | None) -> int:
    """The version named by an If-Match header ("3", W/"3" or 3); 428 when absent."""
    if not if_match:
        raise PreconditionRequired("send If-Match with the ETag (version) you last read")
    text = if_match.strip().removeprefix("W/").strip('"')
    try:
        return int(text)
    except ValueError:
        raise InvalidInput.one("If-Match", "invalid_header", f"If-Match {if_match!r} is not a version ETag") from None


SEQ_MAX = 2**63 - 1
"""The largest number a ledger or notification sequence column holds (a 64-bit integer on both backends):
a larger ``after`` is refused as invalid, never passed to the database."""

DEFAULT_PAGE_SIZE = 100
PAGE_SIZE_HELP = "Items per page: default 100, at most DECONFLICTION_PAGE_SIZE_MAX (500 unless configured)"


def page_size(limit: int | None, limits: Limits) -> int:
    """The page size asked for (default 100), refused above DECONFLICTION_PAGE_SIZE_MAX."""
    if limit is None:
        return min(DEFAULT_PAGE_SIZE, limits.page_size_max)
    if limit > limits.page_size_max:
        raise InvalidInput.one(
            "limit", "out_of_range", f"limit {limit} is above the maximum page size {limits.page_size_max}"
        )
    return limit


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        # validate: characters outside the alphabet are refused, not skipped (a garbled cursor must
        # not silently restart the listing from the first page)
        last_id = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        last_id = ""
    if not last_id:
        raise InvalidInput.one("cursor", "invalid_cursor", "this cursor was not issued by the service")
    return last_id


def page(items: list[Any], limit: int, last_id: Callable[[Any], str]) -> tuple[list[Any], str | None]:
    """Items fetched with limit + 1: the page and the cursor of the next one."""
    if len(items) > limit:
        items = items[:limit]
        return items, encode_cursor(last_id(items[-1]))
    return items, None


Limit = Annotated[int | None, Query(ge=1, description=PAGE_SIZE_HELP)]


def paged(
    rt: Runtime,
    cursor: str | None,
    limit: int | None,
    fetch: Callable[[str | None, int], list[Any]],
    view: Callable[[Any], Any],
    last_id: Callable[[Any], str],
    model: type[wire.Page[Any]],
) -> Response:
    """A list endpoint's answer: ``fetch(after, limit + 1)`` from the cursor, one page of ``view``s and
    the next cursor (see Pagination in docs/api.md), as the route's page ``model``."""
    size = page_size(limit, rt.limits)
    items, nxt = page(fetch(decode_cursor(cursor), size + 1), size, last_id)
    return json_response(model(items=[view(i) for i in items], next_cursor=nxt))


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]
IdemKey = Annotated[str | None, Header(alias="Idempotency-Key")]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
Render = Callable[[Any], tuple[int, dict[str, str], Any]]
"""How a write's result becomes (status, headers, body): also what an Idempotency-Key stores."""

AS_OF_HELP = "RFC 3339 time: the view as it was then, rebuilt from the ledger (docs/ledger.md, As-of views)"
AsOf = Annotated[str | None, Query(description=AS_OF_HELP)]


def after_cursor(items: list[dict[str, Any]], after: str | None) -> list[dict[str, Any]]:
    """Replayed items (sorted by id) past a cursor, so as-of lists page like live ones."""
    return [i for i in items if after is None or i["id"] > after]


def refuse_old_signature_headers(request: Request) -> None:
    """A write signed with the headers' former names (``Signature-Key-Id``, ``Signature-Timestamp``,
    ``Signature``) is refused with a 400 that names the new ones, so that an old client fails loudly
    rather than being taken for unsigned. A ``Signature`` that comes with ``Signature-Input`` is an RFC
    9421 message signature (of a gateway, say): not ours, and not refused."""
    old = [h for h in OLD_SIGNATURE_HEADERS if request.headers.get(h) is not None]
    if old == ["Signature"] and request.headers.get("Signature-Input") is not None:
        return
    if old:
        raise OldSignatureHeaders(
            f"{', '.join(old)}: sign with {', '.join(SIGNATURE_HEADERS)} instead (same values, new names; "
            "docs/signing.md)",
            headers=list(SIGNATURE_HEADERS),
        )


def take_signature(request: Request, body: bytes) -> SignedRequest | None:
    """The request's signature, handed to the route's use case (checked in the write's transaction, kept
    in its ledger entry); every other write has it checked by ``as_party`` just before the write. Call
    it before ``as_party``."""
    setattr(request.state, SIGNATURE_TAKEN, True)
    return signed_request(request, body)


async def request_signature(request: Request, body: RawBody) -> SignedRequest | None:
    return take_signature(request, body)


Signature = Annotated[SignedRequest | None, Depends(request_signature)]


def signed_request(request: Request, body: bytes) -> SignedRequest | None:
    """The request's Ed25519 signature (docs/signing.md), None when it has none; all three headers or
    none of them."""
    values = {h: request.headers.get(h) for h in SIGNATURE_HEADERS}
    given = [h for h, v in values.items() if v]
    if not given:
        return None
    missing = [h for h in SIGNATURE_HEADERS if h not in given]
    if missing:
        needed = ", ".join(SIGNATURE_HEADERS)
        raise InvalidInput.one(missing[0], "missing_header", f"a signed request sends all of {needed}")
    try:
        parsed = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError:
        parsed = None  # the body parser answers for it
    return SignedRequest(
        key_id=str(values[KEY_ID_HEADER]),
        timestamp=str(values[TIMESTAMP_HEADER]),
        signature=str(values[SIGNATURE_HEADER]),
        method=request.method,
        path=request.url.path,
        body=parsed,
    )


def idempotency(
    request: Request,
    body: bytes,
    key: str | None,
    render: Callable[[Any], tuple[int, dict[str, str], Any]],
) -> Idempotency | None:
    """An Idempotency-Key header turns into a stored response keyed by (party, key), fingerprinted by
    method, path and body so that a key reused for another request is refused."""
    if key is None:
        return None
    if not 1 <= len(key) <= 200:
        raise InvalidInput.one("Idempotency-Key", "invalid_header", "Idempotency-Key must be 1 to 200 characters")
    fingerprint = hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.encode(), body])).hexdigest()

    def store(result: Any) -> StoredResponse:
        status, headers, content = render(result)
        return StoredResponse(fingerprint, status, headers, json_bytes(content))

    return Idempotency(key, fingerprint, store)


def respond(out: Any, render: Render) -> Response:
    """A write's answer: the stored one when the Idempotency-Key was seen before, else ``render(out)``."""
    if isinstance(out, StoredResponse):
        return stored(out)
    status, headers, body = render(out)
    return json_response(body, status, headers)


def stored(resp: StoredResponse) -> Response:
    headers = dict(resp.headers)
    if resp.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(resp.body, status_code=resp.status, media_type="application/json", headers=headers)
