"""The bundles an eval run compares, resolved from the model registry: ``bankbot eval --model base v3``.

The eval runner sits below training and the registry in the layers, so it receives this as its ``BundleSource``
from the entry point instead of importing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatbot.errors import BankbotError
from evals.runner import BASE

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase, AppServices


class RegistryBundles:
    """Bundles by version from the SQL registry; 'base' is the base model with the entries and calibration that
    existed before the first bundle; no names means the production bundle."""

    def resolve(self, app: AppDatabase, names: Sequence[str]) -> list[tuple[str, Any]]:
        """(label, BundleRef) per requested model; database lookups only, so bad names fail fast."""
        from finetune.bundle import production_bundle

        if not names:
            bundle = production_bundle(app)
            return [(bundle.version or BASE, bundle)]
        if len(set(names)) != len(names):
            raise BankbotError("--model: each model may be given once")
        return [(name, _base_bundle(app) if name == BASE else _bundle_for(app, name)) for name in names]

    def app_for(self, app: AppServices, bundle: Any) -> AppServices:
        """An app answering as ``bundle`` (adapter, embedder, index snapshot, calibration, threshold), sharing the
        rest."""
        from finetune.bundle import bundle_app

        return bundle_app(app, bundle)


def _bundle_for(app: AppDatabase, version: str) -> Any:
    """The BundleRef of a model_version row; a clear error listing the known versions otherwise."""
    from sqlmodel import select

    from chatbot.db.models import ModelVersion
    from finetune.bundle import bundle_of

    with app.session() as session:
        row = session.exec(select(ModelVersion).where(ModelVersion.version == version)).first()
        if row is None:
            known = [r.version for r in session.exec(select(ModelVersion)).all()]
            hint = ", ".join(known) if known else "none yet"
            raise BankbotError(f"--model {version}: no such adapter version (use 'base' or one of: {hint})")
        bundle = bundle_of(session, row, settings=app.settings)
    if bundle.adapter is not None and not bundle.adapter.path.exists():
        raise BankbotError(f"--model {version}: its adapter folder {bundle.adapter.path} is missing")
    return bundle


def _base_bundle(app: AppDatabase) -> Any:
    from finetune.bundle import bundle_of

    with app.session() as session:
        return bundle_of(session, None)
