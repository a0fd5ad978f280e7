"""BlueSky's CStateBased detector written out plainly, one ordered pair at a time, in Python.

A line-by-line transcription of ``bluesky/traffic/asas/src_cpp/cstatebased.cpp`` (``detect_hor``,
``detect_ver``, the loop over every ordered pair i != j) and of ``kwikdist`` / ``kwikqdr`` in
``bluesky/tools/geo/src_cpp/geo.hpp`` (BlueSky 1.1.1), with Python's ``math`` (the C library's functions)
and C's floating-point semantics where Python's differ: division by zero gives an infinity or NaN instead
of raising, and ``std::max`` / ``std::min`` keep their argument order (``std::max(a, b)`` is
``a < b ? b : a``), which decides what a NaN does. It shares no code with ``tactical.flat``: no NumPy, no
candidate stage, every pair, both orders. One deliberate change, the service's exactness rule
(``EXACTNESS_M``): the vertical minimum is compared as declared.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

RE = 6_371_000.0
DEG2RAD = 0.017453292519943295


@dataclass(frozen=True)
class Aircraft:
    lat: float
    lon: float
    alt: float
    gs: float
    trk: float
    vs: float
    party: int = 0


def c_div(a: float, b: float) -> float:
    """a / b as IEEE 754 (C) computes it."""
    if b == 0.0:
        if a == 0.0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def c_max(a: float, b: float) -> float:
    return b if a < b else a


def c_min(a: float, b: float) -> float:
    return b if b < a else a


def c_sqrt(a: float) -> float:
    return math.nan if math.isnan(a) or a < 0.0 else math.sqrt(a)


@dataclass
class Conf:
    tin: float = 0.0
    tout: float = 0.0
    los: bool = False


def detect_hor(
    conf: Conf,
    rpz: float,
    tlookahead: float,
    lat1: float,
    lon1: float,
    gs1: float,
    trk1: float,
    lat2: float,
    lon2: float,
    gs2: float,
    trk2: float,
) -> bool:
    u1 = gs1 * math.sin(trk1)
    v1 = gs1 * math.cos(trk1)
    u2 = gs2 * math.sin(trk2)
    v2 = gs2 * math.cos(trk2)
    du = u1 - u2
    dv = v1 - v2
    # kwik_in, kwikdist, kwikqdr
    dlat = lat2 - lat1
    dlon = lon2 - lon1
    cavelat = math.cos(0.5 * (lat1 + lat2))
    d = RE * math.sqrt(dlat * dlat + dlon * dlon * cavelat * cavelat)
    q = math.fmod(math.atan2(dlon * cavelat, dlat), 360.0)
    dx = d * math.sin(q)
    dy = d * math.cos(q)
    vreldotdx = du * dx + dv * dy
    conf.los = d < rpz
    if vreldotdx < 0.0 and not conf.los:
        return False
    vrel2 = du * du + dv * dv
    tcpa = c_div(vreldotdx, vrel2)
    cpa2 = d * d - vreldotdx * tcpa
    dt = c_sqrt(c_div(c_max(rpz * rpz - cpa2, 0.0), vrel2))
    conf.tin = tcpa - dt
    conf.tout = tcpa + dt
    return conf.los or conf.tin <= tlookahead


EXACTNESS_M = 0.0005
"""The one change to BlueSky's test, restated here on its own: the vertical minimum is compared as
declared, so altitudes less than half a millimetre closer than ``hpz`` are separated (docs/tactical.md).
BlueSky compares the floats, and adjacent flight levels converted from feet then conflict or not by
rounding."""


def detect_ver(conf: Conf, hpz: float, tlookahead: float, dalt: float, dvs: float) -> bool:
    hpz = hpz - EXACTNESS_M
    conf.los = abs(dalt) < hpz
    if abs(dvs) > 1e-6:
        tcrosshi = c_div(dalt + hpz, -dvs)
        tcrosslo = c_div(dalt - hpz, -dvs)
        conf.tin = c_max(0.0, c_min(tcrosslo, tcrosshi))
        conf.tout = c_max(tcrosslo, tcrosshi)
        return conf.tin <= tlookahead and conf.tout > 0.0
    conf.tin = 0.0
    conf.tout = 1e4
    return conf.los


def evaluate(own: Aircraft, intruder: Aircraft, rpz: float, hpz: float, tlook: float) -> tuple[bool, bool]:
    """The body of cstatebased.cpp's loop for ownship ``own`` and ``intruder``: whether the pair goes into
    ``confpairs``, and whether also into ``lospairs``."""
    confver, confhor = Conf(), Conf()
    dalt = own.alt - intruder.alt
    dvs = own.vs - intruder.vs
    if not detect_ver(confver, hpz, tlook, dalt, dvs):
        return False, False
    if not detect_hor(
        confhor,
        rpz,
        tlook,
        own.lat * DEG2RAD,
        own.lon * DEG2RAD,
        own.gs,
        own.trk * DEG2RAD,
        intruder.lat * DEG2RAD,
        intruder.lon * DEG2RAD,
        intruder.gs,
        intruder.trk * DEG2RAD,
    ):
        return False, False
    tin = c_max(confhor.tin, confver.tin)
    tout = c_min(confhor.tout, confver.tout)
    if tin <= tlook and tin < tout and tout > 0.0:
        return True, confver.los and confhor.los
    return False, False


def _pairs(aircraft: list[Aircraft], rpz: float, hpz: float, tlook: float, which: int) -> set[tuple[int, int]]:
    out = set()
    for i, j in itertools.permutations(range(len(aircraft)), 2):
        if evaluate(aircraft[i], aircraft[j], rpz, hpz, tlook)[which]:
            out.add((min(i, j), max(i, j)))
    return out


def conflict_pairs(aircraft: list[Aircraft], rpz: float, hpz: float, tlook: float) -> set[tuple[int, int]]:
    """BlueSky's ``confpairs`` over every ordered pair, as unordered pairs (i < j)."""
    return _pairs(aircraft, rpz, hpz, tlook, 0)


def los_pairs(aircraft: list[Aircraft], rpz: float, hpz: float, tlook: float) -> set[tuple[int, int]]:
    """BlueSky's ``lospairs`` (in conflict and already too close), as unordered pairs (i < j)."""
    return _pairs(aircraft, rpz, hpz, tlook, 1)
