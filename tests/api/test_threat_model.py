"""docs/security.md maps every threat of the model to tests: each test it names exists, and each threat
of the model has a section that names at least one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECURITY_MD = ROOT / "docs" / "security.md"
THREATS = (
    "Spoofing a party",
    "Reading another party's plans",
    "Rewriting the record",
    "Denying a notification was received",
    "Flooding",
    "Framing",
    "Injecting into another party's screen",
    "Stealing a key",
    "A malicious feed",
)


def _named(text: str) -> list[tuple[str, str]]:
    """(file, test) of every `tests/x.py::test_y` and of a following `::test_z` of the same file."""
    out, current = [], ""
    for m in re.finditer(r"`(tests/[\w/]+\.py)?(?:::(test_\w+))?", text):
        if m.group(1):
            current = m.group(1)
        if m.group(2) and current:
            out.append((current, m.group(2)))
    return out


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_test_the_threat_model_names_exists() -> None:
    named = _named(SECURITY_MD.read_text(encoding="utf-8"))
    assert len(named) > 20
    missing = [f"{f}::{t}" for f, t in named if not (ROOT / f).exists() or t not in _tests_in(ROOT / f)]
    assert not missing, missing


def test_every_threat_has_a_section_with_a_test() -> None:
    text = SECURITY_MD.read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### (.+?)\n(.*?)(?=^#|\Z)", text, flags=re.M | re.S))
    for threat in THREATS:
        title = next((t for t in sections if t.startswith(threat)), None)
        assert title is not None, f"no section for {threat!r}"
        assert _named(sections[title]), f"{threat!r} names no test"
