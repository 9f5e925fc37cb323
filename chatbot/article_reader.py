"""Whole articles for passage answers: an article's text from its chunks in the vector store, and how close each of
its sentences is to a question (the vector store's own embedder).

Why: of the 221 in-scope demo eval questions whose article the retriever returns, a passage answer quoted from
the retrieved chunk with sentences chosen by shared words was right (by the answer judge) for 40; from the whole
article with the four sentences closest in meaning, for 110 (``python benchmarks/passage_answers.py``).
Sentence vectors are cached per sentence text, so an article is embedded once per process; a failing vector store
gives None and the caller quotes the retrieved chunk as before.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)
CACHE_SENTENCES = 4096  # sentence vectors kept (a demo article has ~15 sentences)


class ArticleReader:
    """``vector_store`` gives the store when called (opened on first need: a store that is down must not stop the
    chat from answering)."""

    def __init__(self, vector_store: Callable[[], Any]) -> None:
        self._store = vector_store
        self._vectors: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def text(self, article_id: str) -> str | None:
        """The article rebuilt from its chunks (``retrieval.article_text``); None when the store has none or cannot
        be read."""
        from retrieval.article_text import read_article

        try:
            found = read_article(self._store(), article_id)
        except Exception as exc:  # the chat must answer without it: the retrieved chunk is quoted instead
            log.warning("cannot read article %s for a passage answer: %s", article_id, exc)
            return None
        return found[1] if found is not None else None

    def similarity(self, question: str, sentences: Sequence[str]) -> list[float]:
        """Cosine similarity of each sentence to the question (unit vectors, so a dot product)."""
        import numpy as np

        embeddings = self._store().embeddings
        missing = [s for s in dict.fromkeys(sentences) if s not in self._vectors]
        if missing:
            fresh = embeddings.embed_documents(missing)
            with self._lock:
                for sentence, vector in zip(missing, fresh, strict=True):
                    self._vectors[sentence] = np.asarray(vector, dtype=np.float32)
                while len(self._vectors) > CACHE_SENTENCES:
                    self._vectors.popitem(last=False)
        asked = np.asarray(embeddings.embed_query(question), dtype=np.float32)
        with self._lock:
            vectors = [self._vectors.get(s) for s in sentences]
        return [float(v @ asked) if v is not None else 0.0 for v in vectors]
