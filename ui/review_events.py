"""What the reviewer page does: load the queue, show a turn, save a verdict (ReviewHandlers), and which component
events call it (wire_review_events).

After each verdict the next turn of the queue loads at once; a verdict the queue no longer accepts (someone else's
review just settled the turn) moves on the same way.
"""

# No `from __future__ import annotations` here: Gradio finds gr.Request / gr.SelectData parameters by
# evaluating the handlers' annotations, which must therefore be real objects.

import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chatbot import audit
from chatbot.app_services import AppServices
from chatbot.db import crud
from chatbot.db.models import Role, Verdict
from chatbot.review_queue import QueueFilters, QueueItem, ReviewRejected, review_queue, submit_review
from retrieval.vector_store import article_titles
from ui.auth import REVIEW_ROLES, AccessDenied, current_user
from ui.review import (
    QUEUE_LIMIT,
    SETTLED_STATUSES,
    BadFilter,
    article_options,
    make_filters,
    queue_rows,
    render_turn,
    starting_article,
    starting_edit,
)
from ui.review_layout import ReviewPage

if TYPE_CHECKING:
    import gradio as gr


@dataclass
class VerdictEntry:
    """What the page holds when a verdict button is clicked: the selected turn and the answer editor's boxes."""

    turn_id: str | None
    corrected_answer: str
    article_id: str | None
    comment: str


class ReviewHandlers:
    """The page's logic for one app; Gradio's event plumbing stays in wire_review_events."""

    def __init__(self, app: AppServices) -> None:
        self.app = app

    def who(self, request: "gr.Request") -> Any:
        import gradio as gr

        try:
            return current_user(self.app, getattr(request, "username", None), REVIEW_ROLES)
        except AccessDenied as exc:
            raise gr.Error(str(exc)) from exc

    def load_queue(self, reviewer_id: uuid.UUID, filters: QueueFilters) -> list[QueueItem]:
        with self.app.session() as session:
            return review_queue(
                session,
                reviewer_id=reviewer_id,
                filters=filters,
                limit=QUEUE_LIMIT,
                spot_check_share=self.app.settings.spot_check_share,
            )

    def show(self, item: QueueItem | None) -> tuple[Any, ...]:
        """Outputs for the detail panel: turn id state, question, answer, confidence, passages, edit box, article
        picker, comment."""
        import gradio as gr

        if item is None:
            empty = "_Nothing left in your queue with these filters — well done._"
            no_edit = gr.update(value="", interactive=False)
            return None, empty, "", "", "", no_edit, gr.update(value=None, interactive=False), ""
        with self.app.session() as session:
            turn = crud.get_turn(session=session, turn_id=item.turn_id)
        parts = render_turn(turn, item.reason)
        edit = gr.update(value=starting_edit(turn), interactive=True)
        # Choices are reloaded per turn: the knowledge base may have been re-ingested since the page opened.
        choices = article_options(article_titles(self.app.vector_store))
        known = {value for _, value in choices}
        start = starting_article(turn)
        pick = gr.update(choices=choices, value=start if start in known else None, interactive=True)
        return str(turn.id), parts["question"], parts["answer"], parts["confidence"], parts["passages"], edit, pick, ""

    def refresh(self, message: str, filters_in: list[Any], request: "gr.Request") -> tuple[Any, ...]:
        """Outputs for the whole page (ui.review_layout.ReviewPage.outputs): the queue, ``message``, its first turn."""
        import gradio as gr

        user = self.who(request)
        try:
            filters = make_filters(*filters_in)
        except BadFilter as exc:
            raise gr.Error(str(exc)) from exc
        if user.role != Role.engineer and filters.status in SETTLED_STATUSES:
            raise gr.Error("Agreed and disputed turns are for engineers; reviewers work on the open queue.")
        items = self.load_queue(user.id, filters)
        header = f"Logged in as **{html.escape(user.username)}** ({user.role}) · [log out](/review/logout)"
        many = len(items) >= QUEUE_LIMIT
        counts = f"{len(items)}{'+' if many else ''} turn(s) waiting for you" + (" (first 50 shown)" if many else "")
        ids = [str(i.turn_id) for i in items]
        reasons = [i.reason for i in items]
        return (header, counts, queue_rows(items), ids, reasons, message, *self.show(items[0] if items else None))

    def select(self, id_list: list[str], reason_list: list[str], evt: "gr.SelectData", request: "gr.Request") -> Any:
        """The detail panel for the queue row the reviewer clicked."""
        self.who(request)
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not (0 <= row < len(id_list)):
            return self.show(None)
        with self.app.session() as session:
            turn = crud.get_turn(session=session, turn_id=uuid.UUID(id_list[row]))
            item = QueueItem(turn.id, "", "", 0.0, False, None, "", turn.created_at, (), reason_list[row])
        return self.show(item)

    def submit(
        self, verdict: str, entry: VerdictEntry, filter_values: list[Any], request: "gr.Request"
    ) -> tuple[Any, ...]:
        """Save ``verdict`` with what the editor holds; returns the page with the next turn loaded."""
        import gradio as gr

        app = self.app
        current = entry.turn_id
        user = self.who(request)
        if not current:
            raise gr.Error("No turn selected.")
        try:
            with app.session() as session:
                turn = submit_review(
                    session,
                    turn_id=uuid.UUID(current),
                    reviewer_id=user.id,
                    verdict=verdict,
                    corrected_answer=entry.corrected_answer,
                    article_id=entry.article_id,
                    comment=entry.comment,
                    required=app.settings.review_consensus,
                    may_settle=user.role == Role.engineer,
                )
                status_now = turn.review_status
        except ReviewRejected as exc:
            if verdict == Verdict.correct and "corrected answer" in str(exc):
                raise gr.Error(str(exc)) from exc  # keep the page as it is: the reviewer fixes the box
            # e.g. someone else's review just settled it: move on to the next turn
            return self.refresh(f"Not saved: {html.escape(str(exc))}.", filter_values, request)
        audit.record_request(app, request, user, "review_submitted", target=current, detail={"verdict": verdict})
        flag = " — flagged for an engineer" if status_now == "disputed" else ""
        done = f"Saved **{verdict}** for the last turn (now {status_now}{flag}). Next one loaded."
        return self.refresh(done, filter_values, request)


