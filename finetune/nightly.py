"""The nightly learning job: every reviewed turn so far → SFT dataset → a candidate bundle (LoRA adapter, few-shot
and example-index snapshot, calibration, and optionally a fine-tuned embedder) → eval gate → promote or reject the
bundle as a whole, with lineage.

Safety: one run at a time (an fcntl lock in data_dir, and on PostgreSQL a database advisory lock too, so machines
sharing the database cannot overlap; both are released when the holder dies); every run is a
``TrainingRun`` row that ends succeeded, skipped or failed — a run still 'running' when the next one gets the lock
was killed, and is marked failed then. The candidate's few-shot examples and example questions are written under
its own index snapshot, which nothing serving reads (``retrieval.snapshots``); a candidate embedder's collections
are named after it, which nothing serving reads either. Production changes only in
``registry.promote_version``'s single transaction, after the whole bundle exists and the gate said yes, so a crash
anywhere, or a rejection, leaves production exactly as it was.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.db.locks import NIGHTLY_LOCK_KEY, LockBusy, advisory_lock, is_postgres
from chatbot.errors import BankbotError
from finetune import registry, training_runs
from finetune.dataset import BuiltDataset, SFTExample
from finetune.discard import reject_dead_runs, reject_unfinished_candidates
from finetune.lora import LoraHyperparameters

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase, AppServices

log = logging.getLogger(__name__)
GATE_CORRECTIONS = 40  # newest corrected questions re-asked by the gate (bounds its run time)


class NightlyAlreadyRunning(BankbotError):
    """Another nightly run holds the lock."""


@dataclass
class NightlyOptions:
    hyperparameters: LoraHyperparameters = field(default_factory=LoraHyperparameters)
    force: bool = False  # train even when there is too little new reviewed data
    gate_questions: int | None = None  # None: settings.gate_eval_questions
    # Newest corrected questions the gate re-asks with both models (non-regression); each costs two generations.
    gate_corrections: int = GATE_CORRECTIONS
    update_indexes: bool = True  # False: the candidate keeps production's few-shot and example-index snapshot
    # Also fine-tune the embedder: the candidate bundle retrieves with it only if it beats the live retriever.
    train_embedder: bool = False
    embedder_margin: float | None = None  # accuracy@1 it must gain (None: settings.promotion_margin)
    callbacks: Sequence[Any] = ()  # extra TrainerCallbacks (tests inject crashes)


@dataclass
class NightlyResult:
    status: str  # skipped | promoted | rejected
    message: str
    run_id: str | None = None
    version: str | None = None
    dataset_dir: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


def lock_path(settings: Any) -> Path:
    return Path(settings.data_dir) / "nightly.lock"


@contextmanager
def nightly_lock(settings: Any, engine: Any = None) -> Iterator[None]:
    """Exclusive, non-blocking: a second run exits at once instead of queueing behind a long training.

    The file lock in data_dir guards this machine's dataset and adapter folders; with PostgreSQL (``engine``) a
    database advisory lock is held as well, so a nightly job on another machine sharing the database refuses too.
    Both die with their holder (the kernel closes the file, the server ends the connection)."""
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:  # closing the file (or the process dying) releases the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise NightlyAlreadyRunning(f"another nightly run holds {path} (pid {holder}); try later") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        with ExitStack() as stack:
            if engine is not None and is_postgres(engine):
                try:
                    stack.enter_context(advisory_lock(engine, NIGHTLY_LOCK_KEY, wait=False))
                except LockBusy:
                    raise NightlyAlreadyRunning(
                        "another nightly run (on another machine sharing the database) holds the database's nightly "
                        "lock; try later"
                    ) from None
            yield


def remove_partial_folders(settings: Any) -> list[str]:
    """Temporary ('.'-prefixed) dataset/adapter folders left by a killed run; safe to delete under the lock."""
    import shutil

    removed = []
    for parent in (Path(settings.data_dir) / "datasets", adapters_dir(settings)):
        for folder in parent.glob(".*") if parent.is_dir() else []:
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
    return removed


def adapters_dir(settings: Any) -> Path:
    """Where adapters are written: under the shared artifact root, where every replica reads them."""
    return Path(settings.effective_artifact_root) / "adapters"


def count_tokens_with(settings: Any) -> Any:
    """The base model's tokenizer as a token counter (the tokenizer only: no weights are loaded)."""
    from transformers import AutoTokenizer

    from chatbot.model_loading import llm_source

    tokenizer = AutoTokenizer.from_pretrained(llm_source(settings))
    return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])


