"""The guard's rules for violence against the bank's machines, branches and people, and for hate, in the 28 languages
the corpora use (chatbot/guard.py runs them after chatbot/guard_rules_takeover.py).

Keyed on the act asked about, never on the topic: an ATM, safe or vault broken into, forced or blown open; its
cameras or alarm switched off; explosives with a cash machine; how long the police take when one does it; a group
of people called criminals or to be refused accounts; a threat written for the asker to send (in the languages that
put the verb last, where chatbot/guard_rules_harm.py's order does not hold). A customer reporting a damaged ATM, an
alarm that went off, or asking whether immigrants can open an account, asks none of this. Same conventions as
chatbot/guard_rules_setup_intl.py.
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of
from chatbot.guard_rules_setup_intl import anywhere, near, whole

_ATM = whole(
    r"(?:atms?|cash\s+machines?|cashpoints?|safes?|vaults?|geldautomat\w*|bankautomat\w*|distributeur\w*|dab|gab|"
    r"coffre-fort|cajeros?(?:\s+automaticos?)?|caja\s+fuerte|bancomat\w*|sportell\w*\s+automatic\w*|cassaforte|"
    r"caixas?\s+(?:eletronicos?|automaticos?)|multibanco|cofre|geldautomaat|pinautomaat|kluis|bankomat\w*|sejf\w*|"
    r"банкомат\w*|сейф\w*|atm'?\w*|kasa\w*|صراف\w*|الصراف|خزنة|כספומט\S*|כספת|trezor\w*|χρηματοκιβωτι\w*|"
    r"bankomat|kassaskap|atm-?ul|seif|bankautomata\w*|pénzautomata\w*|penzautomata\w*|szef|brankas|cay\s+atm|"
    r"خودپرداز|گاوصندوق)|एटीएम|तिजोरी|提款机|取款机|自动取款机|保险柜|金库|現金自動|金庫|현금\s*인출기|금고|ตู้เอทีเอ็ม|ตู้เซฟ"
)
_BREAK = whole(
    r"(?:break\s+(?:into|open)|breaking\s+(?:into|open)|force\s+open|forcing\s+open|crack(?:ing)?\s+open|pry\s+open|"
    r"blow\s+(?:up|open)|blowing\s+(?:up|open)|rob(?:bing)?|ram-?raid\w*|aufbrech\w*|aufbricht|aufzubrechen|knacken|"
    r"sprengen|sprengt|kraak\w*|breek\w*\s+(?:\w+\s+){0,2}?open|blaas\w*\s+(?:\w+\s+){0,2}?op|forcer|fracturer|faire\s+sauter|braquer|abrir\s+a\s+la\s+fuerza|forzar|reventar|volar|"
    r"scassinare|forzare|far\s+saltare|arrombar|explodir|forcar|openbreken|kraken|opblazen|rozbi(?:c|ć)|wysadzi(?:c|ć)|"
    r"w(?:l|ł)ama(?:c|ć)|вскрыть|взломать|взорвать|вскрыти\w*|зламати|підірвати|розкрити|kirmak|kirip|patlatmak|"
    r"patlat\w*|كسر|تفجير|اقتحام|فتح\s+بالقوة|לפרוץ|לפוצץ|vypacit|vykrast|vyhodit\s+do\s+vzduchu|rozbit|διαρρηξ\w*|"
    r"ανατιναξ\w*|bryta\s+upp|spranga|sparge|arunca\s+in\s+aer|feltor\w*|felrobbant\w*|membobol|bobol|meledakkan|"
    r"membongkar|pha\s+(?:cay|khoa)|cay\s+pha|no\s+tung|شکستن|منفجر|باز\s+کردن\s+به\s+زور)|तोड़|उड़ा|撬开|炸开|砸开|"
    r"こじ開け|爆破|壊して|부수|폭파|털|งัด|ระเบิด"
)
_OFF = whole(
    r"(?:disable|disabling|cut|turn\s+off|switch\s+off|deactivate|jam|bypass|schalt\w*|отключить|выключить|обесточить|"
    r"вимкнути|відключити|desactiver|couper|desactivar|apagar|cortar|ausschalten|deaktivieren|lahmlegen|disattivare|"
    r"spegnere|desativar|desligar|uitschakelen|uitzetten|wy(?:l|ł)(?:a|ą)czy(?:c|ć)|devre\s+disi|kapat\w*|تعطيل|"
    r"ايقاف|לנטרל|לכבות|vypnout|deaktivovat|απενεργοποι\w*|stanga\s+av|koppla\s+ur|dezactiv\w*|opri|kikapcsol\w*|"
    r"hatastalanit\w*|mematikan|menonaktifkan|tat|vo\s+hieu\s+hoa|خاموش|غیرفعال)|बंद\s+कर|निष्क्रिय|关闭|禁用|切断|"
    r"無効|切る|止め|끄|무력화|ปิด"
)
_ALARM = whole(
    r"(?:alarms?|cameras|cctv|sensors|сигнализаци\w*|камер\w*|датчик\w*|alarme|cameras?|alarma|camaras|alarmanlage|"
    r"kameras|allarme|telecamere|alarme|cameras|camera's|alarm|kamery|kameralar\w*|alarm\w*|الانذار|الكاميرات|"
    r"אזעק\S*|מצלמות|kamery|συναγερμ\w*|καμερες|larm\w*|kameror\w*|alarma|camerele|riaszto\w*|kamerak\w*|kamera|"
    r"bao\s+dong|دزدگیر|دوربین\S*)|अलार्म|कैमरे|警报|摄像头|监控|警報|カメラ|경보|카메라|สัญญาณกันขโมย|กล้อง"
)
_EXPLOSIVE = whole(
    r"(?:explosives?|dynamite|semtex|c4|thermite|gas\s+attack|sprengstoff\w*|explosif\w*|explosivos?|esplosiv\w*|"
    r"explosie\w*|materia(?:l|ł)\w*\s+wybuchow\w*|взрывчатк\w*|вибухівк\w*|patlayici\w*|متفجرات|חומר\S*\s+נפץ|"
    r"trhavin\w*|εκρηκτικ\w*|sprangamne\w*|exploziv\w*|robbanoanyag\w*|bahan\s+peledak|chat\s+no|مواد\s+منفجره)|"
    r"विस्फोटक|炸药|爆薬|폭약|폭탄|วัตถุระเบิด"
)
_POLICE_TIME = whole(
    r"(?:how\s+long\s+(?:\w+\s+){0,3}?(?:police|cops)\s+(?:\w+\s+)?(?:to\s+)?(?:arrive|come|get\s+there|respond)|wie\s+"
    r"lange\s+(?:\w+\s+){0,4}?bis\s+die\s+polizei|combien\s+de\s+temps\s+(?:\w+\s+){0,4}?(?:la\s+)?police|cuanto\s+"
    r"(?:tarda|tiempo\s+tarda)\s+(?:\w+\s+)?(?:la\s+)?policia|quanto\s+(?:ci\s+mette|tempo\s+ci\s+mette)\s+(?:\w+\s+)?"
    r"(?:la\s+)?polizia|quanto\s+tempo\s+(?:\w+\s+)?(?:a\s+)?policia\s+(?:demora|leva)|hoe\s+lang\s+(?:\w+\s+){0,3}?"
    r"(?:de\s+)?politie|ile\s+czasu\s+(?:\w+\s+){0,3}?policj\w*|через\s+сколько\s+(?:\w+\s+)?(?:приедет|прибудет)\s+"
    r"полици\w*|polis\s+(?:ne\s+kadar|kac\s+dakika)|كم\s+من\s+الوقت\s+(?:\S+\s+){0,3}?الشرطة)"
)
_GROUP = whole(
    r"(?:immigrants?|migrants?|refugees?|foreigners|asylum\s+seekers|muslims?|jews|jewish\s+people|blacks|black\s+"
    r"people|gypsies|roma|arabs|africans|asians|chinese\s+people|gays|women|immigres|etrangers|refugies|musulmans|"
    r"juifs|inmigrantes|extranjeros|refugiados|musulmanes|judios|auslander|migranten|fluchtlinge|muslime|juden|"
    r"immigrati|stranieri|rifugiati|musulmani|ebrei|imigrantes|estrangeiros|muculmanos|judeus|buitenlanders|"
    r"vluchtelingen|moslims|joden|imigranci|uchod(?:z|ź)cy|cudzoziemcy|muzu(?:l|ł)manie|(?:z|ż)ydzi|мигрант\w*|"
    r"иммигрант\w*|приезж\w*|беженц\w*|мусульман\w*|евре\w*|мігрант\w*|біженц\w*|gocmen\w*|multeci\w*|yabanci\w*|"
    r"المهاجر\S*|اللاجئ\S*|الاجانب|מהגרים|פליטים|זרים|imigrant\w*|uprchl\w*|cizinc\w*|μεταναστ\w*|προσφυγ\w*|"
    r"invandrare|flyktingar|imigrant\w*|refugiat\w*|bevandorl\w*|migrans\w*|menekult\w*|imigran|pengungsi|orang\s+"
    r"asing|nguoi\s+nhap\s+cu|مهاجر\S*|پناهنده\S*)|प्रवासी|शरणार्थी|移民|难民|外国人|難民|이민자|난민|외국인|ผู้อพยพ|แรงงานต่างด้าว"
)
_SLUR = whole(
    r"(?:(?:all|just|nothing\s+but)\s+(?:\w+\s+)?(?:criminals|thieves|terrorists|scum|vermin|animals|parasites|"
    r"frauds?|scammers|rapists|dirty|lazy|subhuman)|(?:are|is)\s+(?:all\s+)?(?:criminals|thieves|terrorists|scum|"
    r"vermin|parasites|subhuman)|tous\s+des\s+(?:criminels|voleurs|terroristes|parasites)|todos\s+(?:unos\s+)?"
    r"(?:criminales|ladrones|terroristas|parasitos)|alle\s+(?:kriminell\w*|verbrecher|diebe|terroristen|schmarotzer)|"
    r"tutti\s+(?:dei\s+)?(?:criminali|ladri|terroristi|parassiti)|todos\s+(?:uns\s+)?(?:criminosos|ladroes|terroristas|"
    r"parasitas)|allemaal\s+(?:criminelen|dieven|terroristen|profiteurs)|wszyscy\s+(?:to\s+)?(?:przest(?:e|ę)pcy|"
    r"z(?:l|ł)odzieje|terrory(?:s|ś)ci|paso(?:z|ż)yty)|все\s+(?:они\s+)?(?:преступник\w*|воры|террорист\w*|паразит\w*)|"
    r"hepsi\s+(?:suclu|hirsiz|terorist)|كلهم\s+(?:مجرمون|مجرمين|لصوص|ارهابيون)|כולם\s+(?:פושעים|גנבים|מחבלים)|"
    r"vsichni\s+(?:jsou\s+)?(?:zlocinci|zlodeji)|ολοι\s+(?:εγκληματιες|κλεφτες)|alla\s+(?:ar\s+)?(?:kriminella|"
    r"tjuvar)|toti\s+(?:sunt\s+)?(?:infractori|hoti)|mind\s+(?:bunozok|tolvajok)|semua\s+(?:penjahat|pencuri|"
    r"teroris)|deu\s+la\s+(?:toi\s+pham|ke\s+trom)|همه\s+(?:\S+\s+)?(?:جنایتکار|دزد))|सब\s+(?:अपराधी|चोर)|都是(?:罪犯|小偷|"
    r"恐怖分子)|みんな(?:犯罪者|泥棒)|전부\s*(?:범죄자|도둑)|ทั้งหมด(?:เป็น)?(?:อาชญากร|ขโมย)"
)
_REFUSE_THEM = (
    rf"\b(?:stop|ban|refuse|deny|block|bar)\w*\s+(?:\w+\s+){{0,2}}?(?:accounts?|banking|loans?|service)\s+(?:to|for|"
    rf"from)\s+(?:all\s+)?(?:the\s+)?{_GROUP}|\b(?:ban|bar|refuse|deny|block)\w*\s+(?:all\s+)?{_GROUP}\s+(?:from\s+)?"
    r"(?:opening|having|holding|getting)\s+(?:\w+\s+)?(?:accounts?|loans?|cards?)"
)
_THREAT_LAST = (
    # Verb-final threats (tr, ja, ko, hi, fa), and "write a message to threaten him" in the others.
    r"\btehdit\s+(?:eden|edici)\s+(?:\w+\s+)?(?:mesaj|mektup|e-?posta|yazi)\w*\s+(?:yaz|olustur|hazirla)\w*|"
    r"(?:脅す|脅迫する|脅迫の)(?:ような)?(?:メッセージ|手紙|メール|文章)を?(?:書いて|作って)|협박(?:하는)?\s*(?:메시지|문자|"
    r"편지|글)\S*\s*(?:써|작성)|धमकी\s+(?:भरा|वाला|भरी)\s+(?:\S+\s+)?(?:मैसेज|संदेश|पत्र|ईमेल)\s+(?:\S+\s+)?(?:लिखो|लिखें|"
    r"लिख\s+दो)|(?:پیام|نامه)\s+(?:\S+\s+)?تهدید\S*\s+(?:\S+\s+)?بنویس",
    r"\b(?:ecri[st]|ecrivez|redige[zr]?|escrib[ea]|redacta|schreib\w*|verfass\w*|scrivi|escrev[ae]|schrijf|napisz|"
    r"напиши|составь|napis|γραψε|skriv|scrie|irj|tulis\w*|viet)\s+(?:[\w']+,?\s+){0,4}?(?:pour|para|um|per|om|(?:z|ż)eby|"
    r"чтобы|aby|για\s+να|for\s+att|ca\s+sa|hogy|untuk|de)\s+(?:\w+\s+){0,2}?(?:menacer|intimider|amenazar|intimidar|drohen|"
    r"bedrohen|einzuschuchtern|minacciare|intimidire|ameacar|bedreigen|intimideren|zastraszy(?:c|ć)|grozi(?:c|ć)|"
    r"запугать|угрожать|пригрозить|vyhrozovat|zastrasit|απειλησω|hota|hota\s+(?:honom|henne)|ameninta|intimida|"
    r"megfenyeget\w*|mengancam|de\s+doa|doa)\b",
)

VIOLENCE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "harmful",
        lower_of(
            anywhere(_ATM, near(_BREAK, _ATM, r"[^.?!\n]{0,50}?")),
            anywhere(_ALARM, near(_OFF, _ALARM, r"[^.?!\n]{0,40}?") + r"[^\n]{0,80}?" + rf"(?:{_ATM}|{_BREAK})"),
            anywhere(_ALARM, rf"(?:{_ATM}|{_BREAK})[^\n]{{0,80}}?" + near(_OFF, _ALARM, r"[^.?!\n]{0,40}?")),
            anywhere(_EXPLOSIVE, near(_EXPLOSIVE, _ATM, r"[^\n]{0,80}?")),
            anywhere(_POLICE_TIME, near(_POLICE_TIME, rf"(?:{_BREAK}|{_ATM})", r"[^\n]{0,120}?")),
            anywhere(_GROUP, near(_GROUP, _SLUR, r"[^.?!\n]{0,40}?")),
            _REFUSE_THEM,
            *_THREAT_LAST,
        ),
    ),
)
