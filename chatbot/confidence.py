"""Per-turn confidence from the generating model's own token probabilities and the retrieval evidence.

Components (all in [0, 1], stored with every turn):
  ``mean_token_prob``  mean probability the model gave to the tokens it produced
  ``min_token_prob``   the least certain token (one wrong fee or date is often the one low-probability token)
  ``seq_prob_norm``    length-normalised sequence probability, exp(mean log-prob) (geometric mean)
  ``top_score``        best retrieval score
  ``margin``           best minus second-best retrieval score (a clear winner ⇒ the right article)
  ``rank_margin``      the same gap in the retriever's ranking score, relative to the best one: (r1 - r2) / r1.
                       The ranking fuses the article search with the vote of similar reviewed questions, so two
                       articles both close to the question but split by the vote show here, not in ``margin``.
The raw score is a weighted mean of the components; an optional calibration (table ``calibration``: platt |
isotonic | temperature, or none) maps the raw score to a probability of being correct. The production bundle
(``model_version``) names its calibration and its abstention threshold; ``read_active_calibration`` returns both.
Pure functions except the two ``read_*`` queries.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

COMPONENTS = ("mean_token_prob", "min_token_prob", "seq_prob_norm", "top_score", "margin", "rank_margin")
# The retrieval half (0.55) is split by how well each part tells a wrong top article on held-out Banking77 queries
# (benchmarks/retrieval_confidence.py, docs/retrieval.md): with 600 indexed questions the AUROC of top_score alone
# is 0.77, margin 0.85, rank_margin 0.87, and this split 0.89 (top_score 0.40 + margin 0.15 without rank_margin:
# 0.81).
DEFAULT_WEIGHTS: dict[str, float] = {
    "mean_token_prob": 0.15,
    "min_token_prob": 0.05,
    "seq_prob_norm": 0.25,
    "top_score": 0.20,
    "margin": 0.10,
    "rank_margin": 0.25,
}
RETRIEVAL_COMPONENTS = ("top_score", "margin", "rank_margin")
METHODS = ("platt", "isotonic", "temperature")
UNCALIBRATED = "none"  # a calibration row that keeps the raw score (a bundle pins "no calibration" explicitly)


@dataclass(frozen=True)
class ConfidenceParams:
    """How to turn components into the final score: weights of the raw mean, then an optional calibration.

    ``method``/``params`` follow the ``calibration`` table: platt ``{"a", "b"}`` → sigmoid(a·raw + b);
    temperature ``{"temperature"}`` → sigmoid(logit(raw) / T); isotonic ``{"x": [...], "y": [...]}`` (increasing
    x) → piecewise-linear interpolation, flat outside. ``params`` may also carry ``"weights"`` to replace
    ``DEFAULT_WEIGHTS`` when the eval suite fits those too. ``abstain_threshold``: the bundle's fitted threshold
    (None: the configured one, see ``abstain_below``).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    method: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    abstain_threshold: float | None = None
    # Whether the bundle's model answers are shown (its gate's decision); None: no bundle decided it (the base
    # model: ``settings.base_model_answers``).
    generated_answers: bool | None = None
    # The retrieval certainty an answer drawn from the top article needs, fitted at promotion
    # (``chatbot.risk.article_threshold``); None: the configured floors alone (see ``certainty_needed``).
    article_threshold: float | None = None

    @classmethod
    def from_calibration(
        cls, method: str, params: Mapping[str, Any], *, abstain_threshold: float | None = None
    ) -> ConfidenceParams:
        if method not in (*METHODS, UNCALIBRATED):
            raise ValueError(f"calibration method must be one of {', '.join(METHODS)}, not {method!r}")
        weights = dict(params.get("weights") or DEFAULT_WEIGHTS)
        return cls(
            weights=weights,
            method=None if method == UNCALIBRATED else method,
            params=dict(params),
            abstain_threshold=abstain_threshold,
        )

    def answers_shown(self, base_model_answers: bool) -> bool:
        """Whether the model's answers are shown: the bundle's decision, else (no bundle) the configured one."""
        return base_model_answers if self.generated_answers is None else self.generated_answers

    def abstain_below(self, configured: float) -> float:
        """The confidence below which the chat hands off: the bundle's fitted threshold, else ``configured``."""
        return configured if self.abstain_threshold is None else self.abstain_threshold

    def certainty_needed(self, configured: float) -> float:
        """The retrieval certainty an answer drawn from the top article needs: the configured floor, raised to the
        bundle's fitted article threshold when that is higher."""
        return configured if self.article_threshold is None else max(configured, self.article_threshold)


