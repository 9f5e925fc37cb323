"""One eval run as the CLI does it: load questions, build one app per model, run the suites, compare, write the
report folder, record the runs (and the fitted calibration) in the database, check the CI gates."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from chatbot.errors import BankbotError
from evals import scoring
from evals.dataset import DEMO_EVAL_PATH, REVIEWS_DATASET, EvalItem, kinds_count, limit_items
from evals.gates import Gate, GateResult, check_gates
from evals.report import ModelReport, Report, write_report
from evals.suites import DEFAULT_BATCH_SIZE, CalibrationEval, RetrievalEval, run_answers

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase, AppServices

BASE = "base"


@dataclass
class EvalRequest:
    suite: str
    dataset: Path | None = None
    from_reviews: bool = False
    models: list[str] = field(default_factory=list)  # empty: the model the chat serves
    limit: int | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    report_dir: Path | None = None
    record: bool = True  # store eval_run rows (and the calibration fit)
    store_calibration: bool = True
    gates: list[Gate] = field(default_factory=list)
    progress: bool = True
    bootstrap: int = 1000
    seed: int = 0


@dataclass
class EvalOutcome:
    payload: dict[str, Any]
    report_dir: Path
    gate_results: list[tuple[str, GateResult]]

    @property
    def failed_gates(self) -> list[str]:
        return [r.line(f"{label}: " if label else "") for label, r in self.gate_results if not r.passed]


@dataclass
class _Model:
    label: str
    app: AppServices
    bundle: Any  # finetune.bundle.BundleRef


def default_report_dir(settings: Any) -> Path:
    return Path(settings.runs_dir) / "evals" / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


class BundleSource(Protocol):
    """Where the bundles to compare come from (``finetune.eval_bundles.RegistryBundles``: the model registry,
    which sits above evals and is handed in by the entry point)."""

    def resolve(self, app: AppDatabase, names: Sequence[str]) -> list[tuple[str, Any]]: ...

    def app_for(self, app: AppServices, bundle: Any) -> AppServices: ...


def build_models(
    base_app: AppServices, resolved: Sequence[tuple[str, Any]], bundles: BundleSource, *, served: bool
) -> list[_Model]:
    """One app per model, each answering as its bundle (adapter, embedder, index snapshot, calibration, threshold);
    they share the database, and the embedder and knowledge base when their bundles name the same embedder.
    ``served``: use ``base_app`` as it is."""
    if served:
        label, bundle = resolved[0]
        return [_Model(label, base_app, bundle)]
    return [_Model(label, bundles.app_for(base_app, bundle), bundle) for label, bundle in resolved]


def load_items(app: AppDatabase, request: EvalRequest) -> tuple[list[EvalItem], str]:
    from evals.dataset import load_eval_set, load_review_items

    if request.from_reviews:
        if request.dataset is not None:
            raise BankbotError("give either an eval file or --from-reviews, not both")
        items, dataset = load_review_items(app), REVIEWS_DATASET
    else:
        items = load_eval_set(request.dataset)
        dataset = str(request.dataset or DEMO_EVAL_PATH.relative_to(DEMO_EVAL_PATH.parents[2]))
    return limit_items(items, request.limit), dataset


def check_kb(app: AppServices) -> None:
    from retrieval.vector_store import store_collection

    if int(store_collection(app.vector_store).count()) == 0:
        raise BankbotError(
            f"the knowledge base collection {app.settings.chroma_collection!r} is empty: run `bankbot ingest` first"
        )


def comparison_metrics(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Every answers and calibration number of a set of per-question records (for the paired bootstrap)."""
    out = {f"answers.{k}": v for k, v in scoring.answer_metrics(records).items()}
    labelled = [r for r in records if r.get("label") is not None]
    calib = scoring.calibration_metrics([r["confidence"] for r in labelled], [bool(r["label"]) for r in labelled])
    out.update({f"calibration.{k}": v for k, v in calib.items() if k in scoring.CALIBRATION_KEYS})
    return out


def record_runs(
    app: AppDatabase, label: str, dataset: str, suites: dict[str, dict[str, Any]], report: Path
) -> dict[str, str]:
    """One eval_run row per suite with its flat metrics (the dashboard lists them); returns suite -> row id."""
    from chatbot.db.models import EvalRun

    ids = {}
    with app.session() as session:
        for suite, metrics in suites.items():
            row = EvalRun(
                suite=suite,
                model_label=label[:128],
                dataset=dataset,
                metrics=scoring.json_safe(metrics),
                report_path=str(report),
            )
            session.add(row)
            session.flush()
            ids[suite] = str(row.id)
        session.commit()
    return ids


def wants_answers(request: EvalRequest) -> bool:
    """Whether the run generates answers: for the answers suite, and for calibration scored on fresh answers."""
    return request.suite in ("answers", "all") or (request.suite == "calibration" and not request.from_reviews)


