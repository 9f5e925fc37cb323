"""Whole articles for passage answers: sentences chosen by meaning, the article read back from a real Chroma
collection with the real embedder in a temporary folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatbot.article_reader import ArticleReader
from chatbot.passage_answer import choose_sentences
from retrieval.ingest import ingest
from retrieval.kb import demo_kb_dir
from retrieval.vector_store import open_vector_store
from tests.conftest import make_settings


def test_sentences_by_meaning_are_the_closest_four_in_article_order() -> None:
    passage = "Alpha one here. Beta two here. Gamma three here. Delta four here. Epsilon five here. Alpha one here."
    closeness = {"Alpha one here.": 0.1, "Beta two here.": 0.9, "Gamma three here.": 0.5, "Delta four here.": 0.7}

    def similarity(question: str, sentences: Any) -> list[float]:
        return [closeness.get(s, 0.3) for s in sentences]

    chosen = choose_sentences("q", passage, similarity=similarity)
    assert chosen == ["Beta two here.", "Gamma three here.", "Delta four here.", "Epsilon five here."]


def test_the_reader_gives_the_whole_article_and_ranks_its_sentences(tmp_path: Path, embedder: Any) -> None:
    settings = make_settings(tmp_path)
    store = open_vector_store(settings, embedder)
    ingest(settings, store, [demo_kb_dir() / "card_delivery_estimate.md"], progress=False)
    reader = ArticleReader(lambda: store)
    text = reader.text("card_delivery_estimate")
    assert text is not None
    assert "| Standard | UK | 5–7 working days | Free |" in text and "Cards > New virtual card" in text
    assert reader.text("no_such_article") is None
    title = "How long does card delivery take?"
    chosen = choose_sentences("How long does card delivery take?", text, title, similarity=reader.similarity)
    assert len(chosen) == 4 and title not in chosen
    assert "Option: Standard; Where: UK; Time: 5–7 working days; Cost: Free." in chosen  # the quantity asked for


def test_a_store_that_cannot_open_gives_no_article_and_stops_nothing() -> None:
    def down() -> Any:
        raise ConnectionError("the Chroma server is down")

    reader = ArticleReader(down)  # built without touching the store
    assert reader.text("card_arrival") is None
