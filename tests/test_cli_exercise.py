"""The console on an exercise database: commands honour the exercise settings, refuse the database
without them (naming the setting), and the ledger they export says exercise and verifies."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from deconfliction.cli import app

runner = CliRunner()
EXERCISE = {"DECONFLICTION_EXERCISE_START": "2016-09-17T13:30:00Z", "DECONFLICTION_EXERCISE_SPEED": "10"}


def test_commands_on_an_exercise_database(tmp_path: Path) -> None:
    db = {"DECONFLICTION_DATABASE_URL": f"sqlite:///{tmp_path / 'exercise.db'}"}
    made = runner.invoke(app, ["party", "add", "Coordination Cell", "--role", "coordinator"], env={**db, **EXERCISE})
    assert made.exit_code == 0, made.output
    refused = runner.invoke(app, ["party", "add", "North Force"], env=db, terminal_width=400)
    assert refused.exit_code == 2
    said = " ".join(refused.output.split())
    assert "holds an exercise" in said and "DECONFLICTION_EXERCISE_START=2016-09-17T13:30:00Z" in said
    assert "DECONFLICTION_EXERCISE_SPEED=10" in said
    other = runner.invoke(
        app, ["party", "add", "North Force"], env={**db, **EXERCISE, "DECONFLICTION_EXERCISE_SPEED": "60"}
    )
    assert other.exit_code == 2 and "DECONFLICTION_EXERCISE_SPEED=60" in " ".join(other.output.split())
    bad = runner.invoke(
        app, ["party", "add", "North Force"], env={**db, **EXERCISE, "DECONFLICTION_EXERCISE_SPEED": "0"}
    )
    assert bad.exit_code != 0
    export = tmp_path / "ledger.jsonl"
    done = runner.invoke(app, ["ledger", "export", "-o", str(export)], env={**db, **EXERCISE})
    assert done.exit_code == 0, done.output
    checked = runner.invoke(app, ["ledger", "verify", str(export)], terminal_width=400)
    assert checked.exit_code == 0, checked.output
    assert "EXERCISE: 2 entries are marked exercise" in checked.output  # exercise.started, party.created
    replayed = runner.invoke(app, ["replay"], env={**db, **EXERCISE}, terminal_width=400)
    assert replayed.exit_code == 0 and "EXERCISE" in replayed.output


def test_a_live_database_refuses_an_exercise_command(tmp_path: Path) -> None:
    db = {"DECONFLICTION_DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}"}
    assert runner.invoke(app, ["party", "add", "Coordination Cell", "--role", "coordinator"], env=db).exit_code == 0
    refused = runner.invoke(app, ["party", "add", "North Force"], env={**db, **EXERCISE}, terminal_width=400)
    assert refused.exit_code == 2
    assert "DECONFLICTION_EXERCISE_START is set, but this database holds live data" in " ".join(refused.output.split())
