"""PII recognisers that need the words around a value (pure; used by chatbot.pii).

A date, a four-digit number or a word is personal only next to what it is: "born 12/03/1985" is a date of birth,
"paid on 12/03/2025" is not; "my pin is 1234" is a secret, "my PIN is blocked after 3 tries" is not. These
recognisers therefore replace only the value that follows a keyword and keep the keyword, so the question still
reads ("my pin is [SECRET]"). UK National Insurance numbers and full UK postcodes have a shape specific enough to be
redacted anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

DATE_OF_BIRTH = "[DATE OF BIRTH]"
NI_NUMBER = "[NI NUMBER]"
POSTCODE = "[POSTCODE]"
SECRET = "[SECRET]"
SORT_CODE = "[SORT CODE]"
ACCOUNT = "[ACCOUNT NUMBER]"

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = (
    rf"(?:\d{{1,2}}[./ -]\d{{1,2}}[./ -](?:\d{{4}}|\d{{2}})|\d{{4}}[./-]\d{{1,2}}[./-]\d{{1,2}}"
    rf"|{_DAY}(?:\s+of)?[\s-]+{_MONTH}[\s,-]+\d{{2,4}}|{_MONTH}\s+{_DAY},?\s+\d{{4}})(?![\d/.-]\d)"
)
_DOB = re.compile(
    rf"(?i)(\b(?:d\.?o\.?b\b\.?|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?)"
    rf"(?:\s+(?:is|was|on|the|it's|its|:|-))*[\s:=,-]*)({_DATE})"
)

# HMRC: no D, F, I, Q, U, V as first letter, nor O as second; some prefixes are never allocated; suffix A–D.
_NINO = re.compile(
    r"(?i)(?<![\w-])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])[ -]?(\d{2})[ -]?(\d{2})[ -]?(\d{2})[ -]?([A-D])\b"
)
_NINO_UNUSED_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})

# Outward code (area, district) and inward code (sector, unit); the inward letters never use C, I, K, M, O, V.
_POSTCODE = re.compile(
    r"(?i)(?<![\w-])((?:[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]?)|GIR)( ?)(\d[ABD-HJLNP-UW-Z]{2})(?![\w-])"
)

_SORT_AND_ACCOUNT = re.compile(r"(?<![\d-])(\d{2}-\d{2}-\d{2})([ ,/]{1,3})(\d{8})(?!\d)")
_SORT_CODE = re.compile(r"(?i)(sort[\s-]?code\D{0,20}?)(\d{2}[- ]?\d{2}[- ]?\d{2})(?![\d-])")
_ACCOUNT = re.compile(r"(?i)(\b(?:account|acct|acc|a/c)(?:\s*(?:number|no\.?|num|#))?\D{0,20}?)(?<!\d)(\d{8})(?!\d)")

_CONNECTOR = (
    r"(?:\s*(?:[:=#-]|\bis\b|\bwas\b|\bit'?s\b|\bare\b|\bnumber\b|\bno\b\.?|\bthey\s+sent(?:\s+me)?|"
    r"\byou\s+sent(?:\s+me)?|\bthe\s+bank\s+sent(?:\s+me)?|\bi\s+(?:got|received|was\s+sent)|\bjust\b|"
    r"\bsent\s+to\s+me|\btexted\s+(?:to\s+)?me|\bin\s+the\s+text|\bon\s+my\s+phone|"
    r"\bon\s+the\s+back(?:\s+of\s+(?:my|the)\s+card)?|'s\b|\bfrom\s+(?:the|your|my)\s+(?:text|sms|message|app|e-?mail)))*\s*"
)
# Keywords whose value is digits (PINs, card security codes, one-time codes) and whose value is any word.
_NUMERIC_SECRET = re.compile(
    r"(?i)\b(pin(?:\s+(?:code|number))?|passcode|pass\s+code|cvv2?|cvc2?|csc|security\s+(?:code|number)|"
    r"otp|one[\s-]?time\s+(?:pass)?(?:code|password|pin)|verification\s+code|auth(?:entication|orisation|orization)?"
    rf"\s+code|2fa\s+code|sms\s+code|code)({_CONNECTOR})[\"'“]?(\d(?:[ -]?\d){{2,7}})(?![\d:/., -]?\d)"
)
_WORD_SECRET = re.compile(
    r"(?i)\b(password|passwd|pwd|memorable\s+(?:word|information|answer)|security\s+answer|"
    rf"answer\s+to\s+(?:my|the)\s+security\s+question)({_CONNECTOR})[\"'“]?([^\s\"'”]+)"
)
# "error code 502" or "sort code 20-32-06" are not secrets; the word before "code" says which code it is.
_CODE_KINDS = (
    "error sort branch swift bic promo promotional discount voucher reference ref area post zip postal status "
    "country currency bank merchant mcc iban product tracking response reason"
)
_NOT_SECRET_CODES = frozenset(_CODE_KINDS.split())
# "my password is wrong": words that describe the password rather than being it.
_DESCRIBING_WORDS = (
    "i wrong not incorrect expired too blocked locked correct right the my a an being still reset changed forgotten "
    "forgot lost same invalid working case different new old required needed ok okay fine long short weak strong "
    "saved stored accepted rejected no it that this for to and or in on at of with never always also only just "
    "definitely now there here please because so but if when what how why which very really sensitive "
    "case-sensitive mandatory valid empty blank compromised stolen hacked leaked known shared correctly set "
    "manager field box screen reset. wrong. incorrect. expired. change changing update updated work works "
    "doesn't isn't won't didn't keeps hasn't has have had been be getting definitely probably"
)
_NOT_A_PASSWORD = frozenset(_DESCRIBING_WORDS.split())
_PLACEHOLDER = re.compile(r"^\[[A-Z ]+\]")


def _dob(text: str) -> str:
    return _DOB.sub(lambda m: f"{m.group(1)}{DATE_OF_BIRTH}", text)


def _nino(match: re.Match[str]) -> str:
    return match.group(0) if match.group(1).upper() in _NINO_UNUSED_PREFIXES else NI_NUMBER


def _postcode(keep: Collection[str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if re.sub(r"\s", "", text).lower() in keep:
            return text
        # Without its space a lower-case match is as likely a product code or a typo ("ab12cd") as a postcode.
        if not match.group(2) and text != text.upper():
            return text
        return POSTCODE

    return replace


def _numeric_secret(match: re.Match[str]) -> str:
    keyword = match.group(1).lower()
    if keyword == "code":
        before = match.string[: match.start()].rstrip().rsplit(None, 1)
        if before and re.sub(r"\W", "", before[-1].lower()) in _NOT_SECRET_CODES:
            return match.group(0)
    return f"{match.group(1)}{match.group(2)}{SECRET}"


def _word_secret(match: re.Match[str]) -> str:
    connector, value = match.group(2), match.group(3)
    value = value.rstrip(".,;!?)")
    # "password**," in Markdown is no password: a value needs a separator before it and a letter or digit in it.
    if not connector or not re.search(r"[^\W_]", value):
        return match.group(0)
    if _PLACEHOLDER.match(value) or value.lower() in _NOT_A_PASSWORD:
        return match.group(0)
    looks_made_up = bool(re.search(r"[\d\W_]", value)) or value[1:] != value[1:].lower()
    if not (looks_made_up or re.search(r"[:=]|\bis\b|\bwas\b|\bit'?s\b", connector, re.I)):
        return match.group(0)
    rest = match.group(3)[len(value) :]
    return f"{match.group(1)}{connector}{SECRET}{rest}"


def redact_in_context(text: str, *, keep: Collection[str]) -> str:
    """DOB, NI numbers, postcodes, secrets typed after a keyword, UK sort codes and account numbers."""
    out = _dob(text)
    out = _NINO.sub(_nino, out)
    out = _SORT_AND_ACCOUNT.sub(lambda m: f"{SORT_CODE}{m.group(2)}{ACCOUNT}", out)
    out = _SORT_CODE.sub(lambda m: f"{m.group(1)}{SORT_CODE}", out)
    out = _ACCOUNT.sub(lambda m: f"{m.group(1)}{ACCOUNT}", out)
    out = _POSTCODE.sub(_postcode(keep), out)
    out = _NUMERIC_SECRET.sub(_numeric_secret, out)
    out = _WORD_SECRET.sub(_word_secret, out)
    return out
