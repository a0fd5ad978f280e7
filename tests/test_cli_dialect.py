"""One file dialect: what `deconflict export` writes, `check` and `import` read. The offline check of an
export finds the conflicts the service found; a party re-importing its own export changes nothing (not
even the ledger); a dry run runs the import's own code and keeps nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfliction.cli import app
from deconfliction.domain.conflict import ConflictState
from deconfliction.store import open_store

runner = CliRunner()


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path}/demo.db"
    assert runner.invoke(app, ["demo", "--no-serve", "--database-url", url]).exit_code == 0
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", url)
    return url


def _stored_conflicts(url: str) -> set[frozenset[str]]:
    store = open_store(url)
    try:
        with store.read() as tx:
            found = tx.conflicts.list(limit=10_000)
    finally:
        store.close()
    return {
        frozenset((c.operation_a, c.operation_b))
        for c in found
        if c.state is ConflictState.OPEN and c.kind != "band_entry"
    }


def _ledger_length() -> int:
    r = runner.invoke(app, ["ledger", "export"])
    assert r.exit_code == 0, r.output
    return len(r.output.splitlines())


def test_check_reads_the_export_and_finds_what_the_service_found(demo: str, tmp_path: Path) -> None:
    out = tmp_path / "all.geojson"
    assert runner.invoke(app, ["export", "-o", str(out)]).exit_code == 0
    features = json.loads(out.read_text())["features"]
    assert {f["properties"]["object"] for f in features} == {"operation", "movement", "zone", "site"}
    r = runner.invoke(app, ["check", str(out), "--json"])
    assert r.exit_code == 1, r.output  # conflicts found, and nothing refused
    report = json.loads(r.output)
    ids = {
        f"{f['properties']['object']} {f['properties'].get('name', '')}": f["properties"]["id"]
        for f in features
        if f["properties"]["object"] in ("zone", "site")
    }
    offline = {frozenset((c["operation_a"], c["operation_b"])) for c in report["conflicts"]}
    offline |= {frozenset((a["operation"], ids[a["target"]])) for a in report["area_conflicts"]}
    assert offline == _stored_conflicts(demo)
    table = runner.invoke(app, ["check", str(out)], env={"COLUMNS": "80"})
    assert table.exit_code == 1 and "Al-Noor" in table.output and "Euphrates" in table.output, table.output
    assert max(len(line) for line in table.output.splitlines()) <= 80


def test_a_party_reimporting_its_own_export_changes_nothing(demo: str, tmp_path: Path) -> None:
    mine = tmp_path / "north.geojson"
    assert runner.invoke(app, ["export", "--party", "North Force", "-o", str(mine)]).exit_code == 0
    before = _ledger_length()
    r = runner.invoke(app, ["import", str(mine), "--party", "North Force", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["counts"] == {"operation": 0, "movement": 0, "zone": 0, "site": 0}
    codes = [n["code"] for n in report["skipped"]]
    features = json.loads(mine.read_text())["features"]
    others = [f for f in features if f["properties"]["party"] != "North Force"]
    assert others and codes.count("not_the_importer") == len(others)  # an export shows others' objects too
    assert codes.count("already_stored") == len(features) - len(others)
    assert _ledger_length() == before
    again = tmp_path / "north-again.geojson"
    assert runner.invoke(app, ["export", "--party", "North Force", "-o", str(again)]).exit_code == 0
    assert again.read_text() == mine.read_text()
    # an edited object is not overwritten silently, and nothing of the file is stored
    fc = json.loads(mine.read_text())
    own = next(f for f in fc["features"] if f["properties"]["party"] == "North Force")
    own["properties"]["title"] = "edited"
    mine.write_text(json.dumps(fc))
    r = runner.invoke(app, ["import", str(mine), "--party", "North Force"])
    assert r.exit_code == 2 and "changed_since_export" in r.output
    assert _ledger_length() == before


def test_a_dry_run_is_the_import_rolled_back(demo: str, tmp_path: Path) -> None:
    mine = tmp_path / "north.geojson"
    assert runner.invoke(app, ["export", "--party", "North Force", "-o", str(mine)]).exit_code == 0
    fc = json.loads(mine.read_text())
    for f in fc["features"]:  # the same plans without their ids: new operations, conflicting as the old ones do
        f["properties"].pop("id", None)
        if f["properties"].get("operation"):
            f["properties"]["operation"] = "copy-" + f["properties"]["operation"]
    mine.write_text(json.dumps(fc))
    before = _ledger_length()
    dry = runner.invoke(app, ["import", str(mine), "--party", "North Force", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert _ledger_length() == before
    real = runner.invoke(app, ["import", str(mine), "--party", "North Force", "--json"])
    assert real.exit_code == 0, real.output
    a, b = json.loads(dry.output), json.loads(real.output)
    assert a["dry_run"] and not b["dry_run"]
    assert (a["counts"], a["conflicts"], a["skipped"]) == (b["counts"], b["conflicts"], b["skipped"])
    assert a["counts"]["operation"] > 0 and a["conflicts"] > 0
    assert {k: len(v) for k, v in a["stored"].items()} == {k: len(v) for k, v in b["stored"].items()}
    assert _ledger_length() > before


def test_the_demo_writes_where_the_cli_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DECONFLICTION_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["demo", "--no-serve"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["site", "list", "--json"]).output)
    assert sorted(s["name"] for s in listed) == ["Al-Noor Hospital", "WFP warehouse"]
    assert runner.invoke(app, ["demo", "--no-serve"]).exit_code == 0  # the demo's own database: made anew
    # a database holding a deployment's data is never overwritten by the demo
    assert runner.invoke(app, ["party", "add", "Real Force"]).exit_code == 0
    r = runner.invoke(app, ["demo", "--no-serve"])
    assert r.exit_code == 2 and "--database-url" in r.output, r.output
    names = [p["name"] for p in json.loads(runner.invoke(app, ["party", "list", "--json"]).output)]
    assert "Real Force" in names and "North Force" in names


@pytest.mark.parametrize(
    "command",
    [["site", "list"], ["zone", "list"], ["party", "list"], ["unit", "list", "Aid Agency"]],
    ids=lambda c: " ".join(c),
)
def test_listings_fit_80_columns_with_every_id_whole(demo: str, command: list[str]) -> None:
    records = json.loads(runner.invoke(app, [*command, "--json"]).output)
    assert records
    table = runner.invoke(app, command, env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    assert max(len(line) for line in table.output.splitlines()) <= 80
    words = table.output.split()
    for r in records:
        assert r["id"] in words, (r["id"], table.output)  # whole: neither cut nor wrapped
