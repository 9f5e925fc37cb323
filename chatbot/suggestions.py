"""Suggested articles ("Did you mean …?"): what a hand-off offers when retrieval found articles but was not sure
which one answers.

A retrieval miss shown as an answer is the commonest wrong answer, so an uncertain article is handed off rather than
answered. Most such questions still have their article among the first few retrieved (recall@5 is far above
accuracy@1, docs/benchmarks.md): offering those titles lets the customer, who knows what they meant, pick one in a
click, and the answer then comes from the article they chose (its reviewers' approved answer, else its own
sentences; ``ChatPipeline.answer_chosen_article``). The customer can still ask for a person. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from chatbot.protocols import Source

if TYPE_CHECKING:
    from chatbot.settings import Settings

# Hand-offs whose articles are not worth offering: nothing relevant was found, the guard refused the question, or
# retrieval itself failed.
NOT_SUGGESTED = ("out_of_scope", "retrieval_unavailable")


def suggests_articles(reason: str | None) -> bool:
    """Whether a hand-off for this reason offers the retrieved articles (an uncertain or failed answer does)."""
    return reason is not None and reason not in NOT_SUGGESTED and not reason.startswith("guard:")


def offered_articles(kind: str, reason: str | None, retrieved: Sequence[Source], settings: Settings) -> list[Source]:
    """The articles a turn that ended as ``kind`` for ``reason`` offers: none unless it is a suggesting hand-off;
    else up to ``settings.handoff_suggestions``, each at least ``settings.min_retrieval_score``."""
    if kind != "handoff" or not suggests_articles(reason):
        return []
    return suggested_articles(retrieved, limit=settings.handoff_suggestions, min_score=settings.min_retrieval_score)


def suggested_articles(retrieved: Sequence[Source], *, limit: int, min_score: float) -> list[Source]:
    """Up to ``limit`` distinct articles in retrieval's order, each scoring at least ``min_score`` (the in-scope
    floor: an article below it is not about the question)."""
    chosen: list[Source] = []
    seen: set[str] = set()
    for source in retrieved:
        if len(chosen) >= limit:
            break
        if source.article_id in seen or not source.article_id or source.score < min_score:
            continue
        seen.add(source.article_id)
        chosen.append(source)
    return chosen


def chosen_first(retrieved: Sequence[Source], article_id: str) -> list[Source] | None:
    """The retrieved sources with the customer's article first (None: it was not retrieved for this question, so
    it was never offered: a client cannot make the bot answer from an arbitrary article)."""
    picked = [s for s in retrieved if s.article_id == article_id]
    if not picked:
        return None
    return [picked[0], *(s for s in retrieved if s.article_id != article_id)]
