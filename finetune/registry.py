"""Writing the model registry: record a candidate bundle and its lineage, promote, roll back (training runs:
``finetune.training_runs``).

A model version is a bundle (``finetune.bundle``): adapter, embedder, few-shot/example-index snapshot,
calibration, abstention threshold and lineage, promoted, rejected or rolled back as a whole: promotion and rollback
set the production embedder (table ``embedder_version``) to the bundle's in the transaction that flips the bundle.
The database (``ModelVersion``, ``EmbedderVersion``, ``BundleTurn``, ``TrainingRun``) is the single source of
truth. Reading it (what is in production, a version, its
lineage, ``RegistryError``) is ``chatbot.registry``, in the services layer, so serving never imports training code.

A rejected bundle leaves no candidate embedder behind (``finetune.discard``). A rejected bundle whose embedder was
discarded cannot be promoted by hand; one that names a kept embedder still can.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.registry import RegistryError, adapter_dir, production_embedder_row, production_row, version_row
from finetune.discard import DISCARDED, remove_discarded, retire_unnamed_embedders

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase


def record_candidate(
    app: AppDatabase,
    *,
    version: str,
    adapter_path: Path | None,
    base_model: str,
    data_hash: str,
    run_id: uuid.UUID,
    new_index_snapshot: bool = False,
    lineage: Sequence[str] = (),
) -> int:
    """Record a candidate bundle with the turns it learned from; returns the index snapshot it reads: a new,
    never used number to write its entries under, or (``new_index_snapshot`` False) production's. It names the
    production embedder until the night gives it its own (``record_embedder``).

    ``adapter_path`` must lie under the artifact root (``chatbot.artifacts.ArtifactPathError`` otherwise): the row
    stores it relative to the root, so every replica finds it wherever it mounts the root."""
    from chatbot.artifacts import to_artifact_ref
    from chatbot.db import crud
    from chatbot.db.models import LineageRole, ModelStatus, ModelVersionCreate

    ref = to_artifact_ref(app.settings, adapter_path) if adapter_path is not None else None
    with app.session() as session:
        production = production_row(session)
        embedder = production_embedder_row(session)
        if new_index_snapshot:
            snapshot = crud.next_index_snapshot(session=session)
        else:
            snapshot = production.index_snapshot if production is not None else 0
        row = crud.create_model_version(
            session=session,
            model_create=ModelVersionCreate(
                version=version,
                adapter_path=ref,
                base_model=base_model,
                training_data_hash=data_hash,
                training_run_id=run_id,
                index_snapshot=snapshot,
                embedder_version=embedder.version if embedder is not None else None,
            ),
            status=ModelStatus.candidate,
        )
        crud.set_lineage(session=session, bundle_id=row.id, role=LineageRole.example, turn_ids=lineage)
        session.commit()
        return snapshot


def record_calibration(
    app: AppDatabase, version: str, *, calibration_id: uuid.UUID, summary: dict[str, Any], turn_ids: Sequence[str]
) -> None:
    """The candidate's calibration and the reviewed turns it was fitted on."""
    from chatbot.db import crud
    from chatbot.db.models import LineageRole

    with app.session() as session:
        row = version_row(session, version)
        row.calibration_id = calibration_id
        row.eval_metrics = {**(row.eval_metrics or {}), "calibration_fit": summary}
        session.add(row)
        crud.set_lineage(session=session, bundle_id=row.id, role=LineageRole.calibration, turn_ids=turn_ids)
        session.commit()


def record_embedder(app: AppDatabase, version: str, *, embedder_version: str, summary: dict[str, Any]) -> None:
    """The candidate bundle retrieves with the candidate embedder ``embedder_version`` (a row the night prepared:
    ``retrieval.embedder_registry.prepare_embedder``), and keeps the retrieval comparison that chose it."""
    with app.session() as session:
        row = version_row(session, version)
        row.embedder_version = embedder_version
        row.eval_metrics = {**(row.eval_metrics or {}), "embedder": summary}
        session.add(row)
        session.commit()


