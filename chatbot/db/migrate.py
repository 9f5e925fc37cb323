"""Alembic driven from code, so `bankbot db upgrade` and the app need no alembic.ini.

Every process upgrades at start, so two may start at once: upgrades and downgrades run under a database-wide lock
(``chatbot.db.locks``), the second one waits and then finds the schema already at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from chatbot.db.locks import MIGRATE_LOCK_KEY, database_lock

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


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


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine)
