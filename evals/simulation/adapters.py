"""Thin adapters onto the parts the simulation drives (ingest, retrieval eval, nightly job), so the loop stays
independent of their exact signatures."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def ingest_demo_kb(app: Any) -> None:
    from retrieval.ingest import ingest

    report = ingest(app.settings, app.vector_store, None, progress=False)
    if getattr(report, "skipped", None):
        log.warning("ingest skipped %s", report.skipped)


def nightly_options(options: Mapping[str, Any]) -> Any:
    """``NightlyOptions`` from plain keys: ``force``, ``gate_questions`` and any LoRA hyperparameter
    (``max_steps``, ``epochs``, ...)."""
    from dataclasses import fields, replace

    from finetune.lora import LoraHyperparameters
    from finetune.nightly import NightlyOptions

    hp_names = {f.name for f in fields(LoraHyperparameters)}
    hp = replace(LoraHyperparameters(), **{k: v for k, v in options.items() if k in hp_names})
    rest = {k: v for k, v in options.items() if k not in hp_names}
    return NightlyOptions(hyperparameters=hp, **rest)


def run_nightly_job(
    app: Any, *, gate_corrections: int | None = None, index_corrections: bool = True, **options: Any
) -> dict[str, Any]:
    """Run the nightly job in-process; its result as a plain dict with at least ``decision``.

    ``gate_corrections`` caps the corrected questions the gate re-asks with both models (the nightly's
    ``MAX_GATE_CORRECTIONS``, 40, costs ~160 generations a night on CPU; the simulation's time budget needs
    fewer). ``index_corrections`` also files corrected questions under the article the reviewers attached
    (see ``index_corrected_examples``).
    """
    import finetune.nightly as nightly

    saved = nightly.MAX_GATE_CORRECTIONS
    if gate_corrections is not None:
        nightly.MAX_GATE_CORRECTIONS = gate_corrections  # module constant, no option for it yet
    try:
        result = nightly.run_nightly(app, nightly_options(options))
    except Exception as exc:  # a failed night is part of the story (recorded as failed by the job), not the end
        log.exception("nightly job failed")
        return {"decision": "failed", "message": f"{type(exc).__name__}: {str(exc).strip()[:300]}"}
    finally:
        nightly.MAX_GATE_CORRECTIONS = saved
    data = asdict(result) if is_dataclass(result) and not isinstance(result, type) else dict(vars(result))
    data["decision"] = data.get("status")
    if index_corrections and data.get("dataset_dir"):
        data["example_index_corrected_added"] = index_corrected_examples(app, Path(str(data["dataset_dir"])))
    return _plain(data)


def index_corrected_examples(app: Any, dataset_dir: Path) -> int:
    """Add the night's corrected questions to the retrieval example index under their article.

    The nightly job indexes approved turns only: for a correction it cannot know the right article. In the
    simulation the reviewers attach it (the correction cites it as [1], ``meta.cited``), so the SFT example's
    ``article_id`` is the right one, and the questions the bot got wrong — the ones retrieval most needs — can
    teach retrieval too. This stands in for that step of the nightly job until it has it.
    """
    from finetune.dataset import read_examples
    from retrieval.example_index import ExampleIndex

    examples = [
        e
        for name in ("train.jsonl", "validation.jsonl")
        if (dataset_dir / name).is_file()
        for e in read_examples(dataset_dir / name)
        if e.verdict == "correct" and e.article_id
    ]
    if not examples:
        return 0
    index = ExampleIndex.open(app.settings, app.embedder)
    return index.add([e.question for e in examples], [str(e.article_id) for e in examples], source="reviews")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
