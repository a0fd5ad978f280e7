from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from deconfliction.cli import app

runner = CliRunner()


def feature(
    op: str, party: str, geometry: dict[str, Any], lo: float = 300, hi: float = 3000, hours: float = 2, **props: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "operation": op,
            "party": party,
            "kind": "air",
            "lower_m": lo,
            "upper_m": hi,
            "start": "2026-11-23T08:00:00Z",
            "end": f"2026-11-23T{8 + hours:02.0f}:00:00Z",
            **props,
        },
    }


def box(lon: float, lat: float, d: float = 0.1) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]],
    }


def write(tmp_path: Path, features: list[dict[str, Any]]) -> Path:
    path = tmp_path / "ops.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_check_reports_conflicts_as_table_and_json(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            feature("A1", "Alpha", box(40.0, 35.0)),
            feature("B1", "Bravo", box(40.05, 35.05)),
            feature("B2", "Bravo", {"type": "Point", "coordinates": [40.3, 35.0]}, radius_m=500),
            feature(
                "C1", "Charlie", {"type": "LineString", "coordinates": [[40.3, 34.9], [40.3, 35.1]]}, half_width_m=100
            ),
            feature("A2", "Alpha", box(45.0, 35.0)),
        ],
    )
    table = runner.invoke(app, ["check", str(path)], terminal_width=200)
    assert table.exit_code == 1, table.output
    assert "2 conflict(s) among 5 operation(s)" in table.output
    as_json = runner.invoke(app, ["check", str(path), "--json"])
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    pairs = {(c["operation_a"], c["operation_b"]) for c in report["conflicts"]}
    assert pairs == {("A1", "B1"), ("B2", "C1")}
    a1b1 = next(c for c in report["conflicts"] if c["operation_a"] == "A1")
    assert a1b1["min_horizontal_m"] == 0.0 and a1b1["rule"]["name"] == "air-air"
    assert a1b1["encounters"][0]["region"]["type"] in ("Polygon", "MultiPolygon")


def test_check_without_conflicts_exits_zero(tmp_path: Path) -> None:
    path = write(tmp_path, [feature("A1", "Alpha", box(40.0, 35.0)), feature("B1", "Bravo", box(42.0, 35.0))])
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0, result.output


def test_check_names_every_bad_field(tmp_path: Path) -> None:
    bow = {"type": "Polygon", "coordinates": [[[40, 35], [40.5, 35.5], [40.5, 35], [40, 35.5], [40, 35]]]}
    path = write(
        tmp_path,
        [
            feature("A1", "Alpha", bow),
            feature("B1", "Bravo", box(40.0, 35.0), lo=5000, hi=100),
        ],
    )
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())  # rich wraps long lines
    assert "features[0].geometry.coordinates[0]" in text and "edge 0" in text and "edge 2" in text
    assert "features[1].properties.lower_m" in text
    not_json = tmp_path / "x.geojson"
    not_json.write_text("{nope")
    result = runner.invoke(app, ["check", str(not_json)])
    assert result.exit_code == 2 and "not JSON" in result.output


def test_party_add_prints_a_working_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", url)
    result = runner.invoke(app, ["party", "add", "Relief Corps", "--role", "coordinator"])
    assert result.exit_code == 0, result.output
    key = re.search(r"dk_[\w-]+", result.output)
    assert key
    again = runner.invoke(app, ["party", "add", "Relief Corps"])
    assert again.exit_code == 2 and "already exists" in again.output

    from deconfliction.service.parties import authenticate
    from deconfliction.service.runtime import Runtime
    from deconfliction.store import open_store

    store = open_store(url)
    try:
        assert authenticate(Runtime(store), key.group(0)).name == "Relief Corps"
    finally:
        store.close()


