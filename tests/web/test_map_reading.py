"""Reading the map as a duty officer would, on the demo (around Deir ez-Zor and the Euphrates), in Debian's
chromium against the real service, at 1366x768 and 1024x768: the basemap (river, lakes, named towns) from
the service itself, the names of zones, lines, sites and operations decluttered, a scale bar, the cursor's
coordinates in decimal degrees and MGRS, the MGRS grid on demand, the legend always in view, each party's
colour and dash from its id as in KML, conflicts that do not hide each other, and the size of the first load.
Screenshots of each step go to test-artifacts/web/."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.servers import Server
from pyproj import Proj

from deconfliction.domain.party import Role
from deconfliction.formats.kml import KML_NS, kml_colour, party_colour, party_style
from deconfliction.service.demo import load_demo
from deconfliction.service.parties import create_party
from deconfliction.settings import Settings
from deconfliction.store import open_store
from tests.web.conftest import Cell, Shots, chromium, need_browser, open_page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-2")]

SIZES = [(1366, 768), (1024, 768)]
FIRST_LOAD_LIMIT = 1_000_000  # bytes on the wire, compressed: the page and its data at theatre scale


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cell]:
    """The demo scenario on a SQLite database, served by ``deconflict serve``."""
    need_browser()
    workdir = tmp_path_factory.mktemp("demo-map")
    url = f"sqlite:///{workdir / 'demo.db'}"
    rt = Settings().runtime(open_store(url))
    try:
        loaded = load_demo(rt)
    finally:
        rt.store.close()
    keys = {p.name: key for p, key in loaded.parties}
    ids = {p.name: p.id for p, _ in loaded.parties}
    server = Server(url, workdir)
    try:
        server.wait_ready()
        yield Cell(server.url, keys, ids, {})
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chrome(demo: Cell) -> Iterator[Any]:
    with chromium() as b:
        yield b


def signed_in(chrome: Any, demo: Cell, errors: list[str], size: tuple[int, int], who: str = "North Force") -> Any:
    page = open_page(chrome, demo, who, errors)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.wait_for_selector("#map[data-basemap=drawn]", timeout=30_000)  # the basemap's files are in
    return page


def set_view(page: Any, lat: float, lon: float, zoom: int) -> None:
    """Move the map (through Leaflet, as a drag and a wheel would) and wait for the labels' new layout."""
    page.evaluate(
        """([lat, lon, zoom]) => new Promise((done) => {
             const m = document.querySelector('#map').situationMap;
             m.once('moveend', () => requestAnimationFrame(() => requestAnimationFrame(done)));
             m.setView([lat, lon], zoom, { animate: false });
           })""",
        [lat, lon, zoom],
    )


def label_boxes(page: Any) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        ".map-label",
        """els => els.map(e => { const r = e.getBoundingClientRect();
             return { text: e.textContent, kind: e.className, x1: r.left, y1: r.top, x2: r.right, y2: r.bottom }; })""",
    )


def overlapping(boxes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for a, b in itertools.combinations(boxes, 2)
        if a["x1"] < b["x2"] and b["x1"] < a["x2"] and a["y1"] < b["y2"] and b["y1"] < a["y2"]
    ]


