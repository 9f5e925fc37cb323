"""Retrieval accuracy@1 under fusion variants (article offset, example floor) and example-index sizes.

    python benchmarks/fusion_offsets.py --questions ../shared/data/banking77/train.csv --json -
    python benchmarks/fusion_offsets.py --questions ... --index-from /tmp/sim-c/confidence/data --json out.json

Uses the feedback-loop simulation's split (``bankbot simulate`` defaults: 20 % held out, seed 77, 770 held-out
queries scored, 10 an intent) over the demo knowledge base ingested into a temporary folder. Example indexes:
none, random pool questions (``--sizes``, default 20, 80, 300, 2000, labelled with their intent's article), and
optionally the example index of a simulation arm's data folder (``--index-from``: the questions reviewers
corrected). Each query is embedded and searched once; the variants re-rank the same neighbours with
``retrieval.retriever.fuse_scores``, so the comparison is exact. This is how ``ARTICLE_OFFSET`` was chosen.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

if TYPE_CHECKING:
    from chatbot.app import BankBot

ROOT = Path(__file__).resolve().parents[1]
VARIANTS: dict[str, dict[str, float]] = {
    "offset 0 (before)": {"article_offset": 0.0},
    "offset 0.05": {"article_offset": 0.05},
    "offset 0.1 (default)": {"article_offset": 0.1},
    "offset 0.15": {"article_offset": 0.15},
    "offset 0.2": {"article_offset": 0.2},
    "offset 0, floor 0.7": {"article_offset": 0.0, "floor": 0.7},
    "offset 0, floor 0.8": {"article_offset": 0.0, "floor": 0.8},
}


def top_article(article_scores: dict[str, float], hits: list[tuple[str, float]], variant: dict[str, float]) -> str:
    from retrieval.retriever import fuse_scores

    floor = variant.get("floor", 0.0)
    kept = [(a, s) for a, s in hits if s >= floor]
    fused = fuse_scores(article_scores, kept, article_offset=variant["article_offset"])
    return max(fused.items(), key=lambda item: (item[1], item[0]))[0]


def simulation_split(questions: Path) -> tuple[dict[str, tuple[str, str]], list[Any], list[Any], list[str]]:
    """(intent -> (article, gold answer), customer pool, 770 held-out queries, their articles): the split
    ``bankbot simulate`` uses by default (20 % held out, seed 77)."""
    from evals.simulation.loop import gold_by_intent
    from evals.simulation.split import read_questions, stratified_split, stratified_subset

    gold = gold_by_intent()
    labelled = [q for q in read_questions(questions) if q.category in gold]
    pool, heldout = stratified_split(labelled, holdout_fraction=0.2, seed=77)
    heldout = stratified_subset(heldout, size=770, seed=77)
    return gold, pool, heldout, [gold[q.category][0] for q in heldout]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=Path, required=True, help="labelled CSV (text,category), e.g. Banking77")
    parser.add_argument("--sizes", default="20,80,300,2000", help="random pool examples per index")
    parser.add_argument("--index-from", type=Path, help="a data folder whose example index is scored too")
    parser.add_argument("--json", metavar="PATH", help="write the JSON report here ('-' for stdout)")
    return parser


def article_scores(app: BankBot, vectors: list[list[float]]) -> list[dict[str, float]]:
    """Per query: each neighbouring article's best chunk similarity."""
    from retrieval.retriever import similarity

    article_scores: list[dict[str, float]] = []
    for vector in vectors:
        best: dict[str, float] = {}
        for doc, distance in app.vector_store.similarity_search_by_vector_with_relevance_scores(vector, k=24):
            article = str(doc.metadata["article_id"])
            best[article] = max(best.get(article, 0.0), similarity(distance))
        article_scores.append(best)
    return article_scores


def _example_hits(
    app: BankBot,
    vectors: list[list[float]],
    pool: list[Any],
    gold: dict[str, tuple[str, str]],
    sizes: str,
    index_from: Path | None,
) -> dict[str, list[list[tuple[str, float]]]]:
    """Per example index (none, random pool questions per size, ``--index-from``): each query's example hits."""
    import chromadb

    from chatbot.app import build_app
    from chatbot.settings import Settings
    from retrieval.example_index import ExampleIndex
    from retrieval.retriever import EXAMPLE_K
    from retrieval.vector_store import COSINE

    def hits(index: Any) -> list[list[tuple[str, float]]]:
        return [[(h.article_id, h.score) for h in index.search_by_vector(v, EXAMPLE_K)] for v in vectors]

    indexes: dict[str, list[list[tuple[str, float]]]] = {"none": [[] for _ in vectors]}
    client: Any = chromadb.EphemeralClient()  # typed configuration dicts differ between chromadb releases
    shuffled = pool[:]
    random.Random(1).shuffle(shuffled)
    for size in [int(s) for s in sizes.split(",") if s]:
        collection = client.get_or_create_collection(f"ex{size}", embedding_function=None, configuration=COSINE)
        index = ExampleIndex(collection, app.embedder)
        index.add([q.text for q in shuffled[:size]], [gold[q.category][0] for q in shuffled[:size]], source="bench")
        indexes[f"{size} random"] = hits(index)
    if index_from:
        other = build_app(Settings(data_dir=index_from), embedder=app.embedder)
        indexes[f"{other.example_index.count()} from {index_from}"] = hits(other.example_index)
    return indexes


def _accuracy_table(
    article_scores: list[dict[str, float]], indexes: dict[str, list[list[tuple[str, float]]]], labels: list[str]
) -> dict[str, dict[str, float]]:
    """Accuracy@1 per fusion variant and example index."""
    table: dict[str, dict[str, float]] = {}
    for name, variant in VARIANTS.items():
        table[name] = {}
        for index_name, rows in indexes.items():
            right = [
                top_article(a, h, variant) == label for a, h, label in zip(article_scores, rows, labels, strict=True)
            ]
            table[name][index_name] = round(sum(right) / len(right), 4)
    return table


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    from chatbot.app import build_app
    from chatbot.settings import Settings
    from retrieval.embeddings import as_embeddings
    from retrieval.ingest import ingest

    gold, pool, heldout, labels = simulation_split(args.questions)
    with tempfile.TemporaryDirectory(prefix="bankbot-fusion-") as tmp:
        app = build_app(Settings(data_dir=Path(tmp)))
        ingest(app.settings, app.vector_store, None, progress=False)
        vectors = as_embeddings(app.embedder).embed_documents([q.text for q in heldout])
        scores = article_scores(app, vectors)
        indexes = _example_hits(app, vectors, pool, gold, args.sizes, args.index_from)
        table = _accuracy_table(scores, indexes, labels)
    report: dict[str, Any] = {"heldout_queries": len(labels), "accuracy_at_1": table}
    emit_json(report, args.json)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