def record_gate(app: AppDatabase, version: str, *, promote: bool, decision: str, metrics: dict[str, Any]) -> None:
    """Store the gate's metrics and reason, then promote or mark the candidate rejected (and discard its embedder
    when no other bundle but rejected ones names it: ``finetune.discard``)."""
    from chatbot.db.locks import lock_registry
    from chatbot.db.models import ModelStatus

    discarded: list[tuple[str, str]] = []
    with app.session() as session:
        if not promote:
            lock_registry(session)  # before any write: serialised with a promotion naming the same embedder
        row = version_row(session, version)
        row.eval_metrics = {**(row.eval_metrics or {}), **metrics}
        row.decision = decision
        if isinstance(shown := metrics.get("generated_answers"), dict) and "earned" in shown:
            row.generated_answers = bool(shown["earned"])  # served with the bundle, decided by its gate
        session.add(row)
        if not promote:
            row.status = ModelStatus.rejected
            why = f"bundle {version} rejected by the gate"
            discarded = retire_unnamed_embedders(session, [row.embedder_version], why=why)
        session.commit()
    remove_discarded(app, discarded)
    if promote:
        promote_version(app, version, by="gate")


def promote_version(app: AppDatabase, version: str, *, by: str) -> str | None:
    """Make the bundle ``version`` production (the previous production is retired) and the embedder it names the
    production embedder (None: the configured one) in one transaction, with its abstention threshold refitted on
    every reviewed turn so far that a model of its kind answered (an adapted bundle: turns adapted bundles answered;
    ``finetune.bundle.fit_threshold``) and the retrieval certainty its answers from the top article need refitted on
    the spot check (``finetune.bundle.fit_article_threshold``).

    Returns the version it replaced (None: the base model)."""
    from sqlmodel import select

    from chatbot.confidence import read_bundle_calibration
    from chatbot.db import crud
    from chatbot.db.locks import lock_registry
    from chatbot.db.models import LineageRole, ModelStatus, ModelVersion, utcnow
    from finetune.bundle import fit_article_threshold, fit_threshold
    from finetune.publish import publish_bundle
    from retrieval.embedder_registry import forget_cached

    with app.session() as session:
        target = _checked_target(app.settings, session, version)
        confidence = read_bundle_calibration(session, target)
        adapted = bool(target.adapter_path)
    publish_bundle(app, version)  # the LLM server gets the bundle's name before replicas ask for it; never raises
    risk, turn_ids = fit_threshold(app, confidence, adapted_only=adapted)
    article, article_turn_ids = fit_article_threshold(app)
    with app.session() as session:
        # Serialised with other promotions and rollbacks: a concurrent one either finished (and what is read
        # below is its result) or waits for this one. The database's unique index is the backstop.
        lock_registry(session)
        target = _checked_target(app.settings, session, version)
        current = session.exec(select(ModelVersion).where(ModelVersion.status == ModelStatus.production)).all()
        for row in current:
            row.status = ModelStatus.retired
            session.add(row)
        session.flush()  # retired first: the unique index allows one production row at every statement
        target.status = ModelStatus.production
        target.promoted_at = utcnow()
        target.promoted_by = by
        target.abstain_threshold = risk.threshold
        target.article_threshold = article.threshold
        target.risk = {**risk.to_json(), "article": article.to_json()}
        session.add(target)
        fitted_on = list(dict.fromkeys([*turn_ids, *article_turn_ids]))
        crud.set_lineage(session=session, bundle_id=target.id, role=LineageRole.threshold, turn_ids=fitted_on)
        _serve_embedder(session, target.embedder_version)
        session.commit()
        replaced = current[0].version if current else None
    forget_cached()  # this process reads the new embedder at once; other processes within the cache time
    return replaced


