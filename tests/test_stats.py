"""Dashboard numbers, checked against values computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from ui.stats import (
    DayStat,
    accuracy_by_confidence,
    cohen_kappa,
    confidence_histogram,
    coverage,
    daily_stats,
    fleiss_kappa,
    reviewer_agreement,
)


def test_cohen_kappa_hand_computed() -> None:
    # p_o = 4/5; marginals a: 3 approve / 2 reject, b: 2 / 3 -> p_e = .6*.4 + .4*.6 = .48; (.8-.48)/.52 = 8/13
    a = ["approve", "approve", "reject", "reject", "approve"]
    b = ["approve", "reject", "reject", "reject", "approve"]
    assert cohen_kappa(a, b) == pytest.approx(8 / 13)


def test_cohen_kappa_perfect_and_undefined() -> None:
    assert cohen_kappa(["approve", "reject"], ["approve", "reject"]) == pytest.approx(1.0)
    assert cohen_kappa(["approve", "approve"], ["approve", "approve"]) is None  # one category: 0/0
    assert cohen_kappa([], []) is None
    with pytest.raises(ValueError):
        cohen_kappa(["approve"], [])


def test_fleiss_kappa_hand_computed() -> None:
    # P_i = 1, 1/3, 1 -> P̄ = 7/9; label shares a 5/9, b 4/9 -> P_e = 41/81; (63-41)/(81-41) = 22/40
    assert fleiss_kappa([["a", "a", "a"], ["a", "a", "b"], ["b", "b", "b"]]) == pytest.approx(0.55)
    assert fleiss_kappa([["a"], ["b"]]) is None
    assert fleiss_kappa([["a", "a"], ["a", "a"]]) is None
    with pytest.raises(ValueError):
        fleiss_kappa([["a", "a"], ["a", "b", "b"]])


def test_reviewer_agreement_uses_first_two_verdicts_per_turn() -> None:
    rows = [
        ("t1", "approve"), ("t1", "approve"), ("t1", "reject"),  # third review (an engineer) ignored
        ("t2", "approve"), ("t2", "reject"),
        ("t3", "reject"), ("t3", "reject"),
        ("t4", "approve"),  # one review only: skipped
    ]  # fmt: skip
    kappa, used = reviewer_agreement(rows)
    # pairs (A,A) (A,R) (R,R): p_o = 2/3; a: 2A 1R, b: 1A 2R -> p_e = 2/9 + 2/9 = 4/9; (2/3-4/9)/(5/9) = 2/5
    assert used == 3
    assert kappa == pytest.approx(0.4)
    kappa3, used3 = reviewer_agreement(rows, raters=3)
    # only t1 has three: P̄ = (4+1-3)/6 = 1/3; shares A 2/3, R 1/3 -> P_e = 5/9; (1/3-5/9)/(4/9) = -1/2
    assert used3 == 1
    assert kappa3 == pytest.approx(-0.5)


def test_daily_stats_counts_and_rate() -> None:
    d1, d2 = date(2026, 1, 2), date(2026, 1, 1)
    stats = daily_stats([(d1, 1), (d1, -1), (d1, 1), (d1, None), (d2, None)])
    assert stats == [DayStat(d2, 1, 0, 0), DayStat(d1, 4, 2, 1)]
    assert stats[0].up_rate is None
    assert stats[1].up_rate == pytest.approx(2 / 3)


def test_confidence_histogram_edges() -> None:
    bins = confidence_histogram([0.05, 0.95, 1.0, 0.5, 0.55], bins=10)
    assert [b.count for b in bins] == [1, 0, 0, 0, 0, 2, 0, 0, 0, 2]
    assert (bins[0].low, bins[0].high) == (0.0, 0.1)
    with pytest.raises(ValueError):
        confidence_histogram([0.1], bins=0)


def test_accuracy_by_confidence_bins() -> None:
    pairs = [(0.1, "approve"), (0.15, "reject"), (0.9, "approve"), (1.0, "correct"), (0.5, "kb_gap"), (0.45, "approve")]
    bins = accuracy_by_confidence(pairs, bins=5)
    assert [(b.count, b.correct) for b in bins] == [(2, 1), (0, 0), (1, 1), (0, 0), (2, 1)]
    assert bins[0].accuracy == pytest.approx(0.5)
    assert bins[1].accuracy is None
    assert bins[0].label == "0.0–0.2"


def test_coverage_is_the_share_of_turns_not_handed_off() -> None:
    assert coverage([False, True, False, False]) == 0.75
    assert coverage([]) is None
