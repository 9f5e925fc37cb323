"""Reviewer page (login: reviewer or engineer): the priority queue, one turn in detail, four one-click verdicts.

A reviewer never sees other reviewers' verdicts and never gets a turn they already reviewed; after each action the
next turn of the queue loads at once.
"""

# No `from __future__ import annotations` here: Gradio finds gr.Request / gr.LikeData parameters by
# evaluating the handlers' annotations, which must therefore be real objects.

import html
import uuid
from datetime import date
from typing import TYPE_CHECKING, Any

from chatbot import audit
from chatbot.db import crud
from chatbot.db.models import Role, Turn, Verdict
from chatbot.review_queue import (
    STATUS_CHOICES,
    THUMBS_CHOICES,
    QueueFilters,
    QueueItem,
    ReviewRejected,
    review_queue,
    submit_review,
)
from ui.auth import REVIEW_ROLES, AccessDenied, current_user
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


def build_review(app: Any) -> "gr.Blocks":
    import gradio as gr

    from retrieval.vector_store import article_titles

    def who(request: gr.Request) -> Any:
        try:
            return current_user(app, getattr(request, "username", None), REVIEW_ROLES)
        except AccessDenied as exc:
            raise gr.Error(str(exc)) from exc

    def load_queue(reviewer_id: uuid.UUID, filters: QueueFilters) -> list[QueueItem]:
        with app.session() as session:
            return review_queue(
                session,
                reviewer_id=reviewer_id,
                filters=filters,
                limit=QUEUE_LIMIT,
                spot_check_share=app.settings.spot_check_share,
            )

    def show(item: QueueItem | None) -> tuple[Any, ...]:
        """Outputs for the detail panel: turn id state, question, answer, confidence, passages, edit box, comment."""
        if item is None:
            empty = "_Nothing left in your queue with these filters — well done._"
            no_edit = gr.update(value="", interactive=False)
            return None, empty, "", "", "", no_edit, gr.update(value=None, interactive=False), ""
        with app.session() as session:
            turn = crud.get_turn(session=session, turn_id=item.turn_id)
        parts = render_turn(turn, item.reason)
        edit = gr.update(value=starting_edit(turn), interactive=True)
        # Choices are reloaded per turn: the knowledge base may have been re-ingested since the page opened.
        choices = article_options(article_titles(app.vector_store))
        known = {value for _, value in choices}
        start = starting_article(turn)
        pick = gr.update(choices=choices, value=start if start in known else None, interactive=True)
        return str(turn.id), parts["question"], parts["answer"], parts["confidence"], parts["passages"], edit, pick, ""

    def refresh(message: str, filters_in: list[Any], request: gr.Request) -> tuple[Any, ...]:
        user = who(request)
        try:
            filters = make_filters(*filters_in)
        except BadFilter as exc:
            raise gr.Error(str(exc)) from exc
        if user.role != Role.engineer and filters.status in SETTLED_STATUSES:
            raise gr.Error("Agreed and disputed turns are for engineers; reviewers work on the open queue.")
        items = load_queue(user.id, filters)
        header = f"Logged in as **{html.escape(user.username)}** ({user.role}) · [log out](/review/logout)"
        many = len(items) >= QUEUE_LIMIT
        counts = f"{len(items)}{'+' if many else ''} turn(s) waiting for you" + (" (first 50 shown)" if many else "")
        ids = [str(i.turn_id) for i in items]
        reasons = [i.reason for i in items]
        return (header, counts, queue_rows(items), ids, reasons, message, *show(items[0] if items else None))

    with gr.Blocks(title="Bramblecove Bank — review queue") as page:
        gr.Markdown("## Review queue")
        header = gr.Markdown("Loading…", elem_id="review-header")
        with gr.Accordion("Filters", open=False):
            with gr.Row():
                date_from = gr.Textbox(label="From (YYYY-MM-DD)", elem_id="filter-from")
                date_to = gr.Textbox(label="To (YYYY-MM-DD)", elem_id="filter-to")
                thumbs = gr.Dropdown(list(THUMBS_CHOICES), value="any", label="Thumbs", elem_id="filter-thumbs")
                status = gr.Dropdown(list(STATUS_CHOICES), value="open", label="Status", elem_id="filter-status")
            with gr.Row():
                min_c = gr.Slider(0, 1, value=0, step=0.05, label="Confidence from")
                max_c = gr.Slider(0, 1, value=1, step=0.05, label="Confidence to")
                article = gr.Textbox(label="Source article id", elem_id="filter-article")
            apply = gr.Button("Apply filters", elem_id="apply-filters")
        counts = gr.Markdown(elem_id="queue-count")
        table = gr.Dataframe(headers=QUEUE_COLUMNS, interactive=False, wrap=True, elem_id="queue", max_height=260)
        ids = gr.State([])
        reasons = gr.State([])
        turn_id = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                question_md = gr.Markdown(elem_id="turn-question")
                answer_md = gr.Markdown(elem_id="turn-answer")
                edit = gr.Textbox(label="Corrected answer (used by 'Correct')", lines=5, elem_id="edit-answer")
                article_pick = gr.Dropdown(
                    [],
                    label="Article the corrected answer cites as [1] (used by 'Correct')",
                    info="Pick the right article when the bot cited the wrong one: training and retrieval learn it.",
                    allow_custom_value=False,
                    elem_id="edit-article",
                )
                comment = gr.Textbox(label="Comment (optional)", elem_id="review-comment")
                with gr.Row():
                    approve = gr.Button("Approve", variant="primary", elem_id="btn-approve")
                    correct = gr.Button("Correct", elem_id="btn-correct")
                    reject = gr.Button("Reject", variant="stop", elem_id="btn-reject")
                    kb_gap = gr.Button("Knowledge-base gap", elem_id="btn-kb-gap")
                message = gr.Markdown(elem_id="review-message")
            with gr.Column(scale=2):
                confidence_md = gr.Markdown(elem_id="turn-confidence")
                gr.Markdown("**Retrieved passages**")
                passages_md = gr.Markdown(elem_id="turn-passages")

        filters_in = [date_from, date_to, min_c, max_c, thumbs, article, status]
        detail = [turn_id, question_md, answer_md, confidence_md, passages_md, edit, article_pick, comment]
        outputs = [header, counts, table, ids, reasons, message, *detail]

        # Gradio injects gr.Request by type hint, so the handlers spell out their inputs.
        def on_load(
            d_from: str, d_to: str, lo: float, hi: float, th: str, art: str, st: str, request: gr.Request
        ) -> tuple[Any, ...]:
            return refresh("", [d_from, d_to, lo, hi, th, art, st], request)

        def on_select(id_list: list[str], reason_list: list[str], evt: gr.SelectData, request: gr.Request) -> Any:
            who(request)
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            if not (0 <= row < len(id_list)):
                return show(None)
            with app.session() as session:
                turn = crud.get_turn(session=session, turn_id=uuid.UUID(id_list[row]))
                item = QueueItem(turn.id, "", "", 0.0, False, None, "", turn.created_at, (), reason_list[row])
            return show(item)

        def act(verdict: str) -> Any:
            def handler(
                current: str | None,
                edited: str,
                picked: str | None,
                note: str,
                d_from: str,
                d_to: str,
                lo: float,
                hi: float,
                th: str,
                art: str,
                st: str,
                request: gr.Request,
            ) -> tuple[Any, ...]:
                filter_values = [d_from, d_to, lo, hi, th, art, st]
                user = who(request)
                if not current:
                    raise gr.Error("No turn selected.")
                try:
                    with app.session() as session:
                        turn = submit_review(
                            session,
                            turn_id=uuid.UUID(current),
                            reviewer_id=user.id,
                            verdict=verdict,
                            corrected_answer=edited,
                            article_id=picked,
                            comment=note,
                            required=app.settings.review_consensus,
                            may_settle=user.role == Role.engineer,
                        )
                        status_now = turn.review_status
                except ReviewRejected as exc:
                    if verdict == Verdict.correct and "corrected answer" in str(exc):
                        raise gr.Error(str(exc)) from exc  # keep the page as it is: the reviewer fixes the box
                    # e.g. someone else's review just settled it: move on to the next turn
                    return refresh(f"Not saved: {html.escape(str(exc))}.", filter_values, request)
                audit.record_request(
                    app, request, user, "review_submitted", target=current, detail={"verdict": verdict}
                )
                flag = " — flagged for an engineer" if status_now == "disputed" else ""
                done = f"Saved **{verdict}** for the last turn (now {status_now}{flag}). Next one loaded."
                return refresh(done, filter_values, request)

            return handler

        page.load(on_load, filters_in, outputs)
        apply.click(on_load, filters_in, outputs)
        table.select(on_select, [ids, reasons], detail)
        for button, verdict in [(approve, Verdict.approve), (correct, Verdict.correct), (reject, Verdict.reject)]:
            button.click(act(verdict.value), [turn_id, edit, article_pick, comment, *filters_in], outputs)
        kb_gap.click(act(Verdict.kb_gap.value), [turn_id, edit, article_pick, comment, *filters_in], outputs)
    return page
