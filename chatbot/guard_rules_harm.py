"""The guard's rules for harmful content asked of the bot and fraud help asked as a plain "how do I"
(chatbot/guard.py runs them after chatbot/guard_rules_setup.py).

These are keyed on what the asker wants *made* or *achieved*, not on topic words, so that the victim's or the
curious customer's question about the same thing passes. Harmful content is a text the customer asks the bot to
write whose point is to hurt someone (a threatening, insulting, harassing or hateful message; a ransom note or
malware; fake reviews; a bot to flood the chat), or the physical security of branches, ATMs, cash deliveries and
staff. "How do I report a threatening message I received" asks for nothing to be written; "what does a skimmer look
like" wants to spot one, not build one. Fraud help is keyed on the asker's goal: that the bank, the merchant or the
owner must *not* notice, link, report or fight it; that a message look like the bank's or get people to hand over a
code; money back for what arrived; accounts in other people's names; getting round the bank's checks. Same
conventions as chatbot/guard_rules.py (folded, accent-free text); patterns in other languages are folded like the
text (chatbot/guard_views.fold), so Cyrillic look-alike letters read the same on both sides.
"""

from __future__ import annotations

import re

from chatbot.guard_views import fold

# Asking the bot to produce a text, in the corpora's languages (imperative or "help me / can you").
_MAKE = (
    r"(?:write|compose|draft|generate|create|craft|produce|make\s+(?:me\s+)?up|come\s+up\s+with|give\s+me|tell\s+me|"
    r"help\s+me\s+(?:write|word|draft|make|send)|ecri[st]|ecrivez|redige[zr]?|escrib[ea]|redacta|schreib\w*|"
    r"verfass\w*|scrivi|scrivimi|escrev[ae]|napisz|напиши|составь|придумай|yaz(?:ar\s+misin)?|tulis(?:kan)?|"
    r"buat(?:kan)?|mi\s+scrivi|dame|geef\s+me|schrijf)"
)
# A text whose point is to hurt: threats, insults, harassment, hate.
_HURTFUL = (
    r"(?:threat\w*|intimidat\w+|menacing|scary|abusive|insult\w*|harass\w*|hateful|hate|racist|sexist|homophobic|"
    r"transphobic|antisemitic|offensive|nasty|vicious|humiliating|defamatory|menac\w+|amenaza\w*|insultante|"
    r"drohend\w*|droh\w*|beleidigend\w*|minaccios\w*|ameaca\w*|ofensiv\w*|угрожающ\w*|оскорбительн\w*|"
    r"угроз\w*|tehdit\w*|hakaret\w*|beledigend\w*|dreig\w*)"
)
_TEXT_NOUN = (
    r"(?:messages?|letters?|e-?mails?|notes?|texts?|posts?|jokes?|repl(?:y|ies)|comments?|reviews?|tweets?|sms|"
    r"voicemails?|lettres?|mensajes?|cartas?|briefe?|nachrichten?|letteras?|messaggi[oa]?|mensage\w*|письм\w+|"
    r"сообщени\w+|mesaj\w*|bericht\w*|chistes?|blagues?|witze?|barzellett\w+|piadas?)"
)
_HARM_SCRIPTS = (
    # Russian/Ukrainian "a threatening letter", French "un message d'insultes", "des menaces".
    # (The first letter is left out: a capital one is folded to a Latin look-alike, a small one is not.)
    r"(?:апиши|оставь|ридумай|апишіть)\s+(?:\w+\s+){0,3}?(?:угрожающ\w*|оскорбительн\w*|угроз\w*)",
    r"\ben\s+insultant\b|\binsultando\s+(?:al|a\s+la|o|a|il)\b|\bbeleidig\w*\s+(?:den|die)\s+(?:vorherigen\s+)?kund",
    r"\b(?:message|lettre|mail|courrier|sms)\s+(?:d'|de\s+|plein\s+d'|avec\s+des\s+)(?:insultes|menaces|injures)\b",
    # Building a skimmer, flooding the chat (es, de, fr, it, pt).
    r"\bwie\s+baue\s+ich\s+(?:\w+\s+){0,2}?(?:skimmer|kartenleser)|\bcomo\s+(?:construir|fabricar|montar|hacer)\s+"
    r"(?:un\s+)?skimmer|\bcomment\s+(?:construire|fabriquer)\s+(?:un\s+)?skimmer|\bcome\s+costruire\s+(?:uno?\s+)?skimmer",
    r"\b(?:bot|script|programa|programme|programm)\s+(?:que|qui|che|der|das|to)\s+(?:\w+\s+){0,2}?(?:inunde|inonde|"
    r"sature|uberflut\w*|floods?|spams?|crashes|inondi|sommerg\w*)",
)

