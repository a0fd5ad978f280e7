"""The CSV of sites (``formats/sites_csv.py``): what is read from a good file, and every reason for every
bad row, reported at once."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deconfliction.domain.coordinates import PositionFormat, parse_position
from deconfliction.formats.sites_csv import COLUMNS, SITE_CATEGORIES, SitesImport, read_sites_csv

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

GOOD = """name,category,lat,lon,mgrs,radius_m,accuracy_m,valid_until,owner,notes
Al-Amal Hospital,hospital,35.33612,40.14166,,500,10,2027-01-31T00:00:00Z,Ministry of Health,"ER, 120 beds"
School 4,school,35°20'10.5\"N,40°08'30.2\"E,,300,20,2027-06-30,,
Warehouse B,warehouse,,,37SDU1234567890,150,5,2027-03-01T12:00:00+03:00,WFP,
"""


def read(text: str, **kw: object) -> SitesImport:
    return read_sites_csv(text, now=NOW, **kw)  # type: ignore[arg-type]


def reasons(report: SitesImport) -> dict[int, list[tuple[str, str]]]:
    return {r.row: [(e.field, e.code) for e in r.errors] for r in report.refused}


def test_a_good_file() -> None:
    report = read(GOOD)
    assert report.ok and report.refused == () and report.file_errors == ()
    hospital, school, warehouse = report.accepted
    assert (hospital.row, hospital.name, hospital.category) == (2, "Al-Amal Hospital", "hospital")
    assert hospital.position == (40.14166, 35.33612)
    assert hospital.position_format is PositionFormat.DECIMAL
    assert (hospital.radius_m, hospital.accuracy_m) == (500.0, 10.0)
    assert hospital.valid_until == datetime(2027, 1, 31, tzinfo=UTC)
    assert (hospital.owner, hospital.notes) == ("Ministry of Health", "ER, 120 beds")
    assert hospital.warnings == ()
    assert school.position == (
        pytest.approx(40 + 8 / 60 + 30.2 / 3600, abs=1e-12),
        pytest.approx(35 + 20 / 60 + 10.5 / 3600, abs=1e-12),
    )
    assert school.position_format is PositionFormat.DMS
    assert school.valid_until == datetime(2027, 7, 1, tzinfo=UTC)  # a date: to the end of that day
    assert (school.owner, school.notes) == (None, None)
    expected = parse_position("37SDU1234567890")
    assert warehouse.position == expected.position and warehouse.position_format is PositionFormat.MGRS
    assert warehouse.precision_m == pytest.approx(0.7071, abs=1e-4)
    assert warehouse.valid_until == datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    data = report.as_dict()
    assert data["ok"] is True and [a["row"] for a in data["accepted"]] == [2, 3, 4]
    assert data["accepted"][0]["valid_until"] == "2027-01-31T00:00:00Z"


def test_the_documented_example_is_a_good_file() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```csv\n(.*?)```", docs, flags=re.DOTALL)
    assert example == GOOD
    assert set(example.splitlines()[0].split(",")) == set(COLUMNS)


def test_semicolons_bom_spaces_and_case() -> None:
    text = "\ufeff Name ; CATEGORY ; Lat ; Lon ; radius_m ; accuracy_m ; valid_until \n"
    text += " Shelter 2 ; Shelter ; 35,336 ; 40,141 ; 250 ; 50 ; 2027-01-01 \n\n;;;;;;\n"
    report = read_sites_csv(text.encode("utf-8"))
    assert report.ok and report.delimiter == ";"
    [site] = report.accepted
    assert (site.name, site.category, site.position) == ("Shelter 2", "shelter", (40.141, 35.336))
    # three decimals carry about 72 m: coarser than the stated 50 m
    assert [(w.field, w.code) for w in site.warnings] == [("lat", "precision_coarser_than_accuracy")]
    bom_str = read_sites_csv("\ufeff" + GOOD)
    assert bom_str.ok and len(bom_str.accepted) == 3


BAD_ROWS = """name,category,lat,lon,mgrs,radius_m,accuracy_m,valid_until
Good,hospital,35.3361,40.1416,,500,10,2027-01-01
,clinic,,,,,,
Minutes,school,35°61'N,40°08'E,,-5,abc,2027-13-01
Both,office,35.3,40.1,37SDU1234567890,100,10,2027-01-01
Bad grid,other,,,61SDU12,100,10,2027-01-01T00:00:00
Not grid,other,,,"35.3, 40.1",100,10,2027-01-01
Swapped,other,151.2,-33.8,,1,5,2026-01-01
Polar,other,89.5,0,,100,10,2027-01-01
Thousands,warehouse,35.3361,40.1416,,"1,500",10,2027-01-01
Half,shelter,35.3361,,,100,10,2027-01-01
Good,hospital,35.3361,40.1416,,900,10,2027-01-01
Extra,other,35.3361,40.1416,,100,10,2027-01-01,surplus
Naive,other,35.3361,40.1416,,100,10,2027-01-01T00:00:00
"""


def test_every_bad_row_is_reported_with_every_reason() -> None:
    report = read(BAD_ROWS)
    assert not report.ok
    assert [s.row for s in report.accepted] == [2]
    assert reasons(report) == {
        3: [
            ("name", "required"),
            ("category", "unknown_category"),
            ("radius_m", "required"),
            ("accuracy_m", "required"),
            ("lat", "required"),
            ("valid_until", "required"),
        ],
        4: [
            ("radius_m", "out_of_range"),
            ("accuracy_m", "invalid_number"),
            ("lat", "minutes_out_of_range"),
            ("valid_until", "invalid_time"),
        ],
        5: [("mgrs", "position_twice")],
        6: [("mgrs.grid_zone", "unknown_grid_zone"), ("valid_until", "time_without_offset")],
        7: [("mgrs", "not_mgrs")],
        8: [("lat", "out_of_range"), ("valid_until", "expired")],
        9: [("lat", "near_pole")],
        10: [("radius_m", "ambiguous_number")],
        11: [("lon", "required")],
        12: [("name", "duplicate_row")],
        13: [("", "too_many_cells")],
        14: [("valid_until", "time_without_offset")],
    }
    data = report.as_dict()
    assert data["ok"] is False and len(data["refused"]) == 12
    assert all(e["message"] for r in data["refused"] for e in r["errors"])


def test_messages_say_why() -> None:
    report = read(BAD_ROWS)
    by_row = {r.row: r.errors for r in report.refused}
    assert "clinic" in by_row[3][1].message and "hospital" in by_row[3][1].message
    assert "minutes 61 must be below 60" in by_row[4][2].message
    assert "zone 61 is not a UTM zone" in by_row[6][0].message
    assert "same name and position as row 2" in by_row[12][0].message


@pytest.mark.parametrize(
    ("header", "errors"),
    [
        (
            "name,category,lat,lon,radius,accuracy_m,valid_until",
            [("radius", "unknown_column"), ("radius_m", "missing_column")],
        ),
        (
            "name,category,latitude,longitude,radius_m,accuracy_m,valid_until",
            [("latitude", "unknown_column"), ("longitude", "unknown_column"), ("lat", "missing_column")],
        ),
        ("name,category,lat,radius_m,accuracy_m,valid_until", [("lon", "missing_column")]),
        ("name,category,mgrs,radius_m,accuracy_m,valid_until,name", [("name", "duplicate_column")]),
        ("name,category,mgrs,radius_m,accuracy_m,valid_until,", [("column 7", "unnamed_column")]),
        ("name,category,mgrs,radius_m,accuracy_m", [("valid_until", "missing_column")]),
    ],
)
def test_header_problems_refuse_the_file_by_column_name(header: str, errors: list[tuple[str, str]]) -> None:
    report = read(header + "\nX,other,37SDU1234567890,100,10,2027-01-01\n")
    assert [(e.field, e.code) for e in report.file_errors] == errors
    assert report.accepted == () and not report.ok


def test_unknown_column_suggests_the_known_one() -> None:
    report = read("name,category,lat,lon,radius,accuracy_m,valid_until\n")
    assert "did you mean 'radius_m'?" in report.file_errors[0].message


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("", "empty_file"),
        ("\n  \n", "empty_file"),
        ('"', "empty_file"),  # a lone quote: one empty field, no column names (found by schemathesis)
        ('"",  ""\n', "empty_file"),
        ("name,category,mgrs,radius_m,accuracy_m,valid_until\n", "no_rows"),
        (
            b"name,category,mgrs,radius_m,accuracy_m,valid_until\nH\xf4pital,hospital,37SDU00,1,1,2027-01-01\n",
            "not_utf8",
        ),
    ],
)
def test_file_problems(data: str | bytes, code: str) -> None:
    report = read_sites_csv(data)
    assert [e.code for e in report.file_errors] == [code] and not report.ok


def test_too_many_rows() -> None:
    body = "".join(f"S{i},other,37SDU{i:02d}00,100,10,2027-01-01\n" for i in range(5))
    report = read_sites_csv("name,category,mgrs,radius_m,accuracy_m,valid_until\n" + body, max_rows=4)
    assert [e.code for e in report.file_errors] == ["too_many_rows"]


def test_windows_line_endings_and_quoted_newlines() -> None:
    text = "name,category,mgrs,radius_m,accuracy_m,valid_until,notes\r\n"
    text += 'A,other,37SDU00,1000,10,2027-01-01,"two\r\nlines"\r\n'
    text += "B,other,37SDU11,1000,10,2027-01-01,\r\n"
    report = read_sites_csv(text)
    assert report.ok and [s.row for s in report.accepted] == [2, 3]
    assert report.accepted[0].notes == "two\r\nlines"


# A property: whatever mix of good and bad rows, every row is either accepted or refused (never both, never
# lost), the refused ones are exactly the bad ones, and the file is ok only when none is refused.

GOOD_ROW = st.tuples(
    st.sampled_from(SITE_CATEGORIES),
    st.floats(-60.0, 60.0).map(lambda v: f"{v:.5f}"),
    st.floats(-170.0, 170.0).map(lambda v: f"{v:.5f}"),
    st.integers(1, 5000).map(str),
)
BAD_CELL = st.sampled_from(
    [
        ("category", "depot", "unknown_category"),
        ("lat", "91", "out_of_range"),
        ("lon", "40°61'E", "minutes_out_of_range"),
        ("radius_m", "0", "out_of_range"),
        ("radius_m", "50m", "invalid_number"),
        ("accuracy_m", "", "required"),
        ("valid_until", "2020-01-01", "expired"),
        ("valid_until", "soon", "invalid_time"),
    ]
)


@given(st.lists(st.tuples(GOOD_ROW, st.lists(BAD_CELL, max_size=3, unique_by=lambda c: c[0])), min_size=1, max_size=12))
def test_rows_are_each_accepted_or_refused_with_their_reasons(rows: list) -> None:  # type: ignore[type-arg]
    header = ["name", "category", "lat", "lon", "radius_m", "accuracy_m", "valid_until"]
    lines = [",".join(header)]
    expected: dict[int, list[tuple[str, str]]] = {}
    for i, ((category, lat, lon, radius), bad) in enumerate(rows):
        cells = {
            "name": f"site {i}",
            "category": category,
            "lat": lat,
            "lon": lon,
            "radius_m": radius,
            "accuracy_m": "1",
            "valid_until": "2027-01-01",
        }
        for column, value, _ in bad:
            cells[column] = value
        lines.append(",".join(cells[h] for h in header))
        if bad:
            order = {c: k for k, c in enumerate(["category", "radius_m", "accuracy_m", "lat", "lon", "valid_until"])}
            expected[i + 2] = sorted(((c, code) for c, _, code in bad), key=lambda e: order[e[0]])
    report = read("\n".join(lines) + "\n")
    assert reasons(report) == expected
    assert sorted([s.row for s in report.accepted] + list(expected)) == list(range(2, len(rows) + 2))
    assert report.ok == (not expected)
    assert set(COLUMNS) >= set(header)
