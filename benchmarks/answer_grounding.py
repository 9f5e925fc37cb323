"""How the grounding check (chatbot/answer_grounding.py) splits the hand-labelled answers of this product. JSON.

    python benchmarks/answer_grounding.py [--json FILE]

Data: tests/data/judge_labels.jsonl (279 answers of the base and adapted models to real and demo questions, each
labelled right or wrong by hand against its article). Grounding: the cited article's title, body and approved
answer (``gold_answer``), and the question — what the chat gives the check (the cited passages, the prompt's
approved answer, the question). Reported per threshold and per source: right answers the check would withhold and
wrong answers it would catch; and the lowest share of any right answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chatbot.answer_grounding import MIN_GROUNDED_SHARE, grounded_share
from retrieval.kb import load_articles

ROOT = Path(__file__).resolve().parents[1]
THRESHOLDS = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6)


def measure(labels: Path = ROOT / "tests" / "data" / "judge_labels.jsonl") -> dict[str, Any]:
    articles = {a.id: a for a in load_articles()}
    scored: list[tuple[str, str, float, int]] = []  # (source, label, share, content words)
    skipped = 0
    for line in labels.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        article = articles.get(row["cited"][0]) if row["cited"] else None
        if article is None:
            skipped += 1  # nothing cited: the answer was never shown as a generated one
            continue
        grounding = [article.title, article.body, article.gold_answer, row["question"]]
        share, words = grounded_share(row["answer"], grounding)
        scored.append((row["source"], row["label"], share, words))

    def split(rows: list[tuple[str, str, float, int]]) -> dict[str, Any]:
        right = [s for _, label, s, _ in rows if label == "right"]
        wrong = [s for _, label, s, _ in rows if label == "wrong"]
        return {
            "right": len(right),
            "wrong": len(wrong),
            "lowest_right_share": round(min(right), 4) if right else None,
            "by_threshold": {
                str(t): {"right_withheld": sum(s < t for s in right), "wrong_caught": sum(s < t for s in wrong)}
                for t in THRESHOLDS
            },
        }

    sources = sorted({source for source, *_ in scored})
    return {
        "labels": str(labels.relative_to(ROOT)),
        "shipped_threshold": MIN_GROUNDED_SHARE,
        "skipped_uncited": skipped,
        "all": split(scored),
        "by_source": {src: split([r for r in scored if r[0] == src]) for src in sources},
        "without_content_words": sum(1 for *_, words in scored if words == 0),
    }


def main() -> None:
    from json_output import json_main  # benchmarks/json_output.py (the script's folder is on sys.path)

    json_main(__doc__, measure)


if __name__ == "__main__":
    main()
