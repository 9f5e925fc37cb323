"""Customer chat page (no login): checked answers only, sources under each answer, thumbs with an optional comment.

While the bot writes and checks an answer the customer sees a typing indicator, never the model's raw text: the
confidence, redaction and refusal checks run on the whole answer, and only the answer that passed them is shown.
"""

# No `from __future__ import annotations` here: Gradio finds gr.Request / gr.LikeData parameters by
# evaluating the handlers' annotations, which must therefore be real objects.

import html
import logging
import re
import uuid
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from chatbot import review_store
from chatbot.app_services import AppDatabase, AppServices
from chatbot.db import crud
from chatbot.errors import BankbotError
from chatbot.passage_answer import ARTICLE_PATH
from chatbot.protocols import ChatAnswer
from ui.text import answer_markdown, one_line

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger(__name__)

SNIPPET_CHARS = 280
TYPING_INDICATOR = "_Checking the answer…_"
SOMETHING_WENT_WRONG = "Sorry — something went wrong on our side. Please try again."
_ARTICLE_LINK = re.compile(re.escape(ARTICLE_PATH.split("{")[0]) + r"[a-z0-9_]+$")
WELCOME = (
    "## Bramblecove Bank — support chat\n"
    "Ask about cards, transfers, top-ups, fees or your account. Answers come from our help articles, listed under "
    "each answer. Rate each answer with the thumbs under it — it helps us improve.\n"
    "Never type your full card number or PIN."
)


NOT_OFFERED = "Please pick one of the articles offered under the last answer, or ask your question again."


def new_state() -> dict[str, Any]:
    """Per-browser-tab chat state: the conversation, the shown messages, which message is which turn, and the
    articles the last hand-off offered (``offered``: the question and {article id: title})."""
    return {"conversation_id": None, "messages": [], "history": [], "turns": {}, "last_rated": None, "offered": None}


def render_sources(answer: ChatAnswer) -> str:
    """The answer's sources as a collapsed HTML block (Gradio's chatbot keeps <details> through sanitizing)."""
    if not answer.sources:
        return ""
    label = "Articles we looked at" if answer.abstained else "Sources"
    items = []
    for source in answer.sources:
        snippet = one_line(source.text, SNIPPET_CHARS)
        items.append(
            f"<li><b>{html.escape(source.title)}</b> <code>{html.escape(source.article_id)}</code> "
            f"relevance {source.score:.2f}<br>{html.escape(snippet)}</li>"
        )
    return f'\n\n<details class="sources"><summary>{label} ({len(items)})</summary><ul>{"".join(items)}</ul></details>'


def render_answer(answer: ChatAnswer) -> str:
    text = answer_markdown(answer.answer)
    if answer.answer_kind == "passage":  # the article's address at the end becomes a link to the article page
        text = _ARTICLE_LINK.sub(lambda m: f"[{m.group(0)}]({m.group(0)})", text)
    return text + render_sources(answer)


