"""Example questions with a known answer article, in their own Chroma collection next to the KB collection.

Reviewers' approved turns (added by the nightly job) and labelled CSVs (``text,category`` such as Banking77,
category = article intent) land here. The retriever votes over the nearest example questions, which is how
reviewed traffic improves retrieval without retraining anything.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.errors import BankbotError
from chatbot.settings import Settings
from retrieval.embeddings import as_embeddings
from retrieval.kb import article_id_for_intent
from retrieval.vector_store import COSINE, chroma_client, examples_collection_name, kb_collection_name

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")


@dataclass(frozen=True)
class ExampleHit:
    question: str
    article_id: str
    score: float  # cosine similarity clipped to [0, 1]


def normalise_question(question: str) -> str:
    """Case, punctuation and spacing do not make a new example."""
    return _SPACE.sub(" ", _PUNCT.sub(" ", question.lower())).strip()


def example_id(question: str) -> str:
    return hashlib.sha1(normalise_question(question).encode()).hexdigest()


class ExampleIndex:
    def __init__(self, collection: Any, embedder: Any) -> None:
        self.collection = collection
        self.embeddings = as_embeddings(embedder)

    @classmethod
    def open(
        cls, settings: Settings, embedder: Any, *, client: Any = None, kb_collection: str | None = None
    ) -> ExampleIndex:
        name = examples_collection_name(kb_collection or kb_collection_name(settings))
        client = client if client is not None else chroma_client(settings)
        return cls(client.get_or_create_collection(name, embedding_function=None, configuration=COSINE), embedder)

    def count(self) -> int:
        return int(self.collection.count())

    def add(self, questions: list[str], article_ids: list[str], *, source: str) -> int:
        """Store new (question -> article) pairs; returns how many were new (repeats are skipped)."""
        if len(questions) != len(article_ids):
            raise BankbotError(f"{len(questions)} questions but {len(article_ids)} article ids")
        fresh: dict[str, tuple[str, str]] = {}
        for question, article_id in zip(questions, article_ids, strict=True):
            if normalise_question(question):
                fresh.setdefault(example_id(question), (question.strip(), article_id))
        if not fresh:
            return 0
        existing = set(self.collection.get(ids=list(fresh), include=[])["ids"])
        new = [(key, q, a) for key, (q, a) in fresh.items() if key not in existing]
        for start in range(0, len(new), 1000):
            batch = new[start : start + 1000]
            self.collection.add(
                ids=[key for key, _, _ in batch],
                documents=[q for _, q, _ in batch],
                metadatas=[{"article_id": a, "source": source} for _, _, a in batch],
                embeddings=self.embeddings.embed_documents([q for _, q, _ in batch]),
            )
        return len(new)

    def search(self, question: str, k: int) -> list[ExampleHit]:
        return self.search_by_vector(self.embeddings.embed_query(question), k)

    def search_by_vector(self, vector: list[float], k: int) -> list[ExampleHit]:
        if k <= 0 or self.count() == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector], n_results=k, include=["documents", "metadatas", "distances"]
        )
        return [
            ExampleHit(question=doc or "", article_id=str((meta or {}).get("article_id", "")), score=_similarity(dist))
            for doc, meta, dist in zip(
                result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]


def _similarity(cosine_distance: float) -> float:
    return min(1.0, max(0.0, 1.0 - float(cosine_distance)))


def read_labelled_csv(path: Path) -> tuple[list[str], list[str]]:
    """(questions, article ids) from a ``text,category`` CSV; category is an intent, mapped to its article id."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if not {"text", "category"} <= set(reader.fieldnames or []):
                raise BankbotError(f"{path}: a labelled CSV needs the header text,category")
            rows = [(r["text"] or "", r["category"] or "") for r in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise BankbotError(f"{path}: cannot read it ({exc.__class__.__name__})") from exc
    except csv.Error as exc:
        raise BankbotError(f"{path}: not a valid CSV ({exc})") from exc
    rows = [(t.strip(), c.strip()) for t, c in rows if t.strip() and c.strip()]
    if not rows:
        raise BankbotError(f"{path}: no labelled rows")
    return [t for t, _ in rows], [article_id_for_intent(c) for _, c in rows]
