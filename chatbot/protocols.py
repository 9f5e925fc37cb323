"""Small protocols and value types at the boundaries: retriever output, generator, chat answer.

The retriever itself is a LangChain ``BaseRetriever``: ``retriever.invoke(question) -> list[Document]`` where each
Document's metadata carries the keys of ``Source`` (see ``Source.from_document``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Message = Mapping[str, str]  # {"role": "system"|"user"|"assistant", "content": "..."}
# What the customer got: the model's checked answer, the article's own sentences (the model's answer failed its
# checks but retrieval was sure of the article), a hand-off to an agent, or a refusal by the guard.
AnswerKind = Literal["generated", "passage", "handoff", "refusal"]


@dataclass(frozen=True)
class Source:
    """One retrieved passage as the chat pipeline, the log and the UI see it."""

    article_id: str
    title: str
    score: float  # in [0, 1], higher is more relevant
    text: str = ""
    chunk: int = 0
    intent: str | None = None
    rank_score: float | None = None  # the retriever's ranking score when it differs from ``score``

    @classmethod
    def from_document(cls, doc: Any) -> Source:
        meta = doc.metadata
        return cls(
            article_id=str(meta.get("article_id", "")),
            title=str(meta.get("title", "")),
            score=float(meta.get("score", 0.0)),
            text=doc.page_content,
            chunk=int(meta.get("chunk", 0)),
            intent=meta.get("intent"),
            rank_score=None if meta.get("rank_score") is None else float(meta["rank_score"]),
        )

    def public(self) -> dict[str, Any]:
        return {"id": self.article_id, "title": self.title, "score": round(self.score, 4)}

    def to_log(self) -> dict[str, Any]:
        return {
            "id": self.article_id,
            "title": self.title,
            "score": self.score,
            "chunk": self.chunk,
            "intent": self.intent,
            "text": self.text,
        }


@dataclass
class Generation:
    """What the LLM produced, with the log-probability of each generated token (for confidence)."""

    text: str
    token_logprobs: list[float]
    prompt_tokens: int = 0
    finished: bool = True  # stopped on end-of-turn rather than the token limit


@runtime_checkable
class Generator(Protocol):
    base_model: str
    adapter_version: str | None

    def count_tokens(self, text: str) -> int: ...

    def generate(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Generation: ...

    def generate_batch(
        self, batch: Sequence[Sequence[Message]], *, max_new_tokens: int | None = None
    ) -> list[Generation]: ...

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Iterator[str | Generation]:
        """Yield text pieces as they are decoded, then one final Generation."""
        ...


@dataclass(frozen=True)
class AnswerPending:
    """What ``ChatPipeline.stream`` yields while the answer is written and checked: show a typing indicator.

    It carries no text on purpose: nothing the model wrote may reach the customer before the checks ran.
    """


ANSWER_PENDING = AnswerPending()


@dataclass
class ChatAnswer:
    answer: str
    sources: list[Source]
    confidence: float
    confidence_components: dict[str, float]
    abstained: bool
    turn_id: uuid.UUID
    conversation_id: uuid.UUID
    latency_ms: float
    would_be_answer: str | None = None
    cited: list[str] = field(default_factory=list)  # article ids the answer cites, in order
    pii_redacted: bool = False
    meta: dict[str, Any] = field(default_factory=dict)  # turn meta (reason, citation_fallback…), not for customers
    answer_kind: AnswerKind = "generated"
    # On a hand-off where retrieval found articles but was not sure which one answers: the articles the customer
    # can pick from ("Did you mean …?"); picking one answers from it (``ChatPipeline.answer_chosen_article``).
    suggestions: list[Source] = field(default_factory=list)
    # What the customer would get if the model's answers were not shown, computed only when read (the gate weighs
    # the model's answers against it; the chat never needs it). Not logged.
    fallback: Callable[[], str | None] | None = field(default=None, repr=False, compare=False)

    @property
    def fallback_answer(self) -> str | None:
        """The approved answer or passage in place of the model's answer; None: a hand-off."""
        return self.fallback() if self.fallback is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "sources": [s.public() for s in self.sources],
            "confidence": round(self.confidence, 4),
            "abstained": self.abstained,
            "answer_kind": self.answer_kind,
            "suggestions": [{"id": s.article_id, "title": s.title} for s in self.suggestions],
            "turn_id": str(self.turn_id),
            "latency_ms": round(self.latency_ms, 1),
        }
