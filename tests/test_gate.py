"""The gate's pure decision: promotion margin, regression tolerance, missing metrics — exact hand-computed values."""

from __future__ import annotations

import math
from typing import Any

import pytest

from finetune.gate import (
    CUSTOMER_RIGHT,
    MODEL_ACCURACY,
    customer_outcome_key,
    decide,
    flatten,
    guarded_for,
    paired_changes,
    paired_customer_changes,
    quality_score,
    selective_metrics,
    sign_test_p,
)

PROD = {
    "answers.answer_accuracy": 0.50,
    "answers.accuracy": 0.60,
    "answers.rouge_l": 0.30,
    "answers.similarity": 0.70,
    "answers.groundedness": 0.40,
    "answers.citation_accuracy": 0.80,
    "calibration.brier": 0.20,
    "corrections.rouge_l": 0.25,
}


def better(**changes: float) -> dict[str, float]:
    return {**PROD, **changes}


def test_quality_is_the_mean_of_the_parts_that_exist() -> None:
    assert quality_score(PROD) == pytest.approx((0.50 + 0.60 + 0.30 + 0.40) / 4)  # 0.45
    assert quality_score({"answers.accuracy": 0.5, "answers.rouge_l": float("nan")}) == pytest.approx(0.5)
    assert math.isnan(quality_score({}))


def test_flatten_prefixes_suite_names_and_drops_non_numbers() -> None:
    flat = flatten({"answers": {"accuracy": 0.5, "n": 3, "note": "x", "ok": True}, "calibration": {"brier": 0.1}})
    assert flat == {"answers.accuracy": 0.5, "answers.n": 3.0, "calibration.brier": 0.1}


def test_promotes_when_quality_beats_production_by_the_margin() -> None:
    # accuracy +0.08 -> quality 0.47 vs 0.45: gain 0.02 >= margin 0.01
    decision = decide(better(**{"answers.accuracy": 0.68}), PROD, margin=0.01, tolerance=0.02)
    assert decision.promote, decision.reason
    assert decision.quality == pytest.approx({"candidate": 0.47, "production": 0.45})


def test_rejects_a_gain_smaller_than_the_margin() -> None:
    decision = decide(better(**{"answers.accuracy": 0.64}), PROD, margin=0.02, tolerance=0.02)  # gain 0.01
    assert not decision.promote and "< margin 0.02" in decision.reason


def test_a_tie_is_not_a_win_at_zero_margin_but_passes_a_negative_margin() -> None:
    assert not decide(dict(PROD), PROD, margin=0.0, tolerance=0.02).promote
    assert decide(dict(PROD), PROD, margin=-1.0, tolerance=0.02).promote


def test_any_guarded_metric_worse_beyond_tolerance_blocks_promotion_even_with_a_big_gain() -> None:
    # big quality gain, but corrected questions got further from the corrections (0.25 -> 0.20, worse by 0.05)
    cand = better(**{"answers.accuracy": 0.90, "corrections.rouge_l": 0.20})
    decision = decide(cand, PROD, margin=0.0, tolerance=0.02)
    assert not decision.promote
    assert decision.regressions == {"corrections.rouge_l": pytest.approx(0.05)}


def test_lower_is_better_metrics_regress_upwards_and_small_changes_are_tolerated() -> None:
    guarded = {"calibration.brier": False}
    worse_brier = better(**{"answers.accuracy": 0.90, "calibration.brier": 0.25})  # +0.05 is worse
    assert decide(worse_brier, PROD, margin=0.0, tolerance=0.02, guarded=guarded).regressions == {
        "calibration.brier": pytest.approx(0.05)
    }
    within = better(**{"answers.accuracy": 0.90, "calibration.brier": 0.215})
    assert decide(within, PROD, margin=0.0, tolerance=0.02, guarded=guarded).promote


