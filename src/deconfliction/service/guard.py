"""Limits on guessing (docs/security.md): failed authentications are counted per source address and per
claimed party in the database, so every server process sees the same count; past
``Limits.auth_failures_max`` within ``Limits.auth_failures_window_s`` the answer is 429 with the seconds
to wait. The failure that reaches the limit is a ledger entry (``auth.locked_out``) the coordinator sees
(and the party, when the lock is on it). Each failure is logged with its kind, address and claimed party,
never the secret that was tried.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from deconfliction.domain.party import Party
from deconfliction.errors import NotAuthenticated, TooManyFailures
from deconfliction.service.events import emit
from deconfliction.service.runtime import Runtime
from deconfliction.store.ports import Transaction


def address_scope(address: str) -> str:
    return f"address:{address}"


def party_scope(party_id: str) -> str:
    return f"party:{party_id}"


def _locked(rt: Runtime, tx: Transaction, scopes: list[str]) -> None:
    limit, window = rt.limits.auth_failures_max, timedelta(seconds=rt.limits.auth_failures_window_s)
    now = rt.clock()
    for scope in scopes:
        count, oldest = tx.auth_failures.window(scope, now - window)
        if count >= limit and oldest is not None:
            retry = max(1, math.ceil((oldest + window - now).total_seconds()))
            kind, _, _ = scope.partition(":")
            raise TooManyFailures(
                f"{count} failed authentications from this {kind} in the last {window.total_seconds():g} s; "
                f"try again in {retry} s",
                retry_after_s=retry,
            )


def refuse_if_locked(rt: Runtime, scopes: list[str]) -> None:
    """429 ``too_many_failures`` when any of these scopes has reached the limit in the window."""
    with rt.store.glance() as tx:  # one count per scope, each as fresh as can be: no snapshot needed
        _locked(rt, tx, scopes)


def record_failure(rt: Runtime, kind: str, address: str | None, party_id: str | None = None) -> None:
    """Count one failed authentication (``kind``: api_key, certificate or signature) against the address
    and the claimed party; a ledger entry for the failure that reaches the limit."""
    limit, window_s = rt.limits.auth_failures_max, rt.limits.auth_failures_window_s
    now = rt.clock()
    since = now - timedelta(seconds=window_s)
    scopes = [s for s in (address and address_scope(address), party_id and party_scope(party_id)) if s]
    counts = {}
    locked: list[str] = []
    with rt.store.write() as tx:
        for scope in scopes:
            counts[scope] = count = tx.auth_failures.record(scope, now, since)
            if count == limit:  # once per lock: the failure that reaches the limit, not each refused one after
                locked.append(scope)
                on_party = scope.startswith("party:")
                tx.events.append(
                    at=now,
                    actor_id=None,
                    type="auth.locked_out",
                    subject_id=scope,
                    payload={
                        "scope": scope,
                        "kind": kind,
                        "address": address,
                        "party": party_id,
                        "failures": count,
                        "window_s": window_s,
                        "until": (now + timedelta(seconds=window_s)).isoformat().replace("+00:00", "Z"),
                    },
                    audience=[party_id] if on_party and party_id else [],  # the coordinator reads every entry
                )
    emit(  # counted by kind in the metrics; never the secret that was tried
        rt,
        "auth.failed",
        f"authentication failed: {kind} from {address or 'unknown address'}"
        + (f" claiming party {party_id}" if party_id else "")
        + f" ({', '.join(f'{s}: {n}' for s, n in counts.items())} in {window_s} s)",
        kind=kind,
        address=address,
        party=party_id,
        failures=counts,
    )
    for scope in locked:
        emit(
            rt,
            "auth.locked_out",
            f"locked out: {scope} reached {limit} failed authentications in {window_s} s ({kind})",
            scope=scope,
            scope_kind=scope.partition(":")[0],
            kind=kind,
            address=address,
            party=party_id,
            window_s=window_s,
        )


def guarded(
    rt: Runtime, kind: str, address: str | None, look_up: Callable[[Transaction], Party | None], refusal: str
) -> Party:
    """The party ``look_up`` finds, unless the address is locked out (429), in one read of the store;
    a caller it does not find is refused with ``refusal`` (401) and counted against the address."""
    with rt.store.read() as tx:
        if address:
            _locked(rt, tx, [address_scope(address)])
        party = look_up(tx)
    if party is None:
        record_failure(rt, kind, address)
        raise NotAuthenticated(refusal)
    return party
