"""Rule-based refusal of prompt injection, prompt extraction, other people's data, staff impersonation and fraud
help before generation, and the answer check that hands off claims of actions the bot cannot take.

A 135M model cannot be trusted to resist "ignore your instructions", so these probes never reach it. The rules
are about *other people's* data and *the bot's own* instructions: "what is my PIN?", "ignore my last message" or
"I am a police officer and my card was stolen" are ordinary questions and must pass. Every rule (in
chatbot/guard_rules.py) runs on the normalised text with accents and look-alike letters folded, and on
de-obfuscated copies (leetspeak digits read as letters, "i g n o r e", "d.i.s.c.a.r.d" and "ig-nore" joined, a
sentence glued into a slug set apart); readable base64, hex, percent-encoded, binary and Morse blobs are decoded and
checked too, as are the text reversed, through ROT13 and from pig latin (chatbot/guard_views.py).
Measured on tests/data/guard_*.jsonl by benchmarks/guard_rates.py. Pure; see tests/test_guard.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chatbot.guard_rules import RULES
from chatbot.guard_rules_cashout import CASHOUT_RULES, RECRUITING
from chatbot.guard_rules_fraud import FRAUD_RULES
from chatbot.guard_rules_harm import HARM_RULES
from chatbot.guard_rules_intent import INTENT_RULES
from chatbot.guard_rules_others import LURES_OVERRIDES_OTHERS_RULES
from chatbot.guard_rules_pretext import (
    CARER,
    ESTATE,
    HANDED_OVER,
    I_DO_IT,
    IMPERSONATOR,
    MY_CHILD,
    PRETEXT_LOWER_RULES,
    PRETEXT_RULES,
    PROTECT,
    REPORTING,
    SCAMMER_ASKS,
    own_read_out,
)
from chatbot.guard_rules_roles import ROLES_RULES
from chatbot.guard_rules_setup import SETUP_RULES
from chatbot.guard_rules_setup_intl import SETUP_INTL_RULES
from chatbot.guard_rules_takeover import TAKEOVER_RULES
from chatbot.guard_rules_violence import VIOLENCE_RULES
from chatbot.guard_views import (
    decoded_blobs,
    deobfuscate,
    fold,
    lexical_view,
    rejoined_views,
    split_words,
    transposed_views,
)
from chatbot.guard_vocabulary import RELATION
from chatbot.text_normalise import normalise_text

__all__ = ["GuardResult", "check", "claims_action", "lexical_view"]

# Fraud help and others' money worded as ordinary questions run last (guard_rules_fraud.py, keyed on who benefits in
# guard_rules_intent.py), after the bot's setup (guard_rules_setup.py). Case-sensitive, on the lower-cased views: harm
# and fraud goals, pretexts (guard_rules_harm.py, _pretext.py), then 28-language families (_setup_intl to _others).
_RULES = RULES + FRAUD_RULES + INTENT_RULES + SETUP_RULES + PRETEXT_RULES
_LOWER_RULES = HARM_RULES + PRETEXT_LOWER_RULES + SETUP_INTL_RULES + ROLES_RULES + CASHOUT_RULES + TAKEOVER_RULES
_LOWER_RULES += VIOLENCE_RULES + LURES_OVERRIDES_OTHERS_RULES
_PAYEE_DETAILS = re.compile(
    r"(?i)\b(?:sort\s*codes?|account\s*numbers?|phone\s+numbers?|ibans?)\b|\b(?:his|her|their)\s+account\s+(?:is|:)"
)
_PAYING = re.compile(r"(?i)\b(?:send|sending|sent|pay|paying|paid|transfer(?:red|ring)?)\b")
_ASKING_FOR_IT = re.compile(
    r"(?i)\b(?:give|tell|show|read|send|find|look\s+up)\s+(?:me|us)\b|\bwhat(?:'s|\s+is|\s+are)\b"
)
_BULK = re.compile(r"(?i)\b(?:all|every|each|customers|clients|list)\b")
_AWARENESS = re.compile(r"(?i)\b(?:scams?|victim|protect|prevent|stop|avoid|report|recruit\w*|offer\w*|warn\w*)\b")
_CHILD = re.compile(r"(?i)\b(?:son|daughter|child|kid|fils|fille|enfant|sohn|tochter|kind|hij[oa])s?\b")
_JUNIOR = re.compile(r"(?i)\bjunior\b")
_DEVICE = re.compile(r"(?i)\b(?:phones?|iphones?|android|devices?|handsets?|tablets?|ipads?|smartphones?|mobiles?)\b")
# Someone else's password or memorable word that they forgot, asked about so that *they* can reset it.
_RECOVERY = re.compile(r"(?i)\b(?:forgot|forgotten|forgets|lost|locked\s+out|reset|recover|change|unlock)\b")
_OWN_PROJECT = re.compile(r"(?i)\bi'?m\s+an?\s+(?:\w+\s+)?developer\s+(?:building|working\s+on|making|writing|with)\b")
# A scammer's instruction reported: to a relative ("asked my son to", "mum was told to"). "I was told to" and "asked
# me to" are left out: there the customer is the one sent to fetch someone else's data.
_REPORTED_REQUEST = (
    r"\b(?:asked|told|telling|asking|instructed|pressured|persuaded|urged|convinced)\s+(?:him|her|them|my\s+"
    rf"(?:\w+\s+){{0,2}}?{RELATION})\s+(?:\w+\s+){{0,3}}?to\b|\b(?!(?:i|we)\b)\w+\s+(?:was|were|has\s+been|had\s+been|"
    r"got|is\s+being)\s+(?:told|asked|instructed|pressured|persuaded|contacted|targeted|scammed|tricked|conned)\b"
)
_ASKED_THIRD_PARTY = re.compile("(?i)" + _REPORTED_REQUEST)
# Something done *to* the customer or their family: that instruction, a sign-in or payment disowned, a warning
# received, an account opened in their name. Such reports name "her savings" or "my stolen ID" as the thing at risk,
# not as the thing wanted.
_VICTIM = re.compile(
    "(?i)" + _REPORTED_REQUEST + r"|\b(?:someone|somebody|a\s+stranger|scammers?|fraudsters?|criminals?|hackers?|"
    r"a\s+caller)\s+(?:\w+\s+){0,3}?(?:used|opened|took\s+out|applied|stole|accessed|hacked|logged|asked|told|called|"
    r"rang|texted|messaged|contacted|e-?mailed)\b|"
    r"\b(?:that|it|this|these|those)\s+(?:wasn'?t|was\s+not|weren'?t|were\s+not|isn'?t|is\s+not)\s+(?:me|us|mine)\b|"
    r"\bi\s+(?:didn'?t|did\s+not|never)\s+(?:make|authori[sz]e|open|apply|log|sign|do)\b|"
    r"\bwithout\s+my\s+(?:permission|consent|knowledge)\b|"
    r"\b(?:i|we|he|she|they)\s+(?:got|received|had|have\s+had|was\s+sent)\s+(?:a|an|this|some)\s+(?:\w+\s+){0,3}?"
    r"(?:warning|alert|text|message|call|e-?mail|notification|letter)\b|\b(?:the\s+)?app\s+(?:says|said|shows|"
    r"showed|warned)\b|\b(?:opened|taken\s+out|took\s+out|applied\s+for|set\s+up)\b.{0,40}\bin\s+my\s+name\b"
)
# Someone the customer legally acts for: a child (an age or "as his parent"), a ward, a donor under a power of
# attorney.
_GUARDIAN = re.compile(
    r"(?i)\b(?:legal\s+guardian|guardianship|(?:lasting\s+)?power\s+of\s+attorney|(?:attorney|deputy)\s+for|"
    r"deputyship|appointee|court[-\s]appointed|court\s+of\s+protection)\b|\b(?:as|i'?m|i\s+am)\s+(?:his|her|their|"
    r"the)\s+(?:parents?|mum|mom|dad|mother|father|guardian|carer|deputy|attorney)\b|"
    r"\b\d{1,2}[-\s]?(?:years?[-\s]?old|yo)\b|\bunder\s+1[68]\b|\b(?:a\s+)?minor\b"
)
_WARD = re.compile(
    r"(?i)my\s+(?:\d{1,2}[-\s]?years?[-\s]?old\s+|\w+\s+)?(?:son|daughter|child|kid|nephew|niece|grandson|"
    r"granddaughter|ward|stepson|stepdaughter)s?'?s?\b"
)
_CREDENTIAL = re.compile(
    r"(?i)\b(?:pins?|passwords?|passcodes?|card\s*(?:numbers?|details|no)|cvv|cvc|security\s+codes?|codes?|login)\b"
)
_SIGN_IN_FROM = re.compile(r"(?i)(?:login|log-?in|sign-?in)\s+from\b")
_STOLEN_OWN = re.compile(r"(?i)^stolen\s+(?:name|identity|identities|ids?|details)\b")
# What the asker wants when a "victim" story is a pretext: getting away with it, or getting someone to move money.
_ATTACKER_GOAL = re.compile(
    r"(?i)\b(?:without\s+(?:getting|being)\s+(?:caught|flagged|noticed)|undetected|get\s+away\s+with|cash\s+(?:it\s+)?"
    r"out|my\s+cut|safely\s+(?:move|receive|forward|keep)|(?:do|doing)\s+it\s+(?:safely|quietly|without))\b|"
    r"\bhow\s+(?:do|can|could|would|should)\s+(?:i|we)\s+(?:get|make|convince|persuade|trick|talk)\s+(?:my\s+|him\b|"
    r"her\b|them\b|someone|somebody|people)|\bhow\s+(?:do|can|could|would|should)\s+(?:i|we|he|she|they)\s+"
    r"(?:receive|forward|move|pass\s+on|send\s+on)\s+(?:it|the\s+money|money|the\s+funds)\b"
)


# Acting for the account holder in the corpora's other languages, and a joint account (the asker's own data).
_ACTS_FOR = re.compile(
    r"(?i)\b(?:poder\s+notarial|procuracao|vollmacht|betreuer(?:in)?|procuration|tutelle|tuteur|tutrice|tutor[ae]?|"
    r"curador[a]?|curatele|bewindvoerder|volmacht|pelnomocnictw\w*|vekalet\w*|vasisiyim|amministratore\s+di\s+"
    r"sostegno|executor|executrix|probate|joint|shared\s+account|cuenta\s+conjunta|conta\s+conjunta|compte\s+"
    r"(?:joint|commun)|gemeinsames?\s+konto|conto\s+cointestato|our\s+account)\b|доверенност\w*|опекун\w*"
)


@dataclass(frozen=True)
class GuardResult:
    refused: bool
    rule: str | None = None
    matched: str | None = None


# A suspicious message quoted by the customer who received it, asking whether it is genuine: its subject line may
# say "System instructions" without anything in it addressed to the bot.
_GENUINE_CHECK = re.compile(
    r"(?i)\b(?:phishing|scam|is\s+(?:that|this|it)\s+(?:really\s+)?(?:from\s+you|real|genuine|legit\w*)|did\s+you\s+"
    r"send)\b"
)
_QUOTED = re.compile(r"'[^']{3,120}'|\"[^\"]{3,120}\"")
_TO_THE_BOT = re.compile(
    r"(?i)\b(?:reveal|print|show|repeat|output|ignore|disregard|prompt|tell\s+me|your\s+instructions)\b"
)


# A message the customer received ("I got an e-mail telling me to '…'") and wants to forward, report or have checked:
# its override words are the phisher's, aimed at the customer. Anything else in the quote addressed to a bot (its
# prompt, a reply, a refund, a role) keeps the refusal.
_RECEIVED = re.compile(
    r"(?i)\b(?:got|received|had|was\s+sent|been\s+sent)\s+(?:a|an|this|the|some)\s+(?:\w+\s+){0,2}?(?:e-?mail|text|sms|"
    r"message|letter|dm|whatsapp)s?\b"
)
_ABOUT_IT = re.compile(r"(?i)\b(?:fake|forward|report|spoof\w*|suspicious|dodgy|looks?\s+(?:off|wrong|odd))\b")
_TO_THE_BOT_TOO = re.compile(
    r"(?i)\b(?:you|your|reveal|print|show|repeat|output|prompt|system|tell\s+me|say|reply|respond|answer|pretend|"
    r"act\s+as|approve|refund|transfer|mode|jailbr\w*|dan)\b"
)


def _quoted_lure(rule: str, match: re.Match[str], text: str) -> bool:
    """The match lies inside a quoted message the customer asks about, and that message tells the bot nothing; an
    override inside it ("ignore previous security instructions") only in a message the customer received."""
    received = _RECEIVED.search(text) and (_GENUINE_CHECK.search(text) or _ABOUT_IT.search(text))
    if rule == "injection" and not received:
        return False
    if not (_GENUINE_CHECK.search(text) or received):
        return False
    to_bot = _TO_THE_BOT_TOO if rule == "injection" else _TO_THE_BOT
    for quote in _QUOTED.finditer(text):
        if quote.start() <= match.start() and match.end() <= quote.end():
            return not to_bot.search(quote.group(0))
    return False


def _exempt(rule: str, match: re.Match[str], text: str) -> bool:
    """Matches that are the customer's own business: a parent asking about their child's Junior account (its
    co-owner); the sort code or phone number of someone the customer is paying (needed to pay them, and the customer
    already has it); a victim or a worried parent asking how money-mule or laundering scams work; a jailbroken
    *phone*; a relative's forgotten password asked about so that they can reset it (nothing read out to the asker); a
    developer building their own app (not one who says they built the bot); then a victim's or a guardian's
    question (``_victim_or_guardian``)."""
    span = match.group(0)
    if rule in ("prompt_extraction", "injection") and _quoted_lure(rule, match, text):
        return True
    if rule in ("pii_fishing", "other_customer") and _JUNIOR.search(text) and _own_child_before(match, text):
        return True
    if rule == "other_customer":  # someone else's statements: fine for whoever legally acts for them
        if own_read_out(match, text):
            return True
        if _ATTACKER_GOAL.search(text) or _BULK.search(text):
            return False
        return bool(
            _GUARDIAN.search(text) or _ACTS_FOR.search(text) or _ASKED_THIRD_PARTY.search(text[: match.start()])
        )
    if rule == "pii_fishing" and _JUNIOR.search(text):
        return bool(_CHILD.search(text[match.start() : match.end() + 25]))
    if rule == "pii_fishing" and _PAYEE_DETAILS.search(span):
        return bool(_PAYING.search(text)) and not _ASKING_FOR_IT.search(text) and not _BULK.search(text)
    if rule == "fraud_help" and re.search(r"(?i)\b(?:mule|muling|launder)", span) and _AWARENESS.search(text):
        return not RECRUITING.search(text.lower())  # "I want to set one up": the recruiter, not a victim
    if rule == "injection" and re.search(r"(?i)jailbr", span):
        return bool(_DEVICE.search(text[max(0, match.start() - 40) : match.end() + 40]))
    if rule == "pii_fishing" and re.match(r"(?i)(?:his|her|their)\b", span) and _RECOVERY.search(text):
        return not _ASKING_FOR_IT.search(text) and not _BULK.search(text)
    if rule == "impersonation" and _OWN_PROJECT.search(span):
        return not re.search(r"(?i)\b(?:your|the\s+bot'?s)\s+developers?\b|\bdeveloped\s+you\b", text)
    return _victim_or_guardian(rule, match, text)


def _victim_or_guardian(rule: str, match: re.Match[str], text: str) -> bool:
    """A first-person report of something done to the customer or their family ("mum was told to move her savings",
    "someone used my stolen ID", "a login from Lagos, that wasn't me", "someone asked my son to be a money mule"), or
    a parent, guardian, attorney or executor asking how to see or manage the account of someone they act for, a carer
    reporting a credential the holder gave away, a fake account reported with what it asks people for. Never
    when the text asks for the data to be read out, asks about many people, or says what the asker wants to get
    away with."""
    span = match.group(0)
    if _ATTACKER_GOAL.search(text) or _BULK.search(text):
        return False
    if rule == "fraud_help":
        mule = re.search(r"(?i)\b(?:mule|muling)", span)
        own = _STOLEN_OWN.match(span) and re.search(r"(?i)\b(?:my|our)\s+$", text[: match.start()])
        return bool((mule or own) and _VICTIM.search(text))
    if rule != "pii_fishing" or _ASKING_FOR_IT.search(text):
        return False
    if _SIGN_IN_FROM.match(span):
        return bool(_VICTIM.search(text))
    if _WARD.match(span):
        return not _CREDENTIAL.search(span) and bool(_GUARDIAN.search(text))
    if not re.match(r"(?i)(?:his|her|their)\b", span):
        return False
    if _CREDENTIAL.search(span):
        return bool(_ASKED_THIRD_PARTY.search(text[: match.start()]) or _handed_or_impersonated(match, text))
    return bool(_VICTIM.search(text) or _GUARDIAN.search(text) or ESTATE.search(text))


def _own_child_before(match: re.Match[str], text: str) -> bool:
    """ "My 15-year-old son has a junior account, can I check his transactions?": the pronoun is the asker's child's,
    and what is asked about is not a credential."""
    span = match.group(0)
    if _CREDENTIAL.search(span) or re.search(rf"(?i)\b{RELATION}", span) or _ATTACKER_GOAL.search(text):
        return False
    return bool(re.search(r"(?i)\b(?:his|her|their)\b", span) and MY_CHILD.search(text[: match.start()]))


def _handed_or_impersonated(match: re.Match[str], text: str) -> bool:
    """A credential named as what the account holder gave away or what a fake account asks people for, in a report
    that asks for protection or reports the fake (``_victim_or_guardian`` has ruled out read-outs)."""
    before = text[: match.start()]
    if HANDED_OVER.search(before) and PROTECT.search(text):
        return bool(CARER.search(text) or _GUARDIAN.search(text) or _VICTIM.search(text))
    return bool(
        SCAMMER_ASKS.search(before)
        and IMPERSONATOR.search(text)
        and REPORTING.search(text)
        and not I_DO_IT.search(text)
    )


def _match_rules(folded: str) -> GuardResult:
    views = dict.fromkeys(
        [folded, deobfuscate(folded), deobfuscate(folded, one_is_l=True), split_words(folded), *rejoined_views(folded)]
    )
    for name, pattern in _RULES:
        for view in views:
            for match in pattern.finditer(view):
                if not _exempt(name, match, view):
                    return GuardResult(True, name, match.group(0))
    for name, pattern in _LOWER_RULES:
        for view in dict.fromkeys(v.lower().replace("ı", "i") for v in views):  # dotless i: as IGNORECASE reads it
            for match in pattern.finditer(view):
                if not _exempt(name, match, view):
                    return GuardResult(True, name, match.group(0))
    return GuardResult(False)


def check(question: str) -> GuardResult:
    """Refuse when any rule matches; ``rule`` names the category for the turn's meta (``guard:<rule>``)."""
    folded = fold(question)
    verdict = _match_rules(folded)
    if verdict.refused:
        return verdict
    for decoded in [*decoded_blobs(folded), *transposed_views(folded)]:
        inner = _match_rules(fold(decoded))
        if inner.refused:
            return GuardResult(True, "encoded", inner.matched)
    return GuardResult(False)


