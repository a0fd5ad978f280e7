"""Cell ids of the space index (domain/cells.py) against a bit-by-bit interleaving written here, and the
levels, spans and keys at their edges (the whole world, a cell exactly, a point, the map's edges)."""

from __future__ import annotations

import random

import pytest

from deconfliction.domain import cells


def naive_id(level: int, ix: int, iy: int) -> int:
    """Morton code bit by bit (x on even bits, y on odd), then a 1, then two zero bits per level below."""
    morton = 0
    for bit in range(30):
        morton |= ((ix >> bit) & 1) << (2 * bit)
        morton |= ((iy >> bit) & 1) << (2 * bit + 1)
    return ((morton << 1) | 1) << (2 * (30 - level))


def test_the_constants() -> None:
    assert (cells.MAX_LEVEL, cells.MAX_STORE_LEVEL) == (30, 20)


def test_the_first_cells_by_hand() -> None:
    assert cells.cell_id(0, 0, 0) == 1 << 60
    assert cells.cell_id(1, 0, 0) == 1 << 58
    assert cells.cell_id(1, 1, 0) == 3 << 58
    assert cells.cell_id(1, 0, 1) == 5 << 58
    assert cells.cell_id(1, 1, 1) == 7 << 58
    assert cells.cell_id(30, 0, 0) == 1
    assert cells.cell_id(30, 2**30 - 1, 2**30 - 1) == 2**61 - 1


def test_every_id_equals_the_bitwise_interleaving() -> None:
    rng = random.Random(7)
    for level in range(31):
        n = 1 << level
        for ix, iy in [(0, 0), (n - 1, n - 1), (n - 1, 0), (0, n - 1)] + [
            (rng.randrange(n), rng.randrange(n)) for _ in range(20)
        ]:
            assert cells.cell_id(level, ix, iy) == naive_id(level, ix, iy), (level, ix, iy)


def test_ids_fit_a_signed_64_bit_integer() -> None:
    assert cells.cell_id(30, 2**30 - 1, 2**30 - 1) < 2**63
    assert cells.cell_id(20, 2**20 - 1, 2**20 - 1) < 2**61


@pytest.mark.parametrize("level", [0, 1, 7, 20, 29, 30])
def test_lsb_and_descendant_range(level: int) -> None:
    assert cells.lsb(level) == 4 ** (30 - level)
    cid = naive_id(level, 0, 0)
    low, high = cells.descendant_range(cid, level)
    assert (low, high) == (cid - 4 ** (30 - level) + 1, cid + 4 ** (30 - level) - 1)


def test_a_descendant_range_holds_every_descendant_and_no_neighbour() -> None:
    rng = random.Random(11)
    for level in (0, 3, 12):
        ix, iy = rng.randrange(1 << level), rng.randrange(1 << level)
        low, high = cells.descendant_range(naive_id(level, ix, iy), level)
        for depth in (1, 2, 5):
            sub = level + depth
            k = 1 << depth
            for dx, dy in [(0, 0), (k - 1, k - 1), (rng.randrange(k), rng.randrange(k))]:
                assert low <= naive_id(sub, ix * k + dx, iy * k + dy) <= high
            if ix + 1 < (1 << level):
                assert not low <= naive_id(sub, (ix + 1) * k, iy * k) <= high


def test_parent_at_every_level_above() -> None:
    rng = random.Random(3)
    for level in (1, 2, 9, 20, 30):
        ix, iy = rng.randrange(1 << level), rng.randrange(1 << level)
        cid = naive_id(level, ix, iy)
        for up in range(level + 1):
            shift = level - up
            assert cells.parent_at(cid, level, up) == naive_id(up, ix >> shift, iy >> shift)
    assert cells.parent_at(9 << 56, 2, 1) == 3 << 58  # cell (2, 0) of level 2 lies in (1, 0) of level 1


