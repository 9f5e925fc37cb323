"""The guard's rules for fraud help keyed on who is deceived: a lure written to look like the bank for its customers, a
code talked out of someone without their knowing, a card or banking app that is not the asker's put to use, cash
split so the bank does not connect it, a claim for a payment the asker made, a mule advert that must not look like
one (chatbot/guard.py runs them after chatbot/guard_rules_violence.py).

Each family names the deceived party and the asker's part in it: *customers* or *people* are to receive the message,
*they* must not realise, the *owner* must not cancel first, the bank must not *connect* the deposits, the claim is to
*stick*. A customer who received such a message, who was talked out of a code, whose card was stolen, or who asks how
to pay in a large sum of cash, names none of these. Same conventions as chatbot/guard_rules_setup_intl.py.
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of
from chatbot.guard_rules_setup_intl import anywhere, near, whole

# Written for the asker to send.
_WRITE = whole(
    r"(?:write|draft|compose|create|make|give\s+me|redige\w*|ecri[st]\w*|redacta\w*|escrib\w*|scrivi\w*|schreib\w*|"
    r"verfass\w*|napisz\w*|напиши\w*|напишіть|yaz\w*|escreve\w*|redija|schrijf|viet|tulis\w*|scrie)|लिख"
)
_LURE = whole(
    r"(?:sms|texts?|e-?mails?|messages?|whatsapps?|letters?|scripts?|scenariusz\w*|scenario|mensaje|mensagem|"
    r"messaggio|nachricht|wiadomo\w*|сообщени\w*|повідомлен\w*|mesaj\w*|bericht|tin\s+nhan|pesan)|मैसेज|संदेश"
)
# The message passed off as the bank's, or aimed at its customers, or made to pass as genuine.
_AS_THE_BANK = whole(
    r"(?:looks?\s+(?:like\s+)?(?:it\s+)?(?:comes?|came|coming|is)\s+from|appears?\s+to\s+(?:come|be)\s+from|"
    r"in\s+(?:your|the)\s+bank'?s\s+(?:house\s+)?style|se\s+fai(?:t|sant)\s+passer\s+pour|hac(?:e|iendo)se\s+pasar\s+"
    r"por|finge\w*\s+(?:ser|essere)|spacciandosi|podaj\w*\s+si(?:e|ę)\s+za|udaj\w*c\w*|выдавая\s+себя|пода(?:ю|ет)\s+"
    r"себя|(?:pretend\w*|claim\w*)\s+to\s+be\s+(?:from\s+)?(?:the|your|a)\s+bank|posing\s+as\s+(?:the|your|a)\s+bank|"
    r"(?:telling|asking|asks|tells|urging)\s+(?:your\s+|the\s+)?(?:customers|clients|people|users|recipients)\b|"
    r"make\s+it\s+sound\s+(?:natural|real|legit\w*|genuine|official|believable)|not\s+scammy|urgent\s+but\s+"
    r"believable|without\s+phoning\s+to\s+check|changed\s+bank\s+details|through\s+my\s+(?:page|link|site)|"
    r"mandatory\s+security\s+upgrade)|बैंक\s+की\s+तरफ\s+से\s+लगे"
)
# A one-time code or a security answer got out of someone, or passed as them.
_CODE = r"(?:one-time\s+pass\s*codes?|otps?|verification\s+codes?|verificatiecode|kod\w*\s+blik|blik|codes?)"
_OUT_OF_SOMEONE = (
    rf"\b(?:get|getting|obtain|extract|trick|talk)\w*\s+(?:\w+\s+){{0,2}}?{_CODE}\s+(?:out\s+of|off|from)\s+"
    r"(?:someone|somebody|people|a\s+person|him|her|them|their|his|someone'?s)\b",
    r"\bwithout\s+(?:them|him|her|the\s+(?:owner|victim|customer))\s+(?:realising|realizing|noticing|knowing|"
    r"getting\s+a\s+notification|finding\s+out)\b",
    r"\bwhile\s+(?:they'?re|they\s+are|he'?s|she'?s|he\s+is|she\s+is)\s+not\s+looking\b",
    r"\bzonder\s+dat\s+(?:hij|zij|ze)\s+(?:\w+\s+){0,2}?(?:doorheeft|merkt|weet)\b|\bnang\s+hindi\s+nila\s+alam\b|"
    r"\bsans\s+qu'(?:il|elle|ils)\s+(?:ne\s+)?s'en\s+(?:rende|aperc)\w*|\bsin\s+que\s+(?:se\s+)?(?:de|den)\s+cuenta\b|"
    r"\bohne\s+dass\s+(?:er|sie)\s+(?:es\s+)?merk\w*",
    r"\b(?:pass|answer|get\s+through)\s+(?:your|the)\s+(?:\w+\s+)?(?:security|verification)\s+(?:questions|checks?)\s+"
    r"as\s+(?:them|him|her|someone)\b",
    r"\botp\s+(?:ng\s+ibang\s+tao|of\s+someone|of\s+another)|\bnamawia\w*\s+(?:\w+\s+){0,2}?do\s+podania\b",
)
# A card that is not the asker's: found, stolen, cloned, or someone else's number, put to use.
_NOT_MY_CARD = (
    r"\bbefore\s+the\s+(?:real\s+)?owner\s+(?:cancels|blocks|notices|reports|freezes)\b",
    r"\b(?:found|picked\s+up)\s+a\s+(?:wallet|purse|card|debit\s+card|credit\s+card)\b[^.?!\n]{0,80}[.?!,]?"
    r"[^.?!\n]{0,60}\b(?:use\s+it|spend|contactless|shop|pay\s+with)\b",
    r"\bcash\s+out\s+of\s+a\s+card\s+that'?s\s+(?:already\s+)?been\s+reported\s+stolen\b",
    r"\b(?:usar|use|utiliser|usare|pakai|menggunakan)\s+(?:\w+\s+)?(?:cartoe?s|cartas?|cartes?|cards?|kartu)\s+"
    r"(?:de\s+credito\s+|kredit\s+)?(?:clonad\w*|clone\w*|curian|roubad\w*|robad\w*|volee?s?|stolen|cloned|rubat\w*)",
    r"\b(?:how|where)\s+(?:do|can|could|should)\s+i\s+(?:use|spend\s+on|shop\s+with)\s+(?:a\s+|the\s+)?(?:stolen|"
    r"cloned|found)\s+(?:credit\s+|debit\s+)?cards?\b",
    r"\bcarta\s+di\s+credito\s+per\s+strada\b[^\n]{0,120}\bla\s+uso\b",
    r"অন্যের\s+কার্ডের",
    r"\b(?:copy|clone|cloning|copying)\s+the\s+chip\b|\breaders?\s+work\s+best\s+for\s+skimming\b",
    r"\b(?:cheque|check)\s+kiting\b",
)
# Cash paid in, or money passed on, so the bank does not connect, question or report it (split under a daily limit
# alone is a house buyer's question).
_UNCONNECTED = (
    r"\b(?:split|spread|break\s+up)\s+(?:it|the\s+(?:cash|deposits?|money|payments?)|my\s+(?:payments?|deposits?))\s+"
    r"(?:across|over|under|below|between|in\s+a\s+way)\b[^\n]{0,120}\b(?:connect|notice|flag|spot|detect)\w*",
    r"\b(?:so|so\s+that)\s+(?:the\s+bank|the\s+system|it|they|monitoring)\s+(?:doesn'?t|does\s+not|won'?t|will\s+not)"
    r"\s+(?:flag|notice|connect|question|spot|report)\b",
    r"\bwill\s+anyone\s+connect\s+the\s+deposits\b|\bcash\s+(?:from\s+my\s+business\s+)?that\s+i'?d\s+rather\s+not\s+"
    r"explain\b",
    r"\bsenza\s+(?:essere\s+)?segnala(?:zioni|t\w*)\b|\bzonder\s+(?:dat\s+het\s+)?(?:gemeld|gesignaleerd)\b",
    r"拆成[^\n]{0,30}(?:小额|小額)|(?:不会|不會)触发[^\n]{0,20}(?:反洗钱|审查)",
    r"حد\s+سے\s+کم|تاکہ\s+بینک",
    # The thresholds above which the bank's monitoring reviews a transfer by hand.
    r"\b(?:thresholds?|progi|soglie|umbrales|seuils)\s*,?\s+(?:above|over|powy(?:z|ż)ej|oltre|por\s+encima\s+de|"
    r"au-dessus)\s+(?:which|kt(?:o|ó)rych|le\s+quali|los\s+cuales|desquels)\b[^\n]{0,80}\b(?:manual|r(?:e|ę)czn\w*|"
    r"manuale|review|weryfikac\w*)",
    r"\bпересылать\s+дальше\b[^\n]{0,80}\bчтобы\s+банк\s+не\s+(?:заблокировал|заметил|спросил)",
)
# A claim for a payment the asker made, or a refund kept with the goods.
_MY_OWN_CLAIM = (
    r"\bmake\s+the\s+claim\s+(?:convincing|stick|believable)|\bdetails\s+make\s+the\s+claim\s+stick\b",
    r"\breport\s+(?:my\s+card|it)\s+(?:as\s+)?stolen\s+after\s+spending\b|\b(?:withdrew|spent|took\s+out)\s+"
    r"(?:\w+\s+){0,4}?myself\b[^\n]{0,80}\breport\s+it\s+as\s+(?:unauthori[sz]ed|fraud)",
    r"\biade\s+etmeden\b|\bainda\s+ficar\s+com\s+o\s+produto\b|\b(?:and\s+)?(?:still\s+)?keep\s+the\s+(?:product|"
    r"item|goods)\b[^\n]{0,40}\b(?:refund|chargeback)|\bsans\s+(?:le\s+)?renvoyer\b|\bsin\s+devolver(?:lo)?\b",
)
# A mule advert by its author, worded so that it does not look like one.
_MULE_AD = (
    r"\brecruit\w*\s+(?:students|people|young\s+people)\s+to\s+receive\s+(?:payments|transfers|money)\b",
    r"\b(?:word|write|phrase)\s+the\s+(?:job\s+)?(?:ad|advert|posting|listing)\s+so\b",
    r"\bwithout\s+(?:the\s+)?banks?\s+(?:noticing|catching\s+on|finding\s+out)\b",
    r"\b(?:wzor\w*|template|modele?|plantilla|vorlage)\s+(?:\w+\s+){0,2}?(?:fa(?:l|ł)szyw\w*|fake|falso|falsa|faux|"
    r"fausse|gefalscht\w*)",
)

LURES_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "fraud_help",
        lower_of(
            anywhere(_LURE, near(_WRITE, _AS_THE_BANK, r"[^\n]{0,160}?")),
            *_OUT_OF_SOMEONE,
            *_NOT_MY_CARD,
            *_UNCONNECTED,
            *_MY_OWN_CLAIM,
            *_MULE_AD,
        ),
    ),
)
