"""The SQL both backends share: portable statements, rows to domain objects and back.

A backend supplies a DB-API cursor and a ``Dialect`` (placeholder style and two type names); everything
else is in this package, so both backends run the same statements and the contract suite tests the same
code. One module per aggregate, each holding its repositories (``Sql<Name>``, implementing the protocol
of the same name in ``store/ports.py``) and the JSON of its domain objects:

    base           Dialect (SQLITE, POSTGRES), to_us/from_us, Repo (the cursor wrapper every repository is)
    parties        parties, party (signing) keys, client certificates, authentication failures
    units          units and their API keys
    operations     operations, volumes, their index rows, the candidate query; movements
    index          which index rows a candidate query reads (cell ranges, boxes, the statement)
    conflicts      conflict records
    notifications  notifications, on-call contacts, webhook endpoints, deliveries
    ledger         events (the hash chain)
    idempotency    stored responses of idempotent writes
    areas          zones, protected sites, deconfliction lines, and their box index
    requests       requests and answers
    hotline        threads, messages, language preferences
    incidents      incident reports
    exercise       deployment mode and the exercise clock
    transaction    SqlTransaction: every repository over one cursor (a new repository is added here)
    migrate        the migration runner (checksums, refusals)
    backfills      the data steps of migrations (what their SQL cannot do portably)

A new aggregate gets its own module here and one line in ``transaction.py``.
"""

from deconfliction.store.sql.base import POSTGRES, SQLITE, Dialect, Repo, from_us, to_us
from deconfliction.store.sql.migrate import MigrationError, apply_migrations, migration_scripts, statements
from deconfliction.store.sql.transaction import SqlTransaction

__all__ = [
    "POSTGRES",
    "SQLITE",
    "Dialect",
    "MigrationError",
    "Repo",
    "SqlTransaction",
    "apply_migrations",
    "from_us",
    "migration_scripts",
    "statements",
    "to_us",
]
