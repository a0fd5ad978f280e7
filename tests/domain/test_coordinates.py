"""Positions as people give them (``domain/coordinates.py``).

* Decimal degrees and DMS: exact values for the usual spellings; a property test writes random positions
  in every supported style (decimal places, DMS seconds with decimals, degrees and decimal minutes, signed
  or with hemisphere letters, either order) and reads them back exactly, with the precision the digits
  carry, measured here with pyproj's geodesic from the position to the corners of its rounding box.
* MGRS: cross-checked against an independent conversion. The test builds the MGRS reference of a random
  point by the textbook lettering rules from pyproj's own UTM coordinates, and the parsed position must be
  the centre of the referenced square converted back by pyproj, within 1e-8 degree (1 mm).
* Every refusal names the field and the reason; datums other than WGS84 are refused by name.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod, Transformer

from deconfliction.domain.coordinates import ParsedPosition, PositionFormat, parse_lat_lon, parse_position
from deconfliction.errors import InvalidInput

GEOD = Geod(ellps="WGS84")


def dms(deg: int, minutes: int, seconds: float = 0.0) -> float:
    return deg + minutes / 60.0 + seconds / 3600.0


def box_precision(lon: float, lat: float, half_lon: float, half_lat: float) -> float:
    corners = [(lon + a * half_lon, min(90.0, max(-90.0, lat + b * half_lat))) for a in (-1, 1) for b in (-1, 1)]
    return max(GEOD.inv(lon, lat, x, y)[2] for x, y in corners)


def refusal(text: str, **kw: float | str) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as info:
        parse_position(text, **kw)  # type: ignore[arg-type]
    return [(e.field, e.code) for e in info.value.errors]


# ------------------------------------------------------------------------------------------ decimal and DMS

D_35_20_10 = dms(35, 20, 10)
D_40_08_30 = dms(40, 8, 30)


@pytest.mark.parametrize(
    ("text", "lat", "lon", "fmt"),
    [
        ("35.336, 40.141", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35.336,40.141", 35.336, 40.141, PositionFormat.DECIMAL),
        ("  35.336 ,  40.141 ", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35.336 40.141", 35.336, 40.141, PositionFormat.DECIMAL),
        ("-33.8688; 151.2093", -33.8688, 151.2093, PositionFormat.DECIMAL),
        ("+35.336, -40.141", 35.336, -40.141, PositionFormat.DECIMAL),
        ("35.336N 40.141E", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35.336N40.141E", 35.336, 40.141, PositionFormat.DECIMAL),
        ("N35.336 E40.141", 35.336, 40.141, PositionFormat.DECIMAL),
        ("N 35.336, E 40.141", 35.336, 40.141, PositionFormat.DECIMAL),
        ("40.141E 35.336N", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35.336S 40.141W", -35.336, -40.141, PositionFormat.DECIMAL),
        ("35.336° N, 40.141° E", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35.336°, 40.141°", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35,336; 40,141", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35.336, 40.141 WGS84", 35.336, 40.141, PositionFormat.DECIMAL),
        ("WGS 84: 35.336, 40.141", 35.336, 40.141, PositionFormat.DECIMAL),
        ("WGS 84 35.336 40.141", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35.336, 40.141 datum WGS-84", 35.336, 40.141, PositionFormat.DECIMAL),
        ("35.336, 40.141 (EPSG:4326)", 35.336, 40.141, PositionFormat.DECIMAL),
        ("0, 180", 0.0, 180.0, PositionFormat.DECIMAL),
        ("-90, -180", -90.0, -180.0, PositionFormat.DECIMAL),
        ("35°20'10\"N 40°08'30\"E", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("35°20′10″N, 40°08′30″E", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("35º20’10”N 40º08’30”E", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("35° 20' 10\" N, 40° 08' 30\" E", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("35°20'10''N 40°08'30''E", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("35d20m10sN 40d08m30sE", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("35d20m10s, 40d08m30s", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("35 20 10 N 40 08 30 E", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("35:20:10N 40:08:30E", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("N35°20'10\" E40°08'30\"", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("40°08'30\"E 35°20'10\"N", D_35_20_10, D_40_08_30, PositionFormat.DMS),
        ("-35°20'10\", -40°08'30\"", -D_35_20_10, -D_40_08_30, PositionFormat.DMS),
        ("S 33 52 08, E 151 12 33", -dms(33, 52, 8), dms(151, 12, 33), PositionFormat.DMS),
        ("35°20'10.5\"N 40°8'30\"E", dms(35, 20, 10.5), D_40_08_30, PositionFormat.DMS),
        ("35°20.5'N 40°8.25'E", 35 + 20.5 / 60, 40 + 8.25 / 60, PositionFormat.DMS),
        ("33°52'S 151°12'E", -dms(33, 52), dms(151, 12), PositionFormat.DMS),
    ],
)
def test_decimal_and_dms(text: str, lat: float, lon: float, fmt: PositionFormat) -> None:
    p = parse_position(text)
    assert (p.lat, p.lon, p.format) == (pytest.approx(lat, abs=1e-12), pytest.approx(lon, abs=1e-12), fmt)
    assert p.position == (p.lon, p.lat)
    assert p.warnings == ()


def test_decimal_values_are_the_numbers_written() -> None:
    p = parse_position("35.336, 40.141")
    assert (p.lat, p.lon) == (35.336, 40.141)  # exactly float("35.336"), no arithmetic on the way


@pytest.mark.parametrize(
    ("text", "half_lon", "half_lat"),
    [
        ("35.336, 40.141", 0.0005, 0.0005),
        ("35.3, 40.14159", 0.000005, 0.05),
        ("35, 40", 0.5, 0.5),
        ("35.33600, 40.14100", 0.000005, 0.000005),  # trailing zeros are stated digits
        ("35°20'10\"N 40°08'30\"E", 0.5 / 3600, 0.5 / 3600),
        ("35°20'10.25\"N 40°08'30.5\"E", 0.05 / 3600, 0.005 / 3600),
        ("35°20.5'N 40°8'E", 0.5 / 60, 0.05 / 60),
    ],
)
def test_precision_is_the_rounding_box(text: str, half_lon: float, half_lat: float) -> None:
    p = parse_position(text)
    assert p.precision_m == pytest.approx(box_precision(p.lon, p.lat, half_lon, half_lat), rel=1e-9)


def test_precision_values() -> None:
    # three decimals at 35 degrees north: half a thousandth of a degree is 55.5 m north-south and 45.5 m
    # east-west, so the corner is 71.7 m away
    assert parse_position("35.336, 40.141").precision_m == pytest.approx(71.72, abs=0.01)
    assert parse_position("35°20'10\"N 40°08'30\"E").precision_m == pytest.approx(19.92, abs=0.01)


def test_precision_warning_against_stated_accuracy() -> None:
    coarse = parse_position("35.34, 40.14", accuracy_m=100)
    assert [w.code for w in coarse.warnings] == ["precision_coarser_than_accuracy"]
    assert coarse.warnings[0].detail["precision_m"] == pytest.approx(coarse.precision_m)
    assert coarse.warnings[0].detail["accuracy_m"] == 100.0
    assert coarse.precision_m > 700  # two decimals: about 0.7 km
    assert parse_position("35.33612, 40.14166", accuracy_m=10).warnings == ()  # 0.7 m
    assert parse_position("35.336, 40.141", accuracy_m=72).warnings == ()
    assert len(parse_position("35.336, 40.141", accuracy_m=71).warnings) == 1
    assert parse_position("35.336, 40.141").warnings == ()  # nothing stated, nothing to warn about
    assert len(parse_position("37SDU1234", accuracy_m=50).warnings) == 1  # a 1 km square
    assert parse_position("37SDU1234567890", accuracy_m=1).warnings == ()


# A property: write positions the ways people do, read them back.

LATS = st.floats(-89.99, 89.99, allow_nan=False)
LONS = st.floats(-179.99, 179.99, allow_nan=False)


def _dms_text(value: float, letters: str, decimals: int, style: str) -> tuple[str, float, float]:
    """``value`` written in DMS (or degrees and decimal minutes), and the value and half-unit written."""
    hemi = letters[0] if value >= 0 else letters[1]
    scale = 10**decimals
    if style == "dm":
        total = round(abs(value) * 60 * scale)  # in units of the last digit of the minutes
        d, rest = divmod(total, 60 * scale)
        minutes = rest / scale
        text = f"{d}°{minutes:0{3 + decimals if decimals else 2}.{decimals}f}'{hemi}"
        written = d + minutes / 60
        half = 0.5 / 60 / scale
    else:
        total = round(abs(value) * 3600 * scale)
        d, rest = divmod(total, 3600 * scale)
        m, s_units = divmod(rest, 60 * scale)
        seconds = s_units / scale
        text = f"{d}°{m:02d}'{seconds:0{3 + decimals if decimals else 2}.{decimals}f}\"{hemi}"
        written = d + m / 60 + seconds / 3600
        half = 0.5 / 3600 / scale
    return text, math.copysign(written, value) if written else 0.0, half


@given(LATS, LONS, st.integers(0, 7), st.integers(0, 7), st.sampled_from(["signed", "letters", "swapped"]))
def test_decimal_round_trip(lat: float, lon: float, dlat: int, dlon: int, style: str) -> None:
    lat_t, lon_t = f"{lat:.{dlat}f}", f"{lon:.{dlon}f}"
    if style == "signed":
        text = f"{lat_t}, {lon_t}"
    else:
        la = f"{lat_t.lstrip('-')}{'S' if lat_t.startswith('-') else 'N'}"
        lo = f"{lon_t.lstrip('-')}{'W' if lon_t.startswith('-') else 'E'}"
        text = f"{la} {lo}" if style == "letters" else f"{lo} {la}"
    p = parse_position(text)
    assert p.format is PositionFormat.DECIMAL
    assert p.lat == pytest.approx(float(lat_t), abs=1e-12)
    assert p.lon == pytest.approx(float(lon_t), abs=1e-12)
    expected = box_precision(p.lon, p.lat, 0.5 * 10.0**-dlon, 0.5 * 10.0**-dlat)
    assert p.precision_m == pytest.approx(expected, rel=1e-9)


@given(LATS, LONS, st.integers(0, 3), st.sampled_from(["dms", "dm"]), st.sampled_from([", ", " ", "; "]))
def test_dms_round_trip(lat: float, lon: float, decimals: int, style: str, sep: str) -> None:
    lat_text, lat_value, half = _dms_text(lat, "NS", decimals, style)
    lon_text, lon_value, _ = _dms_text(lon, "EW", decimals, style)
    p = parse_position(f"{lat_text}{sep}{lon_text}")
    assert p.format is PositionFormat.DMS
    assert p.lat == pytest.approx(lat_value, abs=1e-12)
    assert p.lon == pytest.approx(lon_value, abs=1e-12)
    assert p.precision_m == pytest.approx(box_precision(p.lon, p.lat, half, half), rel=1e-9)


# ------------------------------------------------------------------------------------------------ MGRS

COLUMNS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # 24 letters, 8 per zone set
ROWS = "ABCDEFGHJKLMNPQRSTUV"  # 20 letters
BANDS = "CDEFGHJKLMNPQRSTUVWX"


def mgrs_of(lon: float, lat: float, digits: int) -> tuple[str, float, float]:
    """The MGRS reference of a point by the textbook rules over pyproj's UTM coordinates, and the
    centre of the referenced square back in lon/lat (pyproj again)."""
    zone = int((lon + 180.0) // 6.0) + 1
    epsg = (32600 if lat >= 0 else 32700) + zone
    to_utm = Transformer.from_crs(4326, epsg, always_xy=True)
    easting, northing = to_utm.transform(lon, lat)
    band = BANDS[min(int((lat + 80.0) // 8.0), 19)]
    column = COLUMNS[((zone - 1) % 3) * 8 + int(easting // 100_000) - 1]
    row = ROWS[(int(northing // 100_000) + (0 if zone % 2 else 5)) % 20]
    side = 10.0 ** (5 - digits)
    e_units, n_units = int((easting % 100_000) // side), int((northing % 100_000) // side)
    text = f"{zone}{band}{column}{row}" + (f"{e_units:0{digits}d}{n_units:0{digits}d}" if digits else "")
    centre_e = (easting // 100_000) * 100_000 + (e_units + 0.5) * side
    centre_n = (northing // 100_000) * 100_000 + (n_units + 0.5) * side
    c_lon, c_lat = to_utm.transform(centre_e, centre_n, direction="INVERSE")
    return text, c_lon, c_lat


@st.composite
def standard_utm_points(draw: st.DrawFn) -> tuple[float, float]:
    """Points outside the Norway and Svalbard exceptions, where the zone is longitude // 6."""
    lat = draw(st.floats(-79.5, 83.5))
    lon = draw(st.floats(-179.999, 179.999))
    if (56.0 <= lat < 64.0 and 0.0 <= lon < 12.0) or (lat >= 72.0 and 0.0 <= lon < 42.0):
        lon = -lon - 1.0
    return lon, lat


