"""Simulated reviewers: judge a turn against its knowledge-base article; approve it or correct it.

Both reviewers apply the same rule; on a small, seeded share of turns the second one votes the other way, so the
consensus code sees disputes (which the nightly job must then leave out). A correction is the article's gold
answer with a citation marker, and the reviewer attaches the article as the turn's first source, so the model
learns to cite the right article.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
) -> Judgement:
    """What a careful reviewer with the article in front of them decides."""
    right = answer_is_right(
        answer=answer,
        cited=cited,
        abstained=abstained,
        article_id=article_id,
        gold_answer=gold_answer,
        threshold=threshold,
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
    return random.Random(f"reviewer:{seed}:{round_no}:{turn_key}")


def sources_with_article(
    sources: Sequence[Mapping[str, Any]], *, article_id: str, title: str, text: str
) -> list[dict[str, Any]]:
    """The turn's logged sources with the right article first and top-scored (the training prompt keeps the
    best-scored source first); the other sources keep their order behind it. The article's own logged chunk is
    reused when retrieval found it, otherwise the article text the reviewer attached."""
    rest = [dict(s) for s in sources if str(s.get("id")) != article_id]
    found = [dict(s) for s in sources if str(s.get("id")) == article_id]
    top = max([float(s.get("score", 0.0)) for s in sources] + [0.0])
    first: dict[str, Any] = (
        found[0] if found else {"id": article_id, "title": title, "chunk": 0, "intent": None, "text": text}
    )
    first["score"] = max(1.0, top)
    first["attached_by_reviewer"] = not found
    return [first, *rest]
