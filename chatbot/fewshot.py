"""Dynamic few-shot examples: approved reviewed turns, picked by similarity to the new question.

Stored in the Chroma collection ``<KB collection>_fewshot`` (next to the KB collection, so a promoted fine-tuned
embedder, which gets its own KB collection, also gets its own example collection) and selected with
langchain-core's ``SemanticSimilarityExampleSelector``. The nightly job calls ``add_examples`` with the turns
reviewers approved or corrected; the turn id is the record id, so adding the same turn twice updates it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from chatbot.pii import redact
from chatbot.settings import Settings

log = logging.getLogger(__name__)

FEWSHOT_SUFFIX = "_fewshot"


@dataclass(frozen=True)
class FewShotExample:
    question: str
    answer: str
    article_id: str = ""
    turn_id: str | None = None

    def record_id(self) -> str:
        return self.turn_id or hashlib.sha1(self.question.strip().lower().encode()).hexdigest()


class _LazyEmbeddings(Embeddings):
    """Loads the embedder only when something is embedded: an empty example store costs nothing."""

    def __init__(self, get_embedder: Callable[[], Any]) -> None:
        self._get = get_embedder
        self._embeddings: Embeddings | None = None

    def _inner(self) -> Embeddings:
        if self._embeddings is None:
            from retrieval.embeddings import as_embeddings

            self._embeddings = as_embeddings(self._get())
        return self._embeddings

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner().embed_query(text)


def fewshot_collection_name(settings: Settings) -> str:
    from retrieval.vector_store import kb_collection_name

    return f"{kb_collection_name(settings)}{FEWSHOT_SUFFIX}"


class FewShotStore:
    def __init__(self, vector_store: Any) -> None:
        self.vector_store = vector_store

    @classmethod
    def open(cls, settings: Settings, get_embedder: Callable[[], Any], *, client: Any = None) -> FewShotStore:
        from langchain_chroma import Chroma

        from retrieval.vector_store import COSINE, chroma_client

        store = Chroma(
            collection_name=fewshot_collection_name(settings),
            embedding_function=_LazyEmbeddings(get_embedder),
            client=client if client is not None else chroma_client(settings),
            collection_configuration=COSINE,  # type: ignore[arg-type]
        )
        return cls(store)

    def count(self) -> int:
        return int(self.vector_store._collection.count())

    def add_examples(self, examples: Iterable[FewShotExample]) -> int:
        """Add (or update) examples, PII-redacted; returns how many distinct examples were written."""
        latest: dict[str, tuple[str, str, str, str]] = {}  # Chroma refuses a repeated id in one call: last wins
        for ex in examples:
            question, _ = redact(ex.question)
            answer, _ = redact(ex.answer)
            if question.strip() and answer.strip():
                latest[ex.record_id()] = (ex.record_id(), question, answer, ex.article_id)
        rows = list(latest.values())
        if not rows:
            return 0
        self.vector_store.add_texts(
            texts=[q for _, q, _, _ in rows],  # what SemanticSimilarityExampleSelector compares: the question
            metadatas=[{"question": q, "answer": a, "article_id": art} for _, q, a, art in rows],
            ids=[i for i, _, _, _ in rows],
        )
        return len(rows)

    def select(self, question: str, k: int) -> list[dict[str, str]]:
        """Up to ``k`` examples most similar to ``question``, most similar first (none when the store is empty)."""
        if k <= 0 or self.count() == 0:
            return []
        from langchain_core.example_selectors import SemanticSimilarityExampleSelector

        selector = SemanticSimilarityExampleSelector(
            vectorstore=self.vector_store,
            k=k,
            input_keys=["question"],
            example_keys=["question", "answer", "article_id"],
        )
        return [
            {key: str(value) for key, value in ex.items()} for ex in selector.select_examples({"question": question})
        ]


def add_examples(app: Any, examples: Iterable[FewShotExample]) -> int:
    """For the nightly job: add approved turns to the running app's few-shot store."""
    return int(app.fewshot.add_examples(examples))