@given(standard_utm_points(), st.integers(0, 5), st.booleans())
def test_mgrs_against_pyproj_utm(point: tuple[float, float], digits: int, spaced: bool) -> None:
    text, c_lon, c_lat = mgrs_of(*point, digits)
    if spaced:
        cut = len(text) - 2 * digits
        text = f"{text[: cut - 2]} {text[cut - 2 : cut]} {text[cut : cut + digits]} {text[cut + digits :]}"
    p = parse_position(text.lower() if digits % 2 else text)
    assert p.format is PositionFormat.MGRS
    assert p.lat == pytest.approx(c_lat, abs=1e-8)
    assert p.lon == pytest.approx(c_lon, abs=1e-8)
    assert p.precision_m == pytest.approx(10.0 ** (5 - digits) / math.sqrt(2.0))


def test_mgrs_worked_example() -> None:
    # 37SDU: zone 37 (set 1, columns A-H, D = 400 km), odd zone rows from A (U = 1,800 km + 2,000 km,
    # band S); 12345 67890 is the 1 m square whose centre is E 412,345.5, N 3,867,890.5.
    p = parse_position("37SDU1234567890")
    lon, lat = Transformer.from_crs(32637, 4326, always_xy=True).transform(412_345.5, 3_867_890.5)
    assert (p.lon, p.lat) == (pytest.approx(lon, abs=1e-9), pytest.approx(lat, abs=1e-9))
    assert (round(p.lat, 6), round(p.lon, 6)) == (34.949743, 38.040022)
    assert p.precision_m == pytest.approx(0.7071, abs=1e-4)
    spaced = parse_position("37S DU 12345 67890")
    assert (spaced.lon, spaced.lat) == (p.lon, p.lat)
    assert parse_position("4QFJ12345678").lon == pytest.approx(-157.9168189, abs=1e-7)


