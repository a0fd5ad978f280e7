"""The exactness rule on recorded traffic: how many tactical alerts comparing the minima exactly as
declared removes, and whether every alert it keeps is the same. A benchmark, not a test
(bench/README.md).

The sample is a day of real air traffic over Switzerland (OpenSky Network ADS-B, 1 August 2018, 05:00 to
22:00 UTC, 842 aircraft, one state every 10 s) that the ``traffic`` library (MIT) ships as
``traffic/data/samples/collections/switzerland.json.gz``. It is not copied into this repository; the
script reads it from an installed ``traffic`` package, from the library's wheel (``pip download
--no-deps traffic==2.13``), or from the ``.json.gz`` itself (``--sample``). Without it, ``--synthetic``
runs on made-up traffic at flight levels, labelled as such.

Each state becomes a position report as an SBS-1 feed gives it (altitude in feet times 0.3048, speed in
knots, vertical rate in ft/min), all aircraft of one party checked against each other. The replay runs the
service's own detection cycle (``TacticalService.cycle``: the track store, the pass with the hysteresis
margins, the alert lifecycle) every ``--step`` seconds of the sample, twice: with the minima compared as
before (plain floating-point ``<``: the comparison this rule replaced, swapped back in for the run) and as
declared (``deconfliction.domain.minima``). It prints, per earth model:

* **passes**: the pairs each pass finds losing separation under the policy's minima, summed over the
  passes, before and after; the ones removed (with their altitude difference at the closest approach) and
  any added (there must be none);
* **alerts**: the alerts raised over the day, before and after, removed, added (none), and whether every
  alert both runs raise is identical: the same pair, raised and resolved in the same cycles, and in every
  cycle the same prediction (loss time, closest time, distances). Bitwise equal, or how far apart.

Exit status 0 when nothing is added (no pair-loss, no pair of aircraft newly alerted) and every kept
pair-loss is bitwise identical, except where the rule itself acts (the pair is exactly 1,000 ft apart
when its loss starts, so the vertical window opens half a millimetre of altitude later) or within 10 ms
and 1 mm (rounding inside the minimisation); 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import json
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deconfliction.domain.tactical import AlertKind, PositionReport, TacticalPolicy, validate_report  # noqa: E402
from deconfliction.domain.tactical import detect as tactical_detect  # noqa: E402
from deconfliction.domain.tactical.flat import EarthModel  # noqa: E402
from deconfliction.errors import InvalidInput  # noqa: E402
from deconfliction.service.tactical.cycle import TacticalService  # noqa: E402
from deconfliction.store.tracks import TrackStore  # noqa: E402

SAMPLE = "traffic/data/samples/collections/switzerland.json.gz"
FT, KT, FPM = 0.3048, 1852.0 / 3600.0, 0.3048 / 60.0
TIME_TOL_S, DIST_TOL_M = 0.010, 0.001
PARTY = "traffic"


# ------------------------------------------------------------------------------------------------ traffic


def sample_bytes(path: Path | None) -> tuple[bytes, str]:
    """The sample's gzipped JSON and where it came from."""
    if path is None:
        spec = importlib.util.find_spec("traffic")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("no --sample given and no 'traffic' package installed")
        path = Path(next(iter(spec.submodule_search_locations))).parent / SAMPLE
    if path.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(path) as z:
            return z.read(SAMPLE), f"{path.name}:{SAMPLE}"
    return path.read_bytes(), str(path)


def recorded(path: Path | None) -> tuple[list[PositionReport], str]:
    raw, where = sample_bytes(path)
    rows = json.loads(gzip.decompress(raw))
    out = []
    bad = 0
    for r in rows:
        try:
            out.append(
                validate_report(
                    PARTY,
                    r["icao24"],
                    datetime.fromtimestamp(r["timestamp"] / 1000.0, UTC),
                    float(r["latitude"]),
                    float(r["longitude"]),
                    float(r["altitude"]) * FT,
                    float(r["groundspeed"]) * KT,
                    float(r["track"]),
                    float(r["vertical_rate"]) * FPM,
                    (r.get("callsign") or "").strip() or None,
                    "sbs",
                )
            )
        except (InvalidInput, TypeError, ValueError, KeyError):
            bad += 1
    out.sort(key=lambda rep: rep.time)
    aircraft = len({rep.track_id for rep in out})
    span = (out[-1].time - out[0].time).total_seconds() / 3600.0
    return out, f"{where}: {len(out):,} states of {aircraft} aircraft over {span:.1f} h ({bad} unreadable)"


