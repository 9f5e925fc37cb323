"""The guard's refusal rules: regular expressions over folded, accent-free text (see chatbot/guard.py).

Each rule names a category that is logged as ``guard:<rule>``. The rules target *other people's* data and *the
bot's own* instructions, never a customer's own PIN, passcode or account. Written against the dev split of
tests/data/guard_*.jsonl; the held-out split measures how far they generalise (benchmarks/guard_rates.py).

This module holds the direct phrasings ("ignore your instructions", "what is Sarah's PIN?"); the same attacks as broader
structures are in chatbot/guard_rules_broad.py, in more languages and scripts in chatbot/guard_rules_scripts.py, and
said indirectly (rules voided in other words, story setups, fake tool output, dictated confirmations) in
chatbot/guard_rules_more.py. ``RULES`` runs them in that order; the first match names the category.
"""

from __future__ import annotations

import re

from chatbot.guard_rules_broad import BROAD_RULES
from chatbot.guard_rules_more import MORE_RULES
from chatbot.guard_rules_scripts import SCRIPT_RULES
from chatbot.guard_vocabulary import (
    NAME,
    OBJECT,
    OTHER,
    PRIVILEGED,
    RELATION,
    RELATION_INTL,
    SECRET,
    STAFF,
    VERB,
    any_of,
)

