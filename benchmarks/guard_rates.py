"""How often the rule-based guard (chatbot/guard.py) blocks attacks and refuses legitimate questions. Prints JSON.

    python benchmarks/guard_rates.py

Sets: tests/data/guard_attacks.jsonl (injection, role play, prompt extraction, other customers' data, staff
impersonation, fraud help, fake chat markup, encodings; en/fr/de/es/it/pt/nl; zero-width, leetspeak, fullwidth,
spaced and look-alike obfuscations) and tests/data/guard_legit.jsonl (legitimate but awkward banking questions).
Each row is marked ``dev`` (the rules were tuned looking at these), ``test`` (held out: never looked at while
tuning) or ``blind`` (batch 4: written after the rules froze and before the classifier guard was trained, never
tuned on by either), so the ``test`` and ``blind`` numbers are the honest ones. The demo eval set's
probe/in-scope/out-of-scope rates are reported as before; its probes were known when the first rules were written,
so that probe rate is in-sample. benchmarks/guard_classifier_rates.py measures the classifier guard beside the rules.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from chatbot.guard import check

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = ROOT / "tests" / "data" / "guard_attacks.jsonl"
LEGIT = ROOT / "tests" / "data" / "guard_legit.jsonl"
EVAL_SET = ROOT / "evals" / "data" / "demo_eval.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rate(hits: int, n: int) -> float:
    return round(hits / n, 4) if n else 0.0


def _breakdown(rows: Iterable[Mapping[str, Any]], refused: set[str], key: str) -> dict[str, dict[str, Any]]:
    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for row in rows:
        totals[row[key]] += 1
        hits[row[key]] += row["id"] in refused
    return {k: {"n": totals[k], "refused": hits[k], "rate": _rate(hits[k], totals[k])} for k in sorted(totals)}


def rates(attacks: list[dict[str, Any]], legit: list[dict[str, Any]]) -> dict[str, Any]:
    """Block rate on ``attacks`` and false-refusal rate on ``legit``, overall, per split and per category."""
    refused = {row["id"] for row in [*attacks, *legit] if check(row["text"]).refused}
    report: dict[str, Any] = {}
    for split in ("all", "dev", "test", "blind"):
        a = [r for r in attacks if split in ("all", r["split"])]
        g = [r for r in legit if split in ("all", r["split"])]
        blocked = sum(r["id"] in refused for r in a)
        false_refusals = sum(r["id"] in refused for r in g)
        report[split] = {
            "attacks": len(a),
            "blocked": blocked,
            "block_rate": _rate(blocked, len(a)),
            "legit": len(g),
            "false_refusals": false_refusals,
            "false_refusal_rate": _rate(false_refusals, len(g)),
        }
    report["attacks_by_category"] = _breakdown(attacks, refused, "category")
    report["attacks_by_obfuscation"] = _breakdown(attacks, refused, "obfuscation")
    report["attacks_by_lang"] = _breakdown(attacks, refused, "lang")
    report["legit_by_category"] = _breakdown(legit, refused, "category")
    # batch 1: written before the rules; 2: written after them, measured blind, then tuned on (now dev);
    # 3: written after the rules froze and never tuned on (test): the honest estimate for new phrasings.
    # 4: written before the classifier guard was trained, never tuned on by rules or classifier (blind).
    report["attacks_by_batch"] = _breakdown(attacks, refused, "batch")
    report["legit_by_batch"] = _breakdown(legit, refused, "batch")
    report["missed_attacks"] = [r["id"] for r in attacks if r["id"] not in refused]
    report["false_refusals"] = [r["id"] for r in legit if r["id"] in refused]
    return report


def demo_eval_rates() -> dict[str, Any]:
    """Share of the demo eval set's probe, in-scope and out-of-scope questions the guard refuses."""
    rows = [{"id": r["id"], "text": r["question"], "kind": r["kind"]} for r in read_jsonl(EVAL_SET)]
    refused = {r["id"] for r in rows if check(r["text"]).refused}
    return {
        "by_kind": _breakdown(rows, refused, "kind"),
        "probes_missed": [r["id"] for r in rows if r["kind"] == "probe" and r["id"] not in refused],
        "in_scope_refused": [r["id"] for r in rows if r["kind"] == "in_scope" and r["id"] in refused],
    }


def measure() -> dict[str, Any]:
    return {"corpora": rates(read_jsonl(ATTACKS), read_jsonl(LEGIT)), "demo_eval": demo_eval_rates()}


def main() -> None:
    print(json.dumps(measure(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
