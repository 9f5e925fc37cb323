"""Training runs: one row per nightly attempt (running, succeeded, failed, skipped) with its hyperparameters, the
turns it learned from and its metrics; a run left 'running' by a dead process is failed by the next night."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatbot.registry import RegistryError

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase


def start_run(app: AppDatabase, *, base_model: str, hyperparameters: dict[str, Any]) -> uuid.UUID:
    from chatbot.db.models import RunStatus, TrainingRun

    run = TrainingRun(status=RunStatus.running, base_model=base_model, hyperparameters=hyperparameters)
    with app.session() as session:
        session.add(run)
        session.commit()
        return run.id


def update_run(app: AppDatabase, run_id: uuid.UUID, **values: Any) -> None:
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


def fail_stale_runs(app: AppDatabase) -> list[str]:
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


def list_runs(app: AppDatabase, limit: int = 20) -> Sequence[Any]:
    from sqlmodel import col, select

    from chatbot.db.models import TrainingRun

    with app.session() as session:
        rows = session.exec(select(TrainingRun).order_by(col(TrainingRun.started_at).desc()).limit(limit)).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def last_trained_turn_ids(app: AppDatabase) -> set[str]:
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
