"""The migration runner: the plain SQL files of ``store/migrations/``, applied once each, in order,
recorded with a checksum (docs/storage.md).

* **Files.** ``NNNN_name.sql``, picked up by their number; two files with one number are refused. A
  file holds portable SQL; ``{blob}`` and ``{without_rowid}`` are filled per backend. Statements are
  split by ``sqlparse`` (quotes, comments and trigger bodies do not end a statement).
* **Record.** ``schema_migrations`` keeps each applied migration's number, name, time and checksum: the
  SHA-256 of its statements as written, comments and blank space left out (so a comment may be edited;
  a statement may not). A database created before checksums were recorded gets them, from the files, the
  first time this runner opens it.
* **Refusals.** An applied migration whose statements changed, or one the database has and the files do
  not (a database written by a newer version), stops the start with ``MigrationError`` naming the file.
* **Data steps.** What SQL cannot do portably runs as a Python step registered for its migration
  (``store/sql/backfills.py``), right after that migration's SQL.
* **Concurrency.** The caller runs this inside one transaction holding the backend's start lock
  (PostgreSQL: an advisory lock; SQLite: the writer's file lock and ``BEGIN IMMEDIATE``), so processes
  starting together apply each migration once, and a migration that fails leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import sqlparse

from deconfliction.store.sql.backfills import STEPS
from deconfliction.store.sql.base import Dialect, Repo, to_us

TABLE = "schema_migrations"


class MigrationError(RuntimeError):
    """The database and the migrations shipped with this version disagree; nothing was changed."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    """The file name, ``NNNN_name.sql``."""
    text: str

    @property
    def stem(self) -> str:
        return self.name.removesuffix(".sql")

    @property
    def checksum(self) -> str:
        return checksum(self.text)

    def statements(self, dialect: Dialect) -> list[str]:
        return statements(self.text, dialect)


def split(script: str) -> list[str]:
    """The statements of a script, comments and surrounding blank space removed, as written (with the
    ``{blob}`` and ``{without_rowid}`` marks)."""
    out = []
    for stmt in sqlparse.split(script, strip_semicolon=True):
        text = sqlparse.format(stmt, strip_comments=True).strip().removesuffix(";").rstrip()
        if text:
            out.append(text)
    return out


def checksum(script: str) -> str:
    """What is compared to detect a changed migration: the same for a script whose comments or blank
    space changed, different as soon as a statement did."""
    return hashlib.sha256("\n;\n".join(split(script)).encode()).hexdigest()


def statements(script: str, dialect: Dialect) -> list[str]:
    """A migration's statements, with the backend's type names filled in."""
    return [s.replace("{blob}", dialect.blob).replace("{without_rowid}", dialect.without_rowid) for s in split(script)]


def load(folder: Traversable) -> tuple[Migration, ...]:
    """The migrations in a folder, in order of number."""
    found: dict[int, Migration] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        number, sep, _ = entry.name.partition("_")
        if not (sep and number.isdigit()):
            raise MigrationError(f"migration file {entry.name}: the name must be NNNN_name.sql")
        version = int(number)
        if version in found:
            raise MigrationError(f"migrations {found[version].name} and {entry.name} share the number {version}")
        found[version] = Migration(version, entry.name, entry.read_text(encoding="utf-8"))
    return tuple(found[v] for v in sorted(found))


@lru_cache(maxsize=1)
def shipped() -> tuple[Migration, ...]:
    """Every migration shipped with the package (``store/migrations/``), in order of number."""
    found = load(resources.files("deconfliction.store") / "migrations")
    unknown = set(STEPS) - {m.stem for m in found}
    if unknown:
        raise MigrationError(f"data steps registered for migrations that do not exist: {sorted(unknown)}")
    return found


def migration_scripts() -> list[tuple[int, str, str]]:
    """(version, name, text) of every migration shipped with the package, in order."""
    return [(m.version, m.name, m.text) for m in shipped()]


def _columns(cur: Any, table: str) -> set[str]:
    cur.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    cur.fetchall()
    return {d[0] for d in cur.description}


def _applied(cur: Any, dialect: Dialect, migrations: Sequence[Migration]) -> dict[int, tuple[str, str]]:
    """version -> (name, checksum) of what the database has, bringing the record up to date first."""
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at BIGINT NOT NULL, checksum TEXT)"
    )
    if "checksum" not in _columns(cur, TABLE):  # written by the runner before checksums
        cur.execute(f"ALTER TABLE {TABLE} ADD COLUMN checksum TEXT")
    cur.execute(f"SELECT version, name, checksum FROM {TABLE} ORDER BY version")
    rows = cur.fetchall()
    files = {m.version: m for m in migrations}
    out = {}
    for r in rows:
        version, name, recorded = int(r["version"]), str(r["name"]), r["checksum"]
        if recorded is None and version in files:  # trust on first use: the files as they are now
            recorded = files[version].checksum
            cur.execute(dialect.q(f"UPDATE {TABLE} SET checksum = ? WHERE version = ?"), (recorded, version))
        out[version] = (name, str(recorded))
    return out


def check(cur: Any, dialect: Dialect, migrations: Sequence[Migration] | None = None) -> list[Migration]:
    """The migrations still to apply (of ``migrations``, by default those shipped); raises
    ``MigrationError`` when the database and the files disagree about what was applied."""
    migrations = shipped() if migrations is None else migrations
    applied = _applied(cur, dialect, migrations)
    files = {m.version: m for m in migrations}
    for version, (name, recorded) in applied.items():
        m = files.get(version)
        if m is None:
            raise MigrationError(
                f"the database has migration {name}, which this version of deconfliction does not ship: it was "
                "written by a newer version; run that version (or restore a backup taken before it)"
            )
        if m.checksum != recorded:
            raise MigrationError(
                f"migration {m.name} was changed after it was applied to this database (checksum then "
                f"{recorded[:12]}, now {m.checksum[:12]}): a changed migration would not change the database. "
                f"Restore {m.name} as it was and put the change in a new migration."
            )
    return [m for m in migrations if m.version not in applied]


def apply_migrations(cur: Any, dialect: Dialect, migrations: Sequence[Migration] | None = None) -> list[int]:
    """Apply the missing migrations (by default those shipped) through ``cur``, inside the caller's
    transaction and under its start lock; returns their numbers."""
    done = []
    for m in check(cur, dialect, migrations):
        for stmt in m.statements(dialect):
            cur.execute(stmt)
        step = STEPS.get(m.stem)
        if step is not None:
            step(cur, dialect)
        cur.execute(
            dialect.q(f"INSERT INTO {TABLE} (version, name, applied_at, checksum) VALUES (?, ?, ?, ?)"),
            (m.version, m.name, to_us(datetime.now(UTC)), m.checksum),
        )
        done.append(m.version)
    return done


class SqlSchema(Repo):
    def pending(self) -> list[str]:
        done = {int(r["version"]) for r in self._exec(f"SELECT version FROM {TABLE}").fetchall()}
        return [m.name for m in shipped() if m.version not in done]
