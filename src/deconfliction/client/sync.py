"""The synchronous client: one typed method per endpoint of docs/api.md, one I/O seam (``_send``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from deconfliction.client.errors import error_for
from deconfliction.client.models import (
    ApiKey,
    ApiKeyChange,
    Clock,
    ClockAdvanced,
    Conflict,
    ConflictState,
    Contact,
    Health,
    KeyChange,
    Kind,
    LedgerHead,
    Operation,
    OperationState,
    Page,
    Party,
    PartyCreated,
    Readiness,
    Receipt,
    Role,
    Rotation,
    ServiceKey,
    SigningKey,
    Time,
    TrackStatement,
    Unit,
    UnitKey,
    Volume,
    WriteResult,
    format_time,
)
from deconfliction.domain.canonical import canonical
from deconfliction.domain.ledger import Report, verify
from deconfliction.domain.signing import b64url, key_id_for, sign_request

T = TypeVar("T")

_NO_BODY: Any = object()
RETRY_STATUSES = frozenset({500, 502, 503, 504})
LEDGER_PAGE_MAX = 10_000


def public_key_text(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The base64url of an Ed25519 key's 32 raw public bytes, as ``POST /v1/keys`` takes it."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return b64url(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def key_id_of(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """The id the service gives a key (``k_`` + 20 hex digits of SHA-256 of its raw public bytes)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return key_id_for(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


class Client:
    """A party's client for the deconfliction API (see the package docstring).

    ``transport`` is any ``httpx.BaseTransport`` (tests, proxies, mTLS); ``retries`` is how many times a
    request is sent again after a failure it may safely repeat, waiting ``backoff`` * 2**n seconds."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        signing_key: Ed25519PrivateKey | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        if retries < 0:
            raise ValueError("retries is 0 or more")
        self.signing_key = signing_key
        self.retries = retries
        self.backoff = backoff
        self.receipts: list[Receipt] = []
        """Every receipt the service gave this client, oldest first (a replayed answer's once)."""
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        )

    # ---------------------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------- health

    def health(self) -> Health:
        """``GET /v1/health``: ``status`` is ``degraded`` (answered 503) when the database does not answer."""
        r = self._send("GET", "/v1/health", retry_5xx=False)
        if r.status_code not in (200, 503):
            raise error_for(r)
        return Health.from_json(r.json())

    def ready(self) -> Readiness:
        """``GET /v1/health/ready``: ``status`` is ``not_ready`` (answered 503) with the failing checks."""
        r = self._send("GET", "/v1/health/ready", retry_5xx=False)
        if r.status_code not in (200, 503):
            raise error_for(r)
        return Readiness.from_json(r.json())

    def clock(self) -> Clock:
        """``GET /v1/clock``: the service's now (scenario time on an exercise server, docs/exercise.md)."""
        return Clock.from_json(self._get("/v1/clock"))

    def advance_exercise(self, seconds: float) -> ClockAdvanced:
        """Coordinator, exercise server only: move the scenario clock forward (``StateConflict`` with code
        ``not_an_exercise`` on a live server). Not retried once sent: a retried jump would jump twice."""
        d = self._json(self._send("POST", "/v1/exercise/advance", body={"seconds": seconds}, idempotent=False))
        advanced = ClockAdvanced(Clock.from_json(d["clock"]), Receipt.from_json(d["receipt"]))
        self._keep(advanced.receipt)
        return advanced

    # ------------------------------------------------------------------------------------------ parties

    def create_party(self, name: str, role: Role = "party") -> PartyCreated:
        """Coordinator only. Not retried once sent (the service takes no Idempotency-Key here: a retry
        of a creation that succeeded would answer ``AlreadyExists``)."""
        d = self._json(self._send("POST", "/v1/parties", body={"name": name, "role": role}, idempotent=False))
        return PartyCreated(Party.from_json(d["party"]), str(d["api_key"]))

    def list_parties(self, *, cursor: str | None = None, limit: int | None = None) -> Page[Party]:
        return Page.from_json(self._get("/v1/parties", _page_params(cursor, limit)), Party.from_json)

    def iter_parties(self) -> Iterator[Party]:
        return _every(lambda cursor: self.list_parties(cursor=cursor))

    def me(self) -> Party:
        return Party.from_json(self._get("/v1/parties/me"))

    # --------------------------------------------------------------------------------------------- keys

    def register_key(self, public_key: Ed25519PublicKey | Ed25519PrivateKey | str | None = None) -> KeyChange:
        """Register an Ed25519 key (default: this client's ``signing_key``). From then on every write of
        the party must be signed. Not retried once sent (a retry of a success answers AlreadyExists)."""
        if public_key is None:
            if self.signing_key is None:
                raise ValueError("no key given and the client has no signing_key")
            public_key = self.signing_key
        text = public_key if isinstance(public_key, str) else public_key_text(public_key)
        return self._key_change(self._send("POST", "/v1/keys", body={"public_key": text}, idempotent=False))

    def list_keys(self) -> tuple[SigningKey, ...]:
        """The party's keys, revoked ones included, oldest first."""
        return tuple(SigningKey.from_json(k) for k in self._get("/v1/keys")["items"])

    def revoke_key(self, key_id: str) -> KeyChange:
        """Revoking a revoked key changes nothing, so this is retried like a read."""
        return self._key_change(self._send("POST", f"/v1/keys/{key_id}/revoke", body=_NO_BODY))

    def rotate(self, new_private_key: Ed25519PrivateKey) -> Rotation:
        """Rotation as docs/signing.md describes it: register the new key (signed with the old one, if
        any), sign with the new one from now on, revoke the old one."""
        old = self.signing_key
        added = self.register_key(new_private_key)
        self.signing_key = new_private_key
        revoked = None if old is None else self.revoke_key(key_id_of(old))
        return Rotation(added, revoked)

    # ----------------------------------------------------------------------------------------- API keys

    def list_api_keys(self) -> tuple[ApiKey, ...]:
        """``GET /v1/api-keys``: the party's API keys, revoked and expired ones included, oldest first,
        without their secrets."""
        return tuple(ApiKey.from_json(k) for k in self._get("/v1/api-keys")["items"])

    def create_api_key(self, label: str, expires_at: datetime | None = None) -> ApiKeyChange:
        """``POST /v1/api-keys``: a new key of the party (``secret`` is shown this once). Not retried once
        sent: a retry of a success would make a second key."""
        body: dict[str, Any] = {"label": label}
        if expires_at is not None:
            body["expires_at"] = format_time(expires_at)
        d = self._json(self._send("POST", "/v1/api-keys", body=body, idempotent=False))
        change = ApiKeyChange(ApiKey.from_json(d["key"]), Receipt.from_json(d["receipt"]), str(d["api_key"]))
        self._keep(change.receipt)
        return change

    def revoke_api_key(self, key_id: str) -> ApiKeyChange:
        """``POST /v1/api-keys/{id}/revoke``: refused at once by every server process. Revoking a revoked
        key changes nothing, so this is retried like a read."""
        d = self._json(self._send("POST", f"/v1/api-keys/{quote(key_id, safe='')}/revoke", body=_NO_BODY))
        change = ApiKeyChange(ApiKey.from_json(d["key"]), Receipt.from_json(d["receipt"]))
        self._keep(change.receipt)
        return change

    # --------------------------------------------------------------------------------------- operations

    def submit(
        self,
        kind: Kind,
        volumes: Sequence[Volume | Mapping[str, Any]],
        *,
        priority: int = 0,
        title: str = "",
        state: OperationState = "draft",
        known_conflict_tokens: Iterable[str] = (),
        idempotency_key: str | None = None,
        override: Mapping[str, str] | None = None,
        unit: Unit | str | None = None,
        historical: bool = False,
    ) -> WriteResult:
        """Declare an operation (``draft`` or ``planned``; planned needs the token of every conflict it
        would have, else ``MissingConflictTokens``; ``override`` as for ``activate``); ``unit``: one of the
        party's units declaring it. A window that has wholly passed is refused
        (``WindowInPast``) unless ``historical``: a record for an inquiry, never chased."""
        body: dict[str, Any] = {
            "kind": kind,
            "volumes": [_volume_json(v) for v in volumes],
            "priority": priority,
            "title": title,
            "state": state,
            "known_conflict_tokens": list(known_conflict_tokens),
            **_overrides(override),
            **_unit(unit),
        }
        if historical:
            body["historical"] = True
        return self._write("POST", "/v1/operations", body, None, idempotency_key)

    def list_operations(
        self,
        *,
        state: OperationState | Sequence[OperationState] | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        as_of: Time | None = None,
    ) -> Page[Operation]:
        """The caller's operations (the coordinator: all); ``as_of``: as they were then, rebuilt from
        the ledger (docs/ledger.md, As-of views)."""
        params = _page_params(cursor, limit, as_of)
        if state is not None:
            params["state"] = [state] if isinstance(state, str) else list(state)
        return Page.from_json(self._get("/v1/operations", params), Operation.from_json)

    def iter_operations(
        self, *, state: OperationState | Sequence[OperationState] | None = None, as_of: Time | None = None
    ) -> Iterator[Operation]:
        return _every(lambda cursor: self.list_operations(state=state, cursor=cursor, as_of=as_of))

    def get_operation(self, op_id: str, *, as_of: Time | None = None) -> Operation:
        return Operation.from_json(self._get(f"/v1/operations/{op_id}", _page_params(None, None, as_of)))

    def revise(
        self,
        operation: Operation | str,
        *,
        version: int | None = None,
        kind: Kind | None = None,
        volumes: Sequence[Volume | Mapping[str, Any]] | None = None,
        priority: int | None = None,
        title: str | None = None,
        known_conflict_tokens: Iterable[str] = (),
        idempotency_key: str | None = None,
        unit: Unit | str | None = None,
    ) -> WriteResult:
        """Revise a live operation, If-Match its version (``unit`` given: now declared by that unit;
        omitted: unchanged). Given an ``Operation``, what is not given is
        kept from it (the API itself resets an omitted ``priority`` and ``title``); given an id, pass
        ``version``, ``kind`` and ``volumes``."""
        op_id, expected = _ref(operation, version)
        if isinstance(operation, Operation):
            kind = kind or operation.kind
            volumes = operation.volumes if volumes is None else volumes
            priority = operation.priority if priority is None else priority
            title = operation.title if title is None else title
        if kind is None or volumes is None:
            raise ValueError("revising by id needs kind and volumes")
        body = {
            "kind": kind,
            "volumes": [_volume_json(v) for v in volumes],
            "priority": priority or 0,
            "title": title or "",
            "known_conflict_tokens": list(known_conflict_tokens),
            **_unit(unit),
        }
        return self._write("PUT", f"/v1/operations/{op_id}", body, expected, idempotency_key)

    # -------------------------------------------------------------------------------------------- units

    def create_unit(
        self,
        name: str,
        *,
        contacts: Sequence[Contact | Mapping[str, Any]] | None = None,
        area: Mapping[str, Any] | None = None,
        party: str | None = None,
    ) -> Unit:
        """A unit of the caller's party (``party``: the coordinator, for another party). Not retried
        once sent (a retry of a success answers AlreadyExists)."""
        body: dict[str, Any] = {"name": name}
        if contacts is not None:
            body["contacts"] = [_contact_json(c) for c in contacts]
        if area is not None:
            body["area"] = dict(area)
        if party is not None:
            body["party"] = party
        d = self._json(self._send("POST", "/v1/units", body=body, idempotent=False))
        self._keep(Receipt.from_json(d["receipt"]))
        return Unit.from_json(d["unit"])

    def list_units(
        self, *, party: str | None = None, cursor: str | None = None, limit: int | None = None
    ) -> Page[Unit]:
        params = _page_params(cursor, limit)
        if party is not None:
            params["party"] = party
        return Page.from_json(self._get("/v1/units", params), Unit.from_json)

    def iter_units(self, *, party: str | None = None) -> Iterator[Unit]:
        return _every(lambda cursor: self.list_units(party=party, cursor=cursor))

    def get_unit(self, unit_id: str) -> Unit:
        return Unit.from_json(self._get(f"/v1/units/{unit_id}"))

    def set_unit_contacts(self, unit: Unit | str, contacts: Sequence[Contact | Mapping[str, Any]]) -> Unit:
        """Replace the unit's ladder (primary first); setting the same ladder twice is harmless."""
        unit_id = unit.id if isinstance(unit, Unit) else unit
        body = {"contacts": [_contact_json(c) for c in contacts]}
        d = self._json(self._send("PUT", f"/v1/units/{unit_id}/contacts", body=body))
        self._keep(Receipt.from_json(d["receipt"]))
        return Unit.from_json(d["unit"])

    def issue_unit_key(self, unit: Unit | str) -> UnitKey:
        """A key scoped to the unit; ``api_key`` is shown this once. Not retried once sent."""
        unit_id = unit.id if isinstance(unit, Unit) else unit
        d = self._json(self._send("POST", f"/v1/units/{unit_id}/keys", body=_NO_BODY, idempotent=False))
        self._keep(Receipt.from_json(d["receipt"]))
        return UnitKey.from_json(d["key"], str(d["api_key"]))

    def list_unit_keys(self, unit: Unit | str) -> tuple[UnitKey, ...]:
        unit_id = unit.id if isinstance(unit, Unit) else unit
        return tuple(UnitKey.from_json(k) for k in self._get(f"/v1/units/{unit_id}/keys")["items"])

    def revoke_unit_key(self, unit: Unit | str, key_id: str) -> UnitKey:
        unit_id = unit.id if isinstance(unit, Unit) else unit
        d = self._json(self._send("POST", f"/v1/units/{unit_id}/keys/{key_id}/revoke", body=_NO_BODY))
        self._keep(Receipt.from_json(d["receipt"]))
        return UnitKey.from_json(d["key"])

    def plan(
        self,
        operation: Operation | str,
        *,
        version: int | None = None,
        known_conflict_tokens: Iterable[str] = (),
        idempotency_key: str | None = None,
        override: Mapping[str, str] | None = None,
    ) -> WriteResult:
        """draft -> planned, with the token of every open conflict (``override`` as for ``activate``,
        where the policy makes planning wait for acknowledgements)."""
        body = {"known_conflict_tokens": list(known_conflict_tokens), **_overrides(override)}
        return self._transition("plan", operation, version, body, idempotency_key)

    def activate(
        self,
        operation: Operation | str,
        *,
        version: int | None = None,
        known_conflict_tokens: Iterable[str] = (),
        idempotency_key: str | None = None,
        override: Mapping[str, str] | None = None,
    ) -> WriteResult:
        """planned -> active, with the token of every open conflict. A conflict whose kind needs the
        other side's acknowledgement (by default a protected site, an agreed zone, a line band) must have
        it, else ``AwaitingAcknowledgement``; or ``override`` maps its id to a reason (a deliberate
        decision: recorded in the ledger and told at once to the other side and the coordinators)."""
        body = {"known_conflict_tokens": list(known_conflict_tokens), **_overrides(override)}
        return self._transition("activate", operation, version, body, idempotency_key)

    def end(
        self, operation: Operation | str, *, version: int | None = None, idempotency_key: str | None = None
    ) -> WriteResult:
        """active -> ended; its conflicts resolve."""
        return self._transition("end", operation, version, _NO_BODY, idempotency_key)

    def cancel(
        self, operation: Operation | str, *, version: int | None = None, idempotency_key: str | None = None
    ) -> WriteResult:
        """draft, planned or active -> cancelled; its conflicts resolve."""
        return self._transition("cancel", operation, version, _NO_BODY, idempotency_key)

    # ---------------------------------------------------------------------------------------- conflicts

    def list_conflicts(
        self,
        *,
        state: ConflictState | None = None,
        operation: Operation | str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
        as_of: Time | None = None,
    ) -> Page[Conflict]:
        """The conflicts the caller is a side of (the coordinator: all), in its view; without ``state``
        every one but the expired ones (``state="expired"`` reads those); ``as_of``: as the caller was
        told them then."""
        params = _page_params(cursor, limit, as_of)
        if state is not None:
            params["state"] = state
        if operation is not None:
            params["operation"] = operation.id if isinstance(operation, Operation) else operation
        return Page.from_json(self._get("/v1/conflicts", params), Conflict.from_json)

    def iter_conflicts(
        self,
        *,
        state: ConflictState | None = None,
        operation: Operation | str | None = None,
        as_of: Time | None = None,
    ) -> Iterator[Conflict]:
        return _every(lambda cursor: self.list_conflicts(state=state, operation=operation, cursor=cursor, as_of=as_of))

    def get_conflict(self, conflict_id: str, *, as_of: Time | None = None) -> Conflict:
        return Conflict.from_json(self._get(f"/v1/conflicts/{conflict_id}", _page_params(None, None, as_of)))

    # ------------------------------------------------------------------------------------------- ledger

    def export_ledger(self, *, after: int = 0, page_size: int = 1000) -> list[bytes]:
        """The ledger as the caller may see it, every page up to the head, as one export's lines (no
        newline): the pages' entries after a header that spans them, in canonical form, so it verifies
        like a single export (``deconfliction.domain.ledger.verify``, ``deconflict ledger verify``)."""
        if not 1 <= page_size <= LEDGER_PAGE_MAX:
            raise ValueError(f"page_size is 1 to {LEDGER_PAGE_MAX}")
        headers: list[dict[str, Any]] = []
        entries: list[bytes] = []
        while True:
            page = self._ok(self._send("GET", "/v1/ledger", params={"after": after, "limit": page_size}))
            lines = page.content.splitlines()
            header = orjson.loads(lines[0])
            if header.get("after_seq") != after:
                raise ValueError(f"the service answered a page after {header.get('after_seq')}, not after {after}")
            headers.append(header)
            entries.extend(lines[1:])
            until = int(header["until_seq"])
            if until >= int(header["head"]["seq"]) or until == after:
                break
            after = until
        spanning = {**headers[0], "until_seq": headers[-1]["until_seq"], "head": headers[-1]["head"]}
        return [canonical(spanning), *entries]

    def ledger_head(self) -> LedgerHead:
        return LedgerHead.from_json(self._get("/v1/ledger/head"))

    def service_key(self) -> ServiceKey:
        return ServiceKey.from_json(self._get("/v1/ledger/service-key"))

    def verify_receipts(self, export_lines: Iterable[bytes | str] | None = None) -> Report:
        """Check every kept receipt against an export: the party's own, fetched whole when no lines are
        given. The report says how many receipts' service signatures were checked (``receipts_signed``)
        and lists each receipt that is not in the chain or whose signature fails (``problems``)."""
        lines = self.export_ledger() if export_lines is None else export_lines
        return verify(lines, receipts=[r.to_json() for r in self.receipts])

    # -------------------------------------------------------------------------------------------- I/O

    # -------------------------------------------------------------------------------------- tracks

    def claim_track(self, track_id: str, reason: str | None = None) -> TrackStatement:
        """ "Ours": a live track of no party becomes the caller's (``TrackNotClaimable`` when it is a
        party's already, ``NotFound`` when there is none)."""
        return self._track_statement("claim", track_id, reason)

    def disclaim_track(self, track_id: str, reason: str | None = None) -> TrackStatement:
        """ "Not ours": of one's own track (it becomes of no party), or of a track of no party."""
        return self._track_statement("disclaim", track_id, reason)

    def _track_statement(self, verb: str, track_id: str, reason: str | None) -> TrackStatement:
        body = {"reason": reason} if reason is not None else {}
        # not retried after the service may have applied it: a second claim would be refused, not repeated
        r = self._send("POST", f"/v1/tracks/{quote(track_id, safe='')}/{verb}", body=body, idempotent=False)
        done = TrackStatement.from_json(self._json(r))
        self._keep(done.receipt)
        return done

    def _transition(
        self, verb: str, operation: Operation | str, version: int | None, body: Any, idempotency_key: str | None
    ) -> WriteResult:
        op_id, expected = _ref(operation, version)
        return self._write("POST", f"/v1/operations/{op_id}/{verb}", body, expected, idempotency_key)

    def _write(
        self, method: str, path: str, body: Any, version: int | None, idempotency_key: str | None
    ) -> WriteResult:
        headers = {"Idempotency-Key": idempotency_key or f"dc-{uuid.uuid4()}"}
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        r = self._ok(self._send(method, path, body=body, headers=headers))
        result = WriteResult.from_json(r.json(), replayed=r.headers.get("Idempotent-Replayed") == "true")
        self._keep(result.receipt)
        return result

    def _key_change(self, r: httpx.Response) -> KeyChange:
        d = self._json(r)
        change = KeyChange(SigningKey.from_json(d["key"]), Receipt.from_json(d["receipt"]))
        self._keep(change.receipt)
        return change

    def _keep(self, receipt: Receipt) -> None:
        if receipt not in self.receipts:  # a replayed answer carries the first receipt again
            self.receipts.append(receipt)

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._json(self._send("GET", path, params=params))

    def _json(self, r: httpx.Response) -> Any:
        return self._ok(r).json()

    @staticmethod
    def _ok(r: httpx.Response) -> httpx.Response:
        if r.is_success:
            return r
        raise error_for(r)

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Any = _NO_BODY,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool = True,
        retry_5xx: bool = True,
    ) -> httpx.Response:
        """The one place requests go out. A write's body is serialised once: those bytes are sent on
        every attempt (the Idempotency-Key's fingerprint covers them) and what they parse back to is
        what gets signed. A write is signed anew on every attempt (see the package docstring).

        Retried: a request that never reached the service (connect errors), and, when ``idempotent``,
        one whose answer was lost or was a 5xx."""
        is_write = method != "GET"
        content = None if body is _NO_BODY or not is_write else orjson.dumps(body)
        signed_body = None if content is None else orjson.loads(content)
        attempt = 0
        while True:
            request = self._http.build_request(method, path, params=params, content=content, headers=headers)
            if content is not None:
                request.headers["Content-Type"] = "application/json"
            if is_write and self.signing_key is not None:
                request.headers.update(
                    sign_request(self.signing_key, method, request.url.path, signed_body, datetime.now(UTC))
                )
            try:
                response = self._http.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt >= self.retries:
                    raise
            except httpx.TransportError:
                if not idempotent or attempt >= self.retries:
                    raise
            else:
                if not (retry_5xx and idempotent and response.status_code in RETRY_STATUSES) or attempt >= self.retries:
                    return response
                response.close()
            time.sleep(self.backoff * 2**attempt)
            attempt += 1


