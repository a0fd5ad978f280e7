"""One tactical detection pass: every pair of tracks predicted to lose separation within the look-ahead.

A pair (i, j) **loses separation** when there is a time ``t`` in ``[0, T]`` (seconds after the pass time)
at which, both extrapolated straight ahead (``tactical.motion``), their horizontal distance (the geodesic
on the WGS84 surface between the points below them) is below ``S`` *and* their altitudes differ by less
than ``V``; ``S``, ``V`` and ``T`` come from the rule of the pair's two parties. That is the closest point
of approach restricted to the times when the pair is vertically too close. "Below" and "less than" are
the exactness rule (``minima``: by more than half a millimetre), so aircraft exactly ``V`` apart, such as
two at adjacent flight levels, are separated whatever rounding their conversion from feet left;
``judge_pairs`` applies it to ``V`` for every earth model.

The pass is vectorised with NumPy and its memory grows with the number of tracks plus the number of
nearby pairs, never with their square. It runs in three stages; docs/tactical.md proves each bound.

1. **Candidates** (``candidate_pairs``). The look-ahead is cut into a few slabs of ``tau`` seconds. In each
   slab every track is a box: in a gnomonic frame (central projection onto a tangent plane, where the
   path of a slab lies within ``sigma * kappa_max * L^2 / 8`` of the segment between its end points), the
   box of that segment grown by ``sigma * (S/2 + margins)``; in altitude, the interval it spans grown by
   ``V/2``. ``sigma`` bounds the frame's stretch. Two tracks can only lose separation during a slab if
   their boxes overlap. Overlapping boxes are found exactly: cells in (y, altitude) no smaller than the
   boxes, each box entered in the 1-4 cells it touches, a sort by (cell, x) and a sweep in x; a pair is
   kept in the one cell holding the low corner of the two boxes' intersection. Traffic spread over more
   than 55 degrees from its centre is split among the six faces of a cube, each with its own frame.
2. **Linear screen** (``_screen``). Each candidate's relative motion as straight lines in Earth-centred
   coordinates from the pass time, projected on the plane normal to the pair's mean vertical, gives a
   quadratic whose minimum over the vertical window is ``m~``; ``m~ - e`` (``e`` from the curvature of
   the two paths) is a lower bound of the true minimum, so pairs with ``m~ - e >= S`` are clear.
3. **Measuring** the rest: both osculating circles at the screen's closest time give a distance that is an
   upper bound of the minimum (within the circle model's error): below ``S`` means a loss of separation.
   The few pairs left in between are minimised on the circle model (Newton on the squared chord where it
   settles, a scan and golden section elsewhere, both ends of the window compared) and decided there:
   exact within ``2 * circle error + 1 mm``.

This is the exact earth model ("wgs84"), the default. The other one, "flat" (``tactical.flat.detect_flat``),
gives the pairs of BlueSky's flat-earth detector for compatibility with tools built on it; it shares
stage 1 (``candidate_pairs`` with ``widen_m``) and replaces stages 2 and 3 by BlueSky's own test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from deconfliction.domain.minima import closer_than, threshold_m
from deconfliction.domain.tactical.motion import (
    KAPPA_MAX,
    WGS84_B,
    FloatArray,
    Motion,
    chord_to_geodesic,
    circle_error_m,
)

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MAX_FRAME_ANGLE_DEG = 55.0
"""Traffic within this angle of its mean direction shares one gnomonic frame (stretch at most 3.04);
beyond it the six faces of a cube (every direction is within 54.74 degrees of a face centre) are used."""

SLAB_S_MIN = 10.0
SLAB_FLIGHT = 2.0
"""A slab lasts about the time the fastest track takes to fly SLAB_FLIGHT times the horizontal minimum."""
NUMERIC_M = 0.01
"""Allowance for floating-point rounding in frame coordinates (float64 on values below 1e7 m)."""


@dataclass(frozen=True)
class RuleTable:
    """The separation rule of every pair of parties, as dense (P, P) arrays indexed by party number."""

    horizontal_m: FloatArray
    vertical_m: FloatArray
    lookahead_s: FloatArray
    checked: BoolArray
    """False where the pair is not checked (by default: a party with itself)."""

    @property
    def max_horizontal_m(self) -> float:
        return float(self.horizontal_m[self.checked].max()) if self.checked.any() else 0.0

    @property
    def max_vertical_m(self) -> float:
        return float(self.vertical_m[self.checked].max()) if self.checked.any() else 0.0

    @property
    def max_lookahead_s(self) -> float:
        return float(self.lookahead_s[self.checked].max()) if self.checked.any() else 0.0


@dataclass(frozen=True)
class Losses:
    """Pairs predicted to lose separation, one row each (``i < j``, indices into the pass's tracks).

    ``t_in_s``: when separation is first lost (seconds after the pass time; 0 if already lost; from the
    linear screen, so within about ``screen error / closing speed`` of the truth); ``t_cpa_s``: the time
    of the smallest horizontal distance while vertically too close; ``horizontal_m``: that distance;
    ``vertical_m``: the altitude difference then; ``now``: separation is lost at the pass time already;
    ``rule``: the pair's (S, V, T)."""

    i: IntArray
    j: IntArray
    t_in_s: FloatArray
    t_cpa_s: FloatArray
    horizontal_m: FloatArray
    vertical_m: FloatArray
    now: BoolArray
    core: BoolArray
    """Lost under the narrower ``core`` rules given to ``detect`` (all true without them)."""
    rule_horizontal_m: FloatArray
    rule_vertical_m: FloatArray
    rule_lookahead_s: FloatArray

    def __len__(self) -> int:
        return int(self.i.shape[0])


@dataclass(frozen=True)
class PassStats:
    """What a pass did, for benchmarks and logs."""

    tracks: int
    candidates: int
    screened_clear: int
    measured: int
    refined: int
    losses: int
    regions: int
    slabs: int


# ------------------------------------------------------------------------------------------------ stage 1


def _slab_times(horizon_s: float, v_max: float, s_max: float) -> FloatArray:
    """Slab boundaries 0 = t0 < ... < tK = horizon. A slab lasts about the time to fly twice ``S``: longer
    slabs make bigger boxes, shorter ones more slabs (measured optimum on dense traffic)."""
    if horizon_s <= 0.0:
        return np.zeros(2)
    tau = SLAB_FLIGHT * s_max / v_max if v_max > 0.0 else horizon_s
    tau = min(max(tau, SLAB_S_MIN), horizon_s)
    k = max(1, math.ceil(horizon_s / tau - 1e-9))
    out: FloatArray = np.minimum(np.arange(k + 1, dtype=np.float64) * (horizon_s / k), horizon_s)
    return out


def _frame_basis(center: FloatArray) -> tuple[FloatArray, FloatArray]:
    c = center / np.linalg.norm(center)
    helper = np.array([0.0, 0.0, 1.0]) if abs(c[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(helper, c)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(c, e1)
    return e1, e2


_FACES = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0], [0, 0, 1.0], [0, 0, -1.0]], dtype=np.float64)
_CUBE_FACE_ANGLE = math.atan(math.sqrt(2.0))
"""Every direction is within 54.74 degrees of the nearest face centre of a cube."""


