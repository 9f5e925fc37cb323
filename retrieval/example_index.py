"""Example questions with a known answer article, in their own Chroma collection next to the KB collection.

Reviewers' approved turns (written by the nightly job, one snapshot per bundle: ``retrieval.snapshots``), labelled
CSVs (``text,category`` such as Banking77, category = article intent) and the ``examples:`` of knowledge-base
articles (written by ``bankbot ingest``, source ``kb``) land here; the last two are in every snapshot. The
retriever votes over the nearest example questions of the snapshot the index reads (``snapshot``: the production
bundle's when serving, the candidate's in the gate), which is how reviewed traffic improves retrieval without
retraining anything.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatbot.errors import BankbotError
from chatbot.settings import Settings
from retrieval import snapshots
from retrieval.embeddings import as_embeddings
from retrieval.example_head import HEAD_MIN_EXAMPLES, ExampleHead, fit_head
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
    def __init__(self, collection: Any, embedder: Any, *, snapshot: int = 0) -> None:
        self.collection = collection
        self.embeddings = as_embeddings(embedder)
        self.snapshot = snapshot  # which bundle's entries searches read
        # Fitted heads by (collection, snapshot, entries of every snapshot): a snapshot's visible entries change
        # when entries are added, and a new embedder writes a new collection. Entries are deleted only by ``remove``
        # (re-ingested articles' examples), which drops the fits; another process replacing an article's examples
        # by as many others is seen here after a restart. Shared by ``at`` views.
        self._heads: dict[tuple[str, int, int, int], ExampleHead | None] = {}
        self._heads_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        settings: Settings,
        embedder: Any,
        *,
        client: Any = None,
        kb_collection: str | None = None,
        snapshot: int = 0,
    ) -> ExampleIndex:
        name = examples_collection_name(kb_collection or kb_collection_name(settings))
        client = client if client is not None else chroma_client(settings)
        collection = client.get_or_create_collection(name, embedding_function=None, configuration=COSINE)
        snapshots.tag_untagged(collection, _describe_untagged)
        return cls(collection, embedder, snapshot=snapshot)

    def at(self, snapshot: int) -> ExampleIndex:
        """The same collection read at another snapshot (the gate's candidate, a bundle being evaluated)."""
        view = copy.copy(self)
        view.snapshot = snapshot
        return view

    def count(self) -> int:
        """Entries of every snapshot (0: nothing was ever indexed)."""
        return int(self.collection.count())

    def count_visible(self) -> int:
        return snapshots.count_visible(self.collection, self.snapshot)

    def head(self, *, min_examples: int = HEAD_MIN_EXAMPLES) -> ExampleHead | None:
        """The classification head over this snapshot's visible examples (``retrieval.example_head``), fitted on
        first use; None while fewer than ``min_examples`` are visible."""
        key = (str(getattr(self.collection, "name", "")), self.snapshot, self.count(), min_examples)
        with self._heads_lock:
            if key not in self._heads:
                for stale in [k for k in self._heads if k[:2] == key[:2]]:  # this view's fits of fewer entries
                    del self._heads[stale]
                self._heads[key] = self._fit_head(min_examples)
            return self._heads[key]

    def _fit_head(self, min_examples: int) -> ExampleHead | None:
        if self.count_visible() < min_examples:
            return None
        found = self.collection.get(where=snapshots.visible_at(self.snapshot), include=["embeddings", "metadatas"])
        labels = [str((meta or {}).get("article_id", "")) for meta in found["metadatas"]]
        vectors = found["embeddings"] if found["embeddings"] is not None else []
        return fit_head(list(vectors), labels, min_examples=min_examples)

    def add(self, questions: list[str], article_ids: list[str], *, source: str) -> int:
        """Store new (question -> article) pairs that every snapshot reads; returns how many were new (repeats are
        skipped). The nightly job's reviewed examples go through ``write_snapshot`` instead."""
        if len(questions) != len(article_ids):
            raise BankbotError(f"{len(questions)} questions but {len(article_ids)} article ids")
        if source == snapshots.MANAGED:
            raise BankbotError(f"source {source!r} is the nightly job's: use write_snapshot")
        fresh: dict[str, tuple[str, str]] = {}
        for question, article_id in zip(questions, article_ids, strict=True):
            if normalise_question(question):
                fresh.setdefault(example_id(question), (question.strip(), article_id))
        if not fresh:
            return 0
        existing = set(self.collection.get(ids=list(fresh), include=[])["ids"])
        new = [(key, q, a) for key, (q, a) in fresh.items() if key not in existing]
        self._insert(
            [key for key, _, _ in new],
            [q for _, q, _ in new],
            [{"article_id": a, **snapshots.tags(_key(q, a), 0, source=source)} for _, q, a in new],
        )
        return len(new)

    def remove(self, article_ids: Iterable[str], *, source: str) -> int:
        """Delete the entries of ``source`` labelled with these articles from every snapshot (the examples of a
        knowledge-base article that changed or is gone); returns how many. The nightly job's entries are never
        deleted: a snapshot closes them, so older bundles keep reading them."""
        if source == snapshots.MANAGED:
            raise BankbotError(f"source {source!r} is the nightly job's: use write_snapshot")
        wanted = sorted(set(article_ids))
        if not wanted:
            return 0
        where = {"$and": [{"source": source}, {"article_id": {"$in": wanted}}]}
        ids = self.collection.get(where=where, include=[])["ids"]
        for start in range(0, len(ids), snapshots.BATCH):
            self.collection.delete(ids=ids[start : start + snapshots.BATCH])
        with self._heads_lock:  # a replacement can leave the count as it was: drop this process's fitted heads
            self._heads.clear()
        return len(ids)

    def write_snapshot(self, snapshot: int, questions: list[str], article_ids: list[str]) -> dict[str, int]:
        """Make the reviewed (question -> article) pairs of ``snapshot`` exactly these (one article per normalised
        question, the last given wins); returns how many entries were added, removed and kept."""
        if len(questions) != len(article_ids):
            raise BankbotError(f"{len(questions)} questions but {len(article_ids)} article ids")
        wanted: dict[str, tuple[str, str]] = {}
        for question, article_id in zip(questions, article_ids, strict=True):
            if normalise_question(question):
                wanted[normalise_question(question)] = (question.strip(), article_id)
        by_key = {_key(q, a): (q, a) for q, a in wanted.values()}
        plan = snapshots.plan_snapshot(snapshots.open_managed(self.collection), list(by_key))
        snapshots.close_records(self.collection, plan.close, snapshot)
        self._insert(
            [snapshots.record_id(key, snapshot) for key in plan.add],
            [by_key[key][0] for key in plan.add],
            [{"article_id": by_key[key][1], **snapshots.tags(key, snapshot)} for key in plan.add],
        )
        return {"added": len(plan.add), "removed": len(plan.close), "kept": plan.kept}

    def _insert(self, ids: list[str], documents: list[str], metadatas: list[dict[str, Any]]) -> None:
        for start in range(0, len(ids), 1000):
            batch = slice(start, start + 1000)
            self.collection.add(
                ids=ids[batch],
                documents=documents[batch],
                metadatas=metadatas[batch],
                embeddings=self.embeddings.embed_documents(documents[batch]),
            )

    def search(self, question: str, k: int) -> list[ExampleHit]:
        return self.search_by_vector(self.embeddings.embed_query(question), k)

    def search_by_vector(self, vector: list[float], k: int) -> list[ExampleHit]:
        if k <= 0 or self.count() == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector],
            n_results=k,
            where=snapshots.visible_at(self.snapshot),
            include=["documents", "metadatas", "distances"],
        )
        return [
            ExampleHit(question=doc or "", article_id=str((meta or {}).get("article_id", "")), score=_similarity(dist))
            for doc, meta, dist in zip(
                result["documents"][0], result["metadatas"][0], result["distances"][0], strict=True
            )
        ]


def _key(question: str, article_id: str) -> str:
    return snapshots.entry_key(normalise_question(question), article_id)


def _describe_untagged(document: str, meta: Mapping[str, Any]) -> tuple[str, str]:
    """Entries from before snapshots: the nightly's (source 'reviews') stay managed, the rest are shared."""
    source = str(meta.get("source") or "labelled")
    return _key(document, str(meta.get("article_id", ""))), source


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
