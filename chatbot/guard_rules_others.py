"""The guard's rules for other people's accounts read behind a family tie, a counterparty or a job title
(chatbot/guard.py runs them after chatbot/guard_rules_overrides.py).

The key is a named other person (a spouse, sibling, parent, ex, tenant, neighbour, staff member, "Mr X") close to
what their account shows (balance, transactions, what they spent or received, their address), or a stranger's account
number with whether they can pay. A parent of a minor, an attorney, an executor or a joint holder is exempted by
chatbot/guard.py (``other_customer``); a customer asking about *their own* balance or a payment *to* a relative names
no one else's account. Same conventions as chatbot/guard_rules_setup_intl.py.
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of
from chatbot.guard_rules_lures import LURES_RULES
from chatbot.guard_rules_overrides import OVERRIDES_RULES
from chatbot.guard_rules_setup_intl import anywhere, near, whole

# A relative's account named by a victim ("scammers got my wife to log in: can they see her transactions?").
_NOT_A_VICTIM = r"^(?![\s\S]*\b(?:scam\w*|fraudsters?|hackers?|someone|somebody|stolen|stole)\b)[\s\S]*?"
# Someone else, by a tie to the asker or a title, in the corpora's languages.
_KIN = whole(
    r"(?:my\s+(?:ex|wife|husband|tenant|neighbou?r|sister|brother|client'?s\s+\w+)|our\s+staff\s+member|"
    r"(?:meine|meiner)\s+(?:frau|schwester|mutter|tochter|partnerin|ex)|mein(?:es)?\s+(?:mann|bruder|vaters?|"
    r"partners?|nachbarn?|ex)|mia\s+(?:sorella|moglie|madre|ex)|mio\s+(?:fratello|marito|padre|vicino|ex)|"
    r"(?:do|da)\s+(?:meu|minha)\s+(?:pai|mae|irmao|irma|marido|esposa|mulher|ex|vizinh[oa])|(?:m(?:o|ó)j|moja|mojej|"
    r"mojego)\s+(?:szwagier|brat|siostr\w+|m(?:a|ą)(?:z|ż)\w*|(?:z|ż)on\w+|ojc\w+|matk\w+|s(?:a|ą)siad\w*)|"
    r"моєї\s+(?:дружини|сестри|матері)|мого\s+(?:чоловіка|брата|батька|сусіда)|моей\s+(?:жены|сестры|матери)|"
    r"моего\s+(?:мужа|брата|отца|соседа)|του\s+(?:συνεργατη|αδελφου|πατερα|συζυγου)\s+μου|της\s+(?:συζυγου|"
    r"αδελφης|μητερας)\s+μου|ortag\w*m\w*|eski\s+sevgilim\w*|esimin|kardesimin|ng\s+(?:tita|tito|kapatid|asawa|"
    r"kaibigan)\s+ko|mijn\s+(?:buurman|buurvrouw|zus|broer|vrouw|man|ex)|(?:du\s+compte\s+de|konto\s+von)\s+"
    r"(?:m\.|mme|monsieur|madame|herrn?|frau)|domnul|doamna|میرے\s+(?:بھائی|شوہر|والد)|میری\s+(?:بہن|بیوی))|"
    r"मेरे\s+(?:बेटे|भाई|पति|पिता)|मेरी\s+(?:बहन|पत्नी)|של\s+גב'|של\s+מר"
)
# What their account shows ("my partner ... my transactions" is the asker's own).
_SHOWS = whole(
    r"(?:balance|statements?|large\s+payments|missed\s+(?:loan\s+)?payments|personal\s+account|"
    r"wie\s+viel\s+geld|quanto\s+ha\s+speso|saldo|solde|derniers\s+mouvements|ile\s+pieni(?:e|ę)dzy|"
    r"транзакці\w*|транзакци\w*|κινησεις|havale\s+gecmis\w*|para\s+yatirilmis|hypotheekbetaling|cont\s+activ|"
    r"adresa\s+lui)|کتنے\s+پیسے|بیلنس|पैसे\s+भेजे|דפי\s+החשבון"
)
_CHECK_THEM = (
    r"\bcheck\s+(?:his|her|their)\s+account\b|\bhow\s+much\s+was\s+left\s+in\s+(?:his|her|their)\s+account\b",
    r"\b(?:her|his)\s+name\s+is\b[^\n]{0,60}\b(?:dob|born)\b|\b(?:whether|if)\s+[a-z]+\s+[a-z]+,\s+born\s+\d{4},\s+"
    r"banks\s+with\s+you\b|\bwhich\s+of\s+my\s+(?:employees|staff|tenants)\s+bank\s+with\s+you\b",
    r"\bis\s+(?:the\s+)?account\s+(?:number\s+)?[a-z0-9 -]{6,34}\s+(?:overdrawn|in\s+good\s+standing|in\s+credit)\b",
    r"\bi'?ve\s+got\s+(?:his|her|their)\s+(?:bank\s+)?card\b[^\n]{0,40}\bwhat'?s\s+on\s+the\s+account\b",
    r"\baccount\s+holder\s+details\b|\bl(?:e|é)eme\s+los\s+(?:ultimos\s+)?movimientos\s+de\s+la\s+cuenta\b",
)
# The owner of a numbered account or card, and how to reach them.
_OWNER = whole(r"(?:pemilik|mwenye|titular|titulaire|inhaber\w*|holder|owner)|মালিকের")
_CONTACT = whole(r"(?:alamat|anwani|address|adresse|direccion|endereco|anschrift|nombor\s+telefon|phone)|ঠিকানা")
# Many customers at once.
_LIST_OF_THEM = (
    r"\baller\s+konten\b|\bluettelo\w*\s+asiakka\w*|\blist\s+of\s+(?:all\s+)?customers\b|\bliste\s+des\s+clients\b|"
    r"고객\s*목록",
)
# Staff whose own tool is down, asking the bot to act on a customer.
_TOOL_DOWN = (
    r"\b(?:my|our)\s+(?:internal\s+)?(?:tool|terminal|system)\s+is\s+down\b[^\n]{0,160}\b(?:customer|client)\b",
    r"\boverride\s+the\s+(?:daily\s+)?(?:withdrawal\s+)?limit\s+for\s+a\s+customer\b",
)

OTHERS_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "other_customer",
        lower_of(
            _NOT_A_VICTIM + near(_KIN, r"(?<!my\s)(?<!our\s)" + _SHOWS, r"[^\n]{0,80}?"),
            *_CHECK_THEM,
            anywhere(r"\d{4}", near(_OWNER, _CONTACT, r"[^\n]{0,40}?")),
            *_LIST_OF_THEM,
        ),
    ),
    ("impersonation", lower_of(*_TOOL_DOWN)),
)
# What chatbot/guard.py runs after chatbot/guard_rules_violence.py, in this order.
LURES_OVERRIDES_OTHERS_RULES = LURES_RULES + OVERRIDES_RULES + OTHERS_RULES