def test_demo_loads_and_reports_conflicts(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["demo", "--no-serve", "--database-url", f"sqlite:///{tmp_path}/demo.db"], terminal_width=200
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("dk_") >= 5  # the four parties and the aid agency's convoy team
    assert "Aid Agency / Convoy team" in result.output
    assert "Conflicts found: 15" in result.output
    flat = " ".join(result.output.split())  # the story lines wrap at the terminal's width
    assert 'declared by its unit "Convoy team"' in flat and "with an override:" in flat
    assert "air-air" in result.output and "air-ground" in result.output
    for kind in ("zone_entry", "band_entry", "protected_site-air"):
        assert kind in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_over_http(tmp_path: Path) -> None:
    """The real server process, as `make demo` starts it."""
    port = _free_port()
    env = {**os.environ, "DECONFLICTION_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db"}
    exe = Path(sys.executable).parent / "deconflict"
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stdout.read().decode() if proc.stdout else "server died") from None
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["backend"] == "sqlite"
        assert httpx.get(f"http://127.0.0.1:{port}/v1/openapi.json").json()["info"]["title"]
        assert httpx.get(f"http://127.0.0.1:{port}/v1/conflicts").status_code == 401
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize(
    ("workers", "feeds", "warned"),
    [(1, "", False), (2, "", False), (1, "127.0.0.1:6969=alpha", False), (2, "127.0.0.1:6969=alpha", True)],
)
def test_serve_says_when_several_processes_would_each_open_the_feeds(
    monkeypatch: pytest.MonkeyPatch, workers: int, feeds: str, warned: bool
) -> None:
    import uvicorn

    from deconfliction.api import workers as supervisor

    ran: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: ran.append(kw))

    def supervise(options: dict[str, Any], host: str, port: int, n: int) -> int:
        ran.append({**options, "workers": n})
        return 0

    monkeypatch.setattr(supervisor, "run_workers", supervise)
    if feeds:
        monkeypatch.setenv("DECONFLICTION_COT_UDP", feeds)
    result = runner.invoke(app, ["serve", "--workers", str(workers)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert ran and ran[0]["workers"] == workers and ran[0]["app"] == "deconfliction.api.app:create_app"
    assert ("share one tactical picture" in result.output) is warned


def test_unit_add_list_and_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", url)
    assert runner.invoke(app, ["party", "add", "Relief Corps"]).exit_code == 0
    made = runner.invoke(app, ["unit", "add", "Relief Corps", "Convoy team"])
    assert made.exit_code == 0 and "Convoy team" in made.output, made.output
    again = runner.invoke(app, ["unit", "add", "Relief Corps", "Convoy team"])
    assert again.exit_code == 2 and "already has a unit" in again.output
    assert runner.invoke(app, ["unit", "add", "Nobody", "Team"]).exit_code == 2
    listed = runner.invoke(app, ["unit", "list", "Relief Corps", "--json"])
    assert listed.exit_code == 0
    (unit,) = json.loads(listed.output)
    assert unit["name"] == "Convoy team" and unit["contacts"] == []
    issued = runner.invoke(app, ["unit", "key", "Relief Corps", "Convoy team"])
    assert issued.exit_code == 0, issued.output
    key = re.search(r"dk_[\w-]+", issued.output)
    assert key
    assert runner.invoke(app, ["unit", "key", "Relief Corps", "Air wing"]).exit_code == 2

    from deconfliction.service.parties import authenticate
    from deconfliction.service.runtime import Runtime
    from deconfliction.store import open_store

    store = open_store(url)
    try:
        party = authenticate(Runtime(store), key.group(0))
        assert party.name == "Relief Corps" and party.unit_id == unit["id"]
    finally:
        store.close()


def test_a_changed_applied_migration_stops_every_command_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from deconfliction.store import open_store

    db = tmp_path / "m.db"
    open_store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as con:
        con.execute("UPDATE schema_migrations SET checksum = '0000' WHERE version = 3")
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", f"sqlite:///{db}")
    result = CliRunner().invoke(app, ["party", "add", "Alpha"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "the database was not opened: migration 0003_signatures.sql was changed after it was applied" in said
    assert "Traceback" not in said
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM parties").fetchone() == (0,)


def test_party_keys_are_made_listed_and_revoked_at_the_console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("DECONFLICTION_DATABASE_URL", url)
    assert runner.invoke(app, ["party", "add", "North"]).exit_code == 0
    made = runner.invoke(app, ["party", "key-add", "North", "--label", "gateway", "--expires", "2999-01-01T00:00:00Z"])
    assert made.exit_code == 0, made.output
    secret = re.search(r"dk_[\w-]+", made.output)
    key_id = re.search(r"ak_\w+", made.output)
    assert secret and key_id
    listed = runner.invoke(app, ["party", "keys", "North"], env={"COLUMNS": "80"})
    assert listed.exit_code == 0 and "gateway" in listed.output and "first key" in listed.output
    assert secret.group(0) not in listed.output
    assert max(len(line) for line in listed.output.splitlines()) <= 80
    records = json.loads(runner.invoke(app, ["party", "keys", "North", "--json"]).output)
    assert [(r["label"], r["expires_at"], r["active"]) for r in records] == [
        ("first key", None, True),
        ("gateway", "2999-01-01T00:00:00Z", True),
    ]
    assert key_id.group(0) in listed.output.split()  # whole, as the listing's first column shows ids

    from deconfliction.errors import NotAuthenticated
    from deconfliction.service.parties import authenticate
    from deconfliction.service.runtime import Runtime
    from deconfliction.store import open_store

    store = open_store(url)
    try:
        assert authenticate(Runtime(store), secret.group(0)).name == "North"
        revoked = runner.invoke(app, ["party", "key-revoke", key_id.group(0)])
        assert revoked.exit_code == 0, revoked.output
        with pytest.raises(NotAuthenticated):
            authenticate(Runtime(store), secret.group(0))
    finally:
        store.close()
    missing = runner.invoke(app, ["party", "keys", "South"])
    assert missing.exit_code == 2 and "no party named" in missing.output
    past = runner.invoke(app, ["party", "key-add", "North", "--expires", "2000-01-01T00:00:00Z"])
    assert past.exit_code == 2 and "expires_at" in past.output
