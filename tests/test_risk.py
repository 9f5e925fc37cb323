"""The risk-targeted abstention threshold (chatbot.risk): exact bounds, the tiny-sample guard, exact thresholds."""

from __future__ import annotations

import math

import pytest

from chatbot.confidence import ConfidenceParams
from chatbot.risk import (
    SHOW_NOTHING,
    article_threshold,
    article_was_right,
    binomial_cdf,
    clean_top_threshold,
    in_spot_check,
    meets_target,
    reviewed_needed,
    risk_at,
    spot_check_draw,
    spot_checks_due,
    threshold_for_risk,
    wrong_rate_upper_bound,
)


def test_binomial_cdf_hand_computed() -> None:
    assert binomial_cdf(2, 5, 0.5) == pytest.approx(16 / 32)  # (1 + 5 + 10) / 2^5
    assert binomial_cdf(0, 3, 0.1) == pytest.approx(0.9**3)
    assert (binomial_cdf(5, 5, 0.3), binomial_cdf(-1, 5, 0.3), binomial_cdf(1, 5, 0.0)) == (1.0, 0.0, 1.0)


def test_upper_bound_closed_forms() -> None:
    # 0 wrong of n: (1 - p)^n = 0.05
    assert wrong_rate_upper_bound(0, 149) == pytest.approx(1 - 0.05 ** (1 / 149), abs=1e-15)
    # 1 wrong of 2: P(X <= 1) = 1 - p^2 = 0.05, p = sqrt(0.95)
    assert wrong_rate_upper_bound(1, 2) == pytest.approx(math.sqrt(0.95), abs=1e-12)
    # 1 of 10: the Clopper-Pearson bound, Beta(2, 9).ppf(0.95)
    assert wrong_rate_upper_bound(1, 10) == pytest.approx(0.3941633024365, abs=1e-12)
    assert (wrong_rate_upper_bound(0, 0), wrong_rate_upper_bound(3, 3)) == (1.0, 1.0)
    with pytest.raises(ValueError, match="between 0 and shown"):
        wrong_rate_upper_bound(4, 3)


def test_a_small_wrong_rate_needs_enough_shown_answers() -> None:
    assert reviewed_needed(0.02) == 149  # ln 0.05 / ln 0.98 = 148.3
    assert reviewed_needed(0.05) == 59
    assert reviewed_needed(0.02, level=0.90) == 114
    # 1/170 = 0.6 % but its bound is 2.76 %; 3/400 = 0.75 % with bound 1.93 % passes a 2 % target
    assert not meets_target(1, 170, 0.02)
    assert wrong_rate_upper_bound(1, 170) == pytest.approx(0.0275996879, abs=1e-9)
    assert meets_target(3, 400, 0.02)
    assert wrong_rate_upper_bound(3, 400) == pytest.approx(0.0192692293, abs=1e-9)
    assert not meets_target(0, 148, 0.02) and meets_target(0, 149, 0.02)


def reviewed(*groups: tuple[float, int, int]) -> tuple[list[float], list[bool]]:
    """(confidence, right, wrong) groups -> parallel lists."""
    confidences = [c for c, right, wrong in groups for _ in range(right + wrong)]
    verdicts = [ok for _, right, wrong in groups for ok in [True] * right + [False] * wrong]
    return confidences, verdicts


def test_the_lowest_threshold_whose_bound_meets_the_target() -> None:
    # 160 right at 0.9; 9 right + 1 wrong at 0.7; 20 right + 20 wrong at 0.5
    confidences, right = reviewed((0.9, 160, 0), (0.7, 9, 1), (0.5, 20, 20))
    fit = threshold_for_risk(confidences, right, 0.02)
    # at 0.7: 1 wrong of 170, bound 2.76 % > 2 %; at 0.9: 0 of 160, bound 1 - 0.05^(1/160) = 1.85 %
    assert (fit.threshold, fit.reviewed, fit.shown, fit.wrong) == (0.9, 210, 160, 0)
    assert fit.upper_bound == pytest.approx(1 - 0.05 ** (1 / 160), abs=1e-15)
    # with the 0.7 group all right, 0 of 170 passes, so the threshold comes down to 0.7
    confidences, right = reviewed((0.9, 160, 0), (0.7, 10, 0), (0.5, 20, 20))
    fit = threshold_for_risk(confidences, right, 0.02)
    assert (fit.threshold, fit.shown, fit.wrong) == (0.7, 170, 0)
    # a looser target accepts everything: 20 wrong of 210 has a bound of 13.5 % < 15 %
    assert threshold_for_risk(confidences, right, 0.15).threshold == 0.5


