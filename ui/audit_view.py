"""The dashboard's "Audit log" tab (engineers only): the latest staff actions, newest first."""

# No `from __future__ import annotations` here: Gradio finds gr.Request parameters by evaluating the handlers'
# annotations, which must therefore be real objects.

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chatbot.app_services import AppDatabase
from chatbot.audit import event_rows
from chatbot.db import crud

if TYPE_CHECKING:
    import gradio as gr

AUDIT_COLUMNS = ["when (UTC)", "who", "role", "action", "target", "detail", "from"]
AUDIT_ROWS = 200


def load_audit_rows(app: AppDatabase, limit: int = AUDIT_ROWS) -> list[list[Any]]:
    with app.session() as session:
        return event_rows(crud.latest_audit_events(session=session, limit=limit))


def build_audit_tab(page: "gr.Blocks", app: AppDatabase, who: Callable[..., Any]) -> None:
    """Add the tab inside ``page`` (call within its ``with`` block); ``who(request)`` refuses non-engineers."""
    import gradio as gr

    def show(request: gr.Request) -> list[list[Any]]:
        who(request)
        return load_audit_rows(app)

    with gr.Tab("Audit log"):
        gr.Markdown(
            f"The latest {AUDIT_ROWS} staff actions: logins (including failures and lockouts), reviews, promotions, "
            "rollbacks and account changes. Address *cli* means the command line."
        )
        table = gr.Dataframe(headers=AUDIT_COLUMNS, interactive=False, wrap=True, elem_id="audit-log")
        refresh = gr.Button("Refresh the audit log", size="sm", elem_id="audit-refresh")
    page.load(show, None, table)
    refresh.click(show, None, table)
