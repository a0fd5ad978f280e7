"""The ledger: every change is an entry appended to a hash chain that anyone can verify offline.

An entry's *content* is the JSON object ``{seq, at, actor, type, subject, audience, payload}``; its
``content_hash`` is SHA-256 of the content canonicalised by RFC 8785 (JSON Canonicalization Scheme), and
its ``hash`` is SHA-256 of the previous entry's hash followed by its own content hash (both as 32 raw
bytes); the first entry follows ``GENESIS``. Changing, removing, inserting or reordering anything breaks
every hash from that point on, and the first broken line says where.

A party's export holds the content of the entries it may read (``audience`` names it, or holds
``"*"``) and only ``seq``, ``content_hash`` and ``hash`` of the others (``"redacted": true``): the chain
still verifies, and the party learns nothing of what it may not see beyond that an entry exists.

Everything here is pure: lines in, findings out. File handling lives in the CLI.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import rfc8785

GENESIS = "0" * 64
"""The hash before the first entry."""

EVERYONE = "*"
"""In an audience: every party may read the entry."""

FORMAT = "deconfliction-ledger/1"


def canonical(obj: Any) -> bytes:
    """RFC 8785 canonical JSON.

    Most entries take a fast path: once integral floats are written as integers, every value of an
    entry is one that orjson writes exactly as RFC 8785 does (ASCII keys, so sorting by code point
    equals sorting by UTF-16 unit; floats in [1e-4, 1e16), where orjson, Python's ``repr`` and
    ECMAScript all print the shortest round-tripping digits without exponent; the same string escapes).
    Anything else goes to the reference implementation; a property test holds the two byte-equal."""
    try:
        return orjson.dumps(_plain(obj), option=orjson.OPT_SORT_KEYS)
    except (_Slow, orjson.JSONEncodeError):
        return rfc8785.dumps(_as_doubles(obj))


class NotCanonical(ValueError):
    """A value RFC 8785 cannot write: a number no IEEE double holds exactly, a lone surrogate, NaN."""


def _as_doubles(obj: Any) -> Any:
    """JSON numbers are doubles (RFC 8785 section 3.2.2.3): an integer beyond 2^53, as a parser reads
    ``42529098255226460``, is the double nearest it, written back in its canonical form."""
    t = type(obj)
    if t is int and abs(obj) > _MAX_SAFE_INT:
        try:
            return float(obj)
        except OverflowError:
            raise NotCanonical(f"{obj} is beyond the range of a JSON number (an IEEE double)") from None
    if t is dict:
        return {k: _as_doubles(v) for k, v in obj.items()}
    if t is list or t is tuple:
        return [_as_doubles(v) for v in obj]
    return obj


class _Slow(Exception):
    """A value outside the fast path of ``canonical``."""


_MAX_SAFE_INT = 2**53 - 1


def _plain(obj: Any) -> Any:
    t = type(obj)
    if t is str or obj is None or t is bool:
        return obj
    if t is float:
        if obj.is_integer():
            if abs(obj) <= _MAX_SAFE_INT:
                return int(obj)
            raise _Slow
        if 1e-4 <= abs(obj) < 1e16:
            return obj
        raise _Slow
    if t is int:
        if abs(obj) <= _MAX_SAFE_INT:
            return obj
        raise _Slow
    if t is dict:
        out = {}
        for k, v in obj.items():
            if type(k) is not str or not k.isascii():
                raise _Slow
            out[k] = _plain(v)
        return out
    if t is list or t is tuple:
        if all(type(v) is float and not v.is_integer() and 1e-4 <= abs(v) < 1e16 for v in obj):
            return obj  # coordinates: written as they are, without a call per number
        return [_plain(v) for v in obj]
    raise _Slow


def export_line(obj: Mapping[str, Any]) -> bytes:
    """One line of an export: the line's object in canonical form, so an export is byte for byte what
    its entries determine, and a changed byte shows even where it leaves the parsed value as it was
    (``1.0`` for ``1``, a digit beyond a float's precision)."""
    return canonical(obj) + b"\n"


def format_at(at: datetime) -> str:
    """The entry's time, always with microseconds, so the stored instant and the text map one to one."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Entry:
    seq: int
    at: datetime
    actor: str | None
    type: str
    subject: str
    audience: tuple[str, ...]
    """Parties that may read the entry besides those who read everything; ``"*"`` for every party."""
    payload: Mapping[str, Any]

    def content(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": format_at(self.at),
            "actor": self.actor,
            "type": self.type,
            "subject": self.subject,
            "audience": list(self.audience),
            "payload": self.payload,
        }

    def readable_by(self, party_id: str) -> bool:
        return EVERYONE in self.audience or party_id in self.audience


def content_hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def chain_hash(previous: str, content_digest: str) -> str:
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(content_digest)).hexdigest()


@dataclass(frozen=True)
class Sealed:
    """An entry with its place in the chain."""

    entry: Entry
    content_hash: str
    hash: str

    def line(self, *, redacted: bool = False) -> dict[str, Any]:
        """The entry as one line of an export."""
        if redacted:
            return {"seq": self.entry.seq, "redacted": True, "content_hash": self.content_hash, "hash": self.hash}
        return {
            "seq": self.entry.seq,
            "content": self.entry.content(),
            "content_hash": self.content_hash,
            "hash": self.hash,
        }


def seal(entry: Entry, previous: str) -> Sealed:
    digest = content_hash(entry.content())
    return Sealed(entry, digest, chain_hash(previous, digest))


def header(
    *, after_seq: int, previous: str, until_seq: int, party: str | None, head_seq: int, head_hash: str
) -> dict[str, Any]:
    """The first line of an export: the hash it continues from, the entries it holds (after_seq + 1 to
    until_seq), whose view it is, and the chain's head when it was written."""
    return {
        "format": FORMAT,
        "after_seq": after_seq,
        "previous_hash": previous,
        "until_seq": until_seq,
        "party": party,
        "head": {"seq": head_seq, "hash": head_hash},
    }


# ------------------------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class Problem:
    line: int
    """1-based line number in the export."""
    seq: int | None
    what: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" (entry {self.seq})" if self.seq is not None else "")
        return f"{where}: {self.what}"


