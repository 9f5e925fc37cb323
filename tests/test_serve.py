"""The web server's access rules over HTTP: the chat is public, /review and /dashboard need the right role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chatbot import review_store
from chatbot.app import build_app
from chatbot.db import crud
from chatbot.db.models import UserCreate
from tests.conftest import make_settings
from tests.pipeline_support import CHAT_JSON_KEYS
from ui.auth import DASHBOARD_ROLES, REVIEW_ROLES, AccessDenied, current_user, login_checker, role_allowed

if TYPE_CHECKING:
    from ui.dashboard import DashboardData


@pytest.fixture
def bot(tmp_path: Path) -> Any:
    app = build_app(make_settings(tmp_path))
    app.upgrade_database()
    with app.session() as session:
        for name, role in [("rita", "reviewer"), ("eve", "engineer")]:
            crud.create_user(
                session=session, user_create=UserCreate(username=name, role=role, password=f"{name}-pass-1")
            )
    return app


@pytest.fixture
def client(bot: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from ui.server import create_server

    with TestClient(create_server(bot)) as c:
        yield c


def _login(client: Any, path: str, user: str, password: str) -> int:
    return int(client.post(f"{path}/login", data={"username": user, "password": password}).status_code)


def test_role_rules(bot: Any) -> None:
    assert role_allowed("reviewer", REVIEW_ROLES) and role_allowed("engineer", REVIEW_ROLES)
    assert role_allowed("engineer", DASHBOARD_ROLES)
    assert not role_allowed("reviewer", DASHBOARD_ROLES)
    assert not role_allowed(None, REVIEW_ROLES)
    review_login, dashboard_login = login_checker(bot, REVIEW_ROLES), login_checker(bot, DASHBOARD_ROLES)
    assert review_login("rita", "rita-pass-1") and review_login("eve", "eve-pass-1")
    assert not review_login("rita", "wrong-password") and not review_login("nobody", "rita-pass-1")
    assert dashboard_login("eve", "eve-pass-1") and not dashboard_login("rita", "rita-pass-1")
    assert current_user(bot, "rita", REVIEW_ROLES).role == "reviewer"
    for username in [None, "", "nobody"]:
        with pytest.raises(AccessDenied):
            current_user(bot, username, REVIEW_ROLES)
    with pytest.raises(AccessDenied, match="may not use"):
        current_user(bot, "rita", DASHBOARD_ROLES)


def test_chat_is_public(client: Any) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/config").status_code == 200
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("path", ["/review", "/dashboard"])
def test_protected_pages_refuse_anonymous_visitors(client: Any, path: str) -> None:
    # the address `bankbot serve` prints, without the trailing slash, leads to the app (not the chat's 404)
    moved = client.get(path, follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == f"{path}/"
    assert client.get(f"{path}/config").status_code == 401
    # the event API is closed too, not only the page
    joined = client.post(f"{path}/gradio_api/queue/join", json={"data": [], "fn_index": 0, "session_hash": "x"})
    assert joined.status_code == 401
    assert _login(client, path, "rita", "wrong-password") == 400


def test_reviewer_gets_review_but_not_dashboard(client: Any) -> None:
    assert _login(client, "/review", "rita", "rita-pass-1") == 200
    assert client.get("/review/config").status_code == 200
    assert _login(client, "/dashboard", "rita", "rita-pass-1") == 400
    assert client.get("/dashboard/config").status_code == 401


def test_engineer_gets_both(client: Any) -> None:
    assert _login(client, "/dashboard", "eve", "eve-pass-1") == 200
    assert client.get("/dashboard/config").status_code == 200
    assert _login(client, "/review", "eve", "eve-pass-1") == 200
    assert client.get("/review/config").status_code == 200


# --- the chat page's logic, through the real pipeline (fake LLM, empty knowledge base: a hand-off answer) ---------
def test_chat_stream_maps_turns_and_stores_feedback(tmp_path: Path, embedder: Any) -> None:
    from sqlmodel import select

    from chatbot.db.models import Feedback, Turn
    from ui.chat import TYPING_INDICATOR, new_state, record_comment, record_feedback, stream_reply

    app = build_app(make_settings(tmp_path), embedder=embedder)
    app.upgrade_database()
    states = list(stream_reply(app, "  When will my card arrive?  ", new_state()))
    assert states[0]["messages"] == [
        {"role": "user", "content": "When will my card arrive?"},
        {"role": "assistant", "content": TYPING_INDICATOR},  # never the model's unchecked text
    ]
    state = states[-1]
    with app.session() as session:
        turn = session.exec(select(Turn)).one()
    assert state["turns"] == {"1": str(turn.id)}
    assert state["conversation_id"] == str(turn.conversation_id)
    assert state["history"] == [
        {"role": "user", "content": "When will my card arrive?"},
        {"role": "assistant", "content": turn.answer},
    ]
    assert turn.abstained  # nothing ingested: the bot hands off, and the message says so
    assert state["messages"][-1]["content"].startswith(turn.answer.split()[0])

    def feedback() -> tuple[int, str | None] | None:
        with app.session() as session:
            row = session.exec(select(Feedback).where(Feedback.turn_id == turn.id)).first()
            return None if row is None else (row.rating, row.comment)

    assert record_feedback(app, state, 0, True, None)[1] == "This message cannot be rated."  # the user's message
    state, message = record_feedback(app, state, 1, False, "  wrong  ")
    assert message == "Thanks — your feedback is saved." and feedback() == (-1, "wrong")
    state, _ = record_feedback(app, state, 1, True, "")  # changed their mind: updated, comment kept
    assert feedback() == (1, "wrong")
    assert record_comment(app, state, "actually helpful") == "Thanks — your comment is saved."
    assert feedback() == (1, "actually helpful")
    state, message = record_feedback(app, state, 1, "", None)  # un-liked
    assert message == "Your rating was removed." and feedback() is None
    assert record_comment(app, state, "x").startswith("Rate an answer")

    later = list(stream_reply(app, "And can I pay by card?", state))[-1]
    assert later["conversation_id"] == state["conversation_id"]
    assert set(later["turns"]) == {"1", "3"}
    assert list(stream_reply(app, "   ", later)) == [later]


def test_sources_are_escaped_and_collapsed() -> None:
    import uuid

    from chatbot.protocols import ChatAnswer, Source
    from ui.chat import render_answer

    source = Source("card_arrival", "Cards <b>fast</b>", 0.8125, "## Delivery\n| UK | 5–7 days |")
    answer = ChatAnswer("Use <script>", [source], 0.7, {}, False, uuid.uuid4(), uuid.uuid4(), 1.0)
    shown = render_answer(answer)
    assert shown.startswith("Use &lt;script&gt;")
    assert '<details class="sources"><summary>Sources (1)</summary>' in shown
    assert "Cards &lt;b&gt;fast&lt;/b&gt;" in shown and "relevance 0.81" in shown
    assert "Delivery UK 5–7 days" in shown  # Markdown marks dropped from the one-line snippet


def test_answer_text_helpers() -> None:
    from ui.text import answer_markdown, one_line

    assert (
        answer_markdown("# Card delivery\nIt takes 5 days.\n- Free <b>")
        == "Card delivery\nIt takes 5 days.\n- Free &lt;b&gt;"
    )
    assert answer_markdown("Fee is #1 here") == "Fee is #1 here"  # only a leading '#' makes a heading
    assert one_line("## Fees\n| UK | £5 |\n---", limit=8) == "Fees UK…"
    assert one_line("**bold**  text") == "bold text"


# --- the dashboard's data and guarded registry actions ----------------------------------------------------------
def _seed_reviews_and_a_candidate(session: Any, tmp_path: Path) -> None:
    """Three turns (liked, disliked, unrated), both users' verdicts on each, and a candidate bundle v1."""
    from chatbot.db.models import ModelVersion, ReviewCreate, TurnCreate

    users = {
        u.username: u.id for u in (crud.get_user_by_username(session=session, username=n) for n in ("rita", "eve")) if u
    }
    turns = []
    for n, (confidence, rating) in enumerate([(0.9, 1), (0.3, -1), (0.6, None)]):
        turn = crud.create_turn(
            session=session, turn_create=TurnCreate(question=f"q{n}", answer=f"a{n}", confidence=confidence)
        )
        if rating is not None:
            review_store.set_feedback(session=session, turn_id=turn.id, rating=rating)
        turns.append(turn.id)
    votes = {turns[0]: ("approve", "approve"), turns[1]: ("kb_gap", "kb_gap"), turns[2]: ("approve", "reject")}
    for turn_id, (first, second) in votes.items():
        for reviewer, verdict in zip(users.values(), (first, second), strict=True):
            review = ReviewCreate(turn_id=turn_id, reviewer_id=reviewer, verdict=verdict)
            review_store.add_review(session=session, review_create=review, required=2)
    adapter = tmp_path / "adapter-v1"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    session.add(ModelVersion(version="v1", adapter_path=str(adapter), base_model="smollm2", eval_metrics={"f1": 0.5}))
    session.commit()


