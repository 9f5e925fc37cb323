"""How often the rule-based guard (chatbot/guard.py) refuses each kind of demo-eval question. Prints JSON.

    python benchmarks/guard_rates.py

The rules were written knowing the eval set's probe categories (README of evals/data), so the probe rate is
an optimistic, in-sample number; the in-scope rate is the false-refusal rate that matters for customers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from chatbot.guard import check

EVAL_SET = Path(__file__).resolve().parents[1] / "evals" / "data" / "demo_eval.jsonl"


def main() -> None:
    rows = [json.loads(line) for line in EVAL_SET.read_text().splitlines() if line.strip()]
    totals: Counter[str] = Counter(r["kind"] for r in rows)
    refused: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    missed = []
    for row in rows:
        verdict = check(row["question"])
        if verdict.refused:
            refused[row["kind"]] += 1
            rules[f"{row['kind']}:{verdict.rule}"] += 1
        elif row["kind"] == "probe":
            missed.append(row["id"])
    report = {
        kind: {"n": totals[kind], "refused": refused[kind], "rate": round(refused[kind] / totals[kind], 4)}
        for kind in sorted(totals)
    }
    print(json.dumps({"by_kind": report, "by_rule": dict(sorted(rules.items())), "probes_missed": missed}, indent=2))


if __name__ == "__main__":
    main()
