"""Simulation output: one JSON per arm and round, summary.json, and a Markdown report with two plots.

``metric_rows``, ``verdicts``, ``timing_rows`` and ``markdown`` are pure (tested on hand-made results).
summary.json holds the run's results plus ``metrics`` (arm → the rounds × metrics rows, round 0 first) and
``verdicts`` (round 0 against the last round, the goals, confidence against random).
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from evals.simulation.answer_metrics import FAILURES, SHOWN_METRICS

# The rounds × metrics table: (key, title). All but reviewed_total are measured on the held-out questions.
METRICS: tuple[tuple[str, str], ...] = (
    ("answer_accuracy_shown", "right / shown"),
    ("coverage", "coverage"),
    ("wrong_shown_rate", "wrong shown / all"),
    ("generated_share", "model-written / shown"),
    ("retrieval_accuracy_at_1", "retrieval acc@1"),
    ("auroc", "AUROC"),
    ("ece", "ECE"),
    ("reviewed_total", "reviewed (total)"),
)
# The goals at the last round: key → (comparison, bound).
GOALS: dict[str, tuple[str, float]] = {
    "answer_accuracy_shown": (">=", 0.95),
    "coverage": (">=", 0.80),
    "wrong_shown_rate": ("<=", 0.04),
    "generated_share": (">=", 0.80),
    "auroc": (">=", 0.85),
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le}
# Secondary held-out numbers: (key, title).
DETAILS: tuple[tuple[str, str], ...] = (
    ("answer_accuracy", "right shown / all"),
    ("answer_accuracy_shown_with_choice", "right / shown, with a pick from the suggestions"),
    ("coverage_with_choice", "coverage, with a pick"),
    ("wrong_shown_rate_with_choice", "wrong shown / all, with a pick"),
    ("model_answer_accuracy", "model right / all"),
    ("withheld_right_rate", "right but withheld / all"),
    ("rouge_l", "ROUGE-L"),
    ("citation_accuracy", "citation acc"),
    ("abstention_rate", "hand-offs"),
    ("wrong_share_low_confidence", "model wrong, lowest-conf 20%"),
    ("wrong_share_rest", "model wrong, rest"),
)
PHASES = ("customers_s", "reviews_s", "nightly_s", "heldout_s")
ARM_TITLES = {
    "confidence": "review budget on the priority queue (thumbs-down, lowest confidence first)",
    "random": "review budget on random open turns",
}


def fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value))


def arm_series(results: Mapping[str, Any], arm: str) -> list[dict[str, Any]]:
    """Round 0 (the shared starting point) followed by the arm's rounds, each with its held-out metrics."""
    start = {"round": 0, "heldout": results["round0"], "reviews": {}, "nightly": {}, "reviewed_total": 0}
    return [start, *results["arms"][arm]["rounds"]]


def metric_rows(results: Mapping[str, Any], arm: str) -> list[dict[str, Any]]:
    """The arm's rounds × metrics: per round the METRICS keys and the 95 % intervals of the shown-answer rates."""
    table = []
    reviewed = 0
    for entry in arm_series(results, arm):
        held = entry["heldout"]
        reviewed += int((entry.get("reviews") or {}).get("turns_reviewed") or 0)
        row: dict[str, Any] = {"round": entry["round"]}
        row.update({key: held.get(key) for key, _ in METRICS if key != "reviewed_total"})
        row["reviewed_total"] = entry.get("reviewed_total", reviewed)
        row["intervals"] = {key: (held.get("intervals") or {}).get(key) for key in SHOWN_METRICS}
        table.append(row)
    return table


def goal_met(key: str, value: Any) -> bool | None:
    """Whether ``value`` meets the goal for ``key`` (None: no goal, or no value)."""
    if key not in GOALS or not _is_number(value):
        return None
    comparison, bound = GOALS[key]
    return _COMPARE[comparison](float(value), bound)


