"""The chat prompt: system rules, trimmed history, then the context passages, an approved answer and the question.

Kept short and plain on purpose: the default model has 135M parameters and follows a one-paragraph instruction
over short passages far better than a long one. The *approved answer* is what reviewers agreed for the most
similar reviewed question about the top article (the few-shot store): a small model cannot recall a bank's fees
and menu paths, but it learns quickly to reuse an approved answer that fits, so the nightly adapter is trained on
exactly this prompt shape (finetune/dataset.py). Passages are numbered in the order given, so ``[n]`` in the
answer is ``sources[n-1]``; when the token budget is tight the passages' texts are shortened (never dropped, which
would shift the numbering), then the approved answer and the oldest history go first. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, trim_messages
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from chatbot.protocols import Source

PROMPT_VERSION = "rag-v2"
MAX_PASSAGES = 3  # how many retrieved passages go into the prompt
MAX_PASSAGE_WORDS = 40  # each passage is cut to this many words before the token budget applies
MESSAGE_OVERHEAD = 4  # chat-template tokens around each message (ChatML: <|im_start|>role\n … <|im_end|>\n)

SYSTEM_PROMPT = (
    "You are the customer support assistant of a bank. Answer the customer's question using only the "
    "context passages. If an approved answer to a similar question fits the question, give that answer. "
    "Cite the passage you used like [1]. If the context does not answer the question, say plainly that you "
    "don't know. Never ask for a full card number, PIN or password."
)
PASSAGE_TEMPLATE = "[{n}] {title}\n{text}"
# The approved answer comes last, right before the model writes: a 135M model copies the text nearest its answer
# far more reliably (docs/nightly.md, the recipe sweep).
APPROVED_TEMPLATE = "\n\nApproved answer to a similar question:\n{answer}"
QUESTION_TEMPLATE = "Context:\n{context}\n\nQuestion: {question}{approved}"

CHAT_PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "{system}"),
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


def approved_block(examples: Sequence[Mapping[str, str]]) -> str:
    """The prompt's approved-answer paragraph: the first (most similar) example's answer, or nothing."""
    answer = str(examples[0].get("answer", "")).strip() if examples else ""
    return APPROVED_TEMPLATE.format(answer=answer) if answer else ""


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

    ``examples`` are approved past turns (keys ``question`` and ``answer``), most similar first: the first one's
    answer is the prompt's approved answer. ``history`` is the conversation so far as role/content messages,
    oldest first.
    """

    def cost(text: str) -> int:
        return count_tokens(text) + MESSAGE_OVERHEAD

    texts = [passage_text(s.text, max_passage_words) for s in sources]
    system_cost = cost(SYSTEM_PROMPT)
    approved = approved_block(examples)
    try:
        texts = _fit_passages(question, sources, texts, approved, budget - system_cost, cost)
    except ValueError:
        if not approved:
            raise
        approved = ""  # the question and titles come first; the approved answer is dropped before them
        texts = _fit_passages(question, sources, texts, approved, budget - system_cost, cost)
    question_message = QUESTION_TEMPLATE.format(
        context=format_context(sources, texts), approved=approved, question=question
    )
    remaining = budget - system_cost - cost(question_message)

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
        history=kept_history,
        context=format_context(sources, texts),
        approved=approved,
        question=question,
    )
    return [_to_dict(m) for m in rendered]


def _fit_passages(
    question: str,
    sources: Sequence[Source],
    texts: list[str],
    approved: str,
    budget: int,
    cost: Callable[[str], int],
) -> list[str]:
    """Shorten passage texts, last passage first, until the question message fits in ``budget``."""

    def fits(candidate: list[str]) -> bool:
        context = format_context(sources, candidate)
        return cost(QUESTION_TEMPLATE.format(context=context, approved=approved, question=question)) <= budget

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