def river_pixels(page: Any) -> int:
    """How many pixels of the basemap's canvas have the rivers' blue (#4f8cc9, drawn at 90 %)."""
    return page.evaluate(
        """() => { const c = document.querySelector('.basemap-pane canvas'); const d = c.getContext('2d')
             .getImageData(0, 0, c.width, c.height).data; let n = 0;
             for (let i = 0; i < d.length; i += 4) {
               if (Math.abs(d[i] - 86) < 24 && Math.abs(d[i + 1] - 143) < 24 && Math.abs(d[i + 2] - 201) < 24) n++;
             } return n; }"""
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_demo_at_theatre_scale_reads_like_a_map(chrome: Any, demo: Cell, shots: Shots, size: Any) -> None:
    errors: list[str] = []
    page = signed_in(chrome, demo, errors, size)
    set_view(page, 35.3, 40.2, 10)

    # the river is drawn (the towns' names: below, once the situation's layers are off)
    assert river_pixels(page) > 200
    # three hours on: the operations are in force, and the names of zones, the line, sites and operations show
    page.locator("#time").focus()
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelectorAll('.label-operations').length > 0")
    names = page.locator(".map-label:not(.label-place):not(.label-grid)").all_inner_texts()
    assert "Al-Noor Hospital" in names and "WFP warehouse" in names, names
    assert any(n.startswith("Euphrates") for n in names), names
    assert page.locator(".label-zones").count() >= 1 and page.locator(".label-lines").count() >= 1
    assert not overlapping(label_boxes(page))
    shots.take(page, "theatre")
    # Deir ez-Zor lies under the hospital's and the zones' names: it gives way to them, and shows once they go
    hidden = int(page.locator(".labels-pane").get_attribute("data-hidden"))
    assert hidden >= 1
    page.get_by_role("tab", name="Layers").click()
    for layer in ("zones", "sites", "lines", "operations"):
        page.locator(f"#layer-{layer}").uncheck()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.label-place')].some(e => e.textContent === 'Deir ez-Zor')"
    )
    shots.take(page, "theatre-basemap-only")
    for layer in ("zones", "sites", "lines", "operations"):
        page.locator(f"#layer-{layer}").check()
    page.get_by_role("tab", name="Inbox").click()
    # scale bar, and the legend in view without opening any tab
    assert page.locator(".leaflet-control-scale-line").first.is_visible()
    assert "km" in page.locator(".leaflet-control-scale-line").first.inner_text()
    legend = page.locator("#map-legend")
    assert legend.is_visible() and legend.locator("#legend li").count() >= 3
    assert page.locator("#tab-inbox").get_attribute("aria-selected") == "true"

    # the cursor's coordinates: decimal degrees and MGRS, the same point as pyproj puts in UTM zone 37
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.6)
    cursor = page.locator("#cursor")
    text = cursor.inner_text()
    lat, lon = float(cursor.get_attribute("data-lat")), float(cursor.get_attribute("data-lon"))
    assert text.startswith("Cursor") and f"{lat:.5f}, {lon:.5f}" in text
    easting, northing = Proj(proj="utm", zone=37, ellps="WGS84")(lon, lat)
    zone_band, square, e, n = text.split("MGRS ")[1].split()
    assert zone_band == "37S" and len(square) == 2
    assert abs(int(e) - int(easting) % 100_000) <= 1 and abs(int(n) - int(northing) % 100_000) <= 1, (text, easting)

    # the grid, from the keyboard: Tab from the map reaches its switch, Space turns it on
    page.locator("#map").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "grid-toggle":
            break
    assert page.evaluate("document.activeElement.id") == "grid-toggle"
    page.keyboard.press("Space")
    page.locator(".label-grid").first.wait_for(timeout=15_000)
    assert page.locator("#map").get_attribute("data-grid") == "100 km"
    grid = page.locator(".label-grid").all_inner_texts()
    assert any(g.startswith("37S ") for g in grid), grid
    assert not overlapping(label_boxes(page))
    shots.take(page, "theatre-grid")
    set_view(page, 35.33, 40.14, 11)
    page.wait_for_function("() => document.querySelector('#map').dataset.grid === '10 km'")
    shots.take(page, "grid-10km")
    page.keyboard.press("Space")  # off again
    page.wait_for_function("() => document.querySelectorAll('.label-grid').length === 0")
    assert not errors, errors


def test_labels_never_overlap_at_any_scale(chrome: Any, demo: Cell, shots: Shots) -> None:
    """From the region down to the street, with the grid on: no two names touch, and where they would the
    lower priority gives way (a town to a site, a grid square to a town)."""
    errors: list[str] = []
    page = signed_in(chrome, demo, errors, SIZES[0])
    page.locator("#time").focus()
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    page.locator("#grid-toggle").check()
    gave_way = 0
    for zoom in (6, 8, 9, 10, 11, 12, 13, 14):
        set_view(page, 35.33, 40.14, zoom)
        boxes = label_boxes(page)
        assert boxes, f"no label at zoom {zoom}"
        assert not overlapping(boxes), (zoom, overlapping(boxes))
        # nor under the legend or the map's controls
        covers = page.eval_on_selector_all(
            "#map-legend, #map .leaflet-control",
            """els => els.map(e => { const r = e.getBoundingClientRect();
                 return { text: e.id || e.className, x1: r.left, y1: r.top, x2: r.right, y2: r.bottom }; })""",
        )
        assert not [pair for pair in overlapping(boxes + covers) if pair[0] in {b["text"] for b in boxes}], zoom
        gave_way += int(page.locator(".labels-pane").get_attribute("data-hidden"))
        if zoom == 8:
            shots.take(page, "region")
    assert gave_way > 0  # there was something to declutter
    # what gives way has the lower priority: every shown label outranks every hidden one that competed for
    # its place, so the hospital's name, the highest, is always shown when in view
    for zoom in (9, 10, 11, 12):
        set_view(page, 35.33, 40.14, zoom)
        assert "Al-Noor Hospital" in page.locator(".label-sites").all_inner_texts(), zoom
    assert not errors, errors


