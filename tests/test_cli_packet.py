"""``deconflict packet``: the situation packet of a party, from the local database by its name or by an
API key (a unit's key: the unit's packet), written as a PDF, on the demo's data."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfliction.cli import app
from deconfliction.service.demo import load_demo
from deconfliction.settings import Settings
from deconfliction.store import open_store
from tests import pdf

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, str], list[tuple[str, str]]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('packet')}/demo.db"
    rt = Settings().runtime(open_store(url))
    try:
        load = load_demo(rt)
    finally:
        rt.store.close()
    return url, {p.name: key for p, key in load.parties}, load.unit_keys


def test_a_partys_packet_by_name(demo: tuple[str, dict[str, str], list[tuple[str, str]]], tmp_path: Path) -> None:
    url, _, _ = demo
    out = tmp_path / "north.pdf"
    args = ["packet", "--party", "North Force", "--out", str(out), "--paper", "letter"]
    result = runner.invoke(app, args, env={"DECONFLICTION_DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    body = out.read_bytes()
    said = pdf.words(body)
    assert "Situation packet: North Force" in said and "Open conflicts (" in said and "ISR orbit" in said
    assert pdf.page_sizes(body)[0] == (612.0, 792.0)
    assert "Convoy team" not in said  # the aid agency's unit and its ladder are the agency's business


def test_a_units_packet_by_its_key(demo: tuple[str, dict[str, str], list[tuple[str, str]]], tmp_path: Path) -> None:
    url, _, unit_keys = demo
    (label, key), *_ = unit_keys
    out = tmp_path / "unit.pdf"
    result = runner.invoke(
        app, ["packet", "--out", str(out), "--key-file", "-"], input=key + "\n", env={"DECONFLICTION_DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    said = pdf.words(out.read_bytes())
    assert f"Situation packet: {label.split(' / ')[0]} (unit {label.split(' / ')[1]})" in said


def test_whose_packet_must_be_said_once(
    demo: tuple[str, dict[str, str], list[tuple[str, str]]], tmp_path: Path
) -> None:
    url, keys, _ = demo
    env = {"DECONFLICTION_DATABASE_URL": url}
    key_file = tmp_path / "east.key"
    key_file.write_text(keys["East Force"])
    east = runner.invoke(app, ["packet", "--out", str(tmp_path / "east.pdf"), "--key-file", str(key_file)], env=env)
    assert east.exit_code == 0 and "Situation packet: East Force" in pdf.words((tmp_path / "east.pdf").read_bytes())
    neither = runner.invoke(app, ["packet", "--out", "x.pdf"], env=env)
    both = runner.invoke(
        app, ["packet", "--out", "x.pdf", "--party", "North Force", "--key-file", str(key_file)], env=env
    )
    bad_key = runner.invoke(app, ["packet", "--out", "x.pdf", "--key-file", "-"], input="dk_nothing\n", env=env)
    bad_time = runner.invoke(app, ["packet", "--out", "x.pdf", "--party", "North Force", "--at", "soon"], env=env)
    for result in (neither, both, bad_key, bad_time):
        assert result.exit_code == 2, result.output
    assert not Path("x.pdf").exists()