@pytest.mark.parametrize(
    ("text", "field", "code"),
    [
        ("61SDU12", "grid_zone", "unknown_grid_zone"),
        ("0SDU12", "grid_zone", "unknown_grid_zone"),
        ("37ZDU12", "grid_zone", "unknown_grid_zone"),
        ("37IDU12", "grid_zone", "unknown_grid_zone"),
        ("SDU12", "grid_zone", "unknown_grid_zone"),
        ("32XMH00", "grid_zone", "unknown_grid_zone"),
        ("37SSU12", "square", "unknown_square"),  # column S belongs to zones 3, 6, ..., not 37
        ("37SDW12", "square", "unknown_square"),  # rows stop at V
        ("37NDU00", "square", "unknown_square"),  # row U is not in band N of zone 37
        ("37SDU123", "digits", "invalid_digits"),
        ("37SDU123456789012", "digits", "invalid_digits"),
    ],
)
def test_mgrs_refusals(text: str, field: str, code: str) -> None:
    assert refusal(text) == [(field, code)]


def test_mgrs_refusal_messages_say_why() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_position("61SDU12")
    assert "zone 61 is not a UTM zone" in info.value.errors[0].message
    with pytest.raises(InvalidInput) as info:
        parse_position("37SSU12")
    assert "not used in zone 37" in info.value.errors[0].message


