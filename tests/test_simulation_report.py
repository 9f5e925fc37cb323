"""The simulation report: rounds x metrics table, goal verdicts, timing, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.simulation.report import markdown, metric_rows, timing_rows, verdicts, write_report

# --- report --------------------------------------------------------------------------------------------------------
SHOWN_KEYS = ("answer_accuracy_shown", "coverage", "wrong_shown_rate", "generated_share")


def held(shown: tuple[float, float, float, float], retrieval: float, auroc: float, ece: float) -> dict:
    """Held-out metrics as summarise writes them; each shown rate's interval is the rate ± 0.01."""
    values = dict(zip(SHOWN_KEYS, shown, strict=True))
    return {
        **values,
        "answer_accuracy": shown[0] * shown[1],
        "retrieval_accuracy_at_1": retrieval,
        "auroc": auroc,
        "ece": ece,
        "rouge_l": 0.3,
        "intervals": {k: {"low": v - 0.01, "high": v + 0.01} for k, v in values.items()},
        "failures": {"wrong_fact": 3},
        "confidence_bins": [{"lower": 0.0, "upper": 0.2, "count": 1, "confidence": 0.1, "accuracy": 0.0}],
    }


def fake_results() -> dict:
    def arm(last: dict) -> dict:
        return {
            "rounds": [
                {
                    "round": 1,
                    "heldout": held((0.9, 0.7, 0.07, 0.6), 0.7, 0.8, 0.1),
                    "reviews": {"turns_reviewed": 200, "corrected": 150},
                    "nightly": {"decision": "promoted"},
                    "reviewed_total": 200,
                    "timing": {"customers_s": 400.0, "reviews_s": 2.0, "nightly_s": 300.0, "heldout_s": 450.0},
                },
                {
                    "round": 2,
                    "heldout": last,
                    "reviews": {"turns_reviewed": 200, "corrected": 100},
                    "nightly": {"decision": "rejected"},
                    "reviewed_total": 400,
                    "heldout_reused_from_round": 1,
                    "timing": {"customers_s": 410.0, "reviews_s": 3.0, "nightly_s": 310.0, "heldout_s": 0.4},
                },
            ]
        }

    return {
        "config": {"questions": "q.csv", "seed": 1},
        "round0": held((0.5, 0.5, 0.25, 0.4), 0.6, 0.7, 0.2),
        "arms": {
            "confidence": arm(held((0.96, 0.85, 0.034, 0.9), 0.8, 0.9, 0.05)),
            "random": arm(held((0.9, 0.8, 0.08, 0.85), 0.75, 0.8, 0.1)),
        },
        "timing": {"total_s": 3000.0, "round0_heldout_s": 440.0},
    }


def test_metric_rows_are_the_rounds_by_metrics_table() -> None:
    rows = metric_rows(fake_results(), "confidence")
    assert [r["round"] for r in rows] == [0, 1, 2]
    assert [r["reviewed_total"] for r in rows] == [0, 200, 400]
    assert {k: v for k, v in rows[0].items() if k != "intervals"} == {
        "round": 0,
        "answer_accuracy_shown": 0.5,
        "coverage": 0.5,
        "wrong_shown_rate": 0.25,
        "generated_share": 0.4,
        "retrieval_accuracy_at_1": 0.6,
        "auroc": 0.7,
        "ece": 0.2,
        "reviewed_total": 0,
    }
    assert rows[2]["intervals"]["coverage"] == {"low": 0.85 - 0.01, "high": 0.85 + 0.01}


def test_verdicts_goals_and_arms(tmp_path: Path) -> None:
    results = fake_results()
    v = verdicts(results)
    assert v["confidence"]["coverage"] == {
        "round0": 0.5,
        "last": 0.85,
        "change": pytest.approx(0.35),
        "goal": ">= 0.80",
        "met": True,
    }
    assert v["confidence"]["ece"]["goal"] is None and v["confidence"]["ece"]["met"] is None
    assert v["confidence"]["all_goals_met"] is True
    assert (v["random"]["answer_accuracy_shown"]["met"], v["random"]["wrong_shown_rate"]["met"]) == (False, False)
    assert v["random"]["all_goals_met"] is False
    # confidence: 0.96 x 0.85 = 0.816 of the questions right, 0.034 wrong; random: 0.72 right, 0.08 wrong
    assert (v["confidence_vs_random"], v["confidence_at_least_random"]) == ("at least as good", True)
    results["arms"]["random"]["rounds"][-1]["heldout"] = held((0.99, 0.9, 0.009, 0.9), 0.8, 0.9, 0.05)
    assert verdicts(results)["confidence_vs_random"] == "worse"
    results["arms"]["random"]["rounds"][-1]["heldout"] = held((0.9, 0.95, 0.095, 0.9), 0.8, 0.9, 0.05)
    assert verdicts(results)["confidence_vs_random"] == "mixed"  # more right answers, but more wrong ones too


def test_report_tables_timing_and_files(tmp_path: Path) -> None:
    import json

    results = fake_results()
    assert timing_rows(results)[:3] == [
        ["confidence", "1", "400", "2", "300", "450", "1152"],
        ["confidence", "2", "410", "3", "310", "0", "723"],
        ["confidence", "all", "810", "5", "610", "450", "1875"],
    ]
    text = markdown(results)
    assert "| 2 | 0.960 [0.950, 0.970] | 0.850 [0.840, 0.860] |" in text
    assert "rejected (held-out as round 1)" in text
    assert "| right / shown | >= 0.95 | 0.500 | 0.960 ✓ | 0.900 ✗ |" in text
    assert "**at least as good**" in text and "Round 0 (held-out, once for all arms): 440 s." in text
    report = write_report(tmp_path, results)
    assert report.read_text().startswith("# Feedback-loop simulation")
    for name in ("summary.json", "metrics.png", "confidence_bins.png"):
        assert (tmp_path / name).stat().st_size > 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["metrics"]["random"][0]["answer_accuracy_shown"] == 0.5
    assert summary["verdicts"]["confidence"]["all_goals_met"] is True


def test_merge_results_joins_arms_of_comparable_runs() -> None:
    from evals.simulation.merge import merge_results

    both = fake_results()
    one = {
        **both,
        "config": {"questions": "q.csv", "seed": 1},
        "arms": {"confidence": both["arms"]["confidence"]},
        "timing": {"total_s": 10.0, "round0_heldout_s": 4.0, "arm_setup_s": {"confidence": 1.0}},
    }
    two = {
        **both,
        "config": {"questions": "q.csv", "seed": 1},
        "arms": {"random": both["arms"]["random"]},
        "timing": {"total_s": 12.0, "round0_heldout_s": 5.0, "arm_setup_s": {"random": 2.0}},
    }
    merged = merge_results([one, two])
    assert list(merged["arms"]) == ["confidence", "random"]
    assert merged["timing"] == {
        "total_s": 12.0,
        "per_run_s": [10.0, 12.0],
        "arm_setup_s": {"confidence": 1.0, "random": 2.0},
        "round0_heldout_s": 4.0,
    }
    assert verdicts(merged)["confidence_at_least_random"] is True
    with pytest.raises(ValueError, match="differ in seed"):
        merge_results([one, {**two, "config": {"questions": "q.csv", "seed": 2}}])
    with pytest.raises(ValueError, match="more than one run"):
        merge_results([one, one])
