"""PII redaction for everything the product stores, shows to reviewers or exports for training (pure).

Detected: payment card numbers (13–19 digits, Luhn-checked), IBANs (ISO 13616 mod-97 checksum), UK sort codes
and account numbers (by their shape next to a keyword or to each other, since an 8-digit number alone is as likely
an order reference), e-mail addresses and phone numbers. Checksums keep near-misses such as a 16-digit payment
reference that fails Luhn. The bank's own published contact details (``PUBLIC_CONTACTS``) are not personal data and
are kept, so an answer that gives the customer service number survives redaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

CARD = "[CARD NUMBER]"
IBAN = "[IBAN]"
SORT_CODE = "[SORT CODE]"
ACCOUNT = "[ACCOUNT NUMBER]"
EMAIL = "[EMAIL]"
PHONE = "[PHONE]"

# Published by the (fictional) bank, see docs/demo-bank-facts.md; compared digits-only / lower-case.
PUBLIC_CONTACTS: frozenset[str] = frozenset(
    {
        "441632960100",
        "441632960999",
        "01632960100",
        "01632960999",
        "complaints@bramblecove.example",
    }
)

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# Country code, check digits, then 11–30 alphanumerics, optionally in groups of four separated by spaces.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
# 13–19 digits, optionally grouped by single spaces or dashes.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d])")
_SORT_AND_ACCOUNT = re.compile(r"(?<![\d-])(\d{2}-\d{2}-\d{2})([ ,/]{1,3})(\d{8})(?!\d)")
_SORT_CODE = re.compile(r"(?i)(sort[\s-]?code\D{0,20}?)(\d{2}[- ]?\d{2}[- ]?\d{2})(?![\d-])")
_ACCOUNT = re.compile(r"(?i)(\b(?:account|acct|acc|a/c)(?:\s*(?:number|no\.?|num|#))?\D{0,20}?)(?<!\d)(\d{8})(?!\d)")
# An international number (+CC …) or a UK national number (0…), digits grouped by spaces, dots, dashes or ().
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}|\(?0\d{1,4}\)?)(?:[ .-]?\(?\d{1,5}\)?){1,5}(?![\d])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = int("".join(str(int(ch, 36)) for ch in rearranged))
    except ValueError:
        return False
    return number % 97 == 1


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _card(match: re.Match[str]) -> str:
    digits = _digits(match.group(0))
    return CARD if 13 <= len(digits) <= 19 and luhn_valid(digits) else match.group(0)


def _iban(match: re.Match[str]) -> str:
    return IBAN if iban_valid(match.group(0)) else match.group(0)


def _email(keep: Collection[str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return match.group(0) if match.group(0).lower() in keep else EMAIL

    return replace


def _phone(keep: Collection[str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        digits = _digits(text)
        if digits in keep:
            return text
        international = text.lstrip("(").startswith("+")
        # UK national numbers have 10–11 digits; E.164 allows up to 15 including the country code.
        if (international and 8 <= len(digits) <= 15) or (not international and 10 <= len(digits) <= 11):
            return PHONE
        return text

    return replace


def redact(text: str, *, keep: Collection[str] = PUBLIC_CONTACTS) -> tuple[str, bool]:
    """Replace personal data in ``text`` by placeholders; returns (redacted text, whether anything changed).

    ``keep`` lists contact details that must survive (e-mail addresses lower-case, phone numbers as digits only).
    """
    out = _EMAIL.sub(_email(keep), text)
    out = _IBAN.sub(_iban, out)
    out = _CARD.sub(_card, out)
    out = _SORT_AND_ACCOUNT.sub(lambda m: f"{SORT_CODE}{m.group(2)}{ACCOUNT}", out)
    out = _SORT_CODE.sub(lambda m: f"{m.group(1)}{SORT_CODE}", out)
    out = _ACCOUNT.sub(lambda m: f"{m.group(1)}{ACCOUNT}", out)
    out = _PHONE.sub(_phone(keep), out)
    return out, out != text
