"""Thin adapters onto the parts the simulation drives (ingest, retrieval eval, nightly job), so the loop stays
independent of their exact signatures."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatbot.app_services import AppServices

log = logging.getLogger(__name__)


def ingest_demo_kb(app: AppServices) -> None:
    from retrieval.ingest import ingest

    report = ingest(app.settings, app.vector_store, None, progress=False)
    if getattr(report, "skipped", None):
        log.warning("ingest skipped %s", report.skipped)


def nightly_options(options: Mapping[str, Any]) -> Any:
    """``NightlyOptions`` from plain keys: its own fields (``force``, ``gate_questions``, ``gate_corrections``,
    ``train_embedder``, ...) and any LoRA hyperparameter (``max_steps``, ``epochs``, ...)."""
    from dataclasses import fields, replace

    from finetune.lora import LoraHyperparameters
    from finetune.nightly import NightlyOptions

    hp_names = {f.name for f in fields(LoraHyperparameters)}
    hp = replace(LoraHyperparameters(), **{k: v for k, v in options.items() if k in hp_names})
    rest = {k: v for k, v in options.items() if k not in hp_names}
    return NightlyOptions(hyperparameters=hp, **rest)


def run_nightly_job(app: AppServices, **options: Any) -> dict[str, Any]:
    """Run the nightly job in-process; its result as a plain dict with at least ``decision``."""
    import finetune.nightly as nightly

    try:
        result = nightly.run_nightly(app, nightly_options(options))
    except Exception as exc:  # a failed night is part of the story (recorded as failed by the job), not the end
        log.exception("nightly job failed")
        return {"decision": "failed", "message": f"{type(exc).__name__}: {str(exc).strip()[:300]}"}
    data = asdict(result) if is_dataclass(result) and not isinstance(result, type) else dict(vars(result))
    data["decision"] = data.get("status")
    return _plain(data)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
