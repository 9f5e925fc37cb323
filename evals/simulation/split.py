"""Labelled customer questions: read them, hold some out (stratified, seeded), and deal out the rest per round.

The held-out questions are never asked during a simulation; the rest form the pool that simulated customers
draw from. Both arms of a comparison get the very same batches (``customer_batches`` is a pure function of the
pool and the seed).
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chatbot.errors import BankbotError


class BadQuestions(BankbotError):
    """The questions file is missing, unreadable or lacks the text/category columns."""


@dataclass(frozen=True)
class LabelledQuestion:
    text: str
    category: str  # the intent, e.g. a Banking77 label


def read_questions(path: Path) -> list[LabelledQuestion]:
    """Rows of a ``text,category`` CSV, blank texts skipped; a clear one-line error for a bad file."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = set(reader.fieldnames or ())
            if not {"text", "category"} <= columns:
                raise BadQuestions(
                    f"{path}: needs a header with 'text' and 'category' columns, found {sorted(columns)}"
                )
            rows = [
                LabelledQuestion(str(r["text"]).strip(), str(r["category"]).strip())
                for r in reader
                if str(r.get("text") or "").strip() and str(r.get("category") or "").strip()
            ]
    except FileNotFoundError as exc:
        raise BadQuestions(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadQuestions(f"{path}: cannot read it as CSV ({exc.__class__.__name__})") from exc
    if not rows:
        raise BadQuestions(f"{path}: no labelled questions")
    return rows


def by_category(questions: Sequence[LabelledQuestion]) -> dict[str, list[LabelledQuestion]]:
    groups: dict[str, list[LabelledQuestion]] = defaultdict(list)
    for q in questions:
        groups[q.category].append(q)
    return dict(groups)


def stratified_split(
    questions: Sequence[LabelledQuestion], *, holdout_fraction: float, seed: int
) -> tuple[list[LabelledQuestion], list[LabelledQuestion]]:
    """(pool, held_out): per category, round(n * fraction) questions held out (at least one when the category has
    two or more, none when it has one), chosen by a per-category seeded shuffle. Order is input order."""
    if not 0.0 < holdout_fraction < 1.0:
        raise BadQuestions(f"the held-out fraction must be between 0 and 1, not {holdout_fraction}")
    held: set[int] = set()
    indices: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        indices[q.category].append(i)
    for category in sorted(indices):
        idx = indices[category]
        k = min(len(idx) - 1, max(1, round(len(idx) * holdout_fraction))) if len(idx) > 1 else 0
        # A per-category generator: adding a category elsewhere never changes this one's held-out questions.
        chosen = random.Random(f"{seed}:{category}").sample(idx, k)
        held.update(chosen)
    pool = [q for i, q in enumerate(questions) if i not in held]
    held_out = [q for i, q in enumerate(questions) if i in held]
    return pool, held_out


def customer_batches(
    pool: Sequence[LabelledQuestion], *, rounds: int, per_round: int, seed: int
) -> list[list[LabelledQuestion]]:
    """``rounds`` disjoint batches of ``per_round`` questions drawn without replacement from the pool."""
    if rounds < 1 or per_round < 1:
        raise BadQuestions("rounds and questions per round must be at least 1")
    if rounds * per_round > len(pool):
        raise BadQuestions(
            f"{rounds} rounds x {per_round} questions need {rounds * per_round}, the pool has {len(pool)}"
        )
    drawn = random.Random(seed).sample(range(len(pool)), rounds * per_round)
    return [[pool[i] for i in drawn[r * per_round : (r + 1) * per_round]] for r in range(rounds)]


def stratified_subset(questions: Sequence[LabelledQuestion], *, size: int, seed: int) -> list[LabelledQuestion]:
    """At most ``size`` questions spread over the categories round-robin (sorted categories, seeded order inside
    each), so a small answer-quality subset still covers as many intents as it can."""
    groups = by_category(questions)
    rng = random.Random(seed)
    queues = {c: rng.sample(groups[c], len(groups[c])) for c in sorted(groups)}
    order = sorted(queues)
    rng.shuffle(order)
    picked: list[LabelledQuestion] = []
    while len(picked) < size and any(queues.values()):
        for category in order:
            if queues[category] and len(picked) < size:
                picked.append(queues[category].pop())
    return picked