def wire_review_events(page: "gr.Blocks", parts: ReviewPage, handlers: ReviewHandlers) -> None:
    """Page load and 'Apply filters' reload the queue; a row click shows its turn; the buttons save verdicts."""
    import gradio as gr

    filters_in = parts.filters.inputs()
    outputs = parts.outputs()

    # Gradio injects gr.Request by type hint, so the handlers spell out their inputs.
    def on_load(
        d_from: str, d_to: str, lo: float, hi: float, th: str, art: str, st: str, request: gr.Request
    ) -> tuple[Any, ...]:
        return handlers.refresh("", [d_from, d_to, lo, hi, th, art, st], request)

    def on_select(id_list: list[str], reason_list: list[str], evt: gr.SelectData, request: gr.Request) -> Any:
        return handlers.select(id_list, reason_list, evt, request)

    page.load(on_load, filters_in, outputs)
    parts.filters.apply.click(on_load, filters_in, outputs)
    parts.queue.table.select(on_select, [parts.queue.ids, parts.queue.reasons], parts.turn.detail())
    editor, verdicts = parts.turn.editor, parts.turn.verdicts
    verdict_inputs = [parts.turn.turn_id, editor.edit, editor.article_pick, editor.comment, *filters_in]
    for button, verdict in [
        (verdicts.approve, Verdict.approve),
        (verdicts.correct, Verdict.correct),
        (verdicts.reject, Verdict.reject),
    ]:
        button.click(verdict_handler(handlers, verdict.value), verdict_inputs, outputs)
    verdicts.kb_gap.click(verdict_handler(handlers, Verdict.kb_gap.value), verdict_inputs, outputs)


def verdict_handler(handlers: ReviewHandlers, verdict: str) -> Callable[..., tuple[Any, ...]]:
    """The click handler of one verdict button."""
    import gradio as gr

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
        entry = VerdictEntry(turn_id=current, corrected_answer=edited, article_id=picked, comment=note)
        return handlers.submit(verdict, entry, filter_values, request)

    return handler
