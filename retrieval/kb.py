"""The knowledge base as articles: Markdown files with YAML front matter (id, title, intent, gold_answer).

The demo knowledge base of the fictional Bramblecove Bank ships in ``retrieval/demo_kb``; each article's
``intent`` is a Banking77 intent, which is how retrieval is scored against Banking77 queries.

An optional ``examples:`` key lists questions customers ask that the article answers; ``bankbot ingest`` puts them
into the example index (``retrieval.ingest``), so retrieval is sure of the article before any review exists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from chatbot.errors import BankbotError

REQUIRED_FIELDS = ("id", "title", "intent", "gold_answer")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)\r?\n---[ \t]*(?:\r?\n|\Z)(?P<body>.*)\Z", re.DOTALL)


class BadArticle(BankbotError):
    """A knowledge-base file that cannot be read as an article; the message names the file."""


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    intent: str
    gold_answer: str
    body: str
    path: Path
    examples: tuple[str, ...] = ()  # questions this article answers (front matter ``examples:``)


def demo_kb_dir() -> Path:
    return Path(__file__).resolve().parent / "demo_kb"


def article_id_for_intent(intent: str) -> str:
    """Banking77 labels such as ``Refund_not_showing_up`` or ``reverted_card_payment?`` as article ids."""
    return re.sub(r"[^a-z0-9_]", "", intent.strip().lower())


def split_front_matter(text: str, path: Path) -> tuple[dict[str, object], str]:
    """(front matter mapping, body) of a Markdown file; ({}, text) when it has no front matter."""
    import yaml

    if not text.startswith("---"):
        return {}, text
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise BadArticle(f"{path}: front matter opened with '---' but never closed")
    try:
        meta = yaml.safe_load(match.group("yaml"))
    except yaml.YAMLError as exc:
        raise BadArticle(f"{path}: front matter is not valid YAML ({str(exc).splitlines()[0]})") from exc
    if not isinstance(meta, dict):
        raise BadArticle(f"{path}: front matter must be a mapping of key: value lines")
    return meta, match.group("body")


def front_matter_examples(meta: Mapping[str, object], path: Path) -> tuple[str, ...]:
    """The ``examples:`` of a front matter mapping: a YAML list of questions (absent or empty: none)."""
    examples = meta.get("examples")
    if examples is None:
        return ()
    if not isinstance(examples, list):
        raise BadArticle(f"{path}: examples must be a YAML list of questions, not {type(examples).__name__}")
    for number, question in enumerate(examples, start=1):
        if not isinstance(question, str) or not question.strip():
            raise BadArticle(f"{path}: example {number} must be a non-empty question, not {question!r}")
    return tuple(question.strip() for question in examples)


def parse_article(path: Path, text: str | None = None) -> Article:
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError) as exc:
        raise BadArticle(f"{path}: cannot read it ({exc.__class__.__name__})") from exc
    meta, body = split_front_matter(text, path)
    missing = [key for key in REQUIRED_FIELDS if not str(meta.get(key) or "").strip()]
    if missing:
        raise BadArticle(f"{path}: front matter lacks {', '.join(missing)}")
    article_id = str(meta["id"]).strip()
    if article_id != article_id_for_intent(article_id):
        raise BadArticle(f"{path}: id {article_id!r} must use only a-z, 0-9 and _")
    return Article(
        id=article_id,
        title=str(meta["title"]).strip(),
        intent=str(meta["intent"]).strip(),
        gold_answer=str(meta["gold_answer"]).strip(),
        body=body.strip(),
        path=path,
        examples=front_matter_examples(meta, path),
    )


def load_articles(folder: Path | None = None) -> list[Article]:
    """Every ``*.md`` article in ``folder`` (default: the demo KB), sorted by id; ids must be unique."""
    folder = folder or demo_kb_dir()
    if not folder.is_dir():
        raise BankbotError(f"{folder}: no such knowledge-base folder")
    articles = [parse_article(path) for path in sorted(folder.glob("*.md"))]
    seen: dict[str, Path] = {}
    for article in articles:
        if article.id in seen:
            raise BadArticle(f"{article.path}: id {article.id!r} is already used by {seen[article.id]}")
        seen[article.id] = article.path
    return sorted(articles, key=lambda a: a.id)
