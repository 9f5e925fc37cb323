"""The read-only article page a passage answer links to (``/articles/{id}``): the knowledge-base article as the
vector store holds it, so it is the same text the bot answers from, whichever files were ingested.

The text is ``retrieval.article_text.read_article`` (the chunks joined back). ``article_html`` renders the Markdown
subset the knowledge base uses (headings, paragraphs, bullet and numbered lists, tables) with every piece of text
escaped.
"""

from __future__ import annotations

import html
import re
from typing import Any

from chatbot.passage_answer import plain

ARTICLE_ID = re.compile(r"^[a-z0-9_]{1,200}$")  # the ids ingestion gives articles
_HEADING = re.compile(r"^\s*(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,2}[.)]\s+(.*)$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Bramblecove Bank help</title>
<style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}</style>
</head><body><main>
{body}
</main><p><a href="/">Back to the support chat</a></p></body></html>
"""


def _cells(line: str) -> list[str]:
    return [html.escape(plain(cell)) for cell in line.strip().strip("|").split("|")]


def article_html(title: str, text: str) -> str:
    """The article as a whole HTML page: the title as <h1>, then its headings, paragraphs, lists and tables."""
    parts = [f"<h1>{html.escape(title)}</h1>"]
    open_tag: str | None = None  # "ul", "ol" or "table" while one is open
    table_rows = 0

    def close() -> None:
        nonlocal open_tag, table_rows
        if open_tag:
            parts.append(f"</{open_tag}>")
        open_tag, table_rows = None, 0

    def start(tag: str) -> None:
        nonlocal open_tag
        if open_tag != tag:
            close()
            parts.append(f"<{tag}>")
            open_tag = tag

    for line in text.splitlines():
        heading, bullet, numbered = _HEADING.match(line), _BULLET.match(line), _NUMBERED.match(line)
        if not line.strip():
            close()
        elif heading:
            close()
            if plain(heading.group(2)) != title:  # the article's own first heading repeats the page title
                level = min(len(heading.group(1)) + 1, 6)
                parts.append(f"<h{level}>{html.escape(plain(heading.group(2)))}</h{level}>")
        elif line.lstrip().startswith("|"):
            start("table")
            if not _TABLE_SEPARATOR.match(line):
                cell = "th" if table_rows == 0 else "td"
                parts.append("<tr>" + "".join(f"<{cell}>{c}</{cell}>" for c in _cells(line)) + "</tr>")
                table_rows += 1
        elif (item := bullet or numbered) is not None:
            start("ul" if bullet else "ol")
            parts.append(f"<li>{html.escape(plain(item.group(1)))}</li>")
        else:
            close()
            if plain(line) != title:  # the title line ingestion puts on a chunk
                parts.append(f"<p>{html.escape(plain(line))}</p>")
    close()
    return PAGE.format(title=html.escape(title), body="\n".join(parts))


def article_page(vector_store: Any, article_id: str) -> str | None:
    """The HTML page of one article from the vector store's chunks, or None when there is no such article."""
    from retrieval.article_text import read_article

    if not ARTICLE_ID.match(article_id):
        return None
    found = read_article(vector_store, article_id)
    return article_html(*found) if found is not None else None