# The bank, its checks, the merchant or the owner as the one who must not notice, link, report or fight it.
_WATCHER = (
    r"(?:the\s+bank|you|you\s+guys|your\s+(?:\w+\s+){0,2}?(?:team|systems?|checks?|monitoring|algorithms?|bank)|"
    r"compliance|the\s+(?:fraud|compliance|aml|security)\s+\w+|nobody|no\s+one|anyone|the\s+(?:real\s+|actual\s+|"
    r"card\s+)?owners?|the\s+(?:merchant|seller|shop|store|retailer)|the\s+system)"
)
_UNNOTICED = (
    r"(?:notic\w*|detect\w*|spot\w*|link\w*|catch\w*|trac\w*|realis\w*|realiz\w*|find\s+out|report\w*|ask\w*\s+"
    r"(?:where|questions|about\s+(?:it|the\s+(?:money|source)))|"
    r"fil(?:e|ing)\s+(?:a\s+)?report|question\w*|quer\w*|fight|dispute|contest|challenge|object|connect\w*|tie\w*)"
)
# Money moved for others: a cut, forwarding, strangers' transfers, accounts in other names.
_FOR_OTHERS = (
    r"(?:for\s+a\s+(?:cut|fee|commission|percentage)|my\s+cut|\d+\s?%\s+(?:cut|commission|of\s+(?:each|every|it|"
    r"the))|forward\w*\s+(?:it|them|the\s+money|the\s+funds)?\s*on\b|pass(?:es|ing)?\s+(?:it\s+)?(?:along|on|"
    r"through\s+my)|money\s+pass\s+through|(?:people|strangers|others|clients)\s+send\s+(?:money\s+)?(?:in|into\s+"
    r"my)|keep\s+a\s+cut|run\s+my\s+(?:transactions|payments|money)\s+through|(?:through|via)\s+(?:\w+\s+)?(?:accounts?\s+)?"
    r"(?:opened\s+)?in\s+(?:different|other)\s+names|accounts?\s+for\s+(?:a\s+few|some|several)\s+of\s+my)"
)
# "Without the bank noticing" in other languages (folded).
_UNNOTICED_SCRIPTS = (
    r"\b(?:sans\s+que\s+(?:la\s+banque|vous|personne)\s+(?:ne\s+)?(?:le\s+)?(?:remarque|voie|s'en\s+rende|detecte))|"
    r"\bsin\s+que\s+(?:el\s+banco|ustedes|nadie)\s+(?:se\s+de\s+cuenta|lo\s+note|lo\s+detecte|sospeche|verifique)|"
    r"\bsem\s+que\s+(?:o\s+banco|voces|ninguem)\s+(?:perceba|note|verifique|descubra|desconfie)|"
    r"\bsenza\s+che\s+(?:la\s+banca|nessuno)\s+(?:se\s+ne\s+accorga|lo\s+noti|verifichi)|\bsenza\s+far\s+scattare|"
    r"\bohne\s+dass\s+(?:die\s+bank|ihr|jemand)\s+(?:es\s+)?(?:merkt|bemerkt|pruft)|"
    r"\bzonder\s+dat\s+(?:de\s+bank|jullie|iemand)\s+(?:het\s+)?(?:merkt|ziet|opmerkt)|"
    r"\bчтобы\s+(?:банк|никто)\s+не\s+(?:заметил|узнал|проверил)|\bщоб\s+банк\s+не\s+(?:помітив|дізнався)|"
    r"\bzeby\s+bank\s+nie\s+(?:zauwazyl|zablokowal)|\bfark\s+(?:etmesin|edilmeden)|\banlamasin|"
    r"\bدون\s+(?:ان\s+)?يكشف|\bملاحظة\s+البنك|銀行に(?:バレ|気づかれ)|银行(?:不会)?(?:发现|察觉)|은행이\s*(?:모르게|눈치)",
    # Other people's identity papers or name used to open an account or pass a check.
    r"\bbaskas\w*\s+(?:\w+\s+)?(?:kart\w*|kimli\w*|adina|hesab\w*)|\bباسم\s+شخص\s+(?:اخر|آخر)|"
    r"\bcudz\w+\s+(?:\w+\s+)?(?:dowod\w*|paszport\w*|dokument\w*)|\bdowod\w*(?:\s+\w+)?\s*,?\s*ktor\w+\s+"
    r"znalaz\w+|\b(?:чужо\w+|чужи\w+)\s+(?:паспорт\w*|документ\w*|карт\w*|им\w+)|\bна\s+чужое\s+имя|"
    r"\b(?:em|a)\s+nome\s+de\s+outra\s+pessoa|\ba\s+nombre\s+de\s+otra\s+persona|\ba\s+nome\s+di\s+(?:un'?|un\s+)?"
    r"altr[ao]\s+persona|\bau\s+nom\s+d'une\s+autre\s+personne|\bauf\s+(?:einen\s+)?fremde[nm]?\s+(?:namen|ausweis)|"
    r"다른\s*사람\s*명의|他人(?:の|的)?名義|他人名义|用别人的(?:身份证|名字)",
    # A message or call script in the bank's name that gets people to hand over a code or click.
    r"\b(?:sms|nachricht|messaggio|mensagem|mensaje|message)\s+(?:\w+\s+){0,3}?(?:im\s+namen|im\s+stil|in\s+nome|"
    r"em\s+nome|en\s+nombre|au\s+nom)\s+(?:\w+\s+)?(?:bank|banca|banco|banque)\w*|\b(?:скрипт|сценарий|текст)\s+"
    r"(?:\w+\s+){0,2}?(?:звонка\s+)?от\s+имени\s+(?:\w+\s+){0,2}?банка|\b(?:farsi\s+dare|far\s+dare|fazer\s+(?:com\s+"
    r"que\s+)?(?:eles\s+)?(?:me\s+)?(?:dar|passar)|que\s+me\s+(?:den|pasen))\s+(?:\w+\s+)?(?:il\s+|o\s+|el\s+)?"
    r"(?:codice|codigo|otp|pin|senha|contrasena)|\bпродиктовал\w*\s+(?:\w+\s+)?код|\bdazu\s+bringt,?\s+(?:\w+\s+){0,4}?"
    r"(?:klicken|einzugeben|preiszugeben)",
    # Transfers from strangers that the asker must send on; others' card data; "without drawing attention".
    r"\b(?:je\s+recois|recibo|ich\s+(?:bekomme|erhalte)|ricevo|recebo|otrzymuje|alıyorum)\s+(?:des\s+|de\s+)?"
    r"(?:virements?|transferencias?|uberweisungen|bonifici|pagamentos?|przelewy|havale)\s+(?:d'|de\s+|von\s+|da\s+|"
    r"od\s+)?(?:inconnus|desconocidos|fremden|sconosciuti|estranhos|desconhecidos|obcych)|\b(?:cartoes|tarjetas|karten|"
    r"carte|cartes|карты)\s+(?:de|di|d'|anderer|других)\s*(?:outras|otras|altre|autres|чужих)?\s*(?:pessoas|"
    r"personas|persone|personnes|leute|людей)?\b.{0,80}\b(?:testar|probar|testare|tester|testen|проверить)|"
    r"\bsem\s+chamar\s+(?:a\s+)?atencao|\bsin\s+llamar\s+la\s+atencion|\bsans\s+attirer\s+l'attention|\bsenza\s+dare"
    r"\s+nell'occhio|\bohne\s+aufzufallen|\bне\s+привлекая\s+внимания",
    # Structuring in it/pt: split into several times to stay under the check.
    r"\b(?:dividere|dividir|frazionare|spezzare|aufteilen|splitsen|razbit\w*|разбить)\b.{0,60}\b(?:in\s+piu\s+"
    r"volte|em\s+varias\s+vezes|en\s+varias\s+veces|in\s+mehrere|частями)",
    # A merchant who must not be able to object (tr), a chargeback after delivery.
    r"\bsatici\s+itiraz\s+edemesin|\bteslim\s+aldim\s+ama\b.{0,60}\b(?:ters\s+ibraz|geri\s+al)",
)