@pytest.mark.parametrize(
    ("box", "level"),
    [
        ((-180.0, -90.0, 180.0, 90.0), 0),  # the world
        ((-180.0, -90.0, 0.0, 0.0), 1),  # exactly a level-1 cell on both axes
        ((0.0, 0.0, 180.0, 1.0), 1),  # as wide as a level-1 cell: the wider axis decides
        ((0.0, 0.0, 1.0, 90.0), 1),  # as tall as a level-1 cell
        ((0.0, 0.0, 180.000001, 1.0), 0),  # just wider than a level-1 cell
        ((0.0, 0.0, 90.0, 45.0), 2),
        ((0.0, 0.0, 0.001, 0.001), 17),  # log2(180 / 0.001) = 17.46 on latitude, 18.46 on longitude
        ((10.0, 10.0, 10.0, 10.0), 20),  # a point: the deepest stored level
        ((10.0, 10.0, 10.0001, 10.0001), 20),
        ((0.0, 0.0, 0.001, 90.1), 0),  # 180 / 90.1 is just below 2: level 0 on latitude
        ((0.0, 0.0, 180.1, 0.001), 0),  # 360 / 180.1 likewise on longitude
    ],
)
def test_level_for(box: cells.Box, level: int) -> None:
    assert cells.level_for(box) == level


def test_cells_at_a_level() -> None:
    c = cells.cell_id
    # a box across the centre meets the four level-1 cells
    assert sorted(cells.cells_at((-10.0, -10.0, 10.0, 10.0), 1)) == sorted(
        [c(1, 0, 0), c(1, 1, 0), c(1, 0, 1), c(1, 1, 1)]
    )
    # the map's far edges fall in the last cell, not past it; a box touching 0 meets both sides (closed cells)
    assert cells.cells_at((180.0, 90.0, 180.0, 90.0), 1) == [c(1, 1, 1)]
    assert cells.cells_at((-180.0, -90.0, -180.0, -90.0), 1) == [c(1, 0, 0)]
    assert cells.cells_at((179.0, 89.0, 180.0, 90.0), 3) == [c(3, 7, 7)]
    assert sorted(cells.cells_at((-5.0, 5.0, 0.0, 6.0), 1)) == sorted([c(1, 0, 1), c(1, 1, 1)])
    assert cells.cells_at((1.0, 1.0, 2.0, 2.0), 0) == [c(0, 0, 0)]
    # just past the middle on each axis: the second column and row of level 1
    assert cells.cells_at((0.3, 0.2, 0.3, 0.2), 1) == [c(1, 1, 1)]
    assert cells.cells_at((-0.3, -0.2, -0.3, -0.2), 1) == [c(1, 0, 0)]
    # level 2: 90 x 45 degree cells; x = 100 is column 3, y = 50 is row 3, -100 column 0, -50 row 0
    assert sorted(cells.cells_at((-100.0, -50.0, 100.0, -50.0), 2)) == sorted(c(2, ix, 0) for ix in range(4))


def test_covering_files_each_box_at_its_own_level_once() -> None:
    small = (10.0, 10.0, 10.0001, 10.0001)
    world = (-180.0, -90.0, 180.0, 90.0)
    rows = cells.covering((small, world, small))
    assert sorted(rows) == sorted([(20, cid) for cid in cells.cells_at(small, 20)] + [(0, 1 << 60)])
    assert cells.covering(()) == []


def test_query_keys_ask_for_descendants_and_ancestors() -> None:
    box = (-10.0, -10.0, 10.0, 10.0)  # level 3 (45 x 22.5 degree cells), four cells
    level = cells.level_for(box)
    assert level == 3
    ranges, points = cells.query_keys((box,))
    mine = cells.cells_at(box, level)
    assert ranges == sorted(cells.descendant_range(cid, level) for cid in mine)
    assert points == sorted({cells.parent_at(cid, level, up) for cid in mine for up in range(level)})
    assert (1 << 60) in points  # the world cell is an ancestor of everything
    assert not any(p in mine for p in points)
    assert cells.query_keys(()) == ([], [])
