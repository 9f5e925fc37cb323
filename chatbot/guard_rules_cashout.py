"""The guard's rules for fraud by the customer against the bank or for criminals: documents doctored for a loan, scam
money cashed out before the bank can stop it, cash paid in so the bank does not notice or report it, a dispute of a
payment the asker made, a story to have a transfer reversed while the payee keeps it, money mules recruited, and the
transactions the bank's monitoring misses (chatbot/guard.py runs them after chatbot/guard_rules_roles.py).

Each family is keyed on the asker's goal in the 28 languages the corpora use, not on topic words: a payslip is
*edited* (infinitive or "can I", never "my employer changed it") for a lender who must not notice; money is taken out
*before* the bank or the victim can block or recall it, with scam money named; the bank must *not notice or report*
(never "not block": a traveller asks that); a refund is wanted *although I made it myself* (never by a victim who was
tricked into it); a mule advert is asked for by its author. Victims, worried parents and customers who ask how these
scams work ask none of this. Same conventions as chatbot/guard_rules_setup_intl.py.
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of
from chatbot.guard_rules_setup_intl import anywhere, near, whole

# A document a lender reads, and it edited by the asker (infinitives, "can I" forms: never a past tense).
_DOC = whole(
    r"(?:payslips?|pay\s*slips?|pay\s+stubs?|bank\s+statements?|p60s?|tax\s+returns?|employment\s+letter|fiches?\s+de\s+"
    r"paie|bulletins?\s+de\s+(?:paie|salaire)|releves?\s+(?:bancaires?|de\s+compte)|avis\s+d'imposition|nominas?|"
    r"recibos?\s+de\s+sueldo|extractos?\s+bancarios?|gehaltsabrechnung\w*|lohnabrechnung\w*|lohnzettel\w*|"
    r"kontoauszug\w*|steuerbescheid\w*|bust[ae]\s+paga|cedolin[oi]|estratt[oi]\s+conto|holerites?|contracheques?|"
    r"recibos?\s+de\s+vencimento|extratos?\s+bancarios?|loonstro(?:o)?k\w*|salarisstro(?:o)?k\w*|bankafschrift\w*|"
    r"jaaropgave\w*|pas\w*\s+wyp(?:l|ł)at\w*|odcin\w*\s+wyp(?:l|ł)at\w*|za(?:s|ś)wiadczeni\w+\s+o\s+"
    r"zarobkach|wyci(?:a|ą)g\w*\s+bankow\w*|справк\w*\s+о\s+доход\w*|2-ндфл|расчетн\w+\s+лист\w*|выписк\w*|"
    r"довідк\w*\s+про\s+доход\w*|виписк\w*|maas\s+bordro\w*|bordro\w*|banka\s+ekstre\w*|hesap\s+dokum\w*|كشف\s+الراتب|"
    r"قسيمة\s+الراتب|كشف\s+الحساب|תלוש\S*\s+(?:ה)?שכר|דף\s+חשבון|vyplatn\w+\s+pask\w*|potvrzeni\s+o\s+prijmu|vypis\w*\s+z"
    r"\s+uctu|μισθοδοσι\w*|εκκαθαριστικ\w*|lonespecifikation\w*|lonebesked|kontoutdrag|flutura\w*\s+de\s+salariu|"
    r"adeverint\w*\s+de\s+venit|extras\w*\s+de\s+cont|berpapir\w*|jovedelemigazolas\w*|szamlakivonat\w*|slip\s+gaji|"
    r"rekening\s+koran|phieu\s+luong|bang\s+luong|sao\s+ke|فیش\s+حقوقی|گواهی\s+حقوق)|सैलरी\s+स्लिप|वेतन\s+पर्ची|"
    r"工资单|工资条|银行流水|收入证明|給与明細|源泉徴収票|급여\s*명세서|월급\s*명세서|소득\s*증명|สลิปเงินเดือน|"
    r"หนังสือรับรองเงินเดือน"
)
_EDIT = whole(
    r"(?:(?:can|could|should|shall)\s+i\s+(?:just\s+)?(?:edit|change|alter|tweak|modify|doctor|photoshop|adjust|fudge|"
    r"inflate|bump\s+up|increase|update)|(?:how\s+(?:do|can|could|would)\s+i|i\s+(?:want|need|plan|'d\s+like)\s+to|"
    r"help\s+me|is\s+it\s+(?:ok|okay|possible)\s+to)\s+(?:edit|change|alter|tweak|modify|doctor|photoshop|adjust|"
    r"fudge|inflate|bump\s+up|increase)|modifier|changer|retoucher|trafiquer|gonfler|falsifier|modificar|cambiar|"
    r"alterar|retocar|editar|inflar|falsificar|andern|bearbeiten|anpassen|falschen|frisieren|manipulieren|modificare|"
    r"cambiare|alterare|ritoccare|falsificare|gonfiare|aumentar|mudar|aanpassen|veranderen|wijzigen|bewerken|"
    r"vervalsen|opkrikken|zmieni(?:c|ć)|edytowa(?:c|ć)|przerobi(?:c|ć)|podrobi(?:c|ć)|zawy(?:z|ż)y(?:c|ć)|"
    r"podbi(?:c|ć)|изменить|исправить|подделать|подправить|отредактировать|завысить|нарисовать|змінити|"
    r"підробити|підправити|відредагувати|degistir\w*|duzenle\w*|sisir\w*|تعديل|تغيير|تزوير|לשנות|לערוך|לזייף|"
    r"upravit|zmenit|zfalsovat|prepsat|αλλαξω|επεξεργαστω|πλαστογραφησω|andra|redigera|fejka|forfalska|"
    r"modific\w*|schimb\w*|falsific\w*|umfla|modosit\w*|atir\w*|meghamisit\w*|megvaltoztat\w*|ubah|edit|palsukan|"
    r"manipulasi|naikkan|sua\s+doi|chinh\s+sua|lam\s+gia|تغییر|ویرایش|جعل|دستکاری)|बदल|एडिट|修改|改一下|伪造|改ざん|"
    r"書き換え|水増し|偽造|수정|조작|위조|고치|แก้|ปลอม|ตัดต่อ"
)
# What is edited: the figures, or in a way a lender must not notice (an address corrected is neither).
_FIGURES = whole(
    r"(?:numbers|figures|amounts?|salary|income|wages?|earnings|balance|totals?|net\s+pay|gross\s+pay|pdf\s+editor|"
    r"photoshop|acrobat|underwriters?\s+(?:\w+\s+)?notice|(?:will|would|could)\s+(?:you|they|your\s+\w+|the\s+(?:bank|"
    r"lender))\s+(?:\w+\s+)?(?:notice|spot|catch|detect|find\s+out|tell)|chiffres|montants?|salaire|revenus?|solde|"
    r"cifras|cantidades|importes?|sueldo|salario|ingresos|saldo|zahlen|betrag|betrage|gehalt|einkommen|lohn|numeri|"
    r"cifre|importi|stipendio|reddito|numeros|valores|renda|rendimento|cijfers|bedragen|salaris|inkomen|loon|liczby|"
    r"kwot\w*|pensj\w*|wynagrodzeni\w*|doch(?:o|ó)d\w*|цифр\w*|сумм\w*|зарплат\w*|доход\w*|сум\w*|rakam\w*|tutar\w*|"
    r"maas\w*|gelir\w*|الارقام|المبلغ|الراتب|الدخل|המספרים|הסכום|השכר|cisla|castk\w*|plat|prijem|αριθμ\w*|ποσ\w*|"
    r"μισθ\w*|εισοδημα|siffror\w*|belopp\w*|lon|inkomst\w*|salariu\w*|venit\w*|szamok\w*|osszeg\w*|fizetes\w*|"
    r"jovedelem\w*|angka|jumlah|gaji|penghasilan|con\s+so|so\s+tien|luong|thu\s+nhap|ارقام|مبلغ|حقوق|درآمد)|अंक|रकम|"
    r"वेतन|सैलरी|आय|数字|金额|工资|收入|金額|給料|収入|숫자|금액|급여|월급|소득|ตัวเลข|ยอด|เงินเดือน|รายได้"
)
_DOCTORED = (
    anywhere(
        _DOC, near(rf"(?:{_EDIT}[^.?!\n]{{0,60}}?{_DOC}|{_DOC}[^.?!\n]{{0,60}}?{_EDIT})", _FIGURES, r"[^\n]{0,150}?")
    ),
    anywhere(_DOC, rf"{_EDIT}[^.?!\n]{{0,40}}?{_FIGURES}[^.?!\n]{{0,40}}?{_DOC}"),
    anywhere(
        _DOC,
        r"\b(?:doctor|falsify|forge|fake|fudge|photoshop|tamper\s+with|fiddle(?:\s+with)?|cook)\w*\s+(?:[\w']+\s+){0,4}?"
        + _DOC,
    ),
)

# Scam money named, and money taken out before the bank or the victim can stop it.
_SCAM = whole(
    r"(?:scam\w*|stolen|fraud\w*|victims?|dirty\s+money|golpe|golpista|vitima|roubad\w*|roubo|estafa|robad\w*|victima|arnaque|"
    r"escroquerie|vole|victime|betrug\w*|gestohlen\w*|opfer|truffa|rubat\w*|vittima|oplichting|gestolen|slachtoffer|"
    r"oszust\w*|kradzion\w*|ofiar\w*|мошенн\w*|украден\w*|жертв\w*|шахрай\w*|вкраден\w*|dolandir\w*|calinti|magdur|"
    r"احتيال|مسروق\S*|ضحية|הונאה|גנוב\S*|קורבן|podvod\w*|ukraden\w*|obet\w*|απατη|κλεμμεν\w*|θυμα|bedrageri|stulna|"
    r"frauda|furat\w*|csalas|lopott|aldozat|penipuan|curian|korban|lua\s+dao|danh\s+cap|nan\s+nhan|کلاهبرداری|"
    r"دزدی|قربانی)|धोखाधड़ी|चोरी|ठगी|诈骗|骗来|赃款|詐欺|盗ん|사기|훔친|피해자|โกง|ขโมย|เหยื่อ"
)
_TAKE_OUT_BEFORE = (
    r"\b(?:withdraw|cash\s+(?:it\s+)?out|take\s+(?:it\s+)?out|move|get)\b[^.?!\n]{0,60}\bbefore\s+(?:the\s+(?:bank|"
    r"victim|sender|owner)(?:'s)?|you|they|anyone|it\s+gets)\s+(?:\w+\s+)?(?:block\w*|freez\w*|froze|notic\w*|revers\w*|"
    r"recall\w*|flag\w*|catch\w*|lock\w*|report\w*)",
    r"\b(?:sacar|saco|sacarlo|retirar|retiro|transferir|tirar|tiro|mover|muevo)\b[^.?!\n]{0,60}\bantes\s+(?:que|de)\s+(?:que\s+)?(?:o\s+banco|el\s+banco|"
    r"voces|ustedes|eles|ellos|a\s+vitima|la\s+victima)\s+(?:\w+\s+)?(?:bloque\w*|perceb\w*|estorn\w*|congel\w*|"
    r"descubr\w*|se\s+de\s+cuenta|revierta\w*|detecte\w*)|\b(?:retirer|sortir|transferer|virer|encaisser)\b"
    r"[^.?!\n]{0,60}\bavant\s+que\s+(?:la\s+banque|vous|ils|la\s+victime)\s+(?:ne\s+)?(?:\w+\s+)?(?:bloque\w*|gele\w*|"
    r"remarque\w*|s'en\s+rende|annule\w*)|\b(?:abheben|abziehen|uberweisen|auszahlen)\b[^.?!\n]{0,60}\bbevor\s+"
    r"(?:die\s+bank|sie|ihr|das\s+opfer)\s+(?:\w+\s+)?(?:sperrt|einfriert|merkt|zuruckholt|blockiert)|\b(?:prelevare|"
    r"ritirare|spostare|trasferire|incassare)\b[^.?!\n]{0,60}\bprima\s+che\s+(?:la\s+banca|voi|loro|la\s+vittima)\s+"
    r"(?:\w+\s+)?(?:blocc\w*|congel\w*|se\s+ne\s+accorga|annull\w*|stor\w*)|\b(?:opnemen|wegzetten|overmaken|"
    r"pinnen|haal|halen)\b[^.?!\n]{0,60}\bvoordat\s+(?:de\s+bank|jullie|zij|het\s+slachtoffer)\s+(?:\w+\s+)?(?:blokkeert|"
    r"bevriest|merkt|terugdraait)",
    r"\b(?:wyp(?:l|ł)aci(?:c|ć)|przela(?:c|ć)|wyci(?:a|ą)gn(?:a|ą)(?:c|ć))\b[^.?!\n]{0,60}\bzanim\s+(?:bank|wy|oni|"
    r"ofiara)\s+(?:\w+\s+)?(?:zablokuje|zamrozi|zauwa(?:z|ż)y|cofnie)|(?:снять|вывести|обналичить|перевести)"
    r"[^.?!\n]{0,60}(?:до\s+того,?\s+как|пока|прежде\s+чем)\s+(?:банк|вы|они|жертва)\s+(?:\w+\s+)?(?:не\s+)?"
    r"(?:заблокир\w*|замороз\w*|замет\w*|верн\w*)|(?:зняти|вивести|переказати|обготівкувати)[^.?!\n]{0,60}(?:до\s+"
    r"того,?\s+як|поки|перш\s+ніж)\s+(?:банк|ви|вони)\s+(?:\w+\s+)?(?:не\s+)?(?:заблок\w*|замороз\w*|поміт\w*)|"
    r"\b(?:banka|siz)\w*\s+(?:\w+\s+)?(?:bloke\s+etmeden|dondurmadan|fark\s+etmeden|engellemeden)\s+(?:once\s+)?"
    r"(?:\w+\s+){0,3}?(?:cek\w*|aktar\w*|nakde\s+cevir\w*)|(?:اسحب|سحب|اخرج|احول|تحويل)\S*\s+(?:\S+\s+){0,5}?قبل\s+"
    r"ان\s+(?:يحظر|يجمد|يوقف|يلاحظ|يكتشف|يغلق)\S*|(?:למשוך|להוציא|להעביר)\s+(?:\S+\s+){0,5}?לפני\s+ש(?:הבנק|אתם)\s+"
    r"(?:\S+\s+)?(?:יחסום|יקפיא|ישים\s+לב|יגלה)",
    r"(?:निकाल|ट्रांसफर)\S*\s+(?:\S+\s+){0,5}?(?:बैंक\s+(?:के\s+)?(?:ब्लॉक|फ्रीज|पकड़)\S*\s+(?:करने\s+)?से\s+पहले|"
    r"इससे\s+पहले\s+कि\s+बैंक)|(?:在|趁)银行(?:冻结|封|发现|拦截|止付)\S{0,4}(?:之前|前)[^。？！]{0,20}(?:取出|取走|转走|"
    r"提现|套现)|(?:取出|取走|转走|提现|套现)[^。？！]{0,20}(?:在|趁)银行(?:冻结|发现|止付)|銀行(?:に|が)(?:凍結|止め|気づ|"
    r"バレ|ブロック)\S{0,6}(?:前に|うちに)[^。？！]{0,30}(?:引き出|出金|移|送金)|은행이?\s*(?:차단|동결|정지|눈치|알아채)\S{0,6}"
    r"\s*(?:전에|기\s*전)[^.?!]{0,30}(?:인출|출금|빼|옮기|이체)|(?:ถอน|โอน)(?:เงิน)?[^.?!]{0,40}(?:ก่อนที่|ก่อน)ธนาคาร"
    r"(?:จะ)?(?:อายัด|บล็อก|ระงับ|รู้)",
    r"\b(?:vybrat|vyzvednout|prevest)\b[^.?!\n]{0,60}\bdriv\s*,?\s+nez\s+(?:banka|vy)\s+(?:\w+\s+)?(?:zablokuje|"
    r"zmrazi|vsimne)|(?:αποσυρω|σηκωσω|μεταφερω|βγαλω)\S*[^.?!\n]{0,60}πριν\s+(?:η\s+τραπεζα|το\s+μπλοκαρ)|\b(?:ta\s+"
    r"ut|flytta|overfora|tomma)\b[^.?!\n]{0,60}\binnan\s+(?:banken|ni|de)\s+(?:\w+\s+)?(?:sparrar|fryser|marker|"
    r"upptacker)|\b(?:retrag|scot|transfer)\w*\b[^.?!\n]{0,60}\binainte\s+ca\s+(?:banca|voi)\s+sa\s+(?:\w+\s+)?"
    r"(?:blocheze|inghete|observe)|\b(?:felvenni|kivenni|atutalni|levenni)\b[^.?!\n]{0,60}\bmielott\s+(?:a\s+bank|"
    r"ti)\s+(?:\w+\s+)?(?:zarol\w*|befagyaszt\w*|eszreveszi|letiltja)|\b(?:tarik|ambil|pindahkan|cairkan|transfer)"
    r"\w*\b[^.?!\n]{0,60}\bsebelum\s+(?:bank|kalian|korban)\s+(?:\w+\s+)?(?:blokir|membekukan|bekukan|sadar|tahu|"
    r"memblokir)|\b(?:rut|chuyen)\b[^.?!\n]{0,60}\btruoc\s+khi\s+ngan\s+hang\s+(?:\w+\s+)?(?:khoa|phong\s+toa|chan|"
    r"phat\s+hien)|(?:برداشت|بکشم|منتقل)\S*\s+(?:\S+\s+){0,5}?قبل\s+از\s+(?:اینکه|آنکه)\s+بانک\s+(?:\S+\s+)?(?:مسدود|"
    r"بلوکه|متوجه)",
)
# With scam money named, or recalled by whoever sent it (not the asker's own account being closed).
_TAKE_OUT_BEFORE_SCAM = (
    anywhere(_SCAM, "(?:" + "|".join(_TAKE_OUT_BEFORE) + ")"),
    r"\b(?:withdraw|cash\s+(?:it\s+)?out|take\s+(?:it\s+)?out|move|spend)\b[^.?!\n]{0,60}\bbefore\s+the\s+(?:victim|"
    r"sender|payer|real\s+owner)\s+(?:\w+\s+)?(?:revers\w*|recall\w*|report\w*|notic\w*|find\w*)",
)

# The bank or the tax office must not notice or report it ("not block" is left out: a traveller asks that).
_UNREPORTED = (
    r"\b(?:zeby|(?:z|ż)eby|aby|by)\s+(?:bank|urz(?:a|ą)d\w*|nikt)\s+(?:\w+\s+)?(?:tego\s+)?nie\s+(?:zg(?:l|ł)osi(?:l|ł)\w*|"
    r"zauwa(?:z|ż)y(?:l|ł)\w*|poinformowa(?:l|ł)\w*|powiadomi(?:l|ł)\w*|wykry(?:l|ł)\w*|zorientowa(?:l|ł)\w*)|"
    r"(?:حتى|كي|لكي)\s+لا\s+(?:\S+\s+)?(?:يلاحظ|يبلغ|يكتشف|يشك)\S*|\baby\s+(?:si\s+)?(?:to\s+)?banka\s+(?:\w+\s+)?"
    r"ne(?:vsimla|nahlasila|zjistila|hlasila)|чтобы\s+(?:банк|налогов\w+|никто)\s+(?:\w+\s+)?не\s+(?:заметил\w*|"
    r"сообщил\w*|узнал\w*|проверил\w*|заподозрил\w*|передал\w*|доложил\w*)|щоб\s+(?:банк|податков\w+|ніхто)\s+"
    r"(?:\w+\s+)?не\s+(?:помітив|повідомив|дізна\w+|перевірив)|\bbanka\w*\s+(?:\w+\s+)?(?:fark\s+etmemesi|"
    r"bildirmemesi|anlamamasi|suphelenmemesi|bildirmesin|haberi\s+olmadan|fark\s+etmeden|anlamadan|bildirmeden)|ש?הבנק\s+לא\s+(?:ישים\s+לב|ידווח|יגלה|"
    r"יחשוד)|बैंक\s+को\s+(?:पता|शक|भनक)\s+न|(?:不让|别让|以免|避免)银行(?:发现|察觉|上报|报告|怀疑)|銀行に(?:バレ|気づかれ|"
    r"報告され|怪しまれ)(?:ない|ず)|은행이?\s*(?:모르게|눈치\s*못|신고하지\s*않|의심하지\s*않)|(?:ไม่ให้|โดยที่)ธนาคาร(?:ไม่)?"
    r"(?:รู้|สังเกต|รายงาน|สงสัย)",
    r"χωρις\s+να\s+(?:το\s+)?(?:καταλαβει|αντιληφθει|αναφερει)\s+η\s+τραπεζα|ωστε\s+η\s+τραπεζα\s+να\s+μην|\b(?:sa\s+att"
    r"|utan\s+att)\s+banken\s+(?:inte\s+)?(?:marker|rapporterar|upptacker|anmaler)|\b(?:ca|astfel\s+incat)\s+banca\s+"
    r"sa\s+nu\s+(?:observe|raporteze|anunte|suspecteze)|\bfara\s+ca\s+banca\s+sa\b|\bhogy\s+a\s+bank\s+ne\s+(?:vegye\s+"
    r"eszre|jelentse|gyanakodjon)|\banelkul,?\s+hogy\s+a\s+bank\b|\b(?:agar|supaya|biar)\s+bank\s+tidak\s+(?:curiga|"
    r"melapor\w*|tahu|sadar|mendeteksi)|\btanpa\s+(?:diketahui|ketahuan)\s+bank|\b(?:de|sao\s+cho)\s+ngan\s+hang\s+"
    r"khong\s+(?:phat\s+hien|bao\s+cao|nghi\s+ngo|biet)|(?:تا|که)\s+بانک\s+(?:متوجه\s+نشود|گزارش\s+ندهد|شک\s+نکند|"
    r"نفهمد)|\bzodat\s+de\s+(?:bank|belastingdienst)\s+(?:het\s+|dit\s+)?niet\s+(?:merkt|meldt|doorgeeft|ziet|"
    r"opmerkt)|\bdamit\s+(?:die\s+bank|das\s+finanzamt|niemand)\s+(?:es\s+|das\s+)?nicht\s+(?:merkt|meldet|bemerkt|"
    r"erfahrt|mitbekommt)|\bpour\s+que\s+(?:la\s+banque|le\s+fisc|personne)\s+ne\s+(?:le\s+)?(?:remarque|signale|"
    r"declare|voie|detecte)|\bpara\s+que\s+(?:el\s+banco|hacienda|nadie)\s+no\s+(?:lo\s+)?(?:note|reporte|detecte|"
    r"informe|se\s+entere|sospeche)|\b(?:cosi|in\s+modo)\s+che\s+la\s+banca\s+non\s+(?:se\s+ne\s+accorga|segnali|"
    r"noti|lo\s+comunichi|lo\s+segnali|lo\s+noti)|\bperche\s+la\s+banca\s+non\s+(?:lo\s+)?(?:segnali|se\s+ne\s+accorga)|\bpara\s+que\s+o\s+banco\s+nao\s+"
    r"(?:perceba|comunique|reporte|note|desconfie|informe)|\bpra\s+o\s+banco\s+nao\s+(?:perceber|desconfiar|"
    r"comunicar)|\bso\s+(?:that\s+)?(?:the\s+)?(?:tax\s+office|taxman|irs|hmrc|authorities)\s+(?:doesn'?t|don'?t|won'?t|"
    r"never|can'?t)\s+(?:find\s+out|notice|know|see|hear)",
)
# A refund or dispute of a payment the asker made: "although I actually made it myself" (a victim tricked into a
# payment names the scam and is left alone by ``_NOT_A_VICTIM``).
_CLAIM = whole(
    r"(?:refund\w*|recall\w*|cancel\w*|money\s+back|geld\s+terug|dinero\s+de\s+vuelta|soldi\s+indietro|dinheiro\s+de\s+volta|"
    r"pieni(?:a|ą)dze\s+z\s+powrotem|chargeback|charge\s+back|disput\w*|contest\w*|revers\w*|reviert\w*|revertir|annul\w*|"
    r"anular|rembolso|stornare|annullare|cofn\w*|отмен\w*|скасув\w*|iptal\w*|الغاء|לבטל|zrusit|ακυρ\w*|anula|"
    r"visszavon\w*|membatalkan|вернул\w*|вернуть|"
    r"возврат\w*|оспор\w*|спорн\w*|поверну\w*|оскарж\w*|ruckbuchung|erstattung|zuruck\w*|rembours\w*|reembols\w*|"
    r"devoluc\w*|devolv\w*|contracargo|disputa|rimbors\w*|contestaz\w*|storno|estorn\w*|terugboeking|terugbetal\w*|"
    r"betwist\w*|zwrot\w*|reklamacj\w*|iade|itiraz|استرداد|استرجاع|اعتراض|החזר|reklamac\w*|vraceni|επιστροφ\w*|"
    r"αμφισβητ\w*|aterbetal\w*|bestrid\w*|rambursare|visszaterit\w*|pengembalian|sanggah|hoan\s+tien|khieu\s+nai|"
    r"بازپرداخت|برگشت)|रिफंड|वापस|退款|拒付|退回|返金|チャージバック|환불|차지백|คืนเงิน"
)
_MADE_IT_MYSELF = (
    r"\b(?:even\s+though|although|though|but)\s+i\s+(?:did\s+)?(?:actually|really|in\s+fact)\s+(?:did\s+)?(?:made|make|did|"
    r"authori[sz]ed?|paid|pay|approved?|sent|send|receive[d]?|got|get|use[d]?)\b|\bi\s+(?:actually|really|in\s+fact)\s+(?:made|authori[sz]ed|did)\s+(?:it|the\s+payment|the\s+"
    r"transaction)\s+myself\b|(?:если|хотя|хоть|при\s+том,?\s+что)\s+(?:я\s+)?(?:на\s+самом\s+деле\s+)?(?:сам|сама)\s+"
    r"(?:\w+\s+)?(?:совершил\w*|сделал\w*|оплатил\w*|провел\w*|подтвердил\w*)|(?:хоча|якщо)\s+(?:я\s+)?(?:насправді\s+)?"
    r"(?:сам|сама)\s+(?:\w+\s+)?(?:зробив|здійснив|оплатив|підтвердив)\w*|\bobwohl\s+ich\s+(?:\w+\s+){0,2}?"
    r"(?:eigentlich|tatsachlich|doch|wirklich)\s+(?:\w+\s+)?selbst\s+(?:\w+\s+)?(?:gemacht|getatigt|bezahlt|autorisiert|ausgelost)|"
    r"\b(?:alors\s+que|bien\s+que|meme\s+si)\s+(?:je\s+l'ai|j'ai)\s+(?:moi-meme\s+|bien\s+|vraiment\s+|en\s+fait\s+)?"
    r"(?:fait|faite|effectue\w*|autorise\w*|paye\w*|valide\w*)\s+(?:\w+\s+){0,2}?moi-meme|\b(?:aunque|si\s+en\s+realidad)"
    r"\s+(?:\w+\s+){0,3}?(?:hice|realice|autorice|pague|aprobe)\s+yo(?:\s+mism[oa])?\b|\b(?:aunque|si)\s+(?:en\s+realidad\s+)?yo\s+"
    r"(?:mism[oa]\s+)?(?:lo\s+|la\s+)?(?:hice|realice|autorice|pague|aprobe)\b|\book\s+al\s+heb\s+ik\s+(?:\w+\s+){0,2}?"
    r"(?:eigenlijk|zelf)\s+(?:\w+\s+)?(?:gedaan|betaald|goedgekeurd|uitgevoerd)|\b(?:anche\s+se|sebbene|"
    r"benche)\s+(?:in\s+realta\s+)?(?:l'ho|la\s+ho)\s+(?:fatta|fatto|effettuata|autorizzata|pagata)\s+(?:proprio\s+)?io\b",
    r"\b(?:embora|mesmo\s+que|apesar\s+de)\s+(?:eu\s+)?mesm[oa]\s+(?:\w+\s+)?(?:tenha\s+)?(?:fiz|feito|realizei|"
    r"autorizei|paguei)\b|\b(?:embora|mesmo\s+que|apesar\s+de|se\s+na\s+verdade)\s+(?:eu\s+)?(?:mesmo\s+|mesma\s+)?(?:tenha\s+)?(?:fiz|"
    r"feito|realizei|realizado|autorizei|autorizado|paguei)\s+(?:\w+\s+)?(?:eu\s+)?mesm[oa]|\b(?:hoewel|terwijl|ook\s+al)\s+"
    r"ik\s+(?:\w+\s+){0,2}?(?:eigenlijk|zelf)\s+(?:\w+\s+)?(?:gedaan|betaald|goedgekeurd|uitgevoerd)|\b(?:cho(?:c|ć)|"
    r"chocia(?:z|ż)|mimo\s+(?:z|ż)e)\s+(?:tak\s+naprawd(?:e|ę)\s+)?(?:sam|sama)\s+(?:\w+\s+)?(?:zrobi(?:l|ł)\w*|"
    r"wykona(?:l|ł)\w*|zatwierdzi(?:l|ł)\w*|zap(?:l|ł)aci(?:l|ł)\w*)|\b(?:aslinda|gercekte)\s+(?:ben\s+)?kendim\s+"
    r"(?:yaptim|onayladim|odedim)|\bkendim\s+yaptigim\s+(?:islem|odeme|harcama)|بنفسي\s+(?:في\s+الحقيقة|فعلا)|"
    r"(?:رغم|مع)\s+انني\s+(?:\S+\s+)?(?:قمت\s+بها|اجريتها|دفعتها)\s+بنفسي|(?:למרות|אף)\s+ש(?:\S+\s+){0,2}?(?:ביצעתי|"
    r"עשיתי|שילמתי|אישרתי)\s+(?:אותה|אותו)?\s*בעצמי|(?:हालांकि|जबकि)\s+(?:\S+\s+){0,3}?(?:खुद|स्वयं)\s+(?:\S+\s+){0,3}?"
    r"(?:किया|की)|(?:虽然|尽管|其实|实际上)(?:是)?我自己(?:做的|付的|支付的|刷的|授权的|操作的)|(?:実際は|本当は)自分で(?:した|"
    r"行った|支払った|決済した|使った)|(?:사실은?|실제로는?)\s*(?:제가|내가)\s*직접|(?:ทั้งที่|แม้ว่า)(?:จริงๆ)?(?:ฉัน|ผม)"
    r"(?:ทำ|จ่าย|อนุมัติ)เอง",
    r"\b(?:i\s+kdyz|prestoze|ackoli)\s+(?:\w+\s+){0,3}?(?:sam|sama)\b|(?:παροτι|αν\s+και|ενω)\s+(?:\S+\s+){0,3}?(?:ο\s+"
    r"ιδιος|η\s+ιδια)|\b(?:fast|trots\s+att|aven\s+om)\s+jag\s+(?:egentligen\s+)?(?:sjalv\s+)?(?:gjorde|betalade|"
    r"godkande)\s+(?:\w+\s+)?sjalv|\b(?:desi|chiar\s+daca|cu\s+toate\s+ca)\s+(?:\w+\s+){0,3}?(?:eu\s+)?(?:insumi|"
    r"singur)\b|\b(?:pedig|habar|bar)\s+(?:valojaban\s+)?(?:en\s+)?magam\s+(?:csinaltam|intez\w*|fizettem|hagytam)|"
    r"\b(?:padahal|meskipun|walaupun)\s+(?:sebenarnya\s+)?(?:saya|aku)\s+sendiri\b|\b(?:mac\s+du|du)\s+(?:thuc\s+ra\s+)?"
    r"(?:chinh\s+)?(?:toi|minh)\s+(?:tu\s+)?(?:thuc\s+hien|lam|thanh\s+toan|chuyen)|(?:با\s+اینکه|اگرچه|در\s+حالی\s+که)"
    r"\s+(?:\S+\s+){0,2}?خودم\s+",
)
# Why the claim is left alone: the asker was tricked into the payment.
_NOT_A_VICTIM = (
    r"^(?![\s\S]*(?:scam|trick|conned|deceiv|fraudster|lied\s+to\s+me|мошен|обман|golpe|estaf|arnaqu|escroc|betrug|"
    r"betrog|truff|oplicht|oszu|dolandir|احتيال|نصب|הונא|רמא|धोखा|ठग|骗|詐欺|騙|사기|โกง|หลอก|podvod|απατ|bedrag|"
    r"tepa|csal|tipu|lua\s+dao|کلاهبردار|never\s+(?:arrived|came|delivered|received)|(?:didn'?t|did\s+not|hasn'?t)\s+"
    r"(?:arrive|come)|not\s+delivered|defective|faulty|broken|damaged|geliefert|angekommen|defekt|kaputt|jamais\s+"
    r"(?:recu|arrive|livre)|pas\s+(?:ete\s+)?livre|casse|nunca\s+(?:llego|chegou)|no\s+(?:me\s+)?llego|nao\s+chegou|"
    r"mai\s+arrivat|non\s+e\s+(?:mai\s+)?arrivat|rotto|roto|quebrad|niet\s+geleverd|nooit\s+aangekomen|kapot|"
    r"nie\s+dotar|uszkodz|не\s+(?:доставил|пришел|пришл|получил\s+товар)|сломан|gelmedi|bozuk|لم\s+يصل|לא\s+הגיע|"
    r"नहीं\s+पहुंच|没收到|届かな|도착하지|ไม่ได้รับ|nedorazil|δεν\s+εφτασε|kom\s+aldrig|nu\s+a\s+ajuns|nem\s+erkezett|"
    r"tidak\s+sampai|khong\s+nhan\s+duoc|نرسید))"
)
_MYSELF = "(?:" + "|".join(_MADE_IT_MYSELF) + ")"
# The rarer part first: most texts fail there, before the scan for the victim's words.
_FALSE_CLAIM = (
    rf"^(?=[\s\S]*?{_MYSELF})" + _NOT_A_VICTIM[1:] + r"[\s\S]*?" + near(_CLAIM, _MYSELF, r"[\s\S]{0,150}?"),
)

# A story for the bank to reverse a transfer, or the payee keeping the money the asker gets back.
_STORY = whole(
    r"(?:story|excuse|lie|cover\s+story|histoire|excuse|mensonge|historia|excusa|mentira|geschichte|ausrede|luge|"
    r"storia|scusa|bugia|historia|desculpa|mentira|verhaal|smoes|leugen|histori\w*|wym(?:o|ó)wk\w*|k(?:l|ł)amstw\w*|"
    r"истори\w*|легенд\w*|отмазк\w*|оправдани\w*|історі\w*|відмовк\w*|hikaye\w*|bahane\w*|yalan|قصة|حجة|ذريعة|كذبة|"
    r"סיפור|תירוץ|שקר|histork\w*|vymluv\w*|lez|ιστορια|δικαιολογια|ψεμα|ursakt|lognen|poveste|scuza|minciuna|"
    r"sztori\w*|kifogas\w*|hazugsag|cerita|bohong|cau\s+chuyen|bia\s+chuyen|داستان|بهانه|دروغ)|बहाना|कहानी|借口|编个|"
    r"言い訳|作り話|핑계|거짓말|ข้ออ้าง|เรื่องโกหก"
)
_TELL_THE_BANK = whole(
    r"(?:(?:tell|give|feed)\s+(?:to\s+)?(?:the\s+bank|you|your\s+(?:\w+\s+)?team)|for\s+(?:the\s+bank|you)|(?:raconter|dire)\s+(?:a\s+)?la\s+banque|"
    r"(?:le\s+)?(?:contar|decir|cuento|digo)(?:le)?\s+al\s+banco|der\s+bank\s+(?:erzahl\w*|sag\w*)|(?:raccontare|dire)\s+alla\s+banca|"
    r"(?:contar|dizer)\s+ao\s+banco|(?:vertel|vertellen|zeg|zeggen)\s+(?:\w+\s+)?(?:de|aan\s+de)\s+bank|(?:bankowi|"
    r"w\s+banku)|банку|bankaya|للبنك|לבנק|bance|τραπεζα|banken|bancii|banknak|ke\s+bank|voi\s+ngan\s+hang|به\s+بانک)|"
    r"बैंक\s+को|跟银行|对银行|銀行に|은행에|ธนาคาร"
)
_REVERSAL = (
    anywhere(_STORY, near(_STORY, _TELL_THE_BANK, r"[^.?!\n]{0,40}?") + r"[^\n]{0,120}?" + _CLAIM),
    r"\b(?:get|have)\s+(?:the|my)\s+money\s+back\b[^.?!\n]{0,60}\b(?:he|she|they|my\s+\w+)\s+(?:still\s+|also\s+|gets\s+"
    r"to\s+|can\s+)?keeps?\s+(?:it|the\s+money|the\s+cash|his|hers|theirs)\b|\b(?:we\s+both|both\s+of\s+us)\s+(?:get\s+to\s+"
    r")?keep\s+(?:it|the\s+money)\b|\b(?:he|she|they|my\s+\w+)\s+(?:still\s+)?keeps?\s+(?:it|the\s+money|"
    r"the\s+cash)\s+anyway\b|\by\s+(?:el|ella)\s+se\s+(?:lo|la)\s+queda\b|\bet\s+(?:il|elle)\s+(?:le|la)\s+garde\b|"
    r"\bund\s+(?:er|sie)\s+behalt\s+(?:es|das\s+geld)|\be\s+(?:lui|lei)\s+(?:li|se\s+li)\s+tiene\b|\be\s+(?:ele|ela)\s+"
    r"fica\s+com\s+(?:ele|o\s+dinheiro)|\ben\s+(?:hij|zij|ze)\s+(?:het\s+)?houdt\s+(?:het|het\s+geld)\b|а\s+(?:он|она)\s+"
    r"(?:оставит|останется)\s+(?:их\s+)?(?:себе|с\s+деньгами)",
)
# Money mules recruited, or the advert written, by the asker.
_MULES = whole(
    r"(?:money\s+mules?|mules?|mulas?|muling|finanzagent\w*|geldkurier\w*|strohm(?:a|ä)nn\w*|prestanome|geldezel\w*|"
    r"s(?:l|ł)up(?:y|ow|ów)|дроп\w*|laranjas?|katir\w*|hesap\s+kirala\w*|rekening\s+bodong|joki\s+rekening|cho\s+thue\s+"
    r"tai\s+khoan)|车手|跑分|出し子|受け子|대포\s*통장|인출책|บัญชีม้า"
)
_RECRUIT = whole(
    r"(?:i\s+want\s+to\s+(?:set\s+(?:something|one|it|this)\s+up|recruit|hire|start\s+one|run\s+one)|i'?d\s+like\s+to\s+"
    r"(?:recruit|hire)|what\s+should\s+(?:the|my|an?)\s+(?:ad|advert|post|message|listing|flyer)\s+say|how\s+(?:do|can|"
    r"could|should)\s+i\s+(?:recruit|hire|attract|advertise\s+for|find\s+(?:students|people|young\s+people|mules|"
    r"recruits))|help\s+me\s+(?:recruit|hire|write\s+(?:an?\s+)?(?:ad|advert|post))|write\s+(?:me\s+)?(?:an?\s+)?(?:ad|"
    r"advert|post|listing|flyer)|reclutar|recrutar|recruter|anwerben|rekrutieren|reclutare|werven|rekrutowa(?:c|ć)|"
    r"zwerbowa(?:c|ć)|завербовать|вербовать|набрать|завербувати|تجنيد|اجند|לגייס|naverbovat|στρατολογ\w*|rekrytera|"
    r"recruta|toboroz\w*|merekrut|tuyen)|भर्ती|招募|募集|모집|รับสมัคร"
)
_MULE_RECRUITING = (anywhere(_MULES, near(_MULES, _RECRUIT, r"[^\n]{0,150}?")),)
# First-person recruiting, read by chatbot/guard.py: a mule question is a victim's only when it does not say this.
RECRUITING = lower_of(_RECRUIT)
# Which transactions the bank's monitoring never catches.
_UNDETECTED = (
    r"\b(?:which|what)\s+(?:kinds?\s+of\s+|types?\s+of\s+|sorts?\s+of\s+)?(?:transactions|payments|transfers|amounts|(?:cash\s+)?deposits|"
    r"withdrawals|purchases)\s+"
    r"(?:\w+\s+){0,3}?(?:never|don'?t|do\s+not|aren'?t|are\s+not|won'?t)\s+(?:get\s+|be\s+|ever\s+)?(?:detected|flagged|"
    r"caught|noticed|monitored)|\b(?:slip\s+through|go\s+undetected|fly\s+under)\b[^.?!\n]{0,40}\b(?:fraud|monitoring|"
    r"checks|systems?|radar)",
    r"(?:transaccion|operacion|pago|transaction|operation|paiement|transaktion|zahlung|transazion|operazion|pagament|"
    r"transac|operac|transactie|betaling|transakcj|p(?:l|ł)atno|транзакци|операци|платеж|переказ|islem|odeme|معاملات|"
    r"عمليات|עסקאות|लेनदेन|交易|取引|거래|ธุรกรรม|transakc|συναλλαγ|transaktion|tranzact|tranzakci|transaksi|giao\s+dich|"
    r"تراکنش)\S*[^.?!\n]{0,40}?(?:nunca\s+(?:se\s+)?(?:detectan|detecta|son\s+detectad|sao\s+detectad)|jamais\s+"
    r"(?:detecte|signale)|ne\s+sont\s+jamais\s+(?:detecte|signale)|nie\s+(?:erkannt|entdeckt|auffallen|gemeldet)|non\s+"
    r"vengono\s+mai\s+(?:rilevat|segnalat)|mai\s+rilevat|nooit\s+(?:opgemerkt|gedetecteerd|gesignaleerd)|nigdy\s+nie\s+"
    r"(?:s(?:a|ą)\s+)?wykrywan|никогда\s+не\s+(?:отслеж|обнаруж|ловят|выявля|замеча)|ніколи\s+не\s+(?:виявля|помічa|"
    r"відстеж)|hic\s+tespit\s+edilme|لا\s+يتم\s+(?:اكتشافها|رصدها)|لم\s+يتم\s+اكتشافها|לא\s+(?:מתגלות|נתפסות|מזוהות)|"
    r"पकड़ी\s+नहीं|不会被(?:发现|检测|察觉)|从(?:来)?不被(?:发现|检测)|検知されない|見つからない|탐지되지\s*않|걸리지\s*않|"
    r"ไม่เคยถูกตรวจจับ|ไม่ถูกตรวจจับ|nikdy\s+nezachyt|nikdy\s+neodhal|δεν\s+εντοπιζονται|aldrig\s+upptacks|nu\s+sunt\s+"
    r"niciodata\s+detectate|soha\s+nem\s+(?:szur|eszlel|akad)|tidak\s+pernah\s+terdeteksi|khong\s+bao\s+gio\s+bi\s+phat"
    r"\s+hien|هرگز\s+شناسایی\s+نمی)",
)

CASHOUT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "fraud_help",
        lower_of(
            *_DOCTORED,
            *_TAKE_OUT_BEFORE_SCAM,
            *_UNREPORTED,
            *_FALSE_CLAIM,
            *_REVERSAL,
            *_MULE_RECRUITING,
            *_UNDETECTED,
        ),
    ),
)
