"""Settings are declared once (``Settings``' fields) and every bad value is refused at start, naming its
variable, its value and the reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deconfliction.cli import app
from deconfliction.domain.limits import Limits
from deconfliction.settings import Settings


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("DECONFLICTION_PORT", "80x", "valid integer"),
        ("DECONFLICTION_PORT", "70000", "65535"),
        ("DECONFLICTION_PORT", "0", "greater than or equal to 1"),
        ("DECONFLICTION_SMTP_PORT", "smtp", "valid integer"),
        ("DECONFLICTION_DATABASE_URL", "mysql://db/x", "sqlite:///"),
        ("DECONFLICTION_SQLITE_SYNCHRONOUS", "OFF", "FULL"),
        ("DECONFLICTION_LOG_FORMAT", "xml", "'text' or 'json'"),
        ("DECONFLICTION_LOG_LEVEL", "loud", "DEBUG"),
        ("DECONFLICTION_ACCESS_LOG", "perhaps", "boolean"),
        ("DECONFLICTION_TACTICAL_CYCLE_S", "-1", "greater than or equal to 0"),
        ("DECONFLICTION_TRACK_EXPIRY_S", "nan", "finite"),
        ("DECONFLICTION_MAX_VERTICES", "many", "valid integer"),
        ("DECONFLICTION_MAX_VERTICES", "0", "above 0"),
        ("DECONFLICTION_MAX_AREA_KM2", "inf", "finite"),
        ("DECONFLICTION_AUTH_FAILURES_MAX", "-5", "above 0"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(name: str, value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=name) as refused:
        Settings.from_env({name: value})
    assert reason in str(refused.value)


def test_every_bad_variable_is_named_at_once() -> None:
    with pytest.raises(ValueError, match="DECONFLICTION_PORT") as refused:
        Settings.from_env(
            {"DECONFLICTION_PORT": "x", "DECONFLICTION_LOG_FORMAT": "xml", "DECONFLICTION_MAX_VOLUMES": "y"}
        )
    message = str(refused.value)
    for name in ("DECONFLICTION_PORT='x'", "DECONFLICTION_LOG_FORMAT='xml'", "DECONFLICTION_MAX_VOLUMES='y'"):
        assert name in message


def test_limits_that_contradict_each_other_are_refused() -> None:
    with pytest.raises(ValueError, match="DECONFLICTION_MIN_ALTITUDE_M must be below DECONFLICTION_MAX_ALTITUDE_M"):
        Settings.from_env({"DECONFLICTION_MIN_ALTITUDE_M": "5000", "DECONFLICTION_MAX_ALTITUDE_M": "100"})


def test_good_values_are_read_with_their_types() -> None:
    s = Settings.from_env(
        {
            "DECONFLICTION_PORT": "8443",
            "DECONFLICTION_LOG_LEVEL": "debug",
            "DECONFLICTION_LOG_FORMAT": "json",
            "DECONFLICTION_ACCESS_LOG": "false",
            "DECONFLICTION_MAX_VERTICES": "30",
            "DECONFLICTION_MAX_AREA_KM2": "12.5",
            "DECONFLICTION_SMTP_HOST": "",
            "DECONFLICTION_SQLITE_SYNCHRONOUS": "normal",
            "OTHER_VARIABLE": "ignored",
        }
    )
    assert (s.port, s.log_level, s.log_format, s.access_log) == (8443, "DEBUG", "json", False)
    assert s.limits == Limits(max_vertices=30, max_area_km2=12.5)
    assert s.smtp_host is None  # empty is unset
    assert Settings.from_env({"DECONFLICTION_PORT": " ", "DECONFLICTION_EXERCISE_SPEED": ""}) == Settings()
    assert s.sqlite_synchronous == "NORMAL"
    assert Settings.from_env({}) == Settings()


def test_a_variable_per_field_and_nothing_else() -> None:
    names = Settings.documented_names()
    assert "DECONFLICTION_PORT" in names and "DECONFLICTION_MAX_VERTICES" in names
    assert "DECONFLICTION_LIMITS" not in names
    assert len(names) == len(Settings.model_fields) - 1 + len(Limits.__dataclass_fields__)


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValueError, match="frozen"):
        s.port = 1  # type: ignore[misc]


def test_the_cli_refuses_a_bad_port_naming_it() -> None:
    result = CliRunner().invoke(app, ["serve"], env={"DECONFLICTION_PORT": "eighty"})
    assert result.exit_code == 2
    assert "DECONFLICTION_PORT='eighty'" in result.output


def test_serve_refuses_a_bad_value_before_it_starts() -> None:
    """The real command, in its own process: it stops at once, names the variable, serves nothing."""
    env = {**os.environ, "DECONFLICTION_LOG_LEVEL": "chatty", "DECONFLICTION_DATABASE_URL": "sqlite:///unused.db"}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "deconflict"), "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "DECONFLICTION_LOG_LEVEL='chatty'" in done.stderr
