"""PII redaction for everything the product stores, shows to reviewers or exports for training (pure).

The text is normalised first (chatbot.text_normalise: NFKC, zero-width and format characters dropped, every space
plain), so "4111\u00a01111\u200b1111 1111" is the same card number as "4111 1111 1111 1111". Detected:

- payment card numbers: 13–19 digits grouped by spaces, dots, slashes or dashes, Luhn-checked;
- IBANs in any case, grouped by spaces or dashes, checked by python-stdnum (country length and mod-97);
- e-mail addresses, also written "john dot smith at gmail dot com" or "john[at]example.com";
- phone numbers found by the ``phonenumbers`` library (international with + or 00, UK national, US national);
- in context (chatbot.pii_context): dates of birth, National Insurance numbers, UK postcodes, UK sort codes and
  account numbers, and PINs, passwords, one-time codes or CVVs typed after a keyword.

Checksums keep near-misses such as a 16-digit payment reference that fails Luhn. The bank's own published contact
details (``PUBLIC_CONTACTS``) are not personal data and are kept, so an answer that gives the customer service number
survives redaction. When nothing is found the original text comes back untouched (not its normalised form).
"""

from __future__ import annotations

import re
from collections.abc import Collection

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn as stdnum_luhn
from stdnum.exceptions import ValidationError

from chatbot.pii_context import ACCOUNT, DATE_OF_BIRTH, NI_NUMBER, POSTCODE, SECRET, SORT_CODE, redact_in_context
from chatbot.text_normalise import normalise_text

__all__ = [
    "ACCOUNT",
    "CARD",
    "DATE_OF_BIRTH",
    "EMAIL",
    "IBAN",
    "NI_NUMBER",
    "PHONE",
    "POSTCODE",
    "PUBLIC_CONTACTS",
    "SECRET",
    "SORT_CODE",
    "iban_valid",
    "luhn_valid",
    "redact",
]

CARD = "[CARD NUMBER]"
IBAN = "[IBAN]"
EMAIL = "[EMAIL]"
PHONE = "[PHONE]"

# Published by the (fictional) bank, see docs/demo-bank-facts.md; compared digits-only / lower-case without spaces.
PUBLIC_CONTACTS: frozenset[str] = frozenset(
    {
        "441632960100",
        "441632960999",
        "01632960100",
        "01632960999",
        "complaints@bramblecove.example",
        "ex14ab",  # Customer Care, PO Box 4021, Exampleton EX1 4AB
    }
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Spelled-out forms: "at"/"dot" as words or in brackets, an "@" with spaces around it.
_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+|\s*@\s*)"
_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\s*\.\s*)"
_TLD = r"(?:com|co|uk|org|net|io|me|info|biz|de|fr|es|it|nl|ie|eu|us|ca|au|edu|gov|ac|example|mail|email)"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?i)(?<![\w.+-])[\w+-]+(?:{_DOT}[\w+-]+){{0,4}}({_AT})([a-z0-9-]+)((?:{_DOT}[a-z0-9-]+){{0,3}}{_DOT}{_TLD})(?![\w-])"
)
# With a plain " at " ("I shopped at amazon.com") only a spelled "dot" or a webmail domain makes it an address.
_WEBMAIL_NAMES = (
    "gmail googlemail yahoo hotmail outlook live msn icloud me aol protonmail proton gmx btinternet sky "
    "virginmedia talktalk mail yandex zoho"
)
_WEBMAIL = frozenset(_WEBMAIL_NAMES.split())
_SPELLED_DOT = re.compile(r"(?i)dot")

# A country code (optionally followed by a space or dash), check digits, then at most 30 more alphanumerics.
_IBAN = re.compile(r"(?i)(?<![a-z0-9])[a-z]{2}[ -]?\d{2}(?:[ -]{0,2}[a-z0-9]){11,30}")
# Digit groups separated by one to three spaces, dots, dashes or slashes: the card candidates.
_DIGIT_RUN = re.compile(r"(?<![\w+])\d+(?:[ ./-]{1,3}\d+)*(?!\w)")
_SEPARATOR = re.compile(r"[ ./-]{1,3}")
_IBAN_HEAD = re.compile(r"(?i)(?<![a-z0-9])[a-z]{2}\d{2}[ -]{1,2}$")

_PHONE_REGIONS = ("GB", "US")
# A US national number needs its grouping to tell it from a 10-digit reference.
_US_GROUPED = re.compile(r"^(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)|[2-9]\d{2})[ .-]?[2-9]\d{2}[ .-]\d{4}$")
_DIGIT_BEFORE = re.compile(r"\d[ .-]{0,2}$")
_DIGIT_AFTER = re.compile(r"[ .-]{0,2}\d")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def luhn_valid(digits: str) -> bool:
    return digits.isdigit() and stdnum_luhn.is_valid(digits)


def iban_valid(candidate: str) -> bool:
    """Mod-97 and the country's length and format; a country's own account checksum is not required."""
    try:
        stdnum_iban.validate(candidate.replace(" ", "").replace("-", ""), check_country=False)
    except ValidationError:
        return False
    return True


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _card_at(groups: list[str], i: int) -> int | None:
    """The last group of a Luhn-valid 13–19 digit number starting at group ``i``: 16 digits first, then the longest.

    Groups are those of a card (3+ digits) or single digits typed apart; a run like "12/27 4111 ..." starts with an
    expiry date, not a card. No card scheme starts with 0 (a "00" is a dialling prefix).
    """
    if groups[i].startswith("0"):
        return None
    best: tuple[tuple[bool, int], int] | None = None
    total = ""
    sizes: set[int] = set()
    for j in range(i, len(groups)):
        total += groups[j]
        sizes.add(min(len(groups[j]), 3))
        if len(total) > 19 or sizes == {1, 3} or 2 in sizes:
            break
        if len(total) >= 13 and luhn_valid(total):
            score = (len(total) == 16, len(total))
            if best is None or score > best[0]:
                best = (score, j)
    return None if best is None else best[1]


