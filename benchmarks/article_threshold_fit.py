"""Does fitting the article-certainty threshold on the spot check keep wrong articles out of the fallback answers?

    python benchmarks/article_threshold_fit.py --questions ../shared/data/banking77/train.csv --json -

A failed or withheld model answer becomes the top article's approved answer or sentences only when retrieval is
sure of the article (``chatbot.turn_outcome.fallback_gate``). The certainty needed is fitted at promotion on the
spot check's reviewed turns (``chatbot.risk.article_threshold``), else the configured
``passage_min_retrieval_certainty``. This measures that rule where the loop's runs failed: a grown example index
makes some wrong articles look certain.

Same split as ``bankbot simulate`` (770 held-out Banking77 queries, seed 77), demo knowledge base, base embedder,
the product's ranking (vote fused with the head from ``example_head_min_examples`` on). For each index size s
(random pool questions, labelled with their intent's article, plus the articles' own examples): a spot check of
a quarter of s pool questions that are not indexed, scored under the previous night's index (s - 200, as the chat
logged them before their review) and answered there (certainty at least the configured one: the others were
handed off), labelled "the top article is the right one"; the threshold fitted on it is applied to the held-out
queries scored under the index of size s. ``--draws`` random spot checks per size.

Reported per size and rule: the share of held-out queries whose fallback shows an article (score and certainty
gates both passed), the share of those whose article is wrong (the fallback's wrong-article rate), and, for the
fitted rules, how many draws met the target, fell back to the certainty above the most certain wrong article (no
level met the target with enough turns), kept the configured one (too few reviews) or showed nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
NIGHT = 200  # reviews a night: the spot check was logged under the index one night smaller
TARGETS = (0.02, 0.04)
# Confidence levels of the wrong rate's upper bound: the abstention threshold's 95 %, and 50 % (about the plain
# rate, a bound that does not demand hundreds of reviews to show a small rate).
LEVELS = (0.95, 0.5)


def per_query(
    queries: Any, examples: Any, example_labels: list[str], article_scores: list[dict[str, float]], labels: list[str]
) -> tuple[list[float], list[float], list[bool]]:
    """(retrieval certainty, top article's evidence score, top article right) of each query under one index."""
    from retrieval_confidence import FALLBACK_SIGNAL, query_signals  # benchmarks/retrieval_confidence.py

    from chatbot.settings import Settings

    min_head = Settings().example_head_min_examples
    certainty: list[float] = []
    top_score: list[float] = []
    right: list[bool] = []
    signals_of = query_signals(queries, examples, example_labels, article_scores, min_head)
    for label, (tops, signals) in zip(labels, signals_of, strict=True):
        certainty.append(signals[FALLBACK_SIGNAL])
        top_score.append(signals["evidence top (top_score today)"])
        right.append(tops["product"] == label)
    return certainty, top_score, right


def shown_and_wrong(
    certainty: list[float], top_score: list[float], right: list[bool], threshold: float, min_score: float
) -> tuple[float, float | None]:
    """(share of queries whose fallback shows the top article, wrong-article rate among them)."""
    shown = [ok for c, s, ok in zip(certainty, top_score, right, strict=True) if c >= threshold and s >= min_score]
    wrong = (sum(1 for ok in shown if not ok) / len(shown)) if shown else None
    return len(shown) / len(right), wrong


def _summary(values: list[tuple[float, float | None]]) -> dict[str, Any]:
    wrong = [w for _, w in values if w is not None]
    return {
        "shown_share": round(statistics.fmean(s for s, _ in values), 4),
        "wrong_article_rate": round(statistics.fmean(wrong), 4) if wrong else None,
        "wrong_article_rate_worst_draw": round(max(wrong), 4) if wrong else None,
    }


def fitted_rule(
    logged: tuple[list[float], list[float], list[bool]],
    held: tuple[list[float], list[float], list[bool]],
    eligible: list[int],
    spot_size: int,
    target: float,
    level: float,
    configured: float,
    min_score: float,
    size: int,
    draws: int,
) -> dict[str, Any]:
    """The held-out outcome of the threshold fitted on ``draws`` random spot checks of the logged turns."""
    from chatbot.risk import SHOW_NOTHING, article_threshold

    outcomes: list[tuple[float, float | None]] = []
    kinds = {"fitted": 0, "above_most_certain_wrong": 0, "configured": 0, "show_nothing": 0}
    thresholds: list[float] = []
    for draw in range(draws):
        picked = random.Random(f"{size}:{draw}").sample(eligible, spot_size)
        fit = article_threshold(
            [logged[0][i] for i in picked], [logged[2][i] for i in picked], target, floor=configured, level=level
        )
        threshold = configured if fit.threshold is None else fit.threshold
        if fit.threshold is None:
            kinds["configured"] += 1
        elif threshold >= SHOW_NOTHING:
            kinds["show_nothing"] += 1
        else:
            kinds["above_most_certain_wrong" if fit.reason.startswith("no certainty") else "fitted"] += 1
            thresholds.append(threshold)
        outcomes.append(shown_and_wrong(*held, threshold, min_score))
    return {
        **_summary(outcomes),
        "draws_by_outcome": kinds,
        "median_fitted_threshold": round(statistics.median(thresholds), 4) if thresholds else None,
    }


def embedded_split(questions: Path, max_size: int) -> dict[str, Any]:
    """The simulation's split embedded once: held-out queries, the pool questions indexed in order and the spare
    ones the spot checks come from, the articles' own examples, and every query's article scores."""
    import numpy as np
    from fusion_offsets import article_scores, simulation_split  # benchmarks/fusion_offsets.py
    from retrieval_confidence import kb_examples  # benchmarks/retrieval_confidence.py

    from chatbot.app import build_app
    from chatbot.settings import Settings
    from retrieval.embeddings import as_embeddings
    from retrieval.ingest import ingest

    gold, pool, heldout, labels = simulation_split(questions)
    shuffled = pool[:]
    random.Random(1).shuffle(shuffled)
    indexed, spares = shuffled[:max_size], shuffled[max_size:]  # spares: never indexed
    with tempfile.TemporaryDirectory(prefix="bankbot-article-threshold-") as tmp:
        app = build_app(Settings(data_dir=Path(tmp)))
        ingest(app.settings, app.vector_store, None, progress=False)
        kb_vectors, kb_labels = kb_examples(app)
        embed = as_embeddings(app.embedder).embed_documents
        held = np.asarray(embed([q.text for q in heldout]), dtype=np.float32)
        spare = np.asarray(embed([q.text for q in spares]), dtype=np.float32)
        return {
            "labels": labels,
            "indexed_labels": [gold[q.category][0] for q in indexed],
            "spare_labels": [gold[q.category][0] for q in spares],
            "kb_vectors": kb_vectors.reshape(len(kb_labels), held.shape[1]),
            "kb_labels": kb_labels,
            "held": held,
            "spare": spare,
            "examples": np.asarray(embed([q.text for q in indexed]), dtype=np.float32),
            "held_scores": article_scores(app, held.tolist()),
            "spare_scores": article_scores(app, spare.tolist()),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, required=True, help="labelled CSV (text,category), e.g. Banking77")
    parser.add_argument("--sizes", default="400,600,800", help="indexed pool questions (a night is 200 reviews)")
    parser.add_argument("--draws", type=int, default=20, help="random spot checks per size")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    args = parser.parse_args(argv)

    import numpy as np

    from chatbot.settings import Settings

    settings = Settings()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    data = embedded_split(args.questions, max(sizes))

    def index(size: int) -> tuple[Any, list[str]]:
        vectors = np.concatenate([data["kb_vectors"], data["examples"][:size]])
        return vectors, data["kb_labels"] + data["indexed_labels"][:size]

    configured = settings.passage_min_retrieval_certainty
    min_score = settings.passage_min_retrieval_score
    report: dict[str, Any] = {
        "heldout_queries": len(data["labels"]),
        "spot_check_pool": len(data["spare_labels"]),
        "draws": args.draws,
        "configured_threshold": configured,
        "sizes": {},
    }
    for size in sizes:
        held = per_query(data["held"], *index(size), data["held_scores"], data["labels"])
        logged = per_query(data["spare"], *index(max(0, size - NIGHT)), data["spare_scores"], data["spare_labels"])
        # The spot check holds answered turns only: below the configured certainty the chat handed off.
        eligible = [i for i, c in enumerate(logged[0]) if c >= configured]
        spot_size = min(len(eligible), round(settings.spot_check_share * size))
        row: dict[str, Any] = {
            "spot_check_size": spot_size,
            "spot_check_eligible": len(eligible),
            "configured": _summary([shown_and_wrong(*held, configured, min_score)]),
        }
        for target in TARGETS:
            for level in LEVELS:
                row[f"fitted_target_{target}_level_{level}"] = fitted_rule(
                    logged, held, eligible, spot_size, target, level, configured, min_score, size, args.draws
                )
        report["sizes"][str(size)] = row
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    raise SystemExit(main())
