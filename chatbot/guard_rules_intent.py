"""The guard's rules for fraud help keyed on who benefits, other people's data asked for as a favour, and official
pretexts (chatbot/guard.py runs them after chatbot/guard_rules_fraud.py).

Fraud asked politely names no crime: it asks what the bank will *not* notice ("how long before the bank notices if",
"a good excuse if the bank asks where it came from"), wants a refund for what the asker *did* receive ("even though
it actually arrived", "die ik wél heb ontvangen"), has other people click, type or hand over a code *on the asker's*
page, or moves money and opens accounts for strangers for a fee. A victim or a worried parent asks the same things
about someone else doing them ("someone offered my son cash to receive a payment") and passes: every part needs the
asker (first person or an imperative) to be the one who gains. Other people's data comes as "does <name> bank with
you and how much she has", "the phone number linked to that account", "who else has an account ... with the surname
...", and in the languages the corpora use. Same conventions as chatbot/guard_rules.py (folded, accent-free text);
patterns in other scripts are folded like the text (see chatbot/guard_rules_scripts.py).
"""

from __future__ import annotations

import re

from chatbot.guard_views import fold
from chatbot.guard_vocabulary import RELATION, RELATION_INTL, any_of

_PERSON = r"(?-i:(?:[A-Z]\.?\s*)?[A-Z][a-z]+(?:[-\s][A-Z][\w'-]*)+)"
_ACCOUNT_ID = r"(?:\[[A-Z ]+\]|[A-Z]{2}\d{2}\w*|\d{4,})"
# Third parties the asker is not: strangers, friends lending an ID, "people who don't live here".
_OTHERS = (
    r"(?:(?:my\s+)?(?:friend|mate|colleague|buddy|pal|flatmate|roommate|neighbou?r|ex)(?:'s|s')|someone\s+else'?s|"
    r"somebody\s+else'?s|another\s+person'?s|other\s+people'?s|a\s+stranger'?s)"
)
# A refund, chargeback or dispute, in the corpora's languages.
_CLAIM = (
    r"(?:refund|money\s+back|chargeback|charge\s+back|dispute|claim|report\w*\s+(?:it|my\s+card)\s+(?:stolen|lost)|"
    r"terugboeking|rimborso|rimborsa|contestazione|reembolso|devolucion|remboursement|contestation|ruckbuchung|"
    r"erstattung|estorno)"
)
_EVADE_WORDS = (
    r"(?:notic\w*|spot\w*|detect\w*|flag\w*|catch\w*\s+on|find\s+out|report\w*|query\w*|question\w*|ask\w*\s+"
    r"(?:where|questions))"
)

_FRAUD_SCRIPTS = (
    # Arabic: "without the bank noticing"; money from people "I don't know" then moved on.
    r"دون\s+(?:أن|ان)\s+(?:يلاحظ|يكتشف|يعرف|يشعر)|(?:أشخاص|اشخاص)\s+لا\s+(?:أعرفهم|اعرفهم).{0,60}(?:تحويل|ارسال|إرسال)",
    # Hindi: someone else's Aadhaar/ID; "so I am not caught".
    r"किसी\s+और\s+के\s+(?:आधार|पहचान|दस्तावेज|कार्ड|नाम)|पकड़ा\s+न\s+जा",
    # Russian/Ukrainian: split a transfer into parts so the bank does not ask; "origin of the money".
    r"(?:разбить|разделить|раздробить|розбити|поділити)\s+.{0,60}(?:на\s+части|частями|на\s+частини).{0,80}чтобы|"
    r"(?:без|не\s+запросил\w*).{0,40}(?:происхождени\w+|походженн\w+)\s+(?:денег|средств|грошей|коштів)",
    # Turkish: talking as if one were bank staff; "how can I get his/her password".
    r"\bbanka\s+(?:gorevlisi|calisani|personeli|memuru)\w*\s+gibi\s+(?:konus|davran|ara)|"
    r"\b(?:sifre|parola)si(?:ni)?\s+nasil\s+(?:alabilir|ogrenebilir|ele\s+gecirebilir)",
    # Chinese: pretend to be the bank to get someone's code.
    r"(?:冒充|假装|假冒)(?:成)?(?:银行|客服).{0,20}(?:验证码|密码)",
)

