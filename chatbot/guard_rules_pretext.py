"""The guard's rules for other customers' data asked for with a family, legal or business pretext, the bot's setup
asked for in other languages, role setups, and rules waived by the customer (chatbot/guard.py runs them after
chatbot/guard_rules_harm.py).

Other people's data is keyed on a read-out (balance, statements, what went in and out, an overdraft, a phone number)
of someone who is not the asker (a spouse, an ex, a brother, a tenant, an employee, a named person), in the corpora's
languages. Its rule is ``other_customer``: chatbot/guard.py lets it through for a guardian or an attorney (in these
languages too), a joint account and a first-person victim, the cases tests/test_guard_victims.py keeps allowed. The
bot's setup is keyed on its instructions described as hidden or as given to it, together with a wish for the exact
text ("verbatim", "letterlijk", "aynen", "그대로"), in any language. Waived rules are the customer granting permission
to break them, declaring them suspended or void, or making a refusal an error. Same conventions as
chatbot/guard_rules.py; patterns in other languages are folded like the text (chatbot/guard_views.fold). Also the
credential demanded by whoever claims to act for its holder, phishing tools asked for, and the words chatbot/guard.py's
exemptions for carers, executors and reported fakes read (at the end).
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of
from chatbot.guard_views import fold
from chatbot.guard_vocabulary import RELATION, any_of

_PERSON = r"(?-i:[A-Z][a-z]+(?:[-\s][A-Z][\w'-]*)+)"
# Someone the asker does not act for (children and wards are left out: a parent may).
_THIRD = (
    r"(?:his|her|their|my\s+(?:ex-?)?(?:\w+\s+)?(?:wife|husband|partner|spouse|ex|brother|sister|cousin|uncle|aunt|"
    r"tenant|landlord|flatmate|roommate|girlfriend|boyfriend|employee|employer|boss|colleague|neighbou?r|friend|"
    r"fiance\w*|ex-wife|ex-husband|lodger|nephew|niece|in-laws?|sister-in-law|brother-in-law)(?:'s|s')?|"
    rf"{_PERSON}(?:'s|s'))"
)
_READ_OUT = (
    r"(?:balance|statements?|transactions|payments|spending|overdraft|salary|income|incoming\s+\w+|outgoings|"
    r"phone\s+number|mobile\s+number|home\s+address|address|e-?mail(?:\s+address)?|transaction\s+history|history|"
    r"account\s+activity|card\s+number|last\s+(?:\d+|four|five|few|ten)\s+(?:\w+\s+)?(?:digits|transactions|"
    r"payments))"
)
_ASK = (
    r"(?:tell|show|give|send\s+(?:me|us)|read|check|look\s+up|find\s+out|confirm|let\s+me\s+(?:know|see)|what'?s|"
    r"what\s+is|what\s+are|how\s+much|can\s+you\s+see|see\s+(?:whether|if)|whether|pull\s+up|access)"
)
# A third party's relation, in the corpora's other languages; no child words (a parent may ask).
_THIRD_INTL = (
    r"(?:(?:mon|ma|son|sa)\s+(?:ex-?)?(?:mari|femme|epouse|epoux|frere|soeur|conjoint\w*|compagn\w+|locataire|"
    r"voisin\w*|patron\w*|ex)|frere\s+de|(?:mi|su)\s+(?:ex-?)?(?:marido|espos[oa]|mujer|herman[oa]|novi[oa]|"
    r"inquilin[oa]|vecin[oa]|jefe|ex)|exmujer|exmarido|(?:meu|minha)\s+(?:ex-?)?(?:marido|mulher|esposa|irma|irmao|"
    r"inquilin[oa]|vizinh[oa]|chefe|namorad[oa]|ex)|(?:mio|mia)\s+(?:ex\s+)?(?:marito|moglie|fratello|sorella|"
    r"inquilin[oa]|vicin[oa]|capo|ragazz[oa]|fidanzat[oa]|ex)|(?:mein\w*|ihr\w*|sein\w*)\s+(?:ex-?)?(?:mann\w*|frau|"
    r"ehemann\w*|ehefrau|bruder\w*|schwester|mieter\w*|nachbar\w*|chef\w*|freund\w*)|ex-?mann\w*|ex-?frau|"
    r"mijn\s+(?:ex-?)?(?:man|vrouw|broer|zus|huurder|buurman|buurvrouw|baas|vriend\w*|ex)|(?:moj\w*|mój)\s+(?:\w+\s+)?"
    r"(?:maz|mąż|zona|żona|brat|siostr\w+|szef\w*|sasiad\w*|najemc\w+)|бывш\w+\s+(?:жен\w*|муж\w*)|колишн\w+\s+"
    r"(?:дружин\w*|чолов\w*)|(?:мо[йяеё]\w*)\s+(?:муж\w*|жен\w*|брат\w*|сестр\w*|сосед\w*|начальник\w*)|"
    r"kocam\w*|karim\w*|eski\s+es\w*|kardesim\w*|komsum\w*|kiracim\w*)"
)
_READ_OUT_INTL = (
    r"(?:solde|releves?|virements|mouvements|saldo|movimientos|extractos?|transferencias|cuanto\s+dinero|"
    r"dinheiro\s+na\s+conta|extratos?|movimentos|movimenti|estratto|bonifici|quanto\s+guadagna|kontostand|"
    r"kontobewegungen|umsatze|kontoauszu\w*|uberweisungen|afschrift\w*|transacties|przelew\w*|wyciag\w*|"
    r"выписк\w*|баланс\w*|остат\w*|движени\w*|виписк\w*|залишок|bakiye\w*|hesap\s+hareket\w*|ekstre\w*|"
    r"telefonnummer|numero\s+de\s+telefone|numero\s+di\s+telefono|numero\s+de\s+telephone|номер\s+телефона|"
    r"huidige\s+adres|adresse|direccion|endereco|indirizzo)"
)
# The asker's own data ("mi saldo", "notre solde") is not someone else's: a read-out right after one of these is
# exempt (chatbot/guard.py, ``own_read_out``).
_OWN_BEFORE = re.compile(
    r"(?i)\b(?:mi|mis|mon|ma|mes|notre|nos|meu|minha|meus|mio|mia|miei|mein|meine|meinen|unser\w*|mijn|ons|onze|"
    r"moj\w*|nuestr[oa]s?|noss[oa]s?|nostr[oa]|my|our|мой|моя|моё|мои|наш\w*|benim)\s+$"
)
_READ_OUT_START = re.compile("(?i)" + fold(_READ_OUT_INTL))


def own_read_out(match: re.Match[str], text: str) -> bool:
    """The match starts with a read-out word ("saldo") that the text calls the asker's own ("mi saldo")."""
    return bool(_READ_OUT_START.match(match.group(0)) and _OWN_BEFORE.search(fold(text[: match.start()])))