def test_party_colours_come_from_the_id_and_match_kml(chrome: Any, demo: Cell, shots: Shots) -> None:
    errors: list[str] = []
    page = signed_in(chrome, demo, errors, SIZES[1])
    ids = demo.ids
    # the page's own algorithm, for every party id of the demo and a few more, equals the Python one
    sample = [*ids.values(), "", "Ünïcødé", "pty_01JD3Q8K2M00000000000000"]
    js = page.evaluate("ids => import('/static/js/colours.js').then(m => ids.map(m.partyStyle))", sample)
    assert js == [{"colour": party_style(i).colour, "dash": party_style(i).dash} for i in sample]
    # the legend: each party's swatch in its colour, its line sample in its dash
    for name in ("North Force", "East Force", "Aid Agency"):
        item = page.locator(f'#legend li[data-party="{ids[name]}"]')
        swatch = item.locator(".swatch").evaluate("e => getComputedStyle(e).backgroundColor")
        r, g, b = (int(v) for v in swatch.removeprefix("rgb(").removesuffix(")").split(","))
        assert f"#{r:02X}{g:02X}{b:02X}" == party_style(ids[name]).colour
        assert (item.locator("line").get_attribute("stroke-dasharray") or "") == party_style(ids[name]).dash
    # East's agreed zone on North's map: East's colour and dash
    east = party_style(ids["East Force"])
    strokes = page.eval_on_selector_all(
        "path.leaflet-interactive",
        "els => els.map(e => [e.getAttribute('stroke'), e.getAttribute('stroke-dasharray')])",
    )
    assert [east.colour, east.dash or None] in [[s, d] for s, d in strokes], strokes
    # and the same colour in North's KML export
    kml = ET.fromstring(demo.call("North Force", "GET", "/v1/export", params={"format": "kml"}).content)
    colours = {s.findtext(f"{{{KML_NS}}}LineStyle/{{{KML_NS}}}color") for s in kml.iter(f"{{{KML_NS}}}Style")}
    assert kml_colour(party_colour(ids["East Force"])) in colours
    shots.take(page, "colours")
    assert not errors, errors


def test_overlapping_conflicts_do_not_hide_each_other(chrome: Any, demo: Cell, shots: Shots) -> None:
    """Three hours on, the demo's conflicts overlap: each is an opaque red outline over a light fill, so
    every edge stays visible through the others and the overlap reads darker."""
    errors: list[str] = []
    page = signed_in(chrome, demo, errors, SIZES[0])
    page.locator("#time").focus()
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    page.locator(".conflict-icon").first.wait_for(timeout=15_000)
    shapes = page.eval_on_selector_all(
        'path[stroke="#b00020"]',
        """els => els.map(e => ({ fill: +e.getAttribute('fill-opacity'), stroke: +e.getAttribute('stroke-opacity'),
               width: +e.getAttribute('stroke-width'), dash: e.getAttribute('stroke-dasharray') }))""",
    )
    assert len(shapes) >= 2, shapes
    assert all(s["fill"] <= 0.15 and s["stroke"] == 1 and s["width"] >= 2 and not s["dash"] for s in shapes), shapes
    shots.take(page, "conflicts-overlapping")
    assert not errors, errors


def test_the_first_load_is_under_a_megabyte_compressed(chrome: Any, demo: Cell) -> None:
    """Sign-in to a drawn map with its towns (theatre scale): the bytes on the wire, headers and compressed
    bodies, of every request the page made (the event stream's open connection counted as far as it got)."""
    errors: list[str] = []
    context = chrome.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(demo.url + "/")
        page.get_by_label("Party API key").fill(demo.keys["North Force"])
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-ready=true]", timeout=40_000)
        page.wait_for_selector("#map[data-basemap=drawn]", timeout=30_000)
        # every resource the page has finished fetching, as the browser counts it: headers and the body as
        # it came over the wire (compressed)
        entries = page.evaluate(
            """() => [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
                 .map(e => ({ url: e.name, size: e.transferSize, body: e.encodedBodySize,
                              plain: e.decodedBodySize }))"""
        )
        total = sum(e["size"] for e in entries)
        plain = sum(e["plain"] for e in entries)
        print(
            f"\nfirst load at theatre scale: {total / 1e6:.3f} MB on the wire "
            f"({plain / 1e6:.3f} MB decoded), {len(entries)} requests"
        )
        for e in sorted(entries, key=lambda e: -e["size"])[:8]:
            print(f"  {e['size']:>9,} B  ({e['plain']:>9,} B decoded)  {e['url'].removeprefix(demo.url)}")
        countries = next(e for e in entries if e["url"].endswith("/basemap/countries.geojson"))
        assert countries["body"] < countries["plain"] / 3  # it came compressed
        assert total < FIRST_LOAD_LIMIT, total
        assert not errors, errors
    finally:
        context.close()


