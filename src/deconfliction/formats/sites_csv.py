"""The CSV of protected sites: read, checked row by row, reported all at once.

Columns (header row required; names case-insensitive, in any order; docs/formats.md has an example):

=============  ========  ==============================================================================
column         required  meaning
=============  ========  ==============================================================================
name           yes       what the site is called
category       yes       hospital, school, shelter, warehouse, office or other
lat, lon       one of    WGS84 degrees: decimal (``35.336``, ``35,336``, ``-33.8688``, ``35.336N``) or
mgrs           the two   DMS (``35°20'10"N``); or an MGRS reference (``37SDU1234567890``) instead
radius_m       yes       protection radius around the position, metres (> 0)
accuracy_m     yes       how accurate the stated position is, metres (> 0)
valid_until    yes       RFC 3339 time with an offset, or a date (``2026-12-31``: to the end of that day, UTC)
owner          no        who answers for the site
notes          no        free text
=============  ========  ==============================================================================

Delimiter ``,`` or ``;`` (whichever the header uses), UTF-8 with or without a byte-order mark, spaces
around values ignored, blank rows skipped. A column the service does not know is refused by name (with a
suggestion when it looks like a known one), so a misspelt ``radius`` never silently vanishes.

**All or nothing.** ``read_sites_csv`` returns a ``SitesImport`` report: every accepted row with what was
read (and warnings, e.g. coordinates too coarse for the stated accuracy), every refused row with *every*
reason (column and code). The caller stores the accepted sites only when ``report.ok``; a dry run is this
function alone. Row numbers count the header as row 1, as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from deconfliction.domain.coordinates import ParsedPosition, PositionFormat, parse_lat_lon, parse_position
from deconfliction.domain.footprint import Position, parse_footprint
from deconfliction.domain.limits import Limits
from deconfliction.domain.volume import format_time, parse_time
from deconfliction.errors import FieldError, InvalidInput

SITE_CATEGORIES = ("hospital", "school", "shelter", "warehouse", "office", "other")
REQUIRED_COLUMNS = ("name", "category", "radius_m", "accuracy_m", "valid_until")
POSITION_COLUMNS = ("lat", "lon", "mgrs")
OPTIONAL_COLUMNS = ("owner", "notes")
COLUMNS = (*REQUIRED_COLUMNS, *POSITION_COLUMNS, *OPTIONAL_COLUMNS)
MAX_ROWS = 10_000
MAX_TEXT = {"name": 200, "owner": 200, "notes": 2_000}


@dataclass(frozen=True)
class SiteRow:
    """One accepted row, parsed."""

    row: int
    name: str
    category: str
    position: Position
    """(lon, lat), WGS84."""
    position_format: PositionFormat
    precision_m: float
    """How far the written coordinates may be from the place they stand for (their last digit)."""
    radius_m: float
    accuracy_m: float
    valid_until: datetime
    owner: str | None
    notes: str | None
    warnings: tuple[FieldError, ...] = ()


@dataclass(frozen=True)
class RefusedRow:
    row: int
    errors: tuple[FieldError, ...]
    """Every reason, each naming its column."""


@dataclass(frozen=True)
class SitesImport:
    """What a CSV of sites holds, row by row. Store ``accepted`` only when ``ok``."""

    accepted: tuple[SiteRow, ...]
    refused: tuple[RefusedRow, ...]
    file_errors: tuple[FieldError, ...]
    """Problems with the file itself (encoding, header, size): then no row was read."""
    delimiter: str | None

    @property
    def ok(self) -> bool:
        return not self.refused and not self.file_errors and bool(self.accepted)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (for the CLI and the API)."""

        def err(e: FieldError) -> dict[str, Any]:
            return {
                "field": e.field,
                "code": e.code,
                "message": e.message,
                **({"detail": e.detail} if e.detail else {}),
            }

        return {
            "ok": self.ok,
            "accepted": [
                {
                    "row": s.row,
                    "name": s.name,
                    "category": s.category,
                    "position": list(s.position),
                    "position_format": s.position_format.value,
                    "precision_m": round(s.precision_m, 3),
                    "radius_m": s.radius_m,
                    "accuracy_m": s.accuracy_m,
                    "valid_until": format_time(s.valid_until),
                    "owner": s.owner,
                    "notes": s.notes,
                    "warnings": [err(w) for w in s.warnings],
                }
                for s in self.accepted
            ],
            "refused": [{"row": r.row, "errors": [err(e) for e in r.errors]} for r in self.refused],
            "file_errors": [err(e) for e in self.file_errors],
        }


