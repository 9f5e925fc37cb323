"""Reviewed turns → chat-format SFT examples: pure functions plus the dataset's files.

The turns learned from are read and deduplicated in ``finetune.reviewed_turns`` (its names are importable from here
too). Each example rebuilds the prompt the chat builds — the same ``chatbot.prompt.build_messages``, with the
retrieved sources logged on the turn and, as the approved answer, the agreed answer of the most similar *other*
reviewed question about the same article (what the few-shot store hands the chat) — so the adapter learns to
reuse an approved answer that fits and to ground the rest in the passages, not bare question → answer pairs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from finetune.approved import approved_neighbours
from finetune.reviewed_turns import (
    LEARNABLE_VERDICTS,
    ReviewedTurn,
    article_confirmed,
    article_of,
    deduplicate,
    load_reviewed_turns,
    normalize_question,
    question_hash,
    select_learnable,
    with_article_first,
)

__all__ = [
    "FROZEN_DIR",
    "LEARNABLE_VERDICTS",
    "VALIDATION_PERCENT",
    "BuiltDataset",
    "ReviewedTurn",
    "SFTExample",
    "article_confirmed",
    "article_of",
    "build_dataset",
    "cited_numbers",
    "content_hash",
    "deduplicate",
    "example_line",
    "frozen_eval_files",
    "is_validation",
    "load_reviewed_turns",
    "manifest",
    "normalize_question",
    "question_hash",
    "read_examples",
    "read_frozen_questions",
    "select_learnable",
    "sources_needed",
    "split_examples",
    "to_source_objects",
    "with_article_first",
    "write_dataset",
]

VALIDATION_PERCENT = 10  # share of questions (by hash) held out for early stopping
FROZEN_DIR = Path(__file__).resolve().parent.parent / "evals" / "data"

Render = Callable[..., list[dict[str, str]]]


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
_CITATION = re.compile(r"\[(\d+)\]")


def is_validation(qhash: str, percent: int = VALIDATION_PERCENT) -> bool:
    """Deterministic split: the same question always lands on the same side, whatever else is in the data."""
    return int(qhash[:8], 16) % 100 < percent


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
    build_messages: Render | None = None,  # default: chatbot.prompt.build_messages
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
    redacted = [_redacted(turn, redact_text) for turn in learnable]
    was_redacted = {t.turn_id: hit for t, hit in redacted}
    not_frozen = [t for t, _ in redacted if normalize_question(t.question) not in frozen]
    kept, duplicates = deduplicate(not_frozen)
    neighbours = approved_neighbours(kept)

    examples: list[SFTExample] = []
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
        examples.append(_example(turn, prompt, pii_redacted=was_redacted[turn.turn_id]))
    train, validation = split_examples(examples, validation_percent)
    counts = {
        "turns_seen": len(all_turns),
        "not_learnable": len(all_turns) - len(learnable),
        "frozen_eval_excluded": len(redacted) - len(not_frozen),
        "duplicates": duplicates,
        "too_long": too_long,
        **_example_counts(examples),
        "with_approved_answer": sum(1 for t in kept if t.turn_id in neighbours),
        "train": len(train),
        "validation": len(validation),
    }
    return BuiltDataset(train=train, validation=validation, counts=counts)


def _redacted(turn: ReviewedTurn, redact_text: Callable[[str], tuple[str, bool]]) -> tuple[ReviewedTurn, bool]:
    """The turn with PII redacted from its question and answer, and whether anything was."""
    question, q_hit = redact_text(turn.question)
    answer, a_hit = redact_text(turn.answer)
    return replace(turn, question=question, answer=answer), q_hit or a_hit


def _example(turn: ReviewedTurn, prompt: Sequence[Mapping[str, Any]], *, pii_redacted: bool) -> SFTExample:
    """The chat prompt as rendered, then the agreed answer as the assistant's turn."""
    messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in prompt]
    messages.append({"role": "assistant", "content": turn.answer.strip()})
    return SFTExample(
        turn_id=turn.turn_id,
        question=turn.question,
        messages=messages,
        verdict=turn.verdict,
        article_id=article_of(turn),
        question_hash=question_hash(turn.question),
        pii_redacted=pii_redacted,
        article_confirmed=article_confirmed(turn),
    )


def split_examples(
    examples: Sequence[SFTExample], validation_percent: int = VALIDATION_PERCENT
) -> tuple[list[SFTExample], list[SFTExample]]:
    """(train, validation) by question hash, in the given order."""
    train: list[SFTExample] = []
    validation: list[SFTExample] = []
    for example in examples:
        (validation if is_validation(example.question_hash, validation_percent) else train).append(example)
    if not validation and len(train) >= 2:
        # Early stopping needs a validation loss; on tiny data hold out the lowest hash (still deterministic).
        lowest = min(train, key=lambda e: e.question_hash)
        train.remove(lowest)
        validation.append(lowest)
    return train, validation


def _example_counts(examples: Sequence[SFTExample]) -> dict[str, int]:
    return {
        "pii_redacted": sum(1 for e in examples if e.pii_redacted),
        "approve": sum(1 for e in examples if e.verdict == "approve"),
        "correct": sum(1 for e in examples if e.verdict == "correct"),
    }


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
