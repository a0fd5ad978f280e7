"""`deconflict import FILE.kml`: a KML export imports back (by extension, or by content under another
name); bad KML exits 2 naming the place and stores nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfliction.cli import app
from tests.test_cli_sites import GOOD

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    assert runner.invoke(app, ["party", "add", "agency"]).exit_code == 0
    sites = tmp_path / "sites.csv"
    sites.write_text(GOOD, encoding="utf-8")
    assert runner.invoke(app, ["import", str(sites), "--party", "agency"]).exit_code == 0
    return tmp_path


def sites(db: Path) -> list[dict[str, object]]:
    out = db / "now.geojson"
    assert runner.invoke(app, ["export", "--party", "agency", "-o", str(out)]).exit_code == 0
    return [f["properties"] for f in json.loads(out.read_text())["features"]]


def test_a_kml_export_imports_back(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kml = db / "all.kml"
    r = runner.invoke(app, ["export", "--format", "kml", "--party", "agency", "-o", str(kml)])
    assert r.exit_code == 0, r.output
    before = sites(db)
    assert len(before) == 2
    r = runner.invoke(app, ["import", str(kml), "--party", "agency", "--dry-run", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["counts"] == {"operation": 0, "movement": 0, "zone": 0, "site": 0}
    assert [n["code"] for n in report["skipped"]] == ["already_stored", "already_stored"]
    assert runner.invoke(app, ["import", str(kml), "--dry-run"]).exit_code == 2  # names the importing party
    # under another name: read as KML because it starts with "<"; the party's own sites, stored as they are
    saved = db / "from google earth.xml"
    saved.write_bytes(b"\xef\xbb\xbf" + kml.read_bytes())  # a byte-order mark, as some editors save
    r = runner.invoke(app, ["import", str(saved), "--party", "agency"])
    assert r.exit_code == 0 and "nothing new: nothing stored" in r.output and "is stored as it is" in r.output, r.output
    assert sites(db) == before
    # the same placemarks without their ids (as a KML drawn elsewhere would be): new sites
    without_ids = re.sub(r"<Data name=\"id\">.*?</Data>", "", kml.read_text(encoding="utf-8"), flags=re.S)
    saved.write_text(without_ids, encoding="utf-8")
    r = runner.invoke(app, ["import", str(saved), "--party", "agency"])
    assert r.exit_code == 0 and "2 site(s): stored" in r.output, r.output
    after = sites(db)
    keep = ("name", "category", "radius_m", "accuracy_m", "valid_until")
    assert sorted(json.dumps({k: p[k] for k in keep}) for p in after) == sorted(
        json.dumps({k: p[k] for k in keep}) for p in before * 2
    )


def test_bad_kml_exits_2_naming_the_place(db: Path) -> None:
    bad = db / "bad.kml"
    bad.write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>x</name>'
        "<Point><coordinates>40,135</coordinates></Point></Placemark></kml>",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["import", str(bad), "--party", "agency"])
    assert r.exit_code == 2 and "placemarks[0].geometry.coordinates[0]" in r.output and "out_of_range" in r.output
    bad.write_text("<kml><Placemark>\n</kml>", encoding="utf-8")
    r = runner.invoke(app, ["import", str(bad), "--party", "agency"])
    assert r.exit_code == 2 and "invalid_xml" in r.output and "line 2" in r.output
    assert len(sites(db)) == 2