def run_model(model: _Model, items: Sequence[EvalItem], request: EvalRequest, *, answers: bool) -> ModelReport:
    """The requested suites on one model; the calibration suite scores the answers generated here."""
    suites: dict[str, dict[str, Any]] = {}
    if request.suite in ("retrieval", "all"):  # per model: each bundle reads its own example-index snapshot
        suites["retrieval"] = RetrievalEval(items).run(model.app)
    per_item: list[dict[str, Any]] = []
    if answers:
        result = run_answers(
            model.app,
            items,
            batch_size=request.batch_size,
            progress=request.progress,
            desc=f"answers {model.label}",
        )
        per_item = result.per_item
        if request.suite in ("answers", "all"):
            suites["answers"] = result.metrics
    calibration = None
    if request.suite in ("calibration", "all"):
        calibration = CalibrationEval(items, from_reviews=request.from_reviews).run(model.app, per_item)
        suites["calibration"] = calibration.metrics
        if calibration.fit is not None:
            suites["calibration"]["fitted_method"] = calibration.fit.method
    return ModelReport(model.label, suites, per_item, calibration)


def compare_reports(reports: Sequence[ModelReport], request: EvalRequest) -> dict[str, dict[str, float]] | None:
    """Paired-bootstrap deltas of every model against the first, when each has per-question records."""
    from evals.metrics import paired_bootstrap

    if len(reports) < 2 or not all(r.per_item for r in reports):
        return None
    comparison: dict[str, dict[str, float]] = {}
    for other in reports[1:]:
        result_cmp = paired_bootstrap(
            reports[0].per_item,
            other.per_item,
            comparison_metrics,
            n_resamples=request.bootstrap,
            seed=request.seed,
        )
        prefix = "" if len(reports) == 2 else f"{other.label}: "
        comparison.update({f"{prefix}{k}": v for k, v in result_cmp.items()})
    return comparison


def record_eval(
    base_app: AppDatabase,
    request: EvalRequest,
    reports: Sequence[ModelReport],
    served_bundle: Any,
    dataset: str,
    report_dir: Path,
    run_meta: dict[str, Any],
) -> None:
    """eval_run rows for every model, and the served model's calibration fit when its cross-validated Brier score
    beats the raw confidences'. What was stored (or why not) is noted in ``run_meta``."""
    from evals.calibration import store_calibration

    run_meta["eval_runs"] = {r.label: record_runs(base_app, r.label, dataset, r.suites, report_dir) for r in reports}
    served = not request.models
    fit = reports[0].calibration.fit if reports[0].calibration is not None else None
    improves = bool(reports[0].suites.get("calibration", {}).get("fit_improves"))
    if not (request.store_calibration and served and fit is not None and improves):
        return
    if served_bundle.version is not None:
        # A bundle's calibration changes only with a promotion (the next nightly refits it on reviews).
        run_meta["calibration_not_stored"] = f"production is bundle {served_bundle.version}"
    else:
        run_id = run_meta["eval_runs"][reports[0].label].get("calibration")
        calibration_id = store_calibration(base_app, fit, eval_run_id=uuid.UUID(run_id) if run_id else None)
        run_meta["calibration_stored"] = {"id": str(calibration_id), "method": fit.method}


def run_evals(settings: Any, request: EvalRequest, *, app: AppServices, bundles: BundleSource) -> EvalOutcome:
    """Run ``request`` on ``app`` (built by the caller for ``settings``: the composition root sits above evals),
    comparing the bundles ``bundles`` resolves."""
    started = time.perf_counter()
    base_app = app
    base_app.upgrade_database()
    items, dataset = load_items(base_app, request)
    resolved = bundles.resolve(base_app, request.models)
    answers = wants_answers(request)
    if answers or request.suite in ("retrieval", "all"):
        check_kb(base_app)
    models = build_models(base_app, resolved, bundles, served=not request.models)
    report_dir = request.report_dir or default_report_dir(settings)

    reports: list[ModelReport] = []
    timings: dict[str, float] = {}
    for model in models:
        t0 = time.perf_counter()
        reports.append(run_model(model, items, request, answers=answers))
        timings[model.label] = round(time.perf_counter() - t0, 1)
    comparison = compare_reports(reports, request)

    gate_results = [
        (m.label if len(reports) > 1 else "", r) for m in reports for r in check_gates(request.gates, m.suites)
    ]
    run_meta: dict[str, Any] = {
        "suite": request.suite,
        "dataset": dataset,
        "questions": len(items),
        "kinds": kinds_count(items),
        "models": [r.label for r in reports],
        "llm": settings.llm_model,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "seconds_per_model": timings,
        "report": str(report_dir),
        "batch_size": request.batch_size,
    }
    payload: dict[str, Any] = {"run": run_meta, "models": {r.label: r.suites for r in reports}}
    if len(reports) == 1:
        payload.update(reports[0].suites)
    if comparison is not None:
        payload["comparison"] = comparison
        run_meta["bootstrap"] = {"resamples": request.bootstrap, "seed": request.seed, "confidence": 0.95}
    if request.record:
        record_eval(base_app, request, reports, models[0].bundle, dataset, report_dir, run_meta)
    gate_lines = [r.line(f"{label}: " if label else "") for label, r in gate_results]
    title = f"bankbot eval {request.suite}: {', '.join(r.label for r in reports)} on {dataset}"
    write_report(Report(title, run_meta, reports, comparison, gate_lines), report_dir, payload)
    return EvalOutcome(payload, report_dir, gate_results)
