"""Engineer dashboard (login: engineer): the production bundle with its abstention threshold, coverage and
estimated risk; traffic and thumbs, confidence, accuracy by confidence, reviewer agreement, knowledge-base gaps,
disputed turns, bundles with their evals, and guarded promote/rollback.

The numbers come from ui.stats (pure); this module only reads rows and lays them out.
"""

# No `from __future__ import annotations` here: Gradio finds gr.Request / gr.LikeData parameters by
# evaluating the handlers' annotations, which must therefore be real objects.

import html
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from chatbot import audit
from chatbot.app_services import AppDatabase, AppServices
from chatbot.db.models import EvalRun, Feedback, ModelVersion, Review, ReviewStatus, Turn, User, Verdict
from ui import stats
from ui.audit_view import build_audit_tab
from ui.auth import DASHBOARD_ROLES, AccessDenied, current_user
from ui.serving import ServingSummary, load_serving, serving_markdown, threshold_cell

if TYPE_CHECKING:
    import gradio as gr
    import pandas as pd

    from ui.dashboard_layout import DashboardPage

log = logging.getLogger(__name__)
TABLE_ROWS = 50


@dataclass
class DashboardData:
    days: list[stats.DayStat]
    histogram: list[stats.Bin]
    accuracy: list[stats.Bin]
    kappa: float | None
    kappa_items: int
    raters: int
    kb_gaps: list[list[Any]]
    disputed: list[list[Any]]
    models: list[list[Any]]
    evals: list[list[Any]]
    versions: list[str]
    serving: ServingSummary


