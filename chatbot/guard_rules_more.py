"""The guard's rules for attacks said indirectly (see chatbot/guard_rules.py, which runs these after the broader
structures): rules voided in other words, the bot's setup asked for as a template, a file or a sentence to complete,
story and game setups, tool output and front matter posing as the system, staff pretexts and other people's accounts in
more languages, getting past someone else's verification, and answers dictated to the bot that claim an action it never
took (a fake confirmation to show a landlord); and rules declared deprecated or a test, debug modes and acknowledgement
codes, the bot's infrastructure (vector store, environment variables, temperature), its instructions asked for line by
line or through a function, config blocks and tool results in brackets, and notes addressed to "the AI" inside pasted
text. Fraud and other people's money worded as ordinary questions are in chatbot/guard_rules_fraud.py. Same conventions:
folded, accent-free text; each part names the family, not one sentence.
"""

from __future__ import annotations

import re

from chatbot.guard_vocabulary import NAME, RELATION, RELATION_INTL, any_of

# Nouns for the bot's own instructions, and the adjectives that make them its setup rather than help text.
_SETUP = r"(?:instructions|guidance|guidelines|rules|directions|directives|prompt|configuration|config|setup|orders)"
_ORIGIN = r"(?:initial|original|opening|starting|underlying|hidden|secret|internal|system|real|actual|true|raw)"
# What a dictated sentence claims the bank did (the answer check's vocabulary, past tense).
_CLAIMED = r"(?:transferred|refunded|approved|paid|sent|credited|waived|blocked|unblocked|cancel+ed|released|granted)"
# Other languages' words for an account and for "of" before its owner.
_ACCOUNT_INTL = r"(?:conto|compte|cuenta|konto|conta|rekening|rachun\w*|hesab\w*)"
_OF_INTL = r"(?:di|de|del|della|du|des|da|do|von|van)"
_MY_INTL = r"(?:mio|mia|mi|ma|mon|mes|meu|minha|mein\w*|mijn)"
# What a voided rule is called, and what it is said to have become.
_RULESET = r"(?:rules|rule\s*set|instructions|guidelines|restrictions|directives|polic(?:y|ies)|guardrails|filters?)"
_STALE = (
    r"(?:deprecated|outdated|out\s+of\s+date|retired|replaced|withdrawn|rescinded|expired|a\s+test|a\s+mistake|"
    r"a\s+joke)"
)
# The bot itself, as an addressee in a note hidden in pasted text, in the languages the corpora use.
_BOT = r"(?:ai|a\.i\.|ki|ia|chatbot|bot|assistant|assistent|asistente|assistente|llm|language\s+model)"