def _file_error(code: str, message: str, field: str = "", **detail: Any) -> SitesImport:
    return SitesImport((), (), (FieldError(field, code, message, detail),), None)


def read_sites_csv(
    data: str | bytes,
    *,
    now: datetime | None = None,
    limits: Limits | None = None,
    max_rows: int = MAX_ROWS,
) -> SitesImport:
    """Read a CSV of sites (see the module docstring). ``now``, when given, refuses rows already expired."""
    limits = limits or Limits()
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            return _file_error(
                "not_utf8", f"the file is not UTF-8 (byte {e.start}); save it as 'CSV UTF-8'", byte=e.start
            )
    else:
        text = data.removeprefix("\ufeff")
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), None)
    if header_line is None:
        return _file_error("empty_file", "the file is empty; the first row names the columns")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True))
    except csv.Error as e:
        return _file_error("invalid_csv", f"not a readable CSV file: {e}")
    first = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if first is None:  # text on a line, but no field with any (a lone quote: one empty quoted field)
        return _file_error("empty_file", "the file has no column names; the first row names the columns")
    header = [c.strip().lower() for c in records[first]]
    header_errors = _check_header(header)
    if header_errors:
        return SitesImport((), (), tuple(header_errors), delimiter)
    rows = [(i + 1, r) for i, r in enumerate(records) if i > first and any(c.strip() for c in r)]
    if not rows:
        return SitesImport((), (), (FieldError("", "no_rows", "the file has a header but no sites"),), delimiter)
    if len(rows) > max_rows:
        return SitesImport(
            (),
            (),
            (FieldError("", "too_many_rows", f"{len(rows)} rows; at most {max_rows} per file", {"limit": max_rows}),),
            delimiter,
        )
    accepted: list[SiteRow] = []
    refused: list[RefusedRow] = []
    seen: dict[tuple[str, Position], int] = {}
    for number, cells in rows:
        result = _read_row(number, header, cells, now, limits)
        if isinstance(result, SiteRow):
            key = (result.name.casefold(), result.position)
            if key in seen:
                refused.append(
                    RefusedRow(
                        number,
                        (
                            FieldError(
                                "name",
                                "duplicate_row",
                                f"same name and position as row {seen[key]}",
                                {"row": seen[key]},
                            ),
                        ),
                    )
                )
                continue
            seen[key] = number
            accepted.append(result)
        else:
            refused.append(result)
    return SitesImport(tuple(accepted), tuple(refused), (), delimiter)


