"""Retrieval metrics (exact values), the isolated eval run, embedder fine-tuning and the `bankbot eval` CLI."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from chatbot.app import build_app
from chatbot.errors import BankbotError
from evals.retrieval import LabelledQuery, RetrievalEval, percentile, read_queries, retrieval_metrics
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from tests.conftest import make_settings

ARTICLES = ["activate_my_card", "card_arrival", "lost_or_stolen_card", "terminate_account", "change_pin"]
# Hand-written queries (labels are Banking77-style intents of the demo articles).
QUERIES = [
    ("how can I activate the card you sent me", "activate_my_card"),
    ("my new card hasn't arrived yet", "card_arrival"),
    ("I lost my card on the bus", "lost_or_stolen_card"),
    ("please close my account for good", "terminate_account"),
    ("I'd like to pick a different PIN", "change_pin"),
]


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    return path


def make_kb(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for article_id in ARTICLES:
        shutil.copy(demo_kb_dir() / f"{article_id}.md", folder)
    return folder


@pytest.fixture
def app(tmp_path: Path, embedder: Any) -> Any:
    app = build_app(make_settings(tmp_path), embedder=embedder)
    assert ingest(app.settings, app.vector_store, [make_kb(tmp_path / "kb")], progress=False).ok
    return app


def test_metrics_from_ranks_are_exact() -> None:
    metrics = retrieval_metrics([1, 2, None, 6], [10.0, 20.0, 30.0, 40.0])
    assert metrics["accuracy_at_1"] == 0.25
    assert metrics["recall_at_5"] == 0.5
    assert metrics["mrr"] == pytest.approx((1 + 0.5 + 1 / 6) / 4)
    assert metrics["latency_ms_p50"] == 25.0
    assert metrics["latency_ms_p95"] == pytest.approx(38.5)
    assert metrics["n"] == 4
    assert percentile([5.0], 95) == 5.0
    with pytest.raises(BankbotError):
        retrieval_metrics([], [])


def test_read_queries_rejects_a_wrong_header(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("question,label\nhi,x\n")
    with pytest.raises(BankbotError, match="text,category"):
        read_queries(path)


def test_eval_on_the_live_retriever(app: Any) -> None:
    metrics = RetrievalEval([LabelledQuery(t, c) for t, c in QUERIES]).run(app)
    assert metrics["n"] == len(QUERIES)
    assert metrics["accuracy_at_1"] >= 0.8
    assert metrics["accuracy_at_1"] <= metrics["mrr"] <= metrics["recall_at_5"] == 1.0
    assert 0 < metrics["latency_ms_p50"] <= metrics["latency_ms_p95"]


def test_examples_run_in_a_temporary_space(app: Any) -> None:
    queries = [LabelledQuery("the thingy still hasn't turned up", "card_arrival")]
    examples = (["my thingy hasn't turned up yet", "the thingy has still not arrived"], ["card_arrival"] * 2)
    before = app.example_index.count()  # the articles' own example questions
    collections_before = sorted(c.name for c in app.vector_store._client.list_collections())
    metrics = RetrievalEval(queries, examples).run(app)
    assert metrics["accuracy_at_1"] == 1.0
    assert metrics["examples_added"] == 2
    assert app.example_index.count() == before  # the user's index is untouched
    assert sorted(c.name for c in app.vector_store._client.list_collections()) == collections_before
    assert not (app.settings.data_dir / "embedders").exists()


def test_train_embedder_writes_a_versioned_folder(tmp_path: Path) -> None:
    from chatbot.model_loading import load_embedder
    from finetune.embedder import METADATA_FILE, train_embedder

    settings = make_settings(tmp_path, device="cpu")
    questions = [q for q, _ in QUERIES] * 2
    ids = [c for _, c in QUERIES] * 2
    texts = {c: c.replace("_", " ") for _, c in QUERIES}
    out = train_embedder(settings, questions, ids, article_texts=texts, batch_size=4, max_per_article=None)
    assert out.parent == settings.data_dir / "embedders"
    meta = json.loads((out / METADATA_FILE).read_text())
    assert meta["version"] == out.name and meta["examples"] == 10 and meta["articles"] == 5
    assert meta["train_seconds"] > 0
    vector = load_embedder(settings, str(out)).encode(["hello"])
    assert vector.shape == (1, 384)
    assert not any(p.name.startswith(".") for p in out.parent.iterdir())  # no half-written temp folder left


def test_train_embedder_needs_known_articles(tmp_path: Path) -> None:
    from finetune.embedder import train_embedder

    with pytest.raises(BankbotError, match="at least 2"):
        train_embedder(make_settings(tmp_path), ["q"], ["nowhere"], article_texts={"a": "A"})


def test_cli_eval_retrieval_prints_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from chatbot.cli import main

    monkeypatch.setenv("BANKBOT_DATA_DIR", str(tmp_path / "cli-data"))
    assert main(["ingest", "--no-progress", str(make_kb(tmp_path / "kb"))]) == 0
    capsys.readouterr()
    queries = write_csv(tmp_path / "q.csv", QUERIES)
    assert main(["eval", "retrieval", "--queries", str(queries), "--json", "-"]) == 0
    captured = capsys.readouterr()
    metrics = json.loads(captured.out)
    assert set(metrics) >= {"accuracy_at_1", "recall_at_5", "mrr", "latency_ms_p50", "latency_ms_p95", "n"}
    assert metrics["n"] == len(QUERIES)
    assert "accuracy_at_1" in captured.err  # the table goes to stderr when stdout carries JSON
    assert main(["eval", "retrieval", "--queries", str(tmp_path / "none.csv")]) == 2


def test_training_pairs_pair_questions_of_the_same_article() -> None:
    from finetune.embedder import training_pairs

    questions = ["card lost", "lost my card", "where is my card", "close account"]
    ids = ["lost", "lost", "arrival", "unknown"]
    anchors, positives, labels = training_pairs(questions, ids, {"lost": "Lost card", "arrival": "Card arrival"})
    pairs = sorted(zip(anchors, positives, labels, strict=True))
    # "close account" has no article text: left out; "where is my card" is alone: paired with its article's title.
    assert pairs == [
        ("card lost", "lost my card", "lost"),
        ("lost my card", "card lost", "lost"),
        ("where is my card", "Card arrival", "arrival"),
    ]
    capped = training_pairs(questions, ids, {"lost": "L", "arrival": "A"}, max_per_article=1)
    assert sorted(capped[2]) == ["arrival", "lost"]


def test_same_article_negatives_do_not_count() -> None:
    import torch

    from finetune.embedder import same_article_ranking_loss

    vectors = {"a": [1.0, 0.0], "b": [1.0, 0.0], "c": [0.0, 1.0]}

    def model(features: dict[str, Any]) -> dict[str, torch.Tensor]:
        return {"sentence_embedding": torch.tensor([vectors[t] for t in features["texts"]])}

    loss = same_article_ranking_loss(model, scale=20.0)
    # a and b are the same article and identical: masked, the loss only sees c, which is orthogonal.
    same = loss([{"texts": ["a", "b", "c"]}, {"texts": ["a", "b", "c"]}], torch.tensor([0, 0, 1]))
    assert same.item() == pytest.approx(0.0, abs=1e-6)  # log(1 + e^-20) for every row
    # Labelled as different articles, b is a negative as close as a's own positive: ln 2 for rows a and b.
    different = loss([{"texts": ["a", "b", "c"]}, {"texts": ["a", "b", "c"]}], torch.tensor([0, 1, 2]))
    assert different.item() == pytest.approx(2 / 3 * math.log(2), rel=1e-4)
