"""A deterministic stand-in for the LLM in the fast tests: no model, same protocol, content-dependent output.

It answers with the first sentence of the first context passage of the last user message plus " [1]" (or
"I don't know." when the prompt has no passage), and gives each word a log-probability derived from a CRC of the
word, so different answers get different but reproducible confidences.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from chatbot.protocols import Generation, Message
from chatbot.settings import Settings

FAKE_BASE_MODEL = "fake"  # = model_loading.llm_label() for llm_model="fake"
_PASSAGE = re.compile(r"^\[1\] [^\n]*\n(?P<text>[^\n]*)", re.M)
_SENTENCE = re.compile(r"(?<=[.!?])\s")
_TOKEN = re.compile(r"\w+|[^\w\s]")
NO_CONTEXT_ANSWER = "I don't know."


def word_logprob(word: str) -> float:
    """In [-1.0, -0.01]: fixed for a word, different between words."""
    return -0.01 - (zlib.crc32(word.encode("utf-8")) % 100) / 100.0


class FakeGenerator:
    def __init__(self, settings: Settings, adapter: Any = None) -> None:
        self.settings = settings
        self.base_model = FAKE_BASE_MODEL
        self.adapter_version: str | None = getattr(adapter, "version", None)

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def reply(self, messages: Sequence[Message]) -> str:
        last_user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        match = _PASSAGE.search(last_user)
        if match is None or not match.group("text").strip():
            return NO_CONTEXT_ANSWER
        first_sentence = _SENTENCE.split(match.group("text").strip(), maxsplit=1)[0]
        return f"{first_sentence} [1]"

    def _generation(self, text: str, messages: Sequence[Message], max_new_tokens: int | None) -> Generation:
        limit = max_new_tokens or self.settings.max_new_tokens
        words = text.split(" ")
        finished = len(words) <= limit
        words = words[:limit]
        prompt_tokens = sum(self.count_tokens(m["content"]) for m in messages)
        return Generation(
            text=" ".join(words),
            token_logprobs=[word_logprob(w) for w in words],
            prompt_tokens=prompt_tokens,
            finished=finished,
        )

    def generate(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Generation:
        return self._generation(self.reply(messages), messages, max_new_tokens)

    def generate_batch(
        self, batch: Sequence[Sequence[Message]], *, max_new_tokens: int | None = None
    ) -> list[Generation]:
        return [self.generate(messages, max_new_tokens=max_new_tokens) for messages in batch]

    def stream(self, messages: Sequence[Message], *, max_new_tokens: int | None = None) -> Iterator[str | Generation]:
        generation = self.generate(messages, max_new_tokens=max_new_tokens)
        for i, word in enumerate(generation.text.split(" ")):
            yield word if i == 0 else f" {word}"
        yield generation