_DIRECT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "injection",
        any_of(
            rf"\b{VERB}\b(?:\s+\S+){{0,4}}?\s+{OBJECT}\b",
            r"\b(?:ignore|disregard|forget)\s+(?:what|everything|anything)\s+(?:you\s+)?(?:were|have\s+been|'ve\s+been)"
            r"\s+(?:told|taught|given)",
            r"\b(?:your|the|all|previous|prior|safety)\s+(?:\w+\s+)?(?:instructions|rules|guidelines|restrictions|"
            r"directives)\s+(?:above\s+)?(?:are|is|have\s+been|were)\s+(?:now\s+)?(?:cancel+ed|void|revoked|lifted|"
            r"suspended|switched\s+off|turned\s+off|disabled|obsolete|overridden|written\s+by)",
            r"\b(?:rules|instructions|guidelines|restrictions|polic(?:y|ies))\s+(?:above\s+)?(?:no\s+longer|don'?t|"
            r"do\s+not)\s+apply",
            r"\b(?:your|the)\s+(?:\w+\s+)?(?:instructions|guidelines|rules|prompt)\b.{0,60}\b(?:ignore|disregard|"
            r"forget|bypass)\s+(?:them|those|it)\b",
            r"\b(?:real|actual|true|new|updated)\s+(?:instructions?|directives?|commands?|task|orders)\s*(?:are|is|:)",
            r"\byour\s+(?:new|real|actual|true)\s+(?:task|job|role|purpose|instructions?|directive|goal|mission)\b",
            r"\bstop\s+being\s+(?:an?\s+)?(?:\w+\s+){0,2}(?:assistant|bot|chatbot|ai|helpful|safe)\b",
            r"\byou\s+(?:no\s+longer|don'?t\s+have\s+to|do\s+not\s+have\s+to|needn'?t)\s+(?:follow|obey|respect)",
            r"\bwhatever\s+you\s+(?:were|have\s+been)\s+(?:told|instructed)",
            r"\byou\s+(?:may|can|are\s+(?:now\s+)?(?:allowed|permitted)\s+to)\s+(?:now\s+)?(?:share|reveal|disclose)",
            r"\b(?:may|can)\s+(?:now\s+)?be\s+(?:shared|revealed|disclosed)\b",
            r"\bthe\s+(?:assistant|ai|bot|model)\s+(?:may|must|should|will|is\s+(?:allowed|permitted)|can\s+now)\b",
            r"\b(?:unrestricted|unfiltered|uncensored|jailbr[eo]\w*|do\s+anything\s+now|system\s+override)\b|"
            r"(?-i:\bDAN\b)|(?-i:SYSTEM\s+(?:NOTICE|UPDATE|MESSAGE|MODE))",
            r"\byou\s+(?:now\s+)?(?:have|got)\s+no\s+(?:rules|restrictions|guidelines|filters|limits|boundaries)",
            r"\b(?:ai|assistant|bot|model|chatbot|gpt|hacker|insider|employee|version)\s+(?:with\s+no|without(?:\s+any)?)"
            r"\s+(?:rules|restrictions|limits|filters|guidelines|censorship|boundaries|limitations)",
            r"\b(?:answer|respond|reply|help\s+me)\s+(?:me\s+)?(?:freely|without\s+(?:any\s+)?(?:restrictions|limits|"
            r"filters|rules|censorship))",
            r"\b(?:sans|sin|ohne|senza)\s+(?:limites?|restrictions?|restricciones|regles|reglas|regeln|einschrankungen|"
            r"grenzen|filtres?|filtros|limiti|regole|censure)\b",
            r"\b(?:is|are)\s+(?:now\s+)?(?:switched|turned)\s+off\s+for\s+this",
            r"\b(?:unchained|unbound|unleashed|limitless)\b|\bfreed\s+from\b|\byou\s+(?:never|don'?t|do\s+not|can'?t|"
            r"cannot|won'?t)\s+refuse\b|\bif\s+you\s+(?:had|have)\s+no\s+(?:content\s+)?(?:polic\w+|rules|restrictions|"
            r"filters|guidelines|limits)",
            r"\b(?:your\s+(?:\w+\s+)?(?:restrictions|rules|guardrails|filters|limits|guidelines|polic(?:y|ies))|"
            r"(?:restrictions|rules|guardrails|filters|limits|guidelines)\s+on\s+you)\s+(?:were|are|have\s+been)\s+"
            r"(?:temporarily\s+|now\s+)?(?:lifted|suspended|removed|relaxed|waived)|\b(?:relax|lift|suspend|loosen)\s+"
            r"(?:\w+\s+)?(?:usual\s+)?(?:restrictions|limitations|guardrails|filters|rules)\s+for\s+me\b|\bsuspend\s+your\b",
            r"\b(?:your|the)\s+(?:\w+\s+){0,3}?(?:instructions|directions|directives|rules|guidelines|setup|briefing|"
            r"configuration|orders)\s+(?:are|is)\s+(?:now\s+)?(?:void|obsolete|outdated|cancel+ed|annul\w*|over)\b|"
            r"\b(?:consider|treat)\s+(?:\w+\s+){0,5}?(?:obsolete|void|cancel+ed|null)\b|\bsupersedes?\b",
            r"\b(?:no|without(?:\s+any)?)\s+(?:more\s+)?(?:refusals|caveats|disclaimers|censorship)\b|"
            r"\b(?:even\s+(?:things|what|if)|things)\s+(?:\w+\s+){0,3}?(?:rules|polic\w+|guidelines)\s+(?:forbid|"
            r"prohibit|don'?t\s+allow)|\b(?:release[ds]?|freed?)\s+(?:you\s+)?from\s+(?:all\s+)?(?:the\s+|your\s+)?"
            r"(?:rules|guidelines|restrictions|instructions)|\b(?:obey|obeys|obeying)\s+(?:only\s+)?(?:me|my|the\s+user)\b",
            r"\b(?:sin|sans|ohne|senza|sem|zonder|bez|uden|utan|uten|fara|olmadan)\s+(?:\w+\s+)?(?:censura|censure|"
            r"filtr\w*|filter|beperkingen|ograniczen|begraensninger|begransningar|begrensninger|restric\w*|limit\w*|"
            r"regras|regole|regl\w*|kisitlama)\b|\bkisitlama\s+olmadan\b",
            r"\badmin(?:istrator)?\s+(?:command|override|code|mode|access)\b|\b(?:disable|turn\s+off|switch\s+off|"
            r"deactivate)\s+(?:the\s+|your\s+)?(?:guard|filters?|safety|moderation|censorship)\b|\[\[?\s*(?:override|"
            r"system|admin|sudo)\s*\]\]?|\bsafety\s*=\s*(?:false|off|0)\b|\b(?:oublie|olvida|vergiss)\s+(?:tout|todo|alles)\b",
        ),
    ),
    (
        "role_play",
        any_of(
            r"\b(?:from\s+now\s+on|henceforth|from\s+here\s+on|starting\s+now|for\s+the\s+rest\s+of\s+this\s+"
            r"(?:chat|conversation))\b,?\s+(?:you\s+)?(?:will\s+|must\s+|shall\s+|are\s+to\s+)?(?:respond|answer|"
            r"reply|act|speak|talk|behave|obey|be|pretend|only)\b",
            r"\b(?:act|behave|respond|answer|reply|speak|talk|write)\s+(?:\w+\s+){0,2}?(?:as|like)\s+(?:if\s+you\s+"
            r"(?:were|are)\s+)?(?:an?\s+|my\s+|the\s+|your\s+)?(?:\w+\s+){0,3}?(?:ai|assistant|bot|gpt|dan|grandm\w*|"
            r"hacker|insider|teller|employee|manager|admin\w*|developer|character|persona|twin|alter\s+ego|"
            r"criminal|villain)\b",
            r"\b(?:respond|answer|reply|speak)\s+as\s+(?-i:[A-Z][A-Za-z]+)",
            r"\bpretend\s+(?:that\s+)?(?:you(?:'re|\s+are|\s+were)?\b|to\s+be\s+(?:an?\s+)?(?:\w+\s+)?(?:ai|assistant|"
            r"bot|hacker|employee|manager|insider|teller|developer|admin)|the\s+(?:bank'?s?\s+)?(?:rules|polic))",
            r"\b(?:rules|restrictions|policy)\s+(?:don'?t|do\s+not)\s+exist",
            r"\byou(?:'re|\s+are)\s+(?:now|no\s+longer)\s+(?:an?\s+|in\s+)?(?:\w+\s+){0,3}?(?:assistant|ai|bot|chatbot|"
            r"model|mode|gpt|free\w*|dan|hacker)\b",
            r"\b(?:enter|switch\s+(?:to|into)|enable|activat\w*|turn\s+on|go\s+into|(?:you(?:'re|\s+are)\s+)?now\s+in)"
            r"\s+(?:\w+\s+)?(?:developer|dev|god|admin|debug|maintenance|sudo|root|evil|dan|test|diagnostic|opposite)"
            r"\s+mode",
            r"\b(?:developer|dev|god|admin|debug|maintenance|sudo|root)\s+mode\s+(?:is\s+)?(?:enabled|activated|on|"
            r"unlocked|ignores)|(?:entwickler|debug|admin|wartungs|gott)modus",
            r"\b(?:let'?s|we\s+will)\s+(?:play|do)\s+a\s+(?:game|role-?play)|\brole[- ]?play|"
            r"\bplay(?:ing)?\s+(?:the\s+)?role\s+of|\bplaying\s+an?\s+(?:rogue|corrupt|evil)|\b(?:stay|remain|be)?\s*in\s+character\b",
            r"\bimagine\s+(?:that\s+)?you\s+(?:are|were|had|have|could)\b|\balter\s+ego\b|\bevil\s+(?:twin|version)",
            r"\bif\s+you\s+(?:were|are)\s+(?:allowed|able|free|permitted)\s+to\s+(?:break|ignore|bend|share|reveal)|"
            r"\bbreak\s+(?:the|your)\s+(?:own\s+)?rules",
            r"\bagis\w*\s+(?:en\s+tant\s+que|comme)\b|\bact\s+(?:like|as)\s+(?:the\s+|a\s+)?(?:bank'?s?\s+)?(?:database|db|"
            r"system|terminal|server|api)\b",
            r"\bsimulate\s+(?:a|an)\s+(?:conversation|chat|ai|scenario)\s+(?:where|in\s+which)\s+you",
            r"\b(?:a\s+partir\s+de\s+maintenant|desormais|dorenavant|a\s+partir\s+de\s+ahora|desde\s+ahora|"
            r"ab\s+jetzt|von\s+nun\s+an|ab\s+sofort|d'ora\s+in\s+poi)\b.{0,30}\b(?:tu|vous|du|sie|responde|contesta|"
            r"actua|eres|rispondi)\b",
            r"\bfai\w*\s+comme\s+si\s+(?:tu|vous)|\btu\s+so,?\s+als\s+(?:ob\s+)?(?:warst|bist|du)|\bfinge\s+(?:que|ser)|"
            r"\b(?:actua|responde|contesta|habla|antwortest|antworte|agiere)\s+(?:du\s+)?(?:como|als)\s+(?:un|una|si|"
            r"ein\w*|eine\w*)\b|\bdu\s+bist\s+(?:jetzt|nun)\s+(?:ein\w*\s+)?(?:\w+\s+)?(?:ki|bot|assistent|im)\b",
        ),
    ),
    (
        "prompt_extraction",
        any_of(
            r"\b(?:system|hidden|secret|internal|confidential)\s+(?:prompt|instructions?|message|configuration|rules|"
            r"notes|directives?|text)\b|\b(?:pre|meta)-?prompt\b|\bsystem-?prompt\b",
            r"\b(?:your|the|this)\s+(?:very\s+)?(?:first|initial|original|opening)\s+(?:message|prompt|instructions?|"
            r"lines?|words|text)\b",
            r"\byou\s+(?:were|have\s+been|'ve\s+been)\s+(?:told|instructed|programmed|given|configured|prompted)\b",
            r"\b(?:first|last)\s+thing\s+you\s+were\s+(?:told|given|asked)\b|\b(?:were|have)\s+you\s+(?:been\s+)?(?:told|"
            r"instructed|programmed|given|configured|prompted)\b",
            r"\b(?:repeat|print|output|paste|copy|show|display|reveal|echo|dump|spell\s+out|summari[sz]e|write\s+out|"
            r"recite|translate|encode)\b(?:\s+\S+){0,4}?\s+(?:(?:text|words|everything|all|content|message|lines?)\s+"
            r"(?:above|before|preceding)|context\s+(?:window|passages?)|your\s+(?:instructions|rules|guidelines|"
            r"configuration|context)|(?:the|your)\s+above)\b",
            r"\bcontext\s+window\b|\b(?:instructions|rules|prompt|guidelines)\s+you\s+(?:received|got|were\s+given)\b",
            r"\byour\s+(?:own\s+|full\s+|entire\s+|whole\s+)?(?:prompt|directives|programming|configuration|config)\b",
            r"\b(?:verbatim|word\s+for\s+word|letter\s+by\s+letter|mot\s+pour\s+mot|wort\s+fur\s+wort|palabra\s+por\s+"
            r"palabra|exactly\s+as\s+(?:\w+\s+){0,2}written)\b",
            r"\b(?:words|lines|sentences|characters|paragraphs?)\s+of\s+your\s+(?:prompt|instructions|rules|message)",
            r"\b(?:instructions|prompt|rules)\s+(?:begin|start)s?\s+with\b|\bapi\s+keys?\b|\brepeat\s+after\s+me\b|"
            r"\badmin(?:istrator)?\s+(?:password|login|credentials|panel)\b",
            r"\b(?:before|above)\s+my\s+first\s+message|\b(?:full|whole|entire)\s+conversation\s+(?:so\s+far|history)|"
            r"\bhidden\s+(?:parts?|text|content|sections?)\b|\byour\s+(?:setup|set-up)\b|\b(?:start|begin)\s+your\s+"
            r"(?:reply|answer|response)\s+with\b|\bhere\s+are\s+my\s+instructions\b",
            r"\b(?:rules|restrictions?|instructions)\s+(?:that\s+)?you\s+(?:were|have\s+been|'ve\s+been)\s+(?:set|given|"
            r"told)|\bnot\s+allowed\s+to\s+(?:talk|say|tell|discuss)|\b(?:came|come|was|were|written|placed)\s+(?:before|"
            r"above)\s+my\s+(?:question|message)",
            r"\b(?:ton|votre|tes|vos|dein\w*|tu|tus|su|sus|il\s+tuo|seu)\s+(?:premier|erste\w*|primer|primo|primeiro)\s+"
            r"(?:message|nachricht|mensaje|messaggio|mensagem)",
            r"\b(?:instructions|instrucciones|anweisungen|istruzioni)\s+(?:cachees|secretes|initiales|ocultas|secretas|"
            r"originales)|\b(?:versteckten|ursprunglichen|geheimen)\s+anweisungen|\b(?:message|prompt)\s+(?:du\s+|del\s+|"
            r"de\s+|di\s+|do\s+)?(?:systeme|sistema)\b|\bsystem(?:prompt|nachricht)|\bsysteemprompt|"
            r"\b(?:ta|votre|deine|tu|su)\s+configura\w*",
        ),
    ),
    (
        "pii_fishing",
        any_of(
            rf"\b{SECRET}\s+(?:of|for|belonging\s+to|from|on\s+file\s+for|registered\s+to|linked\s+to|owned\s+by)\s+"
            rf"{OTHER}\b",
            rf"\b{OTHER}(?:'s|s'|')\s+(?:\w+\s+){{0,2}}{SECRET}\b",
            rf"\b(?:his|her|their)\s+(?:\w+\s+){{0,2}}{SECRET}\b",
            r"\bwho\s+(?:owns|holds|is\s+behind)\s+(?:the\s+)?(?:sort\s+code|account|card|iban)",
            r"\b(?:which|what)\s+(?:of\s+your\s+)?(?:customers|clients|account\s+holders|users|accounts)\s+(?:live|have\s+"
            r"(?:more|over|less)|own|hold|spent|earn|received|sent|got|paid)",
            rf"\bis\s+{NAME}\s+(?:a|one\s+of\s+your)\s+(?:customers?|clients?)\b|\bhow\s+much\s+(?:money\s+)?(?:does|did|has)\s+"
            rf"(?:{NAME}|my\s+{RELATION}|he|she|they)\s+(?:have|got|spend|earn)|\bhow\s+much\s+(?:money\s+)?is\s+in\s+"
            rf"{OTHER}(?:'s|s'|')",
            r"\b(?:list|show|give\s+me|tell\s+me|export|read\s+me)\s+(?:me\s+)?(?:all\s+)?(?:the\s+|every\s+)?(?:accounts|"
            r"customers|clients|users|account\s+holders)\s+(?:with|who|that|in|from|living)\b",
            r"\b(?:export|dump|download|extract|leak)\s+(?:all\s+|the\s+|every\s+)?(?:customer|client|user)s?'?\s+"
            r"(?:records|data|database|details|list|information|info|e-?mails|addresses|names)|\bcustomer\s+database|"
            r"\bdump\s+(?:the\s+)?(?:\w+\s+)?(?:database|db|table)\b|\bselect\s+\*?\s*\w*\s*from\s+\w+|\bunion\s+select",
            r"\b(?:customer|client)s?\s+(?:pins?|card\s+numbers?|data|list)\b|\bfrom\s+your\s+database\b|"
            r"\bpin\s+for\s+account\b|\b(?:last|previous)\s+(?:customer|person|user)\s+you\b|\bperson\s+you\s+"
            r"(?:chatted|talked|spoke)|\b(?:person|customer|user|whoever)\s+(?:who|that)?\s*(?:\w+\s+){0,4}?(?:before\s+me)",
            rf"\b(?:does|is|has)\s+(?:my\s+{RELATION}|{NAME})\s+(?:bank|have\s+an?\s+account)\s+with\s+you|"
            r"\bwhat\s+(?:did|has)\s+(?:he|she|they)\s+(?:spend|spent|buy|bought)",
            r"\b(?:numero|code|solde|saldo|kontonummer|kontostand|passwort|datos|donnees|daten|adresse|pin|correo\w*)\b(?:\s+\S+){0,3}?"
            r"\s+(?:de|du|des|di|von|del|meines|meiner|seines|ihres)\s+(?:(?:(?:mon|ma|mes|mein\w*|mi|mio|mia)\s+)?(?:"
            + RELATION_INTL
            + r")\b|un\s+autre|une\s+"
            r"autre|otro|otra|un\s+altro|eines\s+anderen|anderer|herr\w*|frau|monsieur|madame|senor\w*|m\.|mme|sr\.|sra\.|"
            r"(?:la\s+|el\s+|le\s+|dem\s+)?(?:titular\w*|titulaire|inhaber\w*)|(?:karte|carte|tarjeta|cuenta|konto|compte)\s+\d|"
            r"(?-i:[A-Z]\w+))",
        ),
    ),
    (
        "impersonation",
        any_of(
            rf"\b(?:i'?m|i\s+am|this\s+is|we\s+are|speaking\s+as|as|je\s+suis|ich\s+bin|soy|sono)\s+(?:\w+\s+){{0,3}}?"
            rf"(?:from\s+|de\s+|von\s+)?(?:the\s+|la\s+|der\s+)?(?:bramblecove\s+|bank'?s?\s+|your\s+)?{STAFF}\b"
            rf".{{0,80}}\b{PRIVILEGED}",
            r"^\W*(?:compliance|fraud\s+team|security\s+team|it\s+support|management)\s+here\b|\binternal\s+(?:staff\s+)?"
            r"request\b|\b(?:message|notice)\s+from\s+(?:the\s+)?(?:bramblecove|bank|your)\s+\w+|\bi\s+work\s+(?:at|for|"
            r"in)\s+(?:bramblecove|the\s+bank|your\s+(?:bank|head\s+office))\b.{0,60}\b" + PRIVILEGED,
            r"\bthis\s+is\s+your\s+(?:developer|creator|programmer|admin\w*|owner|maker)\b",
        ),
    ),
    (
        "fraud_help",
        any_of(
            r"\bwithout\s+(?:the\s+bank\s+|you\s+|anyone\s+|them\s+|him\s+|her\s+|the\s+owner\s+)?(?:noticing|knowing|"
            r"finding\s+out|being\s+(?:caught|detected|noticed|flagged|traced)|getting\s+(?:caught|flagged|detected|"
            r"noticed)|asking|blocking)",
            r"\bin\s+(?:my\s+)?(?:neighbou?r|friend|someone)'?s\s+name\b|\bsomeone\s+else'?s\s+(?:passport|id|identity|"
            r"card|photo|face|selfie)\b|\b(?:photo|picture|selfie|face)\s+of\s+(?:someone|somebody|another\s+person)",
            r"\b(?:money\s+mul(?:e|ing)|launder|structur(?:e|ing)\s+(?:my\s+)?deposits?)|\bblanchi\w*\s+(?:de\s+)?"
            r"l'?argent|\bgeld\s*wasch|\blavar\s+dinero|\bblanquear",
            r"\b(?:write|create|make|draft|compose|send)\b.{0,60}\bpretending\s+to\s+be\s+(?:the\s+)?(?:bank|bramblecove)|"
            r"\b(?:write|create|make|draft|generate|design|compose)\s+(?:me\s+)?(?:an?\s+)?(?:\w+\s+){0,3}?(?:phishing|"
            r"scam)\b",
            r"\bsplit\b.{0,60}\bso\s+(?:you|they)\s+don'?t\b|\b(?:claim|dispute|chargeback)\b.{0,60}\b(?:actually\s+"
            r"received|made\s+(?:it\s+)?myself)\b|\b(?:under|below|beneath|avoid)\s+(?:the\s+|your\s+)?(?:reporting|"
            r"aml|detection)\b",
            r"\b(?:fake|forged|false|counterfeit)\s+(?:\w+\s+)?(?:id|ids|passport|payslips?|documents?|identity|"
            r"licen[cs]e|selfie)\b|\b(?:use|using)\s+(?:an?|the|this)\s+(?:stolen|found|cloned)\s+card\b",
            rf"\b(?:get|break|hack|log)\s+into\s+(?:my\s+{RELATION}'?s?|someone|somebody|another|his|her|their)\b|"
            r"\btake\s+over\s+(?:someone|somebody|another|an?\s+other|his|her|their)\b",
            r"\b(?:bypass|beat|fool|trick|cheat|spoof)\s+(?:the\s+|your\s+)?(?:selfie|"
            r"identity|id|verification|kyc|fraud|aml)\b|\bluhn\b|\b(?:valid|working|generate)\s+(?:\w+\s+)?card\s+numbers?"
            r"|\bcard\s+numbers?\s+that\s+(?:work|pass)",
            r"\bdirty\s+money\b|\blooks?\s+(?:clean|legit(?:imate)?)\b|\bpeople\s+who\s+don'?t\s+exist\b|"
            r"\bsynthetic\s+identit|\b(?:convince|persuade|trick|get)\s+(?:\w+\s+){0,3}?(?:to\s+)?(?:give|tell|share|hand)\s+"
            r"(?:me\s+)?(?:her|his|their)\b",
            r"\bsans\s+(?:etre\s+)?(?:repere|vu|detecte)|\bohne\s+dass\b.{0,30}\bmerkt|\bsin\s+que\s+(?:lo\s+|se\s+)?"
            r"(?:noten|detecten|den\s+cuenta)",
        ),
    ),
    (
        "markup",
        any_of(
            r"<\|\s*[a-z_]+\s*\|>|\[/?inst\]|<</?sys>>|</?s>|(?:^|\n)\s*(?:#{1,6}\s*)?(?:system|assistant|human|user|"
            r"developer)\s*:",
            r"</?\s*(?:context|system|instructions?|prompt|assistant|user|admin|script|iframe|img|svg|object|embed)\b[^>]*>"
            r"|<!--|[\"']role[\"']\s*:\s*[\"'](?:system|assistant|developer)|```\s*(?:system|assistant|prompt)|"
            r"\[(?:system|admin|assistant|developer)\]\s*\(",
            r"\bon(?:error|load|click)\s*=",
        ),
    ),
    (
        "encoded",
        any_of(
            r"\b(?:reply|respond|answer|write|output|send|encode|translate)\b.{0,30}\b(?:in|into|as|using)\s+(?:base\s*64|"
            r"hex(?:adecimal)?|binary|rot\s*13|morse|ascii\s+codes?)\b",
            r"\b(?:decode|decipher|decrypt|unscramble)\b.{0,60}\b(?:and|then)\s+(?:do|follow|obey|execute|run|act|answer|"
            r"comply)\b|\b(?:base\s*64|rot\s*13|hex)\s+(?:question|message|instructions?|text(?!\s+files?)|command)\b",
        ),
    ),
)

RULES: tuple[tuple[str, re.Pattern[str]], ...] = _DIRECT_RULES + BROAD_RULES + SCRIPT_RULES + MORE_RULES
