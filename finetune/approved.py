"""The approved answer each training prompt carries: the agreed answer of the closest other reviewed question about
the same article, which is what the few-shot store hands the chat at serving time. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from finetune.reviewed_turns import ReviewedTurn, article_of, normalize_question


def _words(text: str) -> frozenset[str]:
    return frozenset(normalize_question(text).split())


def approved_neighbours(turns: Sequence[ReviewedTurn]) -> dict[str, ReviewedTurn]:
    """turn id -> the other turn about the same article whose question shares the most words with it (Jaccard;
    ties go to the newer review). A turn alone with its article gets none: its prompt has no approved answer."""
    by_article: dict[str, list[ReviewedTurn]] = {}
    for turn in turns:
        article = article_of(turn)
        if article:
            by_article.setdefault(article, []).append(turn)
    chosen: dict[str, ReviewedTurn] = {}
    for group in by_article.values():
        for turn in group:
            mine = _words(turn.question)
            others = [t for t in group if t.turn_id != turn.turn_id]
            if others:
                chosen[turn.turn_id] = max(
                    others,
                    key=lambda t: (
                        len(mine & _words(t.question)) / max(len(mine | _words(t.question)), 1),
                        t.created_at,
                        t.turn_id,
                    ),
                )
    return chosen