def _check_dashboard_data(data: DashboardData) -> None:
    from ui.dashboard import summary_markdown
    from ui.serving import serving_markdown

    assert [(d.turns, d.thumbs_up, d.thumbs_down) for d in data.days] == [(3, 1, 1)]
    assert sum(b.count for b in data.histogram) == 3
    # agreed turns: q0 approve (correct) in the 0.8–1.0 bin; q1 kb_gap is not scored; q2 disputed is not agreed
    assert [(b.count, b.correct) for b in data.accuracy] == [(0, 0), (0, 0), (0, 0), (0, 0), (1, 1)]
    # pairs (A,A) (G,G) (A,R): p_o = 2/3; a: A 2/3, G 1/3; b: A 1/3, G 1/3, R 1/3 -> p_e = 2/9 + 1/9 = 1/3; kappa 1/2
    assert data.kappa == pytest.approx(0.5) and data.kappa_items == 3
    assert [row[1] for row in data.kb_gaps] == ["q1"]
    assert [row[1] for row in data.disputed] == ["q2"]
    assert "rita: approve" in data.disputed[0][3] and "eve: reject" in data.disputed[0][3]
    assert data.models[0][:2] == ["v1", "candidate"] and "f1=0.5" in data.models[0][4]
    assert "**1** thumbs-up / **1** thumbs-down (up rate 50%)" in summary_markdown(data)
    # No bundle promoted: the configured threshold; every turn was shown; of the reviewed answers only q0 (0.9,
    # approved) is above 0.35 — q1 (0.3) was not shown — so 0 wrong of 1, 95 % upper bound 1 - 0.05 = 95 %.
    assert (data.serving.version, data.serving.threshold, data.serving.fitted) == (None, 0.35, False)
    assert (data.serving.coverage, data.serving.recent_turns) == (1.0, 3)
    assert (data.serving.risk.shown, data.serving.risk.wrong) == (1, 0)
    assert serving_markdown(data.serving) == (
        "Serving **the base model** (no bundle) · abstains below **0.350** (configured: no bundle promoted) · "
        "answers from an article need retrieval certainty **≥ 0.550** (configured: no bundle promoted) · "
        "coverage **100%** of the last 3 turns · estimated risk **0.0%** wrong (95% upper bound 95.0%) over 1 shown "
        "reviewed answers"
    )