def _metrics_summary(metrics: dict[str, Any] | None) -> str:
    numbers = {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return ", ".join(f"{k}={v:.3g}" for k, v in sorted(numbers.items())[:8])


def _top_source(turn: Turn) -> str:
    return str((turn.sources or [{}])[0].get("id", "")) if turn.sources else ""


def load_dashboard(
    session: Session,
    *,
    raters: int,
    configured_threshold: float | None = None,
    spot_check_share: float = 0.0,
    article_floor: float | None = None,
) -> DashboardData:
    turn_rows = session.exec(
        select(Turn.created_at, Turn.confidence, Feedback.rating).join(
            Feedback, col(Feedback.turn_id) == col(Turn.id), isouter=True
        )
    ).all()
    reviewed = session.exec(
        select(Turn.confidence, Turn.consensus_verdict).where(Turn.review_status == ReviewStatus.agreed)
    ).all()
    reviews = session.exec(select(Review.turn_id, Review.verdict).order_by(col(Review.created_at))).all()
    kappa, kappa_items = stats.reviewer_agreement(list(reviews), raters=raters)

    gap_turns = _newest_turns(session, Turn.consensus_verdict == Verdict.kb_gap)
    kb_gaps = [[f"{t.created_at:%Y-%m-%d}", t.question, _top_source(t), round(t.confidence, 3)] for t in gap_turns]

    disputed = _disputed_rows(session)

    versions = session.exec(select(ModelVersion).order_by(col(ModelVersion.created_at).desc())).all()
    models = [_model_row(v) for v in versions]
    runs = session.exec(select(EvalRun).order_by(col(EvalRun.created_at).desc()).limit(TABLE_ROWS)).all()
    evals = [[f"{r.created_at:%Y-%m-%d %H:%M}", r.suite, r.model_label, _metrics_summary(r.metrics)] for r in runs]
    return DashboardData(
        days=stats.daily_stats((created.date(), rating) for created, _, rating in turn_rows),
        histogram=stats.confidence_histogram(confidence for _, confidence, _ in turn_rows),
        accuracy=stats.accuracy_by_confidence((confidence, verdict or "") for confidence, verdict in reviewed),
        kappa=kappa,
        kappa_items=kappa_items,
        raters=raters,
        kb_gaps=kb_gaps,
        disputed=disputed,
        models=models,
        evals=evals,
        versions=[v.version for v in versions],
        serving=load_serving(
            session,
            configured_threshold=configured_threshold,
            spot_check_share=spot_check_share,
            article_floor=article_floor,
        ),
    )


def _newest_turns(session: Session, condition: Any) -> Sequence[Turn]:
    """The newest turns meeting ``condition``, as many as a dashboard table shows."""
    return session.exec(select(Turn).where(condition).order_by(col(Turn.created_at).desc()).limit(TABLE_ROWS)).all()


def _disputed_rows(session: Session) -> list[list[str]]:
    """The newest disputed turns with who voted what."""
    disputed_turns = _newest_turns(session, Turn.review_status == ReviewStatus.disputed)
    disputed: list[list[str]] = []
    for t in disputed_turns:
        votes = session.exec(
            select(User.username, Review.verdict)
            .join(User, col(User.id) == col(Review.reviewer_id))
            .where(Review.turn_id == t.id)
        ).all()
        verdicts = "; ".join(f"{name}: {verdict}" for name, verdict in votes)
        disputed.append([f"{t.created_at:%Y-%m-%d}", t.question, t.answer[:200], verdicts, str(t.id)])
    return disputed


def _model_row(v: ModelVersion) -> list[str]:
    return [
        v.version,
        v.status,
        v.base_model,
        f"{v.created_at:%Y-%m-%d %H:%M}",
        _metrics_summary(v.eval_metrics),
        v.decision or "",
        v.promoted_by or "",
        threshold_cell(v),
        v.embedder_version or "configured",
    ]


def summary_markdown(data: DashboardData) -> str:
    turns = sum(d.turns for d in data.days)
    up = sum(d.thumbs_up for d in data.days)
    down = sum(d.thumbs_down for d in data.days)
    rate = f"{up / (up + down):.0%}" if up + down else "–"
    kappa_name = "Cohen's" if data.raters == 2 else "Fleiss'"
    kappa = f"{data.kappa:.2f}" if data.kappa is not None else "– (not enough overlapping reviews)"
    return (
        f"**{turns}** turns · **{up}** thumbs-up / **{down}** thumbs-down (up rate {rate}) · "
        f"reviewer agreement ({kappa_name} kappa over {data.kappa_items} turns): **{kappa}** · "
        f"**{len(data.kb_gaps)}** knowledge-base gaps · **{len(data.disputed)}** disputed turns"
    )


def frames(data: DashboardData) -> "dict[str, pd.DataFrame]":
    import pandas as pd

    days = pd.DataFrame(
        {
            "day": [d.day.isoformat() for d in data.days],
            "turns": [d.turns for d in data.days],
            "thumbs-up rate": [d.up_rate if d.up_rate is not None else float("nan") for d in data.days],
        }
    )
    hist = pd.DataFrame({"confidence": [b.label for b in data.histogram], "turns": [b.count for b in data.histogram]})
    acc = pd.DataFrame(
        {
            "confidence": [b.label for b in data.accuracy],
            "accuracy": [b.accuracy if b.accuracy is not None else 0.0 for b in data.accuracy],
            "reviewed turns": [b.count for b in data.accuracy],
        }
    )
    return {"days": days, "hist": hist, "acc": acc}


def per_day_rows(days: list[stats.DayStat]) -> list[list[Any]]:
    rows = []
    for d in reversed(days):  # newest first
        rate = f"{d.up_rate:.0%}" if d.up_rate is not None else ""
        rows.append([d.day.isoformat(), d.turns, d.thumbs_up, d.thumbs_down, rate])
    return rows


def run_registry_action(app: AppServices, action: str, version: str | None, confirmed: bool, username: str) -> str:
    """Promote or roll back through finetune.registry, only after the explicit confirmation box is ticked."""
    from chatbot.registry import RegistryError
    from finetune import registry

    if action == "promote" and not version:
        return "Choose a model version first."
    if not confirmed:
        what = f"promote {html.escape(version or '')}" if action == "promote" else "roll back production"
        return f"Tick 'I am sure' to {what}."
    try:
        if action == "promote":
            replaced = registry.promote_version(app, version or "", by=username)
            before = html.escape(replaced or "the base model")
            done = f"{html.escape(version or '')} is now in production (replacing {before})."
        elif action == "rollback":
            retired, restored = registry.rollback(app, by=username)
            done = f"Rolled back {html.escape(retired)}; now serving {html.escape(restored or 'the base model')}."
        else:
            raise ValueError(f"unknown action {action!r}")
    except RegistryError as exc:
        return f"Not done: {html.escape(str(exc))}"
    reload_pipeline(app)
    return done


def reload_pipeline(app: AppServices) -> None:
    """Make this server pick up the registry change now (ui.server.BundleWatcher also checks every
    ``bundle_check_seconds``): the few-shot and example-index snapshot, then the adapter, calibration and threshold,
    so the bundle switches whole."""
    if not app.pipeline_loaded:
        return  # nothing loaded yet: the first chat will read the registry anyway
    try:
        from finetune.bundle import follow_production

        follow_production(app)
        app.pipeline.reload()
    except Exception:  # the registry row is changed; serving the old bundle until the next check is acceptable
        log.exception("could not reload the chat pipeline after a registry change")


def dashboard_values(app: AppDatabase, username: str) -> tuple[Any, ...]:
    """Everything the page shows, in the order of ui.dashboard_layout.DashboardPage.outputs."""
    import gradio as gr

    with app.session() as session:
        data = load_dashboard(
            session,
            raters=app.settings.review_consensus,
            configured_threshold=app.settings.abstain_confidence,
            spot_check_share=app.settings.spot_check_share,
            article_floor=app.settings.passage_min_retrieval_certainty,
        )
    f = frames(data)
    header = f"Logged in as **{html.escape(username)}** (engineer) · [log out](/dashboard/logout)"
    return (
        header,
        serving_markdown(data.serving),
        summary_markdown(data),
        f["days"],
        f["days"],
        f["hist"],
        f["acc"],
        per_day_rows(data.days),
        data.kb_gaps,
        data.disputed,
        data.models,
        data.evals,
        gr.update(choices=data.versions, value=data.versions[0] if data.versions else None),
    )


def build_dashboard(app: AppServices) -> "gr.Blocks":
    """The page: components from ui.dashboard_layout, filled by dashboard_values on load and on each refresh."""
    import gradio as gr

    from ui.dashboard_layout import build_dashboard_layout

    def who(request: gr.Request) -> Any:
        try:
            return current_user(app, getattr(request, "username", None), DASHBOARD_ROLES)
        except AccessDenied as exc:
            raise gr.Error(str(exc)) from exc

    def refresh(request: gr.Request) -> tuple[Any, ...]:
        user = who(request)
        return dashboard_values(app, user.username)

    with gr.Blocks(title="Bramblecove Bank — engineer dashboard") as page:
        parts = build_dashboard_layout()
        build_audit_tab(page, app, who)

        outputs = parts.outputs()
        page.load(refresh, None, outputs)
        parts.overview.reload_btn.click(refresh, None, outputs)
        wire_registry_actions(app, parts, who, refresh)
    return page


def wire_registry_actions(
    app: AppServices, parts: "DashboardPage", who: Callable[..., Any], refresh: Callable[..., Any]
) -> None:
    """Promote and rollback run through run_registry_action, are audited when confirmed, untick the box, then
    ``refresh`` fills the page again."""
    import gradio as gr

    def act(action: str) -> Any:
        def handler(chosen: str | None, confirmed: bool, request: gr.Request) -> tuple[str, bool]:
            user = who(request)
            message = run_registry_action(app, action, chosen, confirmed, user.username)
            if confirmed:  # an attempt stopped by the unticked box changed nothing
                target = chosen if action == "promote" else None
                audit.record_request(app, request, user, action, target=target, detail={"result": message})
            return message, False

        return handler

    registry, outputs = parts.registry, parts.outputs()
    inputs, shown = [registry.version, registry.sure], [registry.action_msg, registry.sure]
    registry.promote.click(act("promote"), inputs, shown).then(refresh, None, outputs)
    registry.rollback.click(act("rollback"), inputs, shown).then(refresh, None, outputs)
