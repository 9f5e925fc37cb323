"""What the training data is made of: turns whose reviewers agreed, read from the database, one per question.

Only turns whose reviewers agreed on ``approve`` or ``correct`` are learned from; ``Turn.consensus_answer`` holds
the answer to learn (the original when approved, the correction when corrected). Everything here but the one
database query (``load_reviewed_turns``) is pure.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase, AppServices

LEARNABLE_VERDICTS = ("approve", "correct")

_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")

ArticlePassages = Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]]


@dataclass(frozen=True)
class ReviewedTurn:
    """What the dataset needs from a Turn row, detached from the ORM so the builder stays pure."""

    turn_id: str
    question: str
    answer: str  # the consensus answer (correction replaces the bot's answer)
    verdict: str
    sources: tuple[Mapping[str, Any], ...] = ()
    created_at: str = ""  # ISO timestamp of the turn's newest review; newer wins among duplicates
    cited: tuple[str, ...] = ()
    reviewer_article: str | None = None  # the article the agreed correction cites, chosen by the reviewers


def normalize_question(text: str) -> str:
    """Case, accents-compatibility forms, punctuation and spacing do not make a question different."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def question_hash(text: str) -> str:
    return hashlib.sha256(normalize_question(text).encode("utf-8")).hexdigest()


def article_of(turn: ReviewedTurn) -> str | None:
    """The article a turn is about: the reviewers' choice, else its first cited source, else its first (top-ranked)
    source."""
    if turn.reviewer_article:
        return turn.reviewer_article
    if turn.cited:
        return turn.cited[0]
    if turn.sources:
        return str(turn.sources[0].get("id")) or None
    return None


def article_confirmed(turn: ReviewedTurn) -> bool:
    """Reviewers vouched for the turn's article: they approved its answer (citation included) or chose the article
    of their correction."""
    return turn.verdict == "approve" or bool(turn.reviewer_article)


def with_article_first(
    sources: Sequence[Mapping[str, Any]], article_id: str, passage: Mapping[str, Any] | None
) -> tuple[dict[str, Any], ...]:
    """The logged sources with the reviewers' article first and top-scored (a corrected answer cites it as [1]);
    the others keep their order behind it. The article's own logged chunk is reused when retrieval found it,
    else ``passage`` (its first chunk from the knowledge base); without either the sources are unchanged."""
    found = [dict(s) for s in sources if str(s.get("id")) == article_id]
    if not found and passage is None:
        return tuple(dict(s) for s in sources)
    rest = [dict(s) for s in sources if str(s.get("id")) != article_id]
    first = found[0] if found else {**dict(passage or {}), "id": article_id}
    first["score"] = max([1.0] + [float(s.get("score", 0.0)) for s in sources])
    first["attached_by_reviewer"] = not found
    return (first, *rest)


def select_learnable(turns: Iterable[ReviewedTurn]) -> list[ReviewedTurn]:
    return [t for t in turns if t.verdict in LEARNABLE_VERDICTS and (t.answer or "").strip()]


def deduplicate(turns: Sequence[ReviewedTurn]) -> tuple[list[ReviewedTurn], int]:
    """One turn per normalised question — the newest review wins, since it reflects current policy.

    Returns (kept turns in a stable order, number dropped)."""
    newest: dict[str, ReviewedTurn] = {}
    for turn in sorted(turns, key=lambda t: (t.created_at, t.turn_id)):
        newest[normalize_question(turn.question)] = turn
    kept = sorted(newest.values(), key=lambda t: (t.created_at, t.turn_id))
    return kept, len(turns) - len(kept)


# --- the database -------------------------------------------------------------------------------------------
def load_reviewed_turns(app: AppServices, passages: ArticlePassages | None = None) -> list[ReviewedTurn]:
    """Every agreed turn with a learnable verdict so far, oldest first (thin query; everything else is pure).
    ``created_at`` is the time of the turn's newest review, so among turns asking the same question the most
    recently reviewed one wins the dedup.

    A correction pointed at another article gets that article as its first source, so the corrected answer's
    [1] refers to the right passage in the training prompt; ``passages`` (default: the knowledge base's first
    chunks, ``retrieval.vector_store.article_passages``) supplies articles retrieval had not found."""
    turns = _agreed_turns(app)
    missing = [
        t.reviewer_article
        for t in turns
        if t.reviewer_article and all(str(s.get("id")) != t.reviewer_article for s in t.sources)
    ]
    found: Mapping[str, Mapping[str, Any]]
    if missing and passages is None:
        from retrieval.vector_store import article_passages

        found = article_passages(app.vector_store, missing)
    else:
        found = passages(missing) if missing and passages is not None else {}
    return [
        replace(t, sources=with_article_first(t.sources, t.reviewer_article, found.get(t.reviewer_article)))
        if t.reviewer_article
        else t
        for t in turns
    ]


def _agreed_turns(app: AppDatabase) -> list[ReviewedTurn]:
    """The agreed, learnable turns as logged, dated by their newest review, oldest turn first."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from chatbot.db.models import Review, ReviewStatus, Turn

    with app.session() as session:
        reviewed_at = dict(
            session.exec(select(Review.turn_id, func.max(Review.created_at)).group_by(col(Review.turn_id))).all()
        )
        stmt = (
            select(Turn)
            .where(Turn.review_status == ReviewStatus.agreed)
            .where(col(Turn.consensus_verdict).in_(LEARNABLE_VERDICTS))
            .order_by(col(Turn.created_at), col(Turn.id))
        )
        return [
            ReviewedTurn(
                turn_id=str(t.id),
                question=t.question,
                answer=t.consensus_answer or "",
                verdict=str(t.consensus_verdict),
                sources=tuple(t.sources or ()),
                created_at=(reviewed_at.get(t.id) or t.created_at).isoformat(),
                cited=tuple(str(c) for c in (t.meta or {}).get("cited", []) or ()),
                reviewer_article=t.consensus_article_id if t.consensus_verdict == "correct" else None,
            )
            for t in session.exec(stmt).all()
        ]
