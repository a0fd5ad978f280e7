"""Positions as people give them: decimal degrees, degrees-minutes-seconds and MGRS, on WGS84 only.

Accepted text (``parse_position``), case-insensitive letters, any spacing:

* **decimal degrees**: ``35.336, 40.141`` (latitude first, as people and most maps write it),
  ``-33.8688; 151.2093``, ``35.336N 40.141E``, ``N35.336 E40.141``, ``40.141E 35.336N`` (the letters decide
  the order), ``35.336° N, 40.141° E``;
* **DMS** (and degrees with decimal minutes): ``35°20'10"N 40°08'30"E``, ``35°20'10.5"N, 40°8'30"E``,
  ``35d20m10sN 40d08m30sE``, ``35 20 10 N 40 08 30 E``, ``35:20:10N 40:08:30E``, ``35°20.5'N 40°8.25'E``;
  typographic primes (′ ″ ’ ”) and º are read as ' " and °;
* **MGRS**: ``37SDU1234567890``, ``37S DU 12345 67890`` (0 to 5 digits per axis; UPS polar zones too).

Without hemisphere letters the first number is the latitude; with them, both must carry one and the letters
decide. Two numbers separated by spaces only are read when exactly one reading exists; otherwise the
parser asks for a comma.

**Datum.** Only WGS84 is accepted. A datum or CRS named in the text (``35.336, 40.141 ED50``,
``ED50: 35.336, 40.141``, ``(Pulkovo 1942)``) or passed as ``datum=`` is looked up in PROJ's registry
(through pyproj, already a dependency) and refused by the name PROJ gives it, for instance
``European Datum 1950``; text that is neither a coordinate nor a known datum is refused as such. Nothing is
ever converted between datums: a shift of 100-300 m is exactly the error this service exists to prevent,
and doing it silently would hide it.

**Precision.** ``precision_m`` is the radius within which the place the text stands for certainly lies,
judged from its last digit alone: decimal and sexagesimal numbers are taken as rounded (half a unit of the
last digit either way on each axis, measured on the ellipsoid from the position to the corners of that
box), MGRS references as truncated, as the standard says (the position returned is the centre of the
grid square, and ``precision_m`` is half the square's diagonal, in grid metres, within 0.2 % of ground
metres). When the caller states an accuracy and the text cannot carry it, the result has a warning.

**MGRS library.** The MGRS letters and their exceptions (the 2,000 km row cycle, the Norway and Svalbard
zones, the polar UPS grid) are the kind of table that is easy to get subtly wrong. ``mgrs`` (PyPI, a
maintained binding of NGA's GEOTRANS code, the reference implementation; one small compiled wheel) does
the conversion; it returns the centre of the referenced square. This module checks the parts first so that
a refusal says which part is wrong (zone, band, square letters, digits) instead of GEOTRANS' generic
"String Error". pyproj alone has UTM but not the MGRS lettering.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import mgrs  # type: ignore[import-untyped]
import numpy as np

from deconfliction.domain.geo import geodesic_distance
from deconfliction.errors import FieldError, InvalidInput

Position = tuple[float, float]


class PositionFormat(StrEnum):
    DECIMAL = "decimal"
    DMS = "dms"
    MGRS = "mgrs"


@dataclass(frozen=True)
class ParsedPosition:
    """A position read from text: WGS84 ``lon``/``lat`` in degrees, the format recognised, the precision the
    text carries (metres, see the module docstring) and warnings (``FieldError`` with a code, not raised)."""

    lon: float
    lat: float
    format: PositionFormat
    precision_m: float
    warnings: tuple[FieldError, ...] = ()

    @property
    def position(self) -> Position:
        """(lon, lat), GeoJSON order."""
        return (self.lon, self.lat)


WGS84_DATUM_PREFIX = "World Geodetic System 1984"
MGRS_MAX_DIGITS = 5
"""Digits per axis: 5 is 1 m."""
MAX_TEXT = 200

# --------------------------------------------------------------------------------------------- entry points


def parse_position(text: str, *, accuracy_m: float | None = None, datum: str | None = None) -> ParsedPosition:
    """Read one position from ``text`` (decimal degrees, DMS or MGRS; see the module docstring).

    Field paths of errors: ``""`` for the text as a whole, ``latitude`` / ``longitude`` for one coordinate,
    ``grid_zone`` / ``square`` / ``digits`` for the parts of an MGRS reference, ``datum`` and ``accuracy_m``.
    Callers locate them with ``InvalidInput.at``."""
    _check_accuracy(accuracy_m)
    if datum is not None:
        _check_datum(datum)
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput.one("", "empty_position", "no position given")
    if len(text) > MAX_TEXT:
        raise InvalidInput.one("", "invalid_position", f"a position is at most {MAX_TEXT} characters")
    body, labels = _split_labels(_normalise(text))
    if not body:
        raise InvalidInput.one("", "invalid_position", f"no coordinates in {text.strip()!r}")
    for label in labels:
        _check_datum(label, in_text=True)
    compact = re.sub(r"\s+", "", body).upper()
    match = _MGRS.fullmatch(compact)
    if match is not None:
        return _with_warning(_parse_mgrs(match), accuracy_m)
    return _with_warning(_parse_pair(body), accuracy_m)


def parse_lat_lon(
    lat_text: str, lon_text: str, *, accuracy_m: float | None = None, datum: str | None = None
) -> ParsedPosition:
    """A latitude and a longitude given apart (two columns of a table), each in decimal degrees or DMS,
    signed or with its hemisphere letter. A decimal comma is accepted (``35,336``: a latitude has no
    thousands). Errors are located at ``lat`` and ``lon``."""
    _check_accuracy(accuracy_m)
    if datum is not None:
        _check_datum(datum)
    errors: list[FieldError] = []
    values: list[tuple[float, float, bool]] = []
    for field, raw, axis in (("lat", lat_text, "latitude"), ("lon", lon_text, "longitude")):
        text = _normalise(raw) if isinstance(raw, str) else ""
        if not text:
            errors.append(FieldError(field, "required", f"no {axis} given"))
            continue
        angle = _angle(text, allow_comma=True)
        if angle is None:
            errors.append(FieldError(field, "invalid_coordinate", f"{raw.strip()!r} is not a {axis}"))
            continue
        try:
            values.append(angle.value(axis, field))
        except InvalidInput as e:
            errors.extend(e.errors)
    if errors:
        raise InvalidInput(errors)
    (lat, half_lat, dms_lat), (lon, half_lon, dms_lon) = values
    fmt = PositionFormat.DMS if dms_lat or dms_lon else PositionFormat.DECIMAL
    return _with_warning(ParsedPosition(lon, lat, fmt, _box_precision_m(lon, lat, half_lon, half_lat)), accuracy_m)


def _check_accuracy(accuracy_m: float | None) -> None:
    if accuracy_m is None:
        return
    if isinstance(accuracy_m, bool) or not isinstance(accuracy_m, int | float) or not math.isfinite(accuracy_m):
        raise InvalidInput.one("accuracy_m", "invalid_number", "accuracy_m must be a number of metres")
    if accuracy_m <= 0:
        raise InvalidInput.one("accuracy_m", "out_of_range", "accuracy_m must be greater than 0")


def _with_warning(parsed: ParsedPosition, accuracy_m: float | None) -> ParsedPosition:
    if accuracy_m is None or parsed.precision_m <= accuracy_m:
        return parsed
    warning = FieldError(
        "",
        "precision_coarser_than_accuracy",
        f"the text only places the position within {parsed.precision_m:,.1f} m, coarser than the stated "
        f"accuracy of {accuracy_m:g} m; give more digits",
        {"precision_m": parsed.precision_m, "accuracy_m": float(accuracy_m)},
    )
    return ParsedPosition(parsed.lon, parsed.lat, parsed.format, parsed.precision_m, (*parsed.warnings, warning))


# ---------------------------------------------------------------------------------------------- datum


_WGS84_ALIASES = re.compile(
    r"wgs\s*-?\s*84|wgs\s*-?\s*1984|epsg\s*:\s*(4326|4979|4978)|(ogc\s*:\s*)?crs\s*84|world geodetic system 1984",
    re.IGNORECASE,
)


def _check_datum(label: str, *, in_text: bool = False) -> None:
    """WGS84 passes; anything else is refused by the name PROJ's registry gives it. Text that names no
    datum is refused as unknown text (``in_text``: found next to the coordinates) or an unknown datum."""
    name = re.sub(r"^\s*(datum|on|in)\b\s*:?\s*", "", label.strip(" \t:;,()[]"), flags=re.IGNORECASE).strip()
    if not name or _WGS84_ALIASES.fullmatch(name):
        return
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    crs = None
    try:
        if re.fullmatch(r"[A-Za-z]+\s*:\s*\w+", name):  # an authority code such as EPSG:4230
            crs = CRS.from_user_input(re.sub(r"\s+", "", name))
        elif (code := _geodetic_crs_names().get(_name_key(name))) is not None:
            crs = CRS.from_authority(*code)
    except CRSError:
        crs = None
    if crs is None:
        message = f"{name!r} is neither part of a coordinate nor a known datum; positions are WGS84 only"
        if in_text:
            raise InvalidInput.one("", "invalid_position", message, text=name)
        raise InvalidInput.one("datum", "unknown_datum", message, text=name)
    datum_name = crs.datum.name if crs.datum is not None else crs.name
    if datum_name.startswith(WGS84_DATUM_PREFIX):
        if crs.is_geographic:
            return
        raise InvalidInput.one(
            "datum",
            "projected_crs",
            f"{crs.name} is a projected system; give degrees or MGRS on WGS84",
            crs=crs.name,
        )
    raise InvalidInput.one(
        "datum",
        "unsupported_datum",
        f"datum {name!r} ({datum_name}) is not WGS84; convert the position to WGS84 before sending it",
        datum=datum_name,
    )


def _name_key(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name.casefold()).strip()


@functools.cache
def _geodetic_crs_names() -> dict[str, tuple[str, str]]:
    """Every geographic and geocentric CRS in PROJ's registry by name: (authority, code). An immutable
    table read once, on the first label met (half a second); exact names only, because PROJ's own fuzzy
    name search takes up to a second per miss and guesses ('Pulkovo' becomes Pulkovo 1995)."""
    from pyproj.database import query_crs_info
    from pyproj.enums import PJType

    infos = query_crs_info(
        pj_types=[PJType.GEOGRAPHIC_2D_CRS, PJType.GEOGRAPHIC_3D_CRS, PJType.GEOCENTRIC_CRS], allow_deprecated=True
    )
    table: dict[str, tuple[str, str]] = {}
    for info in sorted(infos, key=lambda i: (i.deprecated, i.auth_name != "EPSG", i.type.name, i.code)):
        table.setdefault(_name_key(info.name), (info.auth_name, info.code))
    return table


# ---------------------------------------------------------------------------------------------- text


_TRANSLATE = str.maketrans(
    {
        "′": "'",
        "’": "'",
        "‘": "'",
        "´": "'",
        "`": "'",
        "″": '"',
        "“": '"',
        "”": '"',
        "º": "°",
        "˚": "°",
        "−": "-",
        "\u00a0": " ",
        "\u202f": " ",
    }
)


def _normalise(text: str) -> str:
    out = text.translate(_TRANSLATE).replace("''", '"')
    return re.sub(r"\s+", " ", out).strip()


_MARKERS_AFTER_DIGIT = re.compile(r"(?<=[\d.])(?:deg|min|sec|[dms])", re.IGNORECASE)


def _is_word(token: str) -> bool:
    """A token that cannot be part of a coordinate: letters left once the unit markers after digits and
    one hemisphere letter at either end are taken away."""
    t = _MARKERS_AFTER_DIGIT.sub("", token.strip(",;:/()[]"))
    t = re.sub(r"^[NSEWnsew]$|(?<=[\d.°'\"])[NSEWnsew]|[NSEWnsew](?=[\d+-])", "", t)
    return bool(re.search(r"[A-Za-z]", t))


def _split_labels(text: str) -> tuple[str, list[str]]:
    """The coordinate part of ``text`` and the datum labels around it: ``(...)`` groups, a prefix ending in
    ``:`` that is a word, and words before and after the coordinates (a label runs to the end: ``Pulkovo
    1942``)."""
    labels = [m.strip() for m in re.findall(r"[(\[]([^)\]]*)[)\]]", text)]
    text = re.sub(r"[(\[][^)\]]*[)\]]", " ", text).strip()
    labels += re.findall(r"(?i)\b(?:epsg|ogc)\s*:\s*\w+", text)
    text = re.sub(r"(?i)\b(?:epsg|ogc)\s*:\s*\w+", " ", text).strip()
    text = re.sub(r"(?i)\bwgs\s*-?\s*(?:19)?84\b", " ", text).strip(" :")  # the one datum accepted, said aloud
    prefix = re.match(r"^([^:]+?)\s*:\s*(.+)$", text)
    if prefix is not None and _is_word(prefix.group(1).split(" ")[0]):
        labels.append(prefix.group(1))
        text = prefix.group(2)
    mgrs_with_label = re.fullmatch(r"(?i)((?:\d{1,2}\s*)?[a-z]\s*[a-z]\s*[a-z](?:\s*\d+){0,2})(?:[\s,;]+(.+))?", text)
    grid = None if mgrs_with_label is None else _MGRS.fullmatch(re.sub(r"\s+", "", mgrs_with_label.group(1)).upper())
    if (
        mgrs_with_label is not None
        and grid is not None
        and (not mgrs_with_label.group(2) or grid["zone"] or grid["band"] in _POLAR_BANDS)
    ):
        if mgrs_with_label.group(2):
            labels.append(mgrs_with_label.group(2))
        return mgrs_with_label.group(1), [label for label in labels if label]
    tokens = text.split(" ")
    start = 0
    while start < len(tokens) and _is_word(tokens[start]):
        start += 1
    if start:
        labels.append(" ".join(tokens[:start]))
    end = start
    while end < len(tokens) and not _is_word(tokens[end]):
        end += 1
    if end < len(tokens):
        labels.append(" ".join(tokens[end:]))
    body = " ".join(tokens[start:end]).strip(" ,;/")
    return body, [label for label in labels if label.strip(" ,;:")]


# ------------------------------------------------------------------------------------- decimal and DMS

_NUM = r"\d+(?:\.\d+)?"
_ANGLE = re.compile(
    rf"""
    (?P<h1>[NSEWnsew])?\s*
    (?P<sign>[-+])?\s*
    (?P<deg>{_NUM})
    (?:\s*(?P<dmark>°|deg|d|:))?
    (?:
        (?:(?<=[°dg:])\s*|\s+)(?P<min>{_NUM})
        (?:\s*(?P<mmark>'|min|m|:))?
        (?:
            (?:(?<=['nm:])\s*|\s+)(?P<sec>{_NUM})
            (?:\s*(?P<smark>"|sec|s))?
        )?
    )?
    \s*(?P<h2>[NSEWnsew])?
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Angle:
    """One coordinate as written, not yet checked."""

    text: str
    hemisphere: str | None
    sign: str | None
    deg: str
    minutes: str | None
    seconds: str | None

    @property
    def axis_of_letter(self) -> str | None:
        if self.hemisphere is None:
            return None
        return "latitude" if self.hemisphere in "NS" else "longitude"

    def value(self, axis: str, field: str) -> tuple[float, float, bool]:
        """(signed degrees, half a unit of the last digit in degrees, sexagesimal?). Every problem at once."""
        errors: list[FieldError] = []
        if self.hemisphere is not None and self.axis_of_letter != axis:
            errors.append(
                FieldError(field, "wrong_hemisphere", f"hemisphere {self.hemisphere} does not belong to a {axis}")
            )
        if self.hemisphere is not None and self.sign is not None:
            errors.append(
                FieldError(
                    field, "sign_and_hemisphere", f"{self.text!r} has both a sign and a hemisphere letter; give one"
                )
            )
        if self.minutes is not None and "." in self.deg:
            errors.append(
                FieldError(
                    field, "fractional_degrees", "degrees must be whole when minutes are given", {"text": self.text}
                )
            )
        if self.seconds is not None and self.minutes is not None and "." in self.minutes:
            errors.append(
                FieldError(
                    field, "fractional_minutes", "minutes must be whole when seconds are given", {"text": self.text}
                )
            )
        for part, raw in (("minutes", self.minutes), ("seconds", self.seconds)):
            if raw is not None and float(raw) >= 60.0:
                errors.append(
                    FieldError(field, f"{part}_out_of_range", f"{part} {raw} must be below 60", {"text": self.text})
                )
        value = float(self.deg) + float(self.minutes or 0) / 60.0 + float(self.seconds or 0) / 3600.0
        if self.sign == "-" or self.hemisphere in ("S", "W"):
            value = -value
        limit = 90.0 if axis == "latitude" else 180.0
        if abs(value) > limit:
            hint = "" if self.hemisphere else " (without hemisphere letters the latitude comes first)"
            errors.append(
                FieldError(
                    field,
                    "out_of_range",
                    f"{axis} {value:g} is outside [-{limit:g}, {limit:g}]{hint}",
                    {"value": value},
                )
            )
        if errors:
            raise InvalidInput(errors)
        last, unit = (
            (self.seconds, 1.0 / 3600.0)
            if self.seconds is not None
            else (self.minutes, 1.0 / 60.0)
            if self.minutes is not None
            else (self.deg, 1.0)
        )
        decimals = len(last.partition(".")[2])
        return value, 0.5 * unit * 10.0**-decimals, self.minutes is not None


def _angle(text: str, *, allow_comma: bool = False) -> _Angle | None:
    """Syntax only: the parts of one coordinate, or None."""
    text = text.strip()
    if allow_comma and text.count(",") == 1 and "." not in text and re.search(r"\d,\d", text):
        text = text.replace(",", ".")
    m = _ANGLE.fullmatch(text)
    if m is None or (m["h1"] and m["h2"]):
        return None
    marks = (m["dmark"], m["mmark"], m["smark"])
    if ":" in marks and m["dmark"] not in (":", None):
        return None  # 35°20:10 mixes notations
    if m["min"] is None and m["dmark"] == ":":
        return None
    hemisphere = (m["h1"] or m["h2"] or "").upper() or None
    return _Angle(text, hemisphere, m["sign"], m["deg"], m["min"], m["sec"])


def _split_points(text: str) -> list[int]:
    """Where two coordinates written without a separator may meet: spaces and hemisphere letters."""
    points = [m.start() for m in re.finditer(r" ", text)]
    for i in range(1, len(text)):
        before, here = text[i - 1], text[i]
        if before in "NSEWnsew" and here not in " ":
            points.append(i)
        if here in "NSEWnsew" and (before.isdigit() or before in "°'\""):
            points.append(i)
    return sorted(set(points))


def _parse_pair(body: str) -> ParsedPosition:
    candidates: list[tuple[str, str, bool]] = []
    for sep in (";", "/"):
        if sep in body:
            parts = body.split(sep)
            if len(parts) != 2:
                raise InvalidInput.one("", "invalid_position", f"expected two coordinates separated by one {sep!r}")
            candidates = [(parts[0], parts[1], True)]
            break
    else:
        if "," in body:
            if body.count(",") == 1:
                left, _, right = body.partition(",")
                candidates = [(left, right, False)]
            elif body.count(", ") == 1:
                left, _, right = body.partition(", ")
                candidates = [(left, right, True)]
            else:
                raise InvalidInput.one(
                    "",
                    "invalid_position",
                    "cannot tell the two coordinates apart: separate them with one ', ' or ';'",
                )
        else:
            candidates = [(body[:i], body[i:], False) for i in _split_points(body)]
    readings: list[tuple[_Angle, _Angle]] = []
    pairing_errors: list[FieldError] = []
    for left, right, comma in candidates:
        a, b = _angle(left, allow_comma=comma), _angle(right, allow_comma=comma)
        if a is None or b is None:
            continue
        problem = _pairing_problem(a, b)
        if problem is None:
            readings.append((a, b))
        else:
            pairing_errors.append(problem)
    unique = {(a.text, b.text): (a, b) for a, b in readings}
    if not unique:
        if pairing_errors:
            raise InvalidInput([pairing_errors[0]])
        raise InvalidInput.one(
            "",
            "invalid_position",
            f"{body!r} is not a position in decimal degrees, DMS or MGRS (example: 35.336, 40.141)",
        )
    if len(unique) > 1:
        raise InvalidInput.one(
            "",
            "ambiguous_position",
            f"{body!r} can be read in {len(unique)} ways; separate latitude and longitude with a comma",
        )
    a, b = next(iter(unique.values()))
    lat_angle, lon_angle = (b, a) if a.axis_of_letter == "longitude" else (a, b)
    errors: list[FieldError] = []
    values: dict[str, tuple[float, float, bool]] = {}
    for axis, angle in (("latitude", lat_angle), ("longitude", lon_angle)):
        try:
            values[axis] = angle.value(axis, axis)
        except InvalidInput as e:
            errors.extend(e.errors)
    if errors:
        raise InvalidInput(errors)
    lat, half_lat, dms_lat = values["latitude"]
    lon, half_lon, dms_lon = values["longitude"]
    fmt = PositionFormat.DMS if dms_lat or dms_lon else PositionFormat.DECIMAL
    return ParsedPosition(lon, lat, fmt, _box_precision_m(lon, lat, half_lon, half_lat))


def _pairing_problem(a: _Angle, b: _Angle) -> FieldError | None:
    if (a.hemisphere is None) != (b.hemisphere is None):
        return FieldError(
            "", "hemisphere_missing", "give a hemisphere letter on both coordinates or on neither of them"
        )
    if a.hemisphere is not None and a.axis_of_letter == b.axis_of_letter:
        return FieldError(
            "",
            "hemispheres_clash",
            f"both coordinates are {a.axis_of_letter}s ({a.hemisphere} and {b.hemisphere})",
        )
    return None


def _box_precision_m(lon: float, lat: float, half_lon: float, half_lat: float) -> float:
    """Largest geodesic distance from the position to a corner of its rounding box."""
    lat_lo, lat_hi = max(-90.0, lat - half_lat), min(90.0, lat + half_lat)
    lons = np.array([lon - half_lon, lon + half_lon, lon - half_lon, lon + half_lon])
    lats = np.array([lat_lo, lat_lo, lat_hi, lat_hi])
    dist = geodesic_distance(np.full(4, lon), np.full(4, lat), lons, lats)
    return float(np.max(dist))


# -------------------------------------------------------------------------------------------------- MGRS

_MGRS = re.compile(r"(?P<zone>\d{1,2})?(?P<band>[A-Z])(?P<col>[A-Z])(?P<row>[A-Z])(?P<digits>\d*)")
_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_POLAR_BANDS = "ABYZ"
_COLUMN_SETS = ("STUVWXYZ", "ABCDEFGH", "JKLMNPQR")
"""UTM 100 km column letters by zone number modulo 3."""
_ROWS = "ABCDEFGHJKLMNPQRSTUV"
_MISSING_ZONES = {"32X", "34X", "36X"}
"""Removed by the Svalbard exception."""


def _parse_mgrs(m: re.Match[str]) -> ParsedPosition:
    text = m.group(0)
    errors: list[FieldError] = []
    zone_raw, band, col, row, digits = m["zone"], m["band"], m["col"], m["row"], m["digits"]
    if zone_raw is None:
        if band not in _POLAR_BANDS:
            errors.append(
                FieldError(
                    "grid_zone",
                    "unknown_grid_zone",
                    f"grid zone {band!r} needs a zone number (1-60); only A, B, Y and Z (polar) stand alone",
                )
            )
    else:
        zone = int(zone_raw)
        if not 1 <= zone <= 60:
            errors.append(
                FieldError(
                    "grid_zone", "unknown_grid_zone", f"zone {zone_raw} is not a UTM zone (1-60)", {"zone": zone}
                )
            )
        elif band not in _BANDS:
            errors.append(
                FieldError(
                    "grid_zone",
                    "unknown_grid_zone",
                    f"{band!r} is not a latitude band (C-X without I and O)"
                    + ("; polar bands A, B, Y, Z take no zone number" if band in _POLAR_BANDS else ""),
                )
            )
        elif f"{zone}{band}" in _MISSING_ZONES:
            errors.append(
                FieldError("grid_zone", "unknown_grid_zone", f"grid zone {zone}{band} does not exist (Svalbard)")
            )
        else:
            columns = _COLUMN_SETS[zone % 3]
            if col not in columns:
                errors.append(
                    FieldError(
                        "square",
                        "unknown_square",
                        f"column letter {col!r} is not used in zone {zone} (columns {columns[0]}-{columns[-1]})",
                    )
                )
            if row not in _ROWS:
                errors.append(
                    FieldError("square", "unknown_square", f"row letter {row!r} is not a 100 km row (A-V without I, O)")
                )
    if len(digits) % 2 or len(digits) > 2 * MGRS_MAX_DIGITS:
        errors.append(
            FieldError(
                "digits",
                "invalid_digits",
                f"{len(digits)} digits: easting and northing take the same number of digits, 0 to "
                f"{MGRS_MAX_DIGITS} each",
            )
        )
    if errors:
        raise InvalidInput(errors)
    try:
        lat, lon = _to_lat_lon(text)
    except mgrs.core.MGRSError:  # GEOTRANS says only "String Error" or "Northing Error"
        raise InvalidInput.one(
            "square",
            "unknown_square",
            f"the 100 km square {col}{row} does not lie in grid zone {zone_raw or ''}{band}",
        ) from None
    side = 10.0 ** (MGRS_MAX_DIGITS - len(digits) // 2)
    return ParsedPosition(float(lon), float(lat), PositionFormat.MGRS, side / math.sqrt(2.0))


def _to_lat_lon(text: str) -> tuple[float, float]:
    convert: Callable[[str], tuple[float, float]] = mgrs.MGRS().toLatLon
    return convert(text)
