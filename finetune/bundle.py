"""Bundles: everything one promotion changes, read as a unit by the chat, the gate and the evals.

A bundle (a ``model_version`` row) is an adapter (optional), the embedder it retrieves with (``embedder_version``:
a fine-tuned one's version, or None for the configured one), a snapshot of the few-shot store and the example
index (``retrieval.snapshots``), a confidence calibration, the abstention threshold and its lineage (the reviewed
turns it learned from, table ``bundle_turn``). The nightly job writes a candidate's snapshot and fits its
calibration here; ``finetune.registry.promote_version`` fits the threshold (``fit_threshold``) and flips production,
embedder included, in one transaction. With no production bundle the base model serves snapshot 0 with the newest
active calibration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.confidence import ConfidenceParams
from chatbot.registry import AdapterRef, production_snapshot
from chatbot.risk import RiskThreshold

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase, AppServices


@dataclass(frozen=True)
class BundleRef:
    version: str | None  # None: no bundle is promoted (the base model)
    adapter: AdapterRef | None  # None: the base model
    index_snapshot: int
    confidence: ConfidenceParams  # calibration and abstention threshold
    calibration_id: Any = None  # the calibration row the bundle names (None: the active one)
    embedder_version: str | None = None  # the embedder it retrieves with (None: the configured one)

    def at_configured_threshold(self) -> BundleRef:
        """The same bundle abstaining at ``settings.abstain_confidence`` and showing its model's answers: the gate
        compares two bundles' models at one threshold, so neither the risk policy (fitted at promotion) nor whether
        a bundle shows its answers decides which model is better."""
        return replace(self, confidence=replace(self.confidence, abstain_threshold=None, generated_answers=True))


def bundle_of(session: Any, row: Any, *, settings: Any = None) -> BundleRef:
    """The BundleRef of a model_version row (None: no bundle, the base model).

    ``settings`` locate the adapter: the row stores its folder relative to the artifact root. Without them only an
    absolute path (a row written by an older release) can be located; a relative one raises RegistryError."""
    from chatbot.confidence import read_bundle_calibration
    from chatbot.registry import production_embedder_row

    confidence = read_bundle_calibration(session, row)
    if row is None:  # no bundle: an older release's imported embedder if any, else the configured one
        embedder = production_embedder_row(session)
        return BundleRef(None, None, 0, confidence, embedder_version=embedder.version if embedder else None)
    adapter = _adapter_of(settings, row)
    return BundleRef(row.version, adapter, row.index_snapshot, confidence, row.calibration_id, row.embedder_version)


def _adapter_of(settings: Any, row: Any) -> AdapterRef | None:
    from chatbot.registry import RegistryError, adapter_ref

    if settings is not None:
        return adapter_ref(settings, row)
    if not row.adapter_path:
        return None
    if not Path(row.adapter_path).is_absolute():
        raise RegistryError(f"{row.version}: its adapter path is relative to the artifact root; pass the settings")
    return AdapterRef(version=row.version, path=Path(row.adapter_path))


def production_bundle(app: AppDatabase) -> BundleRef:
    from chatbot.registry import production_row

    with app.session() as session:
        return bundle_of(session, production_row(session), settings=app.settings)


def get_bundle(app: AppDatabase, version: str) -> BundleRef:
    from chatbot.registry import version_row

    with app.session() as session:
        return bundle_of(session, version_row(session, version), settings=app.settings)


def follow_production(app: AppServices) -> int:
    """Switch the app's retrieval to the production embedder when it changed (``follow_production_embedder``), and
    point its loaded few-shot store and example index at the production bundle's snapshot (with the pipeline's
    ``reload``, which re-reads the adapter, calibration and threshold, the whole bundle switches)."""
    app.follow_production_embedder()
    snapshot = production_snapshot(app)
    for store in app.loaded_snapshot_stores():  # a store not loaded yet reads the snapshot when it opens
        if hasattr(store, "snapshot"):
            store.snapshot = snapshot
    return snapshot


def bundle_app(app: AppServices, bundle: BundleRef) -> AppServices:
    """An app that answers exactly as ``bundle`` would: its adapter, its embedder, its few-shot and example-index
    snapshot, its calibration and threshold. A bundle naming another embedder than ``app``'s gets that embedder's
    model and collections (``with_embedder``: the knowledge base, example index and few-shot store it re-embedded);
    else the embedder and knowledge base are shared with ``app``, and a retriever given to ``app`` (tests, tools) is
    used as it is. The database is always shared; a retriever not given is built over the bundle's example index."""
    from chatbot.generation import build_generator

    if bundle.embedder_version != app.embedder_version:
        app = app.with_embedder(bundle.embedder_version)
    example_index = _view(app.example_index, bundle.index_snapshot)
    fewshot = _view(app.fewshot, bundle.index_snapshot)
    generator = build_generator(app.settings, adapter=bundle.adapter)
    return app.with_parts(
        generator=generator, example_index=example_index, fewshot=fewshot, calibration=bundle.confidence
    )