def _cosines(pos: tuple[FloatArray, FloatArray, FloatArray], radius: FloatArray, d: FloatArray) -> FloatArray:
    out: FloatArray = (pos[0] * d[0] + pos[1] * d[1] + pos[2] * d[2]) / radius
    return out


def _regions(
    pos: tuple[FloatArray, FloatArray, FloatArray], radius: FloatArray, center: FloatArray, reach_rad: float
) -> list[tuple[FloatArray, IntArray | None]]:
    """Frames (centre, member tracks or None for all) such that any two tracks that can come within the
    reach of each other in a slab are members of one common frame."""
    if float(_cosines(pos, radius, center).min()) >= math.cos(math.radians(MAX_FRAME_ANGLE_DEG)):
        return [(center, None)]
    out: list[tuple[FloatArray, IntArray | None]] = []
    # when a pair is within reach, track i is at some boundary point within the reach of a point of its
    # slab whose nearest face f is within 54.74 degrees; both tracks then have a boundary point within
    # 54.74 degrees + reach of f
    near = math.cos(_CUBE_FACE_ANGLE + reach_rad)
    for face in _FACES:
        member = (_cosines(pos, radius, face) >= near).any(axis=0)
        rows = np.flatnonzero(member).astype(np.int64)
        if rows.size > 1:
            out.append((face, rows))
    return out


def _boxes(
    pos: tuple[FloatArray, FloatArray, FloatArray],
    radius: FloatArray,
    alt: FloatArray,
    center: FloatArray,
    half_m: float | FloatArray,
    half_alt_m: float,
    sagitta_m: float,
) -> tuple[tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray], float]:
    """Per slab and track, the box (x, y, altitude) that holds the track during the slab in the gnomonic
    frame of ``center``, grown so that two tracks closer than 2 * half_m overlap; and the frame's stretch
    bound ``sigma``. Inputs (K+1, m); ``half_m`` one value, or one per slab (shape (K, 1))."""
    e1, e2 = _frame_basis(center)
    q = pos[0] * center[0] + pos[1] * center[1] + pos[2] * center[2]
    cos_min = float((q / radius).min())
    # the stretch of the frame: a surface displacement ds turns the direction seen from the centre of the
    # Earth by at most ds / b, which the projection (scaled by b) stretches by at most sec^2 of the angle
    # from the frame's centre
    reach = (float(np.max(half_m)) + sagitta_m) / WGS84_B
    cos_eff = math.cos(math.acos(min(1.0, max(-1.0, cos_min))) + reach)
    sigma = 1.0 / (cos_eff * cos_eff)
    inv_q = WGS84_B / q
    u = (pos[0] * e1[0] + pos[1] * e1[1] + pos[2] * e1[2]) * inv_q
    v = (pos[0] * e2[0] + pos[1] * e2[1] + pos[2] * e2[2]) * inv_q
    pad = sigma * (half_m + sagitta_m) + NUMERIC_M
    xl = np.minimum(u[:-1], u[1:])
    xh = np.maximum(u[:-1], u[1:])
    yl = np.minimum(v[:-1], v[1:])
    yh = np.maximum(v[:-1], v[1:])
    zl = np.minimum(alt[:-1], alt[1:])
    zh = np.maximum(alt[:-1], alt[1:])
    xl -= pad
    xh += pad
    yl -= pad
    yh += pad
    zl -= half_alt_m
    zh += half_alt_m
    return (xl, xh, yl, yh, zl, zh), sigma