def _checked_target(settings: Any, session: Any, version: str) -> Any:
    from chatbot.artifacts import ArtifactPathError, resolve_artifact
    from chatbot.db import crud
    from chatbot.db.models import EmbedderStatus, ModelStatus

    target = version_row(session, version)
    if target.status == ModelStatus.production:
        raise RegistryError(f"{version} is already in production")
    embedder = crud.get_embedder_version(session=session, version=target.embedder_version or "")
    if target.embedder_version is not None and embedder is None:
        raise RegistryError(f"{version}: its embedder {target.embedder_version} is not in the registry")
    if embedder is not None and embedder.status == EmbedderStatus.retired and DISCARDED in (embedder.metrics or {}):
        why = embedder.metrics[DISCARDED].get("why", "its bundle was rejected")
        raise RegistryError(
            f"{version} cannot be promoted: its embedder {embedder.version} was discarded ({why}; collections and "
            "folder deleted); a new night (bankbot nightly --embedder) makes a new candidate"
        )
    try:
        folder = adapter_dir(settings, target)
        embedder_folder = resolve_artifact(settings, embedder.path) if embedder is not None else None
    except ArtifactPathError as exc:
        raise RegistryError(f"{version}: {exc}") from exc
    if folder is not None and not (folder / "adapter_config.json").is_file():
        raise RegistryError(f"{version}: adapter folder {folder} is missing or incomplete")
    if embedder_folder is not None and not embedder_folder.is_dir():
        raise RegistryError(f"{version}: embedder folder {embedder_folder} is missing")
    return target


def _serve_embedder(session: Any, embedder_version: str | None) -> None:
    """Make the embedder a bundle names the production one, inside the caller's transaction (None: retire the
    production row, so the configured embedder serves)."""
    from chatbot.db import crud

    if embedder_version is None:
        crud.retire_production_embedder(session=session)
    else:
        crud.set_production_embedder(session=session, version=embedder_version)


def rollback(app: AppDatabase, *, by: str) -> tuple[str, str | None]:
    """Production → retired; the previously promoted version (not itself rolled back) → production, with the
    embedder it names (no previous version: the base model with the configured embedder).

    Returns (retired version, new production version or None for the base model)."""
    from sqlmodel import col, select

    from chatbot.db.locks import lock_registry
    from chatbot.db.models import ModelStatus, ModelVersion, utcnow
    from retrieval.embedder_registry import forget_cached

    with app.session() as session:
        lock_registry(session)  # not interleaved with a promotion or another rollback
        current = session.exec(
            select(ModelVersion)
            .where(ModelVersion.status == ModelStatus.production)
            .order_by(col(ModelVersion.promoted_at).desc())
        ).first()
        if current is None:
            raise RegistryError("nothing to roll back: the base model is serving")
        retired = session.exec(
            select(ModelVersion)
            .where(ModelVersion.status == ModelStatus.retired)
            .where(col(ModelVersion.promoted_at).is_not(None))
            .order_by(col(ModelVersion.promoted_at).desc())
        ).all()
        previous = next((r for r in retired if not (r.eval_metrics or {}).get("rolled_back")), None)
        now = utcnow()
        current.status = ModelStatus.retired
        # A rolled-back version is never chosen as "previous" again: a second rollback goes further back.
        current.eval_metrics = {**(current.eval_metrics or {}), "rolled_back": {"by": by, "at": now.isoformat()}}
        session.add(current)
        session.flush()  # retired first: the unique index allows one production row at every statement
        if previous is not None:
            previous.status = ModelStatus.production
            previous.promoted_at = now
            previous.promoted_by = by
            session.add(previous)
        # The restored bundle's embedder (none restored: the configured one), in the same transaction.
        _serve_embedder(session, previous.embedder_version if previous is not None else None)
        session.commit()
        result = current.version, previous.version if previous else None
    forget_cached()
    return result
