"""Checks on a generated answer's contact numbers before a customer sees it (pure).

A small model invents plausible phone numbers ("call 123-456-7890"); PII redaction would then hide some of them
and leave a "[PHONE]" in the answer. A number a customer could dial or type is only shown when the passages the
answer was written from (or the bank's published contacts) state it: otherwise the answer fails its checks and the
customer gets the article's own sentences or a hand-off.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from chatbot.pii import PUBLIC_CONTACTS

# Seven or more digits, optionally after "+" and grouped by spaces, dots, dashes or brackets.
_NUMBER = re.compile(r"(?<![\w.])\+?\(?\d(?:[\s().-]{0,2}\d){6,}(?![\w])")
# National and international forms of one number share their last nine digits (+44 1632 960 999 = 01632 960999).
_TAIL = 9


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def unsupported_numbers(answer: str, passages: Iterable[str]) -> list[str]:
    """The phone-like numbers of ``answer`` that no passage and no published contact states."""
    known = "\n".join(_digits(m.group(0)) for text in passages for m in _NUMBER.finditer(text))
    known += "\n" + "\n".join(c for c in PUBLIC_CONTACTS if c.isdigit())
    missing = []
    for match in _NUMBER.finditer(answer):
        digits = _digits(match.group(0))
        if digits[-_TAIL:] not in known:
            missing.append(match.group(0).strip())
    return missing
