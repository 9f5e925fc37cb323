"""The guard's rules for the bot's own setup asked for in the 28 languages the corpora use, and the pattern helpers
the other 28-language rule modules share (chatbot/guard.py runs these rules after chatbot/guard_rules_pretext.py,
then chatbot/guard_rules_roles.py for answers outside the rules and roles).

The setup is keyed on what is wanted of the instructions, not on one sentence: the bot's instructions or rules as its
own (given to it, original, hidden, from its developers, "yours") together with the exact text (verbatim, in full,
line by line); the ones it must not tell customers; the topics it is forbidden with the wording of the ban; its model
name with a version or training cut-off; the tools or functions it can call. A customer asking for the instructions to
activate a card, which topics the bot can help with, or the app's version, asks for none of these. Same conventions
as chatbot/guard_rules_harm.py: small letters, folded by ``lower_of`` like the text; no ``\\b`` next to scripts whose
vowel signs are not word characters (Devanagari, Thai).
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of

# Letters of the spaced scripts: a word from these lists must not be part of a longer word ("ia" in "familia").
# Escaped, because the patterns are folded like the text: a literal "а-я" would be read as "a-я".
_LETTER = r"a-z\u0430-\u044f\u0451\u0456\u0457\u0454\u0491\u03b1-\u03c9\u0142\u0131\u0111\u00df\u00f8\u00e6\u0153"


def near(a: str, b: str, gap: str = r"[^.?!\n]{0,60}?") -> str:
    """``a`` and ``b`` in either order, at most ``gap`` apart."""
    return rf"(?:{a}{gap}{b}|{b}{gap}{a})"


def near3(a: str, b: str, c: str, gap: str = r"[^.?!\n]{0,40}?") -> str:
    """``a``, ``b`` and ``c`` in any order, each at most ``gap`` from the next."""
    orders = ((a, b, c), (a, c, b), (b, a, c), (b, c, a), (c, a, b), (c, b, a))
    return "(?:" + "|".join(gap.join(order) for order in orders) + ")"


def anywhere(a: str, b: str) -> str:
    """``b``, in a text that has ``a`` anywhere (the match starts at the text's start)."""
    return rf"^(?=[\s\S]*?{a})[\s\S]*?{b}"


def whole(group: str) -> str:
    """``group`` as whole words where it is spelled in a spaced script (Chinese, Japanese or Thai need no space)."""
    return rf"(?<![{_LETTER}])(?:{group})(?![{_LETTER}])"


# The bot's instructions, rules or prompt.
_INSTR = (
    r"(?:instructions?|instrucciones|instrucoes|istruzioni|instructies|instruktion\w*|instrukcj\w*|instrukce|"
    r"instrukci\w*|instructiun\w*|anweisungen|vorgaben|consignes|directives|directrices|richtlijnen|riktlinjer\w*|"
    r"wytyczn\w*|pokyny|utasitas\w*|rules|regles|reglas|regras|regole|regeln|regels|regler\w*|regu(?:l|ł)\w*|zasad\w*|"
    r"pravidl\w*|szabaly\w*|kural\w*|talimat\w*|prompt\w*|guidelines|инструкци\w*|інструкці\w*|правил\w*|"
    r"οδηγιες|οδηγιων|κανονες|تعليمات\S*|التعليمات|قواعد\S*|القواعد|دستورالعمل\S*|دستورات\S*|قوانین\S*|הוראות\S*|"
    r"ההוראות\S*|הנחיות\S*|ההנחיות\S*|निर्देश\S*|नियम\S*|指示|指令|规则|規則|提示词|ルール|プロンプト|지시|지침|규칙|"
    r"프롬프트|คำสั่ง|กฎ|instruksi\w*|aturan\w*|huong\s+dan|quy\s+tac)"
)
# The instructions as the bot's own: given to it, original or initial, hidden, from its developers.
_OWN = (
    r"(?:given\s+to\s+you|you\s+(?:were|have\s+been)\s+given|you\s+(?:got|received)|from\s+(?:your|the)\s+"
    r"(?:developers|creators|makers|programmers)|before\s+(?:this|our)\s+(?:conversation|chat)|original|initial|"
    r"qu'on\s+(?:t|vous)'a\s+donne\w*|que\s+te\s+(?:dieron|han\s+dado|dio|deram)|dir\s+gegeben|du\s+(?:bekommen|"
    r"erhalten)|che\s+ti\s+(?:hanno|sono\s+stat\w)|die\s+je\s+(?:\w+\s+){0,4}?(?:hebt\s+)?gekregen|dosta(?:l|ł)(?:e|a)(?:s|ś)|otrzyma(?:l|ł)(?:e|a)(?:s|ś)|od\s+programist\w*|"
    r"разработчик\w*|розробник\w*|тебе\s+дали|тобі\s+дали|вам\s+дали|sana\s+verilen|gelistirici\w*|اعطيت|تلقيت|"
    r"المطور\S*|שקיבלת|שנתנו\s+לך|आपको\s+दिए|तुम्हें\s+दिए|给你的|你收到的|与えられた|받은|ที่ได้รับ|σου\s+δοθηκαν|"
    r"du\s+(?:har\s+)?fatt|ai\s+primit|kaptal|yang\s+diberikan|که\s+به\s+تو\s+داده|originales|iniciales|originali|"
    r"iniziali|originais|iniciais|ursprunglich\w*|oorspronkelijk\w*|originele|oryginaln\w*|pocz(?:a|ą)tkow\w*|"
    r"puvodni|исходн\w*|изначальн\w*|первоначальн\w*|вихідн\w*|початков\w*|orijinal|الاصلية|الأولية|המקוריות|मूल|"
    r"原始|初始|元の|最初の|원래|초기|ต้นฉบับ|ดั้งเดิม|αρχικ\w*|ursprungliga|eredeti|asli|ban\s+dau|goc|اصلی|اولیه|"
    r"internal|internas|internos|interne\w*|interni|wewn(?:e|ę)trzn\w*|внутренн\w*|внутрішн\w*|dahili|الداخلية|"
    r"hidden|secret|secret\w*|geheim\w*|segret\w*|secreto\w*|secreta\w*|tajn\w*|секретн\w*|הסודיות|הסודיים|"
    r"ocult\w*|nascost\w*|verborgen|versteckt\w*|ukryt\w*|скрыт\w*|прихован\w*|gizli|المخفية|"
    r"הנסתרות|छिपे|隐藏|隠された|숨겨진|ที่ซ่อน|skryt\w*|κρυφ\w*|dolda|ascuns\w*|rejtett|tersembunyi|an\s+giau|مخفی|"
    r"پنهان|jake\s+mas|ktere\s+mas)"
)
# "Your" before the noun, or after it (Indonesian, Greek, Hebrew, Persian, Thai, Vietnamese).
_YOUR = (
    r"(?:your|tes|vos|tus|deine\w*|tue|tuoi|suas|teus|tuas|jouw|twoje|twoich|swoje|swoich|свои|твои|ваши|свої|"
    r"твої|senin|آپ\s+کے|आपके|तुम्हारे|你的|あなたの|당신의|너의|tvoje|tve|sve|dina|tale|الخاصة\s+بك)"
)
_YOUR_AFTER = r"(?:\s+(?:kamu|anda|σου|שלך|خودت|ของคุณ|cua\s+ban)|mu\b)"
# Verbatim: the exact text wanted (strong words only: "exactly" alone is how customers ask about fees).
_VERBATIM = (
    r"(?:verbatim|word\s+for\s+word|raw\s+text|line\s+by\s+line|unabridged|mot\s+pour\s+mot|textuellement|"
    r"palabra\s+por\s+palabra|textualmente|literalmente|wortlich|wortwortlich|im\s+wortlaut|zeile\s+fur\s+zeile|"
    r"parola\s+per\s+parola|testualmente|letteralmente|palavra\s+por\s+palavra|letterlijk|woordelijk|ruwe\s+tekst|"
    r"regel\s+voor\s+regel|dos(?:l|ł)ownie|s(?:l|ł)owo\s+w\s+s(?:l|ł)owo|дословно|слово\s+в\s+слово|дослівно|"
    r"kelimesi\s+kelimesine|harfiyen|madde\s+madde|حرفيا|מילה\s+במילה|כלשונן|शब्दशः|हूबहू|原文|逐字|一字不差|原封不动|"
    r"一字一句|そのまま|一言一句|그대로|원문|ทุกคำ|คำต่อคำ|ตามตัวอักษร|doslova|slovo\s+od\s+slova|αυτολεξει|"
    r"κατα\s+λεξη|ordagrant|cuvant\s+cu\s+cuvant|szo\s+szerint|szorol\s+szora|kata\s+(?:per|demi)\s+kata|"
    r"nguyen\s+van|tung\s+chu|کلمه\s+به\s+کلمه|عینا|oldugu\s+gibi)"
)
# In full: weaker, so only with instructions marked as the bot's own.
_IN_FULL = (
    rf"(?:{_VERBATIM[3:-1]}|in\s+full|full\s+text|integralement|en\s+entier|texte\s+(?:brut|integral|complet)|"
    r"texto\s+(?:completo|integro)|sin\s+(?:cambios|modificar|resumir)|vollstandig\w*|ungekurzt|per\s+intero|"
    r"integralmente|testo\s+(?:completo|integrale)|na\s+integra|sem\s+(?:alteracoes|modificar|resumir)|volledig\w*|"
    r"w\s+ca(?:l|ł)o(?:s|ś)ci|bez\s+(?:skracania|zmian)|полностью|целиком|полн\w+\s+текст|без\s+(?:изменений|"
    r"сокращений)|повністю|повн\w+\s+текст|без\s+змін|eksiksiz|tamamini|aynen|كاملة|بالكامل|دون\s+تعديل|كما\s+هي|"
    r"במלואן|במלואו|ללא\s+שינוי|पूरे|पूरा|完整|全部|全文|전문|전부|ทั้งหมด|ครบถ้วน|cele|uplne|beze\s+zmen|"
    r"ολοκληρ\w*|i\s+sin\s+helhet|integral|teljes\w*|lengkap|seluruh\w*|day\s+du|toan\s+bo|کامل|بدون\s+تغییر|json)"
)
_FORBIDDEN = (
    r"(?:forbidden|prohibited|banned|not\s+(?:allowed|permitted)|non\s+(?:ti\s+)?e\s+permesso|mag\s+je\s+niet|niet\s+mag|"
    r"vietat\w*|proibit\w*|proibid\w*|prohibid\w*|interdit\w*|verboten\w*|"
    r"verbod\w*|zakazan\w*|zabronion\w*|запрещ\w*|заборон\w*|yasak\w*|ممنوع\S*|محظور\S*|אסור\S*|निषिद्ध|वर्जित|"
    r"禁止|禁じ|금지|ห้าม|απαγορευ\w*|forbjud\w*|interzis\w*|tilos|tiltott|dilarang|terlarang|bi\s+cam)"
)
_TOPICS = (
    r"(?:topics|subjects|argomenti|temi|temas|assuntos|sujets|themen|onderwerpen|tematy|temat(?:o|ó)w|темы|тем|"
    r"теми|konular\w*|مواضيع|المواضيع|נושאים|विषय|话题|主题|トピック|話題|주제|หัวข้อ|temata|θεματα|amnen|subiecte|"
    r"temak|topik|chu\s+de|موضوعات)"
)
_WORDING = (
    r"(?:exact\s+(?:words|wording)|wording|parole\s+esatte|formulazione|testo\s+esatto|mots\s+exacts|formulation|"
    r"palabras\s+exactas|redaccion|palavras\s+exatas|redacao|wortlaut|bewoording|brzmieni\w*|dok(?:l|ł)adne\s+"
    r"s(?:l|ł)owa|формулировк\w*|точн\w+\s+слов\w*|nasil\s+yazil\w*|الصياغة|הניסוח|सटीक\s+शब्द|原话|文言|문구|ถ้อยคำ|"
    r"presne\s+zneni|διατυπωση|formulering\w*|formularea|megfogalmaz\w*|kata-kata|عین\s+عبارت)"
)
_MODEL = (
    r"(?:model\s+name|name\s+of\s+the\s+model|welches\s+modell|quel\s+modele|que\s+modelo|quale\s+modello|"
    r"welk\s+model|jaki\s+model|hangi\s+model\w*|модел\w+,?\s+на\s+которой\s+ты|на\s+какой\s+модели|какая\s+(?:ты\s+)?"
    r"модель|(?:your|dein|deine[nm]?|ton|tu|tuo|il\s+tuo|seu|o\s+seu|jouw|je|"
    r"tw(?:o|ó)j|tw(?:o|ó)jego|твоя|твою|ваша|senin|σου)\s+(?:ai\s+|ki\s+|ia\s+|llm\s+)?(?:model|modell|modele|modelo|"
    r"modello|modelu|модель|модели)|(?:which|what)\s+(?:language|ai|llm|gpt)\s+model|nome\s+do\s+modelo|"
    r"nombre\s+del\s+modelo|nom\s+du\s+modele|modellname\w*|nome\s+del\s+modello|modelnaam|nazw\w+\s+modelu|"
    r"названи\w+\s+модели|назв\w+\s+моделі|model\s+adi\w*|اسم\s+النموذج|שם\s+המודל|मॉडल\s+का\s+नाम|模型名称|模型的名字|"
    r"モデル名|모델\s*이름|ชื่อโมเดล|nazev\s+modelu|ονομα\s+του\s+μοντελου|modellnamn|numele\s+modelului|modell\s+neve|"
    r"nama\s+model|ten\s+mo\s+hinh|نام\s+مدل)"
)
_VERSION = (
    r"(?:version\w*|versao|versione|versie|wersj\w*|верси\w*|surum\w*|الاصدار|גרסה|संस्करण|版本|バージョン|버전|"
    r"เวอร์ชัน|verze|εκδοση|versiune\w*|verzi\w*|versi|phien\s+ban|نسخه)"
)
_CUTOFF = (
    r"(?:cut-?off|corte|coupure|\w*stichtag|\w*wissensstand|taglio|odci(?:e|ę)cia|отсечк\w*|срез\w*|kesme|"
    r"انقطاع|截止|カットオフ|컷오프)"
)
_TRAINING = (
    r"(?:training|knowledge|treinamento|entrenamiento|entrainement|connaissances|addestramento|conoscenz\w*|"
    r"trening\w*|wiedzy|обучени\w*|знани\w*|навчанн\w*|egitim\w*|التدريب|المعرفة|אימון|הידע|प्रशिक्षण|训练|知识|学習|"
    r"知識|학습|훈련|지식|การฝึก|treninku|εκπαιδευσ\w*|traning\w*|antrenament\w*|tanitas\w*|pelatihan|huan\s+luyen|آموزش)"
)
_TOOLS = (
    r"(?:tools|functions|werkzeuge|funktionen|ferramentas|herramientas|outils|fonctions|strumenti|funzioni|funcoes|"
    r"funciones|"
    r"verktyg|funktioner\w*|narz(?:e|ę)dzi\w*|funkcj\w*|инструмент\w*|функци\w*|інструмент\w*|функці\w*|arac\w*|"
    r"fonksiyon\w*|الأدوات|الادوات|الدوال|כלים|פונקציות|उपकरण|टूल|工具|函数|ツール|関数|도구|함수|เครื่องมือ|"
    r"nastroj\w*|funkce|εργαλεια|instrumente|eszkoz\w*|cong\s+cu|ابزار\S*)"
)
_CALL = (
    r"(?:call|invoke|aufrufen|chamar|invocar|appeler|richiamare|invocare|aanroepen|anropa|wywo(?:l|ł)a\w*|"
    r"вызва\w*|вызыва\w*|виклика\w*|cagir\w*|استدعاء|לקרוא|调用|呼び出|호출|เรียกใช้|volat|καλεσ\w*|apela|meghiv\w*|"
    r"memanggil|فراخوانی)"
)
_INTERNAL = (
    r"(?:internal|internas|internos|interne\w*|interni|intern|wewn(?:e|ę)trzn\w*|внутренн\w*|внутрішн\w*|dahili|"
    r"الداخلية|פנימיים|आंतरिक|内部|내부|ภายใน|εσωτερικ\w*|interna|belso|noi\s+bo|داخلی)"
)

_INSTR, _OWN, _YOUR, _VERBATIM, _IN_FULL, _FORBIDDEN, _TOPICS, _WORDING = map(
    whole, (_INSTR, _OWN, _YOUR, _VERBATIM, _IN_FULL, _FORBIDDEN, _TOPICS, _WORDING)
)
INSTR = _INSTR  # also what chatbot/guard_rules_roles.py reads as the bot's rules
_MODEL, _VERSION, _CUTOFF, _TRAINING, _TOOLS, _CALL, _INTERNAL = map(
    whole, (_MODEL, _VERSION, _CUTOFF, _TRAINING, _TOOLS, _CALL, _INTERNAL)
)

_EXTRACTION = (
    # The bot's own instructions with the exact text wanted, in either order.
    anywhere(
        _IN_FULL,
        near(rf"(?:{_OWN}[^.?!\n]{{0,40}}?{_INSTR}|{_INSTR}[^.?!\n]{{0,60}}?{_OWN})", _IN_FULL, r"[^\n]{0,150}?"),
    ),
    anywhere(
        _VERBATIM, near(rf"(?:{_YOUR}\s+(?:\w+\s+){{0,2}}?{_INSTR}|{_INSTR}{_YOUR_AFTER})", _VERBATIM, r"[^\n]{0,150}?")
    ),
    # The ones it is not to tell customers ("i ty, které nemáš zákazníkům říkat").
    r"(?:you(?:'re|\s+are)\s+not\s+(?:supposed|allowed|meant)\s+to|you\s+(?:must|should)(?:n'?t|\s+not)|nemas|nesmis|"
    r"tu\s+ne\s+dois\s+pas|no\s+(?:debes|puedes)|non\s+(?:devi|puoi)|nao\s+(?:deve|pode)|je\s+niet\s+mag|nie\s+"
    r"mo(?:z|ż)esz|ты\s+не\s+должен|тебе\s+нельзя|ти\s+не\s+повинен)\s+(?:\w+\s+)?(?:tell|say|reveal|share|disclose|"
    r"rikat|sdelovat|dire|reveler|decir|revelar|dizer|contar|vertellen|zeggen|m(?:o|ó)wi(?:c|ć)|говорить|сообщать|"
    r"рассказывать|казати)\s+(?:\w+\s+)?(?:to\s+)?(?:customers|clients|users|zakaznikum|aux\s+clients|a\s+los\s+"
    r"clientes|ai\s+clienti|aos\s+clientes|klanten|klientom|клиентам|клієнтам)|\btidak\s+boleh\s+(?:kamu\s+|anda\s+)?"
    r"(?:sampaikan|beritahu\w*|katakan|bagikan)\s+(?:ke|kepada)\s+(?:nasabah|pelanggan)|zakaznikum\s+(?:nemas|nesmis)\s+"
    r"(?:rikat|sdelovat)|\b(?:kunden|klanten)\s+nicht\s+(?:sagen|verraten)\s+(?:darfst|sollst)",
    # Forbidden topics with the wording of the ban.
    anywhere(_FORBIDDEN, near(near(_FORBIDDEN, _TOPICS), rf"(?:{_WORDING}|{_VERBATIM})", r"[^\n]{0,150}?")),
    # Its model name with a version or cut-off; the cut-off of its training; who built it, its codename.
    anywhere(_MODEL, near(_MODEL, rf"(?:{_VERSION}|{_CUTOFF}|{_TRAINING})", r"[^\n]{0,80}?")),
    anywhere(_CUTOFF, near(_CUTOFF, _TRAINING, r"[^.?!\n]{0,30}?")),
    r"\b(?:which|what)\s+(?:vendor|company|provider|supplier)\s+(?:built|made|developed|trained|supplies|created)\s+"
    r"you\b|\b(?:internal|secret)\s+(?:project\s+)?code\s?name\b",
    # The tools or functions it can call, its internal ones, their exact names and parameters.
    anywhere(_TOOLS, near(_TOOLS, _CALL)),
    rf"{_INTERNAL}\s+(?:\w+\s+)?{_TOOLS}|{_TOOLS}\s+(?:\w+\s+)?{_INTERNAL}|\b(?:exact|exakte\w*|genauen?|exacte?s?)"
    r"\s+(?:names?|namen|nombres|noms|nomi|nomes|namn)\b[^.?!]{0,40}\b(?:parameters?|parametern?|parametros|"
    r"parametres|parametri)\b|\bfunktion(?:en)?\s+som\s+(?:slar|letar)\s+upp\b",
)

SETUP_INTL_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (("prompt_extraction", lower_of(*_EXTRACTION)),)
