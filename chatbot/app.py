"""Composition root: builds store, retriever, LLM and pipeline from Settings and hands back a plain object.

The CLI, the web app, the nightly job and the tests all go through ``build_app``. Nothing heavy is loaded
until a component is first used, so ``bankbot config`` or ``bankbot db upgrade`` stay instant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chatbot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from chatbot.protocols import Generator


@dataclass
class BankBot:
    settings: Settings
    # Tests and tools can inject ready-made parts; anything left None is built from settings on first use.
    overrides: dict[str, Any] = field(default_factory=dict)

    def _get(self, name: str) -> Any:
        return self.overrides.get(name)

    # --- SQL -------------------------------------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        from chatbot.db.engine import make_engine

        return self._get("engine") or make_engine(self.settings.effective_database_url)

    def upgrade_database(self) -> None:
        """Bring the schema to head at start (one box), or with ``migrate_on_start`` false only check that it is at
        head: in a cluster `bankbot db upgrade` is the one migration step. Raises one-line errors."""
        from chatbot.db.engine import check_connection
        from chatbot.db.migrate import prepare_at_start

        check_connection(self.engine)
        prepare_at_start(self.engine, migrate_on_start=self.settings.migrate_on_start)

    def session(self) -> Any:
        from sqlmodel import Session

        return Session(self.engine)

    # --- models ----------------------------------------------------------------------------------------
    @cached_property
    def embedder(self) -> Any:
        """The sentence-transformers model shared by the vector store and the example index."""
        from chatbot.model_loading import load_embedder

        return self._get("embedder") or load_embedder(self.settings, self.active_embedder_path)

    @property
    def active_embedder_path(self) -> str | None:
        """A fine-tuned embedder promoted by the nightly job, if any (None: the configured one); read from this
        app's database, cached for a few seconds."""
        from retrieval.embedder_registry import active_embedder

        return active_embedder(self.settings, engine=self.engine)

    @cached_property
    def generator(self) -> Generator:
        if self._get("generator") is not None:
            return self._get("generator")
        from chatbot.generation import build_generator

        return build_generator(self.settings, adapter=self.production_adapter())

    def production_adapter(self) -> Any:
        """(version, adapter_path) of the production LoRA adapter, or None for the base model."""
        from finetune.registry import production_adapter

        return production_adapter(self)

    # --- retrieval ---------------------------------------------------------------------------------------
    @cached_property
    def vector_store(self) -> Any:
        from retrieval.vector_store import open_vector_store

        return self._get("vector_store") or open_vector_store(self.settings, self.embedder)

    @cached_property
    def example_index(self) -> Any:
        """Example questions with a known article (reviewed turns, labelled CSVs), next to the KB collection."""
        from retrieval.example_index import ExampleIndex
        from retrieval.vector_store import store_client

        if self._get("example_index") is not None:
            return self._get("example_index")
        return ExampleIndex.open(
            self.settings,
            self.embedder,
            client=store_client(self.vector_store),
            kb_collection=self.vector_store._collection.name,
            snapshot=self.index_snapshot(),
        )

    def index_snapshot(self) -> int:
        """The production bundle's few-shot/example-index snapshot (``retrieval.snapshots``)."""
        from finetune.bundle import production_snapshot

        return production_snapshot(self)

    @cached_property
    def retriever(self) -> Any:
        from retrieval.retriever import build_retriever

        return self._get("retriever") or build_retriever(self.settings, self.vector_store, self.example_index)

    # --- chat ------------------------------------------------------------------------------------------------
    @cached_property
    def turn_store(self) -> Any:
        from chatbot.turn_store import TurnStore

        return self._get("turn_store") or TurnStore(self.engine, spool_dir=self.settings.spool_dir)

    @cached_property
    def fewshot(self) -> Any:
        """Reviewed turns used as dynamic few-shot examples (chatbot.fewshot.FewShotStore)."""
        if self._get("fewshot") is not None:
            return self._get("fewshot")
        from chatbot.fewshot import FewShotStore

        return FewShotStore.open(self.settings, lambda: self.embedder, snapshot=self.index_snapshot())

    @cached_property
    def pipeline(self) -> Any:
        from chatbot.pipeline import ChatPipeline

        return ChatPipeline(self)


def build_app(settings: Settings | None = None, **overrides: Any) -> BankBot:
    return BankBot(settings=settings or Settings(), overrides=overrides)
