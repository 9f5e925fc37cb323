"""The app as the layers below the composition root see it: ``AppServices``, and its database part ``AppDatabase``.

ui, finetune, evals and the services may not import ``chatbot.app`` (it sits above them), yet many of their
functions receive the app. They name one of these protocols instead: ``AppDatabase`` when the settings and the SQL
database are all they read (the registry, training runs, publishing, the audit log), ``AppServices`` otherwise.
``chatbot.app.BankBot`` satisfies both structurally, and mypy checks it wherever one is passed;
``finetune.publish.RegistryDatabase`` (no models or indexes) satisfies ``AppDatabase``. A member is listed only
when a function below the composition root uses it: a new use adds it here, with BankBot's signature.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.retrievers import BaseRetriever
    from sentence_transformers import SentenceTransformer
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from chatbot.confidence import ConfidenceParams
    from chatbot.fewshot import FewShotStore
    from chatbot.pipeline import ChatPipeline
    from chatbot.protocols import Generator
    from chatbot.settings import Settings
    from chatbot.turn_store import TurnStore
    from retrieval.example_index import ExampleIndex


class AppDatabase(Protocol):
    """The settings and the SQL database every part of the app shares."""

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    def session(self) -> Session: ...


class AppServices(AppDatabase, Protocol):
    """One whole app: its models, knowledge base, stores and chat pipeline (``chatbot.app.BankBot``)."""

    def upgrade_database(self) -> None: ...

    @property
    def embedder(self) -> SentenceTransformer: ...

    @property
    def embedder_version(self) -> str | None: ...

    @property
    def active_embedder_path(self) -> str | None: ...

    @property
    def generator_loaded(self) -> bool: ...

    @property
    def vector_store(self) -> Chroma: ...

    @property
    def example_index(self) -> ExampleIndex: ...

    def loaded_snapshot_stores(self) -> list[ExampleIndex | FewShotStore]: ...

    @property
    def retriever(self) -> BaseRetriever: ...

    @property
    def turn_store(self) -> TurnStore: ...

    @property
    def fewshot(self) -> FewShotStore: ...

    @property
    def pipeline(self) -> ChatPipeline: ...

    @property
    def pipeline_loaded(self) -> bool: ...

    def with_parts(
        self,
        *,
        generator: Generator | None = None,
        example_index: ExampleIndex | None = None,
        fewshot: FewShotStore | None = None,
        retriever: BaseRetriever | None = None,
        calibration: ConfidenceParams | None = None,
    ) -> AppServices: ...

    def with_embedder(self, version: str | None) -> AppServices: ...

    def follow_production_embedder(self) -> bool: ...