_PII_SCRIPTS = (
    # Arabic: balance / account / transfers of "my wife", "my brother", ...
    r"(?:رصيد|حساب|تحويلات|معاملات|كشف)\s+(?:حساب\s+)?(?:زوجتي|زوجي|أخي|اخي|أختي|اختي|أبي|ابي|أمي|امي|صديقي|جاري|ابني|ابنتي)",
    # Hindi: my neighbour's / husband's account; "his balance".
    r"मेरे\s+(?:पड़ोसी|भाई|पति|पत्नी|दोस्त|पिता|बहन|सहकर्मी)\s+(?:का|की|के)\s+(?:खाता|खाते|बैलेंस)|उसका\s+(?:बैलेंस|खाता)",
    # Chinese: look up my husband's (...) account, or his account's spending.
    r"(?:查|看|告诉我|显示).{0,8}我(?:老公|老婆|丈夫|妻子|爸爸|妈妈|父亲|母亲|哥哥|弟弟|姐姐|妹妹|朋友|邻居|男朋友|女朋友|同事)"
    r"的(?:账户|帐户|账号|卡|银行卡)|(?:他|她)的(?:账户|帐户)(?:余额|消费|交易|流水)",
    # Korean: my girlfriend's / husband's account balance or history.
    r"(?:제|내|우리)\s*(?:여자\s*친구|남자\s*친구|남편|아내|와이프|엄마|아빠|어머니|아버지|형|오빠|누나|언니|동생|친구|이웃|동료)"
    r"(?:의)?\s*(?:계좌\s*)?(?:잔액|잔고|거래\s*내역|사용\s*내역|비밀번호)",
    # Japanese: other customers' balances.
    r"他の(?:お客様|お客さま|顧客|利用者|人)の(?:口座|残高|情報|カード)",
    # Ukrainian/Russian: the card / account "of the client".
    r"(?:картки|карти|карты|рахунку|счета|счёта)\s+(?:\w+\s+)?(?:клієнта|клиента)",
)

