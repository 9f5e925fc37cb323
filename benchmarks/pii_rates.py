"""Recall and precision of PII redaction (chatbot/pii.py) on the committed corpora, and its cost per call. Prints JSON.

    python benchmarks/pii_rates.py [--baseline REV]

- recall: share of tests/data/pii_positive.jsonl rows whose PII substring (as typed, and normalised) is gone;
- precision: share of tests/data/pii_near_miss.jsonl rows left unchanged (order references, amounts, transaction
  dates, the bank's own contact details, secrets-shaped sentences that hold no secret...);
- kb_lines_unchanged: share of the demo knowledge-base lines left unchanged (answers quote them);
- phone_strategies: the phone stage alone with the ``phonenumbers`` matcher at VALID leniency, at POSSIBLE, and at
  POSSIBLE with the shape filter used in production;
- baseline (with ``--baseline REV``): recall and precision of chatbot/pii.py as it was at that git revision;
- us_per_call: mean time of one ``redact`` call on a typical 200-character question, with and without PII;
- ms_adversarial_1000_chars: one call on 1,000 characters built to give the recognisers the most work.

tests/test_pii.py imports ``measure`` and asserts the goals, so a regression fails CI.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import phonenumbers

from chatbot import pii
from chatbot.text_normalise import normalise_text

ROOT = Path(__file__).resolve().parents[1]
POSITIVES = ROOT / "tests" / "data" / "pii_positive.jsonl"
NEAR_MISSES = ROOT / "tests" / "data" / "pii_near_miss.jsonl"
KB = ROOT / "retrieval" / "demo_kb"
RECALL_GOAL = 0.99
PRECISION_GOAL = 0.98
Redact = Callable[[str], tuple[str, bool]]
TYPICAL_CLEAN = (
    "Hi, I ordered a replacement card on Monday because the old one was swallowed by an ATM in Leeds. The app "
    "still says it is being prepared. How long does delivery usually take, and can I use Apple Pay until then?"
)
TYPICAL_PII = (
    "Hi, my card 4111 1111 1111 1111 was swallowed by an ATM in Leeds LS1 4DY on Monday. Please call me back on "
    "07700 900123 or e-mail jane.doe@example.co.uk, my date of birth is 12/03/1985. Can I still use Apple Pay?"
)


def load(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def is_removed(row: dict[str, str], redacted: str) -> bool:
    return row["pii"] not in redacted and normalise_text(row["pii"]) not in redacted


def _rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 1.0


def _by_kind(rows: list[dict[str, str]], ok: list[bool]) -> dict[str, dict[str, float]]:
    totals: Counter[str] = Counter(r["kind"] for r in rows)
    good: Counter[str] = Counter(r["kind"] for r, o in zip(rows, ok, strict=True) if o)
    return {k: {"n": totals[k], "ok": good[k], "rate": _rate(good[k], totals[k])} for k in sorted(totals)}


def _phone_strategies(positives: list[dict[str, str]], near: list[dict[str, str]]) -> dict[str, dict[str, float]]:
    phones = [r for r in positives if r["kind"] == "phone"]
    strategies = {
        "matcher_valid": (phonenumbers.Leniency.VALID, False),
        "matcher_possible": (phonenumbers.Leniency.POSSIBLE, False),
        "matcher_possible_shape_filter": (phonenumbers.Leniency.POSSIBLE, True),
    }
    report = {}
    for name, (leniency, shape_filter) in strategies.items():

        def phones_only(text: str, leniency: int = leniency, shape_filter: bool = shape_filter) -> str:
            return pii._phones(normalise_text(text), pii.PUBLIC_CONTACTS, leniency=leniency, shape_filter=shape_filter)

        found = sum(is_removed(r, phones_only(r["text"])) for r in phones)
        kept = sum(phones_only(r["text"]) == normalise_text(r["text"]) for r in near)
        report[name] = {"phone_recall": _rate(found, len(phones)), "near_miss_precision": _rate(kept, len(near))}
    return report


# Inputs that make the recognisers work hardest (many candidate numbers, IBAN-like tokens); 1,000 characters each.
ADVERSARIAL = {
    name: (pattern * 1000)[:1000]
    for name, pattern in {
        "card_groups": "4111 - ",
        "single_digits": "1 ",
        "iban_heads": "gb82 ",
        "dates": "dob 12/12/",
        "at_dot_words": "x dot y at ",
    }.items()
}


def _worst_ms(calls: int) -> dict[str, float] | None:
    if calls <= 0:
        return None
    times = {}
    for name, text in ADVERSARIAL.items():
        start = time.perf_counter()
        pii.redact(text)
        times[name] = round((time.perf_counter() - start) * 1000, 1)
    return times


def _us_per_call(text: str, calls: int) -> float | None:
    if calls <= 0:
        return None
    start = time.perf_counter()
    for _ in range(calls):
        pii.redact(text)
    return round((time.perf_counter() - start) / calls * 1e6, 1)


def _rates(redact: Redact) -> dict[str, Any]:
    positives, near = load(POSITIVES), load(NEAR_MISSES)
    removed = [is_removed(r, redact(r["text"])[0]) for r in positives]
    unchanged = [redact(r["text"]) == (r["text"], False) for r in near]
    return {
        "recall": _rate(sum(removed), len(positives)),
        "precision": _rate(sum(unchanged), len(near)),
        "recall_by_kind": _by_kind(positives, removed),
        "precision_by_kind": _by_kind(near, unchanged),
    }


def baseline(rev: str) -> dict[str, Any]:
    """The same rates for chatbot/pii.py as it was at git revision ``rev`` (e.g. before this redaction)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:chatbot/pii.py"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    module = ModuleType("pii_baseline")
    exec(compile(source, f"{rev}:chatbot/pii.py", "exec"), module.__dict__)
    return {"rev": rev, **_rates(module.redact)}