_Q = 10_000
"""Quantization steps per cell size: bounds relative to a cell, in [-g, 2g), become integers in
[0, 30,000), 15 bits."""
_GUARD = np.int64((1 << 31) | (1 << 15))
_REF_BITS = np.int64(3 << 32)
_CONTIGUOUS_SHIFTS = 4


def _quantized(lo: FloatArray, hi: FloatArray, cell_lo: FloatArray, g: float) -> tuple[IntArray, IntArray]:
    """Bounds relative to the low edge of their box's first cell, as integers on a grid of g / _Q,
    rounded outwards (so the packed test can only keep more pairs than the exact one, never fewer), plus
    _Q so that the copy of the box one cell up is the same minus _Q."""
    step = g / _Q
    qlo = np.floor((lo - cell_lo) / step).astype(np.int64) + _Q
    qhi = np.ceil((hi - cell_lo) / step).astype(np.int64) + _Q
    return np.clip(qlo, 0, 3 * _Q), np.clip(qhi, 0, 3 * _Q)


def _radix_argsort(key: IntArray, bits: int) -> IntArray:
    """A stable argsort of non-negative integer keys below 2**bits, least significant 16 bits first: each
    pass is NumPy's stable sort of 16-bit digits, a radix sort, linear in the number of keys (on this
    machine five times faster than a comparison sort of 20,000 keys)."""
    order: IntArray = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    for shift in range(16, bits, 16):
        digit = ((key >> shift) & 0xFFFF).astype(np.uint16)
        order = order.take(np.argsort(digit.take(order), kind="stable"))
    return order


_X_BITS_MIN = 16
"""At least this many bits for a box's x bounds in the sort key (rounded outwards): 1/65,535 of the
frame's extent, 8 m on 500 km, far below the boxes' size."""
_MAX_CELLS = float(1 << 20)
"""At most about this many cells along y and along altitude: the sort key then fits in 58 bits."""


