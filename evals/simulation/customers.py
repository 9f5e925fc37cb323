"""Simulated customers: whether an answer is right, and the noisy thumbs they give for it.

Customers know when an answer solved their problem (``answer_is_right``: the correctness judge of evals/judge.py,
the same test the reviewers and the held-out evaluation use), but most never click, and a few click the wrong
thumb. Each decision draws from its own seeded generator, keyed by round and position, so both arms of a
comparison see the same clicks for the same answers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from evals.judge import DEFAULT_COVERAGE, Verdict, judge
from evals.metrics import rouge_l

# The share of the gold answer's lead facts a right answer must state (the judge's ``coverage``).
DEFAULT_MATCH_THRESHOLD = DEFAULT_COVERAGE


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
    """How closely an answer words what the article's gold answer says (ROUGE-L F, citation brackets included): a
    secondary number next to the judge's verdict."""
    return rouge_l(answer, gold_answer)


@lru_cache(maxsize=1)
def _demo_bodies() -> dict[str, str]:
    from retrieval.kb import load_articles

    return {a.id: a.body for a in load_articles()}


def demo_article_text(article_id: str) -> str | None:
    """The body of a demo-KB article (the simulation's knowledge base); None for an id it does not have."""
    return _demo_bodies().get(article_id)


def answer_verdict(
    *,
    answer: str,
    cited: Sequence[str],
    abstained: bool,
    article_id: str,
    gold_answer: str,
    threshold: float = DEFAULT_MATCH_THRESHOLD,
    question: str = "",
    retrieved: Sequence[str] = (),
) -> Verdict:
    """The judge on the answer the customer saw, against the article's gold answer and text (a hand-off is wrong:
    ``abstained`` when ``retrieved`` ranked the article first, else ``wrong_article``)."""
    return judge(
        answer,
        cited,
        article_id,
        gold_answer,
        demo_article_text(article_id),
        question=question,
        abstained=abstained,
        retrieved=retrieved,
        coverage=threshold,
    )


def answer_is_right(
    *,
    answer: str,
    cited: Sequence[str],
    abstained: bool,
    article_id: str,
    gold_answer: str,
    threshold: float = DEFAULT_MATCH_THRESHOLD,
    question: str = "",
) -> bool:
    """Right = answered (no hand-off), cites the question's article first, states at least ``threshold`` of its
    gold answer's lead facts and no fact the gold answer and the article lack."""
    return answer_verdict(
        answer=answer,
        cited=cited,
        abstained=abstained,
        article_id=article_id,
        gold_answer=gold_answer,
        threshold=threshold,
        question=question,
    ).right


def model_answer(
    *,
    answer: str,
    answer_kind: str,
    would_be_answer: str | None,
    cited: Sequence[str],
    source_ids: Sequence[str],
) -> tuple[str, list[str]] | None:
    """(text, cited article ids) of what the model wrote: the shown answer when it was the model's own, else the
    withheld would-be answer with its markers read against the prompt's passages (``source_ids``, in prompt order);
    None when the model wrote nothing (out of scope, refused). The confidence and the abstention threshold are about
    this answer, so calibration and the reviewers' verdict judge it, not the passage or hand-off shown instead."""
    if answer_kind == "generated":
        return answer, list(cited)
    if not would_be_answer:
        return None
    from chatbot.protocols import Source
    from chatbot.turn_text import attach_citations

    sources = [Source(article_id=article_id, title="", score=0.0) for article_id in source_ids]
    return would_be_answer, attach_citations(would_be_answer, sources)[1]


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