def stream_reply(app: AppServices, question: str, state: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
    """Run one question through the pipeline, yielding a snapshot of the state: the question with a typing
    indicator, then the checked answer (nothing the model wrote is shown before its checks passed)."""
    state = {**state, "messages": list(state["messages"]), "turns": dict(state["turns"])}

    def snapshot() -> dict[str, Any]:
        return {**state, "messages": list(state["messages"])}

    question = question.strip()
    if not question:
        yield snapshot()
        return
    state["offered"] = None  # a new question: the last hand-off's suggestions no longer apply
    messages = state["messages"]
    # A lone surrogate cannot travel back to the browser as JSON; the pipeline refuses the original question below.
    shown = question.encode("utf-8", "replace").decode("utf-8")
    messages.append({"role": "user", "content": shown})
    messages.append({"role": "assistant", "content": TYPING_INDICATOR})
    yield snapshot()
    conversation_id = uuid.UUID(state["conversation_id"]) if state["conversation_id"] else None
    final: ChatAnswer | None = None
    stream = app.pipeline.stream(question, conversation_id=conversation_id, history=state["history"])
    try:
        for item in stream:
            if isinstance(item, ChatAnswer):  # the only thing with text: markers just keep the indicator up
                final = item
            else:
                # The question is accepted. A client that leaves now closes this generator, which closes the
                # stream (below), and the pipeline still answers and logs the turn.
                yield snapshot()
    except Exception as exc:
        messages[-1] = {"role": "assistant", "content": _apology(exc)}
        yield snapshot()
        return
    finally:
        stream.close()
    if final is None:
        messages[-1] = {"role": "assistant", "content": SOMETHING_WENT_WRONG}
        yield snapshot()
        return
    _show_answer(state, question, final)
    yield snapshot()


def _apology(exc: Exception) -> str:
    """What the customer reads when their question could not be answered: the reason when it is theirs to act on
    (a BankbotError: invalid question, busy), else a generic line (the error is logged)."""
    if isinstance(exc, BankbotError):
        return f"Sorry — {exc}"
    log.error("chat pipeline failed", exc_info=exc)
    return SOMETHING_WENT_WRONG


def _show_answer(state: dict[str, Any], question: str, final: ChatAnswer) -> None:
    """Put the checked answer in place of the typing indicator, with the hand-off's suggested articles as the
    message's options, buttons under it (the customer clicks one: ``choose_article``)."""
    messages = state["messages"]
    message: dict[str, Any] = {"role": "assistant", "content": render_answer(final)}
    if final.suggestions:
        message["options"] = [{"label": s.title, "value": s.article_id} for s in final.suggestions]
        state["offered"] = {"question": question, "articles": {s.article_id: s.title for s in final.suggestions}}
    messages[-1] = message
    state["turns"][str(len(messages) - 1)] = str(final.turn_id)
    state["conversation_id"] = str(final.conversation_id)
    state["history"] = [
        *state["history"],
        {"role": "user", "content": question},
        {"role": "assistant", "content": final.answer},
    ]


def choose_article(app: AppServices, article_id: str, state: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
    """The customer clicked one of the last hand-off's suggested articles: their choice as their message, then the
    answer from that article (``ChatPipeline.answer_chosen_article`` screens the question again)."""
    state = {**state, "messages": list(state["messages"]), "turns": dict(state["turns"])}
    offered = state.get("offered") or {}
    title = (offered.get("articles") or {}).get(article_id)
    if title is None:
        state["messages"].append({"role": "assistant", "content": NOT_OFFERED})
        yield state
        return
    state["messages"].append({"role": "user", "content": title})
    state["messages"].append({"role": "assistant", "content": TYPING_INDICATOR})
    yield {**state, "messages": list(state["messages"])}
    conversation_id = uuid.UUID(state["conversation_id"]) if state["conversation_id"] else None
    try:
        final = app.pipeline.answer_chosen_article(offered["question"], article_id, conversation_id=conversation_id)
    except Exception as exc:
        state["messages"][-1] = {"role": "assistant", "content": _apology(exc)}
        yield state
        return
    _show_answer(state, title, final)
    yield state


def record_feedback(
    app: AppDatabase, state: dict[str, Any], index: Any, liked: Any, comment: str | None
) -> tuple[dict, str]:
    """Store (or clear) the thumbs for the message at `index`; returns the new state and a status line."""
    key = str(index[0] if isinstance(index, (list, tuple)) else index)
    turn_id = state["turns"].get(key)
    if turn_id is None:
        return state, "This message cannot be rated."
    comment = (comment or "").strip() or None
    try:
        with app.session() as session:
            if liked is True or liked is False:
                rating = 1 if liked else -1
                review_store.set_feedback(session=session, turn_id=uuid.UUID(turn_id), rating=rating, comment=comment)
                state = {**state, "last_rated": [turn_id, rating]}
                more = "" if comment else " You can add a comment below."
                return state, "Thanks — your feedback is saved." + more
            review_store.clear_feedback(session=session, turn_id=uuid.UUID(turn_id))
    except crud.NotFound:
        # The turn was spooled (database briefly unavailable) and is not in the table yet.
        return state, "Sorry — we could not save your rating just now. Please try again in a minute."
    return {**state, "last_rated": None}, "Your rating was removed."


def record_comment(app: AppDatabase, state: dict[str, Any], comment: str | None) -> str:
    comment = (comment or "").strip()
    if not state.get("last_rated"):
        return "Rate an answer with a thumb first, then add your comment."
    if not comment:
        return "Type a comment first."
    turn_id, rating = state["last_rated"]
    with app.session() as session:
        review_store.set_feedback(session=session, turn_id=uuid.UUID(turn_id), rating=rating, comment=comment)
    return "Thanks — your comment is saved."


def build_chat(app: AppServices) -> "gr.Blocks":
    import gradio as gr

    with gr.Blocks(title="Bramblecove Bank — support chat") as page:
        gr.Markdown(WELCOME)
        state = gr.State(new_state())
        chatbot = gr.Chatbot(label="Support chat", height=560, feedback_options=("Like", "Dislike"), elem_id="chat")
        with gr.Row():
            question = gr.Textbox(
                placeholder="Type your question and press Enter", show_label=False, scale=8, elem_id="question"
            )
            send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
        with gr.Row():
            comment = gr.Textbox(
                placeholder="Optional: tell us what was wrong or right with the answer you rated",
                show_label=False,
                scale=8,
                elem_id="feedback-comment",
            )
            comment_btn = gr.Button("Send comment", scale=1, elem_id="send-comment")
        status = gr.Markdown("", elem_id="feedback-status")
        new = gr.Button("New conversation", elem_id="new-conversation")

        def respond(text: str, current: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
            for updated in stream_reply(app, text, current):
                yield "", updated["messages"], updated, ""

        def on_like(current: dict[str, Any], text: str, data: gr.LikeData) -> tuple[Any, ...]:
            updated, message = record_feedback(app, current, data.index, data.liked, text)
            return updated, message, "" if updated.get("last_rated") and (text or "").strip() else gr.update()

        def on_comment(current: dict[str, Any], text: str) -> tuple[str, Any]:
            message = record_comment(app, current, text)
            return message, "" if message.startswith("Thanks") else gr.update()

        def on_option(current: dict[str, Any], data: gr.SelectData) -> Iterator[tuple[Any, ...]]:
            for updated in choose_article(app, str(data.value), current):
                yield "", updated["messages"], updated, ""

        def reset() -> tuple[Any, ...]:
            fresh = new_state()
            return fresh, [], "", "", ""

        outputs = [question, chatbot, state, status]
        # Gradio runs one event of a kind at a time by default; the engine bounds the model work itself (in-process
        # llama.cpp answers one chat at a time behind its lock), so guard, retrieval and checks run side by side.
        limit: dict[str, Any] = {"concurrency_limit": app.settings.max_concurrent_chats, "concurrency_id": "chat"}
        question.submit(respond, [question, state], outputs, **limit)
        send.click(respond, [question, state], outputs, **limit)
        chatbot.option_select(on_option, [state], outputs, **limit)
        chatbot.like(on_like, [state, comment], [state, status, comment])
        comment_btn.click(on_comment, [state, comment], [status, comment])
        new.click(reset, None, [state, chatbot, question, comment, status])
        chatbot.clear(reset, None, [state, chatbot, question, comment, status])
    # A bounded queue: beyond chat_queue_size waiting events Gradio answers 503 (ui/limits.py adds Retry-After)
    # instead of holding every flood request in memory. Thumbs and comments are short database writes: let them run
    # side by side rather than one at a time (Gradio's default).
    return page.queue(
        max_size=app.settings.chat_queue_size, default_concurrency_limit=app.settings.max_concurrent_chats
    )
