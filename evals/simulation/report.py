"""Simulation output: one JSON per arm and round, a summary JSON, and a Markdown report with two plots.

``rows``, ``verdicts`` and ``markdown`` are pure (tested on hand-made results); the plots use matplotlib's Agg
backend so they render without a display.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# (key in the held-out metrics, column title, higher is better)
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("retrieval_accuracy_at_1", "retrieval acc@1", True),
    ("rouge_l", "ROUGE-L", True),
    ("citation_accuracy", "citation acc", True),
    ("answer_accuracy", "answer acc", True),
    ("ece", "ECE", False),
    ("auroc", "AUROC", True),
    ("wrong_share_low_confidence", "wrong, lowest-conf 20%", False),
    ("wrong_share_rest", "wrong, rest", False),
    ("wrong_citation_share_low_confidence", "wrong citation, lowest-conf 20%", False),
    ("wrong_citation_share_rest", "wrong citation, rest", False),
)
# The metrics the simulation must raise from round 0 to the last round, and where the arms are compared.
HEADLINE = ("retrieval_accuracy_at_1", "rouge_l")
ARM_TITLES = {
    "confidence": "review budget on the priority queue (thumbs-down, lowest confidence first)",
    "random": "review budget on random turns",
}


def fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def arm_series(results: Mapping[str, Any], arm: str) -> list[dict[str, Any]]:
    """Round 0 (shared starting point) followed by the arm's rounds, each with its held-out metrics."""
    start = {"round": 0, "heldout": results["round0"], "reviews": {}, "nightly": {}}
    return [start, *results["arms"][arm]["rounds"]]


def rows(results: Mapping[str, Any], arm: str) -> list[list[str]]:
    table = []
    for entry in arm_series(results, arm):
        held = entry["heldout"]
        reviews = entry.get("reviews") or {}
        nightly = entry.get("nightly") or {}
        table.append(
            [str(entry["round"])]
            + [fmt(held.get(key)) for key, _, _ in COLUMNS]
            + [fmt(reviews.get("turns_reviewed")), fmt(reviews.get("corrected")), fmt(nightly.get("decision"))]
        )
    return table


def verdicts(results: Mapping[str, Any]) -> dict[str, Any]:
    """Did the headline metrics rise from round 0 to the last round, per arm; is the confidence arm at least as
    good as the random one at the last round (the sum of the headline metrics decides)."""
    out: dict[str, Any] = {}
    finals: dict[str, float] = {}
    for arm in results["arms"]:
        series = arm_series(results, arm)
        first, last = series[0]["heldout"], series[-1]["heldout"]
        out[arm] = {
            key: {"round0": first.get(key), "last": last.get(key), "rose": _gt(last.get(key), first.get(key))}
            for key in HEADLINE
        }
        finals[arm] = sum(float(last.get(key) or 0.0) for key in HEADLINE)
    if {"confidence", "random"} <= set(finals):
        out["confidence_at_least_random"] = finals["confidence"] >= finals["random"]
    return out


def _gt(a: Any, b: Any) -> bool:
    return a is not None and b is not None and not (math.isnan(a) or math.isnan(b)) and a > b


def markdown(results: Mapping[str, Any], *, plots: Sequence[str] = ()) -> str:
    config = results.get("config", {})
    lines = ["# Feedback-loop simulation", ""]
    lines.append(
        f"Questions: `{config.get('questions')}` — {config.get('pool')} in the customer pool, "
        f"{config.get('heldout_total', config.get('heldout'))} held out (retrieval scored on "
        f"{config.get('heldout')}, answers on "
        f"{config.get('answer_subset')}). {config.get('rounds')} rounds x {config.get('per_round')} customers, "
        f"review budget {config.get('review_budget')} turns a round, 2 reviewers (consensus "
        f"{config.get('review_consensus')}). Seed {config.get('seed')}."
    )
    if results.get("timing"):
        lines.append(f"Wall time: {results['timing'].get('total_s', 0) / 60:.1f} min on this machine.")
    lines.append("")
    header = ["round"] + [title for _, title, _ in COLUMNS] + ["reviewed", "corrected", "nightly"]
    for arm in results["arms"]:
        lines += [f"## Arm `{arm}`: {ARM_TITLES.get(arm, arm)}", ""]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(r) + " |" for r in rows(results, arm)]
        lines.append("")
    checks = verdicts(results)
    lines += ["## Verdict", ""]
    for arm in results["arms"]:
        for key, v in checks[arm].items():
            word = "rose" if v["rose"] else "did NOT rise"
            lines.append(f"- `{arm}`: {key} {word} ({fmt(v['round0'])} → {fmt(v['last'])})")
        change = results["arms"][arm].get("rouge_l_change")
        if change:
            lines.append(
                f"- `{arm}`: per-question ROUGE-L change {change['delta']:+.3f} (paired bootstrap 95 % CI "
                f"{change['ci_low']:+.3f} … {change['ci_high']:+.3f}; {change['up']} up, {change['down']} down "
                f"of {change['n']})"
            )
    if "confidence_at_least_random" in checks:
        word = "at least as good as" if checks["confidence_at_least_random"] else "WORSE than"
        lines.append(f"- confidence-prioritised review is {word} random review at the last round")
    lines.append("")
    for plot in plots:
        lines += [f"![{Path(plot).stem}]({plot})", ""]
    return "\n".join(lines)


