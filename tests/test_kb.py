from __future__ import annotations

from pathlib import Path

import pytest

from chatbot.errors import BankbotError
from retrieval.kb import BadArticle, article_id_for_intent, demo_kb_dir, load_articles, parse_article

ARTICLE = """---
id: card_arrival
title: Where is my card?
intent: card_arrival
gold_answer: "Cards arrive in 5-7 working days."
---
# Where is my card?

Body text.
"""


def test_demo_kb_articles_are_complete_and_unique() -> None:
    articles = load_articles()
    files = sorted(demo_kb_dir().glob("*.md"))
    assert len(articles) == len(files)
    assert len({a.id for a in articles}) == len(articles)
    for article in articles:
        assert article.title and article.gold_answer and article.body
        assert article.id == article_id_for_intent(article.id)
        assert article.path.stem == article.id


def test_article_id_for_intent_keeps_lowercase_letters_digits_underscore() -> None:
    assert article_id_for_intent("Refund_not_showing_up") == "refund_not_showing_up"
    assert article_id_for_intent("reverted_card_payment?") == "reverted_card_payment"
    assert article_id_for_intent(" top-up by card 2 ") == "topupbycard2"


def test_demo_kb_intents_map_to_their_article_id() -> None:
    for article in load_articles():
        if article.intent not in {"contact_and_hours", "security_advice", "complaints"}:
            assert article_id_for_intent(article.intent) == article.id


def test_parse_article_reads_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "card_arrival.md"
    path.write_text(ARTICLE)
    article = parse_article(path)
    assert (article.id, article.title, article.intent) == ("card_arrival", "Where is my card?", "card_arrival")
    assert article.gold_answer == "Cards arrive in 5-7 working days."
    assert article.body.startswith("# Where is my card?")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ARTICLE.replace('gold_answer: "Cards arrive in 5-7 working days."\n', ""), "lacks gold_answer"),
        (ARTICLE.replace("title: Where is my card?", "title: [unclosed"), "not valid YAML"),
        (ARTICLE.replace("---\n# Where", "# Where"), "never closed"),
        (ARTICLE.replace("id: card_arrival", "id: Card Arrival"), "must use only"),
        ("---\n- a list\n---\nbody\n", "must be a mapping"),
    ],
)
def test_bad_front_matter_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "good.md").write_text(ARTICLE)
    (folder / "broken.md").write_text(text)
    with pytest.raises(BadArticle, match=message) as info:
        load_articles(folder)
    assert "broken.md" in str(info.value)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(ARTICLE)
    (tmp_path / "b.md").write_text(ARTICLE)
    with pytest.raises(BadArticle, match="already used"):
        load_articles(tmp_path)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(BankbotError, match="no such knowledge-base folder"):
        load_articles(tmp_path / "nope")
