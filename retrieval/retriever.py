"""The LangChain retriever: dense article search fused with a vote over similar example questions.

The question is embedded once. Article search gives each article its best chunk's cosine similarity ``a``.
When example questions are indexed, the ``example_k`` nearest ones vote for their articles with weights
``exp((sim - best_sim) / temperature)``; an article's example score is its vote share times the best example
similarity ``s`` (each article's own similarity ``a`` takes part in the vote as one more neighbour, raised by
``ARTICLE_OFFSET``, so a few distant examples cannot crowd out a closer article). The final score is
``(1 - article_weight) * vote_share * s + article_weight * a``, in [0, 1]:
a question close to known questions of one article scores near ``s``, an out-of-scope one scores low in both.
The weights were chosen on the Banking77 dev split (docs/retrieval.md).

The fused score only **ranks**. The ``score`` a document carries — what confidence and abstention read — is the
article's evidence ``max(a, s_article)`` (its own similarity, or its closest known question's, whichever is
higher), which keeps one scale however many examples are indexed: with a sparse index the vote shares are split
among the articles themselves, and the fused numbers fell by half, so the first reviewed examples made the bot
hand off most questions (measured by the feedback-loop simulation, docs/simulation.md). ``rank_score`` keeps the
fused number for inspection.

With enough example questions a classification head over all of them (``retrieval.example_head``) is averaged
into the fused ranking; the evidence ``score`` stays as above.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from chatbot.settings import Settings
from retrieval.example_head import HEAD_MIN_EXAMPLES, fuse_with_head

EXAMPLE_K = 5
TEMPERATURE = 0.05
ARTICLE_WEIGHT = 0.2
# A question is systematically closer to other questions than to an article's prose, so an article voting beside
# example questions gets this much added to its similarity: it lifts accuracy@1 when a few dozen corrections are
# indexed and is neutral from a few hundred on, while 0.15 and more cost the dense indexes. Measured by
# benchmarks/fusion_offsets.py on the simulation's 770 held-out Banking77 queries; figures in docs/retrieval.md.
ARTICLE_OFFSET = 0.1


def similarity(cosine_distance: float) -> float:
    return min(1.0, max(0.0, 1.0 - float(cosine_distance)))


def example_votes(hits: Iterable[tuple[str, float]], *, temperature: float = TEMPERATURE) -> dict[str, float]:
    """article id -> vote share in [0, 1] (shares sum to 1) from (article id, similarity) neighbours."""
    hits = list(hits)
    if not hits:
        return {}
    best = max(sim for _, sim in hits)
    weights: dict[str, float] = {}
    for article_id, sim in hits:
        weights[article_id] = weights.get(article_id, 0.0) + math.exp((sim - best) / temperature)
    total = sum(weights.values())
    return {a: w / total for a, w in weights.items()}


def evidence_scores(article_scores: Mapping[str, float], example_hits: Iterable[tuple[str, float]]) -> dict[str, float]:
    """article id -> max(its own similarity, its closest example question's similarity), in [0, 1]."""
    evidence = dict(article_scores)
    for article_id, sim in example_hits:
        evidence[article_id] = max(evidence.get(article_id, 0.0), sim)
    return evidence


def fuse_scores(
    article_scores: Mapping[str, float],
    example_hits: Iterable[tuple[str, float]],
    *,
    temperature: float = TEMPERATURE,
    article_weight: float = ARTICLE_WEIGHT,
    article_offset: float = ARTICLE_OFFSET,
) -> dict[str, float]:
    """article id -> fused score in [0, 1]; with no example hits it is the article score itself."""
    hits = list(example_hits)
    if not hits:
        return dict(article_scores)
    # Each article's own best-chunk similarity votes too, as one more neighbour: with thousands of examples
    # close to the question it gets a negligible share, but a handful of distant examples (the first nights
    # of reviews) cannot crowd out an article that matches the question better than they do.
    neighbours = hits + [(a, min(1.0, sim + article_offset)) for a, sim in article_scores.items()]
    best = max(sim for _, sim in neighbours)
    votes = example_votes(neighbours, temperature=temperature)
    ids = set(article_scores) | set(votes)
    return {
        a: (1 - article_weight) * votes.get(a, 0.0) * best + article_weight * article_scores.get(a, 0.0) for a in ids
    }


class KnowledgeBaseRetriever(BaseRetriever):
    """``invoke(question)`` -> up to ``k`` Documents, one per article, best first, with ``score`` in metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    vector_store: Any
    example_index: Any = None
    k: int = 4
    fetch_chunks: int = 24  # chunks read from Chroma before grouping them by article
    example_k: int = EXAMPLE_K
    temperature: float = TEMPERATURE
    article_weight: float = ARTICLE_WEIGHT
    # From this many visible example questions on, a classifier over all of them joins the ranking
    # (retrieval.example_head); None: the vote alone.
    head_min_examples: int | None = HEAD_MIN_EXAMPLES

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.rank_by_vector(self.vector_store.embeddings.embed_query(query))

    def embed_queries(self, queries: list[str]) -> list[list[float]]:
        """Batch-embed questions (much faster per question on CPU than one at a time), for ``rank_by_vector``."""
        return self.vector_store.embeddings.embed_documents(queries)

    def rank_by_vector(self, vector: list[float]) -> list[Document]:
        """The retrieval itself, for an already-embedded question."""
        best_chunk: dict[str, tuple[Document, float]] = {}
        for doc, distance in self.vector_store.similarity_search_by_vector_with_relevance_scores(
            vector, k=max(self.fetch_chunks, self.k)
        ):
            article_id = str(doc.metadata.get("article_id", ""))
            sim = similarity(distance)
            if article_id not in best_chunk or sim > best_chunk[article_id][1]:
                best_chunk[article_id] = (doc, sim)
        hits = []
        if self.example_index is not None:
            hits = [(h.article_id, h.score) for h in self.example_index.search_by_vector(vector, self.example_k)]
        article_scores = {a: s for a, (_, s) in best_chunk.items()}
        scores = fuse_scores(article_scores, hits, temperature=self.temperature, article_weight=self.article_weight)
        if hits and self.head_min_examples is not None:
            head = self.example_index.head(min_examples=self.head_min_examples)
            if head is not None:
                scores = fuse_with_head(scores, head.predict(vector))
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[: self.k]
        missing = [a for a, _ in ranked if a not in best_chunk]
        if missing:  # voted for by examples but no chunk among the nearest: fetch its best chunk
            best_chunk.update(self._best_chunks(vector, missing))
        evidence = evidence_scores({a: s for a, (_, s) in best_chunk.items()}, hits)
        return [
            self._document(best_chunk[a][0], evidence[a], rank_score) for a, rank_score in ranked if a in best_chunk
        ]

    def _best_chunks(self, vector: list[float], article_ids: list[str]) -> dict[str, tuple[Document, float]]:
        found: dict[str, tuple[Document, float]] = {}
        for article_id in article_ids:
            pairs = self.vector_store.similarity_search_by_vector_with_relevance_scores(
                vector, k=1, filter={"article_id": article_id}
            )
            if pairs:
                found[article_id] = (pairs[0][0], similarity(pairs[0][1]))
        return found

    @staticmethod
    def _document(chunk: Document, score: float, rank_score: float) -> Document:
        meta = chunk.metadata
        return Document(
            page_content=chunk.page_content,
            metadata={
                "article_id": str(meta.get("article_id", "")),
                "title": str(meta.get("title", "")),
                "intent": str(meta.get("intent", "")),
                "chunk": int(meta.get("chunk", 0)),
                "headings": str(meta.get("headings", "")),
                "source": str(meta.get("source", "")),
                "score": round(min(1.0, max(0.0, score)), 6),
                "rank_score": round(min(1.0, max(0.0, rank_score)), 6),
            },
        )


def build_retriever(settings: Settings, vector_store: Any, example_index: Any = None) -> BaseRetriever:
    return KnowledgeBaseRetriever(
        vector_store=vector_store,
        example_index=example_index,
        k=settings.retrieval_k,
        head_min_examples=settings.example_head_min_examples if settings.example_head else None,
    )