def plot_metrics(results: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [
        c for c in COLUMNS if c[0] in ("retrieval_accuracy_at_1", "rouge_l", "citation_accuracy", "answer_accuracy")
    ]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    for ax, (key, title, _) in zip(axes, keys, strict=True):
        for arm in results["arms"]:
            series = arm_series(results, arm)
            ax.plot([e["round"] for e in series], [e["heldout"].get(key) for e in series], marker="o", label=arm)
        ax.set_title(title)
        ax.set_xlabel("round")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_confidence_bins(results: Mapping[str, Any], path: Path) -> None:
    """Answer accuracy by confidence bin: round 0 against each arm's last round."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    curves = [("round 0", results["round0"])]
    curves += [
        (f"{arm}, round {arm_series(results, arm)[-1]['round']}", arm_series(results, arm)[-1]["heldout"])
        for arm in results["arms"]
    ]
    for label, held in curves:
        bins = held.get("confidence_bins") or []
        ax.plot([(b["lower"] + b["upper"]) / 2 for b in bins], [b["accuracy"] for b in bins], marker="o", label=label)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    ax.set_xlabel("confidence (bin centre)")
    ax.set_ylabel("answer accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# Settings that must agree before two runs' arms can be compared in one report.
COMPARABLE = (
    "questions",
    "seed",
    "holdout_fraction",
    "rounds",
    "per_round",
    "review_budget",
    "answer_subset",
    "max_new_tokens",
    "heldout_limit",
    "llm_model",
)


def rescore_run(run_dir: Path, summary: Mapping[str, Any]) -> dict[str, Any]:
    """``summary`` with every round's held-out answer metrics recomputed from ``run_dir/rounds/*.json``
    (``heldout.rescore``); rounds without a stored file keep their numbers."""
    from evals.simulation.heldout import rescore

    def stored(name: str) -> list[Any] | None:
        path = run_dir / "rounds" / name
        return json.loads(path.read_text(encoding="utf-8")).get("answers") if path.is_file() else None

    result = json.loads(json.dumps(summary))  # a deep copy
    start = stored("start-round-0.json")
    if start is not None and result.get("round0"):
        result["round0"] = rescore(result["round0"], start)
    for arm, data in result.get("arms", {}).items():
        last: list[Any] | None = None
        for entry in data.get("rounds", []):
            answers = stored(f"{arm}-round-{entry['round']}.json")
            if answers is not None and entry.get("heldout"):
                entry["heldout"] = rescore(entry["heldout"], answers)
                last = answers
        if start is not None and last is not None:
            data["rouge_l_change"] = rouge_change(start, last)
    return dict(result)


def rouge_change(first: Sequence[Mapping[str, Any]], last: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per-question ROUGE-L change from round 0 to the last round with a paired-bootstrap 95 % interval (the
    answer subset is small, so whether a rise is more than noise needs saying)."""
    from evals.metrics import paired_bootstrap

    before = {str(a["question"]): float(a["score"]) for a in first}
    after = {str(a["question"]): float(a["score"]) for a in last}
    common = sorted(before.keys() & after.keys())

    def mean_score(items: Sequence[float]) -> dict[str, float]:
        return {"rouge_l": sum(items) / len(items)}

    boot = paired_bootstrap(
        [before[q] for q in common], [after[q] for q in common], mean_score, n_resamples=5000, seed=0
    )["rouge_l"]
    return {
        "n": len(common),
        "delta": boot["delta"],
        "ci_low": boot["ci_low"],
        "ci_high": boot["ci_high"],
        "up": sum(after[q] > before[q] for q in common),
        "down": sum(after[q] < before[q] for q in common),
    }


def merge_results(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One results mapping from runs of different arms (e.g. one process per arm, started side by side).

    Raises ValueError when the runs are not comparable (different questions, seed or sizes) or repeat an arm."""
    if not summaries:
        raise ValueError("nothing to merge")
    first = summaries[0]
    arms: dict[str, Any] = {}
    for summary in summaries:
        differ = [k for k in COMPARABLE if summary["config"].get(k) != first["config"].get(k)]
        if differ:
            raise ValueError(f"runs differ in {', '.join(differ)}: they cannot be compared")
        for arm, data in summary["arms"].items():
            if arm in arms:
                raise ValueError(f"arm {arm!r} appears in more than one run")
            arms[arm] = data
    timings = [float((s.get("timing") or {}).get("total_s", 0.0)) for s in summaries]
    return {
        "config": {**first["config"], "arms": list(arms), "merged_runs": len(summaries)},
        "round0": first["round0"],
        "arms": arms,
        "timing": {"total_s": max(timings), "per_run_s": timings},
    }


def write_round(out: Path, arm: str, entry: Mapping[str, Any]) -> Path:
    path = out / "rounds" / f"{arm}-round-{entry['round']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry, indent=2, default=str), encoding="utf-8")
    return path


def write_report(out: Path, results: Mapping[str, Any]) -> Path:
    """summary.json, metrics.png, confidence_bins.png and report.md in ``out``; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(
        json.dumps({**results, "verdicts": verdicts(results)}, indent=2, default=str), encoding="utf-8"
    )
    plot_metrics(results, out / "metrics.png")
    plot_confidence_bins(results, out / "confidence_bins.png")
    report = out / "report.md"
    report.write_text(markdown(results, plots=["metrics.png", "confidence_bins.png"]), encoding="utf-8")
    return report
