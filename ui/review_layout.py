"""The reviewer page's components, one builder per section: the queue filters, the queue table, the selected turn
with its answer editor and verdict buttons, and the evidence column.

Call the builders inside the page's ``gr.Blocks``; they return the components that ui.review_events wires up.
"""

from dataclasses import dataclass
from typing import Any

from chatbot.review_queue import STATUS_CHOICES, THUMBS_CHOICES
from ui.review import QUEUE_COLUMNS


@dataclass
class QueueFilterControls:
    date_from: Any
    date_to: Any
    min_c: Any
    max_c: Any
    thumbs: Any
    article: Any
    status: Any
    apply: Any

    def inputs(self) -> list[Any]:
        """In the order ui.review.make_filters takes them."""
        return [self.date_from, self.date_to, self.min_c, self.max_c, self.thumbs, self.article, self.status]


@dataclass
class QueuePanel:
    header: Any
    counts: Any
    table: Any
    ids: Any  # state: the turn ids of the table's rows
    reasons: Any  # state: why each row is in the queue


@dataclass
class AnswerEditor:
    edit: Any
    article_pick: Any
    comment: Any


@dataclass
class VerdictButtons:
    approve: Any
    correct: Any
    reject: Any
    kb_gap: Any


@dataclass
class TurnPanel:
    turn_id: Any  # state: the selected turn's id
    question_md: Any
    answer_md: Any
    editor: AnswerEditor
    verdicts: VerdictButtons
    message: Any
    confidence_md: Any
    passages_md: Any

    def detail(self) -> list[Any]:
        """What ui.review_events.ReviewHandlers.show fills, in its order."""
        editor = self.editor
        return [
            self.turn_id,
            self.question_md,
            self.answer_md,
            self.confidence_md,
            self.passages_md,
            editor.edit,
            editor.article_pick,
            editor.comment,
        ]


@dataclass
class ReviewPage:
    filters: QueueFilterControls
    queue: QueuePanel
    turn: TurnPanel

    def outputs(self) -> list[Any]:
        """What ui.review_events.ReviewHandlers.refresh fills, in its order."""
        queue = self.queue
        return [
            queue.header,
            queue.counts,
            queue.table,
            queue.ids,
            queue.reasons,
            self.turn.message,
            *self.turn.detail(),
        ]


def build_review_layout() -> ReviewPage:
    import gradio as gr

    gr.Markdown("## Review queue")
    header = gr.Markdown("Loading…", elem_id="review-header")
    filters = filters_panel()
    queue = queue_panel(header)
    return ReviewPage(filters=filters, queue=queue, turn=turn_panel())


def filters_panel() -> QueueFilterControls:
    import gradio as gr

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
    return QueueFilterControls(date_from, date_to, min_c, max_c, thumbs, article, status, apply)


def queue_panel(header: Any) -> QueuePanel:
    import gradio as gr

    counts = gr.Markdown(elem_id="queue-count")
    table = gr.Dataframe(headers=QUEUE_COLUMNS, interactive=False, wrap=True, elem_id="queue", max_height=260)
    return QueuePanel(header=header, counts=counts, table=table, ids=gr.State([]), reasons=gr.State([]))


def turn_panel() -> TurnPanel:
    """The selected turn: question, answer, editor and verdicts on the left; confidence and passages on the right."""
    import gradio as gr

    turn_id = gr.State(None)
    with gr.Row():
        with gr.Column(scale=3):
            question_md = gr.Markdown(elem_id="turn-question")
            answer_md = gr.Markdown(elem_id="turn-answer")
            editor = answer_editor()
            verdicts = verdict_buttons()
            message = gr.Markdown(elem_id="review-message")
        with gr.Column(scale=2):
            confidence_md = gr.Markdown(elem_id="turn-confidence")
            gr.Markdown("**Retrieved passages**")
            passages_md = gr.Markdown(elem_id="turn-passages")
    return TurnPanel(turn_id, question_md, answer_md, editor, verdicts, message, confidence_md, passages_md)


def answer_editor() -> AnswerEditor:
    import gradio as gr

    edit = gr.Textbox(label="Corrected answer (used by 'Correct')", lines=5, elem_id="edit-answer")
    article_pick = gr.Dropdown(
        [],
        label="Article the corrected answer cites as [1] (used by 'Correct')",
        info="Pick the right article when the bot cited the wrong one: training and retrieval learn it.",
        allow_custom_value=False,
        elem_id="edit-article",
    )
    comment = gr.Textbox(label="Comment (optional)", elem_id="review-comment")
    return AnswerEditor(edit=edit, article_pick=article_pick, comment=comment)


def verdict_buttons() -> VerdictButtons:
    import gradio as gr

    with gr.Row():
        approve = gr.Button("Approve", variant="primary", elem_id="btn-approve")
        correct = gr.Button("Correct", elem_id="btn-correct")
        reject = gr.Button("Reject", variant="stop", elem_id="btn-reject")
        kb_gap = gr.Button("Knowledge-base gap", elem_id="btn-kb-gap")
    return VerdictButtons(approve=approve, correct=correct, reject=reject, kb_gap=kb_gap)
