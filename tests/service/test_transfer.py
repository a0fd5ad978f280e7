"""GeoJSON out and back in (round trip equal), all or nothing with a dry run and every bad feature
reported; KML out with a folder and style per party, and back in to the same objects as GeoJSON."""

from __future__ import annotations

import json
import re
import tempfile
import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest

from deconfliction.domain.footprint import CircleFootprint, CorridorFootprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.party import Role
from deconfliction.domain.policy import OperationKind
from deconfliction.domain.site import SiteCategory, SitePoint
from deconfliction.domain.volume import AltitudeBand, TimeWindow, Volume4D
from deconfliction.domain.zone import ZoneAnswer
from deconfliction.errors import InvalidInput
from deconfliction.formats.kml import read_kml
from deconfliction.service import movements, sites, transfer, zones
from deconfliction.service import operations as ops
from deconfliction.service.parties import create_party
from deconfliction.service.runtime import Runtime
from deconfliction.store import open_store
from tests.conftest import T0, FakeClock, square
from tests.service.test_movements import movement
from tests.shapes import parse_shape

L = Limits()


def populate(rt: Runtime, alpha: Any, bravo: Any) -> None:
    sites.create_site(
        rt,
        alpha,
        sites.SiteDraft("clinic", SiteCategory.HOSPITAL, SitePoint((40.5, 35.5)), 80, 20, T0 + timedelta(days=9)),
    )
    polygon_site = parse_shape(square(41.0, 35.0, 0.01), L)
    sites.create_site(
        rt, alpha, sites.SiteDraft("depot", SiteCategory.WAREHOUSE, polygon_site, 0, 5, T0 + timedelta(days=9))
    )  # type: ignore[arg-type]
    z = zones.propose(
        rt,
        alpha,
        zones.ZoneDraft(
            "north", [bravo.id], parse_shape(square(39.0, 36.0, 0.3), L), TimeWindow(T0, T0 + timedelta(days=5))
        ),
    ).zone
    zones.answer(rt, bravo, z.id, ZoneAnswer.ACCEPTED)
    window = TimeWindow(T0, T0 + timedelta(hours=2))
    volumes = (
        Volume4D.create(parse_shape(square(42.0, 35.0), L), AltitudeBand(100, 900), window),
        Volume4D.create(CircleFootprint((42.5, 35.0), 800.0), AltitudeBand(0, 50), window),
        Volume4D.create(CorridorFootprint(((43.0, 35.0), (43.1, 35.1)), 120.0), AltitudeBand(0, 10), window),
    )
    ops.submit_operation(rt, alpha, ops.OperationDraft(OperationKind.AIR, volumes, 7, "survey"))
    movements.submit_movement(rt, alpha, OperationKind.GROUND, movement(), title="convoy")


def content(fc: dict[str, Any]) -> list[str]:
    """The features without what the service assigns (ids, versions, states, the operation key)."""
    out = []
    for f in fc["features"]:
        props = {k: v for k, v in f["properties"].items() if k not in (*transfer.SERVICE_ASSIGNED, "operation")}
        out.append(json.dumps({**f, "properties": props}, sort_keys=True))
    return sorted(out)


def fresh() -> tuple[Runtime, Any, Any]:
    d = tempfile.mkdtemp()
    rt = Runtime(open_store(f"sqlite:///{d}/other.db"), clock=FakeClock())
    return rt, create_party(rt, None, "alpha", Role.PARTY)[0], create_party(rt, None, "bravo", Role.PARTY)[0]


