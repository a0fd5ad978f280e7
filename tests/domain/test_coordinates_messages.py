"""What a refused position says (domain/coordinates.py): each refusal's exact message, as the person who
typed the text reads it; the precision of MGRS references by their digits; the accuracy edges."""

from __future__ import annotations

import math
from typing import Any

import pytest

from deconfliction.domain.coordinates import MAX_TEXT, MGRS_MAX_DIGITS, parse_lat_lon, parse_position
from deconfliction.errors import InvalidInput


def test_limits() -> None:
    assert (MAX_TEXT, MGRS_MAX_DIGITS) == (200, 5)


def said(text: str, **kw: Any) -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidInput) as e:
        parse_position(text, **kw)
    return [(f.field, f.code, f.message) for f in e.value.errors]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("", "empty_position", "no position given")),
        ("hello", ("", "invalid_position", "no coordinates in 'hello'")),
        (
            "35",
            (
                "",
                "invalid_position",
                "'35' is not a position in decimal degrees, DMS or MGRS (example: 35.336, 40.141)",
            ),
        ),
        ("35; 40; 41", ("", "invalid_position", "expected two coordinates separated by one ';'")),
        ("35/40/41", ("", "invalid_position", "expected two coordinates separated by one '/'")),
        (
            "35.1,40.1,41.1",
            (
                "",
                "invalid_position",
                "cannot tell the two coordinates apart: separate them with one ', ' or ';'",
            ),
        ),
        (
            "35.336N 40.141",
            ("", "hemisphere_missing", "give a hemisphere letter on both coordinates or on neither of them"),
        ),
        ("35.336N 40.141S", ("", "hemispheres_clash", "both coordinates are latitudes (N and S)")),
        ("35.336E 40.141W", ("", "hemispheres_clash", "both coordinates are longitudes (E and W)")),
        (
            "95, 40",
            (
                "latitude",
                "out_of_range",
                "latitude 95 is outside [-90, 90] (without hemisphere letters the latitude comes first)",
            ),
        ),
        ("95N 40E", ("latitude", "out_of_range", "latitude 95 is outside [-90, 90]")),
        ("35N 180.5W", ("longitude", "out_of_range", "longitude -180.5 is outside [-180, 180]")),
        ("35°61'N 40E", ("latitude", "minutes_out_of_range", "minutes 61 must be below 60")),
        ("35°20'60\"N 40E", ("latitude", "seconds_out_of_range", "seconds 60 must be below 60")),
        ("35.5°20'N 40E", ("latitude", "fractional_degrees", "degrees must be whole when minutes are given")),
        ("35°20.5'10\"N 40E", ("latitude", "fractional_minutes", "minutes must be whole when seconds are given")),
    ],
)
def test_each_refusal_says_why(text: str, expected: tuple[str, str, str]) -> None:
    assert said(text) == [expected]


def test_text_of_200_characters_at_most() -> None:
    long = "35.336, 40.141" + " " * (MAX_TEXT - 14)
    assert len(long) == 200
    assert parse_position(long).lat == 35.336
    assert said(long + " ") == [("", "invalid_position", "a position is at most 200 characters")]


def test_an_ambiguous_reading_says_how_many() -> None:
    ((field, code, message),) = said("35 20 40 08")
    assert (field, code) == ("", "ambiguous_position")
    assert message.startswith("'35 20 40 08' can be read in ")
    assert message.endswith(" ways; separate latitude and longitude with a comma")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "SDU12",
            (
                "grid_zone",
                "unknown_grid_zone",
                "grid zone 'S' needs a zone number (1-60); only A, B, Y and Z (polar) stand alone",
            ),
        ),
        ("61SDU12", ("grid_zone", "unknown_grid_zone", "zone 61 is not a UTM zone (1-60)")),
        (
            "37ZDU12",
            (
                "grid_zone",
                "unknown_grid_zone",
                "'Z' is not a latitude band (C-X without I and O); polar bands A, B, Y, Z take no zone number",
            ),
        ),
        ("37IDU12", ("grid_zone", "unknown_grid_zone", "'I' is not a latitude band (C-X without I and O)")),
        ("32XMH00", ("grid_zone", "unknown_grid_zone", "grid zone 32X does not exist (Svalbard)")),
        ("37SSU12", ("square", "unknown_square", "column letter 'S' is not used in zone 37 (columns A-H)")),
        ("36SAU12", ("square", "unknown_square", "column letter 'A' is not used in zone 36 (columns S-Z)")),
        ("38SAU12", ("square", "unknown_square", "column letter 'A' is not used in zone 38 (columns J-R)")),
        ("37SDW12", ("square", "unknown_square", "row letter 'W' is not a 100 km row (A-V without I, O)")),
        (
            "37SDU123",
            (
                "digits",
                "invalid_digits",
                "3 digits: easting and northing take the same number of digits, 0 to 5 each",
            ),
        ),
        ("37NDU00", ("square", "unknown_square", "the 100 km square DU does not lie in grid zone 37N")),
    ],
)
def test_each_mgrs_refusal_says_why(text: str, expected: tuple[str, str, str]) -> None:
    assert said(text) == [expected]


def test_a_zone_number_out_of_range_carries_it() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_position("0SDU12")
    assert e.value.errors[0].detail == {"zone": 0}


