"""What is in production, read in one place: the promoted bundle (table ``model_version``) and the production
embedder (table ``embedder_version``, through ``retrieval.embedder_registry``), which is the embedder the bundle
names: promotion and rollback set both in one transaction (``finetune.registry``).

Serving, the commands, the dashboard and training all read the registry here; only writing it (recording a
candidate and its lineage, promotion, rollback) is training's, in ``finetune.registry``. A model version is a bundle
(``finetune.bundle``): adapter, embedder, few-shot/example-index snapshot, calibration, abstention threshold, answer
mode and lineage. The database is the single source of truth; the running app polls the production bundle and
embedder (``ui.server.BundleWatcher``) and switches when they change.

Adapter folders live under the shared artifact root and rows store their path relative to it
(``chatbot.artifacts``): ``adapter_dir`` gives the folder on this host; absolute paths of older rows still work.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.errors import BankbotError

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase


log = logging.getLogger(__name__)


class RegistryError(BankbotError):
    """A model version that does not exist, or a promotion/rollback that cannot be done."""


@dataclass(frozen=True)
class AdapterRef:
    version: str
    path: Path


@dataclass(frozen=True)
class Production:
    """What serves: the production bundle and the production embedder, each None when none is promoted."""

    version: str | None  # the production bundle (None: the base model)
    bundle_id: uuid.UUID | None
    adapter: AdapterRef | None  # None: the base model (no bundle, or a bundle without an adapter)
    # Whether customers see the model's answers, as the bundle's gate decided (None: no bundle, so
    # ``settings.base_model_answers``).
    generated_answers: bool | None
    embedder_version: str | None  # the production fine-tuned embedder, the bundle's (None: the configured one)
    embedder_path: Path | None  # its folder on this host


def production_row(session: Any) -> Any:
    """The production bundle's ``model_version`` row in the caller's session (None: the base model serves). Every
    read of what is in production goes through here, ``production_embedder_row`` or the functions below."""
    from chatbot.db import crud

    return crud.production_model(session=session)


def production_embedder_row(session: Any) -> Any:
    """The production ``embedder_version`` row in the caller's session (None: the configured embedder serves)."""
    from chatbot.db import crud

    return crud.production_embedder(session=session)


def in_production(app: AppDatabase) -> Production:
    """The production bundle and embedder as this host serves them: an embedder whose folder is missing here is
    not served (the configured one is), and the embedder read is cached for a few seconds
    (``retrieval.embedder_registry.current_embedder``)."""
    from chatbot.confidence import read_bundle_calibration
    from retrieval.embedder_registry import current_embedder

    with app.session() as session:
        row = production_row(session)
        # The answer mode as the chat applies it (a bundle recorded before its gate decided keeps showing answers).
        shown = read_bundle_calibration(session, row).generated_answers
    embedder = current_embedder(app.settings, engine=app.engine)
    return Production(
        version=row.version if row is not None else None,
        bundle_id=row.id if row is not None else None,
        adapter=adapter_ref(app.settings, row),
        generated_answers=shown,
        embedder_version=embedder.version if embedder is not None else None,
        embedder_path=embedder.path if embedder is not None else None,
    )


def adapter_dir(settings: Any, row: Any) -> Path | None:
    """The adapter folder of a model_version row on this host (None: the bundle serves the base model)."""
    from chatbot.artifacts import resolve_artifact

    return resolve_artifact(settings, row.adapter_path) if row is not None and row.adapter_path else None


def adapter_ref(settings: Any, row: Any) -> AdapterRef | None:
    """The AdapterRef of a model_version row (None: the base model)."""
    folder = adapter_dir(settings, row)
    return AdapterRef(version=row.version, path=folder) if folder is not None else None


def production_adapter(app: AppDatabase) -> AdapterRef | None:
    """The production bundle's adapter, or None to serve the base model."""
    with app.session() as session:
        row = production_row(session)
    return adapter_ref(app.settings, row)


def production_snapshot(app: AppDatabase) -> int:
    """The snapshot the chat reads; 0 (what existed before the first bundle) when the database cannot say."""
    try:
        with app.session() as session:
            row = production_row(session)
    except Exception as exc:  # the chat must start without the database; the next reload corrects it
        log.warning("cannot read the production bundle (%s); reading index snapshot 0", exc)
        return 0
    return row.index_snapshot if row is not None else 0


def production_version(app: AppDatabase) -> str | None:
    """Version string of the production adapter (None: base model), in one query."""
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
def list_models(app: AppDatabase) -> list[Any]:
    from sqlmodel import col, select

    from chatbot.db.models import ModelVersion

    with app.session() as session:
        rows = session.exec(select(ModelVersion).order_by(col(ModelVersion.created_at).desc())).all()
        for row in rows:
            session.expunge(row)
        return list(rows)


def get_model(app: AppDatabase, version: str) -> Any:
    with app.session() as session:
        row = version_row(session, version)
        session.expunge(row)
        return row


def get_lineage(app: AppDatabase, version: str) -> dict[str, list[str]]:
    """role (example | calibration | threshold) -> ids of the reviewed turns the bundle learned from."""
    from chatbot.db import crud

    with app.session() as session:
        return crud.lineage(session=session, bundle_id=version_row(session, version).id)


def version_row(session: Any, version: str) -> Any:
    """The model_version row ``version`` in ``session``; RegistryError when there is none."""
    from chatbot.db import crud

    row = crud.get_model_version(session=session, version=version)
    if row is None:
        raise RegistryError(f"no model version {version!r} (see: bankbot models list)")
    return row