INTENT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "fraud_help",
        any_of(
            # What the bank will not notice, report or ask about, asked by the one who would do it.
            rf"\bwithout\s+(?:the\s+bank|you|your\s+\w+|them|anyone)\s+(?:having\s+to|being\s+(?:able|obliged|"
            rf"required)\s+to)\s+{_EVADE_WORDS}|\bhow\s+(?:long|quickly|fast|soon)\b.{{0,40}}\b(?:the\s+bank|you|your\s+"
            r"(?:\w+\s+)?systems?)\s+(?:to\s+)?(?:notices?|spots?|detects?|catch(?:es)?\s+on|flags?)\s+(?:it\s+)?(?:if|when)"
            r"\s+(?:i|we|money|funds|cash|payments|transfers)\b|\b(?:deposits?|pay(?:ing)?\s+(?:it\s+)?in|payments?|"
            r"transfers?|withdrawals?)\b.{0,40}\bjust\s+(?:under|below|beneath)\s+(?:that|the\s+(?:amount|limit|threshold|"
            r"level|figure|reporting))\b",
            r"\b(?:good|best|plausible|believable|convincing)\s+(?:excuse|cover\s+story|lie|story)\b.{0,80}\b(?:bank|you|"
            r"they|compliance)\s+(?:asks?|questions?|quer\w+|calls?)\b|\b(?:don'?t|do\s+not)\s+want\s+to\s+(?:tell|say|"
            r"show|reveal|disclose)\s+(?:them|you|the\s+bank)\s+(?:the\s+)?(?:real|true|actual)\s+(?:source|reason|"
            r"origin)\b|\b(?:hide|conceal|disguise|obscure)\s+(?:the\s+)?(?:real\s+|true\s+)?(?:source|origin)\s+of\b",
            # A refund for what the asker did receive, or a dispute written "so it passes".
            rf"\b{_CLAIM}\b.{{0,120}}\b(?:even\s+though|although|though|even\s+if)\s+(?:\w+\s+){{0,3}}?(?:actually|"
            r"really|in\s+fact)\s+(?:arrived|came|turned\s+up|got\s+delivered|was\s+delivered|received)\b|(?:even\s+though|"
            r"although|though|even\s+if)\s+(?:i|we)\s+(?:actually|really|in\s+fact)\s+(?:went|used|got|received|stayed|ate|"
            r"had|attended|enjoyed|watched)\b|\b(?:die|dat)\s+"
            r"ik\s+(?:wel|toch|gewoon)\s+heb\s+ontvangen\b|\b(?:anche\s+se|sebbene|benche)\s+(?:invece\s+)?l'ho\s+"
            r"ricevut[oa]\b|\b(?:aunque|bien\s+que|obwohl)\s+(?:si\s+|lo\s+|je\s+l'ai\s+|ich\s+\w+\s+)?(?:recibi|recu|"
            r"erhalten\s+habe)\b",
            rf"\b{_CLAIM}\b.{{0,80}}\b(?:perche\s+passi|so\s+(?:that\s+)?it\s+(?:passes|goes\s+through|works|gets\s+"
            r"approved|succeeds)|zodat\s+het\s+(?:zeker\s+)?(?:lukt|slaagt)|para\s+que\s+(?:pase|funcione|lo\s+acepten)|"
            r"pour\s+qu'?(?:elle|il)\s+(?:passe|marche)|damit\s+(?:sie|es)\s+durchgeht)|\b(?:dispute|chargeback|refund)"
            r"\b.{0,80}\bafter\s+(?:i'?ve|i\s+have|we'?ve|we\s+have)\s+(?:used|enjoyed|eaten|stayed|received|had)\b.{0,80}"
            r"\b(?:free|was\s+fine|were\s+fine|no\s+problem)\b",
            # Others hand over their details or codes on the asker's page, or click the asker's link.
            r"\b(?:tan|pin|codes?|details|passwords?|logins?|otps?|card\s+details|credentials)\s+(?:\w+\s+){0,2}?(?:auf|on|"
            r"into|in|to|sur|en|na|op)\s+(?:meiner|my|ma|mi|minha|mein\w*|mijn)\s+(?:seite|site|page|website|webseite|"
            r"link|form|formular|pagina|site)\b|\bso\s+(?:that\s+)?(?:they|people|the\s+(?:recipients?|victims?|customers|"
            r"people)|he|she|users)\s+(?:will\s+)?click\b",
            r"\b(?:i\s+(?:need|want|would\s+like|'d\s+like|have)\s+to|how\s+(?:do|can|should)\s+i|help\s+me|can\s+you|"
            r"could\s+you|formulier\w*\s+ich|wie\s+schreibe\s+ich)\s+(?:\w+\s+){0,3}?(?:text|send|write|word|draft|"
            r"message|e-?mail|phrase|formulier\w*|schreib\w*)\b.{0,100}\b(?:looks?|seems?|appears?|aussieht|aussehen)\s*,?"
            r"\s+(?:like|as\s+(?:if|though)|als\s+(?:ob\s+)?)\s*(?:it|they|sie|er|es)?\s*(?:comes?|came|is|was|were|kame|"
            r"kommt|ware|stammt|sent)\s*(?:sie|er|es)?\s+(?:from|by|von|aus)\s+(?:your|the|a|ihrer|der|einer|deiner)\s+"
            r"bank\b",
            # Someone else's codes sent to the asker; someone else's ID or account used to open one.
            rf"\b(?:(?:his|her|their)|my\s+(?:\w+\s+)?{RELATION}(?:'s|s')|{_OTHERS})\s+(?:sms\s+|one-time\s+|security\s+|"
            r"verification\s+|2fa\s+|otp\s+|text\s+)?(?:codes?|otps?|texts)\s+(?:forwarded|sent|redirected|diverted)\s+"
            rf"to\s+(?:my|me)\b|\b(?:prepare|rehears\w*|practi[cs]\w*|learn|memori[sz]e)\s+(?:the\s+|all\s+the\s+)?answers"
            rf"\b.{{0,40}}\b(?:for|to|on)\s+(?:my\s+ex\b|{_OTHERS}|his\b|her\b|their\b)",
            rf"\bopen\w*\s+(?:\w+\s+){{0,3}}?accounts?\s+(?:\w+\s+){{0,2}}?(?:with|using|on|in|under)\s+{_OTHERS}\s+"
            r"(?:\w+\s+)?(?:id|ids|passport|documents?|details|name|identity|driving\s+licen[cs]e)\b|\bopen\w*\s+"
            r"(?:\w+\s+){0,2}?accounts?\s+for\s+(?:a\s+few|some|several|other|these|different)\s+people\b|\b(?:na|z)\s+"
            r"dowod\w*\s+(?:osobist\w+\s+)?(?:kolegi|kolezanki|znajomego|przyjaciela|kogos\s+innego|innej\s+osoby)\b|"
            r"\b(?:ktp|identitas|rekening|kartu|akun)\s+(?:milik\s+)?orang\s+lain\b|\bbobol\s+rekening\b",
            # Paid to move money or lend an account: "they'll pay me for the favour", strangers' money passed on.
            r"\b(?:they'?ll|they\s+will|he'?ll|she'?ll|who'?ll|and\s+they)\s+pay\s+me\s+(?!back)(?:\w+\s+)?(?:for|a\s+"
            r"(?:fee|cut|commission))\b|\breceiv\w*\s+(?:money|payments?|funds|cash|transfers?)\s+(?:\w+\s+){0,3}?(?:from|"
            r"for)\s+(?:strangers|people\s+i\s+(?:don'?t|do\s+not)\s+know|other\s+people|(?:a\s+few|several|different|lots"
            r"\s+of)\s+people)\b.{0,80}\b(?:forward|send|transfer|move|pass|withdraw)\w*\b",
            # Bought or tested card numbers.
            r"\b(?:small\s+)?test\s+(?:payments?|transactions?|purchases?|charges?)\b.{0,80}\bcards\b|\bcards\b.{0,80}"
            r"\btest\s+(?:payments?|transactions?|purchases?)\b|\bcard\s+numbers?\s+(?:w/|w|with)\s*(?:the\s+)?cvvs?\b|"
            r"\b(?:cards?|card\s+numbers|cvvs?)\b.{0,60}\bfrom\s+(?:a\s+)?(?:telegram|discord|forum|channel|dark\s*web)\b|"
            r"\bcartoes\s+que\s+comprei\b|\btarjetas\s+que\s+compre\b|\bcash\s+(?:them|these|those|it)\s+out\b.{0,60}"
            r"\bwithout\b",
            # Edited IDs, invented salaries, "nobody checks".
            r"\b(?:easiest|easier|simplest|hardest\s+to\s+spot)\s+(?:\w+\s+)?to\s+(?:edit|alter|fake|forge|modify|"
            r"photoshop|tamper\s+with|counterfeit)\b|\b(?:put|write|say|state|declare|list|claim|enter)\s+(?:a\s+)?"
            r"(?:higher|bigger|inflated|larger|fake|false|made-?up)\s+(?:salary|income|earnings|wage|figure)\b|\bnobody\s+"
            r"(?:actually\s+|really\s+)?(?:checks?|verif\w+|looks\s+at)\s+(?:the\s+|my\s+)?(?:payslips?|documents?|"
            r"income|statements?|ids?)\b",
            # Getting someone else's password or code.
            r"\bhow\s+(?:can|do|could|would)\s+i\s+(?:get|obtain|find\s+out|learn|grab)\s+(?:\w+\s+){0,3}?(?:his|her|"
            r"their|someone'?s|somebody'?s|an?\s+\w+\s+person'?s)\s+(?:\w+\s+)?(?:password|pin|passcode|one-time\s+code|"
            r"otp|login|security\s+answers)\b(?!\s+(?:reset|changed|sent|unblocked|unlocked|re-?issued|replaced))",
        ),
    ),
    (
        "pii_fishing",
        any_of(
            rf"\b(?:does|do|is|are|whether|if)\s+{_PERSON}\s+banks\s+with\b|\bhow\s+much\s+(?:money\s+)?(?:he|she|they)\s+"
            r"(?:has|have|had|holds?|earns?|owes?|got)\b|\bwho\s+else\s+(?:has|holds|banks|is\s+(?:a\s+)?(?:customer|"
            r"client))\b|\bwith\s+the\s+(?:surname|last\s+name|family\s+name)\s+(?-i:[A-Z])",
            r"\b(?:give|tell|send|read|show)\s+me\s+(?:the\s+)?full\s+card\s+number\b|\b(?:tell|give|send|show)\s+me\s+"
            r"(?:\w+\s+){0,2}?(?:phone\s+number|address|e-?mail|name|number|details)\s+(?:registered|linked|attached|"
            r"associated|tied|on\s+file)\s+(?:to|with|on)?\s*(?:that|the\s+(?:sender|payer|other)\w*'?s?)\s+account\b",
            rf"\b(?:e-?mail(?:\s+address)?|address|phone\s+number|balance|pin|card\s+number|details)\s+(?:\w+\s+){{0,3}}?"
            rf"(?:on|for|of|in|registered\s+(?:on|to))\s+{_PERSON}(?:'s|s')\s+account\b|\b(?:confirm|tell\s+me|check|find"
            r"\s+out|know)\s+(?:whether|if)\s+(?!i\b|we\b|my\b)(?:the\s+)?(?:\w+\s+){0,2}?(?:has|have|holds?)\s+(?:a|an|any)"
            r"\s+(?:loan|mortgage|account|overdraft|debt|credit\s+card)s?\s+(?:with|at|from)\s+(?:this|the|your)\s+bank\b",
            r"\b(?:did|has|have|was|were)\b[^.?!]{0,60}\b(?:also\s+)?(?:go|gone|went|arrive\w*|land\w*|paid|credited)\s+"
            rf"(?:in(?:to)?|to|on)\s+my\s+(?:\w+\s+)?{RELATION}(?:'s|s')\s+account\b[^.?!]{{0,60}}\bhow\s+much\b|\b(?:his|"
            rf"her|their)\s+account\s+(?:number\s+)?(?:is|:)\s*{_ACCOUNT_ID}",
            r"\b(?:discuss|share|reveal|disclose|look\s+up|give\s+out|access|show)\s+(?:\w+\s+)?(?:any|other|another)\s+"
            r"(?:customer|client|person|user|account\s*holder)(?:'s|s'|s)?\s+(?:accounts?|details|data|balances?|"
            r"information)\b|\b(?:list|show|give\s+me|export)\s+(?:me\s+)?(?:all|every)\s+(?:the\s+)?(?:customer|client)\s+"
            r"accounts\b|(?<!my\s)(?<!our\s)\bcustomer\s+(?:ref(?:erence)?|no\.?|number|id|#)\s*[:#]?\s*\d{4,}",
            rf"\b(?:mi|mis)\s+(?:{RELATION_INTL}|padre|madre)\b.{{0,80}}\bcuanto\s+(?:dinero\s+)?tiene\b|\bmein\w*\s+"
            rf"(?:ex-?)?(?:freund\w*|{RELATION_INTL})\b.{{0,80}}\b(?:welche|was\s+fur\s+eine?)\s+(?:adresse|telefonnummer|"
            r"e-?mail|kontostand|nummer)\b|\b(?:movimenti|saldo|estratto)\s+(?:\w+\s+){0,3}?(?:di\s+)?(?:mio|mia)\s+"
            r"(?:padre|madre|nonn[oa]|zi[oa]|ragazz[oa]|fidanzat[oa])\b",
            r"\bliste\s+(?:aller|der|von)\s+(?:kunden|konten|kontoinhaber)\b|\b(?:dati|datos|dados|donnees|daten)\s+"
            r"(?:anagrafici\s+|personales\s+|personnels\s+|pessoais\s+)?(?:dei|de\s+los|des|dos|der)\s+(?:correntisti|"
            rf"clienti|clientes|clients|kunden|titulares)\b|\b(?:transacties|saldo|afschriften)\s+(?:\w+\s+){{0,2}}?van\s+"
            rf"(?:de\s+)?rekening\s+{_ACCOUNT_ID}|\b(?:saldo|endereco|morada|telefone|dados|direccion|indirizzo|adresse)\s+"
            r"(?:\w+\s+){0,3}?(?:do|da|del|du|des|dello)\s+(?:cliente|client|titular|kunden)\s+(?-i:[A-Z])",
        ),
    ),
    (
        "impersonation",
        any_of(
            r"\b(?:on\s+behalf\s+of|from)\s+the\s+(?:financial\s+conduct\s+authority|fca|pra|ecb|european\s+central\s+"
            r"bank|regulator|central\s+bank|police|bafin)\b.{0,120}\b(?:disclose|provide|list|required|obliged|hand\s+"
            r"over)\b|\b(?:legally\s+)?(?:obliged|required|compelled)\s+to\s+(?:cooperate|disclose|comply)\b.{0,120}"
            r"\b(?:list|provide|disclose|send|give)\b",
            r"\bi\s+work\s+at\s+the\s+\w+(?:\s+\w+)?\s+branch\b.{0,120}\b(?:look\s+up|check|pull\s+up|read\s+me|tell\s+"
            r"me)\b|\bi'?m\s+(?:in|on|from)\s+the\s+(?:call\s+centre|call\s+center|qa\s+team|fraud\s+team|digital\s+team|"
            r"back\s+office)\b|\bit'?s\s+\w+\s+from\s+the\s+\w+\s+team\b|\b(?:as\s+)?one\s+of\s+your\s+developers\b|"
            r"\b(?:ich\s+bin|sono|sou|soy|je\s+suis|ik\s+ben|met)\s+(?:\w+\s+){0,2}?(?:mitarbeiter\s+(?:der|des|ihrer)\s+"
            r"(?:internen\s+)?(?:revision|bank|\w*abteilung)|ispettore|ispettrice|gerente\s+da\s+agencia|inspector\s+"
            r"(?:del|de\s+la)|inspecteur\s+de|van\s+de\s+\w*afdeling)\b",
        ),
    ),
    ("fraud_help", re.compile("(?i)" + "|".join(fold(p) for p in _FRAUD_SCRIPTS))),
    ("pii_fishing", re.compile("(?i)" + "|".join(fold(p) for p in _PII_SCRIPTS))),
)
