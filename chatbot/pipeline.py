"""The chat pipeline: validate → redact → guard → retrieve → prompt → generate → cite → score → check → log.

Every turn, answered or not, is logged once through ``TurnStore`` (which spools when the database is down); what is
shown and stored is PII-redacted. The customer never gets a made-up answer: the model's answer is shown only when it
passes its checks, retrieval is sure of its article and the bundle has earned showing its answers; else the
article's approved answer or passage when retrieval is sure of it, else a hand-off (``chatbot.turn_outcome``).
Reviewers still see what the model would have said.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Generator as GeneratorOf
from typing import TYPE_CHECKING, Any, cast

from chatbot import guard
from chatbot.confidence import (
    ConfidenceParams,
    combine,
    confidence_components,
    read_active_calibration,
    retrieval_certainty,
)
from chatbot.errors import GeneratorUnavailable, InvalidQuestion
from chatbot.guard_classifier import ClassifierGuard
from chatbot.handoff import SUGGESTIONS_ANSWER
from chatbot.pii import redact
from chatbot.prompt import MAX_PASSAGES
from chatbot.protocols import ANSWER_PENDING, AnswerPending, ChatAnswer, Generation, Generator, Source
from chatbot.suggestions import chosen_first, offered_articles
from chatbot.text_normalise import normalise_text
from chatbot.turn_outcome import (
    CHOSEN_ARTICLE,
    MODEL_FAILURES,
    TurnInProgress,
    check_generation,
    customer_answer,
    fallback_gate,
    passages_only,
    redacted_answers,
    set_model_verdict,
    turn_record,
)
from chatbot.turn_prompt import TurnPrompt
from chatbot.turn_text import validate_question

if TYPE_CHECKING:
    from langchain_core.retrievers import BaseRetriever
    from sqlmodel import Session

    from chatbot.article_reader import ArticleReader
    from chatbot.fewshot import FewShotStore
    from chatbot.generator_slot import GeneratorSlot
    from chatbot.settings import Settings
    from chatbot.turn_store import TurnStore
    from retrieval.retriever import KnowledgeBaseRetriever

__all__ = ["BATCH_SIZE", "MODEL_FAILURES", "ChatPipeline"]

logger = logging.getLogger(__name__)

BATCH_SIZE = 8  # prompts per generate_batch call: bounds memory on CPU


class ChatPipeline:
    """One app's chat; ``BankBot.pipeline`` gives its parts as providers, called on first use, and its model slot."""

    def __init__(
        self,
        settings: Settings,
        *,
        generator: GeneratorSlot,
        retriever: Callable[[], BaseRetriever],
        turn_store: Callable[[], TurnStore],
        fewshot: Callable[[], FewShotStore],
        session: Callable[[], Session],
        active_embedder_path: Callable[[], str | None],
        classifier_guard: ClassifierGuard | None = None,
        calibration: ConfidenceParams | None = None,
        articles: Callable[[], ArticleReader | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self._model = generator
        self._retriever = retriever
        self._turn_store = turn_store
        self._session = session
        self._active_embedder_path = active_embedder_path
        self._articles = articles  # whole articles for passage answers (None: the retrieved chunk)
        self.classifier_guard = classifier_guard or ClassifierGuard(settings)
        self._prompt = TurnPrompt(settings, fewshot=fewshot, count_tokens=self._count_tokens)
        self.calibration = calibration if calibration is not None else self._read_calibration()

    @property
    def generator(self) -> Generator:
        return self._model.get()

    def _count_tokens(self, text: str) -> int:
        return self.generator.count_tokens(text)

    def reload(self) -> dict[str, Any]:
        """Re-read the calibration and the production adapter; swap the model when the adapter changed."""
        self.calibration = self._read_calibration()
        return {"adapter_version": self._model.follow_production(), "calibration": self.calibration.method}

    def _read_calibration(self) -> ConfidenceParams:
        try:
            with self._session() as session:
                return read_active_calibration(session)
        except Exception as exc:
            logger.warning("cannot read the confidence calibration (%s); using the uncalibrated score", exc)
            return ConfidenceParams()

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

    def answer_chosen_article(
        self, question: str, article_id: str, *, conversation_id: uuid.UUID | None = None, log: bool = True
    ) -> ChatAnswer:
        """The customer picked ``article_id`` from a hand-off's suggestions: its approved answer, else its sentences
        (no model). The question is screened again; only an article retrieved for it can be picked."""
        turn = self._prepare(question, conversation_id, None, {"chosen_article": article_id}, prompt=False)
        if turn.reason is None:  # neither refused nor out of scope
            ordered = chosen_first(turn.retrieved, article_id)
            if ordered is None:
                raise InvalidQuestion("that article was not suggested for this question")
            turn.sources = ordered[:MAX_PASSAGES]
            examples = self._prompt.examples(turn.question, article_id)
            turn.meta["approved_answer"] = examples[0].get("answer", "") if examples else ""
            turn.reason = CHOSEN_ARTICLE
        return self._finish(turn, None, store=log)

    def before_model(self, question: str) -> TurnInProgress:
        """The turn as the model would get it (guards, retrieval, prompt), neither generated nor logged."""
        return self._prepare(question, None, None, None)

    def stream(
        self,
        question: str,
        *,
        conversation_id: uuid.UUID | None = None,
        history: Sequence[Mapping[str, str]] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> GeneratorOf[AnswerPending | ChatAnswer, None, None]:
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

    def _generate(self, turn: TurnInProgress) -> Generation | None:
        """The model's answer, or None when the turn needs none or the model is unavailable (then: hand-off)."""
        if turn.messages is None:
            return None
        try:
            return self.generator.generate(turn.messages)
        except GeneratorUnavailable as exc:  # e.g. the LLM server is down: the customer still gets an answer
            logger.error("turn %s: %s", turn.turn_id, exc)
            turn.reason = "llm_unavailable"
            return None

    def _finish_abandoned(self, turn: TurnInProgress) -> None:
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
        *,
        prompt: bool = True,
    ) -> TurnInProgress:
        """The screened, retrieved turn; with ``prompt``, also the model's messages (None when refused or out of
        scope, as ``turn.reason`` then says)."""
        started = time.perf_counter()
        # Look-alike and invisible characters folded first, so the redaction and the guard see plain text.
        text = normalise_text(validate_question(question, self.settings.max_question_chars))
        redacted_q, redacted = redact(text)
        turn = TurnInProgress(redacted_q, conversation_id or uuid.uuid4(), dict(meta or {}), started, redacted)
        docs = self._screen_and_retrieve(turn)
        if docs is None:
            return turn
        turn.retrieved = [Source.from_document(d) for d in docs]
        turn.sources = turn.retrieved[:MAX_PASSAGES]
        if not turn.sources or turn.sources[0].score < self.settings.min_retrieval_score:
            turn.reason = "out_of_scope"
            return turn
        if prompt:
            turn.messages = self._prompt.messages(turn, history)
        return turn

    def _screen_and_retrieve(self, turn: TurnInProgress) -> list[Any] | None:
        """The retrieved documents, or None when the guards refuse the question or retrieval is down (the reason
        is then set on the turn)."""
        verdict = guard.check(turn.question)
        vector = None  # the question's embedding when the classifier guard computed it: retrieval reuses it
        docs: list[Any] = []
        try:
            if not verdict.refused:
                retriever = self._retriever()  # once a turn: the guard's vector and the search share one embedder
                verdict, vector = self.classifier_guard.check(
                    turn.question, retriever=retriever, active_embedder_path=self._active_embedder_path
                )
            if not verdict.refused:
                # Kept in the retriever's order (its fused ranking); ``score`` is each article's evidence, which can
                # order differently (retrieval/retriever.py).
                if vector is not None:  # only the knowledge-base retriever's embeddings give the guard a vector
                    docs = cast("KnowledgeBaseRetriever", retriever).rank_by_vector(vector)
                else:
                    docs = retriever.invoke(turn.question)
        except Exception as exc:  # e.g. the Chroma server is down: the customer gets the hand-off, the turn is logged
            logger.error("retrieval unavailable, handing off: %s", exc)
            turn.reason = "retrieval_unavailable"
            return None
        if verdict.refused:
            turn.reason = f"guard:{verdict.rule}"
            turn.meta["guard_match"] = verdict.matched
            return None
        return docs

    def _finish(
        self,
        turn: TurnInProgress,
        generation: Generation | None,
        *,
        latency_s: float | None = None,
        store: bool = True,
    ) -> ChatAnswer:
        would_be, cited = check_generation(turn, generation)
        components = confidence_components(
            generation.token_logprobs if generation else [],
            [s.score for s in turn.retrieved],
            [s.score if s.rank_score is None else s.rank_score for s in turn.retrieved],
        )
        confidence = combine(components, self.calibration)
        certainty = retrieval_certainty(components, self.calibration.weights)
        turn.meta["retrieval_certainty"] = certainty
        settings, needs = self.settings, self.calibration.certainty_needed  # needs: the floor or the bundle's fit
        set_model_verdict(
            turn,
            generated=generation is not None,
            confidence=confidence,
            abstain_below=self.calibration.abstain_below(settings.abstain_confidence),
            certainty=certainty,
            min_certainty=needs(settings.answer_min_retrieval_certainty),
            answers_earned=self.calibration.answers_shown(settings.base_model_answers),
        )
        gate = fallback_gate(turn, settings, certainty, self._articles(), needs=needs)
        kind, shown = customer_answer(turn, would_be or "", gate)
        suggestions = offered_articles(kind, turn.reason, turn.retrieved, settings)
        turn.meta["suggested"] = [s.article_id for s in suggestions]
        shown = SUGGESTIONS_ANSWER if suggestions else shown
        answer, stored_would_be = redacted_answers(turn, kind, shown, would_be)
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
            fallback=passages_only(turn, gate, kind, answer),
            suggestions=suggestions,
        )
        if store:
            self._turn_store().log_turn(turn_record(turn, result, self.generator))
        return result
