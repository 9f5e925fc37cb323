"""What the customers of the held-out questions were shown, how often it was right, with bootstrap intervals, and
why each wrong or withheld answer failed. Pure functions (exact values in tests/test_simulation.py).

"Shown" is a generated answer or the article's passage (``ChatAnswer.answer_kind``); a hand-off or a refusal is
not shown. Over n questions: answer_accuracy_shown = right shown / shown, coverage = shown / n,
wrong_shown_rate = wrong shown / n (= coverage x (1 - answer_accuracy_shown)), generated_share = generated /
shown (how much of what customers read the model wrote, rather than the passage fallback).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SHOWN_KINDS = ("generated", "passage")
SHOWN_METRICS = ("answer_accuracy_shown", "coverage", "wrong_shown_rate", "generated_share")
N_RESAMPLES = 1000
INTERVAL_LEVEL = 0.95
# Why an answer failed (``failure``); "" for a right shown answer.
FAILURES = ("retrieval_miss", "wrong_citation", "no_citation", "wrong_fact", "over_abstention", "refused")


@dataclass(frozen=True)
class Outcome:
    """One held-out question's answer, as the shown-answer metrics see it."""

    shown: bool
    right: bool  # the judge's verdict on the shown answer (False when nothing was shown)
    generated: bool  # the model's own answer was shown (not the passage)


def _rates(shown: np.ndarray, right: np.ndarray, generated: np.ndarray) -> dict[str, np.ndarray]:
    """The four rates along the last axis (one question per column), NaN where nothing was shown."""
    n = shown.shape[-1]
    shown_n = shown.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "answer_accuracy_shown": (shown & right).sum(axis=-1) / shown_n,
            "coverage": shown_n / n,
            "wrong_shown_rate": (shown & ~right).sum(axis=-1) / n,
            "generated_share": (shown & generated).sum(axis=-1) / shown_n,
        }


def _columns(outcomes: Sequence[Outcome]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    shown = np.array([o.shown for o in outcomes], dtype=bool)
    right = np.array([o.right for o in outcomes], dtype=bool)
    generated = np.array([o.generated for o in outcomes], dtype=bool)
    return shown, right, generated


def shown_metrics(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The four shown-answer rates (NaN for an empty list, and for the per-shown ones when nothing was shown)."""
    if not outcomes:
        return {key: float("nan") for key in SHOWN_METRICS}
    return {key: float(value) for key, value in _rates(*_columns(outcomes)).items()}


def bootstrap_intervals(
    outcomes: Sequence[Outcome],
    *,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    level: float = INTERVAL_LEVEL,
) -> dict[str, dict[str, float]]:
    """Percentile bootstrap interval of each rate: ``n_resamples`` resamples of the questions with replacement
    (seeded); a resample where a rate is undefined (nothing shown) is left out of that rate's interval."""
    if not outcomes:
        return {key: {"low": float("nan"), "high": float("nan")} for key in SHOWN_METRICS}
    shown, right, generated = _columns(outcomes)
    idx = np.random.default_rng(seed).integers(0, len(outcomes), size=(n_resamples, len(outcomes)))
    tail = (1.0 - level) / 2
    intervals = {}
    for key, values in _rates(shown[idx], right[idx], generated[idx]).items():
        defined = values[~np.isnan(values)]
        low, high = np.quantile(defined, [tail, 1.0 - tail]).tolist() if defined.size else [float("nan")] * 2
        intervals[key] = {"low": float(low), "high": float(high)}
    return intervals


def failure(*, answer_kind: str, right: bool, reason: str, retrieval_right: bool) -> str:
    """Why a held-out answer is not a right shown answer ("" when it is), from the judge's ``reason``:

    - retrieval_miss: retrieval did not rank the question's article first, and the answer (or hand-off) followed it;
    - wrong_citation: retrieval was right but the answer cited another passage first;
    - no_citation: the answer cited nothing;
    - wrong_fact: the right article, but a fact it does not state or too few of its key facts (the judge's reason,
      contradiction or missing_fact, says which);
    - over_abstention: handed off although retrieval ranked the right article first;
    - refused: the guard refused the question.
    """
    shown = answer_kind in SHOWN_KINDS
    if shown and right:
        return ""
    if answer_kind == "refusal":
        return "refused"
    if not shown:
        return "over_abstention" if retrieval_right else "retrieval_miss"
    if reason == "wrong_article":
        return "wrong_citation" if retrieval_right else "retrieval_miss"
    if reason == "no_citation":
        return "no_citation"
    return "wrong_fact"