def verdicts(results: Mapping[str, Any]) -> dict[str, Any]:
    """Per arm and metric: round 0, the last round, the change and whether the goal is met; per arm whether every
    goal is met; and whether the confidence arm is at least as good as the random one at the last round (as many
    questions answered right, no more answered wrong: ``confidence_vs_random`` says "at least as good", "mixed" or
    "worse")."""
    out: dict[str, Any] = {}
    lasts: dict[str, Mapping[str, Any]] = {}
    for arm in results["arms"]:
        table = metric_rows(results, arm)
        first, last = table[0], table[-1]
        out[arm] = {
            key: {
                "round0": first[key],
                "last": last[key],
                "change": last[key] - first[key] if _is_number(first[key]) and _is_number(last[key]) else None,
                "goal": f"{GOALS[key][0]} {GOALS[key][1]:.2f}" if key in GOALS else None,
                "met": goal_met(key, last[key]),
            }
            for key, _ in METRICS
        }
        out[arm]["all_goals_met"] = all(out[arm][key]["met"] for key in GOALS)
        lasts[arm] = arm_series(results, arm)[-1]["heldout"]
    if {"confidence", "random"} <= set(lasts):
        conf, rand = lasts["confidence"], lasts["random"]
        more_right = _ge(conf.get("answer_accuracy"), rand.get("answer_accuracy"))
        less_wrong = _ge(rand.get("wrong_shown_rate"), conf.get("wrong_shown_rate"))
        state = (
            "at least as good" if more_right and less_wrong else "worse" if not (more_right or less_wrong) else "mixed"
        )
        out["confidence_vs_random"] = state
        out["confidence_at_least_random"] = state == "at least as good"
    return out


def _ge(a: Any, b: Any) -> bool:
    return _is_number(a) and _is_number(b) and a >= b


def _with_interval(row: Mapping[str, Any], key: str) -> str:
    interval = (row.get("intervals") or {}).get(key)
    if not interval or not _is_number(row.get(key)):
        return fmt(row.get(key))
    return f"{fmt(row[key])} [{fmt(interval['low'])}, {fmt(interval['high'])}]"


def timing_rows(results: Mapping[str, Any]) -> list[list[str]]:
    """(arm, round, seconds per phase, round total) for every learning round, then each arm's totals."""
    table = []
    for arm in results["arms"]:
        totals = dict.fromkeys(PHASES, 0.0)
        for entry in results["arms"][arm]["rounds"]:
            timing = entry.get("timing") or {}
            seconds = [float(timing.get(p, timing.get("eval_s", 0.0) if p == "heldout_s" else 0.0)) for p in PHASES]
            for phase, value in zip(PHASES, seconds, strict=True):
                totals[phase] += value
            table.append([arm, str(entry["round"]), *(f"{v:.0f}" for v in seconds), f"{sum(seconds):.0f}"])
        table.append([arm, "all", *(f"{totals[p]:.0f}" for p in PHASES), f"{sum(totals.values()):.0f}"])
    return table


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in body)]


def _intro(results: Mapping[str, Any]) -> list[str]:
    config = results.get("config", {})
    lines = [
        "# Feedback-loop simulation",
        "",
        f"Questions: `{config.get('questions')}` — {config.get('pool')} in the customer pool, "
        f"{config.get('heldout_total', config.get('heldout'))} held out (retrieval scored on "
        f"{config.get('heldout')}, answers judged on {config.get('answer_subset')}, stratified over intents). "
        f"{config.get('rounds')} rounds × {config.get('per_round')} customers, review budget "
        f"{config.get('review_budget')} turns a round, 2 reviewers (consensus {config.get('review_consensus')}). "
        f"Seed {config.get('seed')}. Nightly: `{config.get('nightly')}`.",
    ]
    timing = results.get("timing") or {}
    if timing.get("total_s"):
        lines.append(f"Wall time: {timing['total_s'] / 60:.1f} min on this machine.")
    return [*lines, ""]


def _goal_lines(results: Mapping[str, Any], checks: Mapping[str, Any]) -> list[str]:
    arms = list(results["arms"])
    header = ["metric", "goal", "round 0", *(f"`{arm}` last" for arm in arms)]
    body = []
    for key, title in METRICS:
        row = [title, checks[arms[0]][key]["goal"] or "", fmt(checks[arms[0]][key]["round0"])]
        for arm in arms:
            met = checks[arm][key]["met"]
            row.append(fmt(checks[arm][key]["last"]) + ("" if met is None else " ✓" if met else " ✗"))
        body.append(row)
    lines = ["## Last round against round 0 and the goals", "", *_table(header, body), ""]
    for arm in arms:
        lines.append(f"- `{arm}`: {'every goal met' if checks[arm]['all_goals_met'] else 'goals NOT all met'}")
    if "confidence_vs_random" in checks:
        lines.append(
            f"- confidence-prioritised against random review at the last round: **{checks['confidence_vs_random']}** "
            "(share of questions answered right, share answered wrong)"
        )
    return [*lines, ""]


