"""The engineer dashboard's components, one builder per section: the overview with its charts, the review tables
(per day, knowledge-base gaps, disputed turns) and the models tab with promote/rollback.

Call the builders inside the page's ``gr.Blocks``; ui.dashboard fills and wires the components they return.
"""

from dataclasses import dataclass
from typing import Any

MODEL_COLUMNS = [
    "version",
    "status",
    "base model",
    "created",
    "eval metrics",
    "decision",
    "promoted by",
    "abstain below",
    "embedder",
]


@dataclass
class OverviewPanel:
    header: Any
    serving: Any
    summary: Any
    reload_btn: Any
    turns_plot: Any
    rate_plot: Any
    hist_plot: Any
    acc_plot: Any


@dataclass
class ReviewTables:
    per_day: Any
    gaps: Any
    disputed: Any


@dataclass
class RegistryPanel:
    models: Any
    evals: Any
    version: Any
    sure: Any
    promote: Any
    rollback: Any
    action_msg: Any


@dataclass
class DashboardPage:
    overview: OverviewPanel
    tables: ReviewTables
    registry: RegistryPanel

    def outputs(self) -> list[Any]:
        """What ui.dashboard.dashboard_values fills, in its order."""
        o, t, r = self.overview, self.tables, self.registry
        charts = [o.turns_plot, o.rate_plot, o.hist_plot, o.acc_plot]
        return [o.header, o.serving, o.summary, *charts, t.per_day, t.gaps, t.disputed, r.models, r.evals, r.version]


def build_dashboard_layout() -> DashboardPage:
    import gradio as gr

    gr.Markdown("## Engineer dashboard")
    overview = overview_panel()
    tables = review_tables()
    return DashboardPage(overview=overview, tables=tables, registry=registry_tab())


def overview_panel() -> OverviewPanel:
    """The header, what is being served, the summary line and the four charts."""
    import gradio as gr

    header = gr.Markdown("Loading…", elem_id="dashboard-header")
    serving = gr.Markdown(elem_id="dashboard-serving")
    summary = gr.Markdown(elem_id="dashboard-summary")
    reload_btn = gr.Button("Refresh", size="sm")
    with gr.Row():
        # bars rather than lines, and fixed lower limits: a single day must still show something
        turns_plot = gr.BarPlot(x="day", y="turns", title="Turns per day", y_lim=[0, None], height=240)
        rate_plot = gr.BarPlot(x="day", y="thumbs-up rate", title="Thumbs-up rate per day", y_lim=[0, 1], height=240)
    with gr.Row():
        hist_plot = gr.BarPlot(x="confidence", y="turns", title="Confidence histogram", sort=None, height=240)
        acc_plot = gr.BarPlot(
            x="confidence", y="accuracy", title="Reviewed accuracy by confidence", y_lim=[0, 1], height=240
        )
    return OverviewPanel(header, serving, summary, reload_btn, turns_plot, rate_plot, hist_plot, acc_plot)


def review_tables() -> ReviewTables:
    """The per-day, knowledge-base gap and disputed-turn tabs."""
    import gradio as gr

    with gr.Tab("Per day"):
        per_day = gr.Dataframe(
            headers=["day", "turns", "thumbs-up", "thumbs-down", "up rate"], interactive=False, elem_id="per-day"
        )
    with gr.Tab("Knowledge-base gaps"):
        gaps = gr.Dataframe(headers=["day", "question", "top source", "confidence"], interactive=False, wrap=True)
    with gr.Tab("Disputed turns"):
        gr.Markdown("Settle a dispute with one more review: open /review and set the status filter to *disputed*.")
        disputed = gr.Dataframe(
            headers=["day", "question", "answer", "verdicts", "turn id"], interactive=False, wrap=True
        )
    return ReviewTables(per_day=per_day, gaps=gaps, disputed=disputed)


def registry_tab() -> RegistryPanel:
    """The models tab: bundles, eval runs, and promote/rollback behind an 'I am sure' box."""
    import gradio as gr

    with gr.Tab("Models"):
        models = gr.Dataframe(headers=MODEL_COLUMNS, interactive=False, wrap=True, elem_id="models")
        evals = gr.Dataframe(headers=["when", "suite", "model", "metrics"], interactive=False, wrap=True)
        with gr.Row():
            version = gr.Dropdown(choices=[], label="Model version", elem_id="model-version")
            sure = gr.Checkbox(label="I am sure (changes the model customers talk to)", elem_id="confirm")
            promote = gr.Button("Promote to production", variant="primary", elem_id="btn-promote")
            rollback = gr.Button("Roll back to previous", variant="stop", elem_id="btn-rollback")
        action_msg = gr.Markdown(elem_id="registry-message")
    return RegistryPanel(models, evals, version, sure, promote, rollback, action_msg)