def _cards(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        run = match.group(0)
        # Digits right after "GB82 " belong to an IBAN that failed its checksum, not to a card.
        if _IBAN_HEAD.search(match.string, max(0, match.start() - 6), match.start()):
            return run
        groups = _SEPARATOR.split(run)
        seps = [*_SEPARATOR.findall(run), ""]
        out: list[str] = []
        i = 0
        while i < len(groups):
            j = _card_at(groups, i)
            if j is None:
                out.append(groups[i] + seps[i])
                i += 1
            else:
                out.append(CARD + seps[j])
                i = j + 1
        return "".join(out)

    return _DIGIT_RUN.sub(replace, text)


def _ibans(text: str) -> str:
    out: list[str] = []
    pos = 0
    while (match := _IBAN.search(text, pos)) is not None:
        parts = re.split(r"([ -]{1,2})", match.group(0))
        # The pattern also takes the words after an IBAN ("GB82 WEST ... 32 please"): the longest valid prefix wins.
        for end in range(len(parts), 0, -2):
            head = "".join(parts[:end])
            ends_word = not text[match.start() + len(head) : match.start() + len(head) + 1].isalnum()
            if ends_word and 15 <= len(_digits_and_letters(head)) <= 34 and iban_valid(head):
                out.append(text[pos : match.start()] + IBAN)
                pos = match.start() + len(head)
                break
        else:  # an IBAN may still start inside this candidate ("is 12 GB82 ..."): look again one character on
            out.append(text[pos : match.start() + 1])
            pos = match.start() + 1
    out.append(text[pos:])
    return "".join(out)


def _digits_and_letters(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", text)


def _canonical_email(text: str) -> str:
    out = re.sub(_AT, "@", text, count=1, flags=re.I)
    return re.sub(_DOT, ".", out, flags=re.I).lower()


def _emails(text: str, keep: Collection[str]) -> str:
    out = _EMAIL.sub(lambda m: m.group(0) if m.group(0).lower() in keep else EMAIL, text)

    def obfuscated(match: re.Match[str]) -> str:
        at, domain, rest = match.group(1), match.group(2), match.group(3)
        if at.strip().lower() == "at" and not _SPELLED_DOT.search(rest) and domain.lower() not in _WEBMAIL:
            return match.group(0)
        return match.group(0) if _canonical_email(match.group(0)) in keep else EMAIL

    return _OBFUSCATED_EMAIL.sub(obfuscated, out)


def _is_kept_phone(number: phonenumbers.PhoneNumber, raw: str, keep: Collection[str]) -> bool:
    digits = _digits(raw)
    national = phonenumbers.national_significant_number(number)
    candidates = {digits, digits.removeprefix("00"), f"{number.country_code}{national}", f"0{national}"}
    return bool(candidates & set(keep))


def _phone_span_ok(text: str, found: phonenumbers.PhoneNumberMatch, region: str) -> bool:
    raw = found.raw_string
    # A piece of a longer digit run (an IBAN, a reference) is not a phone number.
    if _DIGIT_BEFORE.search(text, max(0, found.start - 3), found.start) or _DIGIT_AFTER.match(text, found.end):
        return False
    digits = _digits(raw)
    stripped = raw.lstrip("(")
    if stripped.startswith("+"):
        return True
    if stripped.startswith("00"):  # international prefix: the country code must follow it
        return len(digits) >= 10 and digits[2:].startswith(str(found.number.country_code))
    if _DATE_LIKE.match(raw):
        return False
    if region == "GB":
        return stripped.startswith("0") and 10 <= len(digits) <= 11
    return bool(_US_GROUPED.match(raw))


def _phones(
    text: str,
    keep: Collection[str],
    *,
    leniency: int = phonenumbers.Leniency.POSSIBLE,
    shape_filter: bool = True,
) -> str:
    """Phone numbers the library finds for GB and US; ``leniency`` and ``shape_filter`` exist for the benchmark.

    VALID leniency misses the fictional ranges (Ofcom drama numbers, US 555-01xx) and any number allocated after
    the library's metadata; POSSIBLE alone also takes dates and references, hence the shape filter.
    """
    if sum(ch.isdigit() for ch in text) < 7:  # no phone number is shorter; the matcher is the costly step
        return text
    spans: list[tuple[int, int, bool]] = []
    for region in _PHONE_REGIONS:
        for found in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            if any(found.start < end and start < found.end for start, end, _ in spans):
                continue
            if not shape_filter or _phone_span_ok(text, found, region):
                spans.append((found.start, found.end, _is_kept_phone(found.number, found.raw_string, keep)))
    out = text
    for start, end, kept in sorted(spans, reverse=True):
        if not kept:
            out = out[:start] + PHONE + out[end:]
    return out


def _redact_normalised(text: str, keep: Collection[str]) -> str:
    out = _emails(text, keep)
    out = _ibans(out)
    # Context recognisers before cards: "40-47-84 61839204" is a sort code and account, not a 14-digit card.
    out = redact_in_context(out, keep=keep)
    out = _cards(out)
    return _phones(out, keep)


def redact(text: str, *, keep: Collection[str] = PUBLIC_CONTACTS) -> tuple[str, bool]:
    """Replace personal data in ``text`` by placeholders; returns (redacted text, whether anything changed).

    ``keep`` lists contact details that must survive (e-mail addresses lower-case, phone numbers as digits only,
    postcodes lower-case without spaces).
    """
    normalised = normalise_text(text)
    out = _redact_normalised(normalised, keep)
    if out == normalised:
        return text, False
    return out, True
