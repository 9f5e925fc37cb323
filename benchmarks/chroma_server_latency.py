"""Retrieval latency through a Chroma server (``chroma run`` on localhost) against embedded Chroma.

    python benchmarks/chroma_server_latency.py [--queries 48] [--json result.json]

Starts ``chroma run`` on a free localhost port in a temporary folder (stopped at the end), loads the same records
into both stores (the demo knowledge base, and half of the demo eval's in-scope questions as example questions),
then times the other questions through both retrievers, alternating store per question. Reports p50/p95 of the
whole ``retriever.invoke`` (embed the question, search the articles and the examples) and of the search alone
(``rank_by_vector`` with a precomputed vector, where the network round trips show), in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from json_output import emit_json  # benchmarks/json_output.py (the script's folder is on sys.path)

from evals.retrieval import percentile

if TYPE_CHECKING:
    from chatbot.app import BankBot

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "evals" / "data" / "demo_eval.jsonl"
WARM_UP = 5


def in_scope_questions() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["question"], r["expected_article"]) for r in rows if r["kind"] == "in_scope" and r["expected_article"]]


def copy_records(source: Any, target: Any) -> int:
    """Copy a collection's records with their stored vectors (no re-embedding: both stores hold the same data)."""
    page = source.get(include=["documents", "metadatas", "embeddings"])
    for start in range(0, len(page["ids"]), 500):
        end = start + 500
        target.add(
            ids=page["ids"][start:end],
            documents=page["documents"][start:end],
            metadatas=page["metadatas"][start:end],
            embeddings=page["embeddings"][start:end],
        )
    return len(page["ids"])


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 2), "p95": round(percentile(values, 95), 2)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=48, help="timed questions per store")
    parser.add_argument("--json", help="write the JSON report here ('-' or nothing: stdout)")
    return parser


def _load_both(embedded: BankBot, remote: BankBot, examples: list[tuple[str, str]]) -> int:
    """Ingest the demo KB and the example questions into ``embedded`` and copy them to ``remote``; KB chunk count."""
    from retrieval.ingest import ingest

    for app in (embedded, remote):
        app.upgrade_database()  # the apps read the production bundle's snapshot from SQL
    ingest(embedded.settings, embedded.vector_store, None, progress=False)
    embedded.example_index.add([q for q, _ in examples], [a for _, a in examples], source="benchmark")
    kb = copy_records(embedded.vector_store._collection, remote.vector_store._collection)
    copy_records(embedded.example_index.collection, remote.example_index.collection)
    return kb


def _time_stores(
    stores: dict[str, Any], queries: list[str], vectors: list[list[float]], count: int
) -> tuple[dict[str, list[float]], dict[str, list[float]], int, int]:
    """(invoke ms per store, search ms per store, questions whose top article agrees, questions timed)."""
    for question, vector in list(zip(queries, vectors, strict=True))[:WARM_UP]:
        for retriever in stores.values():
            retriever.invoke(question)
            retriever.rank_by_vector(vector)
    invoke: dict[str, list[float]] = {name: [] for name in stores}
    search: dict[str, list[float]] = {name: [] for name in stores}
    top_agree = 0
    timed = list(zip(queries, vectors, strict=True))[WARM_UP : WARM_UP + count]
    for i, (question, vector) in enumerate(timed):
        order = list(stores) if i % 2 == 0 else list(reversed(stores))  # neither store always goes first
        tops = {}
        for name in order:
            started = time.perf_counter()
            docs = stores[name].invoke(question)
            invoke[name].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            stores[name].rank_by_vector(vector)
            search[name].append((time.perf_counter() - started) * 1000)
            tops[name] = docs[0].metadata["article_id"] if docs else None
        top_agree += tops["embedded"] == tops["server"]
    return invoke, search, top_agree, len(timed)


def _report(
    kb: int, examples: int, invoke: dict[str, list[float]], search: dict[str, list[float]], top_agree: int, timed: int
) -> dict[str, Any]:
    return {
        "benchmark": "chroma_server_latency",
        "kb_chunks": kb,
        "example_questions": examples,
        "queries": timed,
        "invoke_ms": {name: summary(values) for name, values in invoke.items()},
        "search_ms": {name: summary(values) for name, values in search.items()},
        "search_overhead_ms_p50": round(percentile(search["server"], 50) - percentile(search["embedded"], 50), 2),
        "same_top_article": f"{top_agree}/{timed}",
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    from chatbot.app import build_app
    from chatbot.model_loading import load_embedder
    from chatbot.settings import Settings
    from retrieval.chroma_server import start_chroma_server

    questions = in_scope_questions()
    examples, queries = questions[0::2], [q for q, _ in questions[1::2]]
    if len(queries) < args.queries + WARM_UP:
        raise SystemExit(f"only {len(queries)} held-out questions; ask for at most {len(queries) - WARM_UP}")
    with tempfile.TemporaryDirectory(prefix="bankbot-chroma-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        embedder = load_embedder(Settings(data_dir=tmp / "embedded", llm_model="fake"))
        with start_chroma_server(tmp / "chroma-server", deadline_s=60) as server:
            embedded = build_app(Settings(data_dir=tmp / "embedded", llm_model="fake"), embedder=embedder)
            remote = build_app(
                Settings(data_dir=tmp / "remote", llm_model="fake", chroma_host=server.host, chroma_port=server.port),
                embedder=embedder,
            )
            kb = _load_both(embedded, remote, examples)
            stores = {"embedded": embedded.retriever, "server": remote.retriever}
            vectors = embedder_vectors(embedded, queries)
            invoke, search, top_agree, timed = _time_stores(stores, queries, vectors, args.queries)
    emit_json(_report(kb, len(examples), invoke, search, top_agree, timed), args.json)
    return 0


def embedder_vectors(app: Any, questions: list[str]) -> list[list[float]]:
    return [list(v) for v in app.vector_store.embeddings.embed_documents(questions)]


if __name__ == "__main__":
    sys.exit(main())
