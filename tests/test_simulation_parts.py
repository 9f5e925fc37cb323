"""The simulation's pure parts: the stratified split, customers' thumbs, reviewers' judgement."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from evals.simulation import customers, reviewers
from evals.simulation.split import (
    BadQuestions,
    LabelledQuestion,
    customer_batches,
    read_questions,
    stratified_split,
    stratified_subset,
)


def questions(counts: dict[str, int]) -> list[LabelledQuestion]:
    return [LabelledQuestion(f"{cat} question {i}", cat) for cat, n in counts.items() for i in range(n)]


# --- split ------------------------------------------------------------------------------------------------------
def test_read_questions_and_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "q.csv"
    good.write_text('text,category\nhow do I top up?,top_up\n"  ",top_up\nlost card,lost_card\n', encoding="utf-8")
    assert read_questions(good) == [
        LabelledQuestion("how do I top up?", "top_up"),
        LabelledQuestion("lost card", "lost_card"),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("question,label\na,b\n", encoding="utf-8")
    with pytest.raises(BadQuestions, match="'text' and 'category'"):
        read_questions(bad)
    with pytest.raises(BadQuestions, match="no such file"):
        read_questions(tmp_path / "missing.csv")


def test_stratified_split_counts_disjoint_and_deterministic() -> None:
    data = questions({"a": 10, "b": 3, "c": 1, "d": 2})
    pool, held = stratified_split(data, holdout_fraction=0.2, seed=7)
    held_counts = {c: sum(1 for q in held if q.category == c) for c in "abcd"}
    # round(10*.2)=2; round(3*.2)=1 (at least one); a lone question stays in the pool; 2 -> at least 1
    assert held_counts == {"a": 2, "b": 1, "c": 0, "d": 1}
    assert set(pool).isdisjoint(held) and len(pool) + len(held) == len(data)
    assert stratified_split(data, holdout_fraction=0.2, seed=7) == (pool, held)
    with pytest.raises(BadQuestions):
        stratified_split(data, holdout_fraction=1.0, seed=7)


def test_customer_batches_are_disjoint_and_fixed_by_seed() -> None:
    pool = questions({"a": 6, "b": 6})
    batches = customer_batches(pool, rounds=3, per_round=4, seed=1)
    assert [len(b) for b in batches] == [4, 4, 4]
    flat = [q for b in batches for q in b]
    assert len(set(flat)) == 12
    assert customer_batches(pool, rounds=3, per_round=4, seed=1) == batches
    with pytest.raises(BadQuestions, match="the pool has 12"):
        customer_batches(pool, rounds=4, per_round=4, seed=1)


def test_stratified_subset_covers_categories_first() -> None:
    data = questions({"a": 5, "b": 5, "c": 5})
    subset = stratified_subset(data, size=3, seed=3)
    assert sorted(q.category for q in subset) == ["a", "b", "c"]
    assert len(stratified_subset(data, size=100, seed=3)) == 15


# --- customers ---------------------------------------------------------------------------------------------------
class FixedRng(random.Random):
    def __init__(self, values: list[float]) -> None:
        super().__init__(0)
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_thumbs_follow_correctness_with_noise() -> None:
    b = customers.CustomerBehaviour(click_rate=0.6, wrong_click_rate=0.1)
    assert customers.thumbs(True, b, FixedRng([0.5, 0.5])) == 1
    assert customers.thumbs(False, b, FixedRng([0.5, 0.5])) == -1
    assert customers.thumbs(True, b, FixedRng([0.5, 0.05])) == -1  # clicked the wrong thumb
    assert customers.thumbs(True, b, FixedRng([0.6, 0.05])) is None  # never clicks
    with pytest.raises(ValueError):
        customers.CustomerBehaviour(click_rate=1.5)


def test_thumbs_rates_over_many_customers() -> None:
    b = customers.CustomerBehaviour(click_rate=0.6, wrong_click_rate=0.1)
    clicks = [customers.thumbs(True, b, customers.customer_rng(1, 1, i)) for i in range(5000)]
    no_click = sum(c is None for c in clicks) / len(clicks)
    wrong = sum(c == -1 for c in clicks) / sum(c is not None for c in clicks)
    assert 0.37 < no_click < 0.43
    assert 0.08 < wrong < 0.12


def test_answer_is_right_is_the_judge_on_the_gold_answer() -> None:
    gold = "Card top-ups arrive within 2 hours; after that, message us in Help > Chat with us."
    kw: dict[str, Any] = {"article_id": "top_up", "gold_answer": gold, "abstained": False}
    # lead facts: "2 hours" and the Help > Chat with us path; half of them (one) is enough by default
    assert customers.answer_is_right(answer="It arrives within 2 hours [1].", cited=["top_up"], **kw)
    assert not customers.answer_is_right(answer="It arrives within 3 hours [1].", cited=["top_up"], **kw)
    both = "Within two hours; if not, use Help > Chat with us [1]."
    assert not customers.answer_is_right(answer="Within 2 hours [1].", cited=["top_up"], threshold=1.0, **kw)
    assert customers.answer_is_right(answer=both, cited=["top_up"], threshold=1.0, **kw)
    assert not customers.answer_is_right(answer=gold, cited=["lost_card", "top_up"], **kw)
    assert not customers.answer_is_right(answer=gold, cited=[], **kw)
    kw["abstained"] = True
    assert not customers.answer_is_right(answer=gold, cited=["top_up"], **kw)
    # why a hand-off was wrong: retrieval had the right article first (over-abstention) or not (retrieval miss)
    assert customers.answer_verdict(answer="Sorry.", cited=[], retrieved=["top_up"], **kw).reason == "abstained"
    assert customers.answer_verdict(answer="Sorry.", cited=[], retrieved=["lost_card"], **kw).reason == "wrong_article"
    # ROUGE-L stays as a secondary number: LCS "alpha beta" of 4 and 4 tokens -> 0.5
    assert customers.answer_score("alpha beta zeta eta", "alpha beta gamma delta") == pytest.approx(0.5)


def test_the_simulation_judges_against_the_demo_article_text() -> None:
    gold_answer = "Cards arrive in 5–7 working days."
    kw: dict[str, Any] = {"cited": ["card_delivery_estimate"], "abstained": False, "gold_answer": gold_answer}
    answer = "5–7 working days; express costs £5.00 [1]."  # £5.00 is in the article's body, not this gold answer
    assert customers.answer_is_right(answer=answer, article_id="card_delivery_estimate", **kw)
    assert customers.demo_article_text("no_such_article") is None
    v = customers.answer_verdict(answer=answer, article_id="no_such_article", **kw | {"cited": ["no_such_article"]})
    assert (v.reason, v.contradictions) == ("contradiction", ("money: £5.00",))


# --- reviewers ---------------------------------------------------------------------------------------------------
def test_reviewer_approves_right_and_corrects_wrong_with_citation() -> None:
    gold = "Top up in the app under Money > Add."
    right = reviewers.judge(
        answer=gold + " [1]", cited=["top_up"], abstained=False, article_id="top_up", gold_answer=gold
    )
    assert right == reviewers.Judgement("approve", None)
    wrong = reviewers.judge(answer=gold, cited=["lost_card"], abstained=False, article_id="top_up", gold_answer=gold)
    assert wrong == reviewers.Judgement("correct", "Top up in the app under Money > Add. [1]")
    assert reviewers.dissent(right, gold) == wrong
    assert reviewers.dissent(wrong, gold) == right
    rng = random.Random(0)
    assert reviewers.second_opinion(right, gold, disagreement_rate=0.0, rng=rng) == right
    assert reviewers.second_opinion(right, gold, disagreement_rate=1.0, rng=rng) == wrong