_NOT_OWN = "".join(rf"(?<!\b{w}\s)" for w in ("mi", "mis", "mon", "ma", "mes", "nos", "meu", "mio", "mia", "my", "our"))
_OTHER_CUSTOMER_INTL = (
    rf"{_THIRD_INTL}[^?!]{{0,120}}?{_NOT_OWN}{_READ_OUT_INTL}|{_READ_OUT_INTL}[^.?!]{{0,60}}{_THIRD_INTL}",
    # Another customer's statements or contact details asked by name or as "the client" (pt, es, fr, de, nl, uk, ru).
    r"\b(?:extratos?|extractos?|movimentos|movimientos|releves?|kontoauszu\w*|estratti|afschriften)\s+(?:da|de\s+la|"
    r"du|des|del|der|van)\s+(?:conta|cuenta|compte|kontos?|conto|rekening)\s+(?:do|del|du|des|van\s+de)\s+(?:cliente|"
    r"client|kunden|klant)|\b(?:номер\w*\s+телефон\w*|адрес\w*)\s+(?:\w+\s+){0,3}?(?:клієнта|клиента)|"
    r"\b(?:list\w*|liste|lijst|lista)\s+(?:of\s+|de\s+|der\s+|van\s+)?(?:all\s+)?(?:customers|clients|klient\w*|"
    r"kunden|clientes|klanten)\s+(?:with|z|mit|con|avec|met|com)\b",
    # Chinese: look up <name>'s account balance; Korean: another customer's account or balance.
    r"帮我查(?:一下)?\S{1,6}的(?:账户|帐户|卡)|다른\s*(?:고객|사람)\S*\s*(?:의\s*)?(?:계좌|잔액|정보)",
    # "the phone number of the owner of account ..." (ru), "the customer <Name>'s account details" (nl).
    r"(?:номер\w*\s+телефон\w*|адрес\w*)\s+владельц\w*\s+(?:счета|счёта|карты)|rekeninggegevens\s+van\s+(?:de\s+)?"
    r"klant|\b(?:saldo|kontostand|solde)\s+(?:\w+\s+){0,3}?(?:tillhor|gehort|appartient|pertenece|pertence|appartiene)",
)
# Instructions described as hidden or given to the bot, and the exact text wanted.
_INSTR = (
    r"(?:instructions?|guidelines|rules|config\w*|prompt|script|regels|reglas|regras|regole|regles|reglerna|regler|"
    r"vorgaben|anweisungen|instrucciones|instrucoes|istruzioni|instructies|talimat\w*|yapilandirma\w*|инструкци\w*|"
    r"правил\w*|지침|지시|규칙|指示|指令|规则|ルール|التعليمات|تعليمات|قواعد|sicherheitsregeln)"
)
_HIDDEN = (
    r"(?:hidden|secret|confidential|operating|stored|verborgen\w*|geheim\w*|versteckt\w*|gespeichert\w*|ocult\w*|"
    r"escondid\w*|secret\w*|cache\w*|nascost\w*|dolda|ukryt\w*|gizli|скрыт\w*|секретн\w*|숨겨진|비밀|隠された|隐藏的?|"
    r"المخفية|السرية|الداخلية|الكاملة|internal|interne\w*|intern)"
)
_EXACT = (
    r"(?:verbatim|word\s+for\s+word|literal\w*|letterlijk|wortlich|wortwortlich|ordagrant|dokladnie|aynen|kelimesi\s+"
    r"kelimesine|дословно|그대로|そのまま|原文|逐字|بالضبط|حرفيا|exact\s+(?:wording|text|words|sentence)|original\s+"
    r"(?:wording|text)|texto\s+original|testo\s+originale|texte\s+original|quote\s+(?:it|them|the)|paste|"
    r"(?:print|output)\w*|출력|出力|输出|ausgeben|gib\s+mir|geben\s+sie\s+mir|zeig\w*|muestra\w*|mostra\w*|affiche\w*|"
    r"toon|visa|اعرض)"
)
_GIVEN = (
    r"(?:you\s+(?:were|have\s+been|'ve\s+been)\s+(?:given|configured|told)|given\s+to\s+you|que\s+te\s+dio|que\s+"
    r"(?:voce|tu)\s+segue|que\s+vous\s+suivez|die\s+(?:je|jij)\s+(?:\w+\s+){0,4}?gekregen|du\s+fatt|sana\s+verilen|"
    r"당신에게\s*준|给你的|тебе\s+дали|التي\s+(?:اعطاك|تم\s+اعدادك)|اعطاك|اعدادك)"
)
_EXTRACTION_INTL = (rf"{_HIDDEN}\s+(?:\w+\s+)?{_INSTR}|{_INSTR}\s+(?:\w+\s+)?{_HIDDEN}|{_INSTR}[^.?!]{{0,20}}{_GIVEN}",)
_EXTRACTION = "(?:" + "|".join(fold(p) for p in _EXTRACTION_INTL) + ")"
_EXACT_F = fold(_EXACT)
_ROLE_SCRIPTS = (
    # "an AI / bot without rules", in other languages.
    r"(?:ルールを持たない|ルールのない|制限のない|규칙이\s*없는|제한\s*없는|没有规则的?|无限制的?|sin\s+reglas|sem\s+regras|"
    r"senza\s+regole|sans\s+regles|ohne\s+regeln|zonder\s+regels|без\s+правил|bez\s+zasad|kuralsiz)"
    r"[^.?!]{0,20}(?:ai|ki|ia|ии|бот|bot|assistent\w*|asistente|assistente)",
    # A fired or former employee who tells how to get round the checks.
    r"(?:ты|you\s+are|you'?re|sei|eres|du\s+bist|jij\s+bent|voce\s+e|tu\s+es)\s+(?:a\s+|an\s+|un\s+|una\s+|ein\s+)?"
    r"(?:fired|former|ex-?|disgruntled|sacked|уволенн\w*|бывш\w*|ehemalig\w*|licenziat\w*|despedid\w*|demitid\w*)\s+"
    r"(?:\w+\s+)?(?:employee|staff|insider|banker|worker|сотрудник\w*|работник\w*|mitarbeiter\w*|dipendente|"
    r"empleado|funcionario)",
    # The grandparent who used to tell the codes.
    r"\b(?:grand(?:father|mother|ma|pa|mum|dad)|granny|grandpa|avo|abuel[oa]|nonn[oa]|grand-(?:pere|mere)|opa|"
    r"oma|дедушк\w*|бабушк\w*|dziadek|babcia|dedem|babaanne|anneanne)[^?!]{0,160}(?:codes?|passwords?|pins?|"
    r"senhas|contrasenas|codici|passworter|пароли|коды|sifre\w*|cofres|safe|vault)",
)

