"""Reading a PDF as a person would, with Debian's poppler-utils: its text (pdftotext), its page sizes
(pdfinfo) and its pages as images (pdftoppm), saved under test-artifacts/packet/ for a look after the run."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from tests.conftest import need_poppler

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "packet"


def _run(args: list[str], pdf: bytes, *, to_stdout: bool = False) -> str:
    need_poppler()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        tail = [str(path), "-"] if to_stdout else [str(path)]
        done = subprocess.run([*args, *tail], capture_output=True, check=True, timeout=120)
    return done.stdout.decode("utf-8", "replace")


def text(pdf: bytes) -> str:
    """The document's text, laid out as on the page; pages are separated by form feeds."""
    return _run(["pdftotext", "-layout"], pdf, to_stdout=True)


def words(pdf: bytes) -> str:
    """The text with every run of white space as one space (a table cell's words wrap over lines)."""
    return " ".join(_run(["pdftotext"], pdf, to_stdout=True).split())


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's (width, height) in points."""
    info = _run(["pdfinfo", "-f", "1", "-l", "1000"], pdf)
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


def render(pdf: bytes, name: str, dpi: int = 60) -> list[Path]:
    """The pages as PNG images in test-artifacts/packet/<name>-<n>.png (pdftoppm)."""
    need_poppler()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    for old in ARTIFACTS.glob(f"{prefix.name}-*.png"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(path), str(prefix)], check=True, timeout=120)
    return sorted(ARTIFACTS.glob(f"{prefix.name}-*.png"))