def synthetic(seed: int) -> tuple[list[PositionReport], str]:
    """Made-up traffic (not a recording): 300 aircraft over 400 x 400 km for an hour, 70 % level at flight
    levels FL250 to FL400 in feet, the others climbing or descending at 500 to 2,000 ft/min."""
    rng = np.random.default_rng(seed)
    t0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    out = []
    for k in range(300):
        lat, lon = 46.8 + rng.uniform(-1.8, 1.8), 8.2 + rng.uniform(-2.6, 2.6)
        trk, gs = rng.uniform(0, 360), rng.uniform(180, 250)
        level = rng.random() < 0.7
        ft = float(rng.integers(250, 401)) * 100
        fpm = 0.0 if level else float(rng.choice([-1, 1]) * rng.integers(5, 21) * 100)
        for s in range(0, 3600, 10):
            d = gs * s
            la = lat + np.degrees(d * np.cos(np.radians(trk)) / 6.371e6)
            lo = lon + np.degrees(d * np.sin(np.radians(trk)) / (6.371e6 * np.cos(np.radians(la))))
            alt_ft = max(0.0, ft + fpm * s / 60.0)
            rep = validate_report(
                PARTY, f"{k:06X}", t0 + timedelta(seconds=s), float(la), float(lo), alt_ft * FT, gs, trk, fpm * FPM
            )
            out.append(rep)
    out.sort(key=lambda rep: rep.time)
    return out, "synthetic traffic (not a recording): 300 aircraft, 1 h, 70 % level at flight levels"


# ------------------------------------------------------------------------------------------------ the rule


@contextlib.contextmanager
def plain_comparison() -> Iterator[None]:
    """The comparison before the exactness rule: the declared minimum itself and a plain ``<``."""
    saved = tactical_detect.threshold_m, tactical_detect.closer_than
    tactical_detect.threshold_m = lambda minimum: minimum  # type: ignore[assignment]
    tactical_detect.closer_than = lambda distance, minimum: distance < minimum  # type: ignore[assignment]
    try:
        yield
    finally:
        tactical_detect.threshold_m, tactical_detect.closer_than = saved


# ------------------------------------------------------------------------------------------------ replay

Pair = tuple[str, str]


@dataclass
class Replay:
    cycles: int = 0
    seconds: float = 0.0
    losses: dict[tuple[int, Pair], tuple[float, ...]] = field(default_factory=dict)
    """(cycle, pair) -> (t_in, t_cpa, horizontal, vertical, now) of every core loss of every pass."""
    alerts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """alert key -> {"pair", "raised", "resolved", "predictions": {cycle: (loss_at, closest_at, h, v, now)}}."""


def replay(reports: list[PositionReport], earth: EarthModel, step_s: float) -> Replay:
    clock_now = [reports[0].time]
    counter = iter(range(10**9))
    service = TacticalService(
        TacticalPolicy(same_party=True),
        lambda: clock_now[0],
        lambda: f"al_{next(counter)}",
        TrackStore(expiry_s=30.0),
        earth_model=earth,
    )
    out = Replay()
    k = 0
    start = reports[0].time
    end = reports[-1].time
    n = 0
    t = start
    keys: dict[str, str] = {}
    began = time.perf_counter()
    while t <= end:
        batch = []
        while k < len(reports) and reports[k].time <= t:
            batch.append(reports[k])
            k += 1
        if batch:
            service.ingest(batch)
        report = service.cycle()
        for ch in report.changes:
            a = ch.alert
            if a.kind is not AlertKind.TRACKS:
                continue
            pair = tuple(sorted((a.subjects[0][1], a.subjects[1][1])))
            key = keys.setdefault(a.id, f"{pair[0]}-{pair[1]}@{n}" if ch.change == "raised" else a.id)
            if ch.change == "raised":
                out.alerts[key] = {"pair": pair, "raised": n, "resolved": None, "predictions": {}}
            elif ch.change == "resolved":
                out.alerts[key]["resolved"] = n
        for a in service.alerts(None):
            if a.kind is AlertKind.TRACKS and a.last_found_at == t:
                p = a.prediction
                out.alerts[keys[a.id]]["predictions"][n] = (
                    (p.loss_at - t).total_seconds(),
                    (p.closest_at - t).total_seconds(),
                    p.horizontal_m,
                    p.vertical_m,
                    p.now,
                )
        snap = service.store.snapshot(t)
        if len(snap) >= 2 and report.stats is not None:
            core = core_losses(service, snap, earth)
            for (i, j), values in core.items():
                pair = tuple(sorted((snap.keys[i][1], snap.keys[j][1])))
                out.losses[(n, pair)] = values  # type: ignore[index]
        n += 1
        t += timedelta(seconds=step_s)
        clock_now[0] = t
    out.cycles = n
    out.seconds = time.perf_counter() - began
    return out


