"""Prompt building: exact messages, passage numbering, and trimming to the token budget."""

from __future__ import annotations

import pytest

from chatbot.prompt import MESSAGE_OVERHEAD, SYSTEM_PROMPT, build_messages, passage_text
from chatbot.protocols import Source


def words(text: str) -> int:
    return len(text.split())


SOURCES = [
    Source("activate_my_card", "Activating my new card", 0.9, "Open the app.\n\nGo to **Cards > Activate**."),
    Source("change_pin", "Changing my PIN", 0.5, "Use any UK ATM."),
]


def test_exact_messages_with_an_approved_answer_and_history() -> None:
    messages = build_messages(
        "How do I activate it?",
        SOURCES,
        [{"role": "user", "content": "I got my card"}, {"role": "assistant", "content": "Great news!"}],
        [
            {"question": "How do I turn on my card?", "answer": "Go to Cards > Activate [1]"},
            {"question": "second", "answer": "only the most similar example is shown"},
        ],
        count_tokens=words,
        budget=1000,
    )
    assert messages == [
        {
            "role": "system",
            "content": "You are the customer support assistant of a bank. Answer the customer's question using only "
            "the context passages. If an approved answer to a similar question fits the question, give that answer. "
            "Cite the passage you used like [1]. If the context does not answer the question, say plainly that you "
            "don't know. Never ask for a full card number, PIN or password.",
        },
        {"role": "user", "content": "I got my card"},
        {"role": "assistant", "content": "Great news!"},
        {
            "role": "user",
            "content": "Context:\n[1] Activating my new card\nOpen the app. Go to Cards > Activate.\n\n"
            "[2] Changing my PIN\nUse any UK ATM.\n\nQuestion: How do I activate it?\n\n"
            "Approved answer to a similar question:\nGo to Cards > Activate [1]",
        },
    ]


def test_no_sources_no_history() -> None:
    messages = build_messages("Hi?", [], [], [], count_tokens=words, budget=100)
    assert messages == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "Context:\n\n\nQuestion: Hi?"},
    ]


def test_passage_text_is_one_line_and_cut() -> None:
    assert passage_text("a  b\n\nc | d", 10) == "a b c | d"
    assert passage_text("# Title\n## Section\nGo to **Cards > Show PIN**, then `OK`.") == (
        "Title Section Go to Cards > Show PIN, then OK."
    )
    assert passage_text("one two three four", 2) == "one two …"
    assert passage_text("one two", None) == "one two"


def test_oldest_history_goes_first_then_passage_text_then_the_approved_answer() -> None:
    history = [
        {"role": "user", "content": "first question here"},  # 3 words
        {"role": "assistant", "content": "first answer"},  # 2
        {"role": "user", "content": "second question"},  # 2
        {"role": "assistant", "content": "second answer"},  # 2
    ]
    example = [{"question": "q one", "answer": "a one"}]  # approved block: "Approved ... question:" + "a one" = 8 words
    system = words(SYSTEM_PROMPT) + MESSAGE_OVERHEAD
    bare_question = "Context:\n[1] Activating my new card\nOpen the app. Go to Cards > Activate.\n\n"
    bare_question += "[2] Changing my PIN\nUse any UK ATM.\n\nQuestion: q?"
    final = words(bare_question) + 8 + MESSAGE_OVERHEAD
    newest_pair = 2 + 2 + 2 * MESSAGE_OVERHEAD

    full = build_messages("q?", SOURCES, history, example, count_tokens=words, budget=10_000)
    assert len(full) == 1 + 4 + 1  # system, 4 history, question
    assert "Approved answer to a similar question:\na one" in full[-1]["content"]

    # Room for the newest exchange only: the oldest exchange is dropped whole.
    tight = build_messages("q?", SOURCES, history, example, count_tokens=words, budget=system + final + newest_pair)
    assert [m["content"] for m in tight[1:-1]] == ["second question", "second answer"]

    # No room beyond the question: no history, the passages and the approved answer stay intact.
    bare = build_messages("q?", SOURCES, history, example, count_tokens=words, budget=system + final)
    assert [m["role"] for m in bare] == ["system", "user"]
    assert "Use any UK ATM." in bare[-1]["content"] and "a one" in bare[-1]["content"]

    # Less room still: passage text is cut before the approved answer goes.
    cut = build_messages("q?", SOURCES, [], example, count_tokens=words, budget=system + final - 2)
    assert "a one" in cut[-1]["content"] and "UK ATM." not in cut[-1]["content"]
    # Only the titles fit: the approved answer is dropped, the question stays.
    titles = words("Context:\n[1] Activating my new card\n\n[2] Changing my PIN\n\nQuestion: q?")
    no_approved = build_messages("q?", SOURCES, [], example, count_tokens=words, budget=system + titles + 4)
    assert no_approved[-1]["content"] == "Context:\n[1] Activating my new card\n\n[2] Changing my PIN\n\nQuestion: q?"


def test_passages_are_shortened_last_first_but_never_dropped() -> None:
    long_sources = [
        Source("a", "Title A", 0.9, " ".join(f"a{i}" for i in range(30))),
        Source("b", "Title B", 0.8, " ".join(f"b{i}" for i in range(30))),
    ]
    system = words(SYSTEM_PROMPT) + MESSAGE_OVERHEAD
    # Question message with empty passage texts: "Context:" "[1]" "Title" "A" "[2]" "Title" "B" "Question:" "q?"
    titles_only = 9 + MESSAGE_OVERHEAD
    messages = build_messages("q?", long_sources, [], [], count_tokens=words, budget=system + titles_only + 35)
    content = messages[-1]["content"]
    assert content == (
        "Context:\n[1] Title A\n"
        + " ".join(f"a{i}" for i in range(30))
        + "\n\n[2] Title B\n"
        + " ".join(f"b{i}" for i in range(5))
        + "\n\nQuestion: q?"
    )
    squeezed = build_messages("q?", long_sources, [], [], count_tokens=words, budget=system + titles_only)
    assert squeezed[-1]["content"] == "Context:\n[1] Title A\n\n[2] Title B\n\nQuestion: q?"
    with pytest.raises(ValueError, match="budget"):
        build_messages("q?", long_sources, [], [], count_tokens=words, budget=system + titles_only - 1)


def test_history_never_starts_with_an_assistant_message() -> None:
    history = [
        {"role": "user", "content": "one two three four five six"},
        {"role": "assistant", "content": "ok"},
    ]
    system = words(SYSTEM_PROMPT) + MESSAGE_OVERHEAD
    final = words("Context:\n\n\nQuestion: q?") + MESSAGE_OVERHEAD
    # Room for the assistant reply alone but not the question before it: nothing is kept.
    messages = build_messages("q?", [], history, [], count_tokens=words, budget=system + final + 1 + MESSAGE_OVERHEAD)
    assert [m["role"] for m in messages] == ["system", "user"]
