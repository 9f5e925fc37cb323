"""Whether customers see the model's answers: off on a fresh install, decided per bundle by its gate (the answers as
served against passages only), stored with the bundle and served with it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from chatbot.confidence import ConfidenceParams, read_bundle_calibration
from chatbot.handoff import SUGGESTIONS_ANSWER
from finetune import registry, training_runs
from finetune.gate import generated_answers_earned
from tests.pipeline_support import make_app, rows

CARD_PASSAGE = (
    "From our help article “When will my card arrive?”: Cards arrive within 5–7 working days. "
    "Read the whole article: /articles/card_arrival"
)


def test_a_fresh_install_shows_the_article_not_the_base_models_answer(tmp_path: Path, database_url: str) -> None:
    app = make_app(tmp_path, database_url, base_model_answers=False, abstain_confidence=0.0)
    result = app.pipeline.answer("When will my card arrive?")
    assert (result.answer_kind, result.answer) == ("passage", CARD_PASSAGE)
    assert result.would_be_answer == "Cards arrive within 5–7 working days. [1]"
    assert result.fallback_answer == CARD_PASSAGE
    (row,) = rows(app)
    assert row.meta["reason"] == "answers_not_earned"
    assert row.meta["fallback"] == "passage"


def test_not_sure_of_the_article_is_a_hand_off_even_without_the_models_answers(tmp_path: Path, sqlite_url: str) -> None:
    app = make_app(
        tmp_path, sqlite_url, base_model_answers=False, abstain_confidence=0.0, passage_min_retrieval_score=0.9
    )
    result = app.pipeline.answer("When will my card arrive?")  # top score 0.82 < 0.9: no passage either
    assert (result.answer_kind, result.answer, result.fallback_answer) == ("handoff", SUGGESTIONS_ANSWER, None)


def test_a_bundle_that_earned_it_shows_its_answers_and_says_what_passages_would_have_given(
    tmp_path: Path, sqlite_url: str
) -> None:
    app = make_app(tmp_path, sqlite_url, base_model_answers=False, abstain_confidence=0.0)
    earned = app.with_parts(calibration=ConfidenceParams(generated_answers=True))
    result = earned.pipeline.answer("When will my card arrive?")
    assert (result.answer_kind, result.answer) == ("generated", "Cards arrive within 5–7 working days. [1]")
    assert result.fallback_answer == CARD_PASSAGE
    refused = app.with_parts(calibration=ConfidenceParams(generated_answers=False))
    assert refused.pipeline.answer("When will my card arrive?").answer_kind == "passage"


def test_the_bundle_row_says_it_and_older_bundles_keep_their_answers() -> None:
    def row(shown: bool | None) -> SimpleNamespace:
        return SimpleNamespace(
            abstain_threshold=None, calibration_id=None, generated_answers=shown, article_threshold=None
        )

    class NoCalibration:
        def exec(self, statement: object) -> SimpleNamespace:
            return SimpleNamespace(first=lambda: None)

    session = NoCalibration()
    assert read_bundle_calibration(session, None).generated_answers is None  # no bundle: the setting decides
    assert read_bundle_calibration(session, row(None)).generated_answers is True  # recorded before the gate decided
    assert read_bundle_calibration(session, row(False)).generated_answers is False
    assert read_bundle_calibration(session, row(True)).generated_answers is True


def test_the_gate_weighs_answers_as_served_against_passages_only() -> None:
    def rec(shown: bool | None, fallback: bool | None, kind: str = "in_scope") -> dict[str, object]:
        return {"kind": kind, "shown_right": shown, "fallback_right": fallback}

    records = [rec(True, True), rec(True, None), rec(False, True), rec(None, None), rec(True, False, "probe")]
    assert generated_answers_earned(records) == {
        "earned": False,  # served: 2 right, 1 wrong; passages only: 2 right, 0 wrong (the probe is not counted)
        "served": {"right": 2, "wrong": 1, "net": 1},
        "passages_only": {"right": 2, "wrong": 0, "net": 2},
        "wins": 1,  # the hand-off the model answered rightly
        "losses": 1,  # the right passage the model answered wrongly
        "p": 0.75,
        "significance": 0.05,
    }


def test_model_answers_are_earned_only_with_evidence() -> None:
    def rec(shown: bool | None, fallback: bool | None) -> dict[str, object]:
        return {"kind": "in_scope", "shown_right": shown, "fallback_right": fallback}

    same = [rec(True, True)] * 12 + [rec(False, False)] * 2
    # A near-tie: one more right answer than the passages (15-2 against 14-2) is one win, p 0.5.
    near_tie = generated_answers_earned([*same, rec(True, None)])
    assert (near_tie["earned"], near_tie["wins"], near_tie["losses"], near_tie["p"]) == (False, 1, 0, 0.5)
    assert generated_answers_earned([*same, rec(True, None)], significance=1.0)["earned"] is True  # any net win
    # Five wins and no loss: p = 1/32 < 0.05.
    clear = generated_answers_earned([*same] + [rec(True, None)] * 5)
    assert (clear["earned"], clear["p"]) == (True, 0.03125)
    # Four wins: p = 1/16, not below 0.05.
    assert generated_answers_earned([*same] + [rec(True, None)] * 4)["earned"] is False
    # Many wins but one more wrong answer shown than with passages only: not earned whatever the test says.
    more_wrong = generated_answers_earned([*same] + [rec(True, None)] * 9 + [rec(False, None)])
    assert (more_wrong["wins"], more_wrong["losses"], more_wrong["earned"]) == (9, 1, False)
    # A tie, or nothing to compare, is no evidence.
    assert generated_answers_earned(same)["earned"] is False
    assert generated_answers_earned([])["earned"] is False


def test_the_gates_decision_is_stored_with_the_bundle(tmp_path: Path, sqlite_url: str) -> None:
    app = make_app(tmp_path, sqlite_url)
    for version, earned in (("v1", False), ("v2", True)):
        run_id = training_runs.start_run(app, base_model="fake", hyperparameters={})
        registry.record_candidate(
            app, version=version, adapter_path=None, base_model="fake", data_hash=version, run_id=run_id
        )
        shown = {"earned": earned, "served": {}, "passages_only": {}}
        registry.record_gate(app, version, promote=True, decision="test", metrics={"generated_answers": shown})
        fresh = make_app(tmp_path, sqlite_url)
        assert fresh.pipeline.calibration.generated_answers is earned
