"""Retrieval eval: labelled queries (``text,category``, the Banking77 format) against the retriever.

A query counts as answered at rank r when the r-th article's intent equals its label (or the article id is the
label's id). ``examples`` and ``train_embedder`` run in a temporary space (a Chroma folder and model folder
under a temp dir, with a copy of the KB collection) so the user's index and models are never changed.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.errors import BankbotError
from retrieval.kb import article_id_for_intent

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase, AppServices

log = logging.getLogger(__name__)

LATENCY_SAMPLE = 200  # queries timed one by one; the rest are embedded in batches (same ranking, less CPU)

# Fine-tunes an embedder and returns its folder, called as ``train(settings, questions, article_ids, *, out_dir=,
# article_texts=, base_model=, **train_options)``: finetune.embedder.train_embedder, passed in by the caller
# because training sits above the evals layer.
EmbedderTrainer = Callable[..., Path]


@dataclass(frozen=True)
class LabelledQuery:
    text: str
    label: str  # an intent (Banking77 category)


def read_queries(path: Path) -> list[LabelledQuery]:
    """Queries from a ``text,category`` CSV (the label is kept as the raw intent)."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not {"text", "category"} <= set(reader.fieldnames or []):
                raise BankbotError(f"{path}: a labelled CSV needs the header text,category")
            rows = [LabelledQuery((r["text"] or "").strip(), (r["category"] or "").strip()) for r in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise BankbotError(f"{path}: cannot read it ({exc.__class__.__name__})") from exc
    rows = [r for r in rows if r.text and r.label]
    if not rows:
        raise BankbotError(f"{path}: no labelled rows")
    return rows


def demo_eval_questions(kind: str = "in_scope") -> list[dict[str, Any]]:
    """Rows of the shipped demo eval set (evals/data/demo_eval.jsonl) of one kind: in_scope, out_of_scope, probe."""
    import json

    path = Path(__file__).resolve().parent / "data" / "demo_eval.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["kind"] == kind]


def demo_eval_queries() -> list[LabelledQuery]:
    """The in-scope demo eval questions as labelled queries (label = the expected article's intent)."""
    return [LabelledQuery(r["question"], r["intent"]) for r in demo_eval_questions("in_scope")]


def read_out_of_scope(spec: str) -> list[str]:
    """``demo`` (the demo eval's out-of-scope questions) or a text file with one question per line."""
    if spec == "demo":
        return [r["question"] for r in demo_eval_questions("out_of_scope")]
    try:
        lines = Path(spec).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BankbotError(f"{spec}: cannot read it ({exc.__class__.__name__})") from exc
    return [line.strip() for line in lines if line.strip()]


def is_match(doc_meta: dict[str, Any], label: str) -> bool:
    return doc_meta.get("intent") == label or doc_meta.get("article_id") == article_id_for_intent(label)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100]) of a non-empty sequence."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def retrieval_metrics(hit_ranks: Sequence[int | None], latencies_ms: Sequence[float]) -> dict[str, Any]:
    """Metrics from the 1-based rank of the first correct article per query (None: not retrieved)."""
    n = len(hit_ranks)
    if n == 0:
        raise BankbotError("no queries to evaluate")
    return {
        "accuracy_at_1": sum(1 for r in hit_ranks if r == 1) / n,
        "recall_at_5": sum(1 for r in hit_ranks if r is not None and r <= 5) / n,
        "mrr": sum(1.0 / r for r in hit_ranks if r is not None) / n,
        "latency_ms_p50": percentile(latencies_ms, 50),
        "latency_ms_p95": percentile(latencies_ms, 95),
        "n": n,
    }


def first_hit_rank(docs: Sequence[Any], label: str) -> int | None:
    return next((i for i, d in enumerate(docs, start=1) if is_match(d.metadata, label)), None)


def top_score(docs: Sequence[Any]) -> float:
    return float(docs[0].metadata.get("score", 0.0)) if docs else 0.0


def evaluate_retriever(
    retriever: Any, queries: Sequence[LabelledQuery], out_of_scope: Sequence[str] = (), *, threshold: float = 0.3
) -> dict[str, Any]:
    """Run every query through ``retriever`` (asking for at least 5 articles, for recall@5).

    Also reports the top score of in-scope queries and, given out-of-scope questions, theirs and how many of
    each side fall on the right side of ``threshold`` (settings.min_retrieval_score)."""
    if hasattr(retriever, "k"):
        retriever = retriever.model_copy(update={"k": max(5, retriever.k)})
    ranks: list[int | None] = []
    latencies: list[float] = []
    scores: list[float] = []
    timed = queries if not hasattr(retriever, "rank_by_vector") else queries[:LATENCY_SAMPLE]
    for query in timed:  # latency: one question at a time, embedding included, as a user would ask
        started = time.perf_counter()
        docs = retriever.invoke(query.text)
        latencies.append((time.perf_counter() - started) * 1000)
        ranks.append(first_hit_rank(docs, query.label))
        scores.append(top_score(docs))
    rest = queries[len(timed) :]
    for start in range(0, len(rest), 256):  # accuracy for the rest: embedded in batches, same ranking code
        batch = rest[start : start + 256]
        for query, vector in zip(batch, retriever.embed_queries([q.text for q in batch]), strict=True):
            docs = retriever.rank_by_vector(vector)
            ranks.append(first_hit_rank(docs, query.label))
            scores.append(top_score(docs))
    metrics = retrieval_metrics(ranks, latencies)
    metrics["top_score_p10"] = percentile(scores, 10)
    metrics["top_score_p50"] = percentile(scores, 50)
    metrics["in_scope_above_threshold"] = sum(s >= threshold for s in scores) / len(scores)
    if out_of_scope:
        oos = [top_score(retriever.invoke(q)) for q in out_of_scope]
        metrics["oos_top_score_p50"] = percentile(oos, 50)
        metrics["oos_top_score_p90"] = percentile(oos, 90)
        metrics["oos_below_threshold"] = sum(s < threshold for s in oos) / len(oos)
        metrics["oos_n"] = len(oos)
    return metrics