def _unit(unit: Unit | str | None) -> dict[str, str]:
    if unit is None:
        return {}
    return {"unit": unit.id if isinstance(unit, Unit) else unit}


def _contact_json(c: Contact | Mapping[str, Any]) -> dict[str, Any]:
    return c.to_json() if isinstance(c, Contact) else dict(c)


def _ref(operation: Operation | str, version: int | None) -> tuple[str, int]:
    if isinstance(operation, Operation):
        return operation.id, operation.version if version is None else version
    if version is None:
        raise ValueError("give the version (If-Match) with an operation id, or pass the Operation")
    return operation, version


def _volume_json(v: Volume | Mapping[str, Any]) -> Any:
    return v.to_json() if isinstance(v, Volume) else dict(v)


def _page_params(cursor: str | None, limit: int | None, as_of: Time | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if as_of is not None:
        params["as_of"] = format_time(as_of)
    if cursor is not None:
        params["cursor"] = cursor
    if limit is not None:
        params["limit"] = limit
    return params


def _every(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _overrides(override: Mapping[str, str] | None) -> dict[str, Any]:
    """The body's ``override`` member: one {"conflict", "reason"} per conflict id; none when empty."""
    if not override:
        return {}
    return {"override": [{"conflict": cid, "reason": reason} for cid, reason in override.items()]}
