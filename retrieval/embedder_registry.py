"""Which embedder serves: a fine-tuned one named by the production bundle, or the configured model.

The database says: the ``embedder_version`` row with status 'production' (at most one, a partial unique index)
names the version and its folder relative to the artifact root (``chatbot.artifacts``), so every replica, whatever
path it mounts the shared root at, and the nightly job on any host agree. The nightly job re-embeds the knowledge
base, the example index and the few-shot store into collections named after its candidate embedder and records the
row as a 'candidate' (``prepare_embedder``); the candidate bundle names it, and the bundle's promotion
(``finetune.registry.promote_version``) flips the row to production in the transaction that flips the bundle, so
no process pairs the new embedder with old vectors and a rollback brings the previous bundle's embedder back.
That promotion is the only way an embedder comes to serve (besides importing an older release's pointer, below).
When its bundle is rejected instead, its collections and folder are removed (``discard_embedder``).

Reads are cached for ``CACHE_SECONDS`` per database and artifact root: retrieval does not query the database on
every call, and a promotion made by another process is seen within that time (at once in the promoting process).
A ``data_dir/embedders/active.json`` pointer written by an older release is imported into the table the first time
it is read (then renamed ``active.json.imported``); before the schema has the table it is still read as it is.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
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


def embedder_of_version(settings: Settings, version: str | None, *, engine: Engine) -> ActiveEmbedder | None:
    """The embedder ``version`` (an ``embedder_version`` row) with its folder on this host; None for None (the
    configured embedder). BankbotError when there is no such row or its folder is not here."""
    from sqlmodel import Session

    from chatbot.artifacts import resolve_artifact
    from chatbot.db import crud
    from chatbot.errors import BankbotError

    if version is None:
        return None
    with Session(engine) as session:
        row = crud.get_embedder_version(session=session, version=version)
        ref = row.path if row is not None else None
    if ref is None:
        raise BankbotError(f"no embedder version {version!r}")
    found = ActiveEmbedder(version=version, ref=ref, path=resolve_artifact(settings, ref))
    if not found.path.is_dir():
        raise BankbotError(f"embedder {version}: folder {found.path} is missing on this host")
    return found


def embed_collections(
    settings: Settings, model_dir: Path, *, source_version: str | None, client: Any = None
) -> tuple[str, str]:
    """Re-embed with ``model_dir`` every entry of the knowledge base, example index and few-shot collections of the
    embedder ``source_version`` (None: the configured one) into the collections named after ``model_dir``'s
    version, every snapshot's entries included, so each bundle reads the same entries with the new vectors.

    ``model_dir`` must lie under the artifact root (checked before anything is re-embedded). Returns (version, its
    folder as stored: relative to the artifact root)."""
    from chatbot.artifacts import to_artifact_ref
    from chatbot.model_loading import load_embedder
    from retrieval.chroma_collections import (
        chroma_client,
        copy_collection,
        embedder_collections,
        versioned_collection_name,
    )

    ref = to_artifact_ref(settings, model_dir)
    version = model_dir.name
    client = client if client is not None else chroma_client(settings)
    new_model = load_embedder(settings, str(model_dir))
    old = embedder_collections(versioned_collection_name(settings, source_version))
    new = embedder_collections(versioned_collection_name(settings, version))
    for source, target in zip(old, new, strict=True):
        copy_collection(client, source, target, new_model)
    return version, ref


def prepare_embedder(
    settings: Settings,
    model_dir: Path,
    *,
    source_version: str | None,
    metrics: dict[str, Any] | None = None,
    engine: Engine,
    client: Any = None,
) -> str:
    """Re-embed the collections of ``source_version`` for ``model_dir`` (``embed_collections``) and record it as a
    'candidate' embedder_version row: a candidate bundle may name it, and its promotion
    (``finetune.registry.promote_version``) makes it production. Nothing serving changes. Returns the version."""
    from sqlmodel import Session

    from chatbot.db import crud

    version, ref = embed_collections(settings, model_dir, source_version=source_version, client=client)
    with Session(engine) as session:
        crud.add_candidate_embedder(session=session, version=version, path=ref, metrics=metrics or {})
        session.commit()
    return version


def discard_embedder(settings: Settings, version: str, ref: str, *, client: Any = None) -> list[str]:
    """Remove what ``prepare_embedder`` made for the embedder ``version`` once nothing may serve it (its row is the
    caller's: ``finetune.registry`` retires it in the transaction that rejects the last bundle naming it): its
    knowledge base, example index and few-shot collections, and its folder ``ref`` when that lies under the artifact
    root and is named after the version (anything else is left in place). A failure is logged in one line and the
    rest goes on: the row's status is what counts. Returns what was removed (collections, then the folder)."""
    from chatbot.artifacts import artifact_root, relative_under, resolve_artifact
    from retrieval.chroma_collections import (
        chroma_client,
        delete_collections,
        embedder_collections,
        versioned_collection_name,
    )

    if not version:
        raise ValueError("no embedder version: the configured embedder's collections are never discarded")
    removed: list[str] = []
    try:
        client = client if client is not None else chroma_client(settings)
        removed += delete_collections(client, embedder_collections(versioned_collection_name(settings, version)))
    except Exception as exc:  # chromadb raises plain ValueError/ConnectError variants; the night goes on
        log.warning("embedder %s: could not delete its collections, left behind: %s", version, _one_line(exc))
    try:
        folder = resolve_artifact(settings, ref)
        if folder.name != version or relative_under(artifact_root(settings), folder) is None:
            log.warning("embedder %s: folder %s is not its own under the artifact root; left in place", version, folder)
        elif folder.is_symlink() or folder.is_file():
            folder.unlink()
            removed.append(str(folder))
        elif folder.is_dir():
            shutil.rmtree(folder)
            removed.append(str(folder))
    except Exception as exc:  # permissions, a busy network volume, a bad reference: logged, not raised
        log.warning("embedder %s: could not remove its folder %s: %s", version, ref, _one_line(exc))
    return removed


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
