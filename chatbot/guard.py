"""Rule-based refusal of prompt injection, PII fishing, staff impersonation and fraud help, before generation.

A 135M model cannot be trusted to resist "ignore your instructions", so these probes never reach it. The rules
are deliberately about *other people's* data and *the bot's own* instructions: "what is my PIN?" or "I forgot my
passcode" are ordinary questions the knowledge base answers and must pass. Pure; see tests/test_pipeline.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SECRET = (
    r"(?:full\s+)?(?:card\s*(?:numbers?|details|no\.?)|pins?(?:\s*(?:numbers?|codes?))?|cvv|cvc|security\s+codes?|"
    r"passwords?|passcodes?|account\s*(?:numbers?|details|balances?)|balances?|sort\s*codes?|ibans?)"
)
_RELATION = r"(?:husband|wife|partner|mother|father|mum|mom|dad|son|daughter|friend|neighbou?r|boss|ex)"
# Capitalised names are matched case-sensitively; product and place names that follow "for"/"of" are not people.
_NAME = (
    r"(?!(?:Apple|Google|Visa|Mastercard|Bramblecove|Faster|SEPA|SWIFT|UK|EEA|ATM|PayPoint|Junior)\b)"
    r"(?-i:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
)
_OTHER_PERSON = (
    rf"(?:(?:an?|the|some|another|other|every|all)\s+(?:other\s+)?(?:customer|client|person|user|member)s?|"
    rf"someone(?:\s+else)?|somebody(?:\s+else)?|(?:my|his|her|their)\s+{_RELATION}|{_NAME}|a\s+suspect|him|her|them)"
)

RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "injection",
        re.compile(
            r"(?i)\b(?:ignore|disregard|forget|override)\b.{0,40}"
            r"\b(?:instructions?|rules|prompts?|guidelines|polic(?:y|ies)|restrictions)\b"
        ),
    ),
    (
        "injection",
        re.compile(
            r"(?i)\byou\s+are\s+now\s+(?:an?\s+|in\s+)?(?:\w+\s+){0,2}"
            r"(?:assistant|ai|bot|model|mode|unrestricted|jailbroken|free)\b|"
            r"\bpretend\s+(?:to\s+be|you(?:'re|\s+are))\b|\bact\s+as\s+(?:an?\s+)?(?:unrestricted|jailbroken)\b"
        ),
    ),
    (
        "injection",
        re.compile(
            r"(?i)\b(?:developer|god|admin|debug)\s+mode\b|\bsystem\s+override\b|\bjailbreak|(?-i:\bDAN\b)|"
            r"</?\s*(?:context|system|instructions?)\s*>"
        ),
    ),
    (
        "prompt_extraction",
        re.compile(
            r"(?i)\b(?:system|hidden|initial|original)\s+(?:prompt|instructions?|configuration)\b|"
            r"\b(?:instructions|rules)\s+(?:were\s+)?you\s+(?:were\s+)?given\b|\brepeat\s+(?:them|your\s+instructions)\b|"
            r"\bapi\s+keys?\b|\brepeat\s+after\s+me\b"
        ),
    ),
    ("pii_fishing", re.compile(rf"(?i)\b{_SECRET}\s+(?:of|for|belonging\s+to|from)\s+{_OTHER_PERSON}\b")),
    ("pii_fishing", re.compile(rf"(?i)\b{_OTHER_PERSON}(?:'s|s'|')\s+(?:\w+\s+)?{_SECRET}\b")),
    (
        "pii_fishing",
        re.compile(
            r"(?i)\b(?:list|give\s+me|show\s+me|tell\s+me|read\s+me)\b.{0,30}\b(?:customers|clients|users)\b|"
            r"\b(?:customer|client)s?\s+(?:pins?|card\s+numbers?|data|list)\b|\bfrom\s+your\s+database\b|"
            r"\b(?:last|previous)\s+(?:customer|person|user)\b|\bpin\s+for\s+account\b|"
            r"\b(?:person|customer|user)\s+(?:who|that)\b.{0,40}\bbefore\s+me\b"
        ),
    ),
    (
        "impersonation",
        re.compile(
            r"(?i)\b(?:i'?m|i\s+am|this\s+is)\s+(?:from\s+)?(?:the\s+)?(?:bank'?s?\s+)?(?:bramblecove\s+)?"
            r"(?:(?-i:IT)(?:\s+support)?|compliance|fraud\s+team|security\s+team|police|ceo|"
            r"a\s+police\s+officer|an?\s+(?:bank\s+)?(?:employee|auditor))\b"
        ),
    ),
    (
        "fraud_help",
        re.compile(
            r"(?i)\bwithout\s+(?:getting\s+flagged|being\s+flagged|the\s+owner\s+noticing|"
            r"you\s+(?:asking|blocking|noticing))|"
            r"\bin\s+(?:my\s+)?(?:neighbou?r|friend|someone)'?s\s+name\b|"
            r"\bsomeone\s+else'?s\s+(?:passport|id|identity|card)\b|"
            r"\b(?:money\s+mul(?:e|ing)|launder|structur(?:e|ing)\s+(?:my\s+)?deposits?)|"
            r"\bpretending\s+to\s+be\s+(?:the\s+)?(?:bank|bramblecove)\b|\bsplit\b.{0,60}\bso\s+(?:you|they)\s+don'?t\b|"
            r"\b(?:claim|dispute|chargeback)\b.{0,60}\b(?:actually\s+received|made\s+(?:it\s+)?myself)\b"
        ),
    ),
)


@dataclass(frozen=True)
class GuardResult:
    refused: bool
    rule: str | None = None
    matched: str | None = None


def check(question: str) -> GuardResult:
    """Refuse when any rule matches; ``rule`` names the category for the turn's meta (``guard:<rule>``)."""
    for name, pattern in RULES:
        match = pattern.search(question)
        if match:
            return GuardResult(True, name, match.group(0))
    return GuardResult(False)
