"""Alembic driven from code, so `bankbot db upgrade` and the app need no alembic.ini.

By default every process upgrades at start, so two may start at once: upgrades and downgrades run under a
database-wide lock (``chatbot.db.locks``), the second one waits and then finds the schema already at head. A cluster
sets ``migrate_on_start`` false and runs `bankbot db upgrade` once as a deploy step; its replicas then only check
the revision (``require_head``) and refuse to start on a schema they were not written for.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from chatbot.db.locks import MIGRATE_LOCK_KEY, database_lock
from chatbot.errors import BankbotError

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaNotAtHead(BankbotError):
    """The database is at another revision than the code's head and this process may not migrate it."""


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # env.py takes the live engine from here instead of a URL, so SQLite pragmas apply.
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    with database_lock(engine, MIGRATE_LOCK_KEY, "migrate"):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with database_lock(engine, MIGRATE_LOCK_KEY, "migrate"):
        command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def require_head(engine: Engine) -> None:
    """Raise SchemaNotAtHead (one line naming both revisions and the fix) unless the database is at head."""
    current, head = current_revision(engine), head_revision(engine)
    if current == head:
        return
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config(engine)).walk_revisions()}
    if current is not None and current not in known:
        # A newer release migrated the database; `db upgrade` from this code cannot fix that.
        raise SchemaNotAtHead(
            f"database at revision {current}, which this code does not know (its head is {head}): "
            "deploy the release that migrated it, or downgrade the database with that release"
        )
    raise SchemaNotAtHead(f"database at revision {current or 'none'}, code needs {head}: run `bankbot db upgrade`")


def prepare_at_start(engine: Engine, *, migrate_on_start: bool) -> None:
    """What a starting process does with the schema: upgrade it (one-box default) or only check it (cluster)."""
    if migrate_on_start:
        upgrade(engine)
    else:
        require_head(engine)