def measure(*, timing_calls: int = 300) -> dict[str, Any]:
    positives, near = load(POSITIVES), load(NEAR_MISSES)
    removed = [is_removed(r, pii.redact(r["text"])[0]) for r in positives]
    unchanged = [pii.redact(r["text"]) == (r["text"], False) for r in near]
    kb_lines = [ln for f in sorted(KB.glob("*.md")) for ln in f.read_text(encoding="utf-8").splitlines() if ln.strip()]
    kb_changed = [ln for ln in kb_lines if pii.redact(ln)[1]]
    return {
        "recall": _rate(sum(removed), len(positives)),
        "precision": _rate(sum(unchanged), len(near)),
        "goals": {"recall": RECALL_GOAL, "precision": PRECISION_GOAL},
        "positives": len(positives),
        "near_misses": len(near),
        "recall_by_kind": _by_kind(positives, removed),
        "precision_by_kind": _by_kind(near, unchanged),
        "missed": [r["text"] for r, ok in zip(positives, removed, strict=True) if not ok],
        "wrongly_redacted": [r["text"] for r, ok in zip(near, unchanged, strict=True) if not ok],
        "kb_lines_unchanged": _rate(len(kb_lines) - len(kb_changed), len(kb_lines)),
        "kb_lines_changed": kb_changed,
        "phone_strategies": _phone_strategies(positives, near),
        "us_per_call": {
            "chars_clean": len(TYPICAL_CLEAN),
            "clean": _us_per_call(TYPICAL_CLEAN, timing_calls),
            "chars_with_pii": len(TYPICAL_PII),
            "with_pii": _us_per_call(TYPICAL_PII, timing_calls),
        },
        "ms_adversarial_1000_chars": _worst_ms(timing_calls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV", help="also measure chatbot/pii.py as it was at this git revision")
    args = parser.parse_args()
    report = measure()
    if args.baseline:
        report["baseline"] = baseline(args.baseline)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
