"""Model registry: which LoRA adapter is in production, candidates, promotion, rollback and training runs.

The database (``ModelVersion``, ``TrainingRun``) is the single source of truth; the running app polls
``production_version`` (one indexed query) and reloads its generator when the answer changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.errors import BankbotError


class RegistryError(BankbotError):
    """A model version that does not exist, or a promotion/rollback that cannot be done."""


@dataclass(frozen=True)
class AdapterRef:
    version: str
    path: Path


def production_adapter(app: Any) -> AdapterRef | None:
    """The production adapter recorded in the database, or None to serve the base model."""
    from chatbot.db import crud

    with app.session() as session:
        row = crud.production_model(session=session)
    if row is None:
        return None
    return AdapterRef(version=row.version, path=Path(row.adapter_path))


def production_version(app: Any) -> str | None:
    """Version string of the production adapter (None: base model). Cheap enough to call on every request:
    the chat pipeline compares it with ``generator.adapter_version`` and calls ``reload()`` when they differ."""
    from sqlmodel import col, select

    from chatbot.db.models import ModelStatus, ModelVersion

    stmt = (
        select(ModelVersion.version)
        .where(ModelVersion.status == ModelStatus.production)
        .order_by(col(ModelVersion.promoted_at).desc())
        .limit(1)
    )
    with app.session() as session:
        return session.exec(stmt).first()


# --- model versions -----------------------------------------------------------------------------------------
def list_models(app: Any) -> list[Any]:
    from sqlmodel import col, select

    from chatbot.db.models import ModelVersion

    with app.session() as session:
        rows = session.exec(select(ModelVersion).order_by(col(ModelVersion.created_at).desc())).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def get_model(app: Any, version: str) -> Any:
    from sqlmodel import select

    from chatbot.db.models import ModelVersion

    with app.session() as session:
        row = session.exec(select(ModelVersion).where(ModelVersion.version == version)).first()
        if row is None:
            raise RegistryError(f"no model version {version!r} (see: bankbot models list)")
        session.expunge(row)
        return row


def record_candidate(
    app: Any, *, version: str, adapter_path: Path, base_model: str, data_hash: str, run_id: uuid.UUID
) -> None:
    from chatbot.db.models import ModelStatus, ModelVersion

    with app.session() as session:
        session.add(
            ModelVersion(
                version=version,
                adapter_path=str(adapter_path),
                base_model=base_model,
                training_data_hash=data_hash,
                training_run_id=run_id,
                status=ModelStatus.candidate,
            )
        )
        session.commit()


def record_gate(app: Any, version: str, *, promote: bool, decision: str, metrics: dict[str, Any]) -> None:
    """Store the gate's metrics and reason, then promote or mark the candidate rejected."""
    from sqlmodel import select

    from chatbot.db.models import ModelStatus, ModelVersion

    with app.session() as session:
        row = session.exec(select(ModelVersion).where(ModelVersion.version == version)).one()
        row.eval_metrics = metrics
        row.decision = decision
        if not promote:
            row.status = ModelStatus.rejected
        session.add(row)
        session.commit()
    if promote:
        promote_version(app, version, by="gate")


def promote_version(app: Any, version: str, *, by: str) -> str | None:
    """Make ``version`` production (the previous production is retired) in one transaction.

    Returns the version it replaced (None: the base model)."""
    from sqlmodel import select

    from chatbot.db.models import ModelStatus, ModelVersion, utcnow

    with app.session() as session:
        target = session.exec(select(ModelVersion).where(ModelVersion.version == version)).first()
        if target is None:
            raise RegistryError(f"no model version {version!r} (see: bankbot models list)")
        if target.status == ModelStatus.production:
            raise RegistryError(f"{version} is already in production")
        if not (Path(target.adapter_path) / "adapter_config.json").is_file():
            raise RegistryError(f"{version}: adapter folder {target.adapter_path} is missing or incomplete")
        current = session.exec(select(ModelVersion).where(ModelVersion.status == ModelStatus.production)).all()
        for row in current:
            row.status = ModelStatus.retired
            session.add(row)
        target.status = ModelStatus.production
        target.promoted_at = utcnow()
        target.promoted_by = by
        session.add(target)
        session.commit()
        return current[0].version if current else None


def rollback(app: Any, *, by: str) -> tuple[str, str | None]:
    """Production → retired; the previously promoted version (not itself rolled back) → production.

    Returns (retired version, new production version or None for the base model)."""
    from sqlmodel import col, select

    from chatbot.db.models import ModelStatus, ModelVersion, utcnow

    with app.session() as session:
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
        if previous is not None:
            previous.status = ModelStatus.production
            previous.promoted_at = now
            previous.promoted_by = by
            session.add(previous)
        session.commit()
        return current.version, previous.version if previous else None


def reject_unfinished_candidates(app: Any, run_id: uuid.UUID, *, reason: str) -> None:
    """A run that failed after recording its candidate leaves no 'candidate' behind: it becomes rejected."""
    from sqlmodel import select

    from chatbot.db.models import ModelStatus, ModelVersion

    with app.session() as session:
        rows = session.exec(
            select(ModelVersion)
            .where(ModelVersion.training_run_id == run_id)
            .where(ModelVersion.status == ModelStatus.candidate)
        ).all()
        for row in rows:
            row.status = ModelStatus.rejected
            row.decision = reason
            session.add(row)
        session.commit()


# --- training runs ------------------------------------------------------------------------------------------
def start_run(app: Any, *, base_model: str, hyperparameters: dict[str, Any]) -> uuid.UUID:
    from chatbot.db.models import RunStatus, TrainingRun

    run = TrainingRun(status=RunStatus.running, base_model=base_model, hyperparameters=hyperparameters)
    with app.session() as session:
        session.add(run)
        session.commit()
        return run.id


def update_run(app: Any, run_id: uuid.UUID, **values: Any) -> None:
    from chatbot.db.models import TrainingRun, utcnow

    with app.session() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise RegistryError(f"no training run {run_id}")
        for key, value in values.items():
            setattr(run, key, value)
        if values.get("status") in {"succeeded", "failed", "skipped"}:
            run.finished_at = utcnow()
        session.add(run)
        session.commit()


def fail_stale_runs(app: Any) -> list[str]:
    """Mark runs still 'running' as failed. Only called while holding the nightly lock, so their process is
    gone (killed, crashed, machine rebooted): the lock dies with its holder."""
    from sqlmodel import select

    from chatbot.db.models import RunStatus, TrainingRun, utcnow

    with app.session() as session:
        stale = session.exec(select(TrainingRun).where(TrainingRun.status == RunStatus.running)).all()
        for run in stale:
            run.status = RunStatus.failed
            run.message = "process died while running (found by the next nightly run)"
            run.finished_at = utcnow()
            session.add(run)
        session.commit()
        return [str(r.id) for r in stale]


def list_runs(app: Any, limit: int = 20) -> Sequence[Any]:
    from sqlmodel import col, select

    from chatbot.db.models import TrainingRun

    with app.session() as session:
        rows = session.exec(select(TrainingRun).order_by(col(TrainingRun.started_at).desc()).limit(limit)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def last_trained_turn_ids(app: Any) -> set[str]:
    """Turn ids used by the newest run that produced a model: the baseline for 'new reviewed data'."""
    from sqlmodel import col, select

    from chatbot.db.models import RunStatus, TrainingRun

    with app.session() as session:
        run = session.exec(
            select(TrainingRun)
            .where(TrainingRun.status == RunStatus.succeeded)
            .order_by(col(TrainingRun.started_at).desc())
        ).first()
        return set(run.source_turn_ids or []) if run else set()
