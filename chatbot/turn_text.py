"""The pure text steps of a chat turn: the question's validation, the answer's frame and its citation markers."""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatbot.errors import InvalidQuestion
from chatbot.protocols import Source
from chatbot.text_normalise import has_lone_surrogate

_CITATION = re.compile(r"\s?\[(\d{1,2})\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The small model often opens with "The answer to your question is:" — words that tell the customer nothing.
_ANSWER_FRAME = re.compile(r"^\s*(?:the\s+)?answer(?:\s+to\s+(?:the|your|this)\s+question)?\s+is\s*:\s*", re.IGNORECASE)
INVALID_UNICODE = "the question contains invalid characters (a lone surrogate): please type it again"


def validate_question(question: object, max_chars: int) -> str:
    """The question as clean text, or InvalidQuestion with a one-line reason."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    if has_lone_surrogate(question):  # cannot be stored (UTF-8) nor spooled: refuse it before any work is done
        raise InvalidQuestion(INVALID_UNICODE)
    text = _CONTROL.sub("", question).strip()  # PostgreSQL refuses NUL bytes; other control characters are noise
    if not text:
        raise InvalidQuestion("the question is empty: type what you would like to know")
    if len(text) > max_chars:
        raise InvalidQuestion(
            f"the question is {len(text)} characters long; the limit is {max_chars} (BANKBOT_MAX_QUESTION_CHARS)"
        )
    return text


def attach_citations(text: str, sources: Sequence[Source]) -> tuple[str, list[str], bool]:
    """(answer, cited article ids in order, whether the fallback citation was added).

    Markers that point at no passage are removed; an answer with no valid marker gets the top source as [1]
    (the small model rarely writes a marker; the top passage is the one it was given first). Attributing by word
    overlap instead was tried and picked a wrong passage when the model drifted: see docs/chat.md.
    """
    cited: list[str] = []

    def keep(match: re.Match[str]) -> str:
        n = int(match.group(1))
        if 1 <= n <= len(sources):
            if sources[n - 1].article_id not in cited:
                cited.append(sources[n - 1].article_id)
            return match.group(0)
        return ""

    answer = _CITATION.sub(keep, text).strip()
    if cited or not sources or not answer:
        return answer, cited, False
    return f"{answer} [1]", [sources[0].article_id], True


def strip_answer_frame(text: str) -> str:
    """The answer without a leading "The answer (to your question) is:"; unchanged when nothing follows it."""
    rest = _ANSWER_FRAME.sub("", text, count=1)
    return rest if rest.strip() and not _CITATION.fullmatch(rest.strip()) else text