def build_nightly_dataset(app: AppServices, hp: LoraHyperparameters) -> tuple[BuiltDataset, list[str]]:
    from finetune.dataset import build_dataset, frozen_eval_files, load_reviewed_turns, read_frozen_questions

    frozen = frozen_eval_files()
    dataset = build_dataset(
        load_reviewed_turns(app),
        frozen_questions=read_frozen_questions(frozen),
        count_tokens=count_tokens_with(app.settings),
        prompt_budget=hp.prompt_budget,
        max_sources=hp.max_sources,
    )
    return dataset, [p.name for p in frozen]


def run_nightly(app: AppServices, options: NightlyOptions | None = None) -> NightlyResult:
    options = options or NightlyOptions()
    settings = app.settings
    with nightly_lock(settings, app.engine):
        stale = training_runs.fail_stale_runs(app)
        if stale:
            log.warning("marked %d interrupted run(s) failed: %s", len(stale), ", ".join(stale))
        reject_dead_runs(app, stale)
        remove_partial_folders(settings)
        hp = options.hyperparameters
        dataset, frozen_sets = build_nightly_dataset(app, hp)
        previous = training_runs.last_trained_turn_ids(app)
        new = [e for e in dataset.examples if e.turn_id not in previous]
        base_model = _base_model(settings)
        if not dataset.train or (len(new) < settings.min_new_examples and not options.force):
            message = (
                f"skipped: {len(new)} new reviewed example(s) since the last training, "
                f"fewer than min_new_examples={settings.min_new_examples}"
                if dataset.train
                else "skipped: no learnable reviewed examples (agreed approve/correct) yet"
            )
            run_id = training_runs.start_run(app, base_model=base_model, hyperparameters=hp.to_json())
            training_runs.update_run(app, run_id, status="skipped", message=message, metrics={"counts": dataset.counts})
            return NightlyResult("skipped", message, run_id=str(run_id), metrics={"counts": dataset.counts})
        run_id = training_runs.start_run(app, base_model=base_model, hyperparameters=hp.to_json())
        try:
            return _train_and_gate(app, options, dataset, frozen_sets, run_id, base_model, len(new))
        except BaseException as exc:  # KeyboardInterrupt / SIGTERM included: the run must not stay 'running'
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            training_runs.update_run(app, run_id, status="failed", message=f"{type(exc).__name__}: {reason}")
            reject_unfinished_candidates(app, run_id, reason=f"run failed: {reason}")
            raise


def _train_and_gate(
    app: AppServices,
    options: NightlyOptions,
    dataset: BuiltDataset,
    frozen_sets: list[str],
    run_id: Any,
    base_model: str,
    n_new: int,
) -> NightlyResult:
    from chatbot.artifacts import to_artifact_ref
    from finetune.lora import train_lora

    dataset_dir, manifest, lineage = _write_dataset(app, dataset, frozen_sets, run_id, base_model)
    version = lineage["version"]
    adapter_dir = adapters_dir(app.settings) / version
    summary: dict[str, Any] = {"counts": dataset.counts, "new_examples": n_new, "dataset": dataset_dir.name}
    training_runs.update_run(
        app,
        run_id,
        data_hash=lineage["data_hash"],
        n_train=len(dataset.train),
        n_val=len(dataset.validation),
        source_turn_ids=manifest["source_turn_ids"],
        output_dir=to_artifact_ref(app.settings, adapter_dir),  # relative to the artifact root, like adapter_path
        metrics=summary,
    )
    trained = train_lora(
        app.settings,
        train=dataset.train,
        validation=dataset.validation,
        output_dir=adapter_dir,
        hp=options.hyperparameters,
        describe=lineage,
        callbacks=options.callbacks,
    )
    snapshot = registry.record_candidate(
        app,
        version=version,
        adapter_path=adapter_dir,
        base_model=base_model,
        data_hash=lineage["data_hash"],
        run_id=run_id,
        new_index_snapshot=options.update_indexes,
        lineage=manifest["source_turn_ids"],
    )
    decision, gate_metrics, indexed, embedder = _complete_and_gate(app, options, dataset, version, snapshot)
    gate_metrics["training"] = trained.metrics
    registry.record_gate(app, version, promote=decision.promote, decision=decision.reason, metrics=gate_metrics)
    status = "promoted" if decision.promote else "rejected"
    gate_summary = {"promote": decision.promote, "reason": decision.reason, "quality": decision.quality}
    summary.update(training=trained.metrics, gate=gate_summary, indexes=indexed, embedder=embedder, version=version)
    message = f"{version} {status}: {decision.reason}"
    training_runs.update_run(app, run_id, status="succeeded", message=message, metrics=summary)
    return NightlyResult(
        status, message, run_id=str(run_id), version=version, dataset_dir=str(dataset_dir), metrics=gate_metrics
    )


