"""One promotion, one bundle: a night's few-shot examples and example questions are read only through its bundle.

Real Chroma in a temp dir, the real embedder, SQLite, the fake LLM. A "night" here is the nightly job's bundle
steps without the LoRA training (the bundle carries no adapter): record the candidate with its lineage, write its
index snapshot, let the gate's decision promote or reject it (tests/test_nightly.py runs the whole job).
"""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document

from chatbot import review_store
from chatbot.app import build_app
from chatbot.db import crud
from chatbot.db.models import ReviewCreate, TurnCreate
from chatbot.registry import get_lineage, get_model, production_version
from chatbot.risk import SHOW_NOTHING, in_spot_check
from finetune import registry
from finetune.bundle import (
    bundle_app,
    fit_threshold,
    follow_production,
    get_bundle,
    production_bundle,
)
from finetune.dataset import SFTExample
from tests.conftest import make_settings
from tests.nightly_support import record_night, reviewed_turn, reviewers
from ui.dashboard import reload_pipeline

KB = [
    ("lost_card", "Lost or stolen card", "Freeze the card in the app, then order a new one."),
    ("card_arrival", "When will my card arrive?", "Cards arrive within 3 to 5 working days."),
    ("top_up", "Topping up", "Top up by bank transfer or with a debit card in the app."),
]
QUESTIONS = ("someone took my wallet", "my parcel never came", "how do I add money")


def example(turn_id: Any, question: str, answer: str, article: str) -> SFTExample:
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return SFTExample(str(turn_id), question, messages, "approve", article, "", False, article_confirmed=True)


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, embedder: Any) -> Any:
    bot = build_app(make_settings(tmp_path, database_url=sqlite_url, few_shot_k=2), embedder=embedder)
    bot.upgrade_database()
    docs = [Document(text, metadata={"article_id": a, "title": t, "chunk": 0, "intent": a}) for a, t, text in KB]
    bot.vector_store.add_documents(docs, ids=[a for a, _, _ in KB])
    return bot


def night(app: Any, version: str, examples: list[SFTExample], *, promote: bool) -> int:
    snapshot = record_night(app, version, examples)
    registry.record_gate(app, version, promote=promote, decision="decided by the test", metrics={})
    return snapshot


def served(bot: Any) -> dict[str, Any]:
    """What the chat reads for each question: the few-shot examples it selects and the example questions retrieval
    finds (with their articles and scores), and the article retrieval ranks first."""
    return {
        q: (
            bot.fewshot.select(q, 2),
            [(h.question, h.article_id, round(h.score, 6)) for h in bot.example_index.search(q, 5)],
            bot.retriever.invoke(q)[0].metadata["article_id"],
        )
        for q in QUESTIONS
    }


def fresh(app: Any) -> Any:
    """A new process's view: stores opened at the production bundle's snapshot."""
    return build_app(app.settings, embedder=app.embedder)


def promote_the_first_night(app: Any, turns: list[uuid.UUID]) -> dict[str, Any]:
    """Night b1 promoted: what the chat serves from it, for the later nights to be compared with."""
    first = [
        example(turns[0], "someone took my wallet", "Freeze your card in the app [1].", "lost_card"),
        example(turns[1], "my parcel never came", "Cards take 3 to 5 working days [1].", "card_arrival"),
    ]
    assert night(app, "b1", first, promote=True) == 1
    reload_pipeline(app)  # nothing loaded yet: the stores open at the production snapshot anyway
    before = served(fresh(app))
    assert before["someone took my wallet"][0][0]["answer"] == "Freeze your card in the app [1]."
    assert [h[:2] for h in before["my parcel never came"][1]] == [
        ("my parcel never came", "card_arrival"),
        ("someone took my wallet", "lost_card"),
    ]
    return before


