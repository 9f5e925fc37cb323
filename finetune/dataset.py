"""Reviewed turns → chat-format SFT examples: pure functions plus one thin database query.

Only turns whose reviewers agreed on ``approve`` or ``correct`` are learned from; ``Turn.consensus_answer`` holds
the answer to learn (the original when approved, the correction when corrected). Each example rebuilds the
prompt the chat builds — the same ``chatbot.prompt.build_messages``, with the retrieved sources logged on the turn
and, as the approved answer, the agreed answer of the most similar *other* reviewed question about the same
article (what the few-shot store hands the chat) — so the adapter learns to reuse an approved answer that fits
and to ground the rest in the passages, not bare question → answer pairs.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LEARNABLE_VERDICTS = ("approve", "correct")
VALIDATION_PERCENT = 10  # share of questions (by hash) held out for early stopping
FROZEN_DIR = Path(__file__).resolve().parent.parent / "evals" / "data"


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


@dataclass(frozen=True)
class SFTExample:
    turn_id: str
    question: str  # redacted
    messages: list[dict[str, str]]  # system/user... then the assistant answer last
    verdict: str
    article_id: str | None
    question_hash: str
    pii_redacted: bool
    # True when reviewers set article_id (approved, or a correction pointed at an article): only then may the
    # question teach retrieval. A correction of a wrongly cited answer keeps the bot's wrong article otherwise.
    article_confirmed: bool = False


@dataclass
class BuiltDataset:
    train: list[SFTExample]
    validation: list[SFTExample]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def examples(self) -> list[SFTExample]:
        return self.train + self.validation


# --- pure pieces -------------------------------------------------------------------------------------------
_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")
_CITATION = re.compile(r"\[(\d+)\]")


def normalize_question(text: str) -> str:
    """Case, accents-compatibility forms, punctuation and spacing do not make a question different."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def question_hash(text: str) -> str:
    return hashlib.sha256(normalize_question(text).encode("utf-8")).hexdigest()


def is_validation(qhash: str, percent: int = VALIDATION_PERCENT) -> bool:
    """Deterministic split: the same question always lands on the same side, whatever else is in the data."""
    return int(qhash[:8], 16) % 100 < percent


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


def cited_numbers(answer: str) -> list[int]:
    """Passage numbers an answer cites, like ``[2]`` (the prompt numbers passages from 1)."""
    return [int(n) for n in _CITATION.findall(answer)]


def sources_needed(answer: str, n_sources: int, max_sources: int) -> int:
    """How many logged passages the training prompt keeps: ``max_sources``, or more when the answer cites a later
    passage — dropping it would make ``[n]`` point at nothing (or at the wrong passage)."""
    cited = [n for n in cited_numbers(answer) if 1 <= n <= n_sources]
    return min(n_sources, max(max_sources, *cited) if cited else max_sources)


def to_source_objects(sources: Sequence[Mapping[str, Any]], keep: int) -> list[Any]:
    """The first ``keep`` logged source dicts as ``chatbot.protocols.Source``, in the logged (= prompt) order, so
    passage numbers in the answer still match."""
    from chatbot.protocols import Source

    ranked = list(sources)[:keep]
    return [
        Source(
            article_id=str(s.get("id", "")),
            title=str(s.get("title", "")),
            score=float(s.get("score", 0.0)),
            text=str(s.get("text", "")),
            chunk=int(s.get("chunk", 0) or 0),
            intent=s.get("intent"),
        )
        for s in ranked
    ]


def build_dataset(
    turns: Iterable[ReviewedTurn],
    *,
    frozen_questions: Iterable[str],
    count_tokens: Callable[[str], int],
    prompt_budget: int,
    max_sources: int = 2,
    validation_percent: int = VALIDATION_PERCENT,
    redact: Callable[[str], tuple[str, bool]] | None = None,  # default: chatbot.pii.redact
    build_messages: Callable[..., list[dict[str, str]]] | None = None,  # default: chatbot.prompt.build_messages
) -> BuiltDataset:
    """SFT examples from reviewed turns: learnable verdicts only, no frozen eval question, redacted, deduplicated,
    split by question hash. ``frozen_questions`` are raw or normalised texts (normalised here)."""
    from chatbot.pii import redact as real_redact
    from chatbot.prompt import build_messages as real_build_messages

    redact_text = redact or real_redact
    render = build_messages or real_build_messages
    frozen = {normalize_question(q) for q in frozen_questions}
    all_turns = list(turns)
    learnable = select_learnable(all_turns)
    # Redact before dedup and the leakage check so that a question differing only in PII is one question.
    redacted: list[tuple[ReviewedTurn, bool]] = []
    for turn in learnable:
        question, q_hit = redact_text(turn.question)
        answer, a_hit = redact_text(turn.answer)
        clean = replace(turn, question=question, answer=answer)
        redacted.append((clean, q_hit or a_hit))
    was_redacted = {t.turn_id: hit for t, hit in redacted}
    not_frozen = [t for t, _ in redacted if normalize_question(t.question) not in frozen]
    kept, duplicates = deduplicate(not_frozen)
    from finetune.approved import approved_neighbours

    neighbours = approved_neighbours(kept)

    train: list[SFTExample] = []
    validation: list[SFTExample] = []
    too_long = 0
    for turn in kept:
        try:
            prompt = render(
                turn.question,
                to_source_objects(turn.sources, sources_needed(turn.answer, len(turn.sources), max_sources)),
                [],
                [{"question": n.question, "answer": n.answer.strip()} for n in [neighbours.get(turn.turn_id)] if n],
                count_tokens=count_tokens,
                budget=prompt_budget,
            )
        except ValueError:
            # A question too long for the training prompt budget is skipped and counted; one long
            # question must not cost the whole night.
            too_long += 1
            continue
        messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in prompt]
        messages.append({"role": "assistant", "content": turn.answer.strip()})
        qhash = question_hash(turn.question)
        example = SFTExample(
            turn_id=turn.turn_id,
            question=turn.question,
            messages=messages,
            verdict=turn.verdict,
            article_id=article_of(turn),
            question_hash=qhash,
            pii_redacted=was_redacted[turn.turn_id],
            article_confirmed=article_confirmed(turn),
        )
        (validation if is_validation(qhash, validation_percent) else train).append(example)
    if not validation and len(train) >= 2:
        # Early stopping needs a validation loss; on tiny data hold out the lowest hash (still deterministic).
        lowest = min(train, key=lambda e: e.question_hash)
        train.remove(lowest)
        validation.append(lowest)
    counts = {
        "turns_seen": len(all_turns),
        "not_learnable": len(all_turns) - len(learnable),
        "frozen_eval_excluded": len(redacted) - len(not_frozen),
        "duplicates": duplicates,
        "too_long": too_long,
        "pii_redacted": sum(1 for e in train + validation if e.pii_redacted),
        "approve": sum(1 for e in train + validation if e.verdict == "approve"),
        "correct": sum(1 for e in train + validation if e.verdict == "correct"),
        "with_approved_answer": sum(1 for t in kept if t.turn_id in neighbours),
        "train": len(train),
        "validation": len(validation),
    }
    return BuiltDataset(train=train, validation=validation, counts=counts)


