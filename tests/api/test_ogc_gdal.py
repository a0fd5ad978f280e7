"""/ogc read by a client nobody here wrote: GDAL's OAPIF driver (Debian ``gdal-bin``: ``ogrinfo``,
``ogr2ogr``) against a real ``deconflict serve``, the key in a header, on SQLite and PostgreSQL.

Without ``ogrinfo``/``ogr2ogr`` the tests skip with the reason, unless DECONFLICTION_REQUIRE_GDAL=1 (set by
.ci/run, which installs gdal-bin): then they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import shapely

from deconfliction.domain.party import Role
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from tests.api import ogc_scene
from tests.api.ogc_scene import LAYERS, Scene
from tests.conftest import ahead, need, served

REQUIRE_GDAL = os.environ.get("DECONFLICTION_REQUIRE_GDAL") == "1"


def _missing() -> str | None:
    for tool in ("ogrinfo", "ogr2ogr"):
        if shutil.which(tool) is None:
            return f"no {tool} on PATH (apt-get install gdal-bin)"
    return None


class Cell:
    def __init__(self, url: str, scene: Scene, client: httpx.Client, workdir: Path) -> None:
        self.url, self.scene, self.client, self.workdir = url, scene, client, workdir

    def gdal(self, who: str, *args: str) -> str:
        """Run a GDAL tool with ``who``'s key in the Authorization header of every request."""
        header = f"Authorization: Bearer {self.scene.keys[who]}"
        command = [*args, "--config", "GDAL_HTTP_HEADERS", header, "--config", "GDAL_HTTP_TIMEOUT", "120"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def source(self) -> str:
        return f"OAPIF:{self.url}/ogc"

    def export(self, who: str, layer: str, *options: str) -> list[dict[str, Any]]:
        out = self.workdir / f"{who}-{layer}-{len(options)}.geojson"
        out.unlink(missing_ok=True)
        self.gdal(who, "ogr2ogr", "-f", "GeoJSON", str(out), self.source(), layer, *options)
        features: list[dict[str, Any]] = json.loads(out.read_text())["features"]
        return features


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cell(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    need(_missing(), "DECONFLICTION_REQUIRE_GDAL" if REQUIRE_GDAL else None)
    workdir = tmp_path_factory.mktemp("gdal")

    def coordinator(rt: Runtime) -> str:
        return create_party(rt, None, "Coordination Cell", Role.COORDINATOR)[1]

    with (
        served(request.param, workdir, coordinator) as (server, key),
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield Cell(server.url, ogc_scene.build(client, key, ahead()), client, workdir)


def layer_counts(text: str) -> dict[str, int]:
    """``Layer name: x`` ... ``Feature Count: n`` pairs of ``ogrinfo -al -so``."""
    found = re.findall(r"^Layer name: (\S+)$.*?^Feature Count: (\d+)$", text, flags=re.MULTILINE | re.DOTALL)
    return {name: int(count) for name, count in found}


@pytest.mark.parametrize("who", ["alpha", "bravo", "charlie", "cell", "watcher"])
def test_ogrinfo_lists_every_layer_with_what_the_caller_may_see(cell: Cell, who: str) -> None:
    counts = layer_counts(cell.gdal(who, "ogrinfo", "-ro", "-al", "-so", cell.source()))
    expected = ogc_scene.v1_ids(cell.client, cell.scene, who)
    assert counts == {layer: len(expected[layer]) for layer in LAYERS}


def test_another_party_sees_less(cell: Cell) -> None:
    everything = layer_counts(cell.gdal("cell", "ogrinfo", "-ro", "-al", "-so", cell.source()))
    alpha = layer_counts(cell.gdal("alpha", "ogrinfo", "-ro", "-al", "-so", cell.source()))
    watcher = layer_counts(cell.gdal("watcher", "ogrinfo", "-ro", "-al", "-so", cell.source()))
    assert (everything["operations"], alpha["operations"], watcher["operations"]) == (5, 2, 0)
    assert (everything["movements"], alpha["movements"]) == (1, 0)
    assert (everything["conflicts"], alpha["conflicts"], watcher["conflicts"], watcher["lines"]) == (2, 1, 0, 0)


@pytest.mark.parametrize("layer", LAYERS)
def test_ogr2ogr_exports_the_features_the_api_serves(cell: Cell, layer: str) -> None:
    served = cell.client.get(f"/ogc/collections/{layer}/items", headers=cell.scene.auth("cell")).json()["features"]
    exported = cell.export("cell", layer)
    assert served, layer  # every layer has something for the coordinator
    by_id = {f["properties"]["id"]: f for f in exported}
    assert set(by_id) == {f["id"] for f in served}
    for f in served:
        got = by_id[f["id"]]
        for name, value in f["properties"].items():  # GDAL keeps every attribute (times to the millisecond)
            if isinstance(value, str) and re.match(r"\d{4}-\d\d-\d\dT", value):
                gap = datetime.fromisoformat(got["properties"][name]) - datetime.fromisoformat(value)
                assert abs(gap) < timedelta(milliseconds=1), (layer, name)
            elif value is not None:
                assert got["properties"][name] == value, (layer, name)
        a, b = shapely.geometry.shape(f["geometry"]), shapely.geometry.shape(got["geometry"])
        assert a.geom_type == b.geom_type
        assert a.equals_exact(b, 1e-7), (layer, f["id"])


def test_spat_selects_what_meets_the_box(cell: Cell) -> None:
    i = cell.scene.ids
    near_ab = cell.export("cell", "operations", "-spat", "39.9", "34.9", "40.2", "35.2")
    assert {f["properties"]["id"] for f in near_ab} == {i["A"], i["B"]}
    near_c = cell.export("alpha", "operations", "-spat", "44.01", "35.99", "45", "37")
    assert {f["properties"]["id"] for f in near_c} == {i["C"]}
    bravo = cell.export("bravo", "operations", "-spat", "39.9", "34.9", "46", "37")
    assert {f["properties"]["id"] for f in bravo} == {i["B"], i["M"]}


def test_ogr2ogr_follows_the_next_links_page_by_page(cell: Cell) -> None:
    i = cell.scene.ids
    paged = cell.export("cell", "operations", "-oo", "PAGE_SIZE=1")  # five pages of one feature
    assert sorted(f["properties"]["id"] for f in paged) == sorted([i["A"], i["B"], i["C"], i["M"], i["D"]])
