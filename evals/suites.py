"""Eval suites as small task objects, callable in-process by the CLI and the nightly gate. In-process use:

from evals.dataset import load_eval_set
from evals.suites import run_answers, run_calibration, run_suite

items = load_eval_set()                       # the demo set, references filled from the KB
result = run_answers(app, items, batch_size=8)  # AnswersResult(metrics, per_item)
calib = run_calibration(result.per_item)        # CalibrationResult(metrics, fit, ...)
metrics = run_suite("all", app, items)          # {"answers": {...}, "calibration": {...}, "retrieval": {...}}
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from evals import scoring
from evals.calibration import FittedCalibration, calibrated_metrics, fit_calibration
from evals.dataset import EvalItem
from evals.metrics import reliability_bins, risk_coverage

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase, AppServices

SUITE_NAMES = ("retrieval", "answers", "calibration", "all")
DEFAULT_BATCH_SIZE = 32  # questions per answer_batch call; the pipeline generates 8 prompts at a time


@dataclass
class AnswersResult:
    metrics: dict[str, float]
    per_item: list[dict[str, Any]]


@dataclass
class CalibrationResult:
    metrics: dict[str, Any]
    fit: FittedCalibration | None
    source: str  # "answers" (fresh answers scored by rule) or "reviews" (logged confidence + reviewers' verdict)
    confidences: list[float] = field(default_factory=list)
    labels: list[bool] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    curves: dict[str, Any] = field(default_factory=dict)


def generate_answers(
    app: AppServices,
    items: Sequence[EvalItem],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    desc: str = "answers",
) -> list[Any]:
    """ChatAnswers for every item through the real chat pipeline, batched, nothing logged."""
    from tqdm import tqdm

    answers: list[Any] = []
    questions = [item.question for item in items]
    with tqdm(total=len(questions), desc=desc, unit="q", disable=not progress, file=sys.stderr) as bar:
        for start in range(0, len(questions), batch_size):
            chunk = questions[start : start + batch_size]
            metas = [{"eval_item": item.id} for item in items[start : start + batch_size]]
            answers.extend(app.pipeline.answer_batch(chunk, metas=metas, log=False))
            bar.update(len(chunk))
    return answers


def run_answers(
    app: AppServices,
    items: Sequence[EvalItem],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    desc: str = "answers",
) -> AnswersResult:
    answers = generate_answers(app, items, batch_size=batch_size, progress=progress, desc=desc)
    records = [scoring.base_record(item, answer) for item, answer in zip(items, answers, strict=True)]
    scoring.add_text_scores(records, answers, app.embedder)
    return AnswersResult(metrics=scoring.answer_metrics(records), per_item=records)


def run_calibration(
    per_item: Sequence[Mapping[str, Any]],
    *,
    weights: Mapping[str, float] | None = None,
    n_bins: int = 15,
    source: str = "answers",
) -> CalibrationResult:
    """Calibration metrics of the shown confidence, plus a fit of the raw score (records need ``confidence``,
    ``label`` and ``confidence_components``; records whose label is None are left out)."""
    from chatbot.confidence import DEFAULT_WEIGHTS, raw_score

    kept = [r for r in per_item if r.get("label") is not None]
    conf = [float(r["confidence"]) for r in kept]
    labels = [bool(r["label"]) for r in kept]
    raw = [
        raw_score(r["confidence_components"], weights or DEFAULT_WEIGHTS)
        if r.get("confidence_components")
        else float(r["confidence"])
        for r in kept
    ]
    result = scoring.calibration_metrics(conf, labels, n_bins=n_bins)
    result["n"] = len(kept)
    fit = fit_calibration(raw, labels)
    if fit is not None:
        after = calibrated_metrics(fit, raw, labels)
        result["fitted_ece"] = after["ece"]
        result["fitted_brier"] = after["brier"]
        result["fitted_cv_brier"] = fit.cv_brier.get(fit.method, float("nan"))
        # Worth using only if its held-out Brier beats the confidence the chat shows now.
        result["fit_improves"] = bool(result["fitted_cv_brier"] < result["brier"])
    coverage, risk = risk_coverage(conf, labels)
    curves = {"reliability": reliability_bins(conf, labels, n_bins), "coverage": coverage, "risk": risk}
    return CalibrationResult(result, fit, source, conf, labels, raw, curves)


def review_records(items: Sequence[EvalItem]) -> list[dict[str, Any]]:
    """Calibration records from reviewed turns: the confidence logged with the turn and the reviewers' verdict."""
    return [
        {
            "id": item.id,
            "kind": item.kind,
            "confidence": float(item.logged_confidence),
            "label": bool(item.label),
            "confidence_components": dict(item.meta.get("confidence_components") or {}),
        }
        for item in items
        if item.label is not None and item.logged_confidence is not None
    ]


