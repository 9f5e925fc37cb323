"""Rejecting what a night left unfinished and discarding embedders nothing may serve.

A rejected bundle (by its gate, or unfinished when its run failed or its process died) leaves no candidate embedder
behind: one that no bundle but rejected ones names is retired and marked ``DISCARDED`` in the transaction that
rejects the bundle, then its collections and folder are removed (``retrieval.embedder_registry.discard_embedder``).
Production and retired embedders are never touched: a rollback or a hand promotion may bring them back.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase

log = logging.getLogger(__name__)
DISCARDED = "discarded"  # embedder_version.metrics key: why and when a rejected bundle's embedder was discarded


def reject_unfinished_candidates(app: AppDatabase, run_id: uuid.UUID, *, reason: str) -> None:
    """A run that failed after recording its candidate leaves no 'candidate' behind: it becomes rejected, and its
    embedder is discarded when no other bundle but rejected ones names it. Never raises for the clean-up."""
    from sqlmodel import select

    from chatbot.db.locks import lock_registry
    from chatbot.db.models import ModelStatus, ModelVersion

    with app.session() as session:
        lock_registry(session)  # before any write: serialised with a promotion naming the same embedder
        rows = session.exec(
            select(ModelVersion)
            .where(ModelVersion.training_run_id == run_id)
            .where(ModelVersion.status == ModelStatus.candidate)
        ).all()
        for row in rows:
            row.status = ModelStatus.rejected
            row.decision = reason
            session.add(row)
        names = [row.embedder_version for row in rows]
        why = f"bundle {', '.join(row.version for row in rows)} rejected unfinished"
        discarded = retire_unnamed_embedders(session, names, why=why)
        session.commit()
    remove_discarded(app, discarded)


def retire_unnamed_embedders(session: Any, names: Iterable[str | None], *, why: str) -> list[tuple[str, str]]:
    """In the caller's transaction (serialised by ``lock_registry``, its bundles already marked rejected): each
    'candidate' embedder of ``names`` that no bundle names but rejected ones (not a candidate still in progress, not
    production, not a retired bundle a rollback or a promotion may bring back) is retired and marked ``DISCARDED``
    with ``why``. Production and retired embedders are never touched. Returns (version, folder reference) of each,
    for ``remove_discarded`` once the transaction is committed."""
    from sqlmodel import select

    from chatbot.db import crud
    from chatbot.db.models import EmbedderStatus, ModelStatus, ModelVersion, utcnow

    session.flush()
    discarded = []
    for name in dict.fromkeys(name for name in names if name):
        row = crud.get_embedder_version(session=session, version=name)
        if row is None or row.status != EmbedderStatus.candidate:
            continue
        named_by = session.exec(
            select(ModelVersion.version)
            .where(ModelVersion.embedder_version == name)
            .where(ModelVersion.status != ModelStatus.rejected)
        ).first()
        if named_by is not None:
            continue
        row.status = EmbedderStatus.retired
        row.metrics = {**(row.metrics or {}), DISCARDED: {"why": why, "at": utcnow().isoformat()}}
        session.add(row)
        discarded.append((row.version, row.path))
    session.flush()
    return discarded


def remove_discarded(app: AppDatabase, discarded: Sequence[tuple[str, str]]) -> None:
    """Delete the collections and folder of each discarded embedder; a failure is logged, never raised (the row,
    already retired, is what counts: nothing serves or promotes it)."""
    from retrieval.embedder_registry import discard_embedder

    for version, ref in discarded:
        removed = discard_embedder(app.settings, version, ref)
        log.info("discarded embedder %s (named by rejected bundles only): removed %s", version, removed or "nothing")


def reject_dead_runs(app: AppDatabase, run_ids: Iterable[str]) -> None:
    """Called by the nightly job holding its lock, so no night is in progress: the candidate bundles of runs whose
    process died (``finetune.training_runs.fail_stale_runs``) are rejected, and every candidate embedder that no
    bundle but rejected ones names is discarded: one a killed night prepared before its bundle named it, or one
    left by a version of the job that did not clean up. Removing folders and collections logs a failure, never
    raises."""
    from sqlmodel import select

    from chatbot.db.locks import lock_registry
    from chatbot.db.models import EmbedderStatus, EmbedderVersion

    for run_id in run_ids:
        reject_unfinished_candidates(app, uuid.UUID(run_id), reason="run failed: its process died")
    with app.session() as session:
        lock_registry(session)
        names = session.exec(
            select(EmbedderVersion.version).where(EmbedderVersion.status == EmbedderStatus.candidate)
        ).all()
        discarded = retire_unnamed_embedders(session, names, why="left by a night that did not finish")
        session.commit()
    remove_discarded(app, discarded)
