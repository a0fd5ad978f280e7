"""The space index: a longitude/latitude quadtree with S2-style cell ids, for B-tree storage.

A cell at level ``L`` spans 360/2^L degrees of longitude and 180/2^L of latitude. Its id interleaves the
column and row bits (Morton order) followed by a 1 and zeros::

    id = ((morton(ix, iy) << 1) | 1) << 2 * (MAX_LEVEL - L)

so that every descendant of a cell, at any level, has an id inside ``[id - lsb + 1, id + lsb - 1]`` with
``lsb = 1 << 2 * (MAX_LEVEL - L)``. A stored box is filed under the (at most 2 x 2) cells of the deepest
level whose cells are at least as large as the box; a query box asks for the descendant range of each of
its own cells plus the exact ids of their ancestors. Both sides use closed cells, so a box that only
touches another is still found. The index may only pre-filter: it never decides a conflict.
"""

from __future__ import annotations

import math

MAX_LEVEL = 30
"""Bits per axis in an id; ids stay below 2**61, inside a signed 64-bit integer."""

MAX_STORE_LEVEL = 20
"""Deepest level used (cells of about 34 x 17 m at the equator): tiny footprints stop here."""

Box = tuple[float, float, float, float]
"""lon_min, lat_min, lon_max, lat_max with -180 <= lon_min <= lon_max <= 180."""


def _spread(v: int) -> int:
    """Put the 30 low bits of v on the even bit positions."""
    v &= 0x3FFFFFFF
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & 0x5555555555555555


def cell_id(level: int, ix: int, iy: int) -> int:
    morton = _spread(ix) | (_spread(iy) << 1)
    return ((morton << 1) | 1) << (2 * (MAX_LEVEL - level))


def lsb(level: int) -> int:
    return 1 << (2 * (MAX_LEVEL - level))


def descendant_range(cid: int, level: int) -> tuple[int, int]:
    """Ids of the cell itself and all its descendants, inclusive."""
    low = lsb(level)
    return cid - low + 1, cid + low - 1


def parent_at(cid: int, level: int, ancestor_level: int) -> int:
    """The id of the ancestor of ``cid`` (a cell of ``level``) at ``ancestor_level``."""
    shift = 2 * (MAX_LEVEL - level) + 1
    morton = cid >> shift
    morton >>= 2 * (level - ancestor_level)
    return ((morton << 1) | 1) << (2 * (MAX_LEVEL - ancestor_level))


def level_for(box: Box) -> int:
    """The deepest level whose cells are at least as large as ``box`` on both axes."""
    lon_span = max(box[2] - box[0], 1e-12)
    lat_span = max(box[3] - box[1], 1e-12)
    level = min(math.floor(math.log2(360.0 / lon_span)), math.floor(math.log2(180.0 / lat_span)))
    return max(0, min(MAX_STORE_LEVEL, level))


def _span(lo: float, hi: float, origin: float, extent: float, level: int) -> range:
    n = 1 << level
    first = min(n - 1, max(0, math.floor((lo - origin) / extent * n)))
    last = min(n - 1, max(0, math.floor((hi - origin) / extent * n)))
    return range(first, last + 1)


def cells_at(box: Box, level: int) -> list[int]:
    """Ids of the closed cells of ``level`` that meet ``box``."""
    return [
        cell_id(level, ix, iy)
        for ix in _span(box[0], box[2], -180.0, 360.0, level)
        for iy in _span(box[1], box[3], -90.0, 180.0, level)
    ]


def covering(boxes: tuple[Box, ...]) -> list[tuple[int, int]]:
    """(level, cell id) rows under which a stored footprint with these boxes is filed."""
    out: dict[int, int] = {}
    for box in boxes:
        level = level_for(box)
        for cid in cells_at(box, level):
            out[cid] = level
    return [(lvl, cid) for cid, lvl in out.items()]


def query_keys(boxes: tuple[Box, ...]) -> tuple[list[tuple[int, int]], list[int]]:
    """What to ask the index for everything that may meet ``boxes``: inclusive id ranges (the query
    cells and their descendants) and exact ids (their ancestors)."""
    ranges: set[tuple[int, int]] = set()
    points: set[int] = set()
    for box in boxes:
        level = level_for(box)
        for cid in cells_at(box, level):
            ranges.add(descendant_range(cid, level))
            for up in range(level):
                points.add(parent_at(cid, level, up))
    return sorted(ranges), sorted(points)