def active_weights(app: AppDatabase) -> dict[str, float]:
    """The component weights of the chat's active calibration (so the fit is on the score the chat computes)."""
    from chatbot.confidence import read_active_calibration

    with app.session() as session:
        return dict(read_active_calibration(session).weights)


class AnswersEval:
    name = "answers"

    def __init__(self, items: Sequence[EvalItem], *, batch_size: int = DEFAULT_BATCH_SIZE, progress: bool = True):
        self.items = list(items)
        self.batch_size = batch_size
        self.progress = progress

    def run(self, app: AppServices) -> AnswersResult:
        return run_answers(app, self.items, batch_size=self.batch_size, progress=self.progress)


class CalibrationEval:
    """Scores fresh answers by rule, or with ``from_reviews`` the logged confidences against the verdicts."""

    name = "calibration"

    def __init__(
        self,
        items: Sequence[EvalItem],
        *,
        from_reviews: bool = False,
        batch_size: int = DEFAULT_BATCH_SIZE,
        progress: bool = True,
    ):
        self.items = list(items)
        self.from_reviews = from_reviews
        self.batch_size = batch_size
        self.progress = progress

    def run(self, app: AppServices, per_item: Sequence[Mapping[str, Any]] | None = None) -> CalibrationResult:
        weights = active_weights(app)
        if self.from_reviews:
            return run_calibration(review_records(self.items), weights=weights, source="reviews")
        if per_item is None:
            per_item = run_answers(app, self.items, batch_size=self.batch_size, progress=self.progress).per_item
        return run_calibration(per_item, weights=weights)


class RetrievalEval:
    """The in-scope questions of the eval set through the retrieval suite of evals/retrieval.py (its module):
    accuracy@1, recall@5, MRR and latency of the retriever the chat uses."""

    name = "retrieval"

    def __init__(self, items: Sequence[EvalItem]):
        self.items = list(items)

    def run(self, app: AppServices) -> dict[str, Any]:
        from evals.retrieval import LabelledQuery
        from evals.retrieval import RetrievalEval as LabelledQueriesEval

        queries = [
            LabelledQuery(item.question, item.intent or item.expected_article or "")
            for item in self.items
            if item.kind == "in_scope" and (item.intent or item.expected_article)
        ]
        if not queries:
            return {}
        return dict(LabelledQueriesEval(queries).run(app))


def run_suite(
    name: str,
    app: AppServices,
    items: Sequence[EvalItem],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    from_reviews: bool = False,
) -> dict[str, dict[str, Any]]:
    """Metrics of one suite (or ``all``) keyed by suite name: the nightly gate's one call."""
    if name not in SUITE_NAMES:
        raise ValueError(f"unknown suite {name!r}; choose from {', '.join(SUITE_NAMES)}")
    out: dict[str, dict[str, Any]] = {}
    if name in ("retrieval", "all"):
        out["retrieval"] = RetrievalEval(items).run(app)
    per_item = None
    if name in ("answers", "all"):
        answers = AnswersEval(items, batch_size=batch_size, progress=progress).run(app)
        out["answers"], per_item = answers.metrics, answers.per_item
    if name in ("calibration", "all"):
        calibration = CalibrationEval(items, from_reviews=from_reviews, batch_size=batch_size, progress=progress)
        out["calibration"] = calibration.run(app, per_item).metrics
    return out
