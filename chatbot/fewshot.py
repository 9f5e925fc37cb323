"""Dynamic few-shot examples: approved reviewed turns, picked by similarity to the new question.

Stored in the Chroma collection ``<KB collection>_fewshot`` (next to the KB collection, so a promoted fine-tuned
embedder, which gets its own KB collection, also gets its own example collection) and selected with
langchain-core's ``SemanticSimilarityExampleSelector``. The nightly job writes the turns reviewers approved or
corrected as one snapshot per bundle (``write_snapshot``, see ``retrieval.snapshots``); the store selects only
from the snapshot it reads (``snapshot``: the production bundle's when serving, the candidate's in the gate).
``add_examples`` adds examples every snapshot reads (the turn id is the record id: adding a turn twice updates it).
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.embeddings import Embeddings

from chatbot.pii import redact
from chatbot.settings import Settings
from retrieval import snapshots
from retrieval.chroma_collections import FEWSHOT_SUFFIX

log = logging.getLogger(__name__)


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


def fewshot_collection_name(settings: Settings, kb_collection: str | None = None) -> str:
    """The few-shot collection next to ``kb_collection`` (default: the production embedder's KB collection)."""
    from retrieval.vector_store import kb_collection_name

    return f"{kb_collection or kb_collection_name(settings)}{FEWSHOT_SUFFIX}"


class FewShotStore:
    def __init__(self, vector_store: Any, *, snapshot: int = 0) -> None:
        self.vector_store = vector_store
        self.snapshot = snapshot  # which bundle's examples ``select`` reads

    @classmethod
    def open(
        cls,
        settings: Settings,
        get_embedder: Callable[[], Any],
        *,
        client: Any = None,
        snapshot: int = 0,
        kb_collection: str | None = None,
    ) -> FewShotStore:
        """The store next to ``kb_collection`` (default: the production embedder's), embedding with
        ``get_embedder``'s model, which must be the one that collection's entries were embedded with."""
        from langchain_chroma import Chroma

        from retrieval.vector_store import COSINE, chroma_client

        store = Chroma(
            collection_name=fewshot_collection_name(settings, kb_collection),
            embedding_function=_LazyEmbeddings(get_embedder),
            client=client if client is not None else chroma_client(settings),
            collection_configuration=COSINE,  # type: ignore[arg-type]
        )
        snapshots.tag_untagged(store._collection, _describe_untagged)
        return cls(store, snapshot=snapshot)

    def at(self, snapshot: int) -> FewShotStore:
        """The same store read at another snapshot (the gate's candidate, a bundle being evaluated)."""
        view = copy.copy(self)
        view.snapshot = snapshot
        return view

    def count(self) -> int:
        """Examples of every snapshot (0: nothing was ever stored)."""
        return int(self.vector_store._collection.count())

    def count_visible(self) -> int:
        return snapshots.count_visible(self.vector_store._collection, self.snapshot)

    def add_examples(self, examples: Iterable[FewShotExample]) -> int:
        """Add (or update) examples every snapshot reads, PII-redacted; returns how many distinct examples were
        written."""
        rows = _clean(examples)
        if not rows:
            return 0
        self.vector_store.add_texts(
            texts=[ex.question for ex in rows.values()],  # what SemanticSimilarityExampleSelector compares
            metadatas=[{**_metadata(ex), **snapshots.tags(_key(ex), 0, source="manual")} for ex in rows.values()],
            ids=list(rows),
        )
        return len(rows)

    def write_snapshot(self, snapshot: int, examples: Iterable[FewShotExample]) -> dict[str, int]:
        """Make the reviewed examples of ``snapshot`` exactly these (PII-redacted, one per turn, the last given
        wins); returns how many entries were added, removed and kept."""
        by_key = {_key(ex): ex for ex in _clean(examples).values()}
        collection = self.vector_store._collection
        plan = snapshots.plan_snapshot(snapshots.open_managed(collection), list(by_key))
        snapshots.close_records(collection, plan.close, snapshot)
        if plan.add:
            self.vector_store.add_texts(
                texts=[by_key[key].question for key in plan.add],
                metadatas=[{**_metadata(by_key[key]), **snapshots.tags(key, snapshot)} for key in plan.add],
                ids=[snapshots.record_id(key, snapshot) for key in plan.add],
            )
        return {"added": len(plan.add), "removed": len(plan.close), "kept": plan.kept}

    def select(self, question: str, k: int, *, article_id: str | None = None) -> list[dict[str, str]]:
        """Up to ``k`` examples most similar to ``question``, most similar first (none when the store is empty);
        with ``article_id``, only examples about that article (an approved answer about another article would
        invite the model to copy the wrong facts)."""
        if k <= 0 or self.count() == 0:
            return []
        where = snapshots.visible_at(self.snapshot)
        if article_id is not None:
            where = {"$and": [*where["$and"], {"article_id": article_id}]}
        from langchain_core.example_selectors import SemanticSimilarityExampleSelector

        selector = SemanticSimilarityExampleSelector(
            vectorstore=self.vector_store,
            k=k,
            input_keys=["question"],
            example_keys=["question", "answer", "article_id"],
            vectorstore_kwargs={"filter": where},
        )
        return [
            {key: str(value) for key, value in ex.items()} for ex in selector.select_examples({"question": question})
        ]


def _clean(examples: Iterable[FewShotExample]) -> dict[str, FewShotExample]:
    """record id -> the example, redacted; empty ones dropped. Chroma refuses a repeated id in one call: last wins."""
    latest: dict[str, FewShotExample] = {}
    for ex in examples:
        question, _ = redact(ex.question)
        answer, _ = redact(ex.answer)
        if question.strip() and answer.strip():
            latest[ex.record_id()] = FewShotExample(question, answer, ex.article_id, ex.turn_id)
    return latest


def _key(ex: FewShotExample) -> str:
    return snapshots.entry_key(ex.question, ex.answer, ex.article_id)


def _metadata(ex: FewShotExample) -> dict[str, Any]:
    return {"question": ex.question, "answer": ex.answer, "article_id": ex.article_id, "turn_id": ex.turn_id or ""}


def _describe_untagged(document: str, meta: Mapping[str, Any]) -> tuple[str, str]:
    """Examples from before snapshots were all the nightly job's: they stay managed (a night may replace them)."""
    question, answer = str(meta.get("question", document)), str(meta.get("answer", ""))
    example = FewShotExample(question, answer, str(meta.get("article_id", "")))
    return _key(example), snapshots.MANAGED
