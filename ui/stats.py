"""Dashboard numbers as pure functions: per-day rates, histograms, accuracy by confidence, reviewer agreement,
coverage (the wrong-rate estimate is ``chatbot.risk.risk_at``).

The dashboard page reads rows from the database and hands plain values to these functions.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

# How a review verdict scores the bot's answer; kb_gap says nothing about the answer itself.
VERDICT_CORRECT = {"approve": True, "correct": False, "reject": False}


@dataclass(frozen=True)
class DayStat:
    day: date
    turns: int
    thumbs_up: int
    thumbs_down: int

    @property
    def up_rate(self) -> float | None:
        """Thumbs-up share of the turns that got a thumb; None when nobody rated that day."""
        rated = self.thumbs_up + self.thumbs_down
        return self.thumbs_up / rated if rated else None


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int
    correct: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.count if self.count else None

    @property
    def label(self) -> str:
        return f"{self.low:.1f}–{self.high:.1f}"


def daily_stats(rows: Iterable[tuple[date, int | None]]) -> list[DayStat]:
    """`rows` are (day, rating or None) per turn; one DayStat per day that has turns, oldest first."""
    turns: Counter[date] = Counter()
    up: Counter[date] = Counter()
    down: Counter[date] = Counter()
    for day, rating in rows:
        turns[day] += 1
        if rating is not None and rating > 0:
            up[day] += 1
        elif rating is not None and rating < 0:
            down[day] += 1
    return [DayStat(day, turns[day], up[day], down[day]) for day in sorted(turns)]


def _bin_index(value: float, bins: int) -> int:
    # Equal-width bins over [0, 1]; 1.0 belongs to the last bin, out-of-range values are clamped.
    return min(max(int(value * bins), 0), bins - 1)


def _edges(bins: int) -> list[tuple[float, float]]:
    if bins < 1:
        raise ValueError("bins must be at least 1")
    return [(i / bins, (i + 1) / bins) for i in range(bins)]


def confidence_histogram(confidences: Iterable[float], bins: int = 10) -> list[Bin]:
    counts = Counter(_bin_index(c, bins) for c in confidences)
    return [Bin(low, high, counts[i]) for i, (low, high) in enumerate(_edges(bins))]


def accuracy_by_confidence(pairs: Iterable[tuple[float, str]], bins: int = 5) -> list[Bin]:
    """(confidence, consensus verdict) per reviewed turn -> share judged correct in each confidence bin.

    approve counts as correct, correct/reject as wrong; other verdicts (kb_gap) are left out.
    """
    counts: Counter[int] = Counter()
    right: Counter[int] = Counter()
    for confidence, verdict in pairs:
        if verdict not in VERDICT_CORRECT:
            continue
        i = _bin_index(confidence, bins)
        counts[i] += 1
        right[i] += VERDICT_CORRECT[verdict]
    return [Bin(low, high, counts[i], right[i]) for i, (low, high) in enumerate(_edges(bins))]


def coverage(abstained: Iterable[bool]) -> float | None:
    """Share of turns whose answer the customer was shown (not handed off); None without turns."""
    flags = list(abstained)
    return sum(1 for handed_off in flags if not handed_off) / len(flags) if flags else None


def cohen_kappa(rater_a: Sequence[Hashable], rater_b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa for two raters over the same items; None when undefined (no items, or one category only)."""
    if len(rater_a) != len(rater_b):
        raise ValueError("both raters must rate the same items")
    if not rater_a:
        return None
    if len(set(rater_a) | set(rater_b)) < 2:
        return None  # chance agreement is 1: kappa is 0/0
    from sklearn.metrics import cohen_kappa_score

    return float(cohen_kappa_score([str(x) for x in rater_a], [str(x) for x in rater_b]))


def fleiss_kappa(ratings: Sequence[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa; `ratings[i]` are the labels the raters gave item i (the same number of raters per item).

    Items with fewer than two ratings carry no agreement information and are skipped. None when undefined.
    """
    items = [list(r) for r in ratings if len(r) >= 2]
    if not items:
        return None
    n = len(items[0])
    if any(len(r) != n for r in items):
        raise ValueError("every item needs the same number of ratings")
    totals: Counter[Hashable] = Counter()
    agreement = 0.0
    for labels in items:
        counts = Counter(labels)
        totals.update(counts)
        agreement += (sum(c * c for c in counts.values()) - n) / (n * (n - 1))
    p_bar = agreement / len(items)
    all_ratings = n * len(items)
    p_e = sum((c / all_ratings) ** 2 for c in totals.values())
    if math.isclose(p_e, 1.0):
        return None
    return (p_bar - p_e) / (1 - p_e)


def reviewer_agreement(reviews: Iterable[tuple[Hashable, str]], raters: int = 2) -> tuple[float | None, int]:
    """(kappa, items used) from (turn id, verdict) rows in review order.

    Uses each turn's first `raters` verdicts (the blind ones the consensus rule looks at); turns with fewer are
    skipped. Two raters: Cohen's kappa; more: Fleiss' kappa.
    """
    by_turn: defaultdict[Hashable, list[str]] = defaultdict(list)
    for turn_id, verdict in reviews:
        by_turn[turn_id].append(verdict)
    complete = [v[:raters] for v in by_turn.values() if len(v) >= raters]
    if raters == 2:
        return cohen_kappa([v[0] for v in complete], [v[1] for v in complete]), len(complete)
    return fleiss_kappa(complete), len(complete)
