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
from datetime import datetime
from typing import Any

import orjson

from deconfliction.domain.canonical import canonical, format_at
from deconfliction.domain.signing import evidence_valid, from_b64url, receipt_signature_valid
from deconfliction.errors import InvalidInput

GENESIS = "0" * 64
"""The hash before the first entry."""

EVERYONE = "*"
"""In an audience: every party may read the entry."""

FORMAT = "deconfliction-ledger/1"


def export_line(obj: Mapping[str, Any]) -> bytes:
    """One line of an export: the line's object in canonical form, so an export is byte for byte what
    its entries determine, and a changed byte shows even where it leaves the parsed value as it was
    (``1.0`` for ``1``, a digit beyond a float's precision)."""
    return canonical(obj) + b"\n"


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
    signed: Mapping[str, Any] | None = None
    """The party's signature of the request that made this change, with the request itself
    (``SignedRequest.evidence``); absent for unsigned writes."""
    exercise: bool = False
    """Written by an exercise deployment (docs/exercise.md): ``"exercise": true`` in the content, absent
    from a live entry, so live entries hash as they always did."""

    def content(self) -> dict[str, Any]:
        out = {
            "seq": self.seq,
            "at": format_at(self.at),
            "actor": self.actor,
            "type": self.type,
            "subject": self.subject,
            "audience": list(self.audience),
            "payload": self.payload,
        }
        if self.signed is not None:
            out["signed"] = self.signed
        if self.exercise:
            out["exercise"] = True
        return out

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
    signatures_checked: int = 0
    """Party signatures kept in visible entries and checked against the party's key in the export."""
    receipts_signed: int = 0
    """Receipts whose service signature was checked against a service key in the export."""
    exercise: int = 0
    """Visible entries marked ``"exercise": true``: written by an exercise deployment (docs/exercise.md).
    A ledger is all exercise or all live; one that mixes them is invalid."""
    unchecked: list[str] = field(default_factory=list)
    """What could not be checked from this export alone (a key announced before its first entry)."""
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
    kind: bool | None = None
    """Whether the visible entries so far are an exercise's (None before the first)."""
    keys = _Keys(report)
    for number, raw in enumerate(lines, start=1):
        # only the line's end is taken off: any other byte, whitespace included, is part of what is checked
        text = raw.rstrip("\r\n") if isinstance(raw, str) else raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
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
            else:
                what = keys.see(content)
                if what is not None:
                    report.problems.append(Problem(number, seq, what))
                    broken = True
                marked = content.get("exercise") is True
                report.exercise += marked
                if kind is None:
                    kind = marked
                elif kind != marked:
                    mixed = "an exercise entry in a live ledger" if marked else "a live entry in an exercise ledger"
                    report.problems.append(Problem(number, seq, f"{mixed}: exercise and live data are never mixed"))
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
        at = rseq if isinstance(rseq, int) else None
        if not isinstance(rseq, int) or seen.get(rseq) != rhash:
            report.problems.append(Problem(0, at, f"receipt {receipt} not in this chain"))
            continue
        if "signature" not in receipt:
            continue
        valid = receipt_signature_valid(receipt, keys.service)
        if valid is None:
            report.unchecked.append(f"receipt {rseq}: service key {receipt.get('key_id')} is not in this export")
        elif valid:
            report.receipts_signed += 1
        else:
            report.problems.append(Problem(0, at, f"receipt {rseq}: the service's signature does not verify"))
    return report


class _Keys:
    """The keys an export announces as it goes: the service's (``service.key``, readable by everyone)
    and the parties' (``party.key_added`` / ``party.key_revoked``, readable by the party)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.service: dict[str, bytes] = {}
        self.party: dict[str, tuple[str, bytes]] = {}
        self.revoked: set[str] = set()

    def see(self, content: Mapping[str, Any]) -> str | None:
        """Learn from one verified entry; the reason it is wrong, if it is. A key added by the entry
        counts for its own signature (a first key signs its registration); a key revoked by the entry
        stops counting only after it (a key may sign its own revocation, docs/signing.md)."""
        kind, payload = content.get("type"), content.get("payload")
        if not isinstance(payload, Mapping):
            payload = {}
        try:
            if kind == "service.key":
                self.service[str(payload["key_id"])] = from_b64url(str(payload["public_key"]), "public_key", 32)
            elif kind == "party.key_added":
                raw = from_b64url(str(payload["public_key"]), "public_key", 32)
                self.party[str(payload["key_id"])] = (str(payload["party"]), raw)
            elif kind == "party.key_revoked":
                revoked = str(payload["key_id"])
        except (KeyError, InvalidInput):
            return f"a {kind} entry without a valid key"
        problem = self._signature(content)
        if kind == "party.key_revoked":
            self.revoked.add(revoked)
        return problem

    def _signature(self, content: Mapping[str, Any]) -> str | None:
        signed = content.get("signed")
        if signed is None:
            return None
        if not isinstance(signed, Mapping):
            return "its signature record is not an object"
        key_id = str(signed.get("key_id"))
        if key_id not in self.party:
            self.report.unchecked.append(f"entry {content.get('seq')}: party key {key_id} is not in this export")
            return None
        owner, raw = self.party[key_id]
        if key_id in self.revoked:
            return f"signed with key {key_id}, revoked before this entry"
        if owner != content.get("actor"):
            return f"signed with key {key_id} of {owner}, not of the actor {content.get('actor')}"
        if not evidence_valid(signed, raw):
            return f"the party's signature (key {key_id}) does not verify"
        self.report.signatures_checked += 1
        return None