def _promote_and_roll_back_only_when_sure(bot: Any) -> None:
    from sqlmodel import select

    from chatbot.db.models import ModelVersion
    from ui.dashboard import load_dashboard, run_registry_action
    from ui.serving import serving_markdown

    def status() -> str:
        with bot.session() as session:
            return str(session.exec(select(ModelVersion)).one().status)

    assert run_registry_action(bot, "promote", "v1", False, "eve").startswith("Tick 'I am sure'")
    assert status() == "candidate"
    assert "now in production" in run_registry_action(bot, "promote", "v1", True, "eve")
    assert status() == "production"
    with bot.session() as session:
        serving = load_dashboard(session, raters=2, configured_threshold=0.35).serving
    # An adapted bundle's threshold counts only turns adapted bundles answered: none yet, so the configured one.
    assert serving.version == "v1" and not serving.fitted
    assert serving_markdown(serving).startswith(
        "Serving bundle **v1** · abstains below **0.350** (configured: 0 reviewed turns, fewer than the 149 a 2.0% "
        "target needs) · answers from an article need retrieval certainty **≥ 0.550** (configured: 0 reviewed turns, "
        "fewer than the 35 a 2.0% target needs)"
    )
    assert run_registry_action(bot, "promote", "v1", True, "eve").startswith("Not done: v1 is already in production")
    assert run_registry_action(bot, "rollback", None, False, "eve").startswith("Tick 'I am sure'")
    assert "now serving the base model" in run_registry_action(bot, "rollback", None, True, "eve")
    assert status() == "retired"


