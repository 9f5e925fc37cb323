"""One report from runs of different arms (one process per arm, started side by side), and a stored run's answer
metrics recomputed from its per-answer records with the current code (so a report gains metrics added since)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
    "nightly",
)


def rescore_run(run_dir: Path, summary: Mapping[str, Any]) -> dict[str, Any]:
    """``summary`` with every round's held-out answer metrics recomputed from ``run_dir/rounds/*.json``
    (``heldout.rescore``); rounds without a stored file keep their numbers."""
    from evals.simulation.heldout import rescore

    def stored(name: str) -> list[Any] | None:
        path = run_dir / "rounds" / name
        return json.loads(path.read_text(encoding="utf-8")).get("answers") if path.is_file() else None

    result = json.loads(json.dumps(summary))  # a deep copy
    seed = int((result.get("config") or {}).get("seed", 0))
    start = stored("start-round-0.json")
    if start is not None and result.get("round0"):
        result["round0"] = rescore(result["round0"], start, seed=seed)
    for arm, data in result.get("arms", {}).items():
        last: list[Any] | None = None
        for entry in data.get("rounds", []):
            answers = stored(f"{arm}-round-{entry['round']}.json")
            if answers is not None and entry.get("heldout"):
                entry["heldout"] = rescore(entry["heldout"], answers, seed=seed)
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
    timings = [dict(s.get("timing") or {}) for s in summaries]
    totals = [float(t.get("total_s", 0.0)) for t in timings]
    timing: dict[str, Any] = {"total_s": max(totals), "per_run_s": totals}  # the runs went side by side
    setup = {arm: s for t in timings for arm, s in (t.get("arm_setup_s") or {}).items()}
    if setup:
        timing["arm_setup_s"] = setup
    if "round0_heldout_s" in timings[0]:  # every run evaluated round 0; the report shows the first run's
        timing["round0_heldout_s"] = timings[0]["round0_heldout_s"]
    return {
        "config": {**first["config"], "arms": list(arms), "merged_runs": len(summaries)},
        "round0": first["round0"],
        "arms": arms,
        "timing": timing,
    }
