"""LangChain ``Embeddings`` over an already-loaded SentenceTransformer, so the model is loaded once per process.

Vectors are L2-normalised: Chroma's cosine distance then equals 1 - dot product, and scores from the article
collection and the example collection are on the same scale.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings


class SentenceTransformerEmbeddings(Embeddings):
    def __init__(self, model: Any, *, batch_size: int = 32) -> None:
        self.model = model
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return [[float(x) for x in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def as_embeddings(embedder: Any) -> Embeddings:
    """The LangChain view of ``embedder`` (a SentenceTransformer, or already an Embeddings)."""
    return embedder if isinstance(embedder, Embeddings) else SentenceTransformerEmbeddings(embedder)