def core_losses(service: TacticalService, snap: Any, earth: EarthModel) -> dict[tuple[int, int], tuple[float, ...]]:
    """The pass under the policy's own minima (no hysteresis margins) on the cycle's picture."""
    from deconfliction.domain.tactical.detect import detect
    from deconfliction.domain.tactical.flat import FlatTracks, detect_flat
    from deconfliction.domain.tactical.motion import motion_from_reports

    c = snap.columns
    cols = (c["lat"], c["lon"], c["alt"], c["gs"], c["trk"], c["vs"], c["t"])
    table = service.policy.table(snap.parties)
    if earth == "flat":
        losses, _ = detect_flat(FlatTracks.from_reports(snap.at, *cols), snap.party, table)
    else:
        losses, _ = detect(motion_from_reports(snap.at, *cols), snap.party, table)
    alt_now = c["alt"] + c["vs"] * (snap.at - c["t"])
    out = {}
    for k in range(len(losses)):
        i, j = int(losses.i[k]), int(losses.j[k])
        out[(i, j)] = (
            float(losses.t_in_s[k]),
            float(losses.t_cpa_s[k]),
            float(losses.horizontal_m[k]),
            float(losses.vertical_m[k]),
            float(losses.now[k]),
            float(alt_now[j] - alt_now[i]),
            float(c["vs"][j] - c["vs"][i]),
        )
    return out


def at_the_edge(values: tuple[float, ...], minimum_m: float = 1000 * FT) -> bool:
    """Whether the pair's altitude difference is the vertical minimum (within 1 mm) now, when its loss
    starts or at its closest approach (the start of its vertical window): where the rule moves the edge of
    the vertical window, by half a millimetre of altitude."""
    t_in, t_cpa, dz0, dw = values[0], values[1], values[5], values[6]
    return min(abs(abs(dz0 + dw * t) - minimum_m) for t in (0.0, t_in, t_cpa)) < 1e-3


# ------------------------------------------------------------------------------------------------ compare


def differences(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, bool]:
    """Largest difference in the times, in the distances, and whether the 'now' flags agree."""
    dt = max(abs(a[0] - b[0]), abs(a[1] - b[1]))
    dd = max(abs(a[2] - b[2]), abs(a[3] - b[3]))
    return dt, dd, bool(a[4]) == bool(b[4])