# ---------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("text", "errors"),
    [
        ("", [("", "empty_position")]),
        ("   ", [("", "empty_position")]),
        ("hello", [("", "invalid_position")]),
        ("35", [("", "invalid_position")]),
        ("35.336, 40.141, 12", [("", "invalid_position")]),
        ("35.336, 40.141 approx", [("", "invalid_position")]),
        ("35.336, 40.141 Pulkovo", [("", "invalid_position")]),  # not guessed to be Pulkovo 1995
        ("35.336, 40.141 EPSG:999999", [("", "invalid_position")]),
        ("35 20 40 08", [("", "ambiguous_position")]),
        ("90.0001, 0", [("latitude", "out_of_range")]),
        ("151.2, -33.8", [("latitude", "out_of_range")]),
        ("35, 180.5", [("longitude", "out_of_range")]),
        ("95N 40E", [("latitude", "out_of_range")]),
        ("35°61'N 40°E", [("latitude", "minutes_out_of_range")]),
        ("35°20'60\"N 40°E", [("latitude", "seconds_out_of_range")]),
        ("35°20'N 40°75'E", [("longitude", "minutes_out_of_range")]),
        ("35°61'N 40°08'75\"E", [("latitude", "minutes_out_of_range"), ("longitude", "seconds_out_of_range")]),
        ("35.5°20'N 40E", [("latitude", "fractional_degrees")]),
        ("35°20.5'10\"N 40E", [("latitude", "fractional_minutes")]),
        ("35.336N 40.141N", [("", "hemispheres_clash")]),
        ("35.336N 40.141", [("", "hemisphere_missing")]),
    ],
)
def test_refusals_name_field_and_reason(text: str, errors: list[tuple[str, str]]) -> None:
    assert refusal(text) == errors