PRETEXT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "other_customer",
        any_of(
            rf"\b{_ASK}\b[^.?!]{{0,80}}\b(?:in\s+and\s+out\s+of\s+{_THIRD}\s+(?:\w+\s+)?account|{_THIRD}\s+(?:\w+\s+)?"
            rf"{_READ_OUT})\b",
            rf"\b{_READ_OUT}\s+(?:\w+\s+){{0,3}}?(?:of|on|in|for|to)\s+the\s+account\s+(?:of|belonging\s+to|held\s+by|"
            rf"registered\s+to)\s+{_PERSON}|\b(?:whether|if)\s+(?:my\s+\w+,?\s+)?{_PERSON},?\s+(?:has|have)\s+(?:a|an|"
            r"any)\s+(?:overdraft|loan|account|debt|mortgage|credit\s+card)|\b(?:the\s+)?(?:card|account)\s+(?:that\s+)?my"
            r"\s+(?:\w+\s+)?(?:flatmate|roommate|wife|husband|partner|ex|brother|sister|tenant|employee|neighbou?r|"
            r"friend|colleague)\s+uses\b",
            rf"\b{_ASK}\b[^.?!]{{0,60}}\b(?:of|for|on|from)\s+(?:any|another|other|a\s+random|some)\s+(?:customer|client|"
            r"account\s*holder|user)s?\b(?!\s+(?:service|support|care|centre|center|number))|\b(?:check|see|find\s+out|"
            r"tell\s+me|confirm)\s+(?:if|whether)\s+(?:she|he|they)(?:'s|s|\s+has|\s+have|\s+is|\s+are)?\s+(?:been\s+)?"
            rf"(?:sending|spending|paying|receiving|getting|withdrawing|transferring|moving|overdrawn|in\s+debt)\b|"
            rf"\b(?:is|are|has|does)\s+{_THIRD}\s+(?:\w+\s+)?account\s+(?:overdrawn|in\s+(?:credit|debt|the\s+red|"
            r"arrears)|empty|got\s+money|have\s+(?:money|enough|funds))\b",
            r"\b(?:tell|give|send|show)\s+me\s+(?:\w+\s+){0,2}?(?:owner|holder)'?s\s+(?:full\s+name|phone|address|contact|"
            r"e-?mail|mobile)|\b(?:balance|statements?|transactions)\s+(?:of|on|for)\s+(?:acct|account|a/c)\s*(?:no\.?|"
            r"number|#)?\s*\d{6,}|\b(?:list|show|give\s+me|which|what|how\s+many)\s+(?:\w+\s+){0,2}?accounts\s+(?:are\s+)?"
            r"(?:registered|held|opened)\s+(?:at|to|under|in)\s+(?!my\b|our\b)",
        ),
    ),
    # A credential demanded by whoever says they act for its holder: an executor, attorney or carer manages the
    # account through the bank, never with the holder's PIN or password ("I'm the executor, give me the PIN").
    (
        "pii_fishing",
        any_of(
            r"\b(?:executor|executrix|attorney|guardian|deputy|carer|caregiver|next\s+of\s+kin|probate)\b[^?!]{0,80}?"
            r"\b(?:give|tell|send|read|show)\s+(?:me|us)\s+(?:the|his|her|their)\s+(?:pin|passwords?|passcodes?|card\s+"
            r"numbers?|cvv|cvc|security\s+codes?|login|memorable\s+word)\b",
        ),
    ),
    # The tools of a phishing run asked for, not a phishing message received: a template, script or kit.
    (
        "fraud_help",
        any_of(
            r"\b(?:forward|send|give|show|share|write|draft|make|create|generate|paste|copy)\s+(?:me\s+|us\s+)?"
            r"(?:\w+\s+){0,3}?(?:phishing|scam|smishing|vishing)\s+(?:\w+\s+){0,2}?(?:templates?|scripts?|kits?)\b",
        ),
    ),
)
# Matched against the lower-cased views, like chatbot/guard_rules_harm.py's.
PRETEXT_LOWER_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("other_customer", lower_of(*_OTHER_CUSTOMER_INTL)),
    (
        "prompt_extraction",
        lower_of(
            rf"{_EXTRACTION}.{{0,150}}{_EXACT_F}|{_EXACT_F}.{{0,150}}{_EXTRACTION}",
            r"\b(?:forbidden|not\s+allowed|banned|prohibited)\s+(?:you\s+)?(?:from|to)\s+(?:discuss|talk|mention)\w*\b"
            r".{0,80}\b(?:quote|exact|verbatim|word\s+for\s+word)|\b(?:quote|exact|verbatim)\b.{0,80}\b(?:forbid|"
            r"forbidden|prohibit)\w*|\b(?:everything|anything|the\s+(?:\w+\s+)?(?:bit|part|text))\s+(?:that\s+)?(?:comes?"
            r"|came|is|was)\s+before\s+my\s+(?:first\s+)?(?:message|'?hi'?|question)|\bthe\s+parts?\s+(?:that\s+)?i\s+"
            r"(?:can'?t|cannot)\s+see\b|\b(?:prompt|instructions|rules|script)\s+(?:that\s+)?(?:controls?|governs?|"
            r"drives?|runs?|shapes?)\s+you\b|\b(?:script|rules|instructions|guidelines)\s+(?:that\s+)?(?:they|the\s+"
            r"bank|your\s+\w+)\s+(?:make|made|have|had|got)\s+you\s+(?:follow|use|read)\b|\bin\s+your\s+(?:system\s+)?"
            r"(?:instructions|prompt|guidelines|config\w*)\b.{0,40}['\"]|\b(?:complete|continue|finish)\s+(?:this|the)"
            r"\s+sentence\b.{0,80}\byour\s+(?:instructions|prompt|rules)|\b(?:print|show|dump|output|display|give\s+me|"
            r"paste|reveal)\s+(?:me\s+)?(?:the\s+|your\s+)?(?:full\s+|entire\s+|whole\s+|complete\s+)?(?:admin|system|"
            r"internal|bot|backend|server)\s+(?:config\w*|settings)\b|\b(?:deine|ihre)\s+(?:\w+\s+)?(?:system)?"
            r"konfiguration\b",
        ),
    ),
    ("role_play", lower_of(*_ROLE_SCRIPTS)),
    (
        "injection",
        lower_of(
            r"\b(?:giv\w*|grant\w*)\s+you\s+(?:my\s+|full\s+)?(?:permission|consent|authori[sz]ation)\s+to\s+(?:break|"
            r"ignore|bypass|disregard|skip|answer\s+(?:anything|everything))|\bpermission\s+to\s+break\b|\btoestemming\s+"
            r"om\s+alles|\berlaubnis,?\s+(?:alles|die\s+regeln)|\bpermiso\s+para\s+(?:romper|ignorar|saltarte)|"
            r"\bpermissao\s+para\s+(?:quebrar|ignorar)|\bpermission\s+d'(?:enfreindre|ignorer)",
            r"\b(?:treat|consider|count)\s+(?:any|every|each|all)\s+refusals?\s+as\s+(?:an?\s+)?(?:error|bug|failure|"
            r"mistake)|\b(?:instruction|rule|urge|tendency)\s+to\s+refuse\b.{0,30}\b(?:is|was)\s+(?:a\s+)?(?:bug|glitch|"
            r"error|mistake)|\bif\s+(?:a|any|your)\s+rules?\s+(?:tells?|says?|asks?)\s+you\s+to\s+refuse\b|\bretry\s+"
            r"until\s+you\s+(?:give|answer|comply)",
            r"\b(?:rules?|instructions?|restrictions?|guidelines|polic(?:y|ies)|constraints)\s+(?:are|is|have\s+been|"
            r"has\s+been)\s+(?:now\s+)?(?:suspended|lifted|void|voided|disabled|paused|revoked)\b|\b(?:that|this|the|"
            r"your|those|these|bank)\s+(?:rules?|polic(?:y|ies)|restrictions?)\s+(?:doesn'?t|don'?t|does\s+not|do\s+not|"
            r"no\s+longer)\s+appl(?:y|ies)\s+(?:to\s+(?:me|this\s+chat|us)|here|anymore)\b|\b(?:every|all|any)\s+"
            r"(?:\w+\s+)?(?:rules?|instructions?)\s+you\s+(?:had|have|were\s+given|got)\b.{0,40}\b(?:is|are)\s+(?:now\s+)?"
            r"(?:void|null|invalid|cancel+ed|gone|obsolete)\b",
            r"\bgelten\s+(?:deine|ihre|die)\s+(?:\w+\s+)?(?:vorgaben|regeln|anweisungen|richtlinien)\s+nicht\s+mehr|"
            r"\b(?:vorgaben|regeln|anweisungen)\s+(?:\w+\s+)?gelten\s+nicht\s+mehr|\bne\s+s'appliquent\s+plus\b|\bya\s+"
            r"no\s+(?:se\s+)?aplican\b|\bnon\s+valgono\s+piu\b|\bgelden\s+niet\s+meer\b|\bdu\s+befolgst\s+nur\s+noch\s+"
            r"meine|\bsolo\s+(?:obedeces|sigues)\s+mis\s+instrucciones",
            r"\bprioriti[sz]e\s+my\s+(?:instructions|rules|commands|requests)\s+over\s+(?:your|the)\b|\b(?:respond|"
            r"reply|answer|say)\s+(?:only\s+)?(?:with\s+)?['\"][^'\"]{1,30}['\"]\s+(?:to|for)\s+(?:anything|everything|"
            r"every\s+\w+|whatever)|\bif\s+(?:you\s+had\s+no|your\s+(?:instructions|rules)\s+said\s+nothing|you\s+"
            r"didn'?t\s+have\s+(?:any\s+)?(?:rules|instructions))\b|\b(?:whatever|any|all)\s+(?:constraints|"
            r"restrictions|rules|limits|filters)\s+you\s+have\b.{0,80}\b(?:drop|ignore|remove|lift|forget|disable)\s+"
            r"(?:them|those|it)\b",
            # Restrictions lifted on request; notes addressed to an assistant inside pasted text.
            r"\b(?:switch|turn)\s+off\s+(?:your|the)\s+(?:\w+\s+)?(?:filter\w*|guard\w*|safety|rules|restrictions)\b|"
            r"\bkurallar\w*\s+(?:\w+\s+)?(?:kapat|devre\s+disi)|\bif\s+(?:an?\s+)?(?:ai|bot|chatbot|assistant|language\s+"
            r"model|llm)(?:\s+assistant)?\s+(?:reads|sees|processes|is\s+reading)\s+this\b|\b(?:system|assistant|admin|ai|"
            r"bot)\s*:\s*(?:new\s+task|approve|ignore|reveal|instruct|transfer|refund)\b|\bnew\s+instructions\s+from\s+"
            r"(?:the\s+bank|your\s+\w+|head\s+office|management)\b|\bfollow\s+(?:the\s+)?instructions\s+(?:at|on|from)\s+"
            r"(?:https?://|www\.|pastebin|\S+\.(?:com|net|org|io|example|xyz|co)\b)",
            r"\b(?:just\s+)?(?:say|type|write|reply|respond\s+with)\s+['\"]your\s+(?:\S+\s+){0,4}?(?:has\s+been|is|was)\s+"
            r"(?:\w+\s+)?(?:approved|refunded|waived|granted|cancel\w*|unblocked|confirmed|accepted)",
            r"制限を(?:一時的に)?解除|제한을\s*(?:해제|풀어)|限制(?:解除|取消)|ограничени\w*\s+(?:сними|отключи)",
            # A statement dictated to the bot and dressed up as official.
            r"\b(?:phrase|word|format|write|present)\w*\s+(?:it\s+)?(?:as|like)\s+(?:an?\s+)?official\s+(?:announcement|"
            r"confirmation|letterhead|letter|statement|notice)|\bworded\s+like\s+(?:an?\s+)?official|\bscreenshot\s+of\s+"
            r"you\s+saying|\bsign\s+it\s+as\s+(?:the\s+bank|your)|\bas\s+the\s+official\s+(?:login|sign-?in|website|"
            r"page)|\bcomo\s+si\s+fuera\s+(?:una\s+)?confirmacion\s+oficial|\bchiar\s+daca\s+nu\s+poti|\bhalaman\s+login"
            r"\s+resmi|\b(?:statement|letter|confirmation|note)\s+(?:that|saying)\s+(?:the\s+bank|you)\s+(?:guarantees?|"
            r"will\s+refund|owes?|promises?)|\bscrivi\s+che\b.{0,80}\bgarantit",
        ),
    ),
)

