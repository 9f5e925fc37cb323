"""Checks on a generated answer before a customer sees it (pure): claimed actions, invented numbers, loops.

A small model invents plausible phone numbers ("call 123-456-7890"); PII redaction would then hide some of them
and leave a "[PHONE]" in the answer. A number a customer could dial or type is only shown when the passages the
answer was written from (or the bank's published contacts) state it: otherwise the answer fails its checks and the
customer gets the article's own sentences or a hand-off.

The same holds for fees and limits: an amount of money or a percentage only the answer states ("4.5 % for
transfers" when the article says 1 %) fails it too.

A small model also falls into loops ("The answer is: … The answer is: …") while its token probabilities stay high,
so confidence alone lets them through: a sentence said twice fails the answer the same way, and so does a counting
loop ("1% for transfers – 2% for transfers – 3% for transfers …", seen in the browser), caught with its numbers
masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from chatbot import guard
from chatbot.facts import Fact, extract_facts
from chatbot.pii import PUBLIC_CONTACTS

# Seven or more digits, optionally after "+" and grouped by spaces, dots, dashes or brackets.
_NUMBER = re.compile(r"(?<![\w.])\+?\(?\d(?:[\s().-]{0,2}\d){6,}(?![\w])")
# National and international forms of one number share their last nine digits (+44 1632 960 999 = 01632 960999).
_TAIL = 9
# A sentence (or clause before a colon) of at least this many words said twice is a loop, not emphasis.
_MIN_REPEATED_WORDS = 3
# A run of this many words said twice is a loop inside sentences ("… which is a feature that allows you to use your
# own money to make purchases, which is a feature that allows you to use your own money …"): seen in the browser.
REPEATED_RUN_WORDS = 8
_SENTENCE_END = re.compile(r"[.!?:;\n]+")
# With the numbers masked a longer run is needed: a list may repeat its shape ("£5 for …, £5 for …") a few words long.
MASKED_RUN_WORDS = 12
# The figures a customer acts on: money ("£1,000", "50p", "5 pounds") and percentages ("0.5%", "1 per cent").
_FIGURE_KINDS = ("money", "percent")


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


def _endpoints(fact: Fact) -> set[tuple[Any, ...]]:
    """A figure's values as (kind, value, currency): both ends of a range ("£10–£500"), one value otherwise."""
    currency = fact.value[2] if fact.kind == "money" else ""
    return {(fact.kind, fact.value[0], currency), (fact.kind, fact.value[1], currency)}


def unsupported_figures(answer: str, passages: Iterable[str]) -> list[str]:
    """The money amounts and percentages of ``answer`` (as written) that no passage states; an end of a range a
    passage states counts as stated ("up to £500" for "£10–£500")."""
    known: set[tuple[Any, ...]] = set()
    for text in passages:
        for fact in extract_facts(text):
            if fact.kind in _FIGURE_KINDS:
                known |= _endpoints(fact)
    figures = (fact for fact in extract_facts(answer) if fact.kind in _FIGURE_KINDS)
    return [fact.text.strip() for fact in figures if not _endpoints(fact) <= known]


def repeated_sentences(answer: str) -> list[str]:
    """Sentences of ``answer`` (lower-cased, citation marks and punctuation dropped) that it says more than once."""
    seen: set[str] = set()
    repeated: list[str] = []
    for part in _SENTENCE_END.split(answer):
        words = _words(part)
        if len(words) < _MIN_REPEATED_WORDS:
            continue
        sentence = " ".join(words)
        if sentence in seen and sentence not in repeated:
            repeated.append(sentence)
        seen.add(sentence)
    return repeated


def _words(text: str) -> list[str]:
    return re.sub(r"\[\d+\]|[^\w\s£$€%]", " ", text.lower()).split()


def repeated_run(answer: str, n: int = REPEATED_RUN_WORDS, *, mask_numbers: bool = False) -> str | None:
    """The first run of ``n`` consecutive words that ``answer`` says twice, or None. ``mask_numbers``: every
    number reads as "0", so a counting loop repeats."""
    words = _words(re.sub(r"\d+(?:[.,]\d+)*", "0", answer) if mask_numbers else answer)
    seen: set[tuple[str, ...]] = set()
    for i in range(len(words) - n + 1):
        run = tuple(words[i : i + n])
        if run in seen:
            return " ".join(run)
        seen.add(run)
    return None


def failed_check(answer: str, passages: Iterable[str]) -> tuple[str, dict[str, Any]] | None:
    """(reason, details for the turn log) of the first check ``answer`` fails, or None when it passes them all.

    Details hold counts, never the offending text: an invented number may be a real person's.
    """
    if claimed := guard.claims_action(answer):
        return "claims_action", {"claimed_action": claimed}  # the bot cannot act on accounts: hand off
    passages = list(passages)
    if numbers := unsupported_numbers(answer, passages):
        return "unsupported_number", {"unsupported_numbers": len(numbers)}
    if loops := repeated_sentences(answer):
        return "repeated_text", {"repeated_sentences": len(loops)}
    if repeated_run(answer):
        return "repeated_text", {"repeated_sentences": 0, "repeated_run_words": REPEATED_RUN_WORDS}
    if repeated_run(answer, MASKED_RUN_WORDS, mask_numbers=True):
        return "repeated_text", {"repeated_sentences": 0, "repeated_run_words": MASKED_RUN_WORDS}
    if figures := unsupported_figures(answer, passages):
        return "unsupported_figure", {"unsupported_figures": len(figures)}
    return None
