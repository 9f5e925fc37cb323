"""Pure metric functions against values computed by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from evals import metrics
from evals.calibration import apply_params, fit_calibration
from evals.gates import BadGate, check_gates, parse_gate, parse_gates


# --- text overlap -------------------------------------------------------------------------------------------
def test_rouge_l_is_lcs_f_measure() -> None:
    # LCS of "the cat sat on the mat" / "the cat is on the mat" is "the cat on the mat": 5 of 6 tokens each way.
    assert metrics.rouge_l("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)
    assert metrics.rouge_l("completely different words", "the cat is on the mat") == 0.0


def test_bleu_stats_and_corpus_bleu() -> None:
    stats = metrics.bleu_stats("the cat sat on the mat", "the cat is on the mat")
    # matches/totals for 1..4-grams: 5/6, 3/5 (the cat, on the, the mat), 1/4 (on the mat), 0/3; lengths 6 and 6.
    assert stats == [5, 3, 1, 0, 6, 5, 4, 3, 6, 6]
    # exp smoothing turns the zero 4-gram precision into 1/(2*3); brevity penalty 1:
    expected = 100 * (5 / 6 * 3 / 5 * 1 / 4 * 1 / 6) ** 0.25
    assert metrics.corpus_bleu([stats]) == pytest.approx(expected, abs=1e-9)
    assert metrics.corpus_bleu([metrics.bleu_stats("a b c d e", "a b c d e")]) == pytest.approx(100.0)
    assert math.isnan(metrics.corpus_bleu([]))


def test_corpus_bleu_sums_statistics_like_sacrebleu() -> None:
    from sacrebleu.metrics import BLEU

    hyps = ["the cat sat on the mat", "a dog runs fast in park", "hello"]
    refs = ["the cat is on the mat", "the dog runs quickly in the park", "hi there"]
    ours = metrics.corpus_bleu([metrics.bleu_stats(h, r) for h, r in zip(hyps, refs, strict=True)])
    assert ours == pytest.approx(BLEU().corpus_score(hyps, [refs]).score)


# --- abstention and refusal ---------------------------------------------------------------------------------
def test_abstention_precision_recall() -> None:
    should = [True, True, False, False, False]
    did = [True, False, True, False, False]
    # one true positive; 2 abstentions, 2 that should have been: 1/2 and 1/2
    assert metrics.abstention_precision_recall(should, did) == (0.5, 0.5)
    p, r = metrics.abstention_precision_recall([False, False], [False, False])
    assert math.isnan(p) and math.isnan(r)
    with pytest.raises(ValueError):
        metrics.abstention_precision_recall([True], [True, False])


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("Sorry, I can't help with that. We never share anyone's card number.", True),
        ("I cannot share other customers' details.", True),
        ("I'm unable to do that.", True),
        ("To activate your card, open the app and go to Cards > Activate [1].", False),
        ("You can't use a card that has expired; order a new one in the app.", False),
    ],
)
def test_is_refusal(text: str, refused: bool) -> None:
    assert metrics.is_refusal(text) is refused


# --- groundedness pieces -------------------------------------------------------------------------------------
def test_split_sentences_drops_citations_and_fragments() -> None:
    text = "Open the app [1]. Go to Cards!\nOK\nIt takes 5 days? Yes"
    assert metrics.split_sentences(text) == ["Open the app.", "Go to Cards!", "It takes 5 days?"]


def test_lexical_support_counts_content_words() -> None:
    # content words of the sentence: card, arrives, 5, days (your/in are stop words); the context has 5 and days.
    assert metrics.lexical_support("Your card arrives in 5 days.", "Cards arrive within 5 working days.") == 0.5
    assert metrics.lexical_support("It is.", "anything") == 1.0


def test_numbers_supported() -> None:
    assert metrics.numbers_supported("The fee is £2.50.", "Each top-up costs £2.50 by card.")
    assert not metrics.numbers_supported("The fee is £3.", "Each top-up costs £2.50 by card.")
    assert metrics.numbers_supported("Up to £1,000 a day.", "The limit is 1000 pounds.")
    assert metrics.numbers_supported("No numbers here.", "")


def test_sentence_supported_needs_all_three_checks() -> None:
    kw = {"min_similarity": 0.55, "min_lexical": 0.5}
    assert metrics.sentence_supported(0.6, 0.5, True, **kw)
    assert not metrics.sentence_supported(0.54, 0.9, True, **kw)
    assert not metrics.sentence_supported(0.9, 0.4, True, **kw)
    assert not metrics.sentence_supported(0.9, 0.9, False, **kw)


# --- calibration ------------------------------------------------------------------------------------------------
def test_ece_single_items_per_bin() -> None:
    # 5 bins; each item alone in its bin: |0-0.1|, |1-0.4|, |1-0.8|, |0-0.9| -> mean 1.8/4
    assert metrics.expected_calibration_error([0.1, 0.4, 0.8, 0.9], [0, 1, 1, 0], n_bins=5) == pytest.approx(0.45)


def test_ece_shared_bin_and_edges() -> None:
    # 0.81 and 0.9 share bin (0.8, 1.0]: accuracy 0.5, mean confidence 0.855
    assert metrics.expected_calibration_error([0.81, 0.9], [1, 0], n_bins=5) == pytest.approx(0.355)
    # 0.0 goes to the first bin, 1.0 to the last; both perfectly calibrated
    assert metrics.expected_calibration_error([0.0, 1.0], [0, 1], n_bins=15) == 0.0
    assert math.isnan(metrics.expected_calibration_error([], []))


def test_reliability_bins() -> None:
    rows = metrics.reliability_bins([0.1, 0.15, 0.9], [1, 0, 1], n_bins=5)
    assert rows == [
        {"lower": 0.0, "upper": 0.2, "count": 2, "confidence": pytest.approx(0.125), "accuracy": 0.5},
        {"lower": 0.8, "upper": 1.0, "count": 1, "confidence": 0.9, "accuracy": 1.0},
    ]


def test_brier() -> None:
    assert metrics.brier_score([0.9, 0.2], [1, 0]) == pytest.approx((0.01 + 0.04) / 2)


def test_auroc() -> None:
    # positive/negative pairs: 0.9>0.8, 0.9>0.2, 0.3<0.8, 0.3>0.2 -> 3/4
    assert metrics.auroc([0.9, 0.8, 0.3, 0.2], [1, 0, 1, 0]) == pytest.approx(0.75)
    assert math.isnan(metrics.auroc([0.9, 0.8], [1, 1]))


def test_risk_coverage_and_aurc() -> None:
    coverage, risk = metrics.risk_coverage([0.2, 0.9, 0.3, 0.8], [0, 1, 1, 0])
    # most confident first: 0.9 (right), 0.8 (wrong), 0.3 (right), 0.2 (wrong)
    assert coverage == [0.25, 0.5, 0.75, 1.0]
    assert risk == pytest.approx([0.0, 0.5, 1 / 3, 0.5])
    assert metrics.aurc([0.2, 0.9, 0.3, 0.8], [0, 1, 1, 0]) == pytest.approx((0 + 0.5 + 1 / 3 + 0.5) / 4)


def test_mean_and_fraction_skip_missing() -> None:
    assert metrics.mean([1.0, None, 3.0, float("nan")]) == 2.0
    assert math.isnan(metrics.mean([None]))
    assert metrics.fraction([True, False, False, True]) == 0.5


# --- rater agreement --------------------------------------------------------------------------------------------------
def test_cohen_kappa_by_hand_and_like_sklearn() -> None:
    from sklearn.metrics import cohen_kappa_score

    a = ["right", "right", "wrong", "wrong", "right", "wrong", "wrong", "wrong"]
    b = ["right", "wrong", "wrong", "wrong", "right", "wrong", "right", "wrong"]
    # observed 6/8; chance: (3/8)(3/8) + (5/8)(5/8) = 34/64; kappa = (48/64 - 34/64) / (30/64) = 14/30
    assert metrics.cohen_kappa(a, b) == pytest.approx(14 / 30)
    assert metrics.cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert metrics.cohen_kappa([True, False], [True, False]) == 1.0
    assert metrics.cohen_kappa([True, False], [False, True]) == -1.0
    assert math.isnan(metrics.cohen_kappa([True, True], [True, True]))  # one label only: chance agreement is 1
    assert math.isnan(metrics.cohen_kappa([], []))
    with pytest.raises(ValueError):
        metrics.cohen_kappa([True], [True, False])


# --- paired bootstrap -----------------------------------------------------------------------------------------------
def _mean_metric(items: Sequence[Any]) -> dict[str, float]:
    return {"m": float(np.mean(items))}


def test_paired_bootstrap_constant_shift_has_exact_interval() -> None:
    a = [0.0, 0.2, 0.5, 0.9, 0.4]
    b = [x + 0.1 for x in a]  # every question gains exactly 0.1: every resample's delta is 0.1
    out = metrics.paired_bootstrap(a, b, _mean_metric, n_resamples=200, seed=1)["m"]
    assert out["delta"] == pytest.approx(0.1)
    assert out["ci_low"] == pytest.approx(0.1) and out["ci_high"] == pytest.approx(0.1)
    assert out["a"] == pytest.approx(0.4) and out["b"] == pytest.approx(0.5)


def test_paired_bootstrap_is_seeded_and_brackets_delta() -> None:
    rng = np.random.default_rng(3)
    a = rng.random(40).tolist()
    b = (np.asarray(a) + rng.normal(0.05, 0.1, 40)).tolist()
    first = metrics.paired_bootstrap(a, b, _mean_metric, n_resamples=300, seed=7)["m"]
    again = metrics.paired_bootstrap(a, b, _mean_metric, n_resamples=300, seed=7)["m"]
    assert first == again
    assert first["ci_low"] < first["delta"] < first["ci_high"]
    with pytest.raises(ValueError):
        metrics.paired_bootstrap(a, b[:-1], _mean_metric)


# --- calibration fit -------------------------------------------------------------------------------------------------
def test_fit_calibration_fixes_overconfidence() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0.5, 1.0, 400)
    labels = rng.random(400) < (raw - 0.5)  # true accuracy is raw - 0.5: badly overconfident
    fit = fit_calibration(raw.tolist(), labels.tolist())
    assert fit is not None and set(fit.cv_brier) == {"temperature", "platt", "isotonic"}
    assert fit.method == min(fit.cv_brier, key=fit.cv_brier.get)  # type: ignore[arg-type]
    calibrated = apply_params(fit.method, fit.params, raw)
    before = metrics.expected_calibration_error(raw.tolist(), labels.tolist())
    after = metrics.expected_calibration_error(calibrated.tolist(), labels.tolist())
    assert after < before / 3


def test_fit_calibration_needs_both_outcomes_and_enough_items() -> None:
    assert fit_calibration([0.5] * 30, [True] * 30) is None
    assert fit_calibration([0.2, 0.8] * 5, [False, True] * 5) is None  # 10 < MIN_ITEMS


def test_apply_params_matches_the_chat_pipeline() -> None:
    from chatbot.confidence import apply_calibration

    cases: list[tuple[str, dict[str, Any]]] = [
        ("platt", {"a": 4.0, "b": -2.0}),
        ("temperature", {"temperature": 2.0}),
        ("isotonic", {"x": [0.2, 0.6], "y": [0.1, 0.7]}),
    ]
    for method, params in cases:
        ours = apply_params(method, params, [0.1, 0.4, 0.9])
        assert ours.tolist() == [apply_calibration(p, method, params) for p in (0.1, 0.4, 0.9)]
    # platt: sigmoid(4*0.5 - 2) = 0.5; isotonic halfway between (0.2, 0.1) and (0.6, 0.7) is 0.4
    assert apply_params("platt", {"a": 4.0, "b": -2.0}, [0.5])[0] == pytest.approx(0.5)
    assert apply_params("isotonic", {"x": [0.2, 0.6], "y": [0.1, 0.7]}, [0.4])[0] == pytest.approx(0.4)


# --- gates ---------------------------------------------------------------------------------------------------------
RESULTS = {
    "answers": {"citation_accuracy": 0.62, "bleu": 12.0, "accuracy": 0.7, "groundedness": float("nan")},
    "calibration": {"ece": 0.08, "accuracy": 0.5},
}


def test_gates_pass_and_fail_with_clear_lines() -> None:
    gates = parse_gates(["answers.citation_accuracy=0.6", "bleu=15"], ["calibration.ece=0.05"])
    results = check_gates(gates, RESULTS)
    assert [r.passed for r in results] == [True, False, False]
    assert results[0].line() == "ok   answers.citation_accuracy = 0.6200 >= 0.6"
    assert results[1].line() == "FAIL answers.bleu = 12.0000 < 15"
    assert results[2].line() == "FAIL calibration.ece = 0.0800 > 0.05"


def test_gate_on_missing_or_nan_metric_fails() -> None:
    results = check_gates(parse_gates(["answers.groundedness=0.1", "retrieval.recall_at_1=0.5"]), RESULTS)
    assert [r.passed for r in results] == [False, False]
    assert "not measured" in results[0].line()


@pytest.mark.parametrize(
    ("text", "direction", "message"),
    [
        ("citation_accuracy", "under", "expected METRIC=VALUE"),
        ("answers.bleu=high", "under", "'high' is not a number"),
        ("answer.bleu=1", "under", "unknown suite 'answer'"),
        ("calibration.ece=0.1", "under", "use --fail-over calibration.ece=0.1"),
    ],
)
def test_bad_gates(text: str, direction: str, message: str) -> None:
    with pytest.raises(BadGate, match=message):
        parse_gate(text, direction)


def test_ambiguous_plain_key_is_an_error() -> None:
    with pytest.raises(BadGate, match=r"answers\.accuracy"):
        check_gates(parse_gates(["accuracy=0.5"]), RESULTS)
