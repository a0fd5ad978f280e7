"""Minima compared exactly as declared: the one comparison every separation test makes.

**The rule.** A distance ``d`` is closer than a minimum ``s`` when ``d < s - ALLOWANCE_M``, with
``ALLOWANCE_M`` = 0.5 mm. Exactly the minimum apart is separated, and so is anything less than half a
millimetre closer; half a millimetre or more closer conflicts.

**Why half a millimetre.** Altitudes arrive in metres with decimals (HTTP, Cursor-on-Target, band limits)
or in feet (SBS-1, HTTP), and are held as binary floating point, which cannot hold 0.3048 or 1,000.5
exactly. The difference of two altitudes carries a rounding error of a few units in the last place of
the altitudes: below 1e-8 m for any altitude up to 100 km (one unit there is 1.5e-11 m). Compared
plainly, ``1305.3 - 1000.5`` is 304.79999999999995, below 304.8, while ``2304.8 - 2000`` is
304.8000000000002: two pairs declared exactly 1,000 ft apart get opposite answers, and so do about half
of all adjacent flight levels converted from feet. The allowance is 50,000 times the largest rounding
error, so rounding can never move a gap across it; and it is half of the finest step anybody declares an
altitude in (a millimetre), so two values given to the millimetre are never within it of each other
unless they are equal: for them the answer is the exact comparison of the declared decimal numbers.
Values given to the foot or the tenth of a foot, or mixed with metres to the millimetre, differ from the
minimum by multiples of 0.04 mm, never by 0.5 mm: the nearest a gap can come to the allowance's edge is
0.02 mm, still 2,000 times the rounding error, so the answer never depends on rounding either.

Where a minimum is 0 (a zone or band entered, two bands compared with no vertical margin), touching
(a distance of exactly 0) is a conflict, as before: callers test ``d == 0`` beside ``closer_than``.
"""

from __future__ import annotations

from typing import TypeVar, overload

import numpy as np
import numpy.typing as npt

ALLOWANCE_M = 0.0005
"""Half a millimetre: a distance less than this below a minimum counts as at the minimum (separated)."""

FloatArray = npt.NDArray[np.float64]
A = TypeVar("A", float, FloatArray)


def threshold_m(minimum_m: A) -> A:
    """What a distance must be below to be closer than ``minimum_m`` (one value or an array of them)."""
    return minimum_m - ALLOWANCE_M


@overload
def closer_than(distance_m: float, minimum_m: float) -> bool: ...
@overload
def closer_than(distance_m: FloatArray, minimum_m: float | FloatArray) -> npt.NDArray[np.bool_]: ...
def closer_than(distance_m: float | FloatArray, minimum_m: float | FloatArray) -> bool | npt.NDArray[np.bool_]:
    """Whether ``distance_m`` is closer than ``minimum_m`` as declared (module docstring)."""
    if isinstance(distance_m, np.ndarray):
        out: npt.NDArray[np.bool_] = distance_m < np.asarray(minimum_m, dtype=np.float64) - ALLOWANCE_M
        return out
    return bool(distance_m < minimum_m - ALLOWANCE_M)
