"""The classification head over indexed example questions: fit, predict, fuse (pure), and in the retriever."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from retrieval.example_head import ExampleHead, fit_head, fuse_with_head
from retrieval.example_index import ExampleIndex
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from retrieval.retriever import build_retriever
from retrieval.vector_store import open_vector_store
from tests.conftest import make_settings


def test_predict_is_a_softmax_of_the_linear_scores() -> None:
    import numpy as np

    head = ExampleHead(
        classes=("a", "b", "c"), coef=np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), intercept=np.zeros(3)
    )
    probabilities = head.predict([2.0, 0.0])  # logits 2, 0, 0
    total = math.exp(2) + 2
    assert probabilities == pytest.approx({"a": math.exp(2) / total, "b": 1 / total, "c": 1 / total})


def test_fuse_averages_the_vote_and_the_head_over_the_articles_of_either() -> None:
    fused = fuse_with_head({"a": 0.6, "b": 0.4}, {"b": 0.9, "c": 0.1}, weight=0.5)
    assert fused == pytest.approx({"a": 0.3, "b": 0.65, "c": 0.05})
    assert fuse_with_head({"a": 0.6}, {}) == {"a": 0.6}


def test_no_head_below_the_minimum_or_with_fewer_than_three_articles() -> None:
    vectors = [[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.7, 0.7], [0.6, 0.8]]
    labels = ["a", "a", "b", "b", "c", "c"]
    assert fit_head(vectors, labels, min_examples=7) is None
    assert fit_head(vectors[:4], labels[:4], min_examples=1) is None  # two articles: the vote alone decides
    head = fit_head(vectors, labels, min_examples=6)
    assert head is not None and head.classes == ("a", "b", "c")
    assert max((p := head.predict([1.0, 0.05])), key=lambda k: p[k]) == "a"
    assert sum(p.values()) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 vectors but 1"):
        fit_head(vectors[:2], labels[:1])


# Three articles with six wordings each: enough for a head at min_examples 12.
EXAMPLES = {
    "card_arrival": [
        "when will my card come",
        "my new card has not arrived yet",
        "how long does the card take to get here",
        "still waiting for my card in the post",
        "where is the card you sent me",
        "card delivery is taking ages",
    ],
    "change_pin": [
        "how do i change my pin",
        "i want a different pin number",
        "can i pick a new pin",
        "reset the pin on my card",
        "where do i update my pin code",
        "set another pin please",
    ],
    "exchange_rate": [
        "what exchange rate do you use",
        "how much is the currency conversion",
        "rate for euros to pounds",
        "is the exchange rate fair",
        "what fx rate applies abroad",
        "how are foreign currencies converted",
    ],
}


def test_the_index_fits_its_head_once_per_snapshot_and_the_retriever_uses_it(tmp_path: Path, embedder: Any) -> None:
    settings = make_settings(tmp_path, example_head_min_examples=12)
    store = open_vector_store(settings, embedder)
    ingest(settings, store, [demo_kb_dir() / f"{a}.md" for a in EXAMPLES], progress=False)
    index = ExampleIndex.open(settings, embedder)
    index.remove(list(EXAMPLES), source="kb")  # the articles' own example questions: this test counts its own
    index.add(EXAMPLES["card_arrival"] + EXAMPLES["change_pin"], ["card_arrival"] * 6 + ["change_pin"] * 6, source="t")
    assert index.head(min_examples=12) is None  # two articles
    index.add(EXAMPLES["exchange_rate"], ["exchange_rate"] * 6, source="t")
    head = index.head(min_examples=12)
    assert head is not None and head.classes == ("card_arrival", "change_pin", "exchange_rate")
    assert index.head(min_examples=12) is head  # cached until the index changes
    assert index.head(min_examples=19) is None

    question = "has my card been posted yet"
    with_head = build_retriever(settings, store, index).invoke(question)
    without = build_retriever(settings.model_copy(update={"example_head": False}), store, index).invoke(question)
    assert with_head[0].metadata["article_id"] == "card_arrival"
    assert with_head[0].metadata["score"] == pytest.approx(without[0].metadata["score"], abs=1e-6)  # evidence kept
    assert with_head[0].metadata["rank_score"] != pytest.approx(without[0].metadata["rank_score"], abs=1e-6)