def test_dashboard_data_and_guarded_promotion(bot: Any, tmp_path: Path) -> None:
    from ui.dashboard import load_dashboard

    with bot.session() as session:
        _seed_reviews_and_a_candidate(session, tmp_path)
        data = load_dashboard(session, raters=2)
    _check_dashboard_data(data)
    _promote_and_roll_back_only_when_sure(bot)


def test_serve_refuses_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from chatbot.cli import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--host", "127.0.0.1", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"bankbot serve: error: cannot listen on 127.0.0.1:{port}: ")
    assert len(err.splitlines()) == 1


def test_chat_api_answers_logs_and_rejects_an_empty_question(tmp_path: Path, embedder: Any) -> None:
    from fastapi.testclient import TestClient
    from sqlmodel import select

    from chatbot.db.models import Turn
    from ui.server import create_server

    app = build_app(make_settings(tmp_path), embedder=embedder)
    app.upgrade_database()
    with TestClient(create_server(app)) as client:
        reply = client.post("/api/chat", json={"question": "When will my card arrive?"})
        assert reply.status_code == 200
        body = reply.json()
        assert set(body) == CHAT_JSON_KEYS
        with app.session() as session:
            turn = session.exec(select(Turn)).one()
        assert str(turn.id) == body["turn_id"] and turn.question == "When will my card arrive?"
        empty = client.post("/api/chat", json={"question": "   "})
        assert empty.status_code == 422 and "empty" in empty.json()["error"]
        assert client.post("/api/chat", json={}).status_code == 422  # no question field at all


def test_the_serving_line_names_the_article_certainty_in_force() -> None:
    from chatbot.risk import SHOW_NOTHING, RiskEstimate
    from ui.serving import ServingSummary, article_line

    def summary(fitted: float | None, reason: str = "") -> ServingSummary:
        fit = {"article": {"reason": reason}} if reason else {}
        return ServingSummary("v1", 0.35, False, fit, 1.0, 3, RiskEstimate(0, 0, None, None), True, fitted, 0.6)

    assert article_line(summary(0.712)) == (
        "answers from an article need retrieval certainty **≥ 0.712** (fitted on the spot check)"
    )
    assert article_line(summary(SHOW_NOTHING)) == (
        "**no answer from an article** (no retrieval certainty meets the target)"
    )
    # at or below the configured floor (0.6 here) the floor is what is in force
    assert article_line(summary(0.58, "fitted below the floor")) == (
        "answers from an article need retrieval certainty **≥ 0.600** (configured: fitted below the floor)"
    )
    assert article_line(summary(None, "9 reviewed turns, fewer than the 35 a 2.0% target needs")) == (
        "answers from an article need retrieval certainty **≥ 0.600** (configured: 9 reviewed turns, fewer than the "
        "35 a 2.0% target needs)"
    )
