"""Reading the ledger: exports as the reader may see them, and the chain's head."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from deconfliction.domain.ledger import header
from deconfliction.domain.party import Party
from deconfliction.errors import InvalidInput
from deconfliction.service.runtime import Runtime
from deconfliction.service.views import may_read_entry

PAGE = 1000


def export_ledger(
    rt: Runtime, viewer: Party | None, *, after: int = 0, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """The header line, then every entry after ``after`` (at most ``limit``) from one snapshot: whole
    where ``viewer`` may read it, redacted (hashes only) elsewhere. ``viewer`` None is the operator at
    the console, who reads everything."""
    if after < 0:
        raise InvalidInput.one("after", "out_of_range", "after is an entry number, 0 or more")
    if limit is not None and limit < 1:
        raise InvalidInput.one("limit", "out_of_range", "limit is 1 or more")
    with rt.store.read() as tx:
        head_seq, head_hash = tx.events.head()
        previous = tx.events.hash_at(after)
        if previous is None or after > head_seq:
            raise InvalidInput.one(
                "after", "out_of_range", f"the ledger has {head_seq} entries; after {after} is past it"
            )
        until = head_seq if limit is None else min(head_seq, after + limit)
        yield header(
            after_seq=after,
            previous=previous,
            until_seq=until,
            party=viewer.id if viewer is not None else None,
            head_seq=head_seq,
            head_hash=head_hash,
        )
        seq = after
        while seq < until:
            batch = tx.events.after(seq, min(PAGE, until - seq))
            if not batch:
                break
            for event in batch:
                sealed = event.sealed()
                yield sealed.line(redacted=not may_read_entry(viewer, sealed.entry))
            seq = batch[-1].seq


def ledger_head(rt: Runtime) -> tuple[int, str]:
    with rt.store.read() as tx:
        return tx.events.head()
