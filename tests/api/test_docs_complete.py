"""The reference documentation is complete (datasette-style): a route, an error code, a field-error code
or a setting that the code has and the docs do not fails here, and so does a documented route or
default that the code does not have.

No database is needed: the OpenAPI document is built from an app that is never started.
"""

from __future__ import annotations

import ast
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from deconfliction import errors
from deconfliction.api import problems
from deconfliction.api.app import create_app
from deconfliction.domain.limits import Limits
from deconfliction.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "deconfliction"
API_MD = ROOT / "docs" / "api.md"
SETTINGS_MD = ROOT / "docs" / "settings.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Modules whose field errors can reach an HTTP client (the CLI's FeatureCollection reader and the policy
# file parser report theirs elsewhere: docs/formats.md, docs/policy.md).
API_REACHABLE = [
    *sorted((SRC / "api").glob("*.py")),
    *sorted((SRC / "service").glob("*.py")),
    SRC / "domain" / "footprint.py",
    SRC / "domain" / "volume.py",
]


@pytest.fixture(scope="module")
def api_md() -> str:
    return API_MD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def settings_md() -> str:
    return SETTINGS_MD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    spec: dict[str, Any] = create_app(Settings()).openapi()
    return spec


def _heading_routes(text: str) -> set[tuple[str, str]]:
    """Routes documented as ``### `METHOD /path` `` (or ``### `GET /a` and `GET /b` ``)."""
    found = set()
    for line in text.splitlines():
        if line.startswith("### "):
            for method, path in re.findall(r"`(" + "|".join(METHODS) + r") (/\S+?)`", line):
                found.add((method, path))
    return found


def test_every_route_is_documented(openapi: dict[str, Any], api_md: str) -> None:
    routes = {(method.upper(), path) for path, ops in openapi["paths"].items() for method in ops}
    assert len(routes) >= 10
    missing = sorted(routes - _heading_routes(api_md))
    assert not missing, f"docs/api.md has no '### `METHOD /path`' section for {missing}"


def test_every_documented_route_exists(openapi: dict[str, Any], api_md: str) -> None:
    served = {(method.upper(), path) for path, ops in openapi["paths"].items() for method in ops}
    served |= {("GET", openapi_url) for openapi_url in ("/v1/openapi.json", "/v1/docs")}
    extra = sorted(_heading_routes(api_md) - served)
    assert not extra, f"docs/api.md documents routes the service does not have: {extra}"


def _error_classes() -> list[type[errors.DeconflictionError]]:
    found: list[type[errors.DeconflictionError]] = []
    todo: list[type[errors.DeconflictionError]] = [errors.DeconflictionError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _code_table(text: str) -> dict[str, str]:
    """``| `code` | status | ...`` rows of the error-code table: code -> status column."""
    return dict(re.findall(r"^\| `([a-z_]+)` \| (\d+|\dxx) \|", text, flags=re.MULTILINE))


def test_every_error_code_is_documented_with_its_status(api_md: str) -> None:
    table = _code_table(api_md)
    classes = _error_classes()
    assert len(classes) >= 12
    for cls in classes:
        assert cls.code in table, f"{cls.__name__}.code {cls.code!r} is not in the error-code table of docs/api.md"
        assert table[cls.code] == str(cls.status), f"docs/api.md gives {cls.code} status {table[cls.code]}"


def _status_keys(node: ast.Dict) -> bool:
    return bool(node.keys) and all(
        isinstance(k, ast.Constant) and isinstance(k.value, int) and 400 <= k.value < 600 for k in node.keys
    )


def _problem_codes_in_api() -> set[str]:
    """Codes the HTTP layer produces itself: ``problem_response(status, "code", ...)`` calls and the
    status -> code mapping for framework errors."""
    codes = set()
    for path in (SRC / "api").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "problem_response"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
            ):
                codes.add(node.args[1].value)
            if isinstance(node, ast.Dict) and _status_keys(node):  # {404: "not_found"}, not {404: "a sentence"}
                codes |= {
                    v.value for v in node.values if isinstance(v, ast.Constant) and re.fullmatch(r"[a-z_]+", v.value)
                }
            if (  # {404: "not_found", ...}.get(status, "default")
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Dict)
                and _status_keys(node.func.value)
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
            ):
                codes.add(node.args[1].value)
    return codes