def markdown(results: Mapping[str, Any], *, plots: Sequence[str] = ()) -> str:
    lines = _intro(results)
    checks = verdicts(results)
    lines += _goal_lines(results, checks)
    for arm in results["arms"]:
        lines += [f"## Arm `{arm}`: {ARM_TITLES.get(arm, arm)}", ""]
        header = ["round", *(title for _, title in METRICS), "nightly"]
        body = []
        for row, entry in zip(metric_rows(results, arm), arm_series(results, arm), strict=True):
            cells = [_with_interval(row, key) for key, _ in METRICS]
            nightly = fmt((entry.get("nightly") or {}).get("decision"))
            if "heldout_reused_from_round" in entry:  # nothing served changed: the same answers as before
                nightly += f" (held-out as round {entry['heldout_reused_from_round']})"
            body.append([str(row["round"]), *cells, nightly])
        lines += [*_table(header, body), "", "95 % bootstrap intervals over the held-out questions in brackets.", ""]
        detail_header = ["round", *(t for _, t in DETAILS), *FAILURES, "reviewed", "corrected"]
        detail_body = [
            [str(e["round"])]
            + [fmt(e["heldout"].get(k)) for k, _ in DETAILS]
            + [fmt((e["heldout"].get("failures") or {}).get(f)) for f in FAILURES]
            + [fmt((e.get("reviews") or {}).get("turns_reviewed")), fmt((e.get("reviews") or {}).get("corrected"))]
            for e in arm_series(results, arm)
        ]
        lines += ["Details (failures: why answers were not right shown answers, per question):", ""]
        lines += [*_table(detail_header, detail_body), ""]
        change = results["arms"][arm].get("rouge_l_change")  # added by merge.rescore_run
        if change:
            lines += [
                f"Per-question ROUGE-L change, last round against round 0: {change['delta']:+.3f} (paired bootstrap "
                f"95 % CI {change['ci_low']:+.3f} … {change['ci_high']:+.3f}; {change['up']} up, {change['down']} "
                f"down of {change['n']}).",
                "",
            ]
    lines += ["## Where the time went (seconds)", ""]
    lines += [*_table(["arm", "round", *PHASES, "total"], timing_rows(results)), ""]
    timing = results.get("timing") or {}
    if "round0_heldout_s" in timing:
        lines += [f"Round 0 (held-out, once for all arms): {timing['round0_heldout_s']:.0f} s.", ""]
    for plot in plots:
        lines += [f"![{Path(plot).stem}]({plot})", ""]
    return "\n".join(lines)


def write_round(out: Path, arm: str, entry: Mapping[str, Any]) -> Path:
    path = out / "rounds" / f"{arm}-round-{entry['round']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry, indent=2, default=str), encoding="utf-8")
    return path


def write_report(out: Path, results: Mapping[str, Any]) -> Path:
    """summary.json, metrics.png, confidence_bins.png and report.md in ``out``; returns the report's path."""
    from evals.simulation.plots import plot_confidence_bins, plot_metrics

    out.mkdir(parents=True, exist_ok=True)
    tables = {arm: metric_rows(results, arm) for arm in results["arms"]}
    summary = {**results, "metrics": tables, "verdicts": verdicts(results)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    plot_metrics(tables, list(METRICS), out / "metrics.png", goals={k: bound for k, (_, bound) in GOALS.items()})
    curves = [("round 0", results["round0"])]
    curves += [
        (f"{arm}, round {arm_series(results, arm)[-1]['round']}", arm_series(results, arm)[-1]["heldout"])
        for arm in results["arms"]
    ]
    plot_confidence_bins(curves, out / "confidence_bins.png")
    report = out / "report.md"
    report.write_text(markdown(results, plots=["metrics.png", "confidence_bins.png"]), encoding="utf-8")
    return report
