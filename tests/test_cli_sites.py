"""`deconflict import FILE.csv` (dry run, per-row report, all or nothing) and `deconflict site list`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfliction.cli import app

runner = CliRunner()

GOOD = """name;category;mgrs;lat;lon;radius_m;accuracy_m;valid_until
Al-Noor hospital;hospital;;35°19'48"N;40°08'24"E;80;20;2099-01-31
Depot;warehouse;37SEV 12345 67890;;;50;10;2099-01-31
"""
BAD = GOOD + "Ghost school;school;;35.4;;60;10;2099-01-31\nOld shelter;shelter;;35.5;40.5;60;-1;2099-01-31\n"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    r = runner.invoke(app, ["party", "add", "agency"])
    assert r.exit_code == 0, r.output
    return tmp_path


def test_dry_run_then_import_then_list(db: Path) -> None:
    path = db / "sites.csv"
    path.write_text(GOOD, encoding="utf-8")
    r = runner.invoke(app, ["import", str(path), "--party", "agency", "--dry-run"])
    assert r.exit_code == 0 and "2 accepted, 0 refused; dry run: nothing stored" in r.output
    assert runner.invoke(app, ["import", str(path)]).exit_code == 2  # an import is a party's, a dry run too
    assert runner.invoke(app, ["import", str(path), "--dry-run"]).exit_code == 2
    r = runner.invoke(app, ["import", str(path), "--party", "agency", "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert (report["ok"], report["dry_run"], report["stored"]) == (True, True, False)
    assert [row["position_format"] for row in report["accepted"]] == ["dms", "mgrs"]
    assert json.loads(runner.invoke(app, ["site", "list", "--json"]).output) == []
    r = runner.invoke(app, ["import", str(path), "--party", "agency"])
    assert r.exit_code == 0, r.output
    assert "2 accepted, 0 refused; stored" in r.output
    listed = json.loads(runner.invoke(app, ["site", "list", "--json"]).output)
    assert sorted(s["name"] for s in listed) == ["Al-Noor hospital", "Depot"]
    assert runner.invoke(app, ["site", "list"]).exit_code == 0
    again = runner.invoke(app, ["import", str(path), "--party", "agency", "--json"])
    dup = json.loads(again.output)["accepted"][0]["likely_duplicates"]
    assert [d["distance_m"] for d in dup] == [0.0]  # the same hospital again: a likely duplicate


def test_every_bad_row_is_reported_and_nothing_stored(db: Path) -> None:
    path = db / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    r = runner.invoke(app, ["import", str(path), "--party", "agency"])
    assert r.exit_code == 1
    assert "row 4: refused" in r.output and "row 5: refused" in r.output
    assert "2 accepted, 2 refused; nothing stored" in r.output
    report = json.loads(runner.invoke(app, ["import", str(path), "--party", "agency", "--json"]).output)
    assert {row["row"]: [e["field"] for e in row["errors"]] for row in report["refused"]} == {
        4: ["lon"],
        5: ["accuracy_m"],
    }
    assert json.loads(runner.invoke(app, ["site", "list", "--json"]).output) == []


def test_an_unknown_party_is_refused(db: Path) -> None:
    path = db / "sites.csv"
    path.write_text(GOOD, encoding="utf-8")
    r = runner.invoke(app, ["import", str(path), "--party", "nobody"])
    assert r.exit_code == 2 and "no party named" in r.output


def test_export_geojson_and_kml_and_import_back(db: Path, tmp_path: Path) -> None:
    path = db / "sites.csv"
    path.write_text(GOOD, encoding="utf-8")
    assert runner.invoke(app, ["import", str(path), "--party", "agency"]).exit_code == 0
    out = tmp_path / "all.geojson"
    r = runner.invoke(app, ["export", "--format", "geojson", "--party", "agency", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert [f["properties"]["object"] for f in json.loads(out.read_text())["features"]] == ["site", "site"]
    r = runner.invoke(app, ["import", str(out), "--party", "agency", "--dry-run", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["counts"]["site"] == 0  # its own sites, stored as they are
    r = runner.invoke(app, ["import", str(out), "--party", "agency", "--json"])
    assert r.exit_code == 0 and [n["code"] for n in json.loads(r.output)["skipped"]] == ["already_stored"] * 2
    assert len(json.loads(runner.invoke(app, ["site", "list", "--json"]).output)) == 2
    kml = runner.invoke(app, ["export", "--format", "kml"])
    assert kml.exit_code == 0 and kml.output.count("<Placemark>") == 2
    assert runner.invoke(app, ["export", "--format", "shp"]).exit_code == 2


def test_zone_list_shows_the_demo_banks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    assert runner.invoke(app, ["demo", "--no-serve", "--database-url", url]).exit_code == 0
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", url)
    zones_seen = json.loads(runner.invoke(app, ["zone", "list", "--party", "Aid Agency", "--json"]).output)
    assert sorted(z["state"] for z in zones_seen) == ["agreed", "agreed"]  # the agreed banks are public
    table = runner.invoke(app, ["zone", "list"], terminal_width=200)
    assert table.exit_code == 0 and table.output.count("agreed") == 2