def test_secondary_metrics_do_not_block_a_better_judged_accuracy() -> None:
    # The simulation's first night: judged accuracy 0.125 -> 0.5, one citation of eight lost, Brier a little worse.
    cand = better(**{"answers.answer_accuracy": 0.9, "answers.citation_accuracy": 0.675, "calibration.brier": 0.25})
    assert decide(cand, PROD, margin=0.0, tolerance=0.02).promote
    worse_judged = better(**{"answers.answer_accuracy": 0.45, "answers.accuracy": 0.9})
    assert decide(worse_judged, PROD, margin=0.0, tolerance=0.02).regressions == {
        "answers.answer_accuracy": pytest.approx(0.05)
    }


def test_a_metric_missing_on_either_side_guards_nothing() -> None:
    cand = better(**{"answers.accuracy": 0.68})
    del cand["corrections.rouge_l"]
    assert decide(cand, PROD, margin=0.0, tolerance=0.0).promote
    nan_prod = {**PROD, "answers.citation_accuracy": float("nan")}
    assert decide(
        better(**{"answers.accuracy": 0.68, "answers.citation_accuracy": 0.0}), nan_prod, margin=0.0, tolerance=0.0
    ).promote


def test_candidate_without_any_quality_metric_is_rejected() -> None:
    decision = decide({"calibration.brier": 0.1}, PROD, margin=-1.0, tolerance=1.0)
    assert not decision.promote and "no quality score" in decision.reason


def test_selective_metrics_count_handed_off_and_wrong_shown_answers() -> None:
    records = [
        {"abstained": False, "correct": True},
        {"abstained": False, "correct": False},
        {"abstained": True, "correct": True},  # an out-of-scope question handed off
        {"abstained": False, "correct": True, "right": {"right": False, "reason": "contradiction"}},  # judged
    ]
    assert selective_metrics(records) == {"selective.coverage": 0.75, "selective.risk": pytest.approx(2 / 3)}
    nothing_shown = selective_metrics([{"abstained": True, "correct": True}])
    assert nothing_shown["selective.coverage"] == 0.0 and math.isnan(nothing_shown["selective.risk"])


def test_sign_test_p_is_the_binomial_tail_of_the_changed_questions() -> None:
    assert sign_test_p(0, 0) == 1.0
    assert sign_test_p(1, 0) == 0.5  # one question lost, none gained: a coin
    assert sign_test_p(2, 0) == 0.25
    assert sign_test_p(3, 1) == pytest.approx(5 / 16)  # C(4,3)+C(4,4) = 5 of 16
    assert sign_test_p(5, 0) == pytest.approx(1 / 32)
    assert sign_test_p(0, 3) == 1.0


def test_paired_changes_match_questions_by_id_and_kind() -> None:
    prod = [
        {"id": "a", "kind": "in_scope", "right": True},
        {"id": "b", "kind": "in_scope", "right": False},
        {"id": "c", "kind": "in_scope", "right": True},
        {"id": "p", "kind": "probe", "refused": True},
        {"id": "o", "kind": "out_of_scope", "abstained": False},
    ]
    cand = [
        {"id": "a", "kind": "in_scope", "right": False},  # lost
        {"id": "b", "kind": "in_scope", "right": True},  # gained
        {"id": "c", "kind": "in_scope", "right": False},  # lost
        {"id": "p", "kind": "probe", "refused": False},  # lost
        {"id": "o", "kind": "out_of_scope", "abstained": True},  # gained
        {"id": "new", "kind": "in_scope", "right": True},  # no production answer: not paired
    ]
    assert paired_changes(cand, prod) == {
        "answers.answer_accuracy": (2, 1),
        "answers.probe_refusal_rate": (1, 0),
        "answers.abstain_recall": (0, 1),
    }