@dataclass
class Report:
    entries: int = 0
    redacted: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_hash: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


_HEX64 = frozenset("0123456789abcdef")


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX64


def verify(lines: Iterable[bytes | str], *, receipts: Sequence[Mapping[str, Any]] = ()) -> Report:
    """Check an export line by line: the header, every content hash, every chain link, the sequence,
    and that each receipt's (seq, hash) is in the chain. Verification stops trusting the chain at the
    first broken link (later hashes cannot be checked against a broken one) but reports every line that
    does not parse."""
    report = Report()
    previous: str | None = None
    expected_seq: int | None = None
    claimed_head: Mapping[str, Any] | None = None
    until: object = None
    seen: dict[int, str] = {}
    broken = False
    for number, raw in enumerate(lines, start=1):
        text = raw.strip() if isinstance(raw, str) else raw.strip().decode("utf-8", errors="replace")
        if not text:
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            report.problems.append(Problem(number, None, f"not JSON ({exc})"))
            broken = True
            continue
        if not isinstance(obj, dict):
            report.problems.append(Problem(number, None, "not a JSON object"))
            broken = True
            continue
        try:
            written = canonical(obj)
        except (ValueError, TypeError) as exc:  # rfc8785's errors are ValueErrors
            report.problems.append(Problem(number, None, f"not canonical JSON ({exc})"))
            broken = True
            continue
        if written != text.encode("utf-8"):
            at = obj.get("seq") if isinstance(obj.get("seq"), int) else None
            report.problems.append(Problem(number, at, "not in canonical form: the line was altered"))
            broken = True
        if previous is None:
            if obj.get("format") != FORMAT or not _is_hash(obj.get("previous_hash")):
                report.problems.append(Problem(number, None, f"the first line is not a {FORMAT} header"))
                return report
            previous = str(obj["previous_hash"])
            expected_seq = int(obj.get("after_seq", 0)) + 1
            head = obj.get("head")
            claimed_head = head if isinstance(head, dict) else None
            until = obj.get("until_seq")
            continue
        seq = obj.get("seq")
        if not isinstance(seq, int):
            report.problems.append(Problem(number, None, "no entry number (seq)"))
            broken = True
            continue
        if seq != expected_seq:
            report.problems.append(Problem(number, seq, f"entry {expected_seq} expected here: missing or reordered"))
            broken = True
        expected_seq = seq + 1
        digest, link = obj.get("content_hash"), obj.get("hash")
        if not _is_hash(digest) or not _is_hash(link):
            report.problems.append(Problem(number, seq, "content_hash or hash is not 64 hex digits"))
            broken = True
            continue
        if obj.get("redacted") is True:
            report.redacted += 1
        else:
            content = obj.get("content")
            if not isinstance(content, dict):
                report.problems.append(Problem(number, seq, "no content and not marked redacted"))
                broken = True
            elif content.get("seq") != seq:
                report.problems.append(Problem(number, seq, f"its content says entry {content.get('seq')}"))
                broken = True
            elif content_hash(content) != digest:
                report.problems.append(Problem(number, seq, "the content does not match its content_hash"))
                broken = True
        if not broken and chain_hash(previous, str(digest)) != link:
            report.problems.append(Problem(number, seq, "hash does not follow from the previous hash: chain broken"))
            broken = True
        previous = str(link)
        seen[seq] = str(link)
        report.entries += 1
        report.first_seq = seq if report.first_seq is None else report.first_seq
        report.last_seq = seq
    if previous is None:
        report.problems.append(Problem(1, None, f"empty: no {FORMAT} header"))
        return report
    report.head_hash = previous if report.entries else None
    last = report.last_seq if report.entries else (expected_seq or 1) - 1
    if isinstance(until, int) and last != until:
        report.problems.append(Problem(0, report.last_seq, f"the export ends at entry {last}, not {until}: truncated"))
    elif (
        claimed_head is not None
        and not broken
        and report.entries
        and claimed_head.get("seq") == last
        and claimed_head.get("hash") != previous
    ):
        report.problems.append(Problem(0, last, "the last hash is not the head the header announces"))
    for receipt in receipts:
        rseq, rhash = receipt.get("seq"), receipt.get("hash")
        if not isinstance(rseq, int) or seen.get(rseq) != rhash:
            report.problems.append(
                Problem(0, rseq if isinstance(rseq, int) else None, f"receipt {receipt} not in this chain")
            )
    return report
