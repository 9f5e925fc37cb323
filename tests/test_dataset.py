"""Dataset building: consensus handling, redaction, dedup, deterministic split, no eval leakage, files, DB query."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from chatbot.app import build_app
from finetune.approved import approved_neighbours
from finetune.dataset import (
    BuiltDataset,
    ReviewedTurn,
    article_of,
    build_dataset,
    content_hash,
    frozen_eval_files,
    is_validation,
    load_reviewed_turns,
    normalize_question,
    question_hash,
    read_frozen_questions,
    sources_needed,
    write_dataset,
)
from tests.conftest import make_settings
from tests.nightly_support import SOURCES, reviewed_turn, reviewers


def words(text: str) -> int:
    return len(text.split())


def turn(
    i: int, question: str, answer: str = "Go to Cards > Activate [1].", verdict: str = "approve", **kw: Any
) -> ReviewedTurn:
    return ReviewedTurn(
        turn_id=f"t{i}",
        question=question,
        answer=answer,
        verdict=verdict,
        sources=tuple(SOURCES),
        created_at=f"2026-01-01T00:00:{i:02d}",
        **kw,
    )


def build(turns: list[ReviewedTurn], frozen: Any = ()) -> BuiltDataset:
    return build_dataset(turns, frozen_questions=frozen, count_tokens=words, prompt_budget=400)


def test_normalize_and_hash_are_exact() -> None:
    assert normalize_question("  How do I ACTIVATE my card?! ") == "how do i activate my card"
    assert question_hash("How do I activate my card?") == hashlib.sha256(b"how do i activate my card").hexdigest()
    # 0x2d96619e % 100 == 10 -> train; 0x20cf2bed % 100 == 9 -> validation (10% rule: < 10)
    assert question_hash("How do I activate my card?")[:8] == "2d96619e"
    assert not is_validation(question_hash("How do I activate my card?"))
    assert question_hash("question number 27")[:8] == "20cf2bed"
    assert is_validation(question_hash("question number 27"))


def test_only_agreed_approve_and_correct_are_learned_and_the_correction_replaces_the_answer() -> None:
    data = build(
        [
            turn(1, "How do I activate my card?"),
            turn(2, "When will my card arrive?", answer="Within 3 to 5 working days [2].", verdict="correct"),
            turn(3, "Is this a rejected one?", verdict="reject"),
            turn(4, "Is this a kb gap?", verdict="kb_gap"),
            turn(5, "Correct without text?", answer="  ", verdict="correct"),
        ]
    )
    by_q = {e.question: e for e in data.examples}
    assert set(by_q) == {"How do I activate my card?", "When will my card arrive?"}
    assert by_q["When will my card arrive?"].messages[-1] == {
        "role": "assistant",
        "content": "Within 3 to 5 working days [2].",
    }
    assert data.counts["not_learnable"] == 3
    assert (data.counts["approve"], data.counts["correct"]) == (1, 1)


def test_prompt_is_the_chat_prompt_with_the_logged_context_and_keeps_cited_passages() -> None:
    from chatbot.prompt import build_messages
    from chatbot.protocols import Source

    data = build([turn(1, "When will my card arrive?", answer="3 to 5 working days [2].")])
    example = data.examples[0]
    # [2] is cited, so both logged passages stay (dropping one would break the numbering)
    assert sources_needed("3 to 5 working days [2].", 2, 1) == 2
    assert sources_needed("Go to Cards [1].", 2, 1) == 1
    expected = build_messages(
        "When will my card arrive?",
        [
            Source(article_id=s["id"], title=s["title"], score=s["score"], text=s["text"], chunk=0, intent=s["intent"])
            for s in SOURCES
        ],
        [],
        [],
        count_tokens=words,
        budget=400,
    )
    assert example.messages[:-1] == expected
    assert "Cards arrive within 3 to 5 working days" in example.messages[-2]["content"]


def test_pii_is_redacted_in_question_and_answer() -> None:
    data = build(
        [turn(1, "my email is jane.doe@example.com, where is my card?", answer="We wrote to jane.doe@example.com [1].")]
    )
    example = data.examples[0]
    text = json.dumps(example.messages)
    assert "jane.doe@example.com" not in text and "jane.doe" not in example.question
    assert example.pii_redacted and data.counts["pii_redacted"] == 1


def test_duplicates_by_normalised_question_keep_the_newest_review() -> None:
    data = build(
        [
            turn(1, "How do I activate my card?", answer="old answer [1]"),
            turn(2, "how do i activate my card", answer="new answer [1]"),
            turn(3, "When will my card arrive?"),
        ]
    )
    assert data.counts["duplicates"] == 1
    kept = [e for e in data.examples if normalize_question(e.question) == "how do i activate my card"]
    assert [e.turn_id for e in kept] == ["t2"] and kept[0].messages[-1]["content"] == "new answer [1]"


def test_split_is_by_question_hash_and_does_not_depend_on_other_data() -> None:
    questions = [f"question number {i}" for i in range(40)]
    full = build([turn(i, q) for i, q in enumerate(questions)])
    assert sorted(e.question for e in full.validation) == ["question number 27", "question number 39"]
    subset = build([turn(i, q) for i, q in enumerate(questions) if i % 2 == 1])
    assert [e.question for e in subset.validation] == ["question number 27", "question number 39"]
    assert content_hash(full) == content_hash(build([turn(i, q) for i, q in enumerate(questions)]))


def test_tiny_data_still_gets_one_validation_example_chosen_by_hash() -> None:
    data = build([turn(1, "How do I activate my card?"), turn(2, "where is my refund")])
    # hashes 2d96619e... and 45cab220...: the lower one is held out
    assert [e.question for e in data.validation] == ["How do I activate my card?"]
    assert len(data.train) == 1


def test_frozen_eval_questions_never_reach_training() -> None:
    frozen = read_frozen_questions(frozen_eval_files())
    eval_question = json.loads(Path("evals/data/demo_eval.jsonl").read_text().splitlines()[100])["question"]
    assert "evals/data/demo_eval.jsonl".endswith(frozen_eval_files()[0].name)
    leaked = eval_question.upper().replace("?", "") + " ?!"  # different case and punctuation: the same question
    data = build([turn(1, leaked), turn(2, "How do I activate my card?")], frozen=frozen)
    assert [e.question for e in data.examples] == ["How do I activate my card?"]
    assert data.counts["frozen_eval_excluded"] == 1


def test_article_is_first_cited_else_top_source() -> None:
    assert article_of(turn(1, "q", cited=("card_arrival",))) == "card_arrival"
    assert article_of(turn(1, "q")) == "activate_my_card"
    assert article_of(ReviewedTurn("t", "q", "a", "approve")) is None


def test_written_dataset_has_manifest_with_counts_hash_and_turn_ids(tmp_path: Path) -> None:
    data = build([turn(i, f"question number {i}") for i in range(30)])
    folder = write_dataset(data, tmp_path / "datasets", prompt_version="rag-v1", frozen_sets=["demo_eval.jsonl"])
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["counts"]["train"] + manifest["counts"]["validation"] == 30
    assert manifest["source_turn_ids"] == sorted(f"t{i}" for i in range(30))
    assert manifest["content_hash"] == content_hash(data) and folder.name.endswith(content_hash(data)[:8])
    lines = (folder / "train.jsonl").read_text().splitlines() + (folder / "validation.jsonl").read_text().splitlines()
    assert len(lines) == 30
    assert not [p for p in (tmp_path / "datasets").iterdir() if p.name.startswith(".")]  # no temp folder left


def test_reviewed_turns_come_from_agreed_consensus_in_the_database(tmp_path: Path, database_url: str) -> None:
    app = build_app(make_settings(tmp_path, database_url=database_url))
    app.upgrade_database()
    ids = reviewers(app, 2)
    approved = reviewed_turn(app, "How do I activate my card?", "Cards > Activate [1].", "approve", reviewer_ids=ids)
    corrected = reviewed_turn(
        app,
        "When will my card arrive?",
        "Tomorrow [1].",
        "correct",
        correction="Within 3 to 5 working days [2].",
        reviewer_ids=ids,
    )
    reviewed_turn(app, "Rejected?", "nonsense", "reject", reviewer_ids=ids)
    reviewed_turn(app, "Only one review", "x", "approve", reviewer_ids=ids[:1], required=2)  # pending
    rows = {t.turn_id: t for t in load_reviewed_turns(app)}
    assert set(rows) == {str(approved), str(corrected)}
    assert rows[str(corrected)].answer == "Within 3 to 5 working days [2]."
    assert rows[str(approved)].answer == "Cards > Activate [1]."
    assert all(t.verdict in ("approve", "correct") for t in rows.values())
    assert rows[str(approved)].sources[0]["id"] == "activate_my_card"


def test_a_question_too_long_for_the_prompt_budget_is_skipped_and_counted() -> None:
    long_question = "Why " + "really " * 150 + "was my card declined?"
    data = build_dataset(
        [turn(1, long_question), turn(2, "How do I activate my card?")],
        frozen_questions=(),
        count_tokens=words,
        prompt_budget=150,
    )
    assert [e.question for e in data.examples] == ["How do I activate my card?"]
    assert data.counts["too_long"] == 1


def test_each_prompt_carries_the_approved_answer_of_the_closest_other_question_about_its_article() -> None:
    card = [
        turn(1, "how do I activate my new card", "Activate it in Cards > Activate [1]."),
        turn(2, "activate my card please", "Open Cards > Activate [1]."),
        turn(3, "where do I activate a new card in the app", "Cards > Activate, then follow the steps [1]."),
    ]
    lone = turn(4, "is my card frozen", "Check Cards > Freeze [1].", reviewer_article="freeze_card")
    picked = approved_neighbours([*card, lone])
    # Jaccard on normalised words: t1~t2 3/8, t1~t3 5/12, t2~t3 2/12
    assert {k: v.turn_id for k, v in picked.items()} == {"t1": "t3", "t2": "t1", "t3": "t1"}
    dataset = build([*card, lone])
    prompts = {e.turn_id: e.messages[-2]["content"] for e in dataset.train + dataset.validation}
    approved = "\n\nApproved answer to a similar question:\nCards > Activate, then follow the steps [1]."
    assert prompts["t1"].endswith(approved)
    assert "Approved answer" not in prompts["t4"]  # alone with its article
    assert dataset.counts["with_approved_answer"] == 3