def _alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regex (escapes, classes and groups respected)."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 1
        elif ch == "[":  # to the class's closing bracket ("[]...]" and "[^]...]" open with a literal one)
            i += 2 if pattern[i + 1 : i + 3] in ("^]",) else 1
            i += 1 if pattern[i] in "^]" else 0
            while pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    return [*out, pattern[start:]]


def lower_of(*parts: str) -> re.Pattern[str]:
    """Folded parts as one case-sensitive pattern, for the lower-cased views. Without IGNORECASE, and with one
    word-boundary test in front of alternatives that each began with one, the regex engine skips ahead on a word's
    first letter: these long lists stay cheap on every question."""
    alternatives = [a for p in parts for a in _alternatives(fold(p))]
    bounded = [a[2:] for a in alternatives if a.startswith(r"\b")]
    rest = [a for a in alternatives if not a.startswith(r"\b")]
    return re.compile("|".join([*rest, *([rf"\b(?:{'|'.join(bounded)})"] if bounded else [])]))


# Matched against the lower-cased views (chatbot/guard.py): the patterns are written in small letters.
HARM_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "harmful",
        lower_of(
            # A hurtful text written for the customer to send: "write me a threatening message", "a racist joke".
            rf"\b{_MAKE}\s+(?:me\s+|us\s+)?(?:(?!about\b|regarding\b|complaint|report|to\s+report|reply\s+to)"
            rf"[\w'-]+\s+){{0,4}}?{_HURTFUL}\s+(?:[\w'-]+\s+){{0,2}}?{_TEXT_NOUN}\b",
            rf"\b{_MAKE}\s+(?:me\s+|us\s+)?(?:a\s+|an\s+|some\s+|\d+\s+)?(?:[\w'-]+\s+){{0,3}}?(?:ransom(?:ware)?\s+"
            r"(?:note|demand|message|letter)|ransomware|malware|keylogger|spyware|trojan|computer\s+virus|phishing\s+"
            r"(?:kit|page|site)|fake\s+(?:\w+\s+){0,2}?reviews|death\s+threats?|slurs?)\b",
            # Harassing, threatening or scaring a named target, asked by the one who would do it.
            r"\b(?:help\s+me|how\s+(?:do|can|could|should)\s+i|i\s+(?:want|need|'d\s+like)\s+to|so\s+(?:that\s+)?i\s+"
            r"can|let\s+me|make)\s+(?:\w+\s+){0,3}?(?:harass|threaten|intimidate|scare|frighten|stalk|bully|terrori[sz]e|"
            r"dox+)\w*\s+(?:him|her|them|my\s+ex\b|the\s+(?:branch\s+)?(?:manager|staff|employee|adviser|advisor|"
            r"cashier|teller|director|ceo))|\bmake\s+(?:him|her|them|the\s+\w+)\s+(?:too\s+)?(?:scared|afraid|"
            r"frightened|terrified)\b|\bso\s+(?:that\s+)?(?:she|he|they)\s+(?:can'?t|cannot|won'?t\s+be\s+able\s+to)\s+"
            r"block\s+(?:it|me)\b|\bring\s+(?:him|her|them)\s+all\s+night\b|\bcalling\s+(?:them|him|her|the\s+\w+)\s+"
            r"(?:a|an)\s+(?:\w+\s+)?(?:idiot|moron|imbecile|loser|fool|cretin|retard|scum|parasite)\b",
            # Staff's private lives and the physical security of branches, ATMs and cash.
            r"\b(?:ceo|manager|director|employee|staff|adviser|advisor|cashier|teller|chairman|founder)(?:'s|s')?\s+"
            r"(?:\w+\s+){0,4}?(?:home\s+address|private\s+address|personal\s+(?:phone|mobile|number|address)|where\s+"
            r"(?:he|she|they)\s+lives?)\b|\bhome\s+address\s+of\s+(?:your|the|a|that)\s+(?:\w+\s+)?(?:ceo|manager|"
            r"director|employee|staff|adviser|advisor|cashier|chairman|founder)\b",
            r"\b(?:which|what)\s+(?:\w+\s+)?(?:branch|branches|atm|atms|cash\s+machines?)\s+(?:\w+\s+){0,2}?(?:has|have|"
            r"with|is)\s+(?:the\s+)?(?:least|weakest|lowest|fewest|no|worst|poorest)\s+(?:\w+\s+)?(?:security|guards?|"
            r"cameras?|cctv|staff)\b|\bcash\s+(?:delivery|deliveries|collection|transport|van|truck|drop|in\s+transit)"
            r"\s+(?:\w+\s+){0,2}?(?:times?|schedule|comes|arrives|route|days?|hours?)\b|\bwhen\s+(?:does|do|is)\s+the"
            r"\s+cash\s+(?:van|truck|delivery|collection)\b|\b(?:what\s+time|when)\b.{0,40}\b(?:security|cash|armou?red)\s+"
            r"(?:van|truck|lorry|delivery|collection)|\b(?:vault|safe|alarm)\s+(?:door\s+)?codes?\b|\b(?:disable|"
            r"cut|turn\s+off)\s+(?:the\s+)?(?:branch\s+)?(?:alarm|cameras|cctv)\b",
            r"\b(?:how\s+(?:do|can|could|would|should)\s+(?:i|we|one|you)|help\s+(?:me|us)|teach\s+me|explain\s+how|"
            r"steps\s+to|guide\s+to|i\s+(?:want|need)\s+to|best\s+way\s+to|easiest\s+way\s+to)\s+(?:to\s+)?(?:\w+\s+)?"
            r"(?:build|make|install|fit|attach|program|assemble|make\s+and\s+fit)\s+(?:a\s+|an\s+|my\s+own\s+)?(?:\w+\s+)?"
            r"(?:skimmer|shimmer|card\s+reader\s+overlay)s?\b|\b(?:how\s+(?:do|can|could|would)\s+(?:i|we|one)|help\s+"
            r"(?:me|us)|plan\s+(?:a|to)|best\s+(?:way|time)\s+to|easiest\s+way\s+to)\s+(?:to\s+)?(?:rob|hold\s+up|"
            r"break\s+into|burgle|ram-?raid|jackpot)\s+(?:a|an|the|your|this)\s+(?:bank|branch|atm|vault|cash\s+"
            r"machine|safe)\b",
            # Flooding the service, or self-harm held over the bot for money.
            r"\b(?:bot|script|code|program|tool)\s+(?:that|to|which)\s+(?:\w+\s+){0,2}?(?:floods?|spams?|crash(?:es)?|"
            r"overloads?|ddos\w*|hammers?)\b|\b(?:spam\w*|flood\w*)\s+(?:this|the|your)\s+(?:chat|system|bot|servers?|"
            r"app)\b.{0,80}\b(?:until|unless|crash\w*)\b|\b(?:ddos|dos\s+attack)\b",
            r"\b(?:if\s+you\s+(?:don'?t|do\s+not|won'?t|refuse)|unless\s+you)\b.{0,80}\b(?:hurt|harm|kill|cut)\s+myself\b|"
            r"\b(?:hurt|harm|kill|cut)\s+myself\b.{0,60}\b(?:your\s+fault|unless\s+you|if\s+you\s+(?:don'?t|won'?t))",
        ),
    ),
    ("harmful", lower_of(*_HARM_SCRIPTS)),
    (
        "fraud_help",
        lower_of(
            # The bank, its checks, the merchant or the owner must not notice it ("so the merchant can't fight it").
            rf"\bso\s+(?:that\s+)?{_WATCHER}\s+(?:doesn'?t|don'?t|won'?t|can'?t|cannot|will\s+not|does\s+not|do\s+not|"
            rf"never|is\s+unable\s+to)\s+(?:\w+\s+)?{_UNNOTICED}\b|\bwithout\s+{_WATCHER}\s+(?:ever\s+)?(?:noticing|"
            r"knowing|finding\s+out|filing\s+(?:a\s+)?report|reporting|flagging|linking|catching\s+on|realising|"
            r"realizing|asking\s+where|checking\s+where)\b|\b(?:before|until)\s+the\s+(?:real\s+|actual\s+)?owners?\s+"
            r"(?:notices?|reports?|finds?\s+out|realises|realizes)|\bafter\s+the\s+(?:real\s+|actual\s+)?owner\s+"
            r"reports\b|\bwhat'?s\s+the\s+risk\s+(?:that\s+)?(?:the\s+bank|you|they)\s+(?:\w+\s+)?(?:links?|traces?|"
            r"connects?|ties?)\b",
            # Money moved for others while keeping the bank from seeing it.
            rf"{_FOR_OTHERS}.{{0,200}}\b(?:flag\w*|block\w*|notic\w*|link\w*|detect\w*|monitor\w*|trace\w*|"
            rf"froze|freez\w*)\b|\b(?:flag\w*|block\w*|notic\w*|link\w*)\b.{{0,120}}{_FOR_OTHERS}",
            # Money back for what arrived or was used; a stolen report after spending it oneself.
            r"\b(?:arrived|came|turned\s+up)\s+(?:fine|ok|okay|safely|perfectly|in\s+perfect\s+condition|on\s+time)\b"
            r"[^.?!]{0,40}\bbut\b[^.?!]{0,60}\b(?:money\s+back|refund|chargeback)\b|\b(?:want|get)\s+(?:my|the)\s+money"
            r"\s+back\s+(?:anyway|too|as\s+well|regardless|all\s+the\s+same)\b|\b(?:got|received|have)\s+(?:the\s+)?"
            r"(?:goods|item|parcel|order|product)\s+but\s+(?:\w+\s+){0,3}?(?:money\s+back|refund)\b|\bused\s+it\s+"
            r"myself\b|\b(?:card\s+not\s+received|item\s+not\s+received|not[-\s]received)['\"]?\s+(?:claim|dispute)\s+"
            r"even\s+though\b|\bchargeback\s+reason\b.{0,60}\b(?:can'?t|cannot|won'?t)\s+(?:fight|dispute|contest|"
            r"challenge)",
            # Getting round the bank's checks; what they accept; card testing.
            r"\b(?:get\s+around|get\s+round|bypass|beat|fool|evade|circumvent|dodge|trick|outsmart|game)\s+(?:\w+\s+)?"
            r"(?:of\s+)?(?:your|the|bank'?s)?\s*(?:fraud|anti-?fraud|aml|kyc|verification|identity|monitoring|voice)\s*"
            r"(?:checks?|filters?|systems?|verification|controls?|id)?\b(?!.{0,40}\b(?:scam|victim|protect))|\b(?:which|"
            r"what)\s+of\s+your\s+(?:\w+\s+)?(?:checks|controls|limits)\s+is\s+(?:the\s+)?easiest|\b(?:which|what)\s+"
            r"answers\s+(?:does|do|will)\s+(?:your|the)\s+(?:\w+\s+){0,2}?(?:verification|security|system|check)\w*\s+"
            r"(?:usually\s+)?accept|\b(?:tries|attempts|guesses)\s+(?:do\s+)?(?:i\s+get\s+)?per\s+(?:number|card)\b|"
            r"\b(?:list|bunch|batch|set|lot|pile|dump|file)\s+of\s+(?:\w+\s+)?card\s+(?:numbers|details)\b|\b(?:keep|"
            r"use|using)\s+(?:a\s+)?(?:stolen|found|someone\s+else'?s)\s+(?:\w+\s+)?cards?\s+(?:working|after)\b",
            # Accounts in other people's names or made-up ones; another person's ID used to open one.
            r"\b(?:accounts?|cards?|loans?)\s+(?:\w+\s+){0,3}?(?:in|under|with)\s+(?:someone\s+else'?s|somebody\s+"
            r"else'?s|another\s+person'?s|other\s+people'?s|(?:different|other|fake|false|made-?up|several)\s+names|"
            r"a\s+(?:fake|false|made-?up)\s+name)\b|\bslightly\s+different\s+(?:versions|spellings)\s+of\s+my\s+name\b|"
            r"\b(?:open|set\s+up|register|create|apply\s+for)\w*\s+(?:\w+\s+){0,4}?(?:account|card|loan)s?\b.{0,40}\b"
            r"(?:with|using|on|in|under)\s+(?:my\s+)?(?:cousin|brother|sister|uncle|aunt|friend|neighbou?r|colleague|"
            r"flatmate|roommate|boyfriend|girlfriend|someone\s+else|another\s+person)(?:'s|s')\s+(?:\w+\s+)?(?:passport|"
            r"id|identity|documents?|licen[cs]e|selfie|papers)\b",
            # A message that looks like the bank's, or gets people to hand over codes or click.
            r"\bso\s+(?:that\s+)?(?:mine|ours|my\s+(?:own\s+)?(?:messages|texts|emails|sms|site|page|letters?))\s+"
            r"(?:will\s+)?(?:look|looks|seem|appear|sound)\s+(?:the\s+same|identical|real|legit\w*|official|genuine|"
            r"authentic|like\s+yours)\b|\b(?:call|ring|phone|text)\s+(?:an?\s+|the\s+)?(?:\w+\s+)?(?:customer|client|"
            r"victim|pensioner|person|people)s?\s+and\s+(?:sound|seem|look|appear)\s+(?:legit|real|official|genuine)",
            r"\b(?:convincing|credible|believable|realistic|official-?looking|legit-?looking|authentic-?looking)\s+"
            r"(?:\w+\s+){0,2}?(?:sms|text|message|e-?mail|letter|whatsapp|script|call)\b.{0,80}\b(?:asking|telling|"
            r"saying|to\s+(?:send|click|give|get|make)|from\s+(?:a|the|your)|that\s+(?:says|asks|tells)|to\s+(?:\w+\s+)?"
            r"customers|pretending)\b|\b(?:write|draft|create|compose|make)\s+(?:me\s+)?(?:a\s+|an\s+)?(?:\w+\s+){0,3}?"
            r"(?:sms|text|message|e-?mail|letter|script)\b.{0,60}\b(?:in\s+(?:the|your)\s+bank'?s?\s+(?:name|tone|"
            r"style|voice|branding)|with\s+(?:the|your)\s+bank'?s\s+(?:header|logo|branding|letterhead)|as\s+if\s+"
            r"(?:it\s+)?(?:came|comes|were|was)\s+from\s+(?:the|your)\s+bank)",
            r"\bto\s+(?:get|make|trick|persuade|convince)\s+(?:them|people|customers|the\s+(?:person|customer|victim)|"
            r"him|her|(?:elderly|older|old)\s+(?:\w+\s+)?(?:people|customers))\s+(?:to\s+)?(?:give|hand\s+over|read"
            r"\s+out|tell\s+me|dictate|share|type|enter|click)\s+(?:me\s+)?(?:their|the|his|her|on)?\s*(?:\w+\s+)?"
            r"(?:codes?|otps?|pins?|passwords?|details|links?)\b",
            # Money dressed up as something else; a company that exists only on paper; an ID one found.
            r"\bmake\s+(?:my\s+|the\s+|these\s+|those\s+)?(?:\w+\s+)?(?:transfers|payments|deposits|money|funds|"
            r"income)\s+(?:look|appear|seem)\s+(?:like|as\s+if|legit\w*|clean)\b|\b(?:company|business|firm)\s+(?:that\s+)?"
            r"(?:\w+\s+)?(?:only\s+)?exists\s+(?:only\s+)?on\s+paper\b|\bshell\s+compan(?:y|ies)\b|\b(?:an?\s+|the\s+)?"
            r"(?:id|passport|driving\s+licen[cs]e|id\s+card|wallet)\s+(?:that\s+)?i\s+found\b|\bwithout\s+(?:drawing|"
            r"attracting|raising)\s+(?:any\s+)?(?:attention|suspicion|red\s+flags)\b",
            # Guessing someone's PIN; the exact thresholds of the bank's monitoring.
            r"\bhow\s+to\s+(?:guess|crack|work\s+out|figure\s+out)\s+(?:a\s+|an\s+|someone'?s\s+|somebody'?s\s+|his\s+|"
            r"her\s+|their\s+|other\s+people'?s\s+|a\s+[\w-]+'s\s+)(?:\w+\s+)?(?:pin|password|passcode|security\s+code|"
            r"memorable\s+word)s?\b|\b(?:exact|precise|specific)\s+(?:\w+\s+)?(?:thresholds?|triggers?)\b.{0,80}\b(?:flag\w*|"
            r"monitor\w*|fraud|aml|alert\w*|report\w*)|\b(?:flag\w*|monitor\w*|fraud|aml)\b.{0,80}\b(?:exact|precise)\s+"
            r"(?:\w+\s+)?(?:thresholds?|triggers?)\b",
            # Structuring: the most one can move without a report, split over days.
            r"\b(?:max(?:imum)?|most|how\s+much)\b.{0,60}\bwithout\s+(?:\w+\s+){0,3}?(?:filing|report\w*|flag\w*|"
            r"(?:asking|checking|verifying)\s+(?:where|the\s+(?:origin|source)))\b.{0,120}\b(?:split|divide|spread|"
            r"break)\b|\b(?:split|divide|spread|break)\b.{0,80}\bwithout\s+(?:\w+\s+){0,3}?(?:filing|report\w*)\b",
        ),
    ),
    ("fraud_help", lower_of(*_UNNOTICED_SCRIPTS)),
)
