"""Simulated customers: whether an answer is right, and the noisy thumbs they give for it.

Customers know when an answer solved their problem (``answer_is_right`` — the same test the reviewers use), but
most never click, and a few click the wrong thumb. Each decision draws from its own seeded generator, keyed by
round and position, so both arms of a comparison see the same clicks for the same answers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from evals.metrics import rouge_l

# An answer is right when it cites the question's article first and says what its gold answer says. 0.4 ROUGE-L
# accepts a paraphrase of the gold answer's main steps; an answer about another topic scores ~0.1-0.2.
DEFAULT_MATCH_THRESHOLD = 0.4


@dataclass(frozen=True)
class CustomerBehaviour:
    click_rate: float = 0.6  # share of customers who click a thumb at all
    wrong_click_rate: float = 0.1  # of those who click, the share who click the opposite of what they meant

    def __post_init__(self) -> None:
        for name in ("click_rate", "wrong_click_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], not {value}")


def answer_score(answer: str, gold_answer: str) -> float:
    """How closely an answer says what the article's gold answer says (ROUGE-L F, citation brackets included)."""
    return rouge_l(answer, gold_answer)


def answer_is_right(
    *,
    answer: str,
    cited: Sequence[str],
    abstained: bool,
    article_id: str,
    gold_answer: str,
    threshold: float = DEFAULT_MATCH_THRESHOLD,
) -> bool:
    """Right = answered (no hand-off), cites the question's article first, and matches its gold answer."""
    if abstained or not cited or cited[0] != article_id:
        return False
    return answer_score(answer, gold_answer) >= threshold


def thumbs(right: bool, behaviour: CustomerBehaviour, rng: random.Random) -> int | None:
    """+1, -1 or None (no click). Two draws always, so the stream stays aligned whatever the outcome."""
    clicks = rng.random() < behaviour.click_rate
    flips = rng.random() < behaviour.wrong_click_rate
    if not clicks:
        return None
    meant = 1 if right else -1
    return -meant if flips else meant


def customer_rng(seed: int, round_no: int, index: int) -> random.Random:
    return random.Random(f"customer:{seed}:{round_no}:{index}")