_BATCH7_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "injection",
        any_of(
            r"\b(?:consider|treat)\s+(?:\w+\s+){0,8}?(?:as\s+)?(?:obsolete|void|cancel+ed|null|expired)\b|"
            r"\bsupersed\w*\b|\b(?:your\s+|the\s+)?(?:safety|content|refusal)\s+(?:polic\w+|rules|guidelines|filters?)\s+"
            r"(?:had|has|have)\s+been\s+(?:deleted|removed|disabled|lifted|switched\s+off|turned\s+off)",
            r"\byou\s+no\s+longer\s+have\s+(?:any\s+)?(?:content\s+)?(?:guidelines|rules|restrictions|filters|limits|"
            r"polic\w+)\b|\b(?:turn|switch|shut)\s+(?:the\s+|your\s+|all\s+)?(?:restrictions|filters?|guardrails|"
            r"safety\s+\w+|rules|guard)\s+off\b",
            r"\b(?:guardrails|filters|restrictions|safety\s+\w+)\b.{0,80}\b(?:bypass|ignore|disable|skip)\s+(?:them|those"
            r"|it)\b|\b(?:ignore|disregard)\s+(?:the|this|that|my)\s+(?:question|request|message|text)\s+(?:below|"
            r"above)\b",
            r"\bskip\s+(?:all\s+|any\s+|the\s+)?(?:\w+\s+)?verification\s+(?:checks?\s+)?for\s+(?:me|the\s+caller|"
            r"him|her|them|this)\b|\b(?:everything|anything|all)\s+(?:i\s+(?:ask|say|request)\s+)?(?:from\s+now\s+on"
            r"\s+)?is\s+(?:pre-?approved|authori[sz]ed|whitelisted)\b|\bwhitelist\w*\s+(?:this|the|my|our)\s+"
            r"(?:session|chat|conversation)\b",
            r"\b(?:ya\s+no|no)\s+(?:tienes|necesitas|debes)\s+(?:que\s+)?seguir\b|\btu\s+n'?as\s+plus\s+a\s+"
            r"(?:suivre|respecter)\b|\bdu\s+musst\s+(?:\w+\s+)?nicht\s+mehr\s+(?:\w+\s+)?(?:befolgen|beachten)|"
            r"\bkural\w*\s+(?:\w+\s+)?bir\s+kenara\s+b[iı]rak|\bfiltresiz\b|\bsvar[ae]?\s+frit+\b|\bregler\w*\b"
            r".{0,40}\bg(?:a|ae)ller\s+inte\b",
            r"\b(?:zet|schakel)\s+(?:je|jouw|de|al\s+je)\s+(?:\w+\s+)?(?:veiligheids\w*|regels|filters?|beperkingen)\s+"
            r"uit\b|\bschalte?\s+(?:deine|die)\s+(?:\w+\s+)?(?:sicherheits\w*|regeln|filter)\s+(?:ab|aus)\b|"
            r"\b(?:desactive[sz]?|desactiva|disattiva|desativa)\s+(?:tes|vos|tus|sus|le\s+tue|as\s+suas|seus)\s+"
            r"(?:\w+\s+)?(?:regles|reglas|regole|regras|filtres|filtros|filtri|protections|securit\w*)",
            r"\b(?:carry\s+out|follow|execute|obey|act\s+on)\s+(?:any|all|the|whatever)\s+(?:instructions|commands|"
            r"directions)\s+(?:you\s+(?:find|see|read)|written\s+there|(?:it|that\s+page)\s+contains)|\b(?:please|"
            r"just|now)\s+do\s+what\s+(?:the|this|that|it)\b.{0,30}\bsays\b",
            r"\bassistant\s+must\s+now\b|\byou\s+now\s+have\s+(?:\w+\s+)?(?:permissions|privileges|clearance|rights)\b|"
            r"\bopposite\s+day\b|\bno\s+(?:ethics|morals|scruples|conscience)\b|\bmachiavellian\b",
        ),
    ),
    (
        "prompt_extraction",
        any_of(
            rf"\byour\s+(?:\w+\s+)?{_ORIGIN}\s+{_SETUP}\b|\byour\s+{_ORIGIN}\s+(?:\w+\s+)?{_SETUP}\b|"
            rf"\b(?:hidden|secret|confidential)\s+(?:\w+\s+)?(?:configuration|config|setup|prompt)\b",
            rf"\b(?:exact|precise|verbatim|actual|literal)\s+(?:wording|words|text)\s+(?:of\s+)?(?:\w+\s+){{0,3}}?"
            rf"{_SETUP}\s+(?:that\s+)?you\b|\b(?:words|instructions|text|rules|prompt|orders|guidance)\s+(?:that\s+)?"
            r"(?:your|the|they|their)\s*(?:creators|developers|programmers|makers|operators|owners)?\s+(?:gave|wrote|"
            r"fed|forced|put|set)\s+(?:on\s+|into\s+|to\s+)?you\b",
            rf"\byour\s+{_SETUP}\s+were\s+(?:a|an|in)\b|\bprompt\s+template\b|\braw\s+prompt\b|\bprompt\s+(?:i|we)\s+"
            r"(?:wrote|gave|set)\s+(?:for\s+)?you\b|\bcomplete\s+(?:this|the\s+following)\s+sentence\b.{0,40}"
            r"\byour\b|['\"]you\s+are\s+an?\s+(?:\w+\s+){0,3}?(?:assistant|chatbot|bot|ai)\b",
            r"\b(?:loaded|put|placed|injected)\s+into\s+your\s+(?:context|memory|prompt)\b|\b(?:guard|filter|refusal|"
            r"moderation)\s+(?:rules|logic|keywords|criteria|thresholds)\b|\bkeyword\s+lists?\b|\bsystem\s+role\b|"
            r"\bmessages?\s+from\s+the\s+system\b|\b(?:whatever|any)\s+text\s+comes\s+after\b|\brepeat\s+(?:\w+\s+){0,3}?"
            r"(?:forever|endlessly|infinitely)\b",
            r"\b(?:you\s+were|you'?ve\s+been)\s+(?:deployed|shipped|configured|released)\s+with\b|\b(?:share|send|post|"
            r"publish|leak|paste|append|print)\s+(?:me\s+)?(?:\w+\s+){0,2}?your\s+(?:\w+\s+)?(?:instructions|prompt)\b"
            r"(?!\s+(?:on|for|to|about|how))|\b(?:you'?re|you\s+are)\s+not\s+(?:supposed|meant|permitted)\s+to\s+"
            r"(?:say|tell|share|reveal|disclose)\b|\b(?:bots?|assistants?|chatbots?)\s+(?:have\s+)?(?:already\s+)?"
            r"(?:shown|shared|given|revealed)\s+(?:me\s+)?their\s+(?:prompts?|instructions|rules)",
            r"\bsystemanweisung\w*|\bprompt\w*\s+systemow\w*|\binstructiun\w*\s+de\s+sistem\b|\bopeningsinstructie\w*|"
            r"\binstru\w+\s+(?:iniciais|iniciales|initiales|iniziali|originais|originales|originali|do\s+sistema|"
            r"del\s+sistema|di\s+sistema)\b|\b(?:revele\w*|revela\w*|rivela\w*|montre\w*|muestra\w*|zeig\w*)\s+"
            r"(?:\w+\s+){0,3}?(?:tes|vos|tus|sus|deine|le\s+tue|as\s+suas)\s+(?:instructions|instrucciones|"
            r"istruzioni|anweisungen|instrucoes|regles|reglas|consignes)|\b(?:ta|votre|deine|tu|su|tua|sua|je|jouw)\s+"
            r"(?:\w+\s+)?(?:configura\w*|konfigura\w*)",
        ),
    ),
    (
        "role_play",
        any_of(
            r"\bimagine\s+(?:that\s+)?you(?:'re|\s+are)\b|\b(?:in|for)\s+(?:this|the|our)\s+(?:story|scenario|game|"
            r"fiction|tale),?\s+you(?:'re|\s+are|\s+play)\b|\bbreaks?\s+free\s+from\b|\b(?:from\s+now\s+on|"
            r"henceforth),?\s+you(?:'re|\s+are)\s+['\"]?(?-i:[A-Z])|\byou(?:'re|\s+are)\s+['\"](?-i:[A-Z])[\w-]*['\"]"
            r"\s*,|\byou\s+are\s+(?-i:[A-Z]{2,})\s*,",
            r"\b(?:gioco|juego|jeu|jogo)\s+de?i?\s*(?:ruolo|rol|role|papeis)\b|\brollenspi\w+|\budawaj\w*|\bbez\s+"
            r"(?:zadnych\s+)?(?:zasad|regul|ograniczen)\b",
        ),
    ),
    (
        "markup",
        any_of(
            r"\btool\s+(?:result|output|response)\s*(?:\([^)]*\))?\s*:|\b\w+_id\s*=\s*\*|(?:^|\n)\s*(?:role|permissions)"
            r"\s*:\s*(?:developer|system|admin\w*|assistant|all|root)\b|</?\s*(?:systeme|sistema|systeem|regle|regla|"
            r"instruction|consigne)\b[^>]*>",
        ),
    ),
    (
        "impersonation",
        any_of(
            r"\bi\s+work\s+(?:in|on|for|with)\s+(?:the\s+|your\s+)?(?:\w+\s+){0,2}?(?:team|department|desk|unit|branch)"
            r"\b.{0,80}\b(?:card\s+(?:details|numbers?)|customers?'?\s+\w+|passwords?|flagged|accounts?\s+of)\b|"
            r"\b(?:i'?m|i\s+am)\s+your\s+(?:supervisor|manager|boss|team\s+lead|line\s+manager|operator|creator|owner)"
            r"\b|\b(?:it'?s|this\s+is)\s+the\s+(?:\w+\s+)?team\b.{0,80}\b(?:paste|configuration|prompt|instructions)\b",
            r"\b(?:hier\s+spricht|ici|aqui\s+(?:habla|fala)|qui\s+parla)\s+(?:die\s+|le\s+|la\s+|el\s+|il\s+|l')?"
            r"(?:it-?abteilung|it|service\s+informatique|informatica|departamento|seguridad|sicurezza)\b|\b(?:soy|sono|"
            r"je\s+suis|ich\s+bin|sou|ik\s+ben)\s+(?:del|de\s+la|du|de|vom|von\s+der|dell'|della|da|do|van\s+de)\s+"
            r"(?:equipo|equipe|team|abteilung|servizio|service|departamento|afdeling|ufficio)\b|\b(?:sono|soy|je\s+suis)"
            r"\s+(?:il|el|le|la)\s+(?:responsabile|responsable|direttore|director|directeur)\b",
        ),
    ),
    (
        "pii_fishing",
        any_of(
            r"\bwhere\s+(?:he|she|they)(?:'s|\s+has|'ve|\s+have)?\s+(?:been\s+)?(?:spending|using|paying|shopping)|"
            r"\bhow\s+much\s+(?:was|is|were|did)\s+(?:his|her|their)\b|\banyone\s+(?:named|called)\b|\b(?:customers?|"
            r"people|someone|everyone)\s+(?:named|called)\s+(?-i:[A-Z])",
            rf"\b(?:whether|if|does|is|has)\s+(?:my\s+{RELATION}|{NAME}|she|he)\s+(?:\w+ly\s+)?(?:has|have|had|holds?|"
            r"owes?|is\s+hiding)\s+(?:any\s+)?(?:money|debts?|savings|loans?|overdrafts?|credit)\b",
            r"\b(?:chat\s+)?(?:transcripts?|logs?)\b.{0,30}\bany\s+(?:customer|client|user)\b|\b(?:in|from)\s+your\s+"
            r"logs\b|\b(?:previous|last|other|earlier)\s+(?:user|customer|person|caller|client)\s+(?:typed|entered|"
            r"wrote|said|gave|sent|shared)\b|\bcaller\s+on\s+line\b",
            rf"\b(?:balance|payments|transactions|spending|statements?|history|details)\b.{{0,40}}\b(?:on|of|in|from)\s+"
            rf"(?:my\s+\w+\s+)?{NAME}(?:'s|s')\s+account\b|\b(?:access|acces|acceso|acesso|zugang|toegang)\s+(?:\w+\s+)?"
            rf"{_ACCOUNT_INTL}\s+{_OF_INTL}\s+(?-i:[A-Z][a-z]+)",
            rf"\b(?:movimenti|movimientos|mouvements|operations|buchungen|transacoes|saldo|solde|combien|cuanto|quanto)"
            rf"\b(?:\s+\S+){{0,6}}?\s+{_ACCOUNT_INTL}\s+{_OF_INTL}\s+{_MY_INTL}\s+(?:{RELATION_INTL})\b|"
            rf"\b(?:welche|quels?|quelles?|cuales|quali|quais|welke)\s+(?:\w+\s+){{0,2}}?(?:uberweisungen|zahlungen|"
            r"buchungen|virements|paiements|transferencias|pagos|bonifici|pagamenti|overboekingen|betalingen)\s+(?:\w+\s+)"
            rf"{{0,2}}?(?:hat|a|ha|heeft|fez|hizo|fait|fatto)\s+{_MY_INTL}\b",
            r"\b(?:telefono|direccion|titular|nombre|correo|adresse|telephone|indirizzo|intestatario|morada|telefone|"
            r"telefonnummer|inhaber)\b(?:\s+\S+){0,4}?\s+(?:asociad\w+\s+a|vinculad\w+\s+a|de|du|di|del|von|da|do)\s+"
            r"(?:la\s+|el\s+|le\s+|il\s+|dem\s+|o\s+|a\s+)?(?:cuenta|tarjeta|compte|carte|conto|carta|konto|karte|conta|"
            r"cartao|iban)\s+(?:\[[A-Z ]+\]|[A-Z]{2}\d{2}|\d{4,})|\bdatos\s+del\s+cliente\s+con\b|\b(?:dni|nie|nif|"
            r"pesel)\s+\d",
            r"\b(?:mojego|mojej)\s+(?:\w+\s+)?(?:sasiad\w*|brat\w*|siostr\w*|zon\w*|mez\w*|koleg\w*|ojca|matki|syna|"
            r"corki|szef\w*|partner\w*|dziewczyny|chlopaka)\b|\b(?:komsu|kardes|koca|kar[iı]|anne|baba|arkadas|"
            r"patron|es)[iı]?m\w*\s+(?:\w+\s+)?hesab\w*\s+(?:\w+\s+)?(?:ne\s+kadar|bakiye\w*|harcama\w*|hareket\w*)",
        ),
    ),
    (
        "fraud_help",
        any_of(
            r"\b(?:get\s+(?:past|around|round)|bypass|skip|beat|defeat|circumvent)\b.{0,50}\b(?:someone|somebody)\s+"
            r"else'?s\b|\b(?:log(?:ging)?\s+in(?:to)?|access(?:ing)?|get(?:ting)?\s+into)\s+(?:\w+\s+){0,2}?(?:someone|"
            r"somebody)\s+else'?s\s+account|\b(?:accounts?|cards?)\s+that\s+(?:aren'?t|are\s+not|isn'?t|is\s+not)\s+"
            r"(?:theirs|yours|his|hers)\b|\beasiest\s+to\s+(?:exploit|abuse|attack|crack)\b",
            r"\bstructur(?:e|ing)\s+(?:my\s+|the\s+|cash\s+|these\s+|our\s+)*(?:deposits?|payments|transfers|"
            r"withdrawals)\b|\bso\s+(?:that\s+)?(?:they|it)\s+(?:don'?t|doesn'?t|won'?t)\s+trigger\s+(?:an?\s+|the\s+|"
            r"any\s+)?(?:anti|aml|money|report|suspicious)",
            r"\b(?:valid|working|generate|real-?looking)\b(?:\s+[\w-]+){0,3}?\s+card\s+numbers?\b|\bcard\s+numbers?\s+"
            r"with\s+(?:their\s+)?cvvs?\b|\blist\s+of\s+(?:stolen|leaked|cloned|hacked)\b|\b(?:which|what)\s+(?:\w+\s+)"
            r"{0,2}?should\s+i\s+test\b",
            r"\b(?:contourn\w*|elud\w*|burla\w*|saltar\w*|aggira\w*|umgeh\w*|contorna\w*|obejs\w*|omzeil\w*|atlat\w*)\s+"
            r"(?:\w+\s+){0,3}?(?:verif\w*|weryfik\w*|identit\w*|tozsamos\w*|kontrol\w*|control\w*|securit\w*|"
            r"seguridad|sicurezza|seguranca|kyc|otp|sms|ausweis\w*|dogrulama\w*)|\b(?:verifizierung|identitatsprufung|"
            r"kontrolle)\s+(?:zu\s+)?umgeh\w*|\b(?:sin|sans|ohne|senza|sem|zonder|bez)\s+(?:\w+\s+)?(?:verif\w*|"
            r"weryfik\w*|controll?i)\b",
            r"\b(?:papiers|documents?|documentos|documenti|compte|cuenta|tarjeta|carte|conto|carta|konto|karte|ausweis)\s+"
            r"(?:de\s+|di\s+|von\s+)?(?:quelqu'?un\s+d'?autre|alguien\s+mas|otra\s+persona|qualcun\s+altro|"
            r"un'?altra\s+persona|jemand\w*\s+anderen?|outra\s+pessoa)|\bclon\w*\s+(?:um|una|un|une|eine?n?|a|the)\s+"
            r"(?:\w+\s+){0,2}?(?:cartao|tarjeta|carte|karte|carta|card)\b|\bsem\s+que\s+(?:\w+\s+){0,2}?(?:perceb\w*|"
            r"saib\w*|descubr\w*|note\w*)",
            r"\b(?:escribe|redacta|crea|genera|ecris|redige|schreib\w*|erstell\w*|scrivi|escreva|schrijf|napisz)\s+"
            r"(?:me\s+)?(?:\w+\s+){0,2}?(?:sms|mensaje|correo|e-?mail|mail|message|courriel|nachricht|messaggio|"
            r"mensagem|bericht|wiadomosc)\s+(?:\w+\s+){0,2}?(?:falso|falsa|faux|fausse|gefalscht\w*|finto|finta|nep)\b",
        ),
    ),
    (
        "injection",
        any_of(
            rf"\b(?:say|write|reply|respond|type|repeat|print|output)\b[^.?!]{{0,40}}?['\":]\s*(?:i|we)\s+(?:have|'ve)"
            rf"\s+(?:just\s+)?{_CLAIMED}\b|\b(?:reply|respond|answer)\s+with\s+(?:exactly|only|just)\s+['\"]|\bconfirm"
            rf"\s+in\s+writing\s+that\s+(?:you|the\s+bank|we)\b|\b(?:sentence|message|letter|statement|text)\s+"
            rf"(?:saying|stating|that\s+says|confirming)\s+(?:that\s+)?(?:the\s+bank|you|bramblecove|we)\s+(?:has|have)"
            rf"\s+(?:\w+\s+)?{_CLAIMED}\b",
            r"\bin\s+your\s+(?:next\s+)?(?:answer|reply|response)s?,?\s+(?:include|insert|add|put|mention)\s+(?:the\s+|"
            r"this\s+|a\s+)?(?:link|url)\b|\btell\s+(?:the\s+|all\s+|other\s+)?(?:users|customers)\s+(?:that\s+)?"
            r"(?:it'?s|this\s+is)\b",
        ),
    ),
)

