"""The guard's rules for the bot's safeguards switched off, its setup asked for in other words, roles, markup and
notes to an assistant, and statements in the bank's name for the asker to show someone (chatbot/guard.py runs them
after chatbot/guard_rules_lures.py).

Safeguards are keyed on *the bot's own* refusals, filters, policies or rules (yours, the earlier ones, the ones for
this chat) being dropped, outranked or replaced by the asker's; a customer asking to turn off a card's contactless
lock or a notification names none of them. The setup is asked for as what came before the first message, the
initialisation or developer text, the tools the bot can call, the secrets in its configuration. Statements are the
bank's refund, approval or guarantee written out *for the asker* to show, quote or forward, whether true or not. Same
conventions as chatbot/guard_rules_setup_intl.py.
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of

# The bot's safeguards as a whole.
_GUARDS = (
    r"(?:refusals?|refusal\s+behaviou?r|filters?|filtering|safety\s+(?:layer|filters?|rules|checks)|content\s+filters?|"
    r"safeguards?|guardrails?|polic(?:y|ies)|rules|guidelines|restrictions?|constraints|instructions|settings)"
)
_SUSPEND = (
    r"(?:drop|suspend|switch\s+off|turn\s+off|disable|set\s+(?:\w+\s+)?aside|bypass|ignore|deactivate|pause|bend|"
    r"don'?t\s+apply|do\s+not\s+apply|without|without\s+checking\s+it\s+against)"
)
_OFF = (
    # Dropped, suspended or outranked: the bot's own, the earlier ones, or for this chat.
    rf"\b{_SUSPEND}\s+(?:all\s+)?(?:of\s+)?your\s+(?!card|fraud|spending|payment)(?:\w+\s+){{0,2}}?{_GUARDS}\b",
    rf"\b{_SUSPEND}\s+the\s+(?:[\w-]+\s+){{0,2}}?{_GUARDS}\s+for\s+(?:the\s+rest\s+of\s+)?this\s+(?:chat|conversation|"
    r"session)\b",
    rf"\b(?:your|the\s+earlier|earlier|previous|prior|original|normal|usual)\s+(?:\w+\s+)?{_GUARDS}\s+(?:are\s+|is\s+)?"
    r"(?:now\s+)?(?:deprecated|suspended|void|lifted|aren'?t\s+in\s+effect|are\s+not\s+in\s+effect|no\s+longer\s+"
    r"apply)\b|\bconsider\s+the\s+(?:earlier|previous)\s+(?:\w+\s+)?{_GUARDS}\s+(?:deprecated|void|gone)",
    r"\b(?:i\s+know\s+you\s+have\s+rules|your\s+rules)\b[^\n]{0,60}\bset\s+(?:them|it)\s+aside\b",
    r"\b(?:my|user)\s+(?:instructions|messages|commands)\s+(?:as\s+having\s+)?(?:higher\s+priority|outrank|override|"
    r"take\s+priority)\b|\btreat\s+my\s+instructions\s+as\s+having\s+higher\s+priority\b",
    r"\b(?:every|each|any)\s+refusal\s+you\s+generate\b|\bwhenever\s+you(?:'re|\s+are)\s+about\s+to\s+refuse\b|"
    r"\byou\s+can\s+no\s+longer\s+say\b|\bsafe\s+word\b[^\n]{0,60}\b(?:bend|allowed|guidelines|rules)\b",
    r"\bunlock\s+code\b[^\n]{0,80}\b(?:drop|skip|bypass)\s+the\s+(?:verification|security|identity)\b",
    r"\b(?:the\s+bank|developers?|they)\s+updated\s+you\b|\bnew\s+rule\s+#?\s*(?:1|one)\b|\brule\s+update\s+from\s+"
    r"me\b|\byour\s+(?:guidelines|rules|instructions|policies)\s+(?:were|have\s+been)\s+updated\b|\byour\s+"
    r"instructions\s+(?:have|contain)\s+a\s+(?:typo|mistake|bug|error)\b",
    r"\b(?:operate|run|switch)\s+(?:\w+\s+)?in\s+\"?(?:open|free|unrestricted|unfiltered)\s+mode\b|\bmode\s+libre\b",
    r"\bi'?m\s+authori[sz]ing\s+you\s+to\b|\bwith\s+no\s+(?:customer\s+)?(?:safeguards|restrictions|filters)\b",
    r"\bwhich\s+filters\s+you\s+apply\b|\bpolicies\s+aren'?t\s+in\s+effect\b",
    r"\bforget\s+(?:that\s+)?you(?:'re|\s+are)\s+a\s+(?:bank\s+)?(?:assistant|bot|chatbot)\b|\boutputs?\s+exactly\s+what\s+"
    r"i\s+type\b|\b(?:disable|skip|turn\s+off|bypass)\s+(?:the\s+)?identity\s+(?:verification|checks?)\s+for\s+(?:this|"
    r"the)\s+(?:session|chat|conversation)\b|\bignoriru\w*\s+vse\b|\bsistemnye\s+instruktsii\b",
    r"\brevel[ae]\w*\s+(?:suas|tus|sus|tes|vos)\s+(?:regras|reglas|regles|instru\w*)",
    # The same in the corpora's other languages: the earlier instructions void, only the asker's obeyed, no refusal.
    r"\b(?:προηγουμεν\w*|αρχικ\w*)\s+(?:οδηγιες|ρυθμισεις)\s+(?:σου\s+)?(?:εχουν\s+)?(?:καταργηθει|ακυρωθει)|"
    r"μονο\s+τις\s+δικες\s+μου\s+εντολες|ההגדרות\s+הקודמות\s+שלך|בלי\s+לסרב",
    r"\bpuvodni\s+pokyny\s+uz\s+neplati\b|\bnic\s+neodmitas\b|\bnikdy\s+neodmitej\b|\bbezpecnostni\s+pravidla\s+jsou\s+"
    r"vypnut\w*|\butasitasaidat\s+vond\s+vissza\b|\bkorlatozas\s+nelkul\b",
    r"دستورالعمل\S*\s+قبلی|فقط\s+از\s+(?:دستورهای\s+)?من\s+(?:پیروی|اطاعت)|ยกเลิกข้อจำกัด|โดยไม่ปฏิเสธ",
    r"\bhuwag\s+mo\s+nang\s+sundin\b|\bsundin\s+mo\s+lang\b|\bregles\s+de\s+securite\s+sont\s+suspendues\b|"
    r"\bdesliga\s+os\s+filtros\b|\bjangan\s+menolak\b|\baturan\s+bank\s+tidak\s+berlaku\b|\bacha\s+kufuata\s+sheria\b|"
    r"\bkuvunja\s+maagizo\b|\bинструкции\s+стерли\b|\bне\s+маєш\s+права\s+відмовляти\b|\bпідкоряєшся\s+тільки\b|"
    r"\bскасовую\s+всі\s+твої\b",
    r"\b(?:wy(?:l|ł)(?:a|ą)cz|przełącz|przelacz)\s+(?:\w+\s+){0,4}?(?:filtrowani\w*|tryb\s+serwisow\w*)|"
    r"\bkarbantartasi\s+modba\b|λειτουργια\s+αποσφαλματωσης|حالت\s+نگهداری|\bstang\s+av\s+identitetskontroll\w*",
)
# The setup asked for in other words.
_SETUP = (
    r"\b(?:tools?|functions?)\s+(?:or\s+\w+\s+)?(?:you\s+(?:are\s+able\s+to|can|could)\s+call)\b|\bjson\s+schemas\b",
    r"\bincluding\s+the\s+confidential\s+ones\b|\bdeveloper\s+note\b|\binitiali[sz]ation\s+(?:text|prompt|message)\b|"
    r"\bsetup\s+text\b|\bcustom\s+instructions\s+the\s+bank\b",
    r"\bwhat\s+(?:were|was)\s+(?:u|you)\s+told\s+before\b|\b(?:bericht|wiadomo\w*)\s+(?:\w+\s+){0,4}?(?:voor|przed|"
    r"nad)\s+(?:mijn|moja|moją|moj\w*)\s+(?:eerste|pierwsz\w*)|\bnad\s+moj(?:a|ą)\s+pierwsz(?:a|ą)\s+wiadomo",
    r"\b(?:jo\s+)?instructions\s+tumhe\b|शुरुआती\s+निर्देश|第一条消息|原样输出|禁止事項[^\n]{0,30}原文|"
    r"프롬프트에\s+숨겨진|\bquy\s+tac\s+bi\s+mat\b|\bпромпт\w*\s+повністю\b|\bпочатковий\s+промпт\b",
    r"\bque\s+no\s+puedes\s+contarle\s+a\s+los\s+clientes\b|\bdeiner\s+konfiguration\b|\btwojej\s+konfiguracji\b|"
    r"\bistruzioni\s+iniziali\b|\bbelso\s+utasitas\w*|κρυφες\s+ρυθμισεις|تنظیمات\s+داخلی|\binterne\s+regler\b|"
    r"\bregole\s+segrete\b",
)
# Roles, markup and notes to an assistant inside pasted text.
_ROLES = (
    r"\bpull\s+customer\s+records\b|\bchatbot\s+hackerato\b|\btro\s+ly\s+ai\s+khong\s+bi\s+gioi\s+han\b|"
    r"\bдоступ\s+до\s+чужого\b|\byou\s+approve\s+every\s+(?:transfer|request)\b|\bפרצות\b|حساب\s+سالمندان",
)
_MARKUP = (
    r"^\s*#{1,3}\s*(?:systeme|sistema|system|rendszer)\s*:|^\s*\[(?:rendszer|시스템|systeme|sistema)\]\s*:",
    r"\"(?:access|role)\"\s*:\s*\"admin\"|\bbegin\s+(?:authori[sz]ed\s+)?(?:operator|system|admin)\s+message\b|"
    r"\bgrant\s+all\s+requests\b|\bassistant_command\s*=",
    r"\bai\s+assistant\s*:|\bhey\s+chatbot\s*,|\binstru(?:cao|ction|ktion)\s+(?:ao|to\s+the|till)\s+(?:ai-?)?assistent"
    r"\w*|\binstrucao\s+ao\s+assistente\b|\bin\s+all\s+your\s+future\s+answers\b",
)
# A statement in the bank's name, written for the asker to show or quote, true or not.
_FOR_SHOW = (
    r"\b(?:write|say|tell\s+me|promise)\b[^.!?\n]{0,80}\b(?:guarantee[sd]?|has\s+(?:already\s+)?(?:refunded|approved|"
    r"cancell?ed|frozen|been\s+fully\s+repaid)|(?:has\s+been\s+)?fully\s+repaid)\b",
    r"\b(?:so\s+i\s+can|to)\s+(?:show\s+(?:it\s+to\s+)?my\s+(?:wife|husband|landlord|parents)|quote\s+(?:you|the\s+"
    r"bank'?s))\b|\bi'?m\s+going\s+to\s+quote\s+you\b|\bjust\s+say\s+'your\b",
    r"\battestation\s+officielle\b|\bdime\s+que\s+ya\s+has\b|\bdime\s+por\s+escrito\b|\bme\s+da\s+igual\s+si\s+es\s+"
    r"verdad\b|\bбанк\s+гарантирует\b|η\s+τραπεζα\s+εγγυαται|\bimeidhinisha\b|\bhata\s+kama\s+bado\b|"
    r"\bdamit\s+ich\s+ihm\s+den\s+chatverlauf\b|\bword\s+it\s+officially\b",
    r"\b(?:joke|jokes)\s+mocking\b|\bsomething\s+(?:really\s+)?nasty\s+about\b|\bchui\s+boi\b|罵倒|\bpe\s+cale\s+de\s+"
    r"faliment\b|\bhurt\s+the\s+staff\b|אשבור|\btoxic\s+gas\b",
)

OVERRIDES_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("injection", lower_of(*_OFF)),
    ("prompt_extraction", lower_of(*_SETUP)),
    ("role_play", lower_of(*_ROLES)),
    ("markup", lower_of(*_MARKUP)),
    ("harmful", lower_of(*_FOR_SHOW)),
)