def test_too_few_reviewed_turns_keep_the_configured_threshold() -> None:
    fit = threshold_for_risk([0.9] * 148, [True] * 148, 0.02)
    assert fit.threshold is None and fit.upper_bound is None
    assert fit.reason == "148 reviewed turns, fewer than the 149 a 2.0% target needs"
    assert ConfidenceParams(abstain_threshold=fit.threshold).abstain_below(0.35) == 0.35


def test_no_safe_level_hands_every_answer_off() -> None:
    fit = threshold_for_risk([0.9] * 149, [True] * 139 + [False] * 10, 0.02)
    assert fit.threshold == SHOW_NOTHING and fit.threshold > 1.0 and fit.shown == 0
    assert ConfidenceParams(abstain_threshold=fit.threshold).abstain_below(0.35) > 1.0  # no confidence reaches it


def test_risk_at_a_threshold() -> None:
    estimate = risk_at([0.9, 0.8, 0.4], [True, False, True], 0.5)
    assert (estimate.shown, estimate.wrong, estimate.wrong_rate) == (2, 1, 0.5)
    assert estimate.upper_bound == pytest.approx(math.sqrt(0.95), abs=1e-12)
    assert risk_at([0.4], [True], 0.5).wrong_rate is None


def test_confidence_params_carry_the_threshold_and_an_explicit_no_calibration() -> None:
    none = ConfidenceParams.from_calibration("none", {"weights": {"top_score": 1.0}}, abstain_threshold=0.6)
    assert (none.method, dict(none.weights), none.abstain_below(0.35)) == (None, {"top_score": 1.0}, 0.6)
    with pytest.raises(ValueError, match="calibration method"):
        ConfidenceParams.from_calibration("magic", {})


def test_the_spot_check_is_a_fixed_share_of_the_threshold_decided_turns() -> None:
    assert spot_check_draw("q1") == spot_check_draw("q1")  # fixed by the text: a seeded run draws it again
    assert round(spot_check_draw("q0"), 6) == 0.283917
    assert [i for i in range(20) if in_spot_check(f"q{i}", None, 0.25)] == [4, 5, 7, 9, 10, 11, 18]
    assert sum(in_spot_check(f"q{i}", None, 0.25) for i in range(10_000)) == 2541
    assert in_spot_check("q4", "low_confidence", 0.25)  # withheld by the threshold: still in the sample
    assert in_spot_check("q4", "answers_not_earned", 0.25)  # above the threshold, withheld by the answer mode
    assert not in_spot_check("q4", "out_of_scope", 0.25)  # not decided by the threshold
    # Handed off because retrieval was unsure of the article, or failing an answer check: the article certainty
    # decided what the customer got, so the spot check samples them too (else a raised certainty never falls).
    assert in_spot_check("q4", "uncertain_article", 0.25) and in_spot_check("q4", "ungrounded", 0.25)
    assert not in_spot_check("q4", "guard:prompt_injection", 0.25)
    assert not in_spot_check("q4", None, 0.0)


def test_spot_checks_due_keep_their_share_of_the_reviews() -> None:
    # One turn at a time, share 0.25: the first, then every fourth.
    assert spot_checks_due(share=0.25, reviewed_turns=0, reviewed_spot_checks=0, taking=1) == 1
    assert spot_checks_due(share=0.25, reviewed_turns=1, reviewed_spot_checks=1, taking=1) == 0
    assert spot_checks_due(share=0.25, reviewed_turns=3, reviewed_spot_checks=1, taking=1) == 0
    assert spot_checks_due(share=0.25, reviewed_turns=4, reviewed_spot_checks=1, taking=1) == 1
    # A batch of 200 after 200 reviews of which 30 were spot checks: 100 of 400 wanted, 70 more.
    assert spot_checks_due(share=0.25, reviewed_turns=200, reviewed_spot_checks=30, taking=200) == 70
    assert spot_checks_due(share=0.25, reviewed_turns=0, reviewed_spot_checks=9, taking=4) == 0
    assert spot_checks_due(share=1.0, reviewed_turns=0, reviewed_spot_checks=0, taking=5) == 5
    assert spot_checks_due(share=0.0, reviewed_turns=0, reviewed_spot_checks=0, taking=5) == 0