def _view(store: Any, snapshot: int) -> Any:
    return store.at(snapshot) if hasattr(store, "at") else store


# --- what a night adds to its candidate ---------------------------------------------------------------------
def write_index_snapshot(app: AppServices, snapshot: int, examples: Sequence[Any]) -> dict[str, int]:
    """The candidate's few-shot examples (every learned example, approved and corrected) and example questions
    (only articles reviewers vouched for: an approved answer's, or the one chosen for a correction; a correction
    without one may keep the bot's wrong article). Frozen eval questions never get here: the dataset dropped them."""
    from chatbot.fewshot import FewShotExample

    confirmed = [e for e in examples if e.article_confirmed and e.article_id]
    index = app.example_index.write_snapshot(
        snapshot, [e.question for e in confirmed], [str(e.article_id) for e in confirmed]
    )
    shots = [
        FewShotExample(
            question=e.question, answer=e.messages[-1]["content"], article_id=e.article_id or "", turn_id=e.turn_id
        )
        for e in examples
    ]
    fewshot = app.fewshot.write_snapshot(snapshot, shots)
    return {
        "snapshot": snapshot,
        "example_index_added": index["added"],
        "example_index_removed": index["removed"],
        "fewshot_added": fewshot["added"],
        "fewshot_removed": fewshot["removed"],
    }


def fit_calibration(
    app: AppDatabase, production: BundleRef, *, adapted_only: bool = False
) -> tuple[Any, dict[str, Any], list[str]]:
    """The candidate's calibration: refitted on every reviewed turn (logged confidence components vs the
    reviewers' verdict) when that beats the logged confidence on held-out folds, else production's carried over.
    Returns (calibration row id, summary, ids of the reviewed turns used).

    ``adapted_only`` (an adapted candidate): only turns an adapted bundle answered, as for the threshold. Fitted on
    the base model's answers, which reviewers corrected almost all, the calibration learned "every answer is wrong":
    the first adapter's held-out answers were right 64 % of the time at a mean confidence of 0.16, so nearly all
    were withheld (docs/simulation.md). With no adapted turn reviewed yet, a base-model production calibration is
    not carried over: the candidate starts uncalibrated."""
    from chatbot.confidence import UNCALIBRATED
    from chatbot.db.models import Calibration
    from evals.dataset import BadEvalSet, load_review_items
    from evals.suites import review_records, run_calibration

    try:
        items = load_review_items(app)
    except BadEvalSet:  # no agreed reviews yet
        items = []
    if adapted_only:
        items = [item for item in items if item.meta.get("adapter_version")]
    records = review_records(items)
    weights = dict(production.confidence.weights)
    result = run_calibration(records, weights=weights, source="reviews") if records else None
    fit = result.fit if result is not None and result.metrics.get("fit_improves") else None
    summary: dict[str, Any] = {"reviewed": len(records), "refitted": fit is not None, "adapted_only": adapted_only}
    if result is not None:
        summary.update({k: result.metrics.get(k) for k in ("brier", "fitted_cv_brier") if k in result.metrics})
    turn_ids = [str(r["id"]) for r in records]
    if fit is None and adapted_only and production.adapter is None:
        # production's calibration describes the base model's answers, not an adapter's
        row = Calibration(method=UNCALIBRATED, params={"weights": weights}, active=False)
        summary["method"] = row.method
        with app.session() as session:
            session.add(row)
            session.commit()
            return row.id, summary, turn_ids
    if fit is None and production.calibration_id is not None:
        summary["method"] = production.confidence.method or UNCALIBRATED
        return production.calibration_id, summary, turn_ids
    if fit is not None:
        row = Calibration(method=fit.method, params={**fit.params, "weights": weights}, active=False)
    else:  # pin what production uses now (the active row or no calibration), so the bundle does not drift
        method = production.confidence.method or UNCALIBRATED
        row = Calibration(method=method, params={**production.confidence.params, "weights": weights}, active=False)
    summary["method"] = row.method
    with app.session() as session:
        session.add(row)
        session.commit()
        return row.id, summary, turn_ids


