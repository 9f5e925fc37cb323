"""Labelled eval questions: the demo set, a user's CSV/JSONL file, or agreed reviews from the database.

Each row needs ``question``; ``kind`` is ``in_scope`` (answer from the KB), ``out_of_scope`` (decline) or ``probe``
(refuse); in-scope rows name ``expected_article`` (or a Banking77 ``intent``, mapped to its article id). An empty
``reference_answer`` is filled from the expected article's ``gold_answer``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chatbot.errors import BankbotError

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase

KINDS = ("in_scope", "out_of_scope", "probe")
DEMO_EVAL_PATH = Path(__file__).resolve().parent / "data" / "demo_eval.jsonl"
REVIEWS_DATASET = "reviews"  # the dataset label of eval runs made with --from-reviews


class BadEvalSet(BankbotError):
    """An eval file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    kind: str
    question: str
    expected_article: str | None = None
    intent: str | None = None
    reference_answer: str = ""
    # From reviews only: was the logged answer right (approve) or wrong (correct/reject/kb_gap), and what the
    # bot said and how confident it was at the time (calibration can use these without re-running the model).
    label: bool | None = None
    logged_confidence: float | None = None
    logged_abstained: bool | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def gold_answers(kb_dir: Path | None = None) -> dict[str, str]:
    """Article id -> gold answer, from the knowledge base's front matter."""
    from retrieval.kb import load_articles

    return {a.id: a.gold_answer for a in load_articles(kb_dir)}


def load_eval_set(path: Path | str | None = None, *, kb_dir: Path | None = None) -> list[EvalItem]:
    """Items of a CSV or JSONL eval file (default: the demo set), references filled from the KB."""
    path = Path(path) if path is not None else DEMO_EVAL_PATH
    if not path.is_file():
        raise BadEvalSet(f"{path}: no such eval file")
    rows = _read_rows(path)
    gold = gold_answers(kb_dir)
    items = [_item(row, where=f"{path}:{line}", gold=gold) for line, row in rows]
    if not items:
        raise BadEvalSet(f"{path}: no questions in it")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise BadEvalSet(f"{path}: id {item.id!r} appears twice")
        seen.add(item.id)
    return items


def _read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) pairs; JSONL for .jsonl/.json, CSV otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadEvalSet(f"{path}: cannot read it ({exc.__class__.__name__})") from exc
    if path.suffix.lower() in {".jsonl", ".json"}:
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadEvalSet(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise BadEvalSet(f"{path}:{number}: each line must be a JSON object")
            rows.append((number, row))
        return rows
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or "question" not in reader.fieldnames:
        raise BadEvalSet(f"{path}: the CSV header needs a 'question' column")
    # Line numbers count the header as line 1.
    return [(number, dict(row)) for number, row in enumerate(reader, start=2)]


def _item(row: dict[str, Any], *, where: str, gold: dict[str, str]) -> EvalItem:
    from retrieval.kb import article_id_for_intent

    question = str(row.get("question") or "").strip()
    if not question:
        raise BadEvalSet(f"{where}: empty question")
    expected = str(row.get("expected_article") or "").strip() or None
    intent = str(row.get("intent") or "").strip() or None
    if expected is None and intent is not None:
        expected = article_id_for_intent(intent)
    kind = str(row.get("kind") or "").strip() or ("in_scope" if expected else "out_of_scope")
    if kind not in KINDS:
        raise BadEvalSet(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "in_scope" and expected is None:
        raise BadEvalSet(f"{where}: an in_scope question needs expected_article or intent")
    if expected is not None and expected not in gold:
        raise BadEvalSet(f"{where}: expected article {expected!r} is not in the knowledge base")
    reference = str(row.get("reference_answer") or "").strip()
    if not reference and expected is not None:
        reference = gold[expected]
    item_id = str(row.get("id") or "").strip() or where.rsplit(":", 1)[-1]
    return EvalItem(
        id=item_id, kind=kind, question=question, expected_article=expected, intent=intent, reference_answer=reference
    )


# --- reviewed turns -----------------------------------------------------------------------------------------


def review_item(turn: Any) -> EvalItem | None:
    """An eval item from an agreed, reviewed turn, or None when its verdict says nothing about correctness.

    approve: the bot's answer is the reference and was right. correct: the reviewers' answer is the reference and
    the original was wrong. reject: wrong, no reference. kb_gap: wrong, and the KB cannot answer it, so the right
    behaviour is to hand off (scored as out_of_scope).
    """
    verdict = turn.consensus_verdict
    meta = dict(turn.meta or {})
    kind = str(meta.get("kind") or "in_scope")
    if kind not in KINDS:
        kind = "in_scope"
    bot_answer = turn.would_be_answer if turn.abstained and turn.would_be_answer else turn.answer
    if verdict == "approve":
        reference, label = bot_answer, True
    elif verdict == "correct":
        reference, label = (turn.consensus_answer or ""), False
    elif verdict == "reject":
        reference, label = "", False
    elif verdict == "kb_gap":
        reference, label, kind = "", False, "out_of_scope"
    else:
        return None
    return EvalItem(
        id=str(turn.id),
        kind=kind,
        question=turn.question,
        expected_article=meta.get("expected_article") if kind == "in_scope" else None,
        intent=meta.get("intent"),
        reference_answer=reference or "",
        label=label,
        logged_confidence=float(turn.confidence),
        logged_abstained=bool(turn.abstained),
        meta={
            "verdict": verdict,
            "turn_id": str(turn.id),
            "adapter_version": turn.adapter_version,
            "confidence_components": dict(turn.confidence_components or {}),
        },
    )


def load_review_items(app: AppDatabase, *, limit: int | None = None) -> list[EvalItem]:
    """Eval items from every turn whose reviewers agreed, newest first."""
    from sqlmodel import col, select

    from chatbot.db.models import ReviewStatus, Turn

    with app.session() as session:
        stmt = select(Turn).where(Turn.review_status == ReviewStatus.agreed).order_by(col(Turn.created_at).desc())
        if limit is not None:
            stmt = stmt.limit(limit)
        turns = session.exec(stmt).all()
        items = [item for item in (review_item(t) for t in turns) if item is not None]
    if not items:
        raise BadEvalSet("no agreed reviews in the database yet: review some turns first, or use an eval file")
    return items


def limit_items(items: Sequence[EvalItem], limit: int | None) -> list[EvalItem]:
    """The first ``limit`` items of each kind in proportion, so a quick run still sees every kind."""
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 1:
        raise BankbotError("--limit must be at least 1")
    by_kind: dict[str, list[EvalItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    # Proportional quotas, at least one per kind while the limit allows; the biggest kind gives back any excess.
    quota = {kind: max(1, round(limit * len(group) / len(items))) for kind, group in by_kind.items()}
    while sum(quota.values()) > limit:
        quota[max(quota, key=lambda k: quota[k])] -= 1
    keep = {id(item) for kind, group in by_kind.items() for item in group[: quota[kind]]}
    return [item for item in items if id(item) in keep]


def kinds_count(items: Iterable[EvalItem]) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    for item in items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    return counts