@pytest.mark.parametrize(("digits", "side"), [(0, 100_000.0), (1, 10_000.0), (2, 1_000.0), (4, 10.0), (5, 1.0)])
def test_mgrs_precision_is_half_the_diagonal_of_the_square(digits: int, side: float) -> None:
    text = "37SDU" + "1" * digits + "2" * digits
    p = parse_position(text)
    assert p.precision_m == pytest.approx(side / math.sqrt(2.0), rel=1e-12)
    assert p.format == "mgrs"


def test_ten_digits_per_axis_at_most() -> None:
    parse_position("37SDU" + "1" * 10)
    assert said("37SDU" + "1" * 12)[0][:2] == ("digits", "invalid_digits")


@pytest.mark.parametrize(
    ("accuracy", "message"),
    [
        (math.nan, "accuracy_m must be a number of metres"),
        (True, "accuracy_m must be a number of metres"),
        ("10", "accuracy_m must be a number of metres"),
        (0, "accuracy_m must be greater than 0"),
        (-0.5, "accuracy_m must be greater than 0"),
    ],
)
def test_accuracy_refusals(accuracy: Any, message: str) -> None:
    assert said("35.336, 40.141", accuracy_m=accuracy)[0][1:] == (
        "invalid_number" if "number" in message else "out_of_range",
        message,
    )


def test_the_precision_warning_at_the_stated_accuracy() -> None:
    p = parse_position("35.3, 40.1")
    exact = parse_position("35.3, 40.1", accuracy_m=p.precision_m)
    assert exact.warnings == ()
    coarse = parse_position("35.3, 40.1", accuracy_m=p.precision_m * 0.999)
    (w,) = coarse.warnings
    assert (w.field, w.code) == ("", "precision_coarser_than_accuracy")
    assert w.detail == {"precision_m": p.precision_m, "accuracy_m": p.precision_m * 0.999}
    assert w.message == (
        f"the text only places the position within {p.precision_m:,.1f} m, coarser than the stated accuracy "
        f"of {p.precision_m * 0.999:g} m; give more digits"
    )
    assert (coarse.lon, coarse.lat, coarse.precision_m) == (p.lon, p.lat, p.precision_m)
    assert parse_position("35.3, 40.1", accuracy_m=5).position == (40.1, 35.3)


def test_column_messages() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_lat_lon(" ", "abc")
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("lat", "required", "no latitude given"),
        ("lon", "invalid_coordinate", "'abc' is not a longitude"),
    ]
    with pytest.raises(InvalidInput) as e:
        parse_lat_lon(None, "40.1N")  # type: ignore[arg-type]
    assert [(f.field, f.code, f.message) for f in e.value.errors] == [
        ("lat", "required", "no latitude given"),
        ("lon", "wrong_hemisphere", "hemisphere N does not belong to a longitude"),
    ]
    with pytest.raises(InvalidInput) as e:
        parse_lat_lon("-35.3S", "40.1")
    assert e.value.errors[0].message == "'-35.3S' has both a sign and a hemisphere letter; give one"


def test_refusals_carry_what_was_read() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_position("35.336, 40.141", datum="Atlantis 2000")
    assert e.value.errors[0].detail == {"text": "Atlantis 2000"}
    with pytest.raises(InvalidInput) as e:
        parse_position("35.5°20'N 40°30.5'10\"E")
    assert [(f.code, f.detail) for f in e.value.errors] == [
        ("fractional_degrees", {"text": "35.5°20'N"}),
        ("fractional_minutes", {"text": "40°30.5'10\"E"}),
    ]


def test_a_label_is_read_whole() -> None:
    # "ED50X" is no datum: refused as text, not read as ED50
    assert said("35.336, 40.141 (ED50X)") == [
        ("", "invalid_position", "'ED50X' is neither part of a coordinate nor a known datum; positions are WGS84 only")
    ]


def test_datum_messages() -> None:
    assert said("35.336, 40.141", datum="Atlantis 2000") == [
        (
            "datum",
            "unknown_datum",
            "'Atlantis 2000' is neither part of a coordinate nor a known datum; positions are WGS84 only",
        )
    ]
    assert said("35.336, 40.141 Atlantis") == [
        (
            "",
            "invalid_position",
            "'Atlantis' is neither part of a coordinate nor a known datum; positions are WGS84 only",
        )
    ]
    ((field, code, message),) = said("35.336, 40.141", datum="EPSG:32637")
    assert (field, code) == ("datum", "projected_crs")
    assert message == "WGS 84 / UTM zone 37N is a projected system; give degrees or MGRS on WGS84"
    ((field, code, message),) = said("35.336, 40.141", datum="ED50")
    assert message == "datum 'ED50' (European Datum 1950) is not WGS84; convert the position to WGS84 before sending it"


def test_a_label_before_a_colon_may_hold_digits() -> None:
    # "1942" alone would read as a number: the whole prefix before the colon is the label
    with pytest.raises(InvalidInput) as e:
        parse_position("Pulkovo 1942: 35.336, 40.141")
    assert [(f.field, f.code, f.detail) for f in e.value.errors] == [
        ("datum", "unsupported_datum", {"datum": "Pulkovo 1942"})
    ]


def test_decimal_commas_with_a_comma_and_space_between() -> None:
    p = parse_position("35,5, 40,1")
    assert (p.lat, p.lon) == (35.5, 40.1)


def test_a_colon_needs_minutes_after_it() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_lat_lon("35:", "40.1")
    assert [(f.field, f.code) for f in e.value.errors] == [("lat", "invalid_coordinate")]
    assert parse_lat_lon("35:30", "40.1").lat == 35.5
