"""Selective answering at a chosen risk: the abstention threshold from reviewed turns (pure functions).

A reviewed turn gives the confidence the chat logged and whether the reviewers judged the answer right. Showing
only answers with confidence >= t leaves a wrong rate among the shown answers; ``threshold_for_risk`` returns the
lowest t whose wrong rate is at most the target **with 95 % confidence**: the exact one-sided (Clopper-Pearson)
upper bound of the wrong rate among the reviewed turns shown at t must not exceed the target.

Why a bound and not the plain rate: 0 wrong out of 3 shown is a wrong rate of 0, which would pass any target. The
bound of 0 wrong out of n is 1 - 0.05^(1/n), at most 2 % only from n = 149 turns on. Consequences:

- fewer reviewed turns than ``reviewed_needed(target)`` (149 for 2 %): not even a perfect record could show that
  the target is met, so no threshold is fitted (``threshold`` is None) and the caller keeps the configured
  ``settings.abstain_confidence``;
- enough reviewed turns but no threshold meets the target: the reviews show the answers too risky at every
  confidence, so the threshold is ``SHOW_NOTHING`` (above every confidence: every answer is handed off).

Which reviewed turns: only the **spot check**, a fixed random share of the answered turns (``in_spot_check``) that
the review queue serves in order of arrival, whatever their confidence. The rest of the queue goes to the least
confident answers first, so a fit on every reviewed turn sees almost only low-confidence answers and judges every
confidence by them: fitted so, the loop's third night handed off every answer an adapter wrote (188 reviewed, all
from the bottom of the queue). The spot check is an unbiased sample of what customers are answered.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

CONFIDENCE_LEVEL = 0.95
# Above every confidence in [0, 1]: with this threshold nothing is shown.
SHOW_NOTHING = math.nextafter(1.0, 2.0)
# Which consensus verdicts say the bot's answer was right. ``kb_gap`` counts as wrong: an answer shown to a
# question the knowledge base cannot answer was made up.
RIGHT_VERDICTS = frozenset({"approve"})
JUDGED_VERDICTS = ("approve", "correct", "reject", "kb_gap")
# Turns whose shown-or-handed-off decision was the confidence threshold: the model answered (``meta["reason"]``
# None: shown; "low_confidence": withheld; "answers_not_earned": at or above the threshold, withheld only because
# the bundle's gate has not let its model's answers through, ``chatbot.turn_outcome.ANSWERS_NOT_EARNED``) — not
# out of scope, refused, empty or failing an answer check. Leaving the last out would fit the threshold a bundle
# uses once its answers are earned on low-confidence turns alone.
THRESHOLD_DECIDED_REASONS = (None, "low_confidence", "answers_not_earned")
# Turns whose shown-or-handed-off decision was the retrieval certainty the top article needs (``article_threshold``):
# every turn the model answered from an article — shown, withheld at the confidence threshold, failing an answer
# check (then the article's own answer or a hand-off: ``chatbot.turn_outcome.MODEL_FAILURES``) or handed off because
# retrieval was not sure of the article (``chatbot.turn_outcome.UNCERTAIN_ARTICLE``). The spot check draws from all
# of them. Without the last, the fitted certainty was a ratchet: once raised, the spot check held no turn below it,
# so no later fit could lower it (the loop's coverage fell from 0.58 to 0.36 over two nights, docs/benchmarks.md).
ARTICLE_DECIDED_REASONS = (
    *THRESHOLD_DECIDED_REASONS,
    "uncertain_article",
    "llm_unavailable",
    "empty_answer",
    "unsupported_number",
    "unsupported_figure",
    "repeated_text",
    "ungrounded",
)
_SPOT_CHECK_SALT = b"bankbot spot check\0"


@dataclass(frozen=True)
class RiskThreshold:
    threshold: float | None  # None: too few reviewed turns, keep settings.abstain_confidence
    target: float
    level: float
    reviewed: int  # reviewed turns considered
    shown: int  # of them, at or above the threshold
    wrong: int  # of the shown, judged wrong
    upper_bound: float | None  # of the wrong rate among the shown (None: nothing fitted)
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RiskEstimate:
    shown: int
    wrong: int
    wrong_rate: float | None  # None: no reviewed turn would be shown
    upper_bound: float | None


def spot_check_draw(question: str) -> float:
    """A uniform number in [0, 1) fixed by the (stored, redacted) question text. Keyed by the text, not by a random
    turn id, so a seeded simulation draws the same spot check again; a question asked twice is drawn once, which
    keeps the sample independent of everything the confidence depends on."""
    digest = hashlib.sha256(_SPOT_CHECK_SALT + question.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def in_spot_check(question: str, reason: str | None, share: float) -> bool:
    """Whether an answered turn belongs to the random spot check (``share`` of the turns answered from an article,
    ``ARTICLE_DECIDED_REASONS``)."""
    return share > 0.0 and reason in ARTICLE_DECIDED_REASONS and spot_check_draw(question) < share


def spot_checks_due(*, share: float, reviewed_turns: int, reviewed_spot_checks: int, taking: int) -> int:
    """How many of the next ``taking`` queue places go to new spot-check turns so that, once they are reviewed,
    at least ``share`` of the reviewed turns are spot checks. One at a time (``taking`` 1) this interleaves them
    evenly: with share 0.25, every fourth turn."""
    if share <= 0.0 or taking <= 0:
        return 0
    wanted = math.ceil(share * (reviewed_turns + taking) - 1e-9)
    return max(0, min(taking, wanted - reviewed_spot_checks))


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space so large n does not underflow."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        for i in range(k + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def wrong_rate_upper_bound(wrong: int, shown: int, level: float = CONFIDENCE_LEVEL) -> float:
    """Exact one-sided upper confidence bound of a rate from ``wrong`` out of ``shown`` (Clopper-Pearson):
    the p with P(X <= wrong | shown, p) = 1 - level. 1.0 when nothing is shown or everything was wrong."""
    if not 0 <= wrong <= shown:
        raise ValueError(f"wrong={wrong} must be between 0 and shown={shown}")
    if shown == 0 or wrong == shown:
        return 1.0
    alpha = 1.0 - level
    if wrong == 0:
        return 1.0 - alpha ** (1.0 / shown)  # closed form
    low, high = wrong / shown, 1.0
    for _ in range(100):  # bisection: the CDF falls as p rises
        middle = (low + high) / 2
        if binomial_cdf(wrong, shown, middle) > alpha:
            low = middle
        else:
            high = middle
    return high


def meets_target(wrong: int, shown: int, target: float, level: float = CONFIDENCE_LEVEL) -> bool:
    """upper bound <= target, decided without the bisection: P(X <= wrong | shown, target) <= 1 - level."""
    if shown == 0 or wrong / shown > target:
        return False
    return binomial_cdf(wrong, shown, target) <= 1.0 - level


def reviewed_needed(target: float, level: float = CONFIDENCE_LEVEL) -> int:
    """Fewest shown turns whose bound can reach ``target`` at all (every one of them right)."""
    if not 0.0 < target < 1.0:
        raise ValueError(f"the target wrong rate must be in (0, 1), not {target}")
    return math.ceil(math.log(1.0 - level) / math.log(1.0 - target))


def threshold_for_risk(
    confidences: Sequence[float], right: Sequence[bool], target_wrong_rate: float, *, level: float = CONFIDENCE_LEVEL
) -> RiskThreshold:
    """The lowest confidence threshold t (answers with confidence >= t are shown) whose shown reviewed answers have
    a wrong-rate upper bound <= ``target_wrong_rate``; the candidates are the logged confidences themselves."""
    if len(confidences) != len(right):
        raise ValueError(f"{len(confidences)} confidences but {len(right)} verdicts")
    needed = reviewed_needed(target_wrong_rate, level)
    total = len(confidences)
    if total < needed:
        reason = f"{total} reviewed turns, fewer than the {needed} a {target_wrong_rate:.1%} target needs"
        return RiskThreshold(None, target_wrong_rate, level, total, 0, 0, None, reason)
    pairs = sorted(zip(confidences, right, strict=True), key=lambda pair: -pair[0])
    best: tuple[float, int, int] | None = None
    wrong = 0
    for shown, (confidence, is_right) in enumerate(pairs, start=1):
        wrong += 0 if is_right else 1
        boundary = shown == total or pairs[shown][0] < confidence  # all turns at this confidence are in
        if boundary and meets_target(wrong, shown, target_wrong_rate, level):
            best = (confidence, shown, wrong)
    if best is None:
        reason = f"no confidence level keeps the wrong rate under {target_wrong_rate:.1%}: every answer handed off"
        return RiskThreshold(SHOW_NOTHING, target_wrong_rate, level, total, 0, 0, None, reason)
    threshold, n_shown, n_wrong = best
    bound = wrong_rate_upper_bound(n_wrong, n_shown, level)
    reason = f"{n_wrong}/{n_shown} shown reviewed answers wrong, upper bound {bound:.2%} <= {target_wrong_rate:.1%}"
    return RiskThreshold(threshold, target_wrong_rate, level, total, n_shown, n_wrong, bound, reason)


def article_threshold(
    certainties: Sequence[float],
    right: Sequence[bool],
    target_wrong_rate: float,
    *,
    floor: float,
    level: float = CONFIDENCE_LEVEL,
) -> RiskThreshold:
    """The retrieval certainty a fallback (approved answer or article sentences) or a model answer needs, fitted
    like the abstention threshold (``threshold_for_risk``) on reviewed turns labelled "the top article was the right
    one" (``article_was_right``), the turns handed off as uncertain included (``ARTICLE_DECIDED_REASONS``), so a
    later fit can lower the certainty an earlier one raised. Never below ``floor``
    (``settings.passage_min_retrieval_certainty``, the least the bank accepts). None: too few reviewed turns, keep
    the floor.

    When no certainty meets the target only because too few turns lie above the most certain wrong one, the
    certainty above it (``clean_top_threshold``: no reviewed wrong article shown) rather than none at all; a small
    spot check would otherwise hand off every answer drawn from an article (the loop's second night: 29 right
    above the first wrong one of 49). Its bound is recorded, so the dashboard shows the target was not certified.
    Only when the most certain reviewed turn was wrong is nothing shown (``SHOW_NOTHING``)."""
    fit = threshold_for_risk(certainties, right, target_wrong_rate, level=level)
    if (
        fit.threshold is not None
        and fit.threshold >= SHOW_NOTHING
        and (clean := clean_top_threshold(certainties, right))
    ):
        threshold, shown = clean
        bound = wrong_rate_upper_bound(0, shown, level)
        reason = (
            f"no certainty keeps wrong articles under {target_wrong_rate:.1%} with enough turns; above the most "
            f"certain wrong one: 0/{shown} wrong, upper bound {bound:.2%}"
        )
        fit = RiskThreshold(threshold, target_wrong_rate, level, fit.reviewed, shown, 0, bound, reason)
    if fit.threshold is None or fit.threshold >= floor:
        return fit
    estimate = risk_at(certainties, right, floor, level=level)
    reason = f"{fit.reason}; raised to the configured {floor:.2f}"
    return RiskThreshold(
        floor, target_wrong_rate, level, fit.reviewed, estimate.shown, estimate.wrong, estimate.upper_bound, reason
    )


def clean_top_threshold(scores: Sequence[float], right: Sequence[bool]) -> tuple[float, int] | None:
    """(threshold, shown) of the lowest logged score at or above which every reviewed turn was right; None when the
    highest-scoring turn was wrong (or there is none)."""
    if len(scores) != len(right):
        raise ValueError(f"{len(scores)} scores but {len(right)} verdicts")
    most_certain_wrong = max((score for score, ok in zip(scores, right, strict=True) if not ok), default=None)
    above = [score for score in scores if most_certain_wrong is None or score > most_certain_wrong]
    return (min(above), len(above)) if above else None


def article_was_right(verdict: str, corrected_article_id: str | None, top_article_id: str | None) -> bool | None:
    """Whether a reviewed turn's top retrieved article was the one that answers it: approved (the answer stood on
    it), or corrected without pointing at another article; wrong when corrected onto another article or when the
    knowledge base has no answer (``kb_gap``). None: a rejection, which says nothing about the article."""
    if verdict == "approve":
        return True
    if verdict == "correct":
        return corrected_article_id is None or corrected_article_id == top_article_id
    if verdict == "kb_gap":
        return False
    return None


def risk_at(
    confidences: Sequence[float], right: Sequence[bool], threshold: float, *, level: float = CONFIDENCE_LEVEL
) -> RiskEstimate:
    """Wrong rate (and its upper bound) among the reviewed answers a threshold shows (confidence >= threshold)."""
    if len(confidences) != len(right):
        raise ValueError(f"{len(confidences)} confidences but {len(right)} verdicts")
    shown = [ok for confidence, ok in zip(confidences, right, strict=True) if confidence >= threshold]
    wrong = sum(1 for ok in shown if not ok)
    if not shown:
        return RiskEstimate(0, 0, None, None)
    return RiskEstimate(len(shown), wrong, wrong / len(shown), wrong_rate_upper_bound(wrong, len(shown), level))


def verdict_is_right(verdict: str) -> bool:
    return verdict in RIGHT_VERDICTS
