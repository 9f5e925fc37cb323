"""Which embedder is active: a fine-tuned one promoted by the nightly job, or the configured model.

The database says: the ``embedder_version`` row with status 'production' (at most one, a partial unique index)
names the version and its folder relative to the artifact root (``chatbot.artifacts``), so every replica, whatever
path it mounts the shared root at, and the nightly job on any host agree. Promotion first re-embeds the knowledge
base and the example index into collections named after the new version, and only then flips the row in one
transaction, so no process pairs the new embedder with old vectors.

Reads are cached for ``CACHE_SECONDS`` per database and artifact root: retrieval does not query the database on
every call, and a promotion made by another process is seen within that time (at once in the promoting process).
A ``data_dir/embedders/active.json`` pointer written by an older release is imported into the table the first time
it is read (then renamed ``active.json.imported``); before the schema has the table it is still read as it is.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)
CACHE_SECONDS = 5.0
IMPORTED_SUFFIX = ".imported"


@dataclass(frozen=True)
class ActiveEmbedder:
    version: str
    ref: str  # as stored: relative to the artifact root (absolute when imported from outside it)
    path: Path  # the folder on this host


_cache: dict[tuple[str, str], tuple[float, ActiveEmbedder | None]] = {}
_cache_lock = threading.Lock()


def legacy_pointer_file(settings: Settings) -> Path:
    return settings.data_dir / "embedders" / "active.json"


def active_embedder(settings: Settings, *, engine: Engine | None = None) -> str | None:
    """Folder of the promoted fine-tuned embedder, or None when the configured model is in use."""
    found = current_embedder(settings, engine=engine)
    return str(found.path) if found else None


def active_embedder_version(settings: Settings, *, engine: Engine | None = None) -> str | None:
    found = current_embedder(settings, engine=engine)
    return found.version if found else None


def current_embedder(settings: Settings, *, engine: Engine | None = None) -> ActiveEmbedder | None:
    """The production embedder whose folder exists on this host (None: the configured one), cached briefly.

    ``engine``: the database to read (default: one opened from the settings' database URL for this read)."""
    from chatbot.artifacts import artifact_root

    url = engine.url.render_as_string(hide_password=False) if engine is not None else settings.effective_database_url
    key = (url, str(artifact_root(settings)))
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    found = _read_or_keep(settings, engine, cached[1] if cached is not None else None)
    with _cache_lock:
        _cache[key] = (now + CACHE_SECONDS, found)
    return found


def forget_cached() -> None:
    """Drop cached reads (a promotion in this process is visible at once)."""
    with _cache_lock:
        _cache.clear()


def _read_or_keep(settings: Settings, engine: Engine | None, known: ActiveEmbedder | None) -> ActiveEmbedder | None:
    from chatbot.errors import DatabaseUnavailable

    try:
        with _database(settings, engine) as bound:
            row = _read_row(settings, bound) if bound is not None else _legacy_row(settings)
    except DatabaseUnavailable as exc:  # the chat starts without the database; the next read corrects it
        log.warning("cannot read the active embedder (%s); keeping %s", exc, known.version if known else "none")
        return known
    if row is None:
        return None
    version, ref = row
    found = _resolved(settings, version, ref)
    if found is not None and not found.path.is_dir():
        if known is None or known.version != version:
            log.warning("embedder %s: folder %s is missing on this host; using the configured one", version, found.path)
        return None
    return found


def _resolved(settings: Settings, version: str, ref: str) -> ActiveEmbedder | None:
    from chatbot.artifacts import ArtifactPathError, resolve_artifact

    try:
        return ActiveEmbedder(version=version, ref=ref, path=resolve_artifact(settings, ref))
    except ArtifactPathError as exc:
        log.warning("embedder %s: %s; using the configured one", version, exc)
        return None


@contextmanager
def _database(settings: Settings, engine: Engine | None) -> Iterator[Engine | None]:
    """The engine to read (None: no database file yet, nothing promoted); one opened here is disposed after."""
    from sqlalchemy.engine import make_url

    from chatbot.db.engine import make_engine

    if engine is not None:
        yield engine
        return
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        yield None  # reading must not create an empty database file
        return
    own = make_engine(settings.effective_database_url)
    try:
        yield own
    finally:
        own.dispose()


def _read_row(settings: Settings, engine: Engine) -> tuple[str, str] | None:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from chatbot.db import crud
    from chatbot.db.engine import check_connection

    try:
        if not inspect(engine).has_table("embedder_version"):  # schema older than 0007: the old pointer still rules
            return _legacy_row(settings)
        if legacy_pointer_file(settings).is_file():
            import_legacy_pointer(settings, engine)
        with Session(engine) as session:
            row = crud.production_embedder(session=session)
            return (row.version, row.path) if row is not None else None
    except SQLAlchemyError:
        check_connection(engine)  # raises DatabaseUnavailable with one line when the database does not answer
        raise


def _legacy_pointer(settings: Settings) -> dict[str, Any] | None:
    pointer = legacy_pointer_file(settings)
    if not pointer.is_file():
        return None
    data = json.loads(pointer.read_text())
    return data if isinstance(data, dict) and data.get("path") else None


def _legacy_row(settings: Settings) -> tuple[str, str] | None:
    data = _legacy_pointer(settings)
    if data is None:
        return None
    return str(data.get("version") or Path(str(data["path"])).name), str(data["path"])


def import_legacy_pointer(settings: Settings, engine: Engine) -> str | None:
    """Move an older release's ``active.json`` into the table (once), then rename it ``active.json.imported``.

    A production row already in the table wins (another host imported or promoted first). Returns the imported
    version, or None when nothing was imported."""
    from sqlalchemy.exc import IntegrityError
    from sqlmodel import Session

    from chatbot.artifacts import artifact_root, relative_under
    from chatbot.db import crud
    from chatbot.db.locks import lock_registry

    data = _legacy_pointer(settings)
    imported = None
    if data is not None:
        version, path = str(data.get("version") or Path(str(data["path"])).name), str(data["path"])
        ref = relative_under(artifact_root(settings), path) or path  # outside the root: kept absolute
        metrics: dict[str, Any] = data["metrics"] if isinstance(data.get("metrics"), dict) else {}
        with Session(engine) as session:
            try:
                lock_registry(session)
                if crud.production_embedder(session=session) is None:
                    crud.set_production_embedder(session=session, version=version, path=ref, metrics=metrics)
                    imported = version
                session.commit()
            except IntegrityError:  # another process imported or promoted at the same moment: its row wins
                session.rollback()
                imported = None
    pointer = legacy_pointer_file(settings)
    try:
        os.replace(pointer, pointer.with_name(pointer.name + IMPORTED_SUFFIX))
    except FileNotFoundError:  # another process on this host renamed it first
        pass
    except OSError as exc:  # read-only data dir: harmless, the table already rules; the import is retried
        log.warning("cannot rename %s after importing it: %s", pointer, exc)
    if imported:
        log.info("imported the active embedder %s from %s", imported, pointer)
    return imported


def promote_embedder(
    settings: Settings, model_dir: Path, *, metrics: dict[str, Any] | None = None, engine: Engine | None = None
) -> str:
    """Re-embed the active KB and example collections with ``model_dir`` and make it the active embedder.

    ``model_dir`` must lie under the artifact root (checked before anything is re-embedded). Returns the new version.
    Call it only after the retrieval eval showed the new embedder is better."""
    from sqlmodel import Session

    from chatbot.artifacts import to_artifact_ref
    from chatbot.db import crud
    from chatbot.db.engine import make_engine
    from chatbot.db.locks import lock_registry
    from chatbot.model_loading import load_embedder
    from retrieval.chroma_collections import (
        chroma_client,
        copy_collection,
        examples_collection_name,
        versioned_collection_name,
    )

    ref = to_artifact_ref(settings, model_dir)
    version = model_dir.name
    client = chroma_client(settings)
    new_model = load_embedder(settings, str(model_dir))
    old_kb = versioned_collection_name(settings, active_embedder_version(settings))
    new_kb = versioned_collection_name(settings, version)
    copy_collection(client, old_kb, new_kb, new_model)
    copy_collection(client, examples_collection_name(old_kb), examples_collection_name(new_kb), new_model)
    bound = engine if engine is not None else make_engine(settings.effective_database_url)
    try:
        with Session(bound) as session:
            lock_registry(session)  # serialised with other promotions; the unique index is the backstop
            crud.set_production_embedder(session=session, version=version, path=ref, metrics=metrics or {})
            session.commit()
    finally:
        if engine is None:
            bound.dispose()
    forget_cached()
    return version