def test_export_then_import_is_the_same(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    populate(rt, alpha, bravo)
    exported = transfer.export_geojson(rt, alpha)
    kinds = sorted(f["properties"]["object"] for f in exported["features"])
    assert kinds == ["movement", "operation", "operation", "operation", "site", "site", "zone"]
    other, alpha2, _ = fresh()
    try:
        dry = transfer.import_geojson(other, alpha2, json.loads(json.dumps(exported)), dry_run=True)
        assert dry.counts == {"operation": 1, "movement": 1, "zone": 1, "site": 2}
        assert transfer.export_geojson(other, alpha2)["features"] == []
        done = transfer.import_geojson(other, alpha2, json.loads(json.dumps(exported)), dry_run=False)
        assert {k: len(v) for k, v in done.stored.items()} == dry.counts
        again = transfer.export_geojson(other, alpha2)
        assert content(again) == content(exported)
        # and once more: a fixed point
        assert content(transfer.export_geojson(other, alpha2)) == content(again)
    finally:
        other.store.close()


def test_need_to_know_in_the_export(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    populate(rt, alpha, bravo)
    seen = transfer.export_geojson(rt, bravo)
    kinds = sorted(f["properties"]["object"] for f in seen["features"])
    assert kinds == ["site", "site", "zone"]  # not alpha's operations; its sites and agreed zone: yes
    everything = transfer.export_geojson(rt, parties["cell"][0])
    assert len(everything["features"]) == len(transfer.export_geojson(rt, alpha)["features"])


def test_all_or_nothing_and_every_bad_feature(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    populate(rt, alpha, bravo)
    fc = transfer.export_geojson(rt, alpha)
    fc["features"][0]["properties"]["lower_m"] = "high"
    fc["features"][-1]["properties"]["category"] = "castle"
    zone = next(i for i, f in enumerate(fc["features"]) if f["properties"]["object"] == "zone")
    fc["features"][zone]["properties"]["counterparties"] = ["nobody"]
    fc["features"][zone]["properties"]["end"] = "2020-01-01T00:00:00Z"
    fc["features"].append(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [1, 1]},
            "properties": {"object": "site", "party": "bravo"},  # another party's: skipped, not refused
        }
    )
    other, alpha2, _ = fresh()
    try:
        with pytest.raises(InvalidInput) as e:
            transfer.import_geojson(other, alpha2, fc, dry_run=True)
        fields = {(x.field, x.code) for x in e.value.errors}
        n = len(fc["features"])
        assert fields == {
            ("features[0].properties.lower_m", "invalid_number"),
            (f"features[{n - 2}].properties.category", "unknown_category"),
            (f"features[{zone}].properties.counterparties[0]", "unknown_party"),
        }
        with pytest.raises(InvalidInput):
            transfer.import_geojson(other, alpha2, fc, dry_run=False)
        fc["features"][zone]["properties"]["counterparties"] = ["bravo"]
        with pytest.raises(InvalidInput) as e:
            transfer.import_geojson(other, alpha2, fc, dry_run=True)
        assert (f"features[{zone}].properties.end", "window_empty") in {(x.field, x.code) for x in e.value.errors}
        assert transfer.export_geojson(other, alpha2)["features"] == []
    finally:
        other.store.close()


def test_kml_has_a_folder_and_a_style_per_party(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    populate(rt, alpha, bravo)
    sites.create_site(
        rt,
        bravo,
        sites.SiteDraft("school", SiteCategory.SCHOOL, SitePoint((44.0, 35.0)), 50, 5, T0 + timedelta(days=9)),
    )
    text = transfer.export_kml(rt, parties["cell"][0])
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    doc = ET.fromstring(text.split("\n", 1)[1]).find("k:Document", ns)
    folders = {f.findtext("k:name", namespaces=ns): f for f in doc.findall("k:Folder", ns)}
    assert set(folders) == {"alpha", "bravo"} and len(doc.findall("k:Style", ns)) == 2
    names = {p.findtext("k:name", namespaces=ns) for p in folders["alpha"].findall("k:Placemark", ns)}
    assert {"clinic", "depot", "north", "survey [0]", "survey [2]", "convoy"} <= names  # a movement: its route
    assert not any(n.startswith("convoy [") for n in names)
    assert {p.findtext("k:name", namespaces=ns) for p in folders["bravo"].findall("k:Placemark", ns)} == {"school"}


def test_kml_export_then_import_gives_what_geojson_gives(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    populate(rt, alpha, bravo)
    exported = transfer.export_geojson(rt, alpha)
    fc = read_kml(transfer.export_kml(rt, alpha))
    assert sorted(f["properties"]["object"] for f in fc["features"]) == sorted(
        f["properties"]["object"] for f in exported["features"]
    )
    (by_geojson, alpha_g, _), (by_kml, alpha_k, _) = fresh(), fresh()
    try:
        dry = transfer.import_geojson(by_kml, alpha_k, fc, dry_run=True)
        assert dry.counts == {"operation": 1, "movement": 1, "zone": 1, "site": 2}
        assert transfer.export_geojson(by_kml, alpha_k)["features"] == []
        g = transfer.import_geojson(by_geojson, alpha_g, exported, dry_run=False)
        k = transfer.import_geojson(by_kml, alpha_k, fc, dry_run=False)
        assert {x: len(v) for x, v in k.stored.items()} == {x: len(v) for x, v in g.stored.items()} == dry.counts
        # the circle and the corridor volumes, the movement's route and schedule, the zone's densified
        # 30 km edges, the sites' radii: all as they were
        again = transfer.export_geojson(by_kml, alpha_k)
        assert content(again) == content(transfer.export_geojson(by_geojson, alpha_g)) == content(exported)
        # and KML once more: a fixed point
        assert content(read_kml(transfer.export_kml(by_kml, alpha_k))) == content(fc)
    finally:
        by_geojson.store.close()
        by_kml.store.close()


def test_kml_import_is_all_or_nothing(rt, parties):
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    populate(rt, alpha, bravo)
    text = transfer.export_kml(rt, alpha)
    # a Google Earth user removes the depot's category and adds a placemark of their own
    text, removed = re.subn(r'<Data name="category">\s*<value>warehouse</value>\s*</Data>', "", text)
    assert removed == 1
    own = (
        "<Placemark><name>Area 5</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
        "44,35 44.1,35 44.1,35.1 44,35 </coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
    )
    text = text.replace("</Folder>", own + "</Folder>", 1)
    fc = read_kml(text)
    other, alpha2, _ = fresh()
    try:
        with pytest.raises(InvalidInput) as e:
            transfer.import_geojson(other, alpha2, fc, dry_run=False)
        n = len(fc["features"])
        depot = next(i for i, f in enumerate(fc["features"]) if f["properties"].get("name") == "depot")
        assert {(x.field, x.code) for x in e.value.errors} == {
            (f"features[{depot}].properties.category", "unknown_category"),
            (f"features[{n - 1}].properties.start", "invalid_time"),  # the import's own checks name what is
            (f"features[{n - 1}].properties.lower_m", "invalid_number"),  # missing from a bare placemark
        }
        assert transfer.export_geojson(other, alpha2)["features"] == []
    finally:
        other.store.close()


def test_an_import_whose_operation_or_movement_has_wholly_passed_is_refused_and_dry_run_says_so(rt, parties):
    """An import declares what is still to come, like POST /v1/operations: an operation or movement whose
    every window has passed is ``window_in_past`` at its feature's end field, in the dry run's report as in
    the import's, and nothing is stored."""
    alpha, bravo = parties["alpha"][0], parties["bravo"][0]
    populate(rt, alpha, bravo)
    exported = transfer.export_geojson(rt, alpha)
    other, alpha2, _ = fresh()
    try:
        assert isinstance(other.clock, FakeClock)
        other.clock.now = T0 + timedelta(days=2)  # the operations and the convoy have ended; sites, zone stay valid
        for dry_run in (True, False):
            with pytest.raises(InvalidInput) as refused:
                transfer.import_geojson(other, alpha2, json.loads(json.dumps(exported)), dry_run=dry_run)
            past = [(e.field, e.code) for e in refused.value.errors if e.code == "window_in_past"]
            kinds = [f["properties"]["object"] for f in exported["features"]]
            named = {int(field.split("]")[0].split("[")[1]) for field, _ in past}
            assert {kinds[i] for i in named} == {"operation", "movement"}
            assert all(field.endswith((".properties.end", ".properties.departure")) for field, _ in past)
        assert transfer.export_geojson(other, alpha2)["features"] == []
    finally:
        other.store.close()
