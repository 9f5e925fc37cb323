"""The persistent Chroma collection of knowledge-base chunks, opened as a LangChain ``Chroma`` vector store.

Embedded Chroma at ``settings.effective_chroma_path`` by default, a Chroma server when ``settings.chroma_host``
is set. Chroma is always given our embeddings (its default embedding function would download an ONNX model).
Vectors from different embedders are not comparable, so a fine-tuned embedder gets its own collections
(``<collection>-<version>``; served: the version of the production ``embedder_version`` row, the one the production
bundle names); see ``retrieval.embedder_registry``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chatbot.settings import Settings
from retrieval.chroma_collections import (
    COSINE,
    EXAMPLES_SUFFIX,
    chroma_client,
    copy_collection,
    examples_collection_name,
    versioned_collection_name,
)
from retrieval.embeddings import as_embeddings

if TYPE_CHECKING:
    from langchain_chroma import Chroma

# The client and raw-collection helpers live in retrieval.chroma_collections (the embedder registry uses them
# without importing this module); they are re-exported here, where most callers look for them.
__all__ = [
    "COSINE",
    "EXAMPLES_SUFFIX",
    "article_passages",
    "article_texts_from_store",
    "article_titles",
    "chroma_client",
    "copy_collection",
    "examples_collection_name",
    "kb_collection_name",
    "open_vector_store",
    "store_client",
    "store_collection",
]


def kb_collection_name(settings: Settings, embedder_version: str | None = None) -> str:
    """The KB collection for the active (or the given) embedder version."""
    from retrieval.embedder_registry import active_embedder_version

    version = embedder_version if embedder_version is not None else active_embedder_version(settings)
    return versioned_collection_name(settings, version)


def open_vector_store(
    settings: Settings, embedder: Any, *, client: Any = None, collection_name: str | None = None
) -> Chroma:
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=collection_name or kb_collection_name(settings),
        embedding_function=as_embeddings(embedder),
        client=client if client is not None else chroma_client(settings),
        collection_configuration=COSINE,  # type: ignore[arg-type]
    )


def store_client(vector_store: Chroma) -> Any:
    """The chromadb client behind a LangChain Chroma store (to open sibling collections on it)."""
    return vector_store._client


def store_collection(vector_store: Chroma) -> Any:
    return vector_store._collection


def article_titles(vector_store: Chroma) -> dict[str, str]:
    """article id → title over the whole knowledge base (for a reviewer choosing the right article)."""
    records = store_collection(vector_store).get(include=["metadatas"])
    titles: dict[str, str] = {}
    for meta in records["metadatas"] or []:
        if meta and meta.get("article_id"):
            titles.setdefault(str(meta["article_id"]), str(meta.get("title") or meta["article_id"]))
    return dict(sorted(titles.items()))


def article_texts_from_store(vector_store: Chroma) -> dict[str, str]:
    """article id -> title for every article in a KB collection: what the embedder's training pulls a question
    towards (finetune.embedder) on knowledge bases other than the demo one."""
    metadatas = store_collection(vector_store).get(include=["metadatas"])["metadatas"] or []
    return {
        str(m["article_id"]): str(m.get("title") or m["article_id"]) for m in metadatas if m and m.get("article_id")
    }


def article_passages(vector_store: Chroma, article_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The first chunk of each article as a logged-source dict (``id``, ``title``, ``chunk``, ``intent``, ``text``):
    what a training prompt shows when a reviewer pointed a correction at an article retrieval had missed."""
    wanted = sorted({a for a in article_ids if a})
    if not wanted:
        return {}
    records = store_collection(vector_store).get(
        where={"article_id": {"$in": wanted}}, include=["metadatas", "documents"]
    )
    found: dict[str, dict[str, Any]] = {}
    for meta, text in zip(records["metadatas"] or [], records["documents"] or [], strict=False):
        article = str((meta or {}).get("article_id", ""))
        chunk = int((meta or {}).get("chunk", 0) or 0)
        if article and (article not in found or chunk < found[article]["chunk"]):
            found[article] = {
                "id": article,
                "title": str(meta.get("title", "")),
                "chunk": chunk,
                "intent": meta.get("intent") or None,
                "text": text or "",
            }
    return found
