"""Latency of one retrieval (embed the question + search articles + search examples) at 10k indexed items.

    python benchmarks/retrieval_latency.py [--items 10000] [--queries 200] [--out result.json]

Builds a throw-away Chroma folder holding the demo knowledge base (or its first ``--articles``) plus filler
chunks (random unit vectors) up to ``--items`` KB items, and ``--items`` example questions (random unit vectors,
or real questions embedded from ``--examples CSV``). Random vectors cost the same to search as real ones but
need no embedding time to build.
Prints JSON: p50/p95 of the whole ``retriever.invoke`` and of its parts, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from evals.retrieval import percentile

if TYPE_CHECKING:
    from chatbot.app import BankBot

TARGET_P50_MS = 25.0
QUESTIONS = [
    "How do I activate my new card?",
    "my card still hasn't arrived",
    "Why was I charged a fee for a card payment?",
    "what exchange rate do you use",
    "I want to close my account",
    "someone stole my phone",
    "how long does a transfer take",
    "can I top up with cash",
]


def random_unit_vectors(n: int, dim: int, seed: int) -> list[list[float]]:
    import numpy as np

    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.tolist()


def fill(collection: object, n: int, dim: int, *, kind: str) -> None:
    for start in range(0, n, 2000):
        count = min(2000, n - start)
        ids = [f"{kind}-{start + i}" for i in range(count)]
        meta = [{"article_id": f"filler_{(start + i) % 500}", "title": "filler", "chunk": 0} for i in range(count)]
        collection.add(  # type: ignore[attr-defined]
            ids=ids, documents=["filler"] * count, metadatas=meta, embeddings=random_unit_vectors(count, dim, start)
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--articles", type=int, default=80, help="real demo KB articles to ingest (rest is filler)")
    parser.add_argument("--examples", type=Path, help="labelled CSV (text,category) to embed as real examples")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    return parser


def _index_items(app: BankBot, tmp: str, args: argparse.Namespace) -> None:
    """Ingest the first ``args.articles`` demo articles, then pad both indexes to ``args.items``."""
    from retrieval.example_index import read_labelled_csv
    from retrieval.ingest import ingest
    from retrieval.kb import demo_kb_dir

    kb = Path(tmp) / "kb"
    kb.mkdir()
    for path in sorted(demo_kb_dir().glob("*.md"))[: args.articles]:
        shutil.copy(path, kb)
    ingest(app.settings, app.vector_store, [kb], progress=False)
    dim = len(app.vector_store.embeddings.embed_query("dimension probe"))
    kb_real = app.vector_store._collection.count()
    fill(app.vector_store._collection, max(0, args.items - kb_real), dim, kind="kb")
    if args.examples:
        questions, ids = read_labelled_csv(args.examples)
        app.example_index.add(questions[: args.items], ids[: args.items], source="benchmark")
    else:
        fill(app.example_index.collection, args.items, dim, kind="ex")


def _time_queries(app: BankBot, queries: int) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds per query: (whole ``retriever.invoke``, embedding alone, both searches alone)."""
    retriever = app.retriever
    embeddings = app.vector_store.embeddings
    for question in QUESTIONS:  # warm-up: first calls allocate buffers and load HNSW segments
        retriever.invoke(question)
    total: list[float] = []
    embed: list[float] = []
    search: list[float] = []
    for i in range(queries):
        question = QUESTIONS[i % len(QUESTIONS)] + f" (case {i})"
        started = time.perf_counter()
        vector = embeddings.embed_query(question)
        embedded = time.perf_counter()
        app.vector_store.similarity_search_by_vector_with_relevance_scores(vector, k=retriever.fetch_chunks)
        app.example_index.search_by_vector(vector, retriever.example_k)
        searched = time.perf_counter()
        retriever.invoke(question)
        done = time.perf_counter()
        embed.append((embedded - started) * 1000)
        search.append((searched - embedded) * 1000)
        total.append((done - searched) * 1000)
    return total, embed, search


def _report(
    app: BankBot, queries: int, total: list[float], embed: list[float], search: list[float]
) -> dict[str, object]:
    return {
        "benchmark": "retrieval_latency",
        "kb_items": app.vector_store._collection.count(),
        "example_items": app.example_index.count(),
        "queries": queries,
        "invoke_ms_p50": round(percentile(total, 50), 2),
        "invoke_ms_p95": round(percentile(total, 95), 2),
        "embed_ms_p50": round(percentile(embed, 50), 2),
        "search_ms_p50": round(percentile(search, 50), 2),
        "invoke_ms_mean": round(statistics.fmean(total), 2),
        "target_p50_ms": TARGET_P50_MS,
        "meets_target": percentile(total, 50) <= TARGET_P50_MS,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    from chatbot.app import build_app
    from chatbot.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bankbot-latency-") as tmp:
        app = build_app(Settings(data_dir=Path(tmp) / "data", llm_model="fake"))
        _index_items(app, tmp, args)
        total, embed, search = _time_queries(app, args.queries)
        result = _report(app, args.queries, total, embed, search)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