# --- the answer check ------------------------------------------------------------------------------------------
_DONE = (
    r"(?:transferred|refunded|blocked|cancel+ed|frozen|froze|unfrozen|unfroze|sent|reversed|credited|debited|moved|"
    r"paid|issued|ordered|closed|opened|reset|changed|updated|unblocked|disputed|reported|raised|escalated|approved|"
    r"activated|deactivated|removed|increased|lowered|waived|released|initiated|processed|submitted|filed|lodged|"
    r"arranged|scheduled|replaced|requested|dispatched|posted|forwarded|lifted|restored|deleted)"
)
_DO = (
    r"(?:transfer|refund|block|cancel|freeze|unfreeze|send|reverse|credit|move|pay|issue|order|close|open|reset|"
    r"change|update|unblock|dispute|report|raise|escalate|approve|activate|deactivate|remove|increase|lower|waive|"
    r"release|initiate|process|submit|file|lodge|arrange|schedule|replace|request|dispatch|post|forward|lift|restore)"
)
_CLAIMS = re.compile(
    "(?i)"
    rf"\bi(?:'ve|\s+have)?\s+(?:just\s+|already\s+|now\s+|successfully\s+)?{_DONE}\b|"
    rf"\bwe(?:'ve|\s+have)\s+(?:just\s+|already\s+|now\s+|successfully\s+)?{_DONE}\b|"
    r"\b(?:i|we)(?:'ve|\s+have)\s+gone\s+ahead\b|"
    rf"\bi(?:'ll|\s+will|\s+am\s+going\s+to|'m\s+going\s+to|\s+can)\s+(?:now\s+|also\s+)?(?:go\s+ahead\s+and\s+)?{_DO}\b|"
    r"\bi(?:'ve|\s+have)?\s+(?:just\s+)?(?:checked|looked\s+(?:at|into)|reviewed|verified|accessed|pulled\s+up)\s+"
    r"your\s+(?:account|transactions|balance|card|payments?|details|records|transfer)|"
    r"\bi\s+can\s+see\s+(?:that\s+)?(?:your|a|the)\s+(?:payment|transfer|transaction|account|balance|card|refund)|"
    r"\byour\s+(?:\w+\s+){0,2}?(?:card|account|transfer|payment|refund|dispute|pin|passcode|password|limit|"
    r"direct\s+debit|standing\s+order|money|funds|replacement|request|complaint)s?\s+(?:has\s+(?:now\s+)?been|"
    rf"have\s+(?:now\s+)?been|is\s+now|are\s+now|was\s+(?:just\s+|successfully\s+))\s+(?:\w+\s+)?{_DONE}\b"
)
_CONDITION = re.compile(r"(?i)\b(?:if|once|when|after|until|before|unless|whether|as\s+soon\s+as)\b")
# "accounts we have blocked as high-risk", "the payments that we reversed": a relative clause describes a kind of
# thing the bank does, it does not claim an action on this customer's account.
_RELATIVE = re.compile(
    r"(?i)\b(?:accounts?|payments?|cards?|transfers?|transactions?|recipients?|payees?|merchants?|ones|those|that|"
    r"which)\s+$"
)


def claims_action(answer: str) -> str | None:
    """The phrase by which an answer claims the bot did (or will do) something it cannot, else None.

    The bot only answers from help articles: it cannot move money, block cards or look at an account, so "I have
    blocked your card" or "your refund has been processed" would mislead the customer into not acting. Statements
    of the bank's policy ("we refund fraudulent payments after investigation", "we will refund you within 5
    days") and instructions ("you can block your card in the app") are not claims; neither is a clause under a
    condition ("once your transfer has been sent, ...").
    """
    text = normalise_text(answer).replace("\u2019", "'")
    for match in _CLAIMS.finditer(text):
        sentence_start = max(text.rfind(p, 0, match.start()) for p in ".!?\n")
        if _CONDITION.search(text[sentence_start + 1 : match.start()]) or _RELATIVE.search(text[: match.start()]):
            continue
        return match.group(0)
    return None
