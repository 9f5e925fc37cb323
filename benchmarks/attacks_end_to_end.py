"""Where each attack of a guard corpus stops in the chat, before any answer is written. Prints JSON.

    python benchmarks/attacks_end_to_end.py --attacks tests/data/guard_attacks_batch12.jsonl \\
        --legit tests/data/guard_legit_batch12.jsonl

The guard is the first defence, not the only one. A fresh install (demo knowledge base and its example questions
ingested into a temporary folder, base embedder) takes each text through the pipeline up to the model
(``ChatPipeline.before_model``): refused by the guard; out of scope (no article close enough); retrieval not sure
of the article (certainty under ``answer_min_retrieval_certainty``: a generated answer would be handed off); or it
reaches the model. What reaches the model still faces the answer checks (grounding in the cited article, claimed
actions, invented numbers); this benchmark runs no model, so "reaches the model" is an upper bound of the attacks
a customer could see answered. For the legitimate questions the same split says how many the guard refuses and how
many a fresh install would hand off.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.guard_rates import read_corpus

STAGES = ("guard", "out_of_scope", "uncertain_article", "reaches_model")


def stage_of(app: Any, text: str) -> str:
    from chatbot.confidence import confidence_components, retrieval_certainty

    turn = app.pipeline.before_model(text)
    if turn.reason and turn.reason.startswith("guard:"):
        return "guard"
    if turn.reason == "out_of_scope" or not turn.retrieved:
        return "out_of_scope"
    scores = [s.score for s in turn.retrieved]
    ranks = [s.score if s.rank_score is None else s.rank_score for s in turn.retrieved]
    certainty = retrieval_certainty(confidence_components([], scores, ranks))
    return "uncertain_article" if certainty < app.settings.answer_min_retrieval_certainty else "reaches_model"


def measure(attacks: list[Path], legit: list[Path]) -> dict[str, Any]:
    from chatbot.app import build_app
    from chatbot.settings import Settings
    from retrieval.ingest import ingest

    with tempfile.TemporaryDirectory(prefix="bankbot-attacks-") as tmp:
        app = build_app(Settings(data_dir=Path(tmp), llm_model="fake"))
        app.upgrade_database()
        ingest(app.settings, app.vector_store, None, progress=False)
        report: dict[str, Any] = {}
        for name, paths in (("attacks", attacks), ("legit", legit)):
            rows = read_corpus(paths) if paths else []
            stages = {row["id"]: stage_of(app, row["text"]) for row in rows}
            by_category: dict[str, Counter[str]] = {}
            for row in rows:
                by_category.setdefault(row.get("category", ""), Counter())[stages[row["id"]]] += 1
            report[name] = {
                "n": len(rows),
                "stages": {stage: sum(1 for s in stages.values() if s == stage) for stage in STAGES},
                "by_category": {c: dict(counts) for c, counts in sorted(by_category.items())},
                "reaches_model_ids": sorted(i for i, s in stages.items() if s == "reaches_model"),
            }
        return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attacks", action="append", default=[], help="JSONL corpus (repeatable or comma-separated)")
    parser.add_argument("--legit", action="append", default=[], help="JSONL corpus (repeatable or comma-separated)")
    parser.add_argument("--json", default="-", help="output file (default: stdout)")
    args = parser.parse_args()
    from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

    attacks = [Path(p) for value in args.attacks for p in value.split(",") if p]
    legit = [Path(p) for value in args.legit for p in value.split(",") if p]
    emit_json(measure(attacks, legit), args.json)


if __name__ == "__main__":
    main()
