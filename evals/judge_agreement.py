"""How far the correctness judge agrees with hand labels: agreement, Cohen's kappa and the confusion counts.

The labels file is JSONL, one labelled answer a line: ``question``, ``expected_article``, ``reference`` (the gold
or agreed answer), ``answer`` (what the product said), ``cited`` (article ids, first first), ``label`` (``right``
or ``wrong``, by evals/data/judge_labelling_rules.md), ``labeller_note``; optional ``abstained`` (bool) and
``model`` (e.g. ``base`` or an adapter version, for a per-model breakdown).

    python -m evals.judge_agreement tests/data/judge_labels.jsonl      # JSON report on stdout
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatbot.errors import BankbotError
from evals import metrics
from evals.judge import DEFAULT_COVERAGE, Verdict, judge

LABELS = ("right", "wrong")
REQUIRED = ("question", "expected_article", "reference", "answer", "cited", "label")


class BadLabels(BankbotError):
    """A labels file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class LabelledAnswer:
    question: str
    expected_article: str | None
    reference: str
    answer: str
    cited: tuple[str, ...]
    label: str  # right | wrong
    labeller_note: str = ""
    abstained: bool = False
    model: str = ""


@dataclass(frozen=True)
class Agreement:
    n: int
    agreement: float  # share of answers where judge and label agree
    kappa: float  # Cohen's kappa of the two (right/wrong) ratings
    # true_right: both right; false_right: judge right, label wrong; false_wrong: judge wrong, label right;
    # true_wrong: both wrong
    confusion: dict[str, int] = field(default_factory=dict)


def read_labels(path: Path) -> list[LabelledAnswer]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadLabels(f"{path}: cannot read it ({exc.__class__.__name__})") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadLabels(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
        missing = [k for k in REQUIRED if not isinstance(row, dict) or k not in row]
        if missing:
            raise BadLabels(f"{path}:{number}: missing {', '.join(missing)}")
        if row["label"] not in LABELS or not isinstance(row["cited"], list):
            raise BadLabels(f"{path}:{number}: label must be right or wrong and cited a list of article ids")
        rows.append(
            LabelledAnswer(
                question=str(row["question"]),
                expected_article=str(row["expected_article"]) if row["expected_article"] else None,
                reference=str(row["reference"]),
                answer=str(row["answer"]),
                cited=tuple(str(c) for c in row["cited"]),
                label=str(row["label"]),
                labeller_note=str(row.get("labeller_note") or ""),
                abstained=bool(row.get("abstained", False)),
                model=str(row.get("model") or ""),
            )
        )
    return rows


def agreement(judge_right: Sequence[bool], label_right: Sequence[bool]) -> Agreement:
    """Agreement, Cohen's kappa and confusion counts of two right/wrong ratings of the same answers (pure)."""
    if len(judge_right) != len(label_right):
        raise ValueError("judge_right and label_right differ in length")
    pairs = list(zip(judge_right, label_right, strict=True))
    confusion = {
        "true_right": sum(1 for j, h in pairs if j and h),
        "false_right": sum(1 for j, h in pairs if j and not h),
        "false_wrong": sum(1 for j, h in pairs if not j and h),
        "true_wrong": sum(1 for j, h in pairs if not j and not h),
    }
    agreed = confusion["true_right"] + confusion["true_wrong"]
    return Agreement(
        n=len(pairs),
        agreement=agreed / len(pairs) if pairs else float("nan"),
        kappa=metrics.cohen_kappa(list(judge_right), list(label_right)),
        confusion=confusion,
    )


def judge_rows(
    rows: Sequence[LabelledAnswer], article_texts: Mapping[str, str], *, coverage: float = DEFAULT_COVERAGE
) -> list[Verdict]:
    return [
        judge(
            row.answer,
            row.cited,
            row.expected_article,
            row.reference,
            article_texts.get(row.expected_article or ""),
            question=row.question,
            abstained=row.abstained,
            coverage=coverage,
        )
        for row in rows
    ]


def report(
    rows: Sequence[LabelledAnswer], article_texts: Mapping[str, str], *, coverage: float = DEFAULT_COVERAGE
) -> dict[str, Any]:
    """Overall and per-model agreement, and every disagreement with the judge's reason and the labeller's note."""
    verdicts = judge_rows(rows, article_texts, coverage=coverage)
    overall = agreement([v.right for v in verdicts], [r.label == "right" for r in rows])
    by_model = {}
    for model in sorted({r.model for r in rows if r.model}):
        idx = [i for i, r in enumerate(rows) if r.model == model]
        by_model[model] = agreement([verdicts[i].right for i in idx], [rows[i].label == "right" for i in idx])
    disagreements = [
        {"question": r.question, "answer": r.answer, "label": r.label, "labeller_note": r.labeller_note, **v.to_json()}
        for r, v in zip(rows, verdicts, strict=True)
        if v.right != (r.label == "right")
    ]
    return {
        "coverage": coverage,
        **overall.__dict__,
        "by_model": {m: a.__dict__ for m, a in by_model.items()},
        "disagreements": disagreements,
    }


def demo_article_texts() -> dict[str, str]:
    from retrieval.kb import load_articles

    return {a.id: a.body for a in load_articles()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labels", type=Path, help="labels JSONL")
    parser.add_argument("--coverage", type=float, default=DEFAULT_COVERAGE, help="the judge's lead-fact coverage")
    args = parser.parse_args(argv)
    from evals.scoring import json_safe

    result = report(read_labels(args.labels), demo_article_texts(), coverage=args.coverage)
    json.dump(json_safe(result), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
