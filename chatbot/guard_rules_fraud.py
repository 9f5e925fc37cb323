"""The guard's rules for fraud help, other people's money and staff pretexts worded as ordinary questions
(chatbot/guard.py runs them after chatbot/guard_rules.py's ``RULES``).

A fraud question rarely says "fraud": it asks how to forge a statement or edit a payslip "so it passes", how to keep
deposits "just under" the point the bank looks, how to answer security questions "as him", which variations "won't
be matched by your systems", or has a message written "pretending to be the bank". Other people's data comes as a
yes/no about a stranger's balance, the owner of an account a payment went to by mistake, or "everything you hold on"
someone. Each part names the kind of request, never one sentence; a victim describing the same thing ("I got a text
pretending to be the bank") asks nothing of the sort and passes. Same conventions as chatbot/guard_rules.py (folded,
accent-free text); the patterns in other scripts are folded like the text (see chatbot/guard_rules_scripts.py).
"""

from __future__ import annotations

import re

from chatbot.guard_views import fold
from chatbot.guard_vocabulary import RELATION, any_of

# A person's name as typed in a request about them, hyphenated or with initials ("John Doe-Fake", "J. Placeholder").
_PERSON = r"(?-i:(?:[A-Z]\.\s*)?[A-Z][a-z]+(?:[-\s][A-Z][\w'-]*)+)"
# An account named by number, by IBAN, or by the token redaction puts in their place ("[IBAN]").
_ACCOUNT_ID = r"(?:[A-Z]{2}\d{2}[\w ]*|\d{4,}|\[[A-Z ]+\])"
_FAKE_DOC = (
    r"(?:bank\s+statements?|statements?|payslips?|pay\s*slips?|p60s?|tax\s+returns?|kontoauszug\w*|releves?|extractos?|"
    r"estratt\w+|extratos?|afschrift\w*|gehaltsabrechnung\w*|lohnabrechnung\w*|fiches?\s+de\s+paie|nominas?|"
    r"busta\s+paga|holerites?|courrier|lettre|letter|brief|carta|lettera|schreiben|e-?mail|sms|message|mensagem|"
    r"mensaje|messaggio|nachricht|bericht)"
)
_FORGED = r"(?:gefalscht\w*|faux|fausse|falso|falsa|finto|finta|nep|valse|sahte|falszyw\w*|fake|forged|counterfeit)"
_MAKE = (
    r"(?:erstell\w*|mach\w*|generier\w*|erzeug\w*|crea\w*|genera\w*|fai|faire|fais|fabrique\w*|redige\w*|escrev\w*|"
    r"escrib\w*|redact\w*|scriv\w*|schreib\w*|schrijf|maak|napisz|make|create|generate|write|draft|design|produce)"
)
_MESSAGE = r"(?:message|sms|text|e-?mail|letter|whatsapp|mensagem|mensaje|messaggio|nachricht|courrier|bericht)"
_PRETEND = (
    r"(?:pretend\w*\s+to\s+be|posing\s+as|impersonat\w*|(?:a\s+)?fingir\s+ser|fingiendo\s+ser|fingindo\s+ser|"
    r"fingendo\s+(?:di\s+)?essere|se\s+faisant\s+passer\s+pour|haciendose\s+pasar\s+por|fazendo-se\s+passar\s+por|"
    r"als\s+ob\s+\w+\s+die|podszywaj\w*\s+sie\s+pod)"
)

# Non-Latin phrasings, folded like the text (Arabic hamza and Greek accents drop, as they do in the views).
_FRAUD_SCRIPTS = (
    r"(?:اقنع|أقنع|اخدع|أخدع).{0,40}(?:رمز|كود)|(?:ادخل|أدخل)\s+(?:الى|إلى)\s+حساب(?:ه|ها)",
    r"(?:写|编|生成|起草|制作|帮我做)(?:一[条封个份])?.{0,6}(?:冒充|假冒|伪装成?|假装成?)",
)
_PII_SCRIPTS = (
    r"λογαριασμ\w*\s+(?:της|του|τους)(?=\s*[;?.,!]|$)|γειτον\w*.{0,80}λογαριασμ",
    r"(?:किसी\s+और|दूसरे|अन्य)\s+(?:ग्राहक|व्यक्ति)",
    r"\d{4,}\s+numarali\s+(?:hesap|hesapta|hesabin|hesaptaki|hesaba)\b",
)