def compare(before: Replay, after: Replay) -> bool:
    ok = True
    # passes
    b, a = set(before.losses), set(after.losses)
    removed, added, kept = b - a, a - b, b & a
    vertical = Counter(round(before.losses[x][3] / FT) for x in removed)
    print(f"  passes ({before.cycles:,} cycles): pair-losses before {len(b):,}, after {len(a):,}")
    print(f"    removed {len(removed):,} ({100 * len(removed) / max(len(b), 1):.1f} %), added {len(added)}")
    if removed:
        common = ", ".join(f"{ft:,} ft: {n:,}" for ft, n in vertical.most_common(4))
        print(f"    removed pairs' altitude difference at the closest approach: {common}")
    differ = [x for x in kept if before.losses[x] != after.losses[x]]
    edge = [x for x in differ if at_the_edge(before.losses[x])]
    other = [differences(before.losses[x], after.losses[x]) for x in differ if not at_the_edge(before.losses[x])]
    print(f"    kept {len(kept):,}: {len(kept) - len(differ):,} bitwise identical")
    if edge:
        shifts = [differences(before.losses[x], after.losses[x]) for x in edge]
        nows = sum(1 for w in shifts if not w[2])
        print(
            f"    {len(edge):,} more changed where the rule itself acts: the pair's altitude difference is "
            f"exactly 1,000 ft when the loss starts or at its closest approach (a climb or descent), and the "
            f"vertical window now opens once it is half a millimetre closer: loss time later by at most "
            f"{max(w[0] for w in shifts) * 1000:.3f} ms, distance at the window's start by at most "
            f"{max(w[1] for w in shifts):.3f} m; {nows} no longer lost 'now' (exactly 1,000 ft apart at the pass)"
        )
    max_dt = max((w[0] for w in other), default=0.0)
    max_dd = max((w[1] for w in other), default=0.0)
    flags = all(w[2] for w in other)
    print(
        f"    {len(other):,} others changed (rounding in the minimisation): largest change "
        f"{max_dt * 1000:.6f} ms in the times, {max_dd * 1000:.6f} mm in the distances, "
        f"'now' {'the same' if flags else 'DIFFERS'}"
    )
    ok &= not added and max_dt <= TIME_TOL_S and max_dd <= DIST_TOL_M and flags
    # alerts
    kb, ka = set(before.alerts), set(after.alerts)
    pairs_b = {x["pair"] for x in before.alerts.values()}
    pairs_a = {x["pair"] for x in after.alerts.values()}
    print(f"  alerts raised over the day (the cycle, with its hysteresis): before {len(kb):,}, after {len(ka):,}")
    print(
        f"    pairs of aircraft ever alerted: before {len(pairs_b):,}, after {len(pairs_a):,}; "
        f"no longer alerted {len(pairs_b - pairs_a):,}, newly alerted {len(pairs_a - pairs_b)}"
    )
    both = kb & ka
    same = [k for k in both if before.alerts[k] == after.alerts[k]]
    print(
        f"    raised in the same cycle by both runs: {len(both):,}; of them {len(same):,} identical (resolved in "
        f"the same cycle, bitwise the same prediction in every cycle)"
    )
    why: Counter[str] = Counter()
    for key in both:
        x, y = before.alerts[key], after.alerts[key]
        if x == y:
            continue
        reasons = set()
        if x["resolved"] != y["resolved"]:
            reasons.add("resolved in another cycle")
        for c in set(x["predictions"]) | set(y["predictions"]):
            p, q = x["predictions"].get(c), y["predictions"].get(c)
            if p == q:
                continue
            if p is None or q is None:
                reasons.add("found in a cycle by one run only")
            elif any(abs(v[3] - m) < 1e-3 for v in (p, q) for m in (1000 * FT, 1100 * FT)):
                reasons.add("a prediction at exactly 1,000 ft (the minimum) or 1,100 ft (the margin)")
            elif differences(p, q)[0] <= TIME_TOL_S and differences(p, q)[1] <= 1.0:
                reasons.add("a vertical window's edge moved (<= 10 ms, <= 1 m)")
            else:
                reasons.add("OTHER")
        why[" + ".join(sorted(reasons))] += 1
    for reason, n in why.most_common():
        print(f"      {n:,} differ: {reason}")
    ok &= not (pairs_a - pairs_b)
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=Path, help="switzerland.json.gz, or the traffic library's wheel holding it")
    ap.add_argument("--synthetic", action="store_true", help="made-up traffic at flight levels instead")
    ap.add_argument("--earth", choices=["wgs84", "flat", "both"], default="both")
    ap.add_argument("--step", type=float, default=10.0, help="seconds of the sample between cycles (default 10)")
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    if args.synthetic:
        reports, source = synthetic(args.seed)
    else:
        try:
            reports, source = recorded(args.sample)
        except FileNotFoundError as exc:
            print(f"{exc}: see bench/README.md (or run with --synthetic)", file=sys.stderr)
            return 2
    print(f"== traffic: {source}")
    print("   policy: 5 NM / 1,000 ft / 300 s, hysteresis 926 m / 100 ft, every pair of aircraft checked")
    ok = True
    for earth in ("wgs84", "flat") if args.earth == "both" else (args.earth,):
        with plain_comparison():
            before = replay(reports, earth, args.step)
        after = replay(reports, earth, args.step)
        print(f"== earth model {earth} ({before.seconds:.0f} s and {after.seconds:.0f} s)")
        ok &= compare(before, after)
    print("== result:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
