"""A knowledge-base article as one text, rebuilt from the vector store's chunks: what the article page shows and
what passage answers quote, so both are the text the bot answers from, whichever files were ingested.

Ingestion stores an article as overlapping chunks, each later chunk starting with the article's title
(retrieval/loaders.py); ``join_chunks`` undoes both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# An overlap shorter than this is a coincidence (a shared "the "), not the splitter's repeated text.
MIN_OVERLAP_CHARS = 20


def _overlap(previous: str, following: str) -> int:
    """Length of the longest start of `following` that `previous` ends with; 0 when under MIN_OVERLAP_CHARS."""
    for size in range(min(len(previous), len(following)), MIN_OVERLAP_CHARS - 1, -1):
        if previous.endswith(following[:size]):
            return size
    return 0


def join_chunks(chunks: Sequence[str], title: str) -> str:
    """One article text from its chunks in order, without the added title lines and the repeated overlaps."""
    text = ""
    for number, chunk in enumerate(chunks):
        if number > 0 and chunk.startswith(f"{title}\n"):
            chunk = chunk[len(title) + 1 :]
        if not text:
            text = chunk
            continue
        size = _overlap(text, chunk)
        text = text + chunk[size:] if size else f"{text}\n\n{chunk}"
    return text.strip()


def read_article(vector_store: Any, article_id: str) -> tuple[str, str] | None:
    """(title, text) of one article from the vector store's chunks, or None when there is no such article."""
    from retrieval.vector_store import store_collection

    records = store_collection(vector_store).get(where={"article_id": article_id}, include=["metadatas", "documents"])
    chunks = sorted(
        (int((meta or {}).get("chunk", 0) or 0), str((meta or {}).get("title") or article_id), text or "")
        for meta, text in zip(records["metadatas"] or [], records["documents"] or [], strict=False)
    )
    if not chunks:
        return None
    title = chunks[0][1]
    return title, join_chunks([text for _, _, text in chunks], title)
