"""Helpers shared by the nightly/dataset/gate tests: reviewed turns written through the real review path."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chatbot import review_store
from chatbot.db import crud
from chatbot.db.models import ReviewCreate, TurnCreate, UserCreate
from finetune import registry, training_runs

if TYPE_CHECKING:
    from finetune.dataset import SFTExample

SOURCES: list[dict[str, Any]] = [
    {
        "id": "activate_my_card",
        "title": "Activating my new card",
        "score": 0.82,
        "chunk": 0,
        "intent": "activate_my_card",
        "text": "Open the app and go to Cards > Activate, then scan the card.",
    },
    {
        "id": "card_arrival",
        "title": "When will my card arrive?",
        "score": 0.55,
        "chunk": 0,
        "intent": "card_arrival",
        "text": "Cards arrive within 3 to 5 working days in the UK.",
    },
]

QUESTIONS = [
    ("How do I activate my new card?", "Open Cards > Activate and scan the card [1].", "approve", None),
    ("my card hasn't arrived yet", "Wrong answer [1].", "correct", "Cards arrive within 3 to 5 working days [2]."),
    ("Can I use Apple Pay?", "Yes, add the card in the Wallet app [1].", "approve", None),
    ("How do I top up automatically?", "Turn on auto top-up in the app [1].", "approve", None),
    ("Can I cancel a transfer I just made?", "Only while it is pending [1].", "approve", None),
    ("why is my balance not updated", "Transfers can take up to 2 hours [1].", "approve", None),
]


def reviewers(app: Any, n: int = 2) -> list[uuid.UUID]:
    ids = []
    with app.session() as session:
        for i in range(n):
            name = f"rev{i}-{uuid.uuid4().hex[:6]}"
            user = crud.create_user(
                session=session, user_create=UserCreate(username=name, role="reviewer", password="password123")
            )
            ids.append(user.id)
    return ids


def reviewed_turn(
    app: Any,
    question: str,
    answer: str,
    verdict: str,
    *,
    correction: str | None = None,
    article_id: str | None = None,
    sources: list[dict[str, Any]] | None = None,
    reviewer_ids: list[uuid.UUID],
    required: int | None = None,
) -> uuid.UUID:
    """A logged turn plus one review per reviewer with the same verdict (so consensus is 'agreed')."""
    with app.session() as session:
        turn = crud.create_turn(
            session=session,
            turn_create=TurnCreate(question=question, answer=answer, sources=sources or SOURCES, confidence=0.7),
        )
        for reviewer in reviewer_ids:
            review_store.add_review(
                session=session,
                review_create=ReviewCreate(
                    turn_id=turn.id,
                    reviewer_id=reviewer,
                    verdict=verdict,
                    corrected_answer=correction,
                    article_id=article_id,
                ),
                required=required or len(reviewer_ids),
            )
        return turn.id


def record_night(app: Any, version: str, examples: Sequence[SFTExample] = ()) -> int:
    """A night's candidate bundle as the nightly job records it, without the LoRA training (no adapter): a training
    run, the candidate with a new index snapshot and the examples' turns as its lineage, and the examples written
    under that snapshot (none: nothing is written, so no collection is opened). Nothing is decided: the caller gates,
    promotes or names an embedder. Returns the snapshot."""
    from finetune.bundle import write_index_snapshot

    run_id = training_runs.start_run(app, base_model="fake", hyperparameters={})
    snapshot = registry.record_candidate(
        app,
        version=version,
        adapter_path=None,
        base_model="fake",
        data_hash=version,
        run_id=run_id,
        new_index_snapshot=True,
        lineage=[e.turn_id for e in examples],
    )
    if examples:
        write_index_snapshot(app, snapshot, list(examples))
    return snapshot


def slow_promotion_checks(monkeypatch: pytest.MonkeyPatch, seconds: float = 0.2) -> None:
    """Widens the window between a promotion reading production and changing it (``registry._checked_target``),
    where unserialised promotions would interleave."""
    checked = registry._checked_target

    def slow_check(settings: Any, session: Any, version: str) -> Any:
        row = checked(settings, session, version)
        time.sleep(seconds)
        return row

    monkeypatch.setattr(registry, "_checked_target", slow_check)


def tiny_llm(folder: Path, source_dir: str) -> Path:
    """A randomly initialised 2-layer Llama with SmolLM2's real tokenizer and chat template: trains and generates
    in milliseconds, so the nightly's plumbing can be tested without the 135M model."""
    if (folder / "config.json").is_file():
        return folder
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(source_dir)
    config.update(
        {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 8,
        }
    )
    model = AutoModelForCausalLM.from_config(config)
    model.save_pretrained(str(folder))
    AutoTokenizer.from_pretrained(source_dir).save_pretrained(str(folder))
    return folder


def make_tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from chatbot.model_loading import builtin_llm_dir
    from chatbot.settings import Settings
    from tests.conftest import MODEL_CACHE

    source = builtin_llm_dir(Settings(data_dir=Path("/nonexistent"), model_cache_dir=MODEL_CACHE))
    return tiny_llm(tmp_path_factory.mktemp("tiny") / "llm", str(source))


def fake_production(app: Any, tmp_path: Path, tiny_model: Path) -> None:
    """An untrained LoRA adapter on the tiny model, promoted as 'prod-0'."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = app.settings.effective_artifact_root / "prod-adapter"  # registered adapters live under the artifact root
    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj", "v_proj"])).save_pretrained(str(folder))
    registry.record_candidate(
        app,
        version="prod-0",
        adapter_path=folder,
        base_model="b",
        data_hash="h",
        run_id=training_runs.start_run(app, base_model="b", hyperparameters={}),
    )
    training_runs.update_run(app, training_runs.list_runs(app)[0].id, status="succeeded")
    registry.promote_version(app, "prod-0", by="test")
