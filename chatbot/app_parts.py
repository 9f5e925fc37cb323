"""The composition root's building blocks: ``Part`` (one part of the app, given or built on first use) and
``RetrievalParts`` (the parts that embed, one set per embedder).

Kept apart from ``chatbot.app`` so the app stays one readable page; nothing here is used outside the composition
root.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from chatbot.settings import Settings

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.retrievers import BaseRetriever
    from sentence_transformers import SentenceTransformer

    from chatbot.article_reader import ArticleReader
    from chatbot.fewshot import FewShotStore
    from retrieval.embedder_registry import ActiveEmbedder
    from retrieval.example_index import ExampleIndex

T = TypeVar("T")

# Which embedder a set of parts uses: a promoted one, or None for the configured one. A one-element tuple, so that
# None is an answer (a part whose value is None is not built yet).
Served = tuple["ActiveEmbedder | None"]


class Part(Generic[T]):
    """One part of the app: given by the caller, or built on first use (once, even when two threads ask)."""

    def __init__(self, build: Callable[[], T], given: T | None) -> None:
        self._build = build
        self._value = given
        self.given = given is not None
        self._lock = threading.RLock()

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    def if_given(self) -> T | None:
        return self._value if self.given else None


class RetrievalParts:
    """The parts that embed, for one embedder: the model, the knowledge base's vector store, the example index and
    few-shot store next to it (all in that embedder's collections), the retriever over them and the article reader.
    Each embeds with this set's model, and a turn takes the retriever once, so replacing the whole set (a new
    production embedder) never pairs one embedder's question vector with another's vectors.

    ``read_served`` says which embedder to use when ``served`` is not given (the production one);
    ``index_snapshot`` which bundle's few-shot and example-index entries the stores read when they open."""

    def __init__(
        self,
        settings: Settings,
        read_served: Callable[[], Served],
        index_snapshot: Callable[[], int],
        served: Served | None = None,
        *,
        embedder: SentenceTransformer | None = None,
        vector_store: Chroma | None = None,
        example_index: ExampleIndex | None = None,
        fewshot: FewShotStore | None = None,
        retriever: BaseRetriever | None = None,
    ) -> None:
        self.settings = settings
        self._read_served, self._index_snapshot = read_served, index_snapshot
        self.served: Part[Served] = Part(read_served, served)
        self.embedder: Part[SentenceTransformer] = Part(self._load_embedder, embedder)
        self.vector_store: Part[Chroma] = Part(self._open_vector_store, vector_store)
        self.example_index: Part[ExampleIndex] = Part(self._open_example_index, example_index)
        self.fewshot: Part[FewShotStore] = Part(self._open_fewshot, fewshot)
        self.retriever: Part[BaseRetriever] = Part(self._build_retriever, retriever)
        self.articles: Part[ArticleReader] = Part(self._make_article_reader, None)

    def shared(
        self,
        *,
        example_index: ExampleIndex | None = None,
        fewshot: FewShotStore | None = None,
        retriever: BaseRetriever | None = None,
    ) -> RetrievalParts:
        """The same embedder for another app (one bundle's): the model, the knowledge base and the article reader
        are shared, the given parts used, the rest built for that app on first use."""
        other = RetrievalParts(
            self.settings,
            self._read_served,
            self._index_snapshot,
            example_index=example_index,
            fewshot=fewshot,
            retriever=retriever,
        )
        other.served, other.embedder, other.vector_store = self.served, self.embedder, self.vector_store
        other.articles = self.articles
        return other

    def for_embedder(self, served: Served) -> RetrievalParts:
        """A fresh set for the embedder ``served``, nothing shared."""
        return RetrievalParts(self.settings, self._read_served, self._index_snapshot, served)

    @property
    def version(self) -> str | None:
        """The embedder version (None: the configured embedder)."""
        served = self.served.get()[0]
        return served.version if served is not None else None

    @property
    def path(self) -> str | None:
        """The fine-tuned embedder's folder (None: the configured embedder)."""
        served = self.served.get()[0]
        return str(served.path) if served is not None else None

    def kb_collection(self) -> str:
        from retrieval.chroma_collections import versioned_collection_name

        return versioned_collection_name(self.settings, self.version)

    def _load_embedder(self) -> SentenceTransformer:
        from chatbot.model_loading import load_embedder

        embedder: SentenceTransformer = load_embedder(self.settings, self.path)
        return embedder

    def _open_vector_store(self) -> Chroma:
        from retrieval.vector_store import open_vector_store

        return open_vector_store(self.settings, self.embedder.get(), collection_name=self.kb_collection())

    def _open_example_index(self) -> ExampleIndex:
        from retrieval.example_index import ExampleIndex
        from retrieval.vector_store import store_client, store_collection

        store = self.vector_store.get()
        return ExampleIndex.open(
            self.settings,
            self.embedder.get(),
            client=store_client(store),
            kb_collection=store_collection(store).name,
            snapshot=self._index_snapshot(),
        )

    def _open_fewshot(self) -> FewShotStore:
        from chatbot.fewshot import FewShotStore

        snapshot = self._index_snapshot()
        return FewShotStore.open(
            self.settings, self.embedder.get, kb_collection=self.kb_collection(), snapshot=snapshot
        )

    def _build_retriever(self) -> BaseRetriever:
        from retrieval.retriever import build_retriever

        return build_retriever(self.settings, self.vector_store.get(), self.example_index.get())

    def _make_article_reader(self) -> ArticleReader:
        from chatbot.article_reader import ArticleReader

        return ArticleReader(self.vector_store.get)
