"""Small text helpers for showing model answers and knowledge-base passages in the pages."""

from __future__ import annotations

import html
import re

_MARKUP = re.compile(r"[#*|`]+|-{3,}")  # Markdown marks in article text: noise in a one-line snippet
_HEADING = re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE)


def one_line(text: str, limit: int | None = None) -> str:
    """Article text as one plain line (Markdown marks dropped), cut at `limit` characters with an ellipsis."""
    flat = " ".join(_MARKUP.sub(" ", text).split())
    if limit is not None and len(flat) > limit:
        return flat[:limit].rstrip() + "…"
    return flat


def answer_markdown(text: str) -> str:
    """A model answer for a Markdown view: HTML escaped, and a line starting with '#' kept as text, not a heading
    (small models echo article headings; lists and emphasis still render)."""
    return _HEADING.sub("", html.escape(text, quote=False))
