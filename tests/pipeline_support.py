"""A fixed keyword retriever and an app factory shared by the pipeline tests (fake LLM, real database)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from sqlmodel import select

from chatbot.app import BankBot, build_app
from chatbot.db.models import Turn
from tests.conftest import make_settings

# The keys of ``ChatAnswer.to_json``: what the CLI's --json and the chat API return.
CHAT_JSON_KEYS = {"answer", "sources", "confidence", "abstained", "answer_kind", "suggestions", "turn_id", "latency_ms"}

ARTICLES = {
    # article id: (title, text, words that make the fixed retriever return it, score)
    "card_arrival": (
        "When will my card arrive?",
        "Cards arrive within 5–7 working days. Track it in the app.",
        {"card", "arrive", "post"},
        0.82,
    ),
    "change_pin": ("Changing my PIN", "Change your PIN at any UK ATM. It is free.", {"pin"}, 0.61),
    "contact_and_hours": (
        "How to contact us",
        "Chat with us 24/7 in the app. Phone +44 1632 960 100.",
        {"contact", "phone"},
        0.7,
    ),
}


class KeywordRetriever(BaseRetriever):
    """A tiny real LangChain retriever: an article matches when the question shares one of its words."""

    calls: int = 0

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        self.calls += 1
        words = {w.strip("?.,!").lower() for w in query.split()}
        docs = []
        for article_id, (title, text, keys, score) in ARTICLES.items():
            if words & keys:
                meta = {"article_id": article_id, "title": title, "intent": article_id, "chunk": 0, "score": score}
                docs.append(Document(page_content=text, metadata=meta))
        return sorted(docs, key=lambda d: -d.metadata["score"])


def make_app(tmp_path: Path, database_url: str, **settings: Any) -> BankBot:
    values: dict[str, Any] = {"database_url": database_url, "few_shot_k": 0}
    values.update(settings)
    app = build_app(make_settings(tmp_path, **values), retriever=KeywordRetriever())
    app.upgrade_database()
    return app


def rows(app: BankBot) -> list[Turn]:
    with app.session() as session:
        return list(session.exec(select(Turn)).all())
