"""Simulated reviewers: judge a turn against its knowledge-base article; approve it or correct it.

They judge the model's answer — the would-be answer when the customer got the article's passage or a hand-off
instead — because that is what an approval vouches for (docs/evals.md: approve = the bot's answer, its would-be
answer if withheld, was right) and what the abstention threshold is fitted on.

Both reviewers apply the same rule; on a small, seeded share of turns the second one votes the other way, so the
consensus code sees disputes (which the nightly job must then leave out). A correction is the article's gold
answer with a citation marker, and the reviewer points it at the article (the review's ``article_id``, as the
review page's article picker does), so the model learns to cite the right article and retrieval learns the
question.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from evals.simulation.customers import DEFAULT_MATCH_THRESHOLD, answer_is_right

APPROVE = "approve"
CORRECT = "correct"
CITATION = " [1]"  # the first source in the prompt; see chatbot.prompt's citation format


@dataclass(frozen=True)
class Judgement:
    verdict: str  # approve | correct
    corrected_answer: str | None


def corrected_answer(gold_answer: str) -> str:
    """The article's gold answer, citing the first source (the article the reviewer attaches)."""
    return gold_answer.strip() + CITATION


def judge(
    *,
    answer: str,
    cited: Sequence[str],
    abstained: bool,
    article_id: str,
    gold_answer: str,
    threshold: float = DEFAULT_MATCH_THRESHOLD,
    question: str = "",
) -> Judgement:
    """What a careful reviewer with the article and the customer's question in front of them decides about the
    model's answer (``abstained``: the model wrote none)."""
    right = answer_is_right(
        answer=answer,
        cited=cited,
        abstained=abstained,
        article_id=article_id,
        gold_answer=gold_answer,
        threshold=threshold,
        question=question,
    )
    if right:
        return Judgement(APPROVE, None)
    return Judgement(CORRECT, corrected_answer(gold_answer))


def dissent(judgement: Judgement, gold_answer: str) -> Judgement:
    """The opposite vote: approve what the other would correct, correct what the other would approve."""
    if judgement.verdict == APPROVE:
        return Judgement(CORRECT, corrected_answer(gold_answer))
    return Judgement(APPROVE, None)


def second_opinion(
    judgement: Judgement, gold_answer: str, *, disagreement_rate: float, rng: random.Random
) -> Judgement:
    """The second reviewer's vote: the same, except on a ``disagreement_rate`` share of turns."""
    return dissent(judgement, gold_answer) if rng.random() < disagreement_rate else judgement


def reviewer_rng(seed: int, round_no: int, turn_key: str) -> random.Random:
    """``turn_key`` names the turn by when it was asked (its round and place in the batch), not by its random id,
    so a run with the same seed draws the same disagreements."""
    return random.Random(f"reviewer:{seed}:{round_no}:{turn_key}")