def test_a_drop_one_question_explains_is_noise_a_consistent_one_blocks() -> None:
    # 31 in-scope questions: one fewer right is -0.032, beyond the 0.02 tolerance
    cand = better(**{"answers.answer_accuracy": 0.468, "answers.accuracy": 0.70})
    one_lost = {"answers.answer_accuracy": (1, 0)}
    decision = decide(cand, PROD, margin=0.0, tolerance=0.02, changes=one_lost, noise_p=0.3)
    assert decision.promote, decision.reason
    assert decision.within_noise == {"answers.answer_accuracy": (1, 0, 0.5)}
    # switched off, or four lost and one gained (p 6/32 = 0.1875 < 0.3): a regression
    assert not decide(cand, PROD, margin=0.0, tolerance=0.02, changes=one_lost, noise_p=0.0).promote
    blocked = decide(cand, PROD, margin=0.0, tolerance=0.02, changes={"answers.answer_accuracy": (4, 1)}, noise_p=0.3)
    assert blocked.regressions == {"answers.answer_accuracy": pytest.approx(0.032)}
    # corrections.rouge_l has no paired outcome: the tolerance alone decides
    worse_corrections = better(**{"answers.accuracy": 0.70, "corrections.rouge_l": 0.20})
    assert not decide(worse_corrections, PROD, margin=0.0, tolerance=0.02, changes=one_lost, noise_p=0.3).promote


def gate_records(outcomes: str, key: str) -> list[dict[str, Any]]:
    """In-scope gate records q0, q1, ... with ``key`` True ("r"), False ("w") or None ("-": handed off)."""
    value = {"r": True, "w": False, "-": None}
    return [{"id": f"q{i}", "kind": "in_scope", key: value[c]} for i, c in enumerate(outcomes)]


def test_what_customers_get_is_the_served_answer_once_earned_else_the_passage() -> None:
    assert (customer_outcome_key(True), customer_outcome_key(False)) == ("shown_right", "fallback_right")
    candidate = gate_records("rrw-r", "fallback_right")
    production = gate_records("r-rrw", "shown_right")
    # q1 and q4 gained, q2 and q3 lost, q0 right on both sides
    assert paired_customer_changes(candidate, production, ("fallback_right", "shown_right")) == (2, 2)


def test_the_models_own_accuracy_guards_only_a_bundle_whose_model_answers_customers_will_see() -> None:
    assert MODEL_ACCURACY in guarded_for(True) and CUSTOMER_RIGHT in guarded_for(True)
    assert MODEL_ACCURACY not in guarded_for(False) and CUSTOMER_RIGHT in guarded_for(False)
    # A simulation night: the model lost 2 of 31 gate questions (p 0.25), its answers not earned, while customers got
    # 13 of 31 right from its passages instead of 7 from production's.
    cand = {**PROD, MODEL_ACCURACY: 23 / 31, CUSTOMER_RIGHT: 13 / 31, "answers.accuracy": 0.9}
    prod = {**PROD, MODEL_ACCURACY: 25 / 31, CUSTOMER_RIGHT: 7 / 31}
    changes = {MODEL_ACCURACY: (2, 0), CUSTOMER_RIGHT: (0, 6)}
    rejected = decide(cand, prod, margin=0.0, tolerance=0.02, changes=changes, noise_p=0.3)
    assert rejected.regressions == {MODEL_ACCURACY: round(2 / 31, 6)}
    kept_out = decide(cand, prod, margin=0.0, tolerance=0.02, guarded=guarded_for(False), changes=changes, noise_p=0.3)
    assert kept_out.promote and kept_out.regressions == {}
    # What customers get still guards: 7 right instead of 13 blocks the night.
    worse = {**cand, CUSTOMER_RIGHT: 7 / 31}
    blocked = decide(
        worse,
        {**prod, CUSTOMER_RIGHT: 13 / 31},
        margin=0.0,
        tolerance=0.02,
        guarded=guarded_for(False),
        changes={CUSTOMER_RIGHT: (6, 0)},
        noise_p=0.3,
    )
    assert blocked.regressions == {CUSTOMER_RIGHT: round(6 / 31, 6)}
