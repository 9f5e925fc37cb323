"""The dashboard's serving line: the production bundle, the abstention threshold in force, coverage and the
estimated risk of wrong shown answers (numbers from ``ui.stats.coverage`` and ``chatbot.risk.risk_at``)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from chatbot.db.models import ModelVersion, Turn
from chatbot.risk import RiskEstimate
from ui import stats

RECENT_TURNS = 1000  # coverage is measured over the newest turns


@dataclass
class ServingSummary:
    version: str | None  # the production bundle (None: the base model)
    threshold: float  # in force: below it the chat hands off
    fitted: bool  # fitted for the target wrong rate (False: settings.abstain_confidence)
    fit: dict[str, Any]  # how it was fitted (chatbot.risk.RiskThreshold), empty without a bundle
    coverage: float | None  # share of the recent turns shown, not handed off
    recent_turns: int
    risk: RiskEstimate  # wrong rate among the reviewed turns the threshold shows
    spot_checked: bool = False  # the risk is estimated on the random spot check only
    # Retrieval certainty an answer drawn from the top article needs: the bundle's fitted one (None: the floor).
    article_threshold: float | None = None
    article_floor: float = 0.55  # settings.passage_min_retrieval_certainty


def threshold_cell(version: ModelVersion) -> str:
    if version.abstain_threshold is None:
        return "configured"
    return "hand off all" if version.abstain_threshold > 1.0 else f"{version.abstain_threshold:.3f}"


def load_serving(
    session: Session,
    *,
    configured_threshold: float | None = None,
    spot_check_share: float = 0.0,
    article_floor: float | None = None,
) -> ServingSummary:
    """The production bundle's threshold in force, coverage of the recent turns and the estimated risk: the wrong
    rate among reviewed turns (the spot check's, when ``spot_check_share`` > 0) whose confidence (under the
    bundle's calibration) the threshold would show. ``article_floor``: ``settings.passage_min_retrieval_certainty``
    (None: its default)."""
    from chatbot.confidence import read_bundle_calibration
    from chatbot.registry import production_row
    from chatbot.risk import risk_at
    from finetune.bundle import reviewed_outcomes

    row = production_row(session)
    confidence = read_bundle_calibration(session, row)
    threshold = confidence.abstain_below(_configured(configured_threshold))
    recent = session.exec(select(Turn.abstained).order_by(col(Turn.created_at).desc()).limit(RECENT_TURNS)).all()
    confidences, right, _ = reviewed_outcomes(session, confidence, spot_check_share=spot_check_share)
    return ServingSummary(
        version=row.version if row is not None else None,
        threshold=threshold,
        fitted=confidence.abstain_threshold is not None,
        fit=dict(row.risk or {}) if row is not None else {},
        coverage=stats.coverage(recent),
        recent_turns=len(recent),
        risk=risk_at(confidences, right, threshold),
        spot_checked=spot_check_share > 0.0,
        article_threshold=confidence.article_threshold,
        article_floor=_configured(article_floor, "passage_min_retrieval_certainty"),
    )


def serving_markdown(serving: ServingSummary) -> str:
    bundle = f"bundle **{html.escape(serving.version)}**" if serving.version else "**the base model** (no bundle)"
    target = serving.fit.get("target")
    if not serving.fitted:
        why = html.escape(str(serving.fit.get("reason") or "no bundle promoted"))
        threshold = f"abstains below **{serving.threshold:.3f}** (configured: {why})"
    elif serving.threshold > 1.0:
        threshold = f"**hands off every answer** (no confidence level meets the {float(target or 0):.1%} target)"
    else:
        threshold = f"abstains below **{serving.threshold:.3f}** (fitted for {float(target or 0):.1%} wrong answers)"
    if serving.coverage is None:
        coverage = "coverage: no turns yet"
    else:
        coverage = f"coverage **{serving.coverage:.0%}** of the last {serving.recent_turns} turns"
    risk = serving.risk
    sample = "spot-checked" if serving.spot_checked else "reviewed"
    if risk.wrong_rate is None or risk.upper_bound is None:
        estimate = f"estimated risk: no {sample} answer above the threshold yet"
    else:
        estimate = (
            f"estimated risk **{risk.wrong_rate:.1%}** wrong (95% upper bound {risk.upper_bound:.1%}) "
            f"over {risk.shown} shown {sample} answers"
        )
    return f"Serving {bundle} · {threshold} · {article_line(serving)} · {coverage} · {estimate}"


def article_line(serving: ServingSummary) -> str:
    """What answers drawn from the top article (the model's, approved answers, the article's sentences) need."""
    fitted = serving.article_threshold
    found = serving.fit.get("article")
    article_fit: dict[str, Any] = found if isinstance(found, dict) else {}
    if fitted is None or fitted <= serving.article_floor:
        why = html.escape(str(article_fit.get("reason") or "no bundle promoted"))
        return f"answers from an article need retrieval certainty **≥ {serving.article_floor:.3f}** (configured: {why})"
    if fitted > 1.0:
        return "**no answer from an article** (no retrieval certainty meets the target)"
    return f"answers from an article need retrieval certainty **≥ {fitted:.3f}** (fitted on the spot check)"


def _configured(value: float | None, setting: str = "abstain_confidence") -> float:
    from chatbot.settings import Settings

    return float(Settings.model_fields[setting].default) if value is None else value
