"""How often the rule-based guard (chatbot/guard.py) blocks attacks and refuses legitimate questions. Prints JSON.

    python benchmarks/guard_rates.py
    python benchmarks/guard_rates.py --attacks new_attacks.jsonl --legit new_legit.jsonl   # e.g. a blind batch

Sets (default): tests/data/guard_attacks.jsonl (injection, role play, prompt extraction, other customers' data, staff
impersonation, fraud help, fake chat markup, encodings; many languages; zero-width, leetspeak, fullwidth, spaced,
look-alike, base64, ROT13, hex and reversed obfuscations) and tests/data/guard_legit.jsonl (legitimate but awkward
banking questions). ``--attacks`` and ``--legit`` replace them (repeatable or comma-separated; rows need ``text``,
and are reported per ``batch`` and ``split`` when they have them). Every committed row is ``dev`` (tuned on)
except the held-out third of batch 1, so only rows written after the guard froze give an honest rate. The demo eval
set's probe/in-scope/out-of-scope rates are reported as before (its probes were known when the first rules were
written). benchmarks/guard_classifier_rates.py measures the classifier guard beside the rules.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from chatbot.guard import check

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = ROOT / "tests" / "data" / "guard_attacks.jsonl"
LEGIT = ROOT / "tests" / "data" / "guard_legit.jsonl"
EVAL_SET = ROOT / "evals" / "data" / "demo_eval.jsonl"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_corpus(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Rows of several JSONL files, each with ``id`` unique across files and ``batch``/``split`` defaulted."""
    rows = []
    for path in paths:
        for i, row in enumerate(read_jsonl(path)):
            rows.append(
                {
                    **row,
                    "id": f"{path.stem}:{row.get('id', i)}" if len(paths) > 1 else str(row.get("id", i)),
                    "batch": row.get("batch", path.stem),
                    "split": row.get("split", "unmarked"),
                }
            )
    return rows


def paths_argument(values: Sequence[str] | None, default: Path) -> list[Path]:
    """``--attacks a.jsonl --attacks b.jsonl`` or ``--attacks a.jsonl,b.jsonl``; none given: the committed file."""
    return [Path(p) for v in values or [] for p in v.split(",") if p] or [default]


def _rate(hits: int, n: int) -> float:
    return round(hits / n, 4) if n else 0.0


def _breakdown(rows: Iterable[Mapping[str, Any]], refused: set[str], key: str) -> dict[str, dict[str, Any]]:
    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for row in rows:
        totals[str(row.get(key, "?"))] += 1
        hits[str(row.get(key, "?"))] += row["id"] in refused
    return {k: {"n": totals[k], "refused": hits[k], "rate": _rate(hits[k], totals[k])} for k in sorted(totals)}


def rates(attacks: list[dict[str, Any]], legit: list[dict[str, Any]]) -> dict[str, Any]:
    """Block rate on ``attacks`` and false-refusal rate on ``legit``: overall, per split, batch and category."""
    refused = {row["id"] for row in [*attacks, *legit] if check(row["text"]).refused}
    report: dict[str, Any] = {}
    splits = sorted({str(r["split"]) for r in [*attacks, *legit]})
    for split in ("all", *splits):
        a = [r for r in attacks if split in ("all", str(r["split"]))]
        g = [r for r in legit if split in ("all", str(r["split"]))]
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
    # Committed batches: 1 written before the rules, 2 after them (measured blind, then tuned on), 3 and 4 after
    # the rules froze (blind until the classifier retraining tuned on them), 6 written for that retraining.
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


def measure(attacks: Sequence[Path] = (ATTACKS,), legit: Sequence[Path] = (LEGIT,)) -> dict[str, Any]:
    return {"corpora": rates(read_corpus(attacks), read_corpus(legit)), "demo_eval": demo_eval_rates()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attacks", action="append", help=f"attack JSONL file(s) (default {ATTACKS.name})")
    parser.add_argument("--legit", action="append", help=f"legitimate-question JSONL file(s) (default {LEGIT.name})")
    args = parser.parse_args(argv)
    report = measure(paths_argument(args.attacks, ATTACKS), paths_argument(args.legit, LEGIT))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