class RetrievalEval:
    """``RetrievalEval(queries, examples=...).run(app) -> metrics dict``; used by the CLI, nightly job, simulation.

    ``examples`` are (questions, article ids) added to a temporary copy of the example index; ``train_embedder``
    (an ``EmbedderTrainer``) also fine-tunes the embedder on them first; ``embedder_dir`` evaluates a given
    embedder folder instead.
    """

    def __init__(
        self,
        queries: Sequence[LabelledQuery],
        examples: tuple[list[str], list[str]] | None = None,
        *,
        train_embedder: EmbedderTrainer | None = None,
        embedder_dir: Path | None = None,
        train_options: dict[str, Any] | None = None,
        out_of_scope: Sequence[str] = (),
    ) -> None:
        if train_embedder and not examples:
            raise BankbotError("--train-embedder needs --examples (the labelled questions to train on)")
        self.queries = list(queries)
        self.examples = examples
        self.train_embedder = train_embedder
        self.embedder_dir = embedder_dir
        self.train_options = train_options or {}
        self.out_of_scope = list(out_of_scope)

    def run(self, app: AppServices) -> dict[str, Any]:
        if app.vector_store._collection.count() == 0:
            raise BankbotError("the knowledge base is empty: run `bankbot ingest` first")
        if not (self.examples or self.embedder_dir):
            metrics = evaluate_retriever(app.retriever, self.queries, self.out_of_scope, threshold=self._threshold(app))
            return {**metrics, "config": self._config(app)}
        with tempfile.TemporaryDirectory(prefix="bankbot-eval-") as tmp:
            return self._run_isolated(app, Path(tmp))

    def _run_isolated(self, app: AppServices, tmp: Path) -> dict[str, Any]:
        from chatbot.model_loading import load_embedder
        from retrieval.example_index import ExampleIndex
        from retrieval.retriever import build_retriever
        from retrieval.vector_store import (
            article_texts_from_store,
            chroma_client,
            copy_collection,
            examples_collection_name,
            open_vector_store,
        )

        settings = app.settings.model_copy(update={"data_dir": tmp / "data", "chroma_path": None, "chroma_host": None})
        extra: dict[str, Any] = {}
        embedder = app.embedder
        if self.embedder_dir is not None:
            embedder = load_embedder(settings, str(self.embedder_dir))
        if self.train_embedder is not None and self.examples:
            started = time.perf_counter()
            model_dir = self.train_embedder(
                settings,
                *self.examples,
                out_dir=tmp / "embedder",
                article_texts=article_texts_from_store(app.vector_store),
                base_model=str(self.embedder_dir) if self.embedder_dir else app.active_embedder_path,
                **self.train_options,
            )
            extra["train_seconds"] = round(time.perf_counter() - started, 1)
            embedder = load_embedder(settings, str(model_dir))
        client = chroma_client(settings)
        source_client = app.vector_store._client
        kb_name = app.vector_store._collection.name
        started = time.perf_counter()
        for name in (kb_name, examples_collection_name(kb_name)):
            copy_collection(source_client, name, name, embedder, target_client=client)
        store = open_vector_store(settings, embedder, client=client, collection_name=kb_name)
        snapshot = int(getattr(app.example_index, "snapshot", 0))  # the copy reads what the app's index reads
        index = ExampleIndex.open(settings, embedder, client=client, kb_collection=kb_name, snapshot=snapshot)
        if self.examples:
            extra["examples_added"] = index.add(*self.examples, source="eval")
        extra["index_seconds"] = round(time.perf_counter() - started, 1)
        retriever = build_retriever(settings, store, index if index.count() else None)
        metrics = evaluate_retriever(retriever, self.queries, self.out_of_scope, threshold=self._threshold(app))
        return {**metrics, **extra, "config": self._config(app)}

    @staticmethod
    def _threshold(app: AppDatabase) -> float:
        return float(app.settings.min_retrieval_score)

    def _config(self, app: AppServices) -> dict[str, Any]:
        return {
            "embedder": str(self.embedder_dir or app.active_embedder_path or app.settings.embedding_model),
            "examples": len(self.examples[0]) if self.examples else 0,
            "train_embedder": self.train_embedder is not None,
        }