def reject_a_night_and_check_nothing_changed(
    app: Any, live: Any, turns: list[uuid.UUID], before: dict[str, Any]
) -> None:
    # A rejected night that would change an answer, move a question to another article and add one.
    second = [
        example(turns[0], "someone took my wallet", "Call us at once [1].", "lost_card"),
        example(turns[1], "my parcel never came", "Top up first [1].", "top_up"),
        example(turns[2], "how do I add money", "Top up in the app [1].", "top_up"),
    ]
    candidate_snapshot = night(app, "b2", second, promote=False)
    assert candidate_snapshot == 2 and production_version(app) == "b1"
    assert served(fresh(app)) == before
    follow_production(live)
    assert served(live) == before
    # The gate read the candidate's own entries, and nothing else.
    candidate = bundle_app(app, get_bundle(app, "b2"))
    assert candidate.fewshot.select("someone took my wallet", 1)[0]["answer"] == "Call us at once [1]."
    assert [h.article_id for h in candidate.example_index.search("my parcel never came", 5)][:1] == ["top_up"]


def promote_a_night_and_check_everything_switched(
    app: Any, live: Any, turns: list[uuid.UUID], before: dict[str, Any]
) -> None:
    # A promoted night switches few-shot selection and retrieval together.
    third = [
        example(turns[0], "someone took my wallet", "Freeze your card in the app [1].", "lost_card"),
        example(turns[3], "how do I add money", "Top up with a debit card [1].", "top_up"),
    ]
    assert night(app, "b3", third, promote=True) == 3
    after = served(fresh(app))
    assert after != before
    assert [h[:2] for h in after["how do I add money"][1]] == [
        ("how do I add money", "top_up"),
        ("someone took my wallet", "lost_card"),
    ]  # the parcel question left with night 3, and night 2's entries were never served
    assert after["how do I add money"][0][0]["answer"] == "Top up with a debit card [1]."
    follow_production(live)
    assert served(live) == after


def roll_back_and_check_the_first_bundle_is_back(app: Any, live: Any, before: dict[str, Any]) -> None:
    # Rollback brings bundle b1 back as a whole: its examples and example questions again.
    assert registry.rollback(app, by="test") == ("b3", "b1")
    assert served(fresh(app)) == before
    follow_production(live)
    assert served(live) == before


def test_a_rejected_night_changes_nothing_a_promoted_one_switches_everything_and_rollback_restores(app: Any) -> None:
    ids = reviewers(app, 1)
    turns = [reviewed_turn(app, q, "a", "approve", reviewer_ids=ids) for q in questions(app, 4)]
    before = promote_the_first_night(app, turns)
    live = app  # a running server re-reads the registry: still bundle b1's entries after a rejected night
    reject_a_night_and_check_nothing_changed(app, live, turns, before)
    promote_a_night_and_check_everything_switched(app, live, turns, before)
    roll_back_and_check_the_first_bundle_is_back(app, live, before)

    # Lineage: each bundle lists the reviewed turns it learned from (examples; the threshold, fitted at promotion on
    # the spot check's reviewed turns so far).
    assert get_lineage(app, "b1") == {
        "example": sorted(str(t) for t in turns[:2]),
        "threshold": sorted(str(t) for t in turns),
    }
    assert get_lineage(app, "b3")["example"] == sorted(str(t) for t in (turns[0], turns[3]))


def questions(app: Any, count: int, *, spot_check: bool = True) -> list[str]:
    """``count`` distinct questions inside (or outside) the app's random spot check."""
    share = app.settings.spot_check_share
    candidates = (f"q{i}" for i in range(100_000))
    return list(itertools.islice((q for q in candidates if in_spot_check(q, None, share) == spot_check), count))