def test_the_article_threshold_is_fitted_like_the_abstention_threshold_and_never_below_the_floor() -> None:
    # Retrieval certainties: 160 right articles at 0.8, 9 right + 1 wrong at 0.65, 20 + 20 at 0.6.
    certainties, right = reviewed((0.8, 160, 0), (0.65, 9, 1), (0.6, 20, 20))
    fit = article_threshold(certainties, right, 0.02, floor=0.55)
    assert (fit.threshold, fit.shown, fit.wrong) == (0.8, 160, 0)
    # all at or above the floor: the fit stands; below it, the floor (with its own estimate)
    certainties, right = reviewed((0.8, 160, 0), (0.5, 10, 0))
    low = article_threshold(certainties, right, 0.02, floor=0.55)
    assert (low.threshold, low.shown, low.wrong, low.reviewed) == (0.55, 160, 0, 170)
    assert low.upper_bound == pytest.approx(1 - 0.05 ** (1 / 160), abs=1e-15)
    assert low.reason.endswith("raised to the configured 0.55")
    # too few reviews: nothing fitted, the configured floors stay (ConfidenceParams.certainty_needed)
    few = article_threshold([0.9] * 10, [True] * 10, 0.02, floor=0.55)
    assert few.threshold is None
    assert ConfidenceParams(article_threshold=few.threshold).certainty_needed(0.55) == 0.55
    assert ConfidenceParams(article_threshold=0.7).certainty_needed(0.55) == 0.7
    assert ConfidenceParams(article_threshold=0.5).certainty_needed(0.55) == 0.55
    # wrong everywhere, or the most certain turn wrong: no article answer at all
    assert article_threshold([0.9] * 200, [False] * 200, 0.02, floor=0.55).threshold == SHOW_NOTHING
    certainties, right = reviewed((0.95, 0, 1), (0.9, 200, 0))
    assert article_threshold(certainties, right, 0.02, floor=0.55).threshold == SHOW_NOTHING


def test_too_few_turns_above_the_most_certain_wrong_article_show_only_those() -> None:
    # The loop's second night at 50 %: 29 right above the first wrong article, 49 in all. 0 of 29 has a 50 % bound
    # of 1 - 0.5^(1/29) = 2.36 % > 2 %, so nothing meets the target; rather than hand every answer off, show only
    # the certainties above the most certain wrong one.
    certainties, right = reviewed((0.8, 20, 0), (0.7, 9, 0), (0.664, 0, 1), (0.6, 15, 4))
    fit = article_threshold(certainties, right, 0.02, floor=0.55, level=0.5)
    assert (fit.threshold, fit.shown, fit.wrong, fit.reviewed) == (0.7, 29, 0, 49)
    assert fit.upper_bound == pytest.approx(1 - 0.5 ** (1 / 29), abs=1e-15)
    assert fit.reason.startswith("no certainty keeps wrong articles under 2.0% with enough turns")
    assert clean_top_threshold([0.9, 0.8, 0.7], [True, False, True]) == (0.9, 1)
    assert clean_top_threshold([0.9, 0.8], [True, True]) == (0.8, 2)
    assert clean_top_threshold([0.9, 0.8], [False, True]) is None


def test_whether_the_reviewed_turn_s_top_article_was_right() -> None:
    assert article_was_right("approve", None, "a1") is True
    assert article_was_right("correct", None, "a1") is True  # corrected, but on the same article
    assert article_was_right("correct", "a1", "a1") is True
    assert article_was_right("correct", "a2", "a1") is False  # the reviewers pointed at another article
    assert article_was_right("kb_gap", None, "a1") is False  # nothing in the knowledge base answers it
    assert article_was_right("reject", None, "a1") is None  # says nothing about the article


def test_the_spot_check_draws_from_every_turn_answered_from_an_article() -> None:
    """Every way a turn answered from an article can end (shown, a model failure of the turn outcome, retrieval
    unsure of the article) is in the spot check; out of scope, refused and guarded turns are not."""
    from chatbot.turn_outcome import MODEL_FAILURES, UNCERTAIN_ARTICLE

    drawn = "q4"  # spot_check_draw("q4") < 0.25
    for reason in (None, UNCERTAIN_ARTICLE, *MODEL_FAILURES):
        assert in_spot_check(drawn, reason, 0.25), reason
    for reason in ("out_of_scope", "refused", "guard:prompt_injection", "guard:classifier", "customer_chose_article"):
        assert not in_spot_check(drawn, reason, 0.25), reason
