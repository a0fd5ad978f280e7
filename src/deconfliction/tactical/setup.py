"""Builds the tactical service from the settings: the policy file, the feeds and their parties."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deconfliction.domain.tactical import TacticalPolicy
from deconfliction.errors import InvalidInput
from deconfliction.service.notifications import notify_alert
from deconfliction.service.runtime import Runtime
from deconfliction.tactical.cycle import TacticalService, log_changes
from deconfliction.tactical.feeds import CotTcpListener, CotUdpListener, Endpoint, SbsClient, parse_endpoints
from deconfliction.tactical.store import TrackStore


def _party_ids(rt: Runtime) -> dict[str, str]:
    """Every party's name and id, mapped to its id (feeds and the policy file may use either)."""
    out: dict[str, str] = {}
    with rt.store.read() as tx:
        after = None
        while True:
            page = tx.parties.list(after=after, limit=500)
            for p in page:
                out[p.name] = p.id
                out[p.id] = p.id
            if len(page) < 500:
                return out
            after = page[-1].id


def load_policy(path: str | None, party_ids: dict[str, str]) -> TacticalPolicy:
    """The tactical policy of a JSON file (docs/tactical.md), or the defaults; a bad file stops the start
    with the file's name and every field at fault."""
    if not path:
        return TacticalPolicy()
    raw: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"DECONFLICTION_TACTICAL_POLICY_FILE {path}: expected a JSON object")
    try:
        return TacticalPolicy.from_mapping(raw, party_ids)
    except InvalidInput as exc:
        reasons = "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
        raise ValueError(f"DECONFLICTION_TACTICAL_POLICY_FILE {path}: {reasons}") from None


def build_tactical(
    rt: Runtime,
    *,
    cycle_s: float,
    expiry_s: float,
    policy_file: str | None,
    sbs_feeds: str | None,
    cot_udp: str | None,
    cot_tcp: str | None,
) -> TacticalService:
    needs_parties = bool(policy_file or sbs_feeds or cot_udp or cot_tcp)
    party_ids = _party_ids(rt) if needs_parties else {}
    service = TacticalService(
        policy=load_policy(policy_file, party_ids),
        clock=rt.clock,
        new_id=lambda: rt.ids.new_id("al"),
        store=TrackStore(expiry_s=expiry_s),
        cycle_s=cycle_s,
        listeners=[log_changes, lambda change: notify_alert(rt, change)],
    )

    def party_of(ep: Endpoint, setting: str) -> str:
        if ep.party not in party_ids:
            raise ValueError(f"{setting}: no party named {ep.party!r}")
        return party_ids[ep.party]

    make: list[tuple[str | None, str, Callable[[Endpoint, str], SbsClient | CotUdpListener | CotTcpListener]]] = [
        (sbs_feeds, "DECONFLICTION_SBS_FEEDS", lambda ep, pid: SbsClient(ep, pid, service.ingest, rt.clock)),
        (cot_udp, "DECONFLICTION_COT_UDP", lambda ep, pid: CotUdpListener(ep, pid, service.ingest, rt.clock)),
        (cot_tcp, "DECONFLICTION_COT_TCP", lambda ep, pid: CotTcpListener(ep, pid, service.ingest, rt.clock)),
    ]
    for raw, setting, factory in make:
        for ep in parse_endpoints(raw, setting):
            service.add_feed(factory(ep, party_of(ep, setting)))
    return service