def test_http_level_codes_are_documented(api_md: str) -> None:
    codes = _problem_codes_in_api()
    assert {"not_found", "method_not_allowed", "http_error", "body_too_large", "internal_error"} <= codes
    table = _code_table(api_md)
    assert not sorted(codes - set(table)), "docs/api.md's error-code table misses HTTP-level codes"


def _field_error_codes() -> dict[str, str]:
    """Every constant code given to ``FieldError(field, code, ...)`` or ``InvalidInput.one(field, code, ...)``
    in code an API request can reach, and the pydantic mapping: code -> where."""
    codes: dict[str, str] = {}
    for path in API_REACHABLE:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in ("FieldError", "one") and isinstance(node.args[1], ast.Constant):
                codes[node.args[1].value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    for code, _ in problems._PYDANTIC_CODES.values():
        codes[code] = "api/problems.py"
    codes["invalid_value"] = "api/problems.py (every other schema error)"
    return codes


def test_every_field_error_code_is_documented(api_md: str) -> None:
    codes = _field_error_codes()
    assert len(codes) >= 25
    section = api_md[api_md.index("### Field errors") :]
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.MULTILINE))
    missing = {code: where for code, where in codes.items() if code not in documented}
    assert not missing, f"field-error codes missing from the 'Field errors' table of docs/api.md: {missing}"


def _defaults() -> dict[str, Any]:
    out: dict[str, Any] = {f"{ENV_PREFIX}{f.name.upper()}": getattr(Limits(), f.name) for f in fields(Limits)}
    base = Settings()
    for name in Settings.model_fields:
        if name != "limits":
            out[f"{ENV_PREFIX}{name.upper()}"] = getattr(base, name)
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def test_every_setting_is_documented_with_its_default(settings_md: str) -> None:
    names = Settings.documented_names()
    assert len(names) >= 14
    defaults = _defaults()
    rows = dict(re.findall(r"^\| `([A-Z0-9_]+)` \| ([^|]+) \|", settings_md, flags=re.MULTILINE))
    for name in names:
        assert name in rows, f"{name} is not documented in docs/settings.md"
        if name in defaults:
            assert rows[name].strip() == _shown(defaults[name]), f"docs/settings.md gives {name} default {rows[name]}"


def test_every_setting_the_code_reads_is_listed(settings_md: str) -> None:
    """``documented_names`` itself must not fall behind the code: every DECONFLICTION_ variable named in
    the source is in it."""
    named = set()
    for path in SRC.rglob("*.py"):
        named |= set(re.findall(r"\bDECONFLICTION_[A-Z0-9_]+", path.read_text(encoding="utf-8")))
    # DECONFLICTION_ alone is the prefix; _LIMIT_ENV builds the limit names from Limits' fields
    assert named <= set(Settings.documented_names()) | {"DECONFLICTION_"}, named - set(Settings.documented_names())
    assert set(_defaults()) == set(Settings.documented_names())


def test_documented_limits_match_the_settings_names(api_md: str) -> None:
    """Every DECONFLICTION_ variable docs/api.md mentions is a real setting."""
    mentioned = set(re.findall(r"\bDECONFLICTION_[A-Z0-9_]+", api_md))
    assert mentioned
    assert mentioned <= set(Settings.documented_names()), mentioned - set(Settings.documented_names())


def test_every_documented_setting_is_declared(settings_md: str) -> None:
    """The other way round: a row of docs/settings.md (outside "Tests only") names a declared setting."""
    served = settings_md[: settings_md.index("## Tests only")]
    rows = set(re.findall(r"^\| `(DECONFLICTION_[A-Z0-9_]+)` \|", served, flags=re.MULTILINE))
    assert len(rows) >= 14
    extra = sorted(rows - set(Settings.documented_names()))
    assert not extra, f"docs/settings.md documents settings that Settings does not declare: {extra}"


def test_every_setting_says_what_it_means() -> None:
    """Each field of Settings carries its docstring, starting with the variable it is read from."""
    for name, info in Settings.model_fields.items():
        assert info.description, f"Settings.{name} has no docstring"
        if name != "limits":
            assert info.description.startswith(f"{ENV_PREFIX}{name.upper()}"), (name, info.description)
