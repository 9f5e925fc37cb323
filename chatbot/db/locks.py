"""Locks that serialise work across processes: a PostgreSQL advisory lock, or a file lock next to a SQLite database.

Several processes share one database (web servers, the nightly job, `bankbot` commands), possibly on several
machines with PostgreSQL, so a lock in one machine's file system cannot serialise them: PostgreSQL's advisory locks
can, and they are released by the server when the holder's connection ends (a killed process cannot leave one
behind). A SQLite database lives on one machine, where an ``fcntl`` lock beside the database file does the same
(the kernel releases it when the holder dies).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

# Fixed 63-bit keys, one per kind of work (the ASCII of a short name, so pg_locks shows something recognisable).
MIGRATE_LOCK_KEY = int.from_bytes(b"bbmigrat", "big")
NIGHTLY_LOCK_KEY = int.from_bytes(b"bbnightl", "big")
REGISTRY_LOCK_KEY = int.from_bytes(b"bbregist", "big")


class LockBusy(RuntimeError):
    """A non-blocking lock is held by someone else."""


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def sqlite_lock_path(engine: Engine, name: str) -> Path | None:
    """``<database file>.<name>.lock``; None for an in-memory database (one process only: nothing to serialise)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(f"{database}.{name}.lock")


@contextmanager
def advisory_lock(engine: Engine, key: int, *, wait: bool = True) -> Iterator[None]:
    """Hold PostgreSQL advisory lock ``key`` on a connection of its own for the duration of the block.

    ``wait`` False raises LockBusy at once when another session holds it."""
    with engine.connect() as conn:
        # Autocommit: the lock is a session lock, and no transaction should stay open for the whole block.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        elif not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            raise LockBusy(f"PostgreSQL advisory lock {key} is held by another session")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


@contextmanager
def file_lock(path: Path, *, wait: bool = True) -> Iterator[Any]:
    """An exclusive ``fcntl`` lock on ``path``; yields the open file (holders may write their pid into it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:  # closing the file (or the process dying) releases the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(f"{path} is locked by another process") from None
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def database_lock(engine: Engine, key: int, name: str, *, wait: bool = True) -> Iterator[None]:
    """The advisory lock ``key`` on PostgreSQL, the file lock ``<database>.<name>.lock`` on SQLite."""
    if is_postgres(engine):
        with advisory_lock(engine, key, wait=wait):
            yield
        return
    path = sqlite_lock_path(engine, name)
    if path is None:
        yield
        return
    with file_lock(path, wait=wait):
        yield


def lock_registry(session: Any) -> None:
    """Serialise the rest of ``session``'s transaction with every other promotion or rollback.

    PostgreSQL: a transaction-level advisory lock, released at commit or rollback. SQLite: a write statement that
    changes nothing takes the database's single write lock (waiting up to busy_timeout) and keeps it until the
    transaction ends, so what the caller reads next is current and no other writer interleaves."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REGISTRY_LOCK_KEY})
    else:
        session.execute(text("UPDATE model_version SET status = status WHERE 1 = 0"))
