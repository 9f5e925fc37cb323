"""How often the chat pipeline cites the right article, with the real LLM, on the demo eval set.

Reads settings the usual way (BANKBOT_* / bankbot.toml); the KB must be ingested (`bankbot ingest`). Turns are
not logged. Prints one JSON object:

    python benchmarks/chat_citations.py --n 40 [--ids q0142,q0160] [--max-new-tokens 96] [--show]

``model_cited`` counts answers where the model itself wrote a valid [n] marker; ``cited_right`` counts answers
whose first cited article is the expected one (after the top-source fallback for answers without a marker);
``retrieval_top1`` is the same check on the top retrieved source alone, which the fallback can never beat.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatbot.app import BankBot
    from chatbot.protocols import ChatAnswer
    from chatbot.settings import Settings

EVAL_SET = Path(__file__).resolve().parents[1] / "evals" / "data" / "demo_eval.jsonl"


def pick(n: int, ids: list[str] | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in EVAL_SET.read_text().splitlines() if line.strip()]
    if ids:
        wanted = {i: r for r in rows for i in ids if r["id"] == i}
        return [wanted[i] for i in ids]
    in_scope = [r for r in rows if r["kind"] == "in_scope"]
    step = max(len(in_scope) // n, 1)  # spread over the intents rather than the first few
    return in_scope[::step][:n]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--ids", default=None, help="comma-separated eval ids instead of --n")
    parser.add_argument("--max-new-tokens", type=int, default=None)
    parser.add_argument("--show", action="store_true", help="also print every question and answer")
    return parser


def _score(rows: list[dict[str, Any]], answers: list[ChatAnswer], show: bool) -> list[dict[str, Any]]:
    """One result per eval row: which article was expected, retrieved first and cited."""
    results = []
    for row, ans in zip(rows, answers, strict=True):
        expected = row["expected_article"]
        results.append(
            {
                "id": row["id"],
                "expected": expected,
                "top_source": ans.sources[0].article_id if ans.sources else None,
                "cited": ans.cited,
                "model_cited": bool(ans.cited) and not ans.meta.get("citation_fallback", False),
                "cited_right": bool(ans.cited) and ans.cited[0] == expected,
                "any_cited_right": expected in ans.cited,
                "confidence": round(ans.confidence, 4),
                "answer": ans.answer if show else None,
                "question": row["question"] if show else None,
            }
        )
    return results


def _report(app: BankBot, settings: Settings, results: list[dict[str, Any]], elapsed: float) -> dict[str, Any]:
    n = len(results)

    def rate(key: str) -> float:
        return round(sum(bool(r[key]) for r in results) / n, 4)

    right = [r["confidence"] for r in results if r["cited_right"]]
    wrong = [r["confidence"] for r in results if not r["cited_right"]]
    return {
        "machine": f"{platform.machine()} {platform.processor() or ''} ({__import__('os').cpu_count()} cpus)".strip(),
        "llm": app.pipeline.generator.base_model,
        "adapter": app.pipeline.generator.adapter_version,
        "n": n,
        "max_new_tokens": settings.max_new_tokens,
        "retrieval_top1": round(sum(r["top_source"] == r["expected"] for r in results) / n, 4),
        "model_cited": rate("model_cited"),
        "cited_right": rate("cited_right"),
        "any_cited_right": rate("any_cited_right"),
        "mean_confidence_right": round(statistics.fmean(right), 4) if right else None,
        "mean_confidence_wrong": round(statistics.fmean(wrong), 4) if wrong else None,
        "seconds_total": round(elapsed, 1),
        "seconds_per_question": round(elapsed / n, 2),
        "results": results,
    }


def main() -> None:
    args = _parser().parse_args()

    from chatbot.app import build_app
    from chatbot.settings import Settings

    overrides: dict[str, Any] = {"abstain_confidence": 0.0, "min_retrieval_score": 0.0}  # measure every answer
    if args.max_new_tokens:
        overrides["max_new_tokens"] = args.max_new_tokens
    settings = Settings(**overrides)
    app = build_app(settings)
    app.upgrade_database()  # the production adapter, if any, is read from the model registry
    rows = pick(args.n, args.ids.split(",") if args.ids else None)
    started = time.perf_counter()
    answers = app.pipeline.answer_batch([r["question"] for r in rows], log=False)
    elapsed = time.perf_counter() - started
    report = _report(app, settings, _score(rows, answers, args.show), elapsed)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
