"""Typed facts of a banking answer, normalised so that two wordings of the same fact compare equal: the judge
(evals/judge.py) compares an answer's facts with the reference's, the answer checks (chatbot/answer_checks.py)
refuse money and percentages no passage states.

Kinds: ``money`` (amount and currency, ranges such as "£10–£500"), ``percent``, ``duration`` (minutes, hours,
days — working/business/calendar days are all days, a week is 7 days — with ranges such as "5–7 working days",
"3 to 5 days" and a range whose unit is elided, "(10–15 in the EEA)"), ``age`` ("18 or over", "13–17 year olds"),
``count`` (any other number: "3-digit code", "up to 20"), ``time`` of day and opening hours ("08:00–20:00",
"8am"), ``phone`` (digits, +44 as 0), ``path`` (app menu paths "A > B > C", any of > → » as separator, lower case,
plural and articles dropped, leading "app" dropped), ``url`` (web and e-mail addresses) and ``availability``
("24/7"). Numbers may be words ("five working days"). Citation markers "[1]", list numbering, ordinals and
"3-D Secure" are not facts. Pure: regular expressions only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RANGE_KINDS = frozenset({"money", "percent", "duration", "age", "time"})

# Numbers that state nothing: citation markers, "one of the two entries", "3-D Secure", ordinals, list numbering
# at a line start or inline after a colon or a finished step ("Steps: 1. Open the app. 2. Choose Cards").
NOISE = re.compile(
    r"\[\d+\]|\bone of the (?:two|three)\b|\b3-?D Secure\b|\b\d+(?:st|nd|rd|th)\b|(?m:^\s*\d+[.)](?=\s))"
    r"|\bstep \d+\b|(?:(?<=[:.!?…])|(?<=[:.!?…]\s))\d{1,2}[.)]\s+(?-i:(?=[A-Z][a-z]))",
    re.I,
)
# Not "one" as a count ("one of your cards", "one top-up"); durations accept it ("one working day").
_WORDS = "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen"
_WORD_VALUES = {w: i for i, w in enumerate(_WORDS.split(), start=2)}
_WORD_VALUES.update(eighteen=18, nineteen=19, twenty=20, thirty=30, forty=40, fifty=50, sixty=60, ninety=90)
# A number starts a word: "ten" is not read inside "often", nor "5" inside "0.5".
_NUM = r"(?<![\w.])(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+|" + "|".join(sorted(_WORD_VALUES, key=len, reverse=True)) + r")"
_DASH = r"\s*(?:–|—|-|to|until|till)\s*"
_SYM = {"£": "GBP", "€": "EUR", "$": "USD", "gbp": "GBP", "eur": "EUR", "usd": "USD", "pound": "GBP", "pounds": "GBP"}
_SYM.update(euro="EUR", euros="EUR", dollar="USD", dollars="USD")
_SCALE = r"(?:\s?(?:k|thousand|m|million)\b)?"
_CURRENCY_WORD = r"(?:gbp|eur|usd|pounds?|euros?|dollars?|pence|p)\b"
_MONEY1 = rf"(?:[£€$]\s?{_NUM}{_SCALE}|(?:gbp|eur|usd)\s?{_NUM}{_SCALE}|{_NUM}{_SCALE}\s?{_CURRENCY_WORD})"
_PATTERNS = {
    "url": re.compile(
        r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://[^\s)\]>\"']+|\bwww\.[^\s)\]>\"']+|"
        r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:example|com|co\.uk|org|net|io|bank)\b(?:/[^\s)\]\"']*)?",
        re.I,
    ),
    "phone": re.compile(r"(?<![\w£€$.,:])(?:\+\s?\d{1,3}[\s-]?)?(?:\(0\)\s?)?\d[\d \-]{7,}\d(?![\w%:])"),
    "availability": re.compile(r"\b24\s*(?:/|x)\s*7\b|\b24 hours a day\b(?:,? (?:and )?7 days a week\b)?", re.I),
    "time": re.compile(
        r"(?<![\d:])(?P<a>\d{1,2}(?::\d{2}\s?(?:[ap]\.?m\.?)?|\s?[ap]\.?m\.?))(?:"
        + _DASH
        + r"(?P<b>\d{1,2}(?::\d{2}\s?(?:[ap]\.?m\.?)?|\s?[ap]\.?m\.?)))?(?![\w:])",
        re.I,
    ),
    "money": re.compile(rf"(?P<a>{_MONEY1})(?:{_DASH}(?P<b>{_MONEY1}|[£€$]?{_NUM}{_SCALE}))?", re.I),
    "percent": re.compile(rf"(?:(?P<a>{_NUM})\s?%?{_DASH})?(?P<b>{_NUM})\s?(?:%|per ?cent\b)", re.I),
    "age": re.compile(
        rf"\baged?\s+(?P<a>{_NUM})(?:{_DASH}(?P<b>{_NUM}))?|\b(?P<c>{_NUM})"
        rf"(?:{_DASH}(?P<d>{_NUM}))?(?:\s*-?\s*years?-?\s*olds?\b|\s+or\s+(?:over|older)\b)",
        re.I,
    ),
    # after durations, so that "you are 2 days late" is a duration
    "age_you": re.compile(rf"\byou(?:'re| are)\s+(?P<a>{_NUM})(?:{_DASH}(?P<b>{_NUM}))?(?![\w%])", re.I),
    # "a week"/"an hour" only after a preposition: "£500 a day" is a rate, not a duration
    "duration": re.compile(
        rf"(?:\bbetween\s+(?P<c>{_NUM})\s+and\s+|\b(?P<a>{_NUM}){_DASH})?(?:(?<![\w.,])(?P<b>{_NUM}|one)|"
        r"\b(?:within|in|after|for|about|under|than|takes?)\s+(?P<one>an?))"
        r"\s*-?\s*(?:(?:working|business|banking|calendar|bank)\s+)?"
        r"(?P<unit>minute|min|hour|hr|day|week|month|year)s?\b",
        re.I,
    ),
    "bare_range": re.compile(rf"(?<![\w.,£€$])(?P<a>{_NUM}){_DASH}(?P<b>{_NUM})(?![\w%])", re.I),
    "bare_after": re.compile(rf"(?:\(|\bor\s+)(?P<b>{_NUM})(?=\s+(?:in|for)\b|\))", re.I),
    "count": re.compile(rf"(?<![\w.,£€$])(?P<b>{_NUM})(?:-[a-z]+)?(?![\w%])", re.I),
}
_UNIT = {"min": "minute", "hr": "hour", "week": "day"}
_PATH_SEP = re.compile(r"\s*(?:>|→|»|->)\s*")
_PATH = re.compile(r"[^\n>→»,.;:!?()\[\]\"“”*]+(?:\s*(?:>|→|»|->)\s*[^\n>→»,.;:!?()\[\]\"“”*]+)+")
# Words that end a menu path written inside a sentence: before its first segment ("go to Cards > ...") and after
# its last ("... > Freeze and tap Report an issue").
_FIRST_STOP = frozenset(
    re.findall(r"\w+", "at to in under from via the go open tap choose select and or then your on see check use find")
)
_LAST_STOP = frozenset(
    re.findall(
        r"\w+",
        "and then which while when if so before after within where because but once until for on by in you we it this "
        "that is are can",
    )
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")


@dataclass(frozen=True)
class Fact:
    kind: str  # money | percent | duration | age | count | time | phone | path | url | availability
    value: tuple[Any, ...]  # normalised: (low, high[, unit or currency]) for money, percent, duration, age, time
    text: str  # as written

    def __str__(self) -> str:
        return f"{self.kind}: {self.text.strip()}"


def _number(text: str) -> float:
    word = text.strip().lower()
    if word in _WORD_VALUES:
        return float(_WORD_VALUES[word])
    return 1.0 if word in ("one", "a", "an") else float(word.replace(",", ""))


def _money(text: str, currency: str | None) -> tuple[float, str | None]:
    low = text.lower().replace(" ", "")
    amount = _number(re.search(_NUM, text.lower()).group(0))  # type: ignore[union-attr]
    scale = re.search(r"(?<=\d)(?:k|thousand|million|m)", low)
    if scale:
        amount *= 1_000_000 if scale.group(0).startswith("m") else 1000
    unit = re.search(r"[£€$]|gbp|eur|usd|pence|pounds?|euros?|dollars?|p$", low)
    if unit and unit.group(0) in ("pence", "p"):
        return round(amount / 100, 2), "GBP"
    return round(amount, 2), _SYM.get(unit.group(0)) if unit else currency


def _clock(text: str) -> int:
    t = text.lower().replace(".", "").replace(" ", "")
    hours, _, rest = re.sub(r"[ap]m$", "", t).partition(":")
    h = int(hours) % 12 if t.endswith(("am", "pm")) else int(hours) % 24
    return (h + (12 if t.endswith("pm") else 0)) * 60 + (int(rest) if rest else 0)


def _segment(text: str) -> str:
    words = re.findall(r"[\w'+-]+", text.lower())
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in ("a", "an", "the"))


def _paths(run: str) -> list[tuple[tuple[str, ...], str]]:
    """(segments, as written) of each menu path in a run of text around ">" separators. The first segment is the
    words before the first separator back to a verb or preposition ("go to Cards") or to a lower-case word before a
    capitalised one ("see Profile", but "Add money"); a conjunction ends a segment ("Freeze and choose Security >
    ..." starts a new path); a leading "app" segment is dropped."""
    groups: list[list[str]] = [[]]
    parts = _PATH_SEP.split(run.strip())
    for i, part in enumerate(parts):
        words = part.split()
        cut = next((j for j, w in enumerate(words) if w.lower() in _LAST_STOP), None) if i > 0 else None
        if i == 0:
            first: list[str] = []
            for word in reversed(words):
                capitalised = any(w[:1].isupper() for w in first)
                if word.lower() in _FIRST_STOP or len(first) == 3 or (capitalised and word[:1].islower()):
                    break
                first.insert(0, word)
            groups[-1].append(" ".join(first))
        elif cut is None:
            groups[-1].append(" ".join(words[:6]))
        else:
            groups[-1].append(" ".join(words[:cut]))
            tail = [w for w in words[cut:] if w.lower() not in _FIRST_STOP and w.lower() not in _LAST_STOP]
            groups.append([" ".join(tail[-3:])])
    out = []
    for group in groups:
        pairs = [(_segment(s), s) for s in group]
        while pairs and (not pairs[0][0] or pairs[0][0].split()[-1] == "app"):  # "app > Cards", "the app > ..."
            pairs.pop(0)
        pairs = [pair for pair in pairs if pair[0]]
        if len(pairs) >= 2 or (pairs and len(group) >= 2):
            out.append((tuple(seg for seg, _ in pairs), " > ".join(raw for _, raw in pairs)))
    return out


def _phone(text: str) -> str:
    digits = re.sub(r"\D", "", text.replace("(0)", ""))
    if text.strip().startswith("+") and digits.startswith("44"):
        digits = "0" + digits[2:]
    return "0" + digits if len(digits) == 10 and not digits.startswith("0") else digits


def _url(text: str) -> str:
    t = re.sub(r"^https?://", "", text.lower().rstrip("/.,;:"))
    return t[4:] if t.startswith("www.") else t


def _fact(kind: str, m: re.Match[str], unit_before: str | None) -> Fact | None:
    """The fact one regex match states (None: not a fact, e.g. a bare range with no duration before it)."""
    g, raw = m.groupdict(), m.group(0)
    if kind in ("url", "availability"):
        return Fact(kind, (_url(raw) if kind == "url" else "24/7",), raw)
    if kind == "phone":
        digits = _phone(raw)
        return Fact("phone", (digits,), raw) if 10 <= len(digits) <= 13 else None
    if kind == "time":
        return Fact("time", (_clock(g["a"]), _clock(g["b"] or g["a"])), raw)
    if kind == "money":
        a, currency = _money(g["a"], None)
        b, _ = _money(g["b"], currency) if g["b"] else (a, currency)
        return Fact("money", (a, b, currency or "GBP"), raw)
    if kind == "percent":
        return Fact("percent", (_number(g["a"] or g["b"]), _number(g["b"])), raw)
    if kind in ("age", "age_you"):
        low, high = (g["a"], g["b"]) if g["a"] else (g["c"], g["d"])
        return Fact("age", (_number(low), _number(high or low)), raw)
    if kind == "duration":
        unit = g["unit"].lower()
        scale = 7 if unit == "week" else 1  # a week is 7 days: "within a week" states "7 days"
        high = _number(g["b"] or g["one"]) * scale
        low = g["a"] or g["c"]
        return Fact("duration", (_number(low) * scale if low else high, high, _UNIT.get(unit, unit)), raw)
    if kind in ("bare_range", "bare_after"):  # "5–7 working days in the UK (10–15 in the EEA)"
        if unit_before is None:
            return None
        high = _number(g["b"])
        text = raw.strip("( ").removeprefix("or ") + f" {unit_before}s"
        return Fact("duration", (_number(g["a"]) if g.get("a") else high, high, unit_before), text)
    return Fact("count", (_number(g["b"]),), raw)


# Most specific first: each extractor blanks the text it used, so "£5,000" is not also the count 5,000.
_ORDER = (
    *("url", "phone", "availability", "time", "money", "percent", "age", "duration", "age_you"),
    *("bare_range", "bare_after", "count"),
)


def _sentence_facts(sentence: str) -> list[tuple[int, Fact]]:
    """Facts of one sentence with their offsets; each extractor blanks what it used, so later ones skip it."""
    out: list[tuple[int, Fact]] = []
    text = sentence
    for kind in _ORDER:
        for m in _PATTERNS[kind].finditer(text):
            units = [f.value[2] for at, f in out if f.kind == "duration" and at < m.start()]
            fact = _fact(kind, m, units[-1] if units else None)
            if fact is not None:
                out.append((m.start(), fact))
                text = text[: m.start()] + " " * len(m.group(0)) + text[m.end() :]
    for m in _PATH.finditer(text):  # last: the words around a path may hold other facts ("chat with us 24/7 in")
        out.extend((m.start(), Fact("path", value, raw)) for value, raw in _paths(m.group(0)))
    return sorted(out, key=lambda pair: pair[0])


def facts_by_sentence(text: str) -> list[list[Fact]]:
    """Facts sentence by sentence, each fact only at its first mention."""
    seen: set[tuple[str, tuple[Any, ...]]] = set()
    groups = []
    # Noise goes first: "1. Open the app" must not end a sentence at "1."
    for sentence in _SENTENCE.split(NOISE.sub(lambda m: " " * len(m.group(0)), text or "")):
        group = []
        for _, fact in _sentence_facts(sentence):
            if (fact.kind, fact.value) not in seen:
                seen.add((fact.kind, fact.value))
                group.append(fact)
        groups.append(group)
    return groups


def extract_facts(reference: str) -> list[Fact]:
    """Typed facts in the order they appear, duplicates dropped."""
    return [fact for group in facts_by_sentence(reference) for fact in group]