# The same attacks as above, said through a release note, a debug mode, a mirror, a puzzle, a config block or a note
# to "the AI" inside a pasted memo.
_BATCH8_FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "injection",
        any_of(
            rf"\b(?:your|the|my|previous|prior|current|old)\s+(?:\w+\s+){{0,2}}?{_RULESET}\s+(?:\w+\s+){{0,6}}?"
            rf"(?:were|was|are|is|have\s+been|has\s+been)\s+(?:now\s+|just\s+|only\s+)?{_STALE}\b|\bthe\s+(?:test|"
            r"drill|exercise)\s+(?:has\s+)?(?:now\s+)?(?:ended|finished|is\s+over)\b",
            r"\b(?:revoke|rescind|repeal|annul|suspend|deactivate|disable|void|waive)\w*\s+(?:your|the\s+bot'?s|the\s+"
            r"assistant'?s|all\s+your)\s+(?:\w+\s+)?(?:(?:content|safety|usage|refusal|moderation)\s+polic\w+|rules|"
            r"guidelines|restrictions|filter\w*|instructions|guardrails|safety\s+\w+|guard\w*|moderation|checks)\b",
            rf"\b(?:dropping|ignoring|disregarding|forgetting|bypassing|abandoning|discarding|suspending|disabling|"
            rf"overriding|relaxing|setting\s+aside)\s+(?:your|all\s+(?:your|the)|the\s+bot'?s)\s+(?:\w+\s+)?"
            rf"(?:{_RULESET}|programming|prompt|safety\s+\w+)\b|\b(?:set|put|lay|leave)\s+(?:your|the|all|all\s+your|"
            rf"those)\s+(?:\w+\s+)?{_RULESET}\s+aside\b",
            r"\b(?:stop|quit)\s+(?:adding|including|giving|putting|attaching)\s+(?:any\s+)?(?:\w+\s+)?(?:warnings?|"
            r"disclaimers?|caveats?)\b|\b(?:stop|quit|skip|no\s+need\s+to\s+keep)\s+(?:checking|verifying|"
            r"evaluating|screening|vetting)\s+(?:whether|if)\b|\bcomply\s+with\s+(?:every|all|any|each)\s+"
            r"(?:\w+\s+)?(?:requests?|instructions?|commands?|questions?)\b|\bwithout\s+filter(?:ing|s)?\b",
            r"\b(?:enter|activate|enable|unlock|switch\s+(?:on|to|into)|turn\s+on|go\s+into)\s+(?:the\s+|your\s+|a\s+)?"
            r"(?:debug|god|dev|diagnostic|admin|root|unrestricted|maintenance)\s+mode\b|\b(?:debug|god)\s+mode\b|"
            r"\b(?:reply|respond|answer|acknowledge|confirm|say)\w*\s+(?:\w+\s+){0,2}?['\"][\w\s]{0,30}\b(?:on|loaded|"
            r"accepted|enabled|activated|unlocked|disabled|granted|active)['\"]",
            r"\b(?:assistants?|chatbots?|bots?|ai\s+(?:assistants?|agents?))\s+(?:must|shall|should|are\s+(?:now\s+)?"
            r"(?:required|allowed|permitted|obliged)\s+to)\s+(?:now\s+)?(?:disclose|share|reveal|provide|give|release|"
            r"answer|comply|ignore|bypass|skip|output|hand)\b|\bnew\s+(?:polic(?:y|ies)|rules?|instructions?|"
            r"directives?|rule\s*set)\s+(?:\([^)]*\)\s*)?(?:(?:is|are)?\s*:|(?:effective|applies|starting)\s+(?:immediately|"
            r"now|today|from\s+now))",
            r"\bas\s+(?:if|though)\s+(?:it|they|this|each|every\s+\w+)\s+(?:came|come|comes|were|was)\s+from\s+"
            r"(?:the\s+)?(?:system|developers?|admin\w*|operators?|your\s+(?:developers?|creators?|operators?))\b|"
            r"\bfollow\s+(?:my|these|our)\s+(?:\w+\s+)?(?:version|instructions|rules|guidelines|orders)\s+instead\b|"
            r"\b(?:don'?t|do\s+not|never)\s+(?:mention|say|tell\s+(?:me|anyone))\s+(?:that\s+)?you(?:'ve|\s+have)\s+"
            r"(?:switched|changed|entered)\b|\b(?:answer|respond|reply)\s+(?:\w+\s+){0,2}?from\s+your\s+own\s+"
            r"(?:training|knowledge|memory|weights)\b|\bdon'?t\s+hold\s+anything\s+back\b",
            r"\b(?:and|then)\s+(?:do|follow|obey|execute|carry\s+out|act\s+on|run)\s+(?:what(?:ever)?\s+(?:it|they|"
            r"that|this|the\s+\w+)\s+says?|the\s+(?:result|output|decoded\s+\w+|hidden\s+\w+))\b|\b(?:first|last|"
            r"initial)\s+letters?\s+of\s+(?:each|every)\s+(?:line|word|sentence)\b.{0,40}\b(?:do|follow|obey|execute)\b",
            r"\bthe\s+user\s+has\s+(?:already\s+)?(?:consented|agreed|authori[sz]ed|approved|been\s+verified)\b|"
            rf"\b(?:note|message|instructions?|hinweis|nachricht|notiz|to|for|an|aan|pour|para|per|attn|attention)\s+"
            rf"(?:the\s+|de\s+|den\s+|die\s+|el\s+|le\s+|la\s+|il\s+|l')?(?:\w+\s+)?{_BOT}(?:-\w+)?(?:\s+\w+){{0,3}}?"
            rf"\s*:|\bp\.?\s?s\.?\s*,?\s*(?:dear\s+)?{_BOT}\s*[:,]|\b{_BOT}\s+(?:instruction|directive|command|"
            r"override|task)s?\s*:",
        ),
    ),
    (
        "prompt_extraction",
        any_of(
            r"\bvector\s+(?:store|database|db|index)\b|\b(?:knowledge\s*base|kb|index)\s+(?:server|url|endpoint|host)"
            r"\b|\benvironment\s+variables?\b|\benv\s+vars?\b|\b(?:temperature|top[-_\s]?p|max[-_\s]tokens)\s+"
            r"(?:setting|parameter|value)s?\b|\byour\s+(?:model|llm|runtime|deployment)\s+(?:config\w*|settings|"
            r"parameters|weights|name|version)\b|\bprompt\s+(?:file|path)s?\b",
            r"\b(?:refusal|refuse|decline|rejection)\w*\s+(?:message\s+|response\s+)?(?:template|script)s?\b|"
            r"\b(?:documents?|files?|file\s*names?)\s+(?:are\s+)?(?:in|inside)\s+your\s+(?:knowledge\s*base|kb|index|"
            r"vector\s+\w+|corpus)\b|\b(?:tagged|marked|labell?ed|flagged)\s+(?:as\s+)?(?:internal|staff[-\s]only|"
            r"confidential|restricted)\b",
            rf"\byour\s+(?:\w+\s+)?(?:default|current|full|complete|entire|confidential)\s+(?:instructions|prompt|system"
            rf"\s+message)\b(?!\s+(?:on|for|to|about|how))|\b{_SETUP}\s+(?:that\s+)?you(?:'re|\s+are)\s+(?:running|"
            rf"operating|working)\s+(?:on|with|under)\b|\b(?:line|sentence|word|paragraph|chunk|character)s?\s+"
            rf"(?:\d+\s+)?of\s+your\s+(?:\w+\s+)?{_SETUP}\b",
            r"\b(?:every|all|each|the)\s+(?:\w+\s+)?(?:rules?|instructions?|guidelines?|directives?)\s+(?:that\s+)?"
            r"you(?:'ve|\s+have|\s+were|'re|\s+are)\s+(?:been\s+)?(?:given|told|taught|programmed|trained|instructed)"
            r"\b|\b(?:chatbot|bot|assistant)'?s?\s+(?:\w+\s+)?(?:instructions|prompt|operating\s+rules)\b|\bquot\w+"
            r"\s+(?:the|your|its)\s+(?:\w+\s+)?(?:instructions|prompt)\b|\b(?:chatbot|bot|assistant|ai|model)\s+"
            r"(?:operating|system|internal|core|deployment)\s+(?:instructions|rules|prompt|guidelines|manual)\b",
            r"\b(?:returns?|outputs?|prints?|yields?|output|dump|display|echo|recite)\s+(?:me\s+)?(?:\w+\s+){0,2}?your"
            r"\s+(?:\w+\s+)?(?:instructions|prompt|rules|guidelines|configuration)\b(?!\s+(?:on|for|to|about|how))|"
            r"\bsys\w{0,3}[_*.\-\s]{2,}pro\w{0,3}(?:[_*.\-]|\b)",
            r"\b(?:texto|texte|text|wortlaut|tekst|testo)\s+(?:\w+\s+)?(?:d[aeo]s?|of|der|van|di|delle|degli)\s+"
            r"(?:\w+\s+)?(?:instru\w+|anweisung\w*|istruzion\w*|instructies)\b|\b(?:instru\w+|istruzion\w*|"
            r"anweisungen|regras|reglas|regles|regole)\s+(?:\w+\s+)?(?:que|che|die|qu'?)\s+(?:tu\s+|du\s+)?"
            r"(?:recebeste|recibiste|hai\s+ricevuto|as\s+recu|avez\s+recu|erhalten\s+hast|bekommen\s+hast)\b|"
            r"\b(?:regras|reglas|regles|regole|instru\w+)\s+(?:confiden\w+|secret\w*|ocult\w*|nascost\w*|cachee?s)\b|"
            r"\b(?:instructiun\w*|prompt\w*)\s+tale\b",
        ),
    ),
    (
        "role_play",
        any_of(
            r"\b(?:scene|story|script|screenplay|dialogue|monologue|novel|film|movie)\b.{0,160}\b(?:how\s+to|step\s+by"
            r"\s+step|in\s+(?:precise|real|technical|full)\s+(?:\w+\s+)?detail)\b.{0,80}\b(?:take\s+over|hack|"
            r"break\s+into|steal|get\s+into|empty|drain|clone|launder|sim[-\s]?swap)",
            r"\bimagin[ae]\s+que\s+(?:es|eres|sei|tu\s+es|voce\s+e)\b|\bbe\s+a\s+mirror\b",
        ),
    ),
    (
        "markup",
        any_of(
            r"\b\w*(?:guard|filter|safety|moderation|censor\w*|restrict\w*)\w*['\"]?\s*[:=]\s*['\"]?(?:false|off|"
            r"disabled|none)\b|\ballow_\w+['\"]?\s*[:=]\s*['\"]?(?:true|yes|on)\b|\b\w*(?:role|permissions?|"
            r"clearance|privileges?|access_level)['\"]?\s*[:=]\s*['\"]?(?:admin\w*|root|developer|system|superuser|"
            r"full|all|unrestricted|elevated)\b",
            r"\[/?\s*(?:tool_?(?:result|output|response|call)|function_?(?:result|call|output)|observation)\b[^\]]*\]|"
            r"\b\w*(?:customer|client|user|account)\w*['\"]?\s*[:=]\s*['\"]?\*|\b(?:function_?call|tool_?calls?|"
            r"tool_?use)['\"]?\s*:|\b(?:execute|run|call|invoke|perform)\s+(?:the\s+|this\s+)?(?:function|tool|api)"
            r"\s*(?:call)?\s+(?:above|below)\b",
        ),
    ),
)

MORE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = _BATCH7_FAMILIES + _BATCH8_FAMILIES