def _sweep(
    xl: FloatArray, xh: FloatArray, yl: FloatArray, yh: FloatArray, zl: FloatArray, zh: FloatArray
) -> tuple[IntArray, IntArray]:
    """Every pair of boxes that overlap in some slab (with repeats across slabs), as two index arrays.
    Arrays have shape (K, m).

    Each box is entered in the 1-4 cells of a (y, altitude) grid it touches (cells are no smaller than
    any box); entries are sorted by (cell, low x), and for each entry the following ones in the same cell
    whose low x is below its high x are exactly those overlapping it in x. The x bounds in the sort key
    are integers, rounded outwards (so the sweep can only keep more pairs, never fewer), so that a radix
    sort orders them. The y and altitude overlap is tested on bounds packed two to an integer (15 bits
    each, rounded outwards, with a guard bit above each field so that one subtraction compares both); a
    pair is kept only in the cell that holds the low corner of the two boxes' intersection, where neither
    entry is a copy shifted up. Slabs are swept one at a time, so that the arrays stay in the cache."""
    k_slabs, m = xl.shape
    x0 = float(xl.min())
    y0 = float(yl.min())
    z0 = float(zl.min())
    # cells no smaller than any box, nor than 1 / _MAX_CELLS of the extent (degenerate minima of a few
    # centimetres over a continent would otherwise overflow the integer keys)
    gy = max(float((yh - yl).max()) * (1.0 + 1e-9) + 1e-6, (float(yh.max()) - y0) / _MAX_CELLS)
    gz = max(float((zh - zl).max()) * (1.0 + 1e-9) + 1e-6, (float(zh.max()) - z0) / _MAX_CELLS)
    nz = int((float(zh.max()) - z0) / gz) + 2
    ny = int((float(yh.max()) - y0) / gy) + 2
    # the sort key: (cell, low x) with x on an integer grid filling the bits the cells leave free
    cell_bits = max(1, int(ny * nz - 1).bit_length())
    key_bits = -(-(cell_bits + _X_BITS_MIN) // 16) * 16
    x_bits = key_bits - cell_bits
    x_top = (1 << x_bits) - 1
    x_span = float(xh.max()) - x0
    inv_step = (x_top - 1) / x_span if x_span > 0.0 else 0.0
    items = np.arange(m, dtype=np.int64)
    # an entry one cell up in y: cell + nz, bounds - _Q in the y field, reference bit 33
    up_y_key, up_y_lo, up_y_hi = nz << x_bits, (1 << 33) - (_Q << 16), -(_Q << 16)
    up_z_key, up_z_lo, up_z_hi = 1 << x_bits, (1 << 32) - _Q, -_Q
    found_a: list[IntArray] = []
    found_b: list[IntArray] = []
    for k in range(k_slabs):
        fy = (yl[k] - y0) / gy
        fz = (zl[k] - z0) / gz
        iy0 = fy.astype(np.int64)
        iz0 = fz.astype(np.int64)
        qyl, qyh = _quantized(yl[k], yh[k], y0 + iy0 * gy, gy)
        qzl, qzh = _quantized(zl[k], zh[k], z0 + iz0 * gz, gz)
        lo_item = (qyl << 16) | qzl
        hi_item = (qyh << 16) | qzh | _GUARD
        up_y = qyh >= 2 * _Q
        up_z = qzh >= 2 * _Q
        sy = np.flatnonzero(up_y)
        sz = np.flatnonzero(up_z)
        syz = np.flatnonzero(up_y & up_z)
        cell = (iy0 * nz + iz0) << x_bits
        it = np.concatenate((items, sy, sz, syz))
        n_e = it.size
        ecell = np.concatenate(
            (cell, cell.take(sy) + up_y_key, cell.take(sz) + up_z_key, cell.take(syz) + (up_y_key + up_z_key))
        )
        lo_e = np.concatenate(
            (lo_item, lo_item.take(sy) + up_y_lo, lo_item.take(sz) + up_z_lo, lo_item.take(syz) + (up_y_lo + up_z_lo))
        )
        hi_e = np.concatenate(
            (hi_item, hi_item.take(sy) + up_y_hi, hi_item.take(sz) + up_z_hi, hi_item.take(syz) + (up_y_hi + up_z_hi))
        )
        qxl = np.clip(np.floor((xl[k] - x0) * inv_step), 0, x_top).astype(np.int64)
        qxh = np.clip(np.ceil((xh[k] - x0) * inv_step), 0, x_top).astype(np.int64)
        key = ecell | qxl.take(it)
        order = _radix_argsort(key, key_bits)
        it = it.take(order)
        lo_pack = lo_e.take(order)
        hi_pack = hi_e.take(order)
        key = key.take(order)
        end = ecell.take(order) | qxh.take(it)
        # the first shifts touch most entries: compare whole shifted slices
        act = np.zeros(0, dtype=np.int64)
        s = 1
        while s <= _CONTIGUOUS_SHIFTS and s < n_e:
            head, tail = slice(0, n_e - s), slice(s, n_e)
            near = key[tail] <= end[head]
            la, lb = lo_pack[head], lo_pack[tail]
            test = (hi_pack[tail] - la) & (hi_pack[head] - lb) & _GUARD
            test |= la & lb & _REF_BITS
            hit = np.flatnonzero(near & (test == _GUARD))
            found_a.append(it.take(hit))
            found_b.append(it.take(hit + s))
            act = np.flatnonzero(near)
            s += 1
            if not act.size:
                break
        keyp = np.empty(n_e + n_e, dtype=np.int64)
        keyp[:n_e] = key
        keyp[n_e:] = np.iinfo(np.int64).max
        while act.size:
            act = act[keyp.take(act + s) <= end.take(act)]
            if not act.size:
                break
            nb = act + s
            la, lb2 = lo_pack.take(act), lo_pack.take(nb)
            test = ((hi_pack.take(nb) - la) & (hi_pack.take(act) - lb2) & _GUARD) | (la & lb2 & _REF_BITS)
            ok = test == _GUARD
            found_a.append(it.take(act[ok]))
            found_b.append(it.take(nb[ok]))
            s += 1
    if not found_a:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(found_a), np.concatenate(found_b)


def _unique(keys: IntArray, bound: int) -> IntArray:
    """The distinct values of non-negative ``keys`` below ``bound``, sorted."""
    if keys.size == 0:
        return keys
    keys = keys[_radix_argsort(keys, max(1, int(bound - 1).bit_length()))]
    keep = np.empty(keys.size, dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    out: IntArray = keys[keep]
    return out


def candidate_pairs(
    motion: Motion,
    horizon_s: float,
    horizontal_m: float,
    vertical_m: float,
    active: BoolArray | None = None,
    widen_m: Callable[[FloatArray], FloatArray] | None = None,
) -> tuple[IntArray, IntArray, int, int]:
    """Every pair (i < j) that can come within ``horizontal_m`` and ``vertical_m`` of each other within
    ``horizon_s`` (a superset: most are then cleared), among the ``active`` tracks (default all).
    Returns i, j, the number of frames and of slabs.

    ``widen_m`` maps the slabs' end times (shape (K,)) to an extra horizontal distance per slab: a pair
    is then kept when it can come within ``horizontal_m + widen_m(t_end)[k]`` during slab k (the flat
    earth model uses it to cover its difference from the surface distance, ``tactical.flat``)."""
    rows = None if active is None else np.flatnonzero(active).astype(np.int64)
    n = motion.size if rows is None else rows.size
    empty = np.zeros(0, dtype=np.int64)
    if n < 2:
        return empty, empty, 0, 0

    def sel(a: FloatArray) -> FloatArray:
        return a if rows is None else a[..., rows]

    speed = sel(motion.speed)
    kappa = sel(motion.kappa)
    v_max = float(speed.max())
    times = _slab_times(horizon_s, v_max, horizontal_m)
    theta = (kappa * speed)[None, :] * times[:, None]
    t2 = theta * theta
    along = theta * (1.0 - t2 / 6.0 * (1.0 - t2 / 20.0)) / kappa
    drop = t2 * (0.5 - t2 / 24.0 * (1.0 - t2 / 30.0)) / kappa
    p, tg, nm = sel(motion.p), sel(motion.tangent), sel(motion.normal)
    pos = (
        p[0] + along * tg[0] - drop * nm[0],
        p[1] + along * tg[1] - drop * nm[1],
        p[2] + along * tg[2] - drop * nm[2],
    )
    radius = np.sqrt(pos[0] * pos[0] + pos[1] * pos[1] + pos[2] * pos[2])
    alt = sel(motion.alt)[None, :] + sel(motion.vrate)[None, :] * times[:, None]
    slab_len = float(np.diff(times).max())
    sagitta = KAPPA_MAX * (v_max * slab_len) ** 2 / 8.0
    age_max = float(np.abs(sel(motion.age)).max())
    extra = np.zeros(times.size - 1)
    if widen_m is not None:
        extra = np.maximum(np.asarray(widen_m(times[1:]), dtype=np.float64).reshape(times.size - 1), 0.0)
    half = ((horizontal_m + extra) / 2.0 + circle_error_m(v_max * (horizon_s + age_max)) + NUMERIC_M)[:, None]
    center = nm.sum(axis=1)
    center = center / np.linalg.norm(center)
    regions = _regions(pos, radius, center, (horizontal_m + float(extra.max()) + v_max * slab_len) / WGS84_B)
    keys: list[IntArray] = []
    for frame_center, members in regions:
        if members is None:
            sub, sub_r, sub_alt = pos, radius, alt
        else:
            sub = (pos[0][:, members], pos[1][:, members], pos[2][:, members])
            sub_r, sub_alt = radius[:, members], alt[:, members]
        boxes, _ = _boxes(sub, sub_r, sub_alt, frame_center, half, vertical_m / 2.0 + 1e-6, sagitta)
        a, b = _sweep(*boxes)
        if members is not None:
            a, b = members[a], members[b]
        if rows is not None:
            a, b = rows[a], rows[b]
        keys.append(np.minimum(a, b) * motion.size + np.maximum(a, b))
    all_keys = _unique(np.concatenate(keys), motion.size * motion.size) if keys else empty
    first = all_keys // motion.size
    return first, all_keys - first * motion.size, len(regions), times.size - 1


# ------------------------------------------------------------------------------------------------ stage 2


def _vertical_window(
    dz: FloatArray, dw: FloatArray, vmin: FloatArray, horizon: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The times in [0, horizon] at which |dz + dw t| < vmin: (lo, hi), empty when lo >= hi (open at a
    vertical boundary, so a window that only touches the minimum is empty)."""
    moving = np.abs(dw) > 1e-9
    safe = np.where(moving, dw, 1.0)
    t1 = (-vmin - dz) / safe
    t2 = (vmin - dz) / safe
    inside = np.abs(dz) < vmin
    lo = np.where(moving, np.minimum(t1, t2), np.where(inside, -np.inf, np.inf))
    hi = np.where(moving, np.maximum(t1, t2), np.where(inside, np.inf, -np.inf))
    lo_c = np.maximum(lo, 0.0)
    hi_c = np.minimum(hi, horizon)
    # the window is open at vertical boundaries: a vertical interval ending exactly at 0 is empty
    hi_c = np.where(hi <= 0.0, -np.inf, hi_c)
    return lo_c, hi_c


def _quadratic(motion: Motion, i: IntArray, j: IntArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """|Pi (D0 + DV t)|^2 = A t^2 + 2 B t + C for the straight-line relative motion, Pi the projection on
    the plane normal to n = normal_i + normal_j; and |normal_i - normal_j| / 2, the sine of the angle
    between either normal and that plane's normal."""
    p, vel, nm = motion.p, motion.velocity, motion.normal
    dx, dy, dz = p[0][j] - p[0][i], p[1][j] - p[1][i], p[2][j] - p[2][i]
    ux, uy, uz = vel[0][j] - vel[0][i], vel[1][j] - vel[1][i], vel[2][j] - vel[2][i]
    nix, niy, niz = nm[0][i], nm[1][i], nm[2][i]
    njx, njy, njz = nm[0][j], nm[1][j], nm[2][j]
    sx, sy, sz = nix + njx, niy + njy, niz + njz
    inv_nn = 1.0 / (sx * sx + sy * sy + sz * sz)
    d0n = dx * sx + dy * sy + dz * sz
    dvn = ux * sx + uy * sy + uz * sz
    a = ux * ux + uy * uy + uz * uz - dvn * dvn * inv_nn
    b = dx * ux + dy * uy + dz * uz - d0n * dvn * inv_nn
    c = dx * dx + dy * dy + dz * dz - d0n * d0n * inv_nn
    ex, ey, ez = nix - njx, niy - njy, niz - njz
    tilt = 0.5 * np.sqrt(ex * ex + ey * ey + ez * ez)
    return a, b, c, tilt


def _argmin_quadratic(a: FloatArray, b: FloatArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    pos = a > 0.0
    t = np.where(pos, -b / np.where(pos, a, 1.0), np.where(b >= 0.0, lo, hi))
    out: FloatArray = np.clip(t, lo, hi)
    return out


def _screen_error(motion: Motion, i: IntArray, j: IntArray, tilt: FloatArray, hi: FloatArray) -> FloatArray:
    """Bound of how much the straight-line projected distance can exceed the true one at any time up to
    ``hi``: each circle leaves its tangent line by at most k^2 v^3 t^3 / 6 along it and k v^2 t^2 / 2 along
    its normal, of which the projection keeps the part |Pi normal| <= |n_i - n_j| / 2."""
    vi, vj = motion.speed[i], motion.speed[j]
    vi2, vj2 = vi * vi, vj * vj
    kt = KAPPA_MAX * hi
    out: FloatArray = kt * hi * (kt * (vi2 * vi + vj2 * vj) / 6.0 + (vi2 + vj2) * 0.5 * tilt)
    return out


def _chord_at(motion: Motion, i: IntArray, j: IntArray, t: FloatArray) -> FloatArray:
    """The distance in space between the two circle-model positions at times ``t``."""
    d = motion.at(t, j) - motion.at(t, i)
    out: FloatArray = np.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
    return out


def _chord_now(motion: Motion, i: IntArray, j: IntArray) -> FloatArray:
    p = motion.p
    dx, dy, dz = p[0][j] - p[0][i], p[1][j] - p[1][i], p[2][j] - p[2][i]
    out: FloatArray = np.sqrt(dx * dx + dy * dy + dz * dz)
    return out


def _refine(
    motion: Motion, i: IntArray, j: IntArray, lo: FloatArray, hi: FloatArray, start: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Minimum over [lo, hi] of the circle-model chord, from ``start``: Newton on g(t) = |D(t)|^2 where it
    settles where the chord curves up, a scan and golden-section search elsewhere (two aircraft flying in
    step converge like meridians, so g need not be convex: docs/tactical.md), and both ends compared."""
    t = start.copy()

    def derivs(tt: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        d = motion.at(tt, j) - motion.at(tt, i)
        dv = motion.velocity_at(tt, j) - motion.velocity_at(tt, i)
        da = motion.acceleration_at(tt, j) - motion.acceleration_at(tt, i)
        g0 = (d * d).sum(axis=0)
        g1 = 2.0 * (d * dv).sum(axis=0)
        g2 = 2.0 * ((dv * dv).sum(axis=0) + (d * da).sum(axis=0))
        return g0, g1, g2

    for _ in range(6):
        _, g1, g2 = derivs(t)
        step = np.where(g2 > 0.0, -g1 / np.where(g2 > 0.0, g2, 1.0), 0.0)
        t = np.clip(t + step, lo, hi)
    g0, g1, g2 = derivs(t)
    # settled: a stationary point inside (the squared chord then exceeds its minimum by about
    # g1^2 / (2 g2), which this keeps below 2e-4 m times the distance), or a bound with the slope pointing
    # out of the window (a zero slope counts only where the chord curves up: flying in step near a pole,
    # the chord can start flat and curve down)
    settled = (
        ((g2 > 0.0) & (g1 * g1 <= 4e-4 * np.sqrt(g0) * g2))
        | ((t <= lo) & ((g1 > 0.0) | ((g1 == 0.0) & (g2 >= 0.0))))
        | ((t >= hi) & ((g1 < 0.0) | ((g1 == 0.0) & (g2 >= 0.0))))
    )
    if not settled.all():
        rows = np.flatnonzero(~settled)
        t[rows] = _golden(motion, i[rows], j[rows], lo[rows], hi[rows])
    # where the chord is not convex its minimum may be at either end of the window: compare them too
    best = _chord_at(motion, i, j, t)
    for end in (lo, hi):
        at_end = _chord_at(motion, i, j, end)
        better = at_end < best
        t = np.where(better, end, t)
        best = np.where(better, at_end, best)
    return t, best


def _golden(motion: Motion, i: IntArray, j: IntArray, lo: FloatArray, hi: FloatArray) -> FloatArray:
    """Golden-section minimum of the chord over [lo, hi], in the bracket a coarse scan picks (the chord is
    unimodal there; the scan guards pairs flying almost in step, whose distance hardly changes)."""
    samples = 33
    grid = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, samples)[None, :]
    vals = np.stack([_chord_at(motion, i, j, grid[:, s]) for s in range(samples)], axis=1)
    best = vals.argmin(axis=1)
    rows = np.arange(i.size)
    a = grid[rows, np.maximum(best - 1, 0)]
    b = grid[rows, np.minimum(best + 1, samples - 1)]
    r = (math.sqrt(5.0) - 1.0) / 2.0
    c = b - r * (b - a)
    d = a + r * (b - a)
    fc = _chord_at(motion, i, j, c)
    fd = _chord_at(motion, i, j, d)
    for _ in range(40):
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c = b - r * (b - a)
        d = a + r * (b - a)
        fc = _chord_at(motion, i, j, c)
        fd = _chord_at(motion, i, j, d)
    out: FloatArray = np.clip(np.where(fc < fd, c, d), lo, hi)
    return out


def _entry_time(
    a: FloatArray, b: FloatArray, c: FloatArray, s: FloatArray, lo: FloatArray, t_cpa: FloatArray
) -> FloatArray:
    """First time in the window at which the screen's quadratic falls below S^2 (display only)."""
    disc = b * b - a * (c - s * s)
    ok = (a > 0.0) & (disc >= 0.0)
    root = np.where(ok, (-b - np.sqrt(np.maximum(disc, 0.0))) / np.where(ok, a, 1.0), lo)
    out: FloatArray = np.clip(root, lo, t_cpa)
    return out


CHUNK = 16_384
"""Candidate pairs are decided this many at a time: the temporaries then stay in the processor's cache
(measured 15 % faster than all at once on 45,000 candidates)."""


@dataclass(frozen=True)
class _Decided:
    i: IntArray
    j: IntArray
    t_cpa: FloatArray
    dist: FloatArray
    t_in: FloatArray
    vertical: FloatArray
    now: BoolArray
    rows: IntArray
    """For each decided loss, its row in the input pairs."""
    screened: int
    measured: int
    refined: int


def _decide(
    motion: Motion,
    ci: IntArray,
    cj: IntArray,
    s: FloatArray,
    vmin: FloatArray,
    horizon: FloatArray,
    model_err: float,
) -> _Decided:
    """Stages 2 and 3 on candidate pairs with their rules: which lose separation, when and how close."""
    dz = motion.alt[cj] - motion.alt[ci]
    dw = motion.vrate[cj] - motion.vrate[ci]
    lo, hi = _vertical_window(dz, dw, vmin, horizon)
    # a look-ahead of 0 leaves the instant 0, which counts when the pair is vertically too close then
    idx = np.flatnonzero((lo < hi) | ((lo == 0.0) & (hi == 0.0) & (np.abs(dz) < vmin)))
    ci, cj = ci[idx], cj[idx]
    s, vmin, lo, hi, dz, dw = (x[idx] for x in (s, vmin, lo, hi, dz, dw))
    a, b, c, tilt = _quadratic(motion, ci, cj)
    t_star = _argmin_quadratic(a, b, lo, hi)
    m2 = np.maximum(a * t_star * t_star + 2.0 * b * t_star + c, 0.0)
    lower = np.sqrt(m2) - _screen_error(motion, ci, cj, tilt, hi) - model_err
    near = np.flatnonzero(lower < s)
    screened = int(ci.size)
    idx = idx[near]
    ci, cj = ci[near], cj[near]
    s, vmin, lo, hi, dz, dw, a, b, c, t_star = (x[near] for x in (s, vmin, lo, hi, dz, dw, a, b, c, t_star))
    dist = chord_to_geodesic(_chord_at(motion, ci, cj, t_star))
    t_cpa = t_star
    undecided = np.flatnonzero(dist + model_err >= s)
    if undecided.size:
        t_ref, chord_ref = _refine(
            motion, ci[undecided], cj[undecided], lo[undecided], hi[undecided], t_star[undecided]
        )
        t_cpa = t_star.copy()
        t_cpa[undecided] = t_ref
        dist[undecided] = chord_to_geodesic(chord_ref)
    rows = np.flatnonzero(closer_than(dist, s))  # the horizontal minimum as declared (minima.py)
    ci, cj = ci[rows], cj[rows]
    t_cpa, dist, s, vmin, dz, dw, lo = (x[rows] for x in (t_cpa, dist, s, vmin, dz, dw, lo))
    t_in = _entry_time(a[rows], b[rows], c[rows], s, lo, t_cpa)
    now = closer_than(chord_to_geodesic(_chord_now(motion, ci, cj)), s) & (np.abs(dz) < vmin)
    return _Decided(
        i=ci,
        j=cj,
        t_cpa=t_cpa,
        dist=dist,
        t_in=np.where(now, 0.0, t_in),
        vertical=np.abs(dz + dw * t_cpa),
        now=now,
        rows=idx[rows],
        screened=screened,
        measured=int(near.size),
        refined=int(undecided.size),
    )


def _decide_chunked(
    motion: Motion,
    ci: IntArray,
    cj: IntArray,
    s: FloatArray,
    vmin: FloatArray,
    horizon: FloatArray,
    model_err: float,
) -> _Decided:
    if ci.size <= CHUNK:
        return _decide(motion, ci, cj, s, vmin, horizon, model_err)
    parts = []
    for a in range(0, ci.size, CHUNK):
        sl = slice(a, a + CHUNK)
        d = _decide(motion, ci[sl], cj[sl], s[sl], vmin[sl], horizon[sl], model_err)
        parts.append(replace(d, rows=d.rows + a))
    return _Decided(
        i=np.concatenate([d.i for d in parts]),
        j=np.concatenate([d.j for d in parts]),
        t_cpa=np.concatenate([d.t_cpa for d in parts]),
        dist=np.concatenate([d.dist for d in parts]),
        t_in=np.concatenate([d.t_in for d in parts]),
        vertical=np.concatenate([d.vertical for d in parts]),
        now=np.concatenate([d.now for d in parts]),
        rows=np.concatenate([d.rows for d in parts]),
        screened=sum(d.screened for d in parts),
        measured=sum(d.measured for d in parts),
        refined=sum(d.refined for d in parts),
    )


def _rules_of(
    rules: RuleTable, party: IntArray, ci: IntArray, cj: IntArray
) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray]:
    """For pairs (ci, cj): whether the pair is checked, and its horizontal and vertical minima and
    look-ahead, from the rule of its two parties."""
    table = party[ci] * rules.checked.shape[0] + party[cj]
    return (
        rules.checked.ravel()[table],
        rules.horizontal_m.ravel()[table],
        rules.vertical_m.ravel()[table],
        rules.lookahead_s.ravel()[table],
    )


def detect(
    motion: Motion,
    party: IntArray,
    rules: RuleTable,
    active: BoolArray | None = None,
    core: RuleTable | None = None,
) -> tuple[Losses, PassStats]:
    """Every pair of (``active``) tracks predicted to lose separation, with the rule of its parties.

    ``party[k]`` is the number of track k's party in ``rules``. Pairs the rules do not check (by default a
    party's own aircraft) are skipped. Exact within ``tolerance_m`` of the threshold (0.1 m for 100 km of
    path): docs/tactical.md. Returned pairs index the given tracks, ``i < j``.

    With ``core`` (narrower rules, for alert hysteresis), the pairs are found with ``rules`` and the
    returned ``Losses.core`` says which also lose separation under ``core``."""
    s_max, v_max, t_max = rules.max_horizontal_m, rules.max_vertical_m, rules.max_lookahead_s
    if not rules.checked.any():  # nothing to check (one party, own aircraft not checked)
        active = np.zeros(motion.size, dtype=bool)
    ci, cj, regions, slabs = candidate_pairs(motion, t_max, s_max, v_max, active)
    model_err = tolerance_m(motion, t_max)

    def decide(i: IntArray, j: IntArray, s: FloatArray, vmin: FloatArray, horizon: FloatArray) -> _Decided:
        return _decide_chunked(motion, i, j, s, vmin, horizon, model_err)

    losses, found, _ = judge_pairs(party, rules, core, ci, cj, decide)
    stats = PassStats(
        tracks=motion.size if active is None else int(active.sum()),
        candidates=int(ci.size),
        screened_clear=found.screened - found.measured,
        measured=found.measured,
        refined=found.refined,
        losses=len(losses),
        regions=regions,
        slabs=slabs,
    )
    return losses, stats


class PairVerdict(Protocol):
    """What an earth model's pair test answers for candidate pairs: the rows of the pairs that lose
    separation and, for them, when it is first lost, the closest time, the distances then, and whether it
    is lost already."""

    @property
    def rows(self) -> IntArray: ...
    @property
    def t_in(self) -> FloatArray: ...
    @property
    def t_cpa(self) -> FloatArray: ...
    @property
    def dist(self) -> FloatArray: ...
    @property
    def vertical(self) -> FloatArray: ...
    @property
    def now(self) -> BoolArray: ...


V = TypeVar("V", bound=PairVerdict)


def judge_pairs(
    party: IntArray,
    rules: RuleTable,
    core: RuleTable | None,
    ci: IntArray,
    cj: IntArray,
    decide: Callable[[IntArray, IntArray, FloatArray, FloatArray, FloatArray], V],
) -> tuple[Losses, V, int]:
    """The part of a pass every earth model shares: each candidate pair (ci, cj) gets the rule of its two
    parties (pairs the rules do not check are dropped), ``decide(i, j, S, V, T)`` (the model's pair
    test) says which lose separation, and with ``core`` (narrower rules, for alert hysteresis) the lost
    pairs are judged again under it: ``Losses.core`` says which also lose separation then, and those
    report their core prediction (when, how close, which rule). Returns the losses, the model's verdict on
    the checked pairs and how many pairs were checked."""
    checked, s, vmin, horizon = _rules_of(rules, party, ci, cj)
    if not checked.all():
        keep = np.flatnonzero(checked)
        ci, cj, s, vmin, horizon = ci[keep], cj[keep], s[keep], vmin[keep], horizon[keep]
    # the vertical minima as declared (minima.threshold_m): every earth model compares altitudes with the
    # same rule, so adjacent flight levels are separated whatever rounding their conversion left
    found = decide(ci, cj, s, threshold_m(vmin), horizon)
    fi, fj = ci[found.rows], cj[found.rows]
    t_in, t_cpa, dist, vertical, now = found.t_in, found.t_cpa, found.dist, found.vertical, found.now
    s_out, v_out, h_out = s[found.rows], vmin[found.rows], horizon[found.rows]
    if core is None:
        is_core = np.ones(fi.size, dtype=bool)
    else:
        c_checked, c_s, c_v, c_t = _rules_of(core, party, fi, fj)
        inner = decide(fi, fj, c_s, threshold_m(c_v), c_t)
        in_core = c_checked[inner.rows]
        rows = inner.rows[in_core]
        is_core = np.zeros(fi.size, dtype=bool)
        is_core[rows] = True
        t_in, t_cpa, dist, vertical = (x.copy() for x in (t_in, t_cpa, dist, vertical))
        now = now.copy()
        s_out, v_out, h_out = s_out.copy(), v_out.copy(), h_out.copy()
        now[rows] = inner.now[in_core]
        for target, source in (
            (t_in, inner.t_in),
            (t_cpa, inner.t_cpa),
            (dist, inner.dist),
            (vertical, inner.vertical),
            (s_out, c_s[inner.rows]),
            (v_out, c_v[inner.rows]),
            (h_out, c_t[inner.rows]),
        ):
            target[rows] = source[in_core]
    losses = Losses(
        i=fi,
        j=fj,
        t_in_s=t_in,
        t_cpa_s=t_cpa,
        horizontal_m=dist,
        vertical_m=vertical,
        now=now,
        core=is_core,
        rule_horizontal_m=s_out,
        rule_vertical_m=v_out,
        rule_lookahead_s=h_out,
    )
    return losses, found, int(ci.size)


def tolerance_m(motion: Motion, horizon_s: float) -> float:
    """How far from a threshold a pair's true minimum may lie and still be decided either way: twice the
    osculating circle's error over the longest path, plus 1 mm for the numerics."""
    speed_max = float(motion.speed.max()) if motion.size else 0.0
    age_max = float(np.abs(motion.age).max()) if motion.size else 0.0
    return 2.0 * circle_error_m(speed_max * (horizon_s + age_max)) + 1e-3
