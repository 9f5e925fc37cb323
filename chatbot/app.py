"""Composition root: builds store, retriever, LLM and pipeline from Settings and hands back a plain object.

The CLI, the web app, the nightly job and the tests all go through ``build_app``. Nothing heavy is loaded
until a component is first used, so ``bankbot config`` or ``bankbot db upgrade`` stay instant. A caller may give
ready-made parts (``build_app(settings, retriever=..., generator=...)``): tests, tools, one bundle's app
(``BankBot.with_parts``, ``BankBot.with_embedder``); every part not given is built from the settings on first use.
The parts that embed (the embedder, the knowledge base, the example index, the few-shot store, the retriever) are
one set per embedder, replaced as one when the production embedder changes (``BankBot.follow_production_embedder``).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, TypedDict, Unpack

from chatbot.app_parts import Part, RetrievalParts, Served
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
        self._engine = Part(self._make_engine, engine)
        self._retrieval = RetrievalParts(
            settings,
            self._production_embedder,
            self.index_snapshot,
            embedder=embedder,
            vector_store=vector_store,
            example_index=example_index,
            fewshot=fewshot,
            retriever=retriever,
        )
        self._switching = threading.Lock()  # one embedder switch at a time (the watcher, a dashboard promotion)
        self._turn_store = Part(self._open_turn_store, turn_store)
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
            classifier_guard=self._classifier_guard,
            calibration=calibration if calibration is not None else self._calibration,
        )
        mine = self._retrieval
        other._retrieval = mine.shared(
            example_index=example_index if example_index is not None else mine.example_index.if_given(),
            fewshot=fewshot if fewshot is not None else mine.fewshot.if_given(),
            retriever=retriever if retriever is not None else mine.retriever.if_given(),
        )
        other._engine, other._turn_store = self._engine, self._turn_store
        if generator is None:
            other._generator = self._generator
        return other

    def with_embedder(self, version: str | None) -> BankBot:
        """The same app retrieving with the embedder ``version`` (None: the configured one), as a bundle naming it
        would (``finetune.bundle.bundle_app``): that embedder's model and its knowledge-base, example-index and
        few-shot collections (named after the version); the database, model and turn store shared. This app itself
        when it already uses that embedder. BankbotError when the version is unknown or its folder is not here."""
        from retrieval.embedder_registry import embedder_of_version

        if version == self.embedder_version:
            return self
        other = self.with_parts()
        served = embedder_of_version(self.settings, version, engine=self.engine)
        other._retrieval = self._retrieval.for_embedder((served,))
        return other

    def follow_production_embedder(self) -> bool:
        """Switch retrieval to the production embedder when the loaded parts use another one: the new embedder's
        parts are built first, then replace the old set as one, so each turn uses one set or the other. Nothing to
        do before retrieval is first used (it reads the registry then), nor with a vector store or retriever the
        caller gave. True when switched."""
        from retrieval.embedder_registry import current_embedder, forget_cached

        with self._switching:
            current = self._retrieval
            if not current.served.loaded or current.vector_store.given or current.retriever.given:
                return False
            forget_cached()  # the promotion may be another process's: read the row now, not a cached answer
            served = current_embedder(self.settings, engine=self.engine)
            if (served.version if served is not None else None) == current.version:
                return False
            fresh = current.for_embedder((served,))
            fresh.retriever.get()  # the model, the collections and the retriever are ready before the swap
            if current.fewshot.loaded:
                fresh.fewshot.get()
            self._retrieval = fresh
            return True

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
        """The sentence-transformers model shared by the vector store, the example index and the few-shot store."""
        return self._retrieval.embedder.get()

    @property
    def embedder_version(self) -> str | None:
        """The embedder version this app retrieves with (None: the configured embedder)."""
        return self._retrieval.version

    @property
    def active_embedder_path(self) -> str | None:
        """The folder of the fine-tuned embedder this app retrieves with (None: the configured one): the production
        embedder when retrieval was first used or last switched (``follow_production_embedder``)."""
        return self._retrieval.path

    def _production_embedder(self) -> Served:
        from retrieval.embedder_registry import current_embedder

        # The app's database once it is open; before that, the settings' (a read that never creates a database).
        return (current_embedder(self.settings, engine=self.engine if self._engine.loaded else None),)

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
        return self._retrieval.vector_store.get()

    @property
    def example_index(self) -> ExampleIndex:
        """Example questions with a known article (reviewed turns, labelled CSVs), next to the KB collection."""
        return self._retrieval.example_index.get()

    def index_snapshot(self) -> int:
        """The production bundle's few-shot/example-index snapshot (``retrieval.snapshots``)."""
        from chatbot.registry import production_snapshot

        return production_snapshot(self)

    def loaded_snapshot_stores(self) -> list[ExampleIndex | FewShotStore]:
        """The example index and the few-shot store, those loaded so far: what a promotion points at its snapshot."""
        parts = self._retrieval
        stores: list[ExampleIndex | FewShotStore] = []
        if parts.example_index.loaded:
            stores.append(parts.example_index.get())
        if parts.fewshot.loaded:
            stores.append(parts.fewshot.get())
        return stores

    @property
    def retriever(self) -> BaseRetriever:
        return self._retrieval.retriever.get()

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
        return self._retrieval.fewshot.get()

    @cached_property
    def pipeline(self) -> ChatPipeline:
        from chatbot.pipeline import ChatPipeline

        return ChatPipeline(
            self.settings,
            generator=self._generator,
            # Read per turn: a switch of embedder (follow_production_embedder) reaches the next turn.
            retriever=lambda: self.retriever,
            turn_store=self._turn_store.get,
            fewshot=lambda: self.fewshot,
            session=self.session,
            active_embedder_path=lambda: self.active_embedder_path,
            classifier_guard=self._classifier_guard,
            calibration=self._calibration,
            articles=self._article_reader,
        )

    def _article_reader(self) -> ArticleReader | None:
        """Whole articles for passage answers, from the knowledge base the retriever reads; None when a retriever
        was given (tests, tools), which the retrieved chunk stands for."""
        parts = self._retrieval
        return None if parts.retriever.given else parts.articles.get()

    @property
    def pipeline_loaded(self) -> bool:
        return "pipeline" in self.__dict__  # where cached_property keeps it once built


def build_app(settings: Settings | None = None, **parts: Unpack[AppParts]) -> BankBot:
    """The app for ``settings`` (default: from the environment); any part given is used as it is."""
    return BankBot(settings or Settings(), **parts)