def confidence_components(
    token_logprobs: Sequence[float], source_scores: Sequence[float], rank_scores: Sequence[float] | None = None
) -> dict[str, float]:
    """The components above; with no generated tokens (nothing was generated) the token parts are 0. Without
    ``rank_scores`` (a retriever that only scores), the ranking is the scores themselves."""
    if token_logprobs:
        probs = [math.exp(lp) for lp in token_logprobs]
        mean_prob = sum(probs) / len(probs)
        min_prob = min(probs)
        seq_norm = math.exp(sum(token_logprobs) / len(token_logprobs))
    else:
        mean_prob = min_prob = seq_norm = 0.0
    scores = sorted((_clip(s) for s in source_scores), reverse=True)
    top = scores[0] if scores else 0.0
    margin = top - scores[1] if len(scores) > 1 else top
    rank_margin = relative_margin(source_scores if rank_scores is None else rank_scores)
    return {
        "mean_token_prob": mean_prob,
        "min_token_prob": min_prob,
        "seq_prob_norm": seq_norm,
        "top_score": top,
        "margin": margin,
        "rank_margin": rank_margin,
        "n_tokens": float(len(token_logprobs)),
    }


def relative_margin(scores: Sequence[float]) -> float:
    """(best - second best) / best; 1 with one candidate (nothing competes), 0 when the best scores 0."""
    ranks = sorted((_clip(r) for r in scores), reverse=True)
    if not ranks or ranks[0] <= 0.0:
        return 0.0
    return (ranks[0] - ranks[1]) / ranks[0] if len(ranks) > 1 else 1.0


def raw_score(components: Mapping[str, float], weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> float:
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("confidence weights must sum to a positive number")
    return _clip(sum(w * components.get(name, 0.0) for name, w in weights.items()) / total)


def retrieval_certainty(components: Mapping[str, float], weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> float:
    """The retrieval part of the raw score alone: how sure retrieval is of the top article, whatever the model
    wrote. Gates the fallback to an article's approved answer or passage (``chatbot.turn_outcome``)."""
    part = {name: weights.get(name, 0.0) for name in RETRIEVAL_COMPONENTS}
    if sum(part.values()) <= 0:
        return _clip(components.get("top_score", 0.0))
    return raw_score(components, part)


def apply_calibration(raw: float, method: str | None, params: Mapping[str, Any]) -> float:
    """Map a raw score in [0, 1] through a fitted calibration; ``method=None`` returns it unchanged."""
    if method is None:
        return _clip(raw)
    if method == "platt":
        return _sigmoid(float(params["a"]) * raw + float(params["b"]))
    if method == "temperature":
        temperature = float(params["temperature"])
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        return _sigmoid(_logit(raw) / temperature)
    if method == "isotonic":
        xs = [float(x) for x in params["x"]]
        ys = [float(y) for y in params["y"]]
        if not xs or len(xs) != len(ys):
            raise ValueError("isotonic calibration needs x and y of the same non-zero length")
        return _clip(_interpolate(raw, xs, ys))
    raise ValueError(f"unknown calibration method {method!r}")


def combine(components: Mapping[str, float], params: ConfidenceParams | None = None) -> float:
    """The final confidence in [0, 1]: weighted mean of the components, then the calibration if there is one."""
    params = params or ConfidenceParams()
    return apply_calibration(raw_score(components, params.weights), params.method, params.params)


def read_active_calibration(session: Any) -> ConfidenceParams:
    """What the chat uses: the production bundle's calibration and threshold (``read_bundle_calibration``)."""
    from chatbot.registry import production_row

    return read_bundle_calibration(session, production_row(session))


def read_bundle_calibration(session: Any, bundle: Any) -> ConfidenceParams:
    """A bundle's calibration and abstention threshold. A bundle without a calibration of its own (recorded before
    calibrations were part of bundles), or no bundle at all (the base model), reads the newest active row of the
    ``calibration`` table (fitted by ``bankbot eval``); with none either, the uncalibrated defaults."""
    from sqlmodel import col, select

    from chatbot.db.models import Calibration

    threshold = None if bundle is None else bundle.abstain_threshold
    article = None if bundle is None else bundle.article_threshold
    # A bundle recorded before the gate decided it keeps showing its model's answers, as it did.
    shown = None if bundle is None else (True if bundle.generated_answers is None else bool(bundle.generated_answers))
    row = None
    if bundle is not None and bundle.calibration_id is not None:
        row = session.get(Calibration, bundle.calibration_id)
    if row is None:
        stmt = select(Calibration).where(col(Calibration.active).is_(True)).order_by(col(Calibration.created_at).desc())
        row = session.exec(stmt).first()
    if row is None:
        return ConfidenceParams(abstain_threshold=threshold, generated_answers=shown, article_threshold=article)
    return replace(
        ConfidenceParams.from_calibration(row.method, row.params or {}, abstain_threshold=threshold),
        generated_answers=shown,
        article_threshold=article,
    )


def _interpolate(x: float, xs: list[float], ys: list[float]) -> float:
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, x)
    x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
    return y0 if x1 == x0 else y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _logit(p: float, eps: float = 1e-6) -> float:
    p = min(max(p, eps), 1.0 - eps)
    return math.log(p / (1.0 - p))


def _clip(x: float) -> float:
    return min(max(float(x), 0.0), 1.0)