def example_line(example: SFTExample) -> str:
    return json.dumps(asdict(example), ensure_ascii=False, sort_keys=True)


def content_hash(dataset: BuiltDataset) -> str:
    """sha256 over the exact JSONL lines of both splits: the data's identity in the lineage."""
    digest = hashlib.sha256()
    for name, rows in (("train", dataset.train), ("validation", dataset.validation)):
        digest.update(f"#{name}\n".encode())
        for example in rows:
            digest.update(example_line(example).encode("utf-8") + b"\n")
    return digest.hexdigest()


def manifest(dataset: BuiltDataset, *, version: str, prompt_version: str, frozen_sets: Sequence[str]) -> dict[str, Any]:
    return {
        "version": version,
        "created_at": datetime.now(UTC).isoformat(),
        "content_hash": content_hash(dataset),
        "prompt_version": prompt_version,
        "counts": dataset.counts,
        "frozen_eval_sets": list(frozen_sets),
        "source_turn_ids": sorted(e.turn_id for e in dataset.examples),
        "files": {"train": "train.jsonl", "validation": "validation.jsonl"},
    }


# --- files and database -------------------------------------------------------------------------------------
def frozen_eval_files(directory: Path = FROZEN_DIR) -> list[Path]:
    """Every eval set shipped in evals/data is frozen: none of its questions may be trained on."""
    return sorted(p for p in directory.glob("*") if p.suffix in {".jsonl", ".csv"})


def read_frozen_questions(paths: Sequence[Path]) -> set[str]:
    import csv

    questions: set[str] = set()
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            rows: Iterable[Mapping[str, Any]] = (json.loads(line) for line in text.splitlines() if line.strip())
        else:
            rows = csv.DictReader(text.splitlines())
        questions.update(normalize_question(str(r.get("question") or "")) for r in rows)
    questions.discard("")
    return questions


def write_dataset(dataset: BuiltDataset, root: Path, *, prompt_version: str, frozen_sets: Sequence[str]) -> Path:
    """datasets/<timestamp>-<hash8>/{train,validation}.jsonl + manifest.json, renamed into place when complete."""
    import os
    import tempfile

    digest = content_hash(dataset)
    version = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{digest[:8]}"
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}-", dir=root))
    for name, rows in (("train", dataset.train), ("validation", dataset.validation)):
        (tmp / f"{name}.jsonl").write_text("".join(example_line(e) + "\n" for e in rows), encoding="utf-8")
    info = manifest(dataset, version=version, prompt_version=prompt_version, frozen_sets=frozen_sets)
    (tmp / "manifest.json").write_text(json.dumps(info, indent=2, sort_keys=True), encoding="utf-8")
    target = root / version
    os.replace(tmp, target)
    return target


def read_examples(path: Path) -> list[SFTExample]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [SFTExample(**row) for row in rows]


def load_reviewed_turns(
    app: Any, passages: Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]] | None = None
) -> list[ReviewedTurn]:
    """Every agreed turn with a learnable verdict so far, oldest first (thin query; everything else is pure).
    ``created_at`` is the time of the turn's newest review, so among turns asking the same question the most
    recently reviewed one wins the dedup.

    A correction pointed at another article gets that article as its first source, so the corrected answer's
    [1] refers to the right passage in the training prompt; ``passages`` (default: the knowledge base's first
    chunks, ``retrieval.vector_store.article_passages``) supplies articles retrieval had not found."""
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
        rows = session.exec(stmt).all()
        turns = [
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
            for t in rows
        ]
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
