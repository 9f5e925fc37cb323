"""How a chat turn ends: the generated answer's checks, what the customer gets when they fail, and the logged row.

The customer never gets a made-up answer: a generated answer is shown only when retrieval is sure of the article it
answers from (``UNCERTAIN_ARTICLE`` otherwise: handed off); one that fails its checks is replaced by the reviewers'
approved answer about the article or the article's own sentences (a *passage* answer) when retrieval is sure of
the article, else by a hand-off to a human. Reviewers still see what the model would have said (redacted).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatbot.answer_checks import failed_check
from chatbot.answer_grounding import MIN_GROUNDED_SHARE, grounded_share
from chatbot.db.models import TurnCreate
from chatbot.handoff import LOW_CONFIDENCE_ANSWER, OUT_OF_SCOPE_ANSWER, REFUSAL_ANSWER
from chatbot.passage_answer import approved_answer_fallback, passage_answer
from chatbot.pii import redact
from chatbot.prompt import PROMPT_VERSION
from chatbot.protocols import AnswerKind, ChatAnswer, Generation, Generator, Source
from chatbot.turn_text import attach_citations, strip_answer_frame

if TYPE_CHECKING:
    from chatbot.article_reader import ArticleReader
    from chatbot.settings import Settings

# Retrieval is not sure of the top article (``Settings.answer_min_retrieval_certainty``): no answer drawn from it
# is shown, generated or passage.
UNCERTAIN_ARTICLE = "uncertain_article"
# The bundle's gate did not find its model's answers better than the articles' own (or no bundle is promoted and
# ``settings.base_model_answers`` is off): the answer is replaced like a failed one.
ANSWERS_NOT_EARNED = "answers_not_earned"
# The customer picked one of a hand-off's suggested articles (``chatbot.suggestions``): the answer comes from it.
CHOSEN_ARTICLE = "customer_chose_article"
# Few of the answer's words come from the passages it cites (``chatbot.answer_grounding``).
UNGROUNDED = "ungrounded"
# Reasons a generated answer is not shown (the article's own sentences or a hand-off instead). The LLM being down
# (``llm_unavailable``) is one: an article retrieval is sure of needs no model to be quoted.
MODEL_FAILURES = (
    "llm_unavailable",
    "low_confidence",
    "empty_answer",
    "unsupported_number",
    "unsupported_figure",
    "repeated_text",
    UNGROUNDED,
    ANSWERS_NOT_EARNED,
)


@dataclass
class TurnInProgress:
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


def check_generation(turn: TurnInProgress, generation: Generation | None) -> tuple[str | None, list[str]]:
    """(the answer with its citations resolved, the cited article ids); a failed check sets ``turn.reason``."""
    if generation is None:
        return None, []
    would_be, cited, fallback = attach_citations(strip_answer_frame(generation.text), turn.sources)
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
    elif turn.reason is None:
        grounding = [s.text for s in turn.sources if s.article_id in cited]
        grounding += [str(turn.meta.get("approved_answer") or ""), turn.question]
        share, words = grounded_share(would_be, grounding)
        turn.meta["grounded_share"] = round(share, 4)
        if words == 0 or share < MIN_GROUNDED_SHARE:
            turn.reason = UNGROUNDED
    return would_be, cited


def set_model_verdict(
    turn: TurnInProgress,
    *,
    generated: bool,
    confidence: float,
    abstain_below: float,
    certainty: float,
    min_certainty: float,
    answers_earned: bool,
) -> None:
    """After the answer checks: whether the model's answer may be shown, as ``turn.reason`` (None: it may). The
    article must be certain first (``UNCERTAIN_ARTICLE``: hand off, no fallback either), then the confidence
    (``low_confidence``, the risk threshold's decision), then whether the bundle has earned showing its answers."""
    if turn.reason is not None:
        return
    if generated and certainty < min_certainty:
        turn.reason = UNCERTAIN_ARTICLE
    elif confidence < abstain_below:
        turn.reason = "low_confidence"
    elif not answers_earned:
        turn.reason = ANSWERS_NOT_EARNED


@dataclass(frozen=True)
class FallbackGate:
    """When the customer may get the top article instead of the model's answer: retrieval is sure of it (score at
    least ``passage_min_score`` and retrieval certainty, ``chatbot.confidence.retrieval_certainty``, which reads the
    gap to the runner-up too, at least ``min_certainty``). ``articles`` gives whole articles (None: the chunk)."""

    passage_min_score: float
    certainty: float
    min_certainty: float
    articles: ArticleReader | None = None


def fallback_gate(
    turn: TurnInProgress,
    settings: Settings,
    certainty: float,
    articles: ArticleReader | None,
    *,
    needs: Callable[[float], float] | None = None,
) -> FallbackGate:
    """The turn's FallbackGate: the settings' score floor and the certainty ``needs`` makes of
    ``settings.passage_min_retrieval_certainty`` (the bundle's ``ConfidenceParams.certainty_needed``: the floor or
    its fitted article threshold; None: the floor), except for an article the customer picked from a hand-off's
    suggestions (``CHOSEN_ARTICLE``), where their choice stands in for retrieval's certainty."""
    if turn.reason == CHOSEN_ARTICLE:  # the customer's choice, not retrieval's certainty: no fitted bar applies
        return FallbackGate(0.0, 1.0, 0.0, articles)
    floor = settings.passage_min_retrieval_certainty
    return FallbackGate(settings.passage_min_retrieval_score, certainty, needs(floor) if needs else floor, articles)


def fallback_answer(turn: TurnInProgress, gate: FallbackGate) -> tuple[str, str] | None:
    """(text, "approved_answer" | "passage") the customer gets in place of the model's answer, or None (a hand-off).
    A right-sounding answer about the wrong article is as wrong as a made-up one: only when retrieval is sure."""
    top = turn.sources[0] if turn.sources else None
    if top is None or top.score < gate.passage_min_score or gate.certainty < gate.min_certainty:
        return None
    # Reviewers' approved answer about this article first (what the loop has learned), else its sentences.
    approved = approved_answer_fallback(
        title=top.title, article_id=top.article_id, approved=str(turn.meta.get("approved_answer") or "")
    )
    if approved:
        return approved, "approved_answer"
    # The whole article, its sentences chosen by meaning (``chatbot.article_reader``), else the retrieved chunk's.
    whole = gate.articles.text(top.article_id) if gate.articles is not None else None
    similarity = gate.articles.similarity if gate.articles is not None and whole else None
    passage = passage_answer(
        turn.question, title=top.title, article_id=top.article_id, passage=whole or top.text, similarity=similarity
    )
    return (passage, "passage") if passage is not None else None


def passages_only(turn: TurnInProgress, gate: FallbackGate, kind: AnswerKind, shown: str) -> Callable[[], str | None]:
    """What the customer would get with passages only (the model's answer replaced as a failed one would be), as a
    function the gate calls: the chat itself never needs it, so no article is read for it on the request path."""

    def passage() -> str | None:
        if kind == "generated":
            found = fallback_answer(turn, gate)
            return found[0] if found else None
        return shown if kind == "passage" else None

    return passage


def customer_answer(turn: TurnInProgress, generated: str, gate: FallbackGate) -> tuple[AnswerKind, str]:
    """(kind, text) of what the customer gets once the checks have set ``turn.reason`` (None: all passed): the
    model's answer, else the fallback (``fallback_answer``) for a model failure, else a hand-off or refusal."""
    if turn.reason is None:
        return "generated", generated
    if turn.reason.startswith("guard:"):
        return "refusal", REFUSAL_ANSWER
    answerable = turn.reason in MODEL_FAILURES or turn.reason == CHOSEN_ARTICLE
    if answerable and (fallback := fallback_answer(turn, gate)) is not None:
        turn.meta["fallback"] = fallback[1]
        return "passage", fallback[0]
    return "handoff", OUT_OF_SCOPE_ANSWER if turn.reason == "out_of_scope" else LOW_CONFIDENCE_ANSWER


def redacted_answers(
    turn: TurnInProgress, kind: AnswerKind, answer: str, would_be: str | None
) -> tuple[str, str | None]:
    """(the customer's answer, the would-be answer kept for reviewers when the customer was spared it), both
    redacted; ``turn.redacted`` records whether either was."""
    answer, changed = redact(answer)
    turn.redacted |= changed
    if kind == "generated" or not would_be:
        return answer, None
    stored_would_be, changed = redact(would_be)
    turn.redacted |= changed
    return answer, stored_would_be


def turn_record(turn: TurnInProgress, result: ChatAnswer, generator: Generator) -> TurnCreate:
    """The row ``TurnStore`` logs for this turn."""
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