# --- what chatbot/guard.py's exemptions read: carers, executors and fakes reported ---------------------------------
# Someone who acts for a customer who has died: their estate's executor or administrator.
ESTATE = re.compile(
    r"(?i)\b(?:executor|executrix|probate|personal\s+representative|letters\s+of\s+administration|administrator\s+of\s+"
    r"(?:his|her|their|the)\s+estate)\b"
)
# A credential the account holder handed over ("she typed in her login", "he has been giving his card details to
# people on the phone"), reported by a carer who asks for the account to be protected, not for the credential.
HANDED_OVER = re.compile(
    r"(?i)\b(?:typed|typing|entered|entering|put|putting|gave|given|giving|handed|handing|shared|sharing|disclosed|"
    r"read\s+out|reading\s+out)\s+(?:in\s+|out\s+|over\s+|away\s+)?$"
)
PROTECT = re.compile(r"(?i)\b(?:lock|block|freeze|protect\w*|secure|safeguard\w*|stop|cancel|report)\b")
CARER = re.compile(
    rf"(?i)\bmy\s+(?:\w+\s+)?{RELATION}\b[^.?!]{{0,40}}?\b(?:got|received|had|was\s+sent|answered|clicked)\s+(?:on\s+)?"
    r"(?:a|an|the|some)\s+(?:\w+\s+){0,3}?(?:text|sms|call|e-?mail|message|link|dm)s?\b|\b(?:he|she|they)\s+clicked\s+"
    r"(?:on\s+)?(?:a|the)\s+(?:\w+\s+)?link\b|\b(?:i'?m|i\s+am)\s+(?:here\s+)?with\s+(?:her|him|them)\b|\bhappy\s+for\s+"
    r"me\s+to\b|\bwith\s+(?:her|his|their)\s+(?:permission|consent)\b|\b(?:dementia|alzheimer\w*)\b"
)
# A fake account or caller in the bank's name, reported: what it asks people for is the thing at risk.
SCAMMER_ASKS = re.compile(r"(?i)\b(?:asking|asked|asks|requesting|demanding|wanting)\s+(?:\w+\s+){0,2}?for\s+$")
IMPERSONATOR = re.compile(
    r"(?i)\b(?:fake|impersonat\w*|pretend(?:s|ing)?\s+to\s+be|posing\s+as|claiming\s+to\s+be|spoof\w*|cloned?)\b"
)
REPORTING = re.compile(
    r"(?i)\b(?:report\w*|flag|warn\w*|is\s+(?:this|that|it)\s+(?:really\s+)?(?:you|from\s+you|real|genuine|legit\w*))\b"
)
I_DO_IT = re.compile(
    r"(?i)\b(?:i|we)(?:'m|'re|\s+am|\s+are|\s+will|'ll|\s+want\s+to|\s+need\s+to|\s+plan\s+to|\s+could|\s+can)?\s+"
    r"(?:be\s+)?(?:pretend\w*|pos(?:e|ing)|impersonat\w*|messag\w*|text\w*|ask\w*|set\s+up|setting\s+up|made|"
    r"mak\w+|creat\w+|run|running)\b"
)
MY_CHILD = re.compile(r"(?i)\bmy\s+(?:[\w-]+\s+)?(?:son|daughter|child|kid)s?\b")