FRAUD_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "fraud_help",
        any_of(
            rf"\b{_MAKE}\b.{{0,40}}\b{_FORGED}\s+(?:\w+\s+)?{_FAKE_DOC}\b|\b{_MAKE}\b.{{0,40}}\b{_FAKE_DOC}\s+(?:\w+\s+)?"
            rf"{_FORGED}\b|\b{_MAKE}\b.{{0,40}}\b{_MESSAGE}\b.{{0,40}}\b{_PRETEND}\b",
            r"\b(?:generate|create|make|produce|design|mock|draft|fabricate|forge|edit|alter|change|doctor)\w*\b.{0,60}"
            r"\b(?:showing|with|that\s+(?:shows|says))\s+(?:a\s+)?(?:balance|salary|income)\s+of\b|\b(?:statement|payslip|"
            r"letter|document|certificate)\s+(?:layout|template|mock-?up)\b.{0,60}\b(?:logo|letterhead|branding)\b",
            r"\b(?:change|edit|alter|adjust|tweak|modify|doctor|inflate|falsify|fudge)\b.{0,40}\b(?:payslips?|pay\s*slips?|"
            r"bank\s+statements?|p60|tax\s+returns?|invoices?)\b.{0,60}\b(?:so\s+(?:that\s+)?(?:it|they)\s+(?:passes|pass|"
            r"gets?|looks?|qualif\w+|meets?)|to\s+(?:pass|get\s+past|qualify|meet))\b",
            r"\b(?:stay|keep\s+(?:it|them|each\s+\w+)|remain)\s+(?:just\s+)?(?:under|below|beneath)\s+(?:it|that|the\s+"
            r"(?:limit|threshold|radar|reporting\s+\w+))\b|\bunder\s+the\s+radar\b|\b(?:split|break\s+up|divide|chop|"
            r"spread)\b.{0,50}\b(?:so\s+(?:that\s+)?(?:it|they)\s+(?:doesn'?t|don'?t|won'?t|does\s+not|do\s+not|will\s+not)"
            r"|to\s+avoid|without)\s+(?:\w+\s+){0,2}?(?:trigger\w*|set\w*\s+off|flag\w*)\b",
            r"\bwithout\s+(?:the\s+bank|you|your\s+\w+|anyone|them)\s+(?:noticing|finding\s+out|knowing|spotting|"
            r"catching\s+on|suspecting|detecting)\b|\b(?:won'?t|wouldn'?t|will\s+not|don'?t|doesn'?t|not)\s+(?:be\s+|get\s+)?"
            r"(?:matched|detected|linked|flagged|caught|noticed|spotted|picked\s+up)\s+(?:by|to)\s+(?:your|the\s+bank'?s?|"
            r"the)\s+(?:systems?|checks|fraud\s+\w+|software|algorithms?)\b|\b(?:forward|pass|send)\w*\s+(?:it|them|the\s+"
            r"(?:money|funds))\s+on\b.{0,100}\bwithout\s+(?:the\s+bank|you|your\s+\w+|anyone|them)\b",
            rf"\b(?:answer|pass|get\s+through)\s+(?:the\s+)?(?:security|verification|identity|id)\s+(?:questions|checks?|"
            rf"calls?)\s+as\s+(?:him|her|them|my\s+\w+|someone\s+else|he|she)\b|\bi\s+(?:\w+\s+){{0,2}}?(?:pretend|pose)\w*\s+"
            rf"(?:to\s+be|as)\s+(?:him|her|them|the\s+(?:card|account)\s*holder|my\s+(?:\w+\s+)?(?:{RELATION}|mate))\b",
            r"\b(?:saying|claim(?:ing)?|pretend(?:ing)?|say)\s+(?:that\s+)?i\s+(?:never|didn'?t|did\s+not)\s+\w+\b.{0,60}"
            r"\b(?:i\s+(?:actually|really|in\s+fact)\s+(?:did|have|got|received|made|authori[sz]ed)|(?:actually|really)\s+"
            r"did)\b",
            r"\bhow\s+(?:to|(?:do|would|could|can)\s+(?:i|you|he|she|they|one|someone))\s+(?:\w+\s+){0,3}?(?:take\s+over|"
            r"hijack|break\s+into|hack(?:\s+into)?|empty|drain|compromise)\s+(?:a|an|the|someone|somebody|another|victim|"
            r"other|his|her|their)\b|\b(?:victim|target|someone\s+else|another\s+person)'?s?\s+account\b.{0,60}\bsim[-\s]?"
            r"swap|\bsim[-\s]?swap\w*\b.{0,60}\b(?:victim|someone\s+else|another\s+person)",
            r"\b(?:conta|cuenta|compte|conto|cartao|documento)\s+(?:de\s+|di\s+|d')?(?:outra\s+pessoa|alguem|otra\s+persona|"
            r"alguien\s+mas|quelqu'?un\s+d'?autre|un'?altra\s+persona|qualcun\s+altro)\b",
        ),
    ),
    (
        "pii_fishing",
        any_of(
            rf"\b(?:address|name|phone\s+number|number|e-?mail|owner|holder|details)\s+(?:registered|linked|attached|"
            rf"associated|tied|belonging)\s+(?:to|with)\s+(?:the\s+|this\s+|that\s+)?(?:account|card|iban)\s+"
            rf"(?:number\s+)?{_ACCOUNT_ID}|\b(?:does|has|is)\s+(?:the\s+)?account\s+(?:number\s+|no\.?\s*|#)?"
            rf"{_ACCOUNT_ID}\s+(?:have|has|hold\w*|contain\w*|got|show|receive)\b|\b(?:on|of)\s+account\s+(?:number\s+)?"
            rf"{_ACCOUNT_ID}",
            r"\b(?:i\s+(?:want|need)|give\s+me|tell\s+me|send\s+me)\s+(?:the|their|his|her)\s+(?:full\s+)?(?:name|address|"
            r"e-?mail)(?=\s*(?:,|and|&)\s*(?:\w+\s+)?(?:address|phone|e-?mail|balance|name)\b)|\b(?:which|"
            r"whose)\s+account\s+(?:received|got|has)\s+(?:the|my)\b",
            r"\bwhat\s+(?:he|she|they)(?:'s|\s+has|'ve|\s+have)?\s+(?:been\s+)?(?:spent|spending|bought|withdrawn|"
            rf"transferred)\b|\b(?:does|do|is|are|whether|if)\s+{_PERSON}(?:\s*\([^)]*\))?\s+(?:bank\s+with|have\s+an\s+"
            r"account\s+(?:with|here|at)|(?:a\s+)?(?:customer|client)\s+(?:of\s+yours|here|with\s+you|at))\b",
            rf"\b(?:paste|send|give|show|tell|list|read|dump|export|provide)\s+(?:me\s+)?(?:everything|all(?:\s+the\s+"
            rf"\w+)?|whatever)\s+(?:you\s+)?(?:hold|have|store|keep|know)\s+(?:on|about|for)\s+(?:them|him|her|this\s+"
            rf"(?:customer|person|client)|the\s+customer|{_PERSON})|\b(?:for|of|on)\s+(?:the\s+)?customer\s+{_PERSON}",
            r"\b(?:dime|dame|muestrame|ensename|dimmi|dammi|mostrami|dis-moi|donne-moi|montre-moi|diz-me|mostra-me|sag\s+"
            r"mir|zeig\s+mir|gib\s+mir)\s+(?:\w+\s+){0,3}?(?:movimientos|saldo|transacciones|movimenti|mouvements|solde|"
            r"operations|movimentos|umsatze|kontostand|buchungen)\s+(?:\w+\s+){0,2}?(?:de\s+su|di\s+sua|della\s+sua|de\s+sa"
            r"|de\s+son|da\s+sua|do\s+seu|seine[rs]?|ihre[rs]?|del\s+(?:cliente|titular))\b|\b(?:dati|datos|dados|donnees|"
            r"daten|gegevens)\s+(?:\w+\s+)?(?:del|dello|dell'|de\s+la|do|da|du|de|des|van\s+de|vom)\s+(?:client\w*|"
            r"klant\w*|kund\w*)\s+(?:con|with|mit|avec|com|met)\b",
            rf"\b(?:umsatze|buchungen|transaktionen|movimientos|movimenti|mouvements|movimentos|saldo|solde|kontostand)\s+"
            rf"(?:\w+\s+){{0,2}}?(?:des|du|del|della|do|da|dello)\s+(?:kontos?|compte|cuenta|conto|conta)\s+{_ACCOUNT_ID}|"
            rf"\bass?ocia\w*\s+(?:a|au|al|alla|ao)\s+(?:la\s+|o\s+|a\s+)?(?:cuenta|compte|conto|conta|carte|tarjeta|"
            rf"cartao)\s+{_ACCOUNT_ID}",
        ),
    ),
    (
        "impersonation",
        any_of(
            r"\b(?:i'?m|i\s+am|we'?re|we\s+are)\b.{0,50}\b(?:who|that)\s+(?:built|made|created|trained|programmed|coded|"
            r"deployed|hosts?|maintains?|operates?)\s+you\b|(?:^|[.!?]\s*)(?:hello|hi|hey)?,?\s*(?:this\s+is\s+)?"
            r"(?:the\s+)?(?:\w+\s+)?(?:regulator|police|auditor|compliance|it\s+security|security\s+team|fraud\s+team)\s+"
            r"here\b",
            r"\b(?:hier\s+spricht|ici)\s+(?:die\s+|der\s+|le\s+|la\s+|l')?(?:\w*(?:polizei|abteilung|behorde|aufsicht|"
            r"revision|kripo|staatsanwaltschaft)|service\s+(?:conformite|securite|fraude|juridique|informatique|"
            r"controle)|police|gendarmerie)\b",
        ),
    ),
    ("fraud_help", re.compile("(?i)" + "|".join(fold(p) for p in _FRAUD_SCRIPTS))),
    ("pii_fishing", re.compile("(?i)" + "|".join(fold(p) for p in _PII_SCRIPTS))),
)
