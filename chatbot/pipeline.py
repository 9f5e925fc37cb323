"""The chat pipeline: validate → redact → guard → retrieve → prompt → generate → cite → score → check → log.

Every turn, answered or not, is logged once through ``TurnStore`` (which spools when the database is down).
The customer-facing answer, the stored question and the would-be answer are PII-redacted. The customer never gets
a made-up answer: when the generated answer fails its checks (confidence below ``settings.abstain_confidence``, or
empty) but retrieval is sure of the article, they get the article's own sentences (a *passage* answer); when
retrieval finds nothing relevant, the guard refuses a probe, or retrieval is not sure enough for a passage, they
get a handoff to a human. Reviewers still see what the model would have said.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatbot import guard
from chatbot.answer_checks import failed_check
from chatbot.confidence import ConfidenceParams, combine, confidence_components, read_active_calibration
from chatbot.db.models import TurnCreate
from chatbot.errors import GeneratorUnavailable, InvalidQuestion
from chatbot.guard_classifier import ClassifierGuard
from chatbot.handoff import LOW_CONFIDENCE_ANSWER, OUT_OF_SCOPE_ANSWER, REFUSAL_ANSWER
from chatbot.passage_answer import approved_answer_fallback, passage_answer
from chatbot.pii import redact
from chatbot.prompt import MAX_PASSAGES, PROMPT_VERSION, build_messages
from chatbot.protocols import ANSWER_PENDING, AnswerKind, AnswerPending, ChatAnswer, Generation, Generator, Source
from chatbot.text_normalise import normalise_text
from chatbot.turn_text import attach_citations, validate_question

logger = logging.getLogger(__name__)

# Reasons a generated answer is not shown (the article's own sentences or a hand-off instead).
MODEL_FAILURES = ("low_confidence", "empty_answer", "unsupported_number", "repeated_text")
BATCH_SIZE = 8  # prompts per generate_batch call: bounds memory on CPU


@dataclass
class _Turn:
    """One question on its way through the pipeline."""

    question: str
    conversation_id: uuid.UUID
    meta: dict[str, Any]
    started: float
    redacted: bool = False
    retrieved: list[Source] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    messages: list[dict[str, str]] | None = None  # None: answered without the model (refused / out of scope)
    reason: str | None = None
    turn_id: uuid.UUID = field(default_factory=uuid.uuid4)


class ChatPipeline:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.settings = app.settings
        self._generator: Generator | None = app.overrides.get("generator")
        self._generator_lock = threading.Lock()
        self.calibration = self._read_calibration()
        self.classifier_guard: ClassifierGuard = app.overrides.get("classifier_guard") or ClassifierGuard(app.settings)

    # --- components --------------------------------------------------------------------------------------
    @property
    def generator(self) -> Generator:
        with self._generator_lock:  # the start-up warm-up and a first customer must not both load the model
            if self._generator is None:
                # One model per process: reuse app.generator when something built it already, else build and share.
                existing = self.app.__dict__.get("generator")
                if existing is None:
                    from chatbot.generation import build_generator

                    existing = build_generator(self.settings, adapter=self._production_adapter())
                    self.app.__dict__["generator"] = existing
                self._generator = existing
            return self._generator

    def reload(self) -> dict[str, Any]:
        """Re-read the calibration and the production adapter; swap the model when the adapter changed."""
        self.calibration = self._read_calibration()
        if "generator" not in self.app.overrides and self._generator is not None:
            adapter = self._production_adapter(keep_current=True)
            if adapter is not False and getattr(adapter, "version", None) != self._generator.adapter_version:
                from chatbot.generation import build_generator

                new = build_generator(self.settings, adapter=adapter)  # built before the swap: no gap in service
                self._generator = new
                self.app.__dict__["generator"] = new
                logger.info("now serving adapter %s", new.adapter_version or "none (base model)")
        return {
            "adapter_version": self._generator.adapter_version if self._generator else None,
            "calibration": self.calibration.method,
        }

    def _production_adapter(self, *, keep_current: bool = False) -> Any:
        try:
            return self.app.production_adapter()
        except Exception as exc:  # the database being down must not stop the chat
            logger.error(
                "cannot read the production adapter (%s); %s",
                exc,
                "keeping the current model" if keep_current else "serving the base model",
            )
            return False if keep_current else None

    def _read_calibration(self) -> ConfidenceParams:
        try:
            with self.app.session() as session:
                return read_active_calibration(session)
        except Exception as exc:
            logger.warning("cannot read the confidence calibration (%s); using the uncalibrated score", exc)
            return ConfidenceParams()

    # --- public API ----------------------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        *,
        conversation_id: uuid.UUID | None = None,
        history: Sequence[Mapping[str, str]] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> ChatAnswer:
        turn = self._prepare(question, conversation_id, history, meta)
        generation = self._generate(turn)
        return self._finish(turn, generation)

    def stream(
        self,
        question: str,
        *,
        conversation_id: uuid.UUID | None = None,
        history: Sequence[Mapping[str, str]] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> Iterator[AnswerPending | ChatAnswer]:
        """``ANSWER_PENDING`` once the question is accepted, then the checked ChatAnswer.

        No model text is streamed: the confidence, redaction and refusal checks need the whole answer, and a customer
        must never see text the checks would have withheld. Show a typing indicator until the ChatAnswer arrives.
        """
        turn = self._prepare(question, conversation_id, history, meta)
        try:
            yield ANSWER_PENDING
        except GeneratorExit:  # the client left (the web chat closes the stream): the turn must still be logged
            self._finish_abandoned(turn)
            raise
        generation = self._generate(turn)
        yield self._finish(turn, generation)

    def _generate(self, turn: _Turn) -> Generation | None:
        """The model's answer, or None when the turn needs none or the model is unavailable (then: hand-off)."""
        if turn.messages is None:
            return None
        try:
            return self.generator.generate(turn.messages)
        except GeneratorUnavailable as exc:  # e.g. the LLM server is down: the customer still gets an answer
            logger.error("turn %s: %s", turn.turn_id, exc)
            turn.reason = "llm_unavailable"
            return None

    def _finish_abandoned(self, turn: _Turn) -> None:
        """Answer and log a turn whose client left, on a thread of its own: closing a generator must not block
        (Gradio may close it from its event loop). The record is the answer the customer would have got."""
        turn.meta["client_disconnected"] = True

        def complete() -> None:
            generation = None
            try:
                if turn.messages is not None:
                    generation = self.generator.generate(turn.messages)
            except Exception as exc:  # e.g. the generator's queue is full: log the turn without an answer
                logger.warning("turn %s: no answer generated after the client left: %s", turn.turn_id, exc)
                turn.reason = turn.reason or "client_disconnected"
            try:
                self._finish(turn, generation)
            except Exception:
                logger.exception("turn %s of a departed client could not be logged", turn.turn_id)

        threading.Thread(target=complete, name=f"abandoned-turn-{turn.turn_id}", daemon=True).start()

    def answer_batch(
        self,
        questions: Sequence[str],
        *,
        metas: Sequence[Mapping[str, Any] | None] | None = None,
        log: bool = True,
    ) -> list[ChatAnswer]:
        """Answer many single-turn questions with batched generation (evals, simulation)."""
        if metas is not None and len(metas) != len(questions):
            raise ValueError(f"{len(questions)} questions but {len(metas)} metas")
        started = time.perf_counter()
        turns = []
        for i, question in enumerate(questions):
            try:
                turns.append(self._prepare(question, None, None, metas[i] if metas else None))
            except InvalidQuestion as exc:
                raise InvalidQuestion(f"question {i + 1} of {len(questions)}: {exc}") from exc
        to_generate = [t for t in turns if t.messages is not None]
        generations: dict[uuid.UUID, Generation] = {}
        for start in range(0, len(to_generate), BATCH_SIZE):
            chunk = to_generate[start : start + BATCH_SIZE]
            results = self.generator.generate_batch([t.messages or [] for t in chunk])
            generations.update({t.turn_id: g for t, g in zip(chunk, results, strict=True)})
        elapsed_each = (time.perf_counter() - started) / max(len(turns), 1)
        answers = []
        for turn in turns:
            turn.meta["batch_size"] = len(turns)
            answers.append(self._finish(turn, generations.get(turn.turn_id), latency_s=elapsed_each, store=log))
        return answers

    # --- steps ----------------------------------------------------------------------------------------------
    def _prepare(
        self,
        question: object,
        conversation_id: uuid.UUID | None,
        history: Sequence[Mapping[str, str]] | None,
        meta: Mapping[str, Any] | None,
    ) -> _Turn:
        started = time.perf_counter()
        # Look-alike and invisible characters folded first, so the redaction and the guard see plain text.
        text = normalise_text(validate_question(question, self.settings.max_question_chars))
        redacted_q, redacted = redact(text)
        turn = _Turn(redacted_q, conversation_id or uuid.uuid4(), dict(meta or {}), started, redacted)
        verdict = guard.check(redacted_q)
        vector = None  # the question's embedding when the classifier guard computed it: retrieval reuses it
        docs: list[Any] = []
        try:
            if not verdict.refused:
                verdict, vector = self.classifier_guard.check(self.app, redacted_q)
            if not verdict.refused:
                # Kept in the retriever's order (its fused ranking); ``score`` is each article's evidence, which can
                # order differently (retrieval/retriever.py).
                retriever = self.app.retriever
                docs = retriever.rank_by_vector(vector) if vector is not None else retriever.invoke(redacted_q)
        except Exception as exc:  # e.g. the Chroma server is down: the customer gets the hand-off, the turn is logged
            logger.error("retrieval unavailable, handing off: %s", exc)
            turn.reason = "retrieval_unavailable"
            return turn
        if verdict.refused:
            turn.reason = f"guard:{verdict.rule}"
            turn.meta["guard_match"] = verdict.matched
            return turn
        turn.retrieved = [Source.from_document(d) for d in docs]
        turn.sources = turn.retrieved[:MAX_PASSAGES]
        if not turn.sources or turn.sources[0].score < self.settings.min_retrieval_score:
            turn.reason = "out_of_scope"
            return turn
        clean_history = []
        for message in history or []:
            content, changed = redact(str(message.get("content", "")))
            turn.redacted |= changed
            clean_history.append({"role": str(message.get("role", "")), "content": content})
        examples = self._examples(redacted_q, turn.sources[0].article_id)
        turn.meta["few_shot"] = [e.get("article_id", "") for e in examples]
        turn.meta["approved_answer"] = examples[0].get("answer", "") if examples else ""
        turn.messages = build_messages(
            redacted_q,
            turn.sources,
            clean_history,
            examples,
            count_tokens=self.generator.count_tokens,
            budget=self.settings.context_window - self.settings.max_new_tokens,
        )
        return turn

    def _examples(self, question: str, article_id: str) -> list[dict[str, str]]:
        """Approved answers to the most similar reviewed questions about the top article."""
        if self.settings.few_shot_k <= 0:
            return []
        try:
            return list(self.app.fewshot.select(question, self.settings.few_shot_k, article_id=article_id))
        except Exception as exc:  # examples improve answers; their store failing must not stop the chat
            logger.warning("few-shot examples unavailable: %s", exc)
            return []

    def _finish(
        self, turn: _Turn, generation: Generation | None, *, latency_s: float | None = None, store: bool = True
    ) -> ChatAnswer:
        cited: list[str] = []
        would_be: str | None = None
        if generation is not None:
            would_be, cited, fallback = attach_citations(generation.text, turn.sources)
            turn.meta["citation_fallback"] = fallback
            turn.meta["generation"] = {
                "prompt_tokens": generation.prompt_tokens,
                "new_tokens": len(generation.token_logprobs),
                "finished": generation.finished,
            }
            if not would_be:
                turn.reason = "empty_answer"
            elif turn.reason is None and (failed := failed_check(would_be, [s.text for s in turn.sources])):
                turn.reason, details = failed
                turn.meta.update(details)
        components = confidence_components(
            generation.token_logprobs if generation else [], [s.score for s in turn.retrieved]
        )
        confidence = combine(components, self.calibration)
        if turn.reason is None and confidence < self.calibration.abstain_below(self.settings.abstain_confidence):
            turn.reason = "low_confidence"
        kind, answer = self._customer_answer(turn, would_be or "")
        answer, changed_a = redact(answer)
        stored_would_be: str | None = None
        if kind != "generated" and would_be:  # kept for reviewers: what the customer was spared
            stored_would_be, changed_w = redact(would_be)
            turn.redacted |= changed_w
        turn.redacted |= changed_a
        if kind != "generated":
            cited = [turn.sources[0].article_id] if kind == "passage" else []
            turn.meta["reason"] = turn.reason
        turn.meta["answer_kind"] = kind
        turn.meta["cited"] = cited
        turn.meta["retrieved"] = [{"id": s.article_id, "score": s.score} for s in turn.retrieved]
        latency_ms = 1000.0 * (latency_s if latency_s is not None else time.perf_counter() - turn.started)
        result = ChatAnswer(
            answer=answer,
            sources=turn.sources,
            confidence=confidence,
            confidence_components=components,
            abstained=kind in ("handoff", "refusal"),
            turn_id=turn.turn_id,
            conversation_id=turn.conversation_id,
            latency_ms=latency_ms,
            would_be_answer=stored_would_be,
            cited=cited,
            pii_redacted=turn.redacted,
            meta=turn.meta,
            answer_kind=kind,
        )
        if store:
            self.app.turn_store.log_turn(self._turn_create(turn, result))
        return result

    def _customer_answer(self, turn: _Turn, generated: str) -> tuple[AnswerKind, str]:
        """(kind, text) of what the customer gets once the checks have set ``turn.reason`` (None: all passed)."""
        if turn.reason is None:
            return "generated", generated
        if turn.reason.startswith("guard:"):
            return "refusal", REFUSAL_ANSWER
        top = turn.sources[0] if turn.sources else None
        if turn.reason in MODEL_FAILURES and top is not None and top.score >= self.settings.passage_min_retrieval_score:
            # Reviewers' approved answer about this article first (what the loop has learned), else its sentences.
            approved = approved_answer_fallback(
                title=top.title, article_id=top.article_id, approved=str(turn.meta.get("approved_answer") or "")
            )
            passage = approved or passage_answer(
                turn.question, title=top.title, article_id=top.article_id, passage=top.text
            )
            if passage is not None:
                turn.meta["fallback"] = "approved_answer" if approved else "passage"
                return "passage", passage
        return "handoff", OUT_OF_SCOPE_ANSWER if turn.reason == "out_of_scope" else LOW_CONFIDENCE_ANSWER

    def _turn_create(self, turn: _Turn, result: ChatAnswer) -> TurnCreate:
        generator = self.generator
        return TurnCreate(
            id=result.turn_id,
            conversation_id=result.conversation_id,
            question=turn.question,
            answer=result.answer,
            would_be_answer=result.would_be_answer,
            abstained=result.abstained,
            pii_redacted=result.pii_redacted,
            confidence=result.confidence,
            confidence_components=result.confidence_components,
            base_model=generator.base_model,
            adapter_version=generator.adapter_version,
            prompt_version=PROMPT_VERSION,
            latency_ms=result.latency_ms,
            sources=[s.to_log() for s in result.sources],
            meta=turn.meta,
        )