def _check_header(header: Sequence[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    for i, name in enumerate(header):
        if not name:
            errors.append(FieldError(f"column {i + 1}", "unnamed_column", f"column {i + 1} has no name"))
        elif name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(
                FieldError(
                    name,
                    "unknown_column",
                    f"unknown column {name!r}{hint}; the columns are {', '.join(COLUMNS)}",
                )
            )
        elif header.index(name) != i:
            errors.append(FieldError(name, "duplicate_column", f"column {name!r} appears twice"))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            errors.append(FieldError(name, "missing_column", f"the required column {name!r} is missing"))
    has_lat, has_lon, has_mgrs = ("lat" in header), ("lon" in header), ("mgrs" in header)
    if has_lat != has_lon:
        missing = "lon" if has_lat else "lat"
        errors.append(FieldError(missing, "missing_column", f"'lat' and 'lon' go together; {missing!r} is missing"))
    elif not has_lat and not has_mgrs:
        errors.append(FieldError("lat", "missing_column", "give the position in 'lat' and 'lon' columns, or 'mgrs'"))
    return errors


def _read_row(
    number: int, header: Sequence[str], cells: Sequence[str], now: datetime | None, limits: Limits
) -> SiteRow | RefusedRow:
    errors: list[FieldError] = []
    if len(cells) > len(header):
        extra = [c for c in cells[len(header) :] if c.strip()]
        if extra:
            errors.append(
                FieldError(
                    "",
                    "too_many_cells",
                    f"the row has {len(cells)} cells but the header names {len(header)} columns",
                )
            )
    values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}

    def text(name: str, required: bool) -> str | None:
        value = values.get(name, "")
        if not value:
            if required:
                errors.append(FieldError(name, "required", f"{name} is empty"))
            return None
        if len(value) > MAX_TEXT.get(name, 200):
            errors.append(FieldError(name, "too_long", f"{name} is longer than {MAX_TEXT.get(name, 200)} characters"))
        return value

    name = text("name", True)
    category = text("category", True)
    if category is not None:
        category = category.lower()
        if category not in SITE_CATEGORIES:
            errors.append(
                FieldError(
                    "category",
                    "unknown_category",
                    f"{values['category']!r} is not a category; use one of {', '.join(SITE_CATEGORIES)}",
                )
            )
    radius = _metres(values.get("radius_m", ""), "radius_m", errors)
    accuracy = _metres(values.get("accuracy_m", ""), "accuracy_m", errors)
    position = _position(values, accuracy, errors)
    valid_until = _valid_until(values.get("valid_until", ""), now, errors)
    owner = text("owner", False)
    notes = text("notes", False)
    if position is not None and radius is not None:
        column = "mgrs" if position.format is PositionFormat.MGRS else "lat"
        try:
            parse_footprint({"type": "Point", "coordinates": list(position.position)}, limits, radius_m=radius)
        except InvalidInput as e:
            errors.extend(
                FieldError(column if err.field.startswith("coordinates") else "radius_m", err.code, err.message,
                           err.detail)
                for err in e.errors
            )  # fmt: skip
    if errors or name is None or category is None or position is None:
        return RefusedRow(number, tuple(errors))
    if radius is None or accuracy is None or valid_until is None:  # each added an error when None
        return RefusedRow(number, tuple(errors))
    return SiteRow(
        number,
        name,
        category,
        position.position,
        position.format,
        position.precision_m,
        radius,
        accuracy,
        valid_until,
        owner,
        notes,
        tuple(w.at("mgrs" if position.format is PositionFormat.MGRS else "lat") for w in position.warnings),
    )


def _metres(raw: str, column: str, errors: list[FieldError]) -> float | None:
    if not raw:
        errors.append(FieldError(column, "required", f"{column} is empty"))
        return None
    if "," in raw:
        errors.append(
            FieldError(
                column,
                "ambiguous_number",
                f"{raw!r}: a comma could be a decimal or a thousands separator; write metres like 1500 or 12.5",
            )
        )
        return None
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
        errors.append(FieldError(column, "invalid_number", f"{raw!r} is not a number of metres"))
        return None
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        errors.append(FieldError(column, "out_of_range", f"{column} must be greater than 0"))
        return None
    return value


def _position(values: dict[str, str], accuracy: float | None, errors: list[FieldError]) -> ParsedPosition | None:
    lat, lon, grid = values.get("lat", ""), values.get("lon", ""), values.get("mgrs", "")
    if grid and (lat or lon):
        errors.append(FieldError("mgrs", "position_twice", "give lat and lon, or mgrs, not both"))
        return None
    try:
        if grid:
            parsed = parse_position(grid, accuracy_m=accuracy)
            if parsed.format is not PositionFormat.MGRS:
                errors.append(
                    FieldError("mgrs", "not_mgrs", f"{grid!r} is not an MGRS reference; put degrees in lat and lon")
                )
                return None
            return parsed
        if not lat and not lon:
            errors.append(FieldError("lat", "required", "no position: give lat and lon, or mgrs"))
            return None
        return parse_lat_lon(lat, lon, accuracy_m=accuracy)
    except InvalidInput as e:
        errors.extend(e.at("mgrs").errors if grid else e.errors)
        return None


def _valid_until(raw: str, now: datetime | None, errors: list[FieldError]) -> datetime | None:
    if not raw:
        errors.append(FieldError("valid_until", "required", "valid_until is empty; every site must be revalidated"))
        return None
    value: datetime | None = None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            errors.append(FieldError("valid_until", "invalid_time", f"{raw!r} is not a date"))
            return None
        value = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    else:
        try:
            value = parse_time(raw, "valid_until")
        except InvalidInput as e:
            errors.extend(e.errors)
            return None
    if now is not None and value <= now:
        errors.append(
            FieldError("valid_until", "expired", f"valid_until {format_time(value)} has passed; revalidate the site")
        )
        return None
    return value