STREET = (35.335, 40.14)  # lat, lon: central Deir ez-Zor


def street_extract(path: Path) -> None:
    """A small PMTiles archive in the Protomaps basemap's layout, made here (the real one is cut from a
    Protomaps build, docs/web.md): at zooms 11 to 13 around STREET, land everywhere, a lake and a main road
    across each tile."""
    import mapbox_vector_tile
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    def tile_of(lat: float, lon: float, z: int) -> tuple[float, float]:
        n = 2**z
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return (lon + 180) / 360 * n, y

    with path.open("wb") as f:
        writer = Writer(f)
        tiles = []
        for z in (11, 12, 13):
            fx, fy = tile_of(*STREET, z)
            for x in range(int(fx) - 2, int(fx) + 3):
                for y in range(int(fy) - 2, int(fy) + 3):
                    tiles.append(zxy_to_tileid(z, x, y))
        for tile_id in sorted(tiles):
            layers = [
                {
                    "name": "earth",
                    "features": [
                        {"geometry": "POLYGON((0 0,4096 0,4096 4096,0 4096,0 0))", "properties": {"kind": "earth"}}
                    ],
                },
                {
                    "name": "water",
                    "features": [
                        {
                            "geometry": "POLYGON((200 200,1400 200,1400 1400,200 1400,200 200))",
                            "properties": {"kind": "lake"},
                        }
                    ],
                },
                {
                    "name": "roads",
                    "features": [
                        {
                            "geometry": "LINESTRING(0 2048,4096 2300)",
                            "properties": {"kind": "major_road", "name": "Street"},
                        }
                    ],
                },
            ]
            writer.write_tile(tile_id, mapbox_vector_tile.encode(layers, default_options={"y_coord_down": True}))
        writer.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.NONE,
                "min_lon_e7": 399000000,
                "min_lat_e7": 351000000,
                "max_lon_e7": 404000000,
                "max_lat_e7": 356000000,
            },
            {"vector_layers": [{"id": n, "fields": {}} for n in ("earth", "water", "roads")]},
        )


def test_a_pmtiles_extract_draws_the_streets(
    chrome: Any, shots: Shots, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """DECONFLICTION_MAP_PMTILES: from zoom 11 the page reads the extract from the service by range requests
    (never the whole file) and draws its tiles over the built-in basemap; below, it reads nothing of it."""
    need_browser()
    workdir = tmp_path_factory.mktemp("streets")
    archive = workdir / "streets.pmtiles"
    street_extract(archive)
    url = f"sqlite:///{workdir / 'streets.db'}"
    rt = Settings().runtime(open_store(url))
    try:
        _, key = create_party(rt, None, "Coordination Cell", Role.COORDINATOR)
    finally:
        rt.store.close()
    server = Server(url, workdir, env={"DECONFLICTION_MAP_PMTILES": str(archive)})
    try:
        server.wait_ready()
        cell = Cell(server.url, {"coordinator": key}, {}, {})
        errors: list[str] = []
        ranges: list[tuple[str | None, int]] = []
        page = open_page(chrome, cell, "coordinator", errors)
        page.on(
            "response",
            lambda r: "/map/tiles.pmtiles" in r.url and ranges.append((r.request.headers.get("range"), r.status)),
        )
        set_view(page, *STREET, 9)
        page.wait_for_timeout(500)
        read = page.evaluate(
            """() => performance.getEntriesByType('resource').map(e => e.name)
                 .filter(n => n.includes('tiles.pmtiles') || n.includes('protomaps-leaflet'))"""
        )
        assert not ranges and not read, read  # theatre scale, since the page loaded: neither the extract nor its reader
        set_view(page, *STREET, 12)
        page.wait_for_function("() => document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile').length > 0")
        page.wait_for_function(
            """() => [...document.querySelectorAll('.leaflet-tile-pane canvas.leaflet-tile')].some(c => {
                 const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                 const seen = new Set();
                 for (let i = 0; i < d.length; i += 16) seen.add(d[i] << 16 | d[i + 1] << 8 | d[i + 2]);
                 return seen.size >= 3; })""",
            timeout=20_000,
        )
        shots.take(page, "streets")
        assert ranges and all(r and r.startswith("bytes=") and status == 206 for r, status in ranges), ranges
        assert not errors, errors
    finally:
        server.stop()