def test_promotion_fits_the_threshold_on_spot_checked_turns_and_the_chat_abstains_below_it(app: Any) -> None:
    ids = reviewers(app, 1)
    outcomes = [(0.95, "approve")] * 160 + [(0.6, "reject")] * 20
    # Reviewed outside the spot check (the queue's low-confidence tier, say): not a sample of what is shown, so
    # the fit ignores them, even these wrong ones at 0.95 that would otherwise rule every threshold out.
    outside = [(0.95, "reject")] * 50
    texts = questions(app, len(outcomes)) + questions(app, len(outside), spot_check=False)
    with app.session() as session:
        for text, (confidence, verdict) in zip(texts, outcomes + outside, strict=True):
            turn = crud.create_turn(
                session=session, turn_create=TurnCreate(question=text, answer="a", confidence=confidence)
            )
            review_store.add_review(
                session=session,
                review_create=ReviewCreate(turn_id=turn.id, reviewer_id=ids[0], verdict=verdict),
                required=1,
            )
    night(app, "b1", [], promote=True)
    model = get_model(app, "b1")
    # 0 wrong of the 160 at 0.95: bound 1.85 % <= 2 %; adding the 0.6 turns: 20 wrong of 180
    assert model.abstain_threshold == 0.95
    assert (model.risk["shown"], model.risk["wrong"], model.risk["reviewed"]) == (160, 0, 180)
    assert len(get_lineage(app, "b1")["threshold"]) == 180
    assert production_bundle(app).confidence.abstain_below(app.settings.abstain_confidence) == 0.95
    answer = app.pipeline.answer("When will my card arrive?")
    assert app.pipeline.calibration.abstain_threshold == 0.95
    # The configured 0.35 would have shown this answer; the fitted threshold withholds it.
    assert app.settings.abstain_confidence <= answer.confidence < 0.95
    assert answer.meta["reason"] == "low_confidence"


def spot_checked_article_turns(
    app: Any, outcomes: list[tuple[float, str, str | None, str | None]], *, skip: int = 0
) -> None:
    """Reviewed spot-check turns from (retrieval certainty, verdict, corrected-to article, logged reason), on the
    spot check's questions after the first ``skip``; approved ones answered with confidence 0.95, the others 0.3."""
    ids = reviewers(app, 1)
    texts = questions(app, skip + len(outcomes))[skip:]
    with app.session() as session:
        for text, (certainty, verdict, article, reason) in zip(texts, outcomes, strict=True):
            create = TurnCreate(
                question=text,
                answer="a",
                confidence=0.95 if verdict == "approve" else 0.3,
                sources=[{"id": "card_arrival", "title": "When will my card arrive?", "score": 0.8}],
                meta={"reason": reason, "retrieval_certainty": certainty},
            )
            turn = crud.create_turn(session=session, turn_create=create)
            review = ReviewCreate(
                turn_id=turn.id, reviewer_id=ids[0], verdict=verdict, corrected_answer="b", article_id=article
            )
            review_store.add_review(session=session, review_create=review, required=1)


def test_promotion_fits_the_article_threshold_on_the_spot_check_and_answers_from_articles_need_it(app: Any) -> None:
    # (retrieval certainty, verdict, the article the reviewers pointed at): 160 right top articles at 0.9, 20
    # corrected onto another article at 0.6, and rejections, which say nothing about the article.
    outcomes = [(0.9, "approve", None)] * 160 + [(0.6, "correct", "top_up")] * 20 + [(0.6, "reject", None)] * 30
    spot_checked_article_turns(app, [(*outcome, None) for outcome in outcomes])
    night(app, "b1", [], promote=True)
    model = get_model(app, "b1")
    # 0 wrong of the 160 at 0.9: bound 1.85 % <= 2 %; with the 0.6 turns 20 wrong of 180
    assert model.article_threshold == 0.9
    fit = model.risk["article"]
    assert (fit["shown"], fit["wrong"], fit["reviewed"]) == (160, 0, 180)
    assert len(get_lineage(app, "b1")["threshold"]) == 210  # the abstention fit read every one of them
    assert app.pipeline.calibration.certainty_needed(app.settings.passage_min_retrieval_certainty) == 0.9
    answer = app.pipeline.answer("When will my card arrive?")
    # Sure enough for the configured floor, below the fitted certainty: no answer is drawn from the article,
    # neither the model's nor its sentences.
    assert app.settings.passage_min_retrieval_certainty <= answer.meta["retrieval_certainty"] < 0.9
    assert answer.answer_kind == "handoff"