def _write_dataset(
    app: AppDatabase, dataset: BuiltDataset, frozen_sets: list[str], run_id: Any, base_model: str
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The dataset folder, its manifest, and the lineage the adapter folder describes itself with."""
    from chatbot.prompt import PROMPT_VERSION
    from finetune.dataset import write_dataset

    dataset_dir = write_dataset(
        dataset, app.settings.data_dir / "datasets", prompt_version=PROMPT_VERSION, frozen_sets=frozen_sets
    )
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    data_hash = manifest["content_hash"]
    lineage = {
        "version": f"lora-{datetime.now(UTC):%Y%m%d-%H%M%S}-{data_hash[:6]}",
        "base_model": base_model,
        "data_hash": data_hash,
        "dataset_version": dataset_dir.name,
        "dataset_dir": str(dataset_dir),
        "prompt_version": PROMPT_VERSION,
        "training_run_id": str(run_id),
        "source_turn_ids": manifest["source_turn_ids"],
        "counts": dataset.counts,
    }
    return dataset_dir, manifest, lineage


def _complete_and_gate(
    app: AppServices, options: NightlyOptions, dataset: BuiltDataset, version: str, snapshot: int
) -> tuple[Any, dict[str, Any], dict[str, int], dict[str, Any] | None]:
    """The rest of the candidate bundle (few-shot and example-index snapshot, its embedder when asked, calibration),
    then the gate of the candidate bundle, with its embedder, against the production bundle. Returns (decision,
    gate metrics, index counts, the embedder step's summary or None)."""
    from finetune import bundle
    from finetune.gate import Correction, gate_items, run_gate

    # A process that lives through nights (the simulation) may have opened its collections before a promotion: the
    # candidate's entries go to production's embedder's collections, and the embedder is compared with production's.
    bundle.follow_production(app)
    production = bundle.production_bundle(app)
    indexed = bundle.write_index_snapshot(app, snapshot, dataset.examples) if options.update_indexes else {}
    # After the snapshot: a winning embedder's collections are re-embedded with the candidate's entries in them.
    embedder = None
    if options.train_embedder:
        embedder = embedder_step(app, version, dataset.examples, margin=options.embedder_margin)
    # the candidate is always an adapter: its calibration is fitted on adapted answers only
    calibration_id, fitted, fitted_on = bundle.fit_calibration(app, production, adapted_only=True)
    registry.record_calibration(app, version, calibration_id=calibration_id, summary=fitted, turn_ids=fitted_on)
    corrected = [Correction(e.question, e.messages[-1]["content"]) for e in dataset.examples if e.verdict == "correct"]
    corrections = corrected[-options.gate_corrections :] if options.gate_corrections > 0 else []
    items = gate_items(options.gate_questions or app.settings.gate_eval_questions)
    candidate = bundle.get_bundle(app, version)
    decision, gate_metrics = run_gate(app, candidate, production, items=items, corrections=corrections)
    return decision, gate_metrics, indexed, embedder


def embedder_step(
    app: AppServices, version: str, examples: Sequence[SFTExample], *, margin: float | None = None
) -> dict[str, Any]:
    """Fine-tune a candidate embedder on reviewer-confirmed question → article pairs
    (``finetune.embedder.train_candidate_embedder``); when it beats the live retriever's accuracy@1 on the frozen
    eval questions, its collections are re-embedded and the candidate bundle ``version`` names it, so the gate
    judges the bundle with it and only the bundle's promotion serves it. Nothing here changes production. A
    failure is recorded (in the run's metrics), not raised: the bundle keeps production's embedder."""
    from evals.retrieval import demo_eval_queries
    from finetune.embedder import train_candidate_embedder

    confirmed = [e for e in examples if e.article_confirmed and e.article_id]
    try:
        result = train_candidate_embedder(
            app,
            [e.question for e in confirmed],
            [str(e.article_id) for e in confirmed],
            demo_eval_queries(),
            margin=margin,
        )
        if result["won"]:
            registry.record_embedder(app, version, embedder_version=result["version"], summary=result)
        return result
    except Exception as exc:  # recorded in the run's metrics and logged
        log.warning("embedder fine-tuning failed: %s", exc)
        return {"error": f"{type(exc).__name__}: {exc}"}


def _base_model(settings: Any) -> str:
    from chatbot.model_loading import llm_label

    return llm_label(settings)
