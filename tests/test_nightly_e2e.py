"""End to end with the real SmolLM2: reviewed turns in → `bankbot nightly` trains a 3-step adapter → the gate's
decision is recorded → the promoted adapter, merged and exported as GGUF, is what llama.cpp serves to the next
`bankbot ask` (its answer changes) → `bankbot models rollback` brings back the base model's answer. On the same
adapter, the llama.cpp engine's greedy answers are compared with the transformers reference (engine parity).

A 3-step adapter cannot honestly beat the base model, so this test sets promotion_margin=-1.0 and
regression_tolerance=1.0 to let it through;
the gate's decision logic itself is tested with exact values in tests/test_gate.py.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from chatbot import registry
from chatbot.app import build_app
from chatbot.cli import main
from chatbot.db.models import Turn
from chatbot.settings import Settings
from finetune import training_runs
from tests.conftest import MODEL_CACHE
from tests.nightly_support import reviewed_turn, reviewers

pytestmark = pytest.mark.slow


def kb_sources(article_id: str, title: str, text: str) -> list[dict[str, Any]]:
    return [{"id": article_id, "title": title, "score": 0.8, "chunk": 0, "intent": article_id, "text": text}]


def set_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env = {
        "BANKBOT_DATA_DIR": str(tmp_path / "data"),
        "BANKBOT_MODEL_CACHE_DIR": str(MODEL_CACHE),
        "BANKBOT_PROMOTION_MARGIN": "-1.0",
        "BANKBOT_REGRESSION_TOLERANCE": "1.0",
        "BANKBOT_MIN_NEW_EXAMPLES": "4",
        "BANKBOT_MAX_NEW_TOKENS": "16",
        "BANKBOT_ABSTAIN_CONFIDENCE": "0.0",
        "BANKBOT_GATE_EVAL_QUESTIONS": "2",
        "BANKBOT_FEW_SHOT_K": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def review_four_turns(app: Any) -> list[uuid.UUID]:
    """Four turns both reviewers agreed on: three approved, one corrected."""
    ids = reviewers(app, 2)
    card = kb_sources("activate_my_card", "Activating my new card", "Open the app and go to Cards > Activate.")
    arrival = kb_sources("card_arrival", "When will my card arrive?", "Cards arrive within 3 to 5 working days.")
    return [
        reviewed_turn(
            app,
            "how can I switch on my new card",
            "Go to Cards > Activate in the app [1].",
            "approve",
            sources=card,
            reviewer_ids=ids,
        ),
        reviewed_turn(
            app,
            "I got my card, how do I start using it?",
            "Open Cards > Activate [1].",
            "approve",
            sources=card,
            reviewer_ids=ids,
        ),
        reviewed_turn(
            app,
            "my new card still isn't here",
            "Sorry, I don't know.",
            "correct",
            correction="Cards arrive within 3 to 5 working days [1].",
            sources=arrival,
            reviewer_ids=ids,
        ),
        reviewed_turn(
            app,
            "when does a posted card arrive",
            "It arrives in 3 to 5 working days [1].",
            "approve",
            sources=arrival,
            reviewer_ids=ids,
        ),
    ]


def promote_a_night(app: Any, capsys: Any, turns: list[uuid.UUID]) -> str:
    """`bankbot nightly` trains on the reviewed turns and promotes; the promoted version."""
    # Large steps with no warm-up, so that three of them visibly move the served model.
    hp = ["--set", "max_steps=3", "--set", "batch_size=2", "--set", "eval_steps=2"]
    hp += ["--set", "learning_rate=0.01", "--set", "warmup_steps=0"]
    assert main(["nightly", *hp]) == 0
    out = capsys.readouterr().out
    assert "promoted" in out, out

    models = registry.list_models(app)
    assert len(models) == 1 and models[0].status == "production"
    version = models[0].version
    assert registry.production_version(app) == version
    metrics = models[0].eval_metrics
    assert metrics["training"]["steps"] == 3 and metrics["corrected_questions"] == 1
    assert {"candidate", "production"} <= set(metrics) and models[0].decision
    run = training_runs.list_runs(app)[0]
    assert run.status == "succeeded" and sorted(run.source_turn_ids) == sorted(str(t) for t in turns)
    return version


def check_engine_parity(app: Any, version: str) -> None:
    # The export itself is exact: an F32 GGUF answers like transformers. The served Q8_0 file drifts by rounding
    # (same top token at ~97 % of positions, so greedy answers part after a few dozen tokens): reported, and held
    # to the same content.
    exact = engine_parity(app, version, "F32")
    served = engine_parity(app, version, app.settings.gguf_quant)
    for name, parity in (("F32", exact), (app.settings.gguf_quant, served)):
        print(f"engine parity, 3-step adapter, {name}:", {k: v for k, v in parity.items() if k != "samples"})
    assert exact["token_agreement"] >= 0.9
    assert served["rouge_l"] >= 0.5


def test_reviewed_turns_to_promoted_adapter_used_by_the_next_ask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    set_env(monkeypatch, tmp_path)
    assert main(["ingest", "--no-progress"]) == 0
    app = build_app(Settings())
    app.upgrade_database()
    turns = review_four_turns(app)
    capsys.readouterr()
    question = "How do I activate my card?"
    base_answer = ask(question, capsys)
    assert base_answer["adapter_version"] is None

    version = promote_a_night(app, capsys, turns)

    adapted = ask(question, capsys)
    assert adapted["adapter_version"] == version
    # The served weights changed: the answer, or at least the model's own token probabilities behind it.
    assert (adapted["would_be"], adapted["confidence"]) != (base_answer["would_be"], base_answer["confidence"])

    check_engine_parity(app, version)

    assert main(["models", "rollback"]) == 0
    capsys.readouterr()
    restored = ask(question, capsys)
    assert restored["adapter_version"] is None
    assert (restored["would_be"], restored["confidence"]) == (base_answer["would_be"], base_answer["confidence"])


def ask(question: str, capsys: Any) -> dict[str, Any]:
    """`bankbot ask` in a fresh app (as a new process would): the served model's own text and its adapter."""
    assert main(["ask", question, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    app = build_app(Settings())
    with app.session() as session:
        turn = session.get(Turn, uuid.UUID(answer["turn_id"]))
        assert turn is not None
        return {
            "adapter_version": turn.adapter_version,
            "would_be": turn.would_be_answer or turn.answer,
            "confidence": round(turn.confidence, 6),
        }


def engine_parity(app: Any, version: str, quant: str) -> dict[str, Any]:
    from chatbot.generation import build_generator
    from evals.engine_parity import compare

    adapter = registry.production_adapter(app)
    assert adapter is not None and adapter.version == version
    reference = build_generator(app.settings.model_copy(update={"llm_engine": "transformers"}), adapter=adapter)
    served = build_generator(app.settings.model_copy(update={"gguf_quant": quant}), adapter=adapter)
    assert served.backend == "llama-cpp"  # type: ignore[attr-defined]
    return compare(reference, served, n=6, max_new_tokens=24)