def test_out_of_range_message_explains_the_order() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_position("151.2, -33.8")
    assert "latitude 151.2 is outside [-90, 90]" in info.value.errors[0].message
    assert "latitude comes first" in info.value.errors[0].message


@pytest.mark.parametrize(
    ("text", "datum_name"),
    [
        ("35.336, 40.141 ED50", "European Datum 1950"),
        ("ED50: 35.336, 40.141", "European Datum 1950"),
        ("35.336, 40.141 (Pulkovo 1942)", "Pulkovo 1942"),
        ("35°20'10\"N 40°08'30\"E NAD27", "North American Datum 1927"),
        ("35.336N 40.141E datum Deir ez Zor", "Deir ez Zor"),
        ("35.3, 40.1 EPSG:4230", "European Datum 1950"),
        ("37SDU 12345 67890 ED50", "European Datum 1950"),
        ("NAD27 35.336, 40.141", "North American Datum 1927"),
        ("35.336, 40.141 pulkovo-1942", "Pulkovo 1942"),
    ],
)
def test_other_datums_are_refused_by_name(text: str, datum_name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_position(text)
    [error] = info.value.errors
    assert (error.field, error.code) == ("datum", "unsupported_datum")
    assert error.detail["datum"] == datum_name
    assert datum_name in error.message and "WGS84" in error.message


def test_datum_argument() -> None:
    assert parse_position("35.336, 40.141", datum="WGS84").lat == 35.336
    assert parse_position("35.336, 40.141", datum="EPSG:4326").lat == 35.336
    for name, expected in (("ED50", "European Datum 1950"), ("Pulkovo 1942", "Pulkovo 1942"), ("NAD27", None)):
        with pytest.raises(InvalidInput) as info:
            parse_position("35.336, 40.141", datum=name)
        assert [(e.field, e.code) for e in info.value.errors] == [("datum", "unsupported_datum")]
        assert expected is None or info.value.errors[0].detail["datum"] == expected
    with pytest.raises(InvalidInput) as info:
        parse_position("35.336, 40.141", datum="Atlantis 2000")
    assert [(e.field, e.code) for e in info.value.errors] == [("datum", "unknown_datum")]
    with pytest.raises(InvalidInput) as info:
        parse_position("35.336, 40.141", datum="EPSG:32637")
    assert [(e.field, e.code) for e in info.value.errors] == [("datum", "projected_crs")]


@pytest.mark.parametrize("accuracy", [0, -5, math.nan, math.inf])
def test_accuracy_must_be_positive(accuracy: float) -> None:
    assert refusal("35.336, 40.141", accuracy_m=accuracy)[0][0] == "accuracy_m"


def test_errors_locate_under_a_prefix() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_position("35°61'N 40°E")
    assert info.value.at("position").errors[0].field == "position.latitude"


# ---------------------------------------------------------------------------------- separate columns


def test_lat_lon_columns() -> None:
    p = parse_lat_lon("35,336", "40°08'30\"E")
    assert (p.lat, p.lon, p.format) == (35.336, pytest.approx(D_40_08_30, abs=1e-12), PositionFormat.DMS)
    q = parse_lat_lon(" -33.8688 ", "151.2093")
    assert (q.lat, q.lon, q.format) == (-33.8688, 151.2093, PositionFormat.DECIMAL)
    assert parse_lat_lon("33.8688S", "151.2093E").lat == -33.8688
    w = parse_lat_lon("35.3", "40.1", accuracy_m=50)
    assert [x.code for x in w.warnings] == ["precision_coarser_than_accuracy"]
    assert isinstance(w, ParsedPosition)


@pytest.mark.parametrize(
    ("lat", "lon", "errors"),
    [
        ("", "40.1", [("lat", "required")]),
        ("35.3", "", [("lon", "required")]),
        ("abc", "40.1", [("lat", "invalid_coordinate")]),
        ("95", "40.1", [("lat", "out_of_range")]),
        ("35.3", "40.1N", [("lon", "wrong_hemisphere")]),
        ("-35.3S", "40.1", [("lat", "sign_and_hemisphere")]),
        ("35°61'", "190", [("lat", "minutes_out_of_range"), ("lon", "out_of_range")]),
    ],
)
def test_lat_lon_column_refusals(lat: str, lon: str, errors: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_lat_lon(lat, lon)
    assert [(e.field, e.code) for e in info.value.errors] == errors


@given(st.text(max_size=60))
def test_any_text_is_read_or_refused_with_a_reason(text: str) -> None:
    try:
        p = parse_position(text, accuracy_m=10.0)
    except InvalidInput as e:
        errors = e.errors
    else:
        assert -180.0 <= p.lon <= 180.0 and -90.0 <= p.lat <= 90.0 and p.precision_m >= 0.0
        return
    assert errors and all(err.code and err.message for err in errors)


@given(st.from_regex(r"[0-9NSEWnsewdms°'\" .,;:+-]{1,30}", fullmatch=True))
def test_coordinate_like_text_is_read_or_refused_with_a_reason(text: str) -> None:
    test_any_text_is_read_or_refused_with_a_reason.hypothesis.inner_test(text)  # type: ignore[attr-defined]
