"""The time slots of the index (store/sql/index.py): a row and a query whose windows meet always share a
slot, however long, short, early or late the windows are, and rows are filed under few slots."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from deconfliction.store.sql.index import LONG_SLOT, MAX_QUERY_SLOTS, MAX_ROW_SLOTS, SLOT_US, query_slots, row_slots

HOUR = 3_600_000_000
times = st.one_of(
    st.integers(-(10**17), 10**17),  # about 3,000 years either side of 1970
    st.integers(-3, 3).map(lambda k: k * SLOT_US),  # slot boundaries, 1970 included
    st.integers(-3, 3).map(lambda k: k * SLOT_US - 1),
)
lengths = st.one_of(
    st.integers(0, 3 * HOUR),
    st.integers(0, (MAX_ROW_SLOTS + 2) * SLOT_US),
    st.integers(0, (MAX_QUERY_SLOTS + 2) * SLOT_US),
    st.just(0),
)


def reads(q: list[int] | tuple[int, int], slot: int) -> bool:
    return slot in q if isinstance(q, list) else q[0] <= slot <= q[1]


@given(times, lengths, times, lengths)
def test_windows_that_meet_share_a_slot(r0: int, r_len: int, q0: int, q_len: int) -> None:
    r1, q1 = r0 + r_len, q0 + q_len
    filed = row_slots(r0, r1)
    asked = query_slots(q0, q1)
    assert 1 <= len(filed) <= MAX_ROW_SLOTS
    if r0 <= q1 and q0 <= r1:  # the candidate query's time test (closed windows)
        assert any(reads(asked, s) for s in filed)
    assert reads(asked, LONG_SLOT)


def test_slots_at_the_edges() -> None:
    # a window ending exactly where the next slot begins is in both (windows are tested closed)
    assert row_slots(0, SLOT_US) == [0, 1]
    assert row_slots(-1, 0) == [-1, 0]  # before 1970: floor, not truncation
    assert row_slots(0, MAX_ROW_SLOTS * SLOT_US - 1) == list(range(MAX_ROW_SLOTS))
    assert row_slots(0, MAX_ROW_SLOTS * SLOT_US) == [LONG_SLOT]
    assert query_slots(5 * SLOT_US, 6 * SLOT_US - 1) == [LONG_SLOT, 5]
    assert query_slots(0, MAX_QUERY_SLOTS * SLOT_US) == (LONG_SLOT, MAX_QUERY_SLOTS)
