"""The read-only article page a passage answer links to (``/articles/{id}``): the knowledge-base article as the
vector store holds it, so it is the same text the bot answers from, whichever files were ingested.

Ingestion stores an article as overlapping chunks, each later chunk starting with the article's title
(retrieval/loaders.py); ``join_chunks`` undoes both. ``article_html`` renders the Markdown subset the knowledge
base uses (headings, paragraphs, bullet and numbered lists, tables) with every piece of text escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from chatbot.passage_answer import plain

# An overlap shorter than this is a coincidence (a shared "the "), not the splitter's repeated text.
MIN_OVERLAP_CHARS = 20
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


def _overlap(previous: str, following: str) -> int:
    """Length of the longest start of `following` that `previous` ends with; 0 when under MIN_OVERLAP_CHARS."""
    for size in range(min(len(previous), len(following)), MIN_OVERLAP_CHARS - 1, -1):
        if previous.endswith(following[:size]):
            return size
    return 0


def join_chunks(chunks: Sequence[str], title: str) -> str:
    """One article text from its chunks in order, without the added title lines and the repeated overlaps."""
    text = ""
    for number, chunk in enumerate(chunks):
        if number > 0 and chunk.startswith(f"{title}\n"):
            chunk = chunk[len(title) + 1 :]
        if not text:
            text = chunk
            continue
        size = _overlap(text, chunk)
        text = text + chunk[size:] if size else f"{text}\n\n{chunk}"
    return text.strip()


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
    from retrieval.vector_store import store_collection

    if not ARTICLE_ID.match(article_id):
        return None
    records = store_collection(vector_store).get(where={"article_id": article_id}, include=["metadatas", "documents"])
    chunks = sorted(
        (int((meta or {}).get("chunk", 0) or 0), str((meta or {}).get("title") or article_id), text or "")
        for meta, text in zip(records["metadatas"] or [], records["documents"] or [], strict=False)
    )
    if not chunks:
        return None
    title = chunks[0][1]
    return article_html(title, join_chunks([text for _, _, text in chunks], title))
