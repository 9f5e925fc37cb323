"""Reviewer page (login: reviewer or engineer): the priority queue, one turn in detail, four one-click verdicts.

A reviewer never sees other reviewers' verdicts and never gets a turn they already reviewed; after each action the
next turn of the queue loads at once.
"""

import html
from datetime import date
from typing import TYPE_CHECKING, Any

from chatbot.app_services import AppServices
from chatbot.db.models import Turn
from chatbot.review_queue import QueueFilters, QueueItem
from ui.text import answer_markdown, one_line

if TYPE_CHECKING:
    import gradio as gr

QUEUE_LIMIT = 50
QUEUE_COLUMNS = ["#", "why here", "conf.", "thumbs", "status", "question", "asked (UTC)"]
SETTLED_STATUSES = {"disputed", "agreed", "all"}  # status filters only engineers may use
THUMBS_LABEL = {1: "up", -1: "down", None: ""}


class BadFilter(ValueError):
    pass


def parse_day(text: str | None, what: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadFilter(f"{what} must look like 2026-03-01, not {text!r}") from exc


def make_filters(
    date_from: str | None,
    date_to: str | None,
    min_c: float,
    max_c: float,
    thumbs: str,
    article: str | None,
    status: str,
) -> QueueFilters:
    try:
        return QueueFilters(
            date_from=parse_day(date_from, "'from'"),
            date_to=parse_day(date_to, "'to'"),
            min_confidence=float(min_c),
            max_confidence=float(max_c),
            thumbs=thumbs or "any",
            article_id=(article or "").strip() or None,
            status=status or "open",
        )
    except ValueError as exc:
        raise BadFilter(str(exc)) from exc


def queue_rows(items: list[QueueItem]) -> list[list[Any]]:
    return [
        [
            n,
            item.reason,
            round(item.confidence, 3),
            THUMBS_LABEL.get(item.feedback_rating, ""),
            item.review_status,
            item.question[:120],
            f"{item.created_at:%Y-%m-%d %H:%M}",
        ]
        for n, item in enumerate(items, start=1)
    ]


def render_turn(turn: Turn, reason: str) -> dict[str, str]:
    """The selected turn as Markdown pieces: what the customer asked, what the bot saw and said, and how sure it was."""
    esc = html.escape
    asked = f"{turn.created_at:%Y-%m-%d %H:%M} UTC"
    question = f"**Why it is in the queue:** {esc(reason)}\n\n**Question** ({asked})\n\n> {esc(turn.question)}"
    # A stored would-be answer means the model's answer was withheld: a hand-off, or the article's passage instead.
    shown = "handed off to an agent" if turn.abstained else "answered"
    if not turn.abstained and turn.would_be_answer:
        shown = "the article's passage: the model's answer failed its checks"
    answer = f"**Answer shown to the customer** ({shown})\n\n{answer_markdown(turn.answer)}"
    if turn.would_be_answer:
        answer += f"\n\n**What the model would have said**\n\n{answer_markdown(turn.would_be_answer)}"
    components = "".join(f"| {esc(k)} | {v:.3f} |\n" for k, v in sorted((turn.confidence_components or {}).items()))
    confidence = f"**Confidence {turn.confidence:.3f}**"
    if components:
        confidence += "\n\n| component | value |\n|---|---|\n" + components
    passages = []
    for n, source in enumerate(turn.sources or [], start=1):
        passages.append(
            f"**{n}. {esc(str(source.get('title', '')))}** `{esc(str(source.get('id', '')))}` "
            f"score {float(source.get('score', 0.0)):.3f}\n\n> {esc(one_line(str(source.get('text', ''))))}"
        )
    return {
        "question": question,
        "answer": answer,
        "confidence": confidence,
        "passages": "\n\n".join(passages) or "_No passages were retrieved._",
    }


def starting_edit(turn: Turn) -> str:
    """What the correction box starts with: the answer, or the answer the model had drafted when it was withheld
    (a hand-off or a passage answer)."""
    return turn.would_be_answer or turn.answer


def starting_article(turn: Turn) -> str | None:
    """What the article picker starts with: the article the answer cited, else the top retrieved one."""
    cited = list((turn.meta or {}).get("cited") or [])
    if cited:
        return str(cited[0])
    sources = turn.sources or []
    return str(sources[0].get("id")) if sources and sources[0].get("id") else None


def article_options(titles: dict[str, str]) -> list[tuple[str, str]]:
    """(label, article id) pairs for the picker, by title."""
    return sorted(
        ((f"{title} ({article_id})", article_id) for article_id, title in titles.items()),
        key=lambda option: option[0].lower(),
    )


def build_review(app: AppServices) -> "gr.Blocks":
    """The page: components from ui.review_layout, what they do from ui.review_events."""
    import gradio as gr

    # Imported here: both modules import this one's helpers.
    from ui.review_events import ReviewHandlers, wire_review_events
    from ui.review_layout import build_review_layout

    with gr.Blocks(title="Bramblecove Bank — review queue") as page:
        parts = build_review_layout()
        wire_review_events(page, parts, ReviewHandlers(app))
    return page