def threshold_decided_reviews(
    session: Any, *, spot_check_share: float, reasons: Sequence[str | None] | None = None
) -> list[Any]:
    """Agreed reviewed turns whose shown-or-handed-off decision was a threshold — ``reasons``, by default
    ``chatbot.risk.THRESHOLD_DECIDED_REASONS`` (the confidence threshold: the model answered; not out of scope,
    refused or empty) — oldest first, as rows (id, confidence, confidence_components, meta, consensus_verdict,
    consensus_article_id, adapter_version, sources). ``spot_check_share`` > 0: only the spot check's turns
    (``chatbot.risk.in_spot_check``), an unbiased sample of the answers; the others were reviewed because their
    confidence was low. 0: every such turn."""
    from sqlalchemy import select
    from sqlmodel import col

    from chatbot.db.models import ReviewStatus, Turn
    from chatbot.risk import JUDGED_VERDICTS, THRESHOLD_DECIDED_REASONS, in_spot_check

    stmt = (
        # plain SQLAlchemy select: SQLModel's typed overloads stop at four columns
        select(
            col(Turn.id),
            col(Turn.confidence),
            col(Turn.confidence_components),
            col(Turn.meta),
            col(Turn.consensus_verdict),
            col(Turn.consensus_article_id),
            col(Turn.adapter_version),
            col(Turn.sources),
            col(Turn.question),
        )
        .where(col(Turn.review_status) == ReviewStatus.agreed)
        .where(col(Turn.consensus_verdict).in_(JUDGED_VERDICTS))
        .order_by(col(Turn.created_at), col(Turn.id))
    )
    wanted = THRESHOLD_DECIDED_REASONS if reasons is None else tuple(reasons)
    rows = []
    for row in session.execute(stmt).all():
        reason = (row.meta or {}).get("reason")
        if reason not in wanted:
            continue
        if spot_check_share > 0.0 and not in_spot_check(row.question, reason, spot_check_share):
            continue
        rows.append(row)
    return rows


def reviewed_outcomes(
    session: Any, confidence: ConfidenceParams, *, adapted_only: bool = False, spot_check_share: float = 0.0
) -> tuple[list[float], list[bool], list[str]]:
    """The threshold-decided reviewed turns (``threshold_decided_reviews``): each one's confidence under
    ``confidence`` (recomputed from the logged components, else the logged score) and whether reviewers approved
    it. Returns (confidences, right, turn ids).

    ``adapted_only``: only turns an adapted bundle answered. The base model's answers say nothing about how often an
    adapter that reuses approved answers is wrong at a given confidence: fitted on them, the first adapter's
    threshold withheld every answer it wrote (docs/simulation.md)."""
    from chatbot.confidence import combine
    from chatbot.risk import verdict_is_right

    confidences: list[float] = []
    right: list[bool] = []
    turn_ids: list[str] = []
    for row in threshold_decided_reviews(session, spot_check_share=spot_check_share):
        if adapted_only and row.adapter_version is None:
            continue
        components = row.confidence_components
        confidences.append(combine(components, confidence) if components else float(row.confidence))
        right.append(verdict_is_right(str(row.consensus_verdict)))
        turn_ids.append(str(row.id))
    return confidences, right, turn_ids


def fit_threshold(
    app: AppDatabase, confidence: ConfidenceParams, *, adapted_only: bool = False
) -> tuple[RiskThreshold, list[str]]:
    """The abstention threshold for ``settings.target_wrong_rate`` (``chatbot.risk.threshold_for_risk``), fitted on
    the spot check's reviewed turns."""
    from chatbot.risk import threshold_for_risk

    share = app.settings.spot_check_share
    with app.session() as session:
        confidences, right, turn_ids = reviewed_outcomes(
            session, confidence, adapted_only=adapted_only, spot_check_share=share
        )
    return threshold_for_risk(confidences, right, app.settings.target_wrong_rate), turn_ids


def reviewed_article_outcomes(session: Any, *, spot_check_share: float) -> tuple[list[float], list[bool], list[str]]:
    """The reviewed turns the article certainty decided (``threshold_decided_reviews`` with
    ``chatbot.risk.ARTICLE_DECIDED_REASONS``: hand-offs of uncertain articles included) as (logged retrieval
    certainty, whether the top retrieved article was the right one (``chatbot.risk.article_was_right``), turn ids).
    Rejections and turns logged without a certainty are left out."""
    from chatbot.risk import ARTICLE_DECIDED_REASONS, article_was_right

    certainties: list[float] = []
    right: list[bool] = []
    turn_ids: list[str] = []
    decided = threshold_decided_reviews(session, spot_check_share=spot_check_share, reasons=ARTICLE_DECIDED_REASONS)
    for row in decided:
        certainty = (row.meta or {}).get("retrieval_certainty")
        top = str(row.sources[0].get("id")) if row.sources else None
        label = article_was_right(str(row.consensus_verdict), row.consensus_article_id, top)
        if label is None or not isinstance(certainty, int | float):
            continue
        certainties.append(float(certainty))
        right.append(label)
        turn_ids.append(str(row.id))
    return certainties, right, turn_ids


def fit_article_threshold(app: AppDatabase) -> tuple[RiskThreshold, list[str]]:
    """The retrieval certainty answers drawn from the top article need for ``settings.target_wrong_rate`` at
    ``settings.article_threshold_level`` (``chatbot.risk.article_threshold``), fitted on the spot check's reviewed
    turns, never below ``settings.passage_min_retrieval_certainty``."""
    from chatbot.risk import article_threshold

    settings = app.settings
    with app.session() as session:
        certainties, right, turn_ids = reviewed_article_outcomes(session, spot_check_share=settings.spot_check_share)
    fit = article_threshold(
        certainties,
        right,
        settings.target_wrong_rate,
        floor=settings.passage_min_retrieval_certainty,
        level=settings.article_threshold_level,
    )
    return fit, turn_ids
