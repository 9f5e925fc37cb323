"""Composition root: builds store, retriever, LLM and pipeline from Settings and hands back a plain object.

The CLI, the web app, the nightly job and the tests all go through ``build_app``. Nothing heavy is loaded
until a component is first used, so ``bankbot config`` or ``bankbot db upgrade`` stay instant. A caller may give
ready-made parts (``build_app(settings, retriever=..., generator=...)``): tests, tools, one bundle's app
(``BankBot.with_parts``); every part not given is built from the settings on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypedDict, TypeVar, Unpack

from chatbot.generator_slot import GeneratorSlot
from chatbot.settings import Settings

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.retrievers import BaseRetriever
    from sentence_transformers import SentenceTransformer
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from chatbot.article_reader import ArticleReader
    from chatbot.confidence import ConfidenceParams
    from chatbot.fewshot import FewShotStore
    from chatbot.guard_classifier import ClassifierGuard
    from chatbot.pipeline import ChatPipeline
    from chatbot.protocols import Generator
    from chatbot.registry import AdapterRef
    from chatbot.turn_store import TurnStore
    from retrieval.example_index import ExampleIndex

T = TypeVar("T")


class AppParts(TypedDict, total=False):
    """The parts a caller may give ``build_app`` ready-made, by name; each is built from the settings otherwise."""

    engine: Engine
    embedder: SentenceTransformer
    vector_store: Chroma
    example_index: ExampleIndex
    retriever: BaseRetriever
    turn_store: TurnStore
    fewshot: FewShotStore
    generator: Generator
    classifier_guard: ClassifierGuard
    calibration: ConfidenceParams


class _Part(Generic[T]):
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


class BankBot:
    """One app: its settings and its parts. Parts are keyword-only; an unknown one is a TypeError. The layers below
    see it as ``chatbot.app_services.AppServices``: a member they start to use is added there too."""

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        embedder: SentenceTransformer | None = None,
        vector_store: Chroma | None = None,
        example_index: ExampleIndex | None = None,
        retriever: BaseRetriever | None = None,
        turn_store: TurnStore | None = None,
        fewshot: FewShotStore | None = None,
        generator: Generator | None = None,
        classifier_guard: ClassifierGuard | None = None,
        calibration: ConfidenceParams | None = None,
    ) -> None:
        self.settings = settings
        self._engine = _Part(self._make_engine, engine)
        self._embedder = _Part(self._load_embedder, embedder)
        self._vector_store = _Part(self._open_vector_store, vector_store)
        self._example_index = _Part(self._open_example_index, example_index)
        self._retriever = _Part(self._build_retriever, retriever)
        self._turn_store = _Part(self._open_turn_store, turn_store)
        self._fewshot = _Part(self._open_fewshot, fewshot)
        self._articles: _Part[ArticleReader] = _Part(self._make_article_reader, None)
        # One model per process: the pipeline, the warm-up and ``generator`` below all use this slot.
        self._generator = GeneratorSlot(settings, self.production_adapter, given=generator)
        self._classifier_guard = classifier_guard  # None: the pipeline makes the default one
        self._calibration = calibration  # None: the active calibration in the database

    def with_parts(
        self,
        *,
        generator: Generator | None = None,
        example_index: ExampleIndex | None = None,
        fewshot: FewShotStore | None = None,
        retriever: BaseRetriever | None = None,
        calibration: ConfidenceParams | None = None,
    ) -> BankBot:
        """The same app with another bundle's parts (``finetune.bundle.bundle_app``). The database, embedder,
        knowledge base and turn store are shared (each loaded once for both), and so is the model unless
        ``generator`` replaces it; the other parts this app was given carry over; the rest (e.g. a retriever over
        the new example index) is built for the new app on first use."""
        other = BankBot(
            self.settings,
            generator=generator,
            example_index=example_index if example_index is not None else self._example_index.if_given(),
            fewshot=fewshot if fewshot is not None else self._fewshot.if_given(),
            retriever=retriever if retriever is not None else self._retriever.if_given(),
            classifier_guard=self._classifier_guard,
            calibration=calibration if calibration is not None else self._calibration,
        )
        other._engine, other._embedder, other._vector_store = self._engine, self._embedder, self._vector_store
        other._articles = self._articles
        other._turn_store = self._turn_store
        if generator is None:
            other._generator = self._generator
        return other

    # --- SQL -------------------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        return self._engine.get()

    def _make_engine(self) -> Engine:
        from chatbot.db.engine import make_engine

        return make_engine(self.settings.effective_database_url)

    def upgrade_database(self) -> None:
        """Bring the schema to head at start (one box), or with ``migrate_on_start`` false only check that it is at
        head: in a cluster `bankbot db upgrade` is the one migration step. Raises one-line errors."""
        from chatbot.db.engine import check_connection
        from chatbot.db.migrate import prepare_at_start

        check_connection(self.engine)
        prepare_at_start(self.engine, migrate_on_start=self.settings.migrate_on_start)

    def session(self) -> Session:
        from sqlmodel import Session

        return Session(self.engine)

    # --- models ----------------------------------------------------------------------------------------
    @property
    def embedder(self) -> SentenceTransformer:
        """The sentence-transformers model shared by the vector store and the example index."""
        return self._embedder.get()

    def _load_embedder(self) -> SentenceTransformer:
        from chatbot.model_loading import load_embedder

        embedder: SentenceTransformer = load_embedder(self.settings, self.active_embedder_path)
        return embedder

    @property
    def active_embedder_path(self) -> str | None:
        """A fine-tuned embedder promoted by the nightly job, if any (None: the configured one); read from this
        app's database, cached for a few seconds."""
        from retrieval.embedder_registry import active_embedder

        return active_embedder(self.settings, engine=self.engine)

    @property
    def generator(self) -> Generator:
        """The model this app and its pipeline share, loaded on first use with the production adapter."""
        return self._generator.get()

    @property
    def generator_loaded(self) -> bool:
        """Whether the model is loaded (or was given): until then nothing needs reloading on a promotion."""
        return self._generator.loaded

    def production_adapter(self) -> AdapterRef | None:
        """The production bundle's adapter, or None for the base model."""
        from chatbot.registry import production_adapter

        return production_adapter(self)

    # --- retrieval ---------------------------------------------------------------------------------------
    @property
    def vector_store(self) -> Chroma:
        return self._vector_store.get()

    def _open_vector_store(self) -> Chroma:
        from retrieval.vector_store import open_vector_store

        return open_vector_store(self.settings, self.embedder)

    @property
    def example_index(self) -> ExampleIndex:
        """Example questions with a known article (reviewed turns, labelled CSVs), next to the KB collection."""
        return self._example_index.get()

    def _open_example_index(self) -> ExampleIndex:
        from retrieval.example_index import ExampleIndex
        from retrieval.vector_store import store_client

        return ExampleIndex.open(
            self.settings,
            self.embedder,
            client=store_client(self.vector_store),
            kb_collection=self.vector_store._collection.name,
            snapshot=self.index_snapshot(),
        )

    def index_snapshot(self) -> int:
        """The production bundle's few-shot/example-index snapshot (``retrieval.snapshots``)."""
        from chatbot.registry import production_snapshot

        return production_snapshot(self)

    def loaded_snapshot_stores(self) -> list[ExampleIndex | FewShotStore]:
        """The example index and the few-shot store, those loaded so far: what a promotion points at its snapshot."""
        stores: list[ExampleIndex | FewShotStore] = []
        if self._example_index.loaded:
            stores.append(self._example_index.get())
        if self._fewshot.loaded:
            stores.append(self._fewshot.get())
        return stores

    @property
    def retriever(self) -> BaseRetriever:
        return self._retriever.get()

    def _build_retriever(self) -> BaseRetriever:
        from retrieval.retriever import build_retriever

        return build_retriever(self.settings, self.vector_store, self.example_index)

    # --- chat ------------------------------------------------------------------------------------------------
    @property
    def turn_store(self) -> TurnStore:
        return self._turn_store.get()

    def _open_turn_store(self) -> TurnStore:
        from chatbot.turn_store import TurnStore

        return TurnStore(self.engine, spool_dir=self.settings.spool_dir)

    @property
    def fewshot(self) -> FewShotStore:
        """Reviewed turns used as dynamic few-shot examples."""
        return self._fewshot.get()

    def _open_fewshot(self) -> FewShotStore:
        from chatbot.fewshot import FewShotStore

        return FewShotStore.open(self.settings, lambda: self.embedder, snapshot=self.index_snapshot())

    @cached_property
    def pipeline(self) -> ChatPipeline:
        from chatbot.pipeline import ChatPipeline

        return ChatPipeline(
            self.settings,
            generator=self._generator,
            retriever=self._retriever.get,
            turn_store=self._turn_store.get,
            fewshot=self._fewshot.get,
            session=self.session,
            active_embedder_path=lambda: self.active_embedder_path,
            classifier_guard=self._classifier_guard,
            calibration=self._calibration,
            articles=self._article_reader,
        )

    def _article_reader(self) -> ArticleReader | None:
        """Whole articles for passage answers, from the knowledge base the retriever reads; None when a retriever
        was given (tests, tools), which the retrieved chunk stands for."""
        return None if self._retriever.given else self._articles.get()

    def _make_article_reader(self) -> ArticleReader:
        from chatbot.article_reader import ArticleReader

        return ArticleReader(lambda: self.vector_store)

    @property
    def pipeline_loaded(self) -> bool:
        return "pipeline" in self.__dict__  # where cached_property keeps it once built


def build_app(settings: Settings | None = None, **parts: Unpack[AppParts]) -> BankBot:
    """The app for ``settings`` (default: from the environment); any part given is used as it is."""
    return BankBot(settings or Settings(), **parts)