def test_a_later_night_lowers_the_article_certainty_an_earlier_one_raised(app: Any) -> None:
    # Night 1: right top articles at 0.9, wrong ones at 0.6: answers from articles need 0.9.
    spot_checked_article_turns(app, [(0.9, "approve", None, None)] * 160 + [(0.6, "correct", "top_up", None)] * 20)
    night(app, "b1", [], promote=True)
    assert get_model(app, "b1").article_threshold == 0.9
    # Since then, turns at 0.75 were handed off as uncertain; the spot check still sampled them and reviewers found
    # the top article right (corrected answers pointed at the same article).
    handed_off = [(0.75, "correct", "card_arrival", "uncertain_article")] * 100
    failed_checks = [(0.75, "approve", None, "ungrounded")] * 100
    spot_checked_article_turns(app, handed_off + failed_checks, skip=180)
    night(app, "b2", [], promote=True)
    fit = get_model(app, "b2").risk["article"]
    # 0 wrong of 360 at 0.75; at 0.6: 20 of 380, over 2 %
    assert (get_model(app, "b2").article_threshold, fit["shown"], fit["wrong"]) == (0.75, 360, 0)


def test_an_adapted_bundle_fits_its_threshold_only_on_turns_adapted_bundles_answered(app: Any) -> None:
    ids = reviewers(app, 1)
    # 200 base-model turns, all wrong at high confidence, and 160 right ones an adapted bundle answered.
    turns = [(0.9, "reject", None)] * 200 + [(0.8, "approve", "lora-a")] * 160
    with app.session() as session:
        for text, (confidence, verdict, adapter) in zip(questions(app, len(turns)), turns, strict=True):
            create = TurnCreate(question=text, answer="a", confidence=confidence, adapter_version=adapter)
            turn = crud.create_turn(session=session, turn_create=create)
            review = ReviewCreate(turn_id=turn.id, reviewer_id=ids[0], verdict=verdict)
            review_store.add_review(session=session, review_create=review, required=1)
    base_fit, _ = fit_threshold(app, production_bundle(app).confidence)
    adapted_fit, used = fit_threshold(app, production_bundle(app).confidence, adapted_only=True)
    assert base_fit.threshold == SHOW_NOTHING  # every confidence level is too risky on the base model's turns
    assert (adapted_fit.threshold, adapted_fit.shown, adapted_fit.wrong, len(used)) == (0.8, 160, 0, 160)


def test_an_adapted_candidate_is_not_calibrated_on_the_base_models_answers(app: Any) -> None:
    from chatbot.confidence import UNCALIBRATED
    from chatbot.db.models import Calibration
    from finetune.bundle import fit_calibration

    ids = reviewers(app, 1)
    # The base model's answers: reviewers corrected nearly all of them, whatever their confidence.
    turns = [(0.2 + 0.6 * (i % 10) / 10, "reject", None) for i in range(60)]
    with app.session() as session:
        for i, (confidence, verdict, adapter) in enumerate(turns):
            create = TurnCreate(question=f"q{i}", answer="a", confidence=confidence, adapter_version=adapter)
            turn = crud.create_turn(session=session, turn_create=create)
            review = ReviewCreate(turn_id=turn.id, reviewer_id=ids[0], verdict=verdict)
            review_store.add_review(session=session, review_create=review, required=1)
    production = production_bundle(app)
    assert production.adapter is None
    row_id, summary, used = fit_calibration(app, production, adapted_only=True)
    assert (summary["reviewed"], summary["refitted"], summary["method"], used) == (0, False, UNCALIBRATED, [])
    with app.session() as session:
        assert session.get(Calibration, row_id).method == UNCALIBRATED
    _, everything, used_all = fit_calibration(app, production)  # the base candidate's view: every reviewed turn
    assert (everything["reviewed"], len(used_all)) == (60, 60)
