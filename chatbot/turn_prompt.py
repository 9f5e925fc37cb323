"""The model's prompt for a turn: the redacted recent history, the approved answers about the top article (few-shot)
and the passages, within the context budget (``chatbot.prompt.build_messages``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from chatbot.pii import redact
from chatbot.prompt import build_messages

if TYPE_CHECKING:
    from chatbot.fewshot import FewShotStore
    from chatbot.settings import Settings
    from chatbot.turn_outcome import TurnInProgress

logger = logging.getLogger(__name__)


class TurnPrompt:
    def __init__(
        self, settings: Settings, *, fewshot: Callable[[], FewShotStore], count_tokens: Callable[[str], int]
    ) -> None:
        self.settings = settings
        self._fewshot = fewshot
        self._count_tokens = count_tokens

    def messages(self, turn: TurnInProgress, history: Sequence[Mapping[str, str]] | None) -> list[dict[str, str]]:
        """The prompt; records the few-shot articles and the top article's approved answer in ``turn.meta``."""
        clean_history = []
        keep = self.settings.prompt_history_messages
        for message in list(history or [])[-keep:] if keep else []:
            content, changed = redact(str(message.get("content", "")))
            turn.redacted |= changed
            clean_history.append({"role": str(message.get("role", "")), "content": content})
        examples = self.examples(turn.question, turn.sources[0].article_id)
        turn.meta["few_shot"] = [e.get("article_id", "") for e in examples]
        turn.meta["approved_answer"] = examples[0].get("answer", "") if examples else ""
        return build_messages(
            turn.question,
            turn.sources,
            clean_history,
            examples,
            count_tokens=self._count_tokens,
            budget=self.settings.context_window - self.settings.max_new_tokens,
        )

    def examples(self, question: str, article_id: str) -> list[dict[str, str]]:
        """Approved answers to the most similar reviewed questions about ``article_id``."""
        if self.settings.few_shot_k <= 0:
            return []
        try:
            return list(self._fewshot().select(question, self.settings.few_shot_k, article_id=article_id))
        except Exception as exc:  # examples improve answers; their store failing must not stop the chat
            logger.warning("few-shot examples unavailable: %s", exc)
            return []
