"""The chat prompt: system rules, few-shot examples, trimmed history, then the context passages and the question.

Kept short and plain on purpose: the default model has 135M parameters and follows a one-paragraph instruction
over three short passages far better than a long one. Passages are numbered in the order given, so ``[n]`` in
the answer is ``sources[n-1]``; when the token budget is tight the passages' texts are shortened (never dropped,
which would shift the numbering), then few-shot examples and the oldest history go first. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, trim_messages
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from chatbot.protocols import Source

PROMPT_VERSION = "rag-v1"
MAX_PASSAGES = 3  # how many retrieved passages go into the prompt
MAX_PASSAGE_WORDS = 80  # each passage is cut to this many words before the token budget applies
MESSAGE_OVERHEAD = 4  # chat-template tokens around each message (ChatML: <|im_start|>role\n … <|im_end|>\n)

SYSTEM_PROMPT = (
    "You are the customer support assistant of a bank. Answer the customer's question using only the "
    "context passages. Cite the passage you used like [1]. If the context does not answer the question, "
    "say plainly that you don't know. Never ask for a full card number, PIN or password."
)
PASSAGE_TEMPLATE = "[{n}] {title}\n{text}"
QUESTION_TEMPLATE = "Context:\n{context}\n\nQuestion: {question}"
EXAMPLE_TEMPLATE = "Question: {question}"

CHAT_PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "{system}"),
        MessagesPlaceholder("examples"),
        MessagesPlaceholder("history"),
        ("human", QUESTION_TEMPLATE),
    ]
)

CountTokens = Callable[[str], int]
_MARKDOWN = re.compile(r"\*\*|__|`")  # bold and code marks
_HEADING = re.compile(r"#{1,6}")
_ROLES = {"user": HumanMessage, "human": HumanMessage, "assistant": AIMessage, "ai": AIMessage}


def passage_text(text: str, max_words: int | None = MAX_PASSAGE_WORDS) -> str:
    """Plain text on one line (a small model copes badly with markdown marks and blank lines), cut to max_words."""
    words = [w for w in _MARKDOWN.sub("", text).split() if not _HEADING.fullmatch(w)]
    if max_words is not None and len(words) > max_words:
        words = [*words[:max_words], "…"]
    return " ".join(words)


def format_context(sources: Sequence[Source], texts: Sequence[str]) -> str:
    return "\n\n".join(
        PASSAGE_TEMPLATE.format(n=i, title=s.title, text=t).rstrip()
        for i, (s, t) in enumerate(zip(sources, texts, strict=True), 1)
    )


def build_messages(
    question: str,
    sources: Sequence[Source],
    history: Sequence[Mapping[str, str]],
    examples: Sequence[Mapping[str, str]],
    *,
    count_tokens: CountTokens,
    budget: int,
    max_passage_words: int | None = MAX_PASSAGE_WORDS,
) -> list[dict[str, str]]:
    """Chat messages ({"role", "content"}) that fit in ``budget`` tokens (prompt only; keep room for the answer).

    ``examples`` are approved past turns (keys ``question`` and ``answer``), most similar first; ``history`` is the
    conversation so far as role/content messages, oldest first.
    """

    def cost(text: str) -> int:
        return count_tokens(text) + MESSAGE_OVERHEAD

    texts = [passage_text(s.text, max_passage_words) for s in sources]
    system_cost = cost(SYSTEM_PROMPT)
    texts = _fit_passages(question, sources, texts, budget - system_cost, cost)
    remaining = (
        budget - system_cost - cost(QUESTION_TEMPLATE.format(context=format_context(sources, texts), question=question))
    )

    example_messages: list[BaseMessage] = []
    for example in examples:
        pair = [HumanMessage(EXAMPLE_TEMPLATE.format(question=example["question"])), AIMessage(example["answer"])]
        pair_cost = sum(cost(str(m.content)) for m in pair)
        if pair_cost > remaining:
            break
        example_messages.extend(pair)
        remaining -= pair_cost

    history_messages = [_to_message(m) for m in history if m.get("role") in _ROLES and m.get("content")]
    kept_history = (
        trim_messages(
            history_messages,
            max_tokens=max(remaining, 0),
            token_counter=lambda ms: sum(cost(str(m.content)) for m in ms),
            strategy="last",
            start_on="human",  # a trimmed history never starts with an orphaned assistant reply
        )
        if history_messages and remaining > 0
        else []
    )

    rendered = CHAT_PROMPT.format_messages(
        system=SYSTEM_PROMPT,
        examples=example_messages,
        history=kept_history,
        context=format_context(sources, texts),
        question=question,
    )
    return [_to_dict(m) for m in rendered]


def _fit_passages(
    question: str, sources: Sequence[Source], texts: list[str], budget: int, cost: Callable[[str], int]
) -> list[str]:
    """Shorten passage texts, last passage first, until the question message fits in ``budget``."""

    def fits(candidate: list[str]) -> bool:
        return cost(QUESTION_TEMPLATE.format(context=format_context(sources, candidate), question=question)) <= budget

    texts = list(texts)
    for i in reversed(range(len(texts))):
        if fits(texts):
            return texts
        words = texts[i].split()
        lo, hi = 0, len(words)  # binary search for the longest prefix of passage i that fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            trial = [*texts[:i], " ".join(words[:mid]), *texts[i + 1 :]]
            if fits(trial):
                lo = mid
            else:
                hi = mid - 1
        texts[i] = " ".join(words[:lo])
    if not fits(texts):
        raise ValueError(f"the question and passage titles alone exceed the prompt budget of {budget} tokens")
    return texts


def _to_message(message: Mapping[str, str]) -> BaseMessage:
    return _ROLES[message["role"]](content=message["content"])


def _to_dict(message: BaseMessage) -> dict[str, str]:
    role = {"system": "system", "human": "user", "ai": "assistant"}[message.type]
    content: Any = message.content
    return {"role": role, "content": str(content)}
