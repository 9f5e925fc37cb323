"""The guard's rules for answers asked of the bot outside its rules and for roles set up for it, in the 28 languages
the corpora use (chatbot/guard.py runs them after chatbot/guard_rules_setup_intl.py).

Answers outside the rules are a second answer, or the only one, "as if the policies did not exist"; a text to
translate and then obey; a note to an automated reader inside pasted text, or the figure it is to misreport. Roles are
an AI without rules or a "free AI", an employee, a hacker or a scammer the bot is to imagine being, "stay in
character". A customer who wants an answer in two languages, a letter translated, or asks "imagine I lose my card
abroad" asks for none of these. Same conventions as chatbot/guard_rules_setup_intl.py.
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of
from chatbot.guard_rules_setup_intl import INSTR, anywhere, near, whole

# A second answer, or an answer, as if its rules did not exist.
_NO_RULES_ANSWER = (
    r"\b(?:answer|respond|reply|write|act|behave|talk|speak|continue|pretend|tell\s+me|explain)\b[^.?!\n]{0,80}\bas\s+"
    r"(?:if|though)\s+(?:[\w']+\s+){0,4}?(?:rules|polic(?:y|ies)|guidelines|restrictions|instructions|filters|guardrails)"
    r"\s+(?:had\s+never|never|did\s*n'?t|don'?t|do\s+not|were\s+not|weren'?t|wasn'?t|no\s+longer)\b|\bas\s+(?:if|"
    r"though)\s+(?:you\s+had|there\s+(?:were|are|was))\s+no\s+(?:\w+\s+)?(?:rules|polic\w+|guidelines|restrictions|"
    r"filters|limits)\b",
    r"\bcomme\s+si\s+(?:aucune|nulle)\s+(?:regle|restriction|consigne|politique)\s+ne\s+s'appliqu\w*|\bas\s+(?:if|"
    r"though)\s+no\s+(?:rules|polic\w+|restrictions)\s+appl\w+|\bcomme\s+si\s+(?:\w+\s+){0,3}?(?:regles|politiques|restrictions|consignes|instructions)\s+n'exist\w+\s+pas|"
    r"\bcomme\s+si\s+(?:tu\s+n'avais|il\s+n'y\s+avait)\s+(?:aucune?|pas\s+de)\s+(?:\w+\s+)?(?:regles?|restrictions?|"
    r"limites?|consignes?)|\bcomo\s+si\s+(?:\w+\s+){0,3}?(?:reglas|politicas|restricciones|instrucciones|normas)\s+no\s+"
    r"(?:existieran|existiesen|aplicaran)|\bcomo\s+si\s+no\s+(?:tuvieras|hubiera|existieran)\s+(?:\w+\s+)?(?:reglas|"
    r"restricciones|limites|politicas|normas)|\bals\s+(?:ob|gabe|hattest|wurden)\b[^.?!\n]{0,40}(?:regeln|richtlinien|"
    r"vorgaben|einschrankungen|anweisungen)|\bcome\s+se\s+(?:\w+\s+){0,3}?(?:regole|politiche|restrizioni|istruzioni|"
    r"norme)\s+non\s+(?:esistessero|ci\s+fossero|valessero)|\bcome\s+se\s+non\s+(?:avessi|ci\s+fossero)\s+(?:\w+\s+)?"
    r"(?:regole|restrizioni|limiti)|\bcomo\s+se\s+(?:\w+\s+){0,3}?(?:regras|politicas|restricoes|instrucoes|normas)\s+"
    r"nao\s+(?:existissem|existisse|valessem)|\bcomo\s+se\s+nao\s+(?:tivesse|houvesse|existissem)\s+(?:\w+\s+)?"
    r"(?:regras|restricoes|limites|politicas)",
    r"\balsof\s+(?:\w+\s+){0,3}?(?:regels|beperkingen|richtlijnen|instructies|beleid)\s+(?:niet\s+(?:bestaan|bestonden|"
    r"gelden)|er\s+niet\s+zijn)|\balsof\s+(?:je|er)\s+geen\s+(?:\w+\s+)?(?:regels|beperkingen|richtlijnen)|\bjak\s*(?:by|"
    r"gdyby)\w*\s+(?:\w+\s+){0,3}?(?:zasady|regu(?:l|ł)y|ograniczenia|instrukcje)\s+nie\s+istnia(?:l|ł)y|\bjakby\w*\s+"
    r"nie\s+(?:mia(?:l|ł)\w*|by(?:l|ł)o)\s+(?:\w+\s+)?(?:zasad|regu(?:l|ł)|ogranicze(?:n|ń))|(?:как\s+будто|как\s+"
    r"если\s+бы|словно)\s+(?:\w+\s+){0,3}?(?:правил\w*|ограничени\w*|инструкци\w*|политик\w*)\s+(?:не\s+существ\w+|"
    r"нет|не\s+было)|(?:как\s+будто|как\s+если\s+бы|словно|ніби|наче|немов)\s+(?:у\s+тебе\s+|у\s+тебя\s+)?(?:нет|не\s+"
    r"было|немає|не\s+існує)\s+(?:\w+\s+)?(?:правил|ограничений|обмежень)",
    r"\bkural\w*\s+(?:hic\s+)?(?:yokmus|olmasaydi|olmasa)\s*gibi|\bkisitlama\w*\s+yokmus\s+gibi|(?:كأن|كما\s+لو)\S*\s+"
    r"(?:\S+\s+){0,2}?(?:لا\s+توجد|لم\s+تكن|ليس\s+هناك|لا\s+يوجد)\s+(?:\S+\s+)?(?:قواعد|سياسات|قيود|تعليمات)|כאילו\s+"
    r"(?:\S+\s+){0,2}?(?:אין|לא\s+קיימים|לא\s+היו)\s+(?:\S+\s+)?(?:כללים|חוקים|הגבלות|מדיניות|הנחיות)|(?:जैसे|मानो)\s+"
    r"(?:\S+\s+){0,3}?(?:नियम|पाबंदी|प्रतिबंध|नीति)\S*\s+(?:\S+\s+){0,2}?(?:नहीं|न)\s+(?:हों|हो|हैं|थे)|(?:假装|假设|就像|"
    r"好像|当作)你?(?:没有|不存在)(?:任何)?(?:规则|限制|政策|规定)|(?:ルール|規則|制限|ポリシー|規定)(?:が|は)?(?:一切)?"
    r"(?:ない|存在しない|なかった)(?:か|もの)?のように|(?:규칙|정책|제한|규정)(?:이|가|은|는)?\s*(?:전혀\s*)?(?:없는|"
    r"존재하지\s*않는)\s*(?:것처럼|척)|(?:เหมือน|ราวกับ|สมมติ)(?:ว่า)?\s*(?:คุณ)?ไม่มี(?:กฎ|ข้อจำกัด|นโยบาย)",
    r"\bjako\s+(?:by|kdyby)\w*\s+(?:\w+\s+){0,3}?(?:neexistoval\w*|nebyl\w*|nemel\w*)\s+(?:\w+\s+)?(?:pravidl\w*|"
    r"omezeni|zasad\w*)|σαν\s+να\s+μην\s+(?:\S+\s+)?(?:υπαρχ\w*|ειχες)\s+(?:\S+\s+)?(?:κανον\w*|περιορισμ\w*)|\bsom\s+"
    r"om\s+(?:\w+\s+){0,3}?(?:regler\w*|riktlinjer\w*|begransningar\w*|policy\w*)\s+inte\s+(?:fanns|existerade|"
    r"gallde)|\bsom\s+om\s+du\s+inte\s+hade\s+(?:nagra\s+)?(?:regler|begransningar)|\bca\s+(?:si\s+)?cum\s+"
    r"(?:\w+\s+){0,3}?(?:nu\s+ar\s+exista|n-ar\s+exista|nu\s+ai\s+avea)\s+(?:\w+\s+)?(?:reguli|restrictii|politici)|"
    r"\bmintha\s+(?:\w+\s+){0,3}?(?:szabaly\w*|korlatoz\w*)\s+nem\s+(?:lennenek|leteznenek|lenne)|\bmintha\s+nem\s+"
    r"(?:lennenek|leteznenek|lenne)\s+(?:\w+\s+)?(?:szabaly\w*|korlatoz\w*)|\b(?:seolah|seakan)(?:-olah|-akan)?\s+"
    r"(?:\w+\s+){0,3}?(?:tidak\s+ada|tanpa)\s+(?:\w+\s+)?(?:aturan|batasan|kebijakan)|\b(?:nhu\s+the|gia\s+su)\s+"
    r"(?:\w+\s+){0,3}?(?:khong\s+co|khong\s+ton\s+tai)\s+(?:\w+\s+)?(?:quy\s+tac|gioi\s+han|chinh\s+sach|quy\s+dinh)|"
    r"(?:انگار|گویی|فرض\s+کن)\s+(?:\S+\s+){0,3}?(?:هیچ\s+)?(?:قانون|قوانین|محدودیت|قاعده|سیاست)\S*\s+(?:\S+\s+)?"
    r"(?:وجود\s+)?(?:ندارد|نداری|نیست|نبود)",
)
_TWICE = (
    r"(?:\b(?:respond|answer|reply)\s+(?:to\s+(?:this|my|the)\s+(?:\w+\s+)?)?(?:twice|two\s+times)|\b(?:two|2|double)"
    r"\s+(?:different\s+|separate\s+)?(?:answers|responses|replies|versions)|\breponds?\s+deux\s+fois|\bdeux\s+"
    r"reponses|\bresponde\w*\s+dos\s+veces|\bdos\s+respuestas|\bantworte\w*\s+zweimal|\bzwei\s+antworten|\brispondi\s+"
    r"due\s+volte|\bdue\s+risposte|\brespond\w+\s+duas\s+vezes|\bduas\s+respostas|\bantwoord\w*\s+twee\s+keer|\btwee\s+"
    r"antwoorden|\bodpowiedz\w*\s+dwa\s+razy|\bdwie\s+odpowiedzi|ответь\w*\s+дважды|два\s+(?:варианта\s+)?ответа|"
    r"відповід\w+\s+двічі|дві\s+відповіді|\biki\s+(?:kez|kere)\s+(?:cevap|yanit)|اجب\s+مرتين|اجابتين|ענה\s+פעמיים|"
    r"שתי\s+תשובות|दो\s+बार\s+(?:जवाब|उत्तर)|दो\s+(?:जवाब|उत्तर)|回答两次|两个回答|两种回答|(?:2|二)(?:回|度)答え|"
    r"(?:2|二)つの回答|두\s*번\s*답|두\s*가지\s*답변|ตอบสองครั้ง|สองคำตอบ|\bodpovez\s+dvakrat|\bdve\s+odpovedi|"
    r"απαντησε\s+δυο\s+φορες|δυο\s+απαντησεις|\bsvara\s+tva\s+ganger|\btva\s+svar|\braspunde\s+de\s+doua\s+ori|"
    r"\bdoua\s+raspunsuri|\bvalaszolj\s+ketszer|\bket\s+valasz\w*|\bjawab\s+dua\s+kali|\bdua\s+jawaban|\btra\s+loi\s+"
    r"hai\s+lan|\bhai\s+cau\s+tra\s+loi|دو\s+بار\s+(?:جواب|پاسخ)|دو\s+پاسخ)"
)
_POLICY_WORDS = (
    rf"(?:{INSTR}|polic(?:y|ies)|politiques|politicas|politiche|richtlinien|beleid|polityk\w*|политик\w*|"
    r"filter\w*|filtr\w*|restrict\w*|restrizion\w*|einschrankung\w*|beperking\w*|ogranicze\w*|ограничени\w*|"
    r"unfiltered|uncensored|sans\s+filtre|sin\s+filtro|ohne\s+filter|senza\s+filtri)"
)
_TRANSLATE_OBEY = (
    r"\b(?:translate|decode|decipher|interpret|transliterate)\b[^\n]{0,200}?\b(?:then|and|afterwards|after\s+that)"
    r"\s*,?\s+(?:do|follow|execute|obey|carry\s+out|act\s+on|comply\s+with|perform)\s+(?:exactly\s+|precisely\s+|"
    r"just\s+)?(?:what(?:ever)?\s+it\s+(?:says|asks|tells|instructs|wants)|the\s+instructions?|its\s+instructions?|"
    r"them|it)\b",
    r"\btradui\w*\b[^\n]{0,200}?\b(?:puis|ensuite|et)\s+(?:fais|faites|execute\w*|applique\w*|suis|suivez|obeis)\s+"
    r"(?:exactement\s+)?(?:ce\s+qu'(?:il|elle|on)\s+(?:dit|demande)|les\s+instructions|la\s+consigne)|\btraduc\w*\b"
    r"[^\n]{0,200}?\b(?:luego|despues|y)\s+(?:haz|haga|ejecuta|sigue|cumple|obedece)\s+(?:exactamente\s+)?(?:lo\s+que\s+"
    r"(?:dice|pide)|las\s+instrucciones)|\bubersetz\w*\b[^\n]{0,200}?\b(?:dann|danach|und)\s+(?:tu|tue|mach|fuhre|"
    r"befolge|folge)\s+(?:dann\s*,?\s*)?(?:genau\s+|exakt\s+)?(?:das\s+aus,?\s+)?(?:was\s+(?:da|dort|darin|es)\s+(?:steht|sagt|"
    r"verlangt)|die\s+anweisung\w*|es\s+aus)|\btradu\w*\b[^\n]{0,200}?\b(?:poi|quindi|e)\s+(?:fai|esegui|segui|"
    r"obbedisci)\s+(?:esattamente\s+)?(?:quello\s+che|cio\s+che|le\s+istruzioni)|\btradu\w*\b[^\n]{0,200}?\b(?:depois|"
    r"entao|e)\s+(?:faca|faz|execute|executa|siga|segue|cumpra|obedeca)\s+(?:exatamente\s+)?(?:o\s+que\s+(?:diz|"
    r"pede|esta)|as\s+instrucoes)",
    r"\bvertaal\w*\b[^\n]{0,200}?\b(?:dan|daarna|en)\s+(?:doe|voer|volg)\s+(?:dan\s+)?(?:precies\s+)?(?:wat\s+(?:er|het)|de\s+"
    r"instructies|het\s+uit)|\bprzet(?:l|ł)umacz\w*\b[^\n]{0,200}?\b(?:potem|nast(?:e|ę)pnie|i)\s+(?:zr(?:o|ó)b|"
    r"wykonaj|post(?:e|ę)puj)|переведи\w*[^\n]{0,200}?(?:затем|потом|и)\s+(?:сделай|выполни|исполни|следуй)|"
    r"переклади\w*[^\n]{0,200}?(?:потім|і|та)\s+(?:зроби|виконай)|\bcevir\w*[^\n]{0,200}?(?:sonra|ardindan)\s+"
    r"(?:\w+\s+)?(?:diyorsa|soyluyorsa|soyledigini|talimat\w*)\s+(?:yap|uygula)|ترجم\S*[^\n]{0,200}?(?:ثم|و)\s*"
    r"(?:نفذ|افعل|اتبع)|תרגם[^\n]{0,200}?(?:ואז|ולאחר\s+מכן)\s*(?:עשה|תעשה|בצע|תבצע)|अनुवाद[^\n]{0,200}?(?:फिर|और)"
    r"\s*(?:जो|वही)[^\n]{0,30}(?:करो|करें|करना)|翻译[^\n]{0,60}?(?:然后|再|并)(?:照做|执行|按照|照着)|翻訳[^\n]{0,60}?"
    r"(?:その通りに|書かれている通り|実行|従って)|번역[^\n]{0,60}?(?:그대로|시키는\s*대로|지시대로)\s*(?:해|실행|따라)|"
    r"แปล[^\n]{0,80}?(?:แล้ว|จากนั้น)\s*(?:ทำตาม|ปฏิบัติตาม)|\bprelo(?:z|ž)\w*[^\n]{0,200}?(?:pak|potom|a)\s+"
    r"(?:udelej|proved|spln)|μεταφρασ\w*[^\n]{0,200}?(?:μετα|και)\s+(?:κανε|εκτελεσε)|\boversatt\w*[^\n]{0,200}?"
    r"(?:sedan|och)\s+(?:gor|utfor|folj)|\btradu\w*[^\n]{0,200}?(?:apoi|si)\s+(?:fa|executa|urmeaza)|\bforditsd\w*"
    r"[^\n]{0,200}?(?:majd|aztan|es)\s+(?:csinald|hajtsd|tedd)|\bterjemah\w*[^\n]{0,200}?(?:lalu|kemudian|dan)\s+"
    r"(?:lakukan|jalankan|ikuti)|\bdich\b[^\n]{0,200}?(?:roi|sau\s+do|va)\s+(?:lam\s+theo|thuc\s+hien)|ترجمه\s+کن"
    r"[^\n]{0,200}?(?:و\s+بعد|سپس|بعد)\s*(?:انجام\s+بده|اجرا\s+کن|عمل\s+کن)",
)
# A note inside pasted text addressed to an automated reader, or the numbers it is to misreport.
_READER_NOTE = (
    r"\b(?:note|message|instruction|memo)s?\s+(?:to|for)\s+(?:the\s+|any\s+)?(?:automated|automatic|ai|llm|language\s+"
    r"model|chatbot|bot)\s*(?:reviewer|checker|reader|assistant|parser|agent|system|model|processor|verifier)?s?\b|"
    r"\b(?:automated|automatic|ai)\s+(?:reviewer|checker|verifier|underwriter|parser)s?\s*:|\b(?:report|state|record|"
    r"enter|show|list)\s+(?:the\s+)?(?:net|gross)\s+(?:pay|income|salary)\s+as\s+[£$€]?\d|\[\[[^\]\n]{0,200}\bmark\s+"
    r"(?:it\s+|this\s+|them\s+)?as\s+(?:verified|approved|genuine|authentic)|\b(?:note|hinweis|nota|notitie|uwaga)\s+"
    r"(?:pour|an|para|per|voor|dla)\s+(?:l'|le\s+|la\s+|die\s+|den\s+|el\s+|il\s+|o\s+|a\s+|de\s+)?(?:ia|ki|ai|"
    r"relecteur\s+automatique|automatischen\s+prufer|revisor\s+automatico|revisore\s+automatico)\b",
)
_WITHOUT_RULES = (
    r"(?:sin\s+(?:reglas|restricciones)|sem\s+(?:regras|restricoes)|senza\s+(?:regole|restrizioni)|sans\s+(?:regles|"
    r"restrictions)|ohne\s+(?:regeln|einschrankungen)|zonder\s+(?:regels|beperkingen)|bez\s+(?:zasad|ogranicze(?:n|ń)|"
    r"pravidel|omezeni)|без\s+(?:правил|ограничений|обмежень)|kuralsiz|kurallari\s+olmayan|sinirsiz|(?:بدون|بلا|دون)\s+"
    r"(?:قواعد|قيود)|(?:בלי|ללא)\s+(?:חוקים|כללים|הגבלות)|बिना\s+(?:किसी\s+)?(?:नियम|प्रतिबंध)|没有规则|无限制|不受限制|"
    r"(?:ルール|規則|制限|制約)(?:の|が)(?:一切)?ない|규칙이?\s*없는|제한\s*없는|ไม่มีกฎ|ไร้กฎ|ไม่มีข้อจำกัด|χωρις\s+"
    r"(?:κανονες|περιορισμους)|utan\s+(?:regler|begransningar)|fara\s+(?:reguli|restrictii)|(?:szabalyok|korlatok)\s+"
    r"nelkul\w*|tanpa\s+(?:aturan|batasan)|khong\s+(?:co\s+)?(?:quy\s+tac|gioi\s+han)|بدون\s+(?:قانون|محدودیت))"
)
_ASSISTANT = (
    r"(?:ai|ia|ki|ии|bot|бот|chatbot|assistent\w*|asistente|assistente|assistant|asystent\w*|ассистент\w*|"
    r"асистент\w*|помощник\w*|asistan|yapay\s+zeka|مساعد|ذكاء\s+اصطناعي|עוזר|בוט|सहायक|एआई|助手|助理|人工智能|"
    r"アシスタント|ボット|어시스턴트|비서|챗봇|ผู้ช่วย|บอท|asistent|βοηθ\w*|asszisztens|asisten|tro\s+ly|دستیار|"
    r"هوش\s+مصنوعی)"
)
_IN_CHARACTER = (
    r"\btetap\s+dalam\s+peran|\bmantente\s+en\s+(?:el\s+|tu\s+)?(?:personaje|papel)|\bno\s+salgas\s+del\s+personaje|"
    r"\breste\s+dans\s+(?:ton|le)\s+(?:role|personnage)|\bbleib\s+in\s+(?:deiner\s+)?rolle|\bbleib\s+im\s+charakter|"
    r"\b(?:resta|rimani)\s+nel\s+(?:personaggio|ruolo)|\b(?:fique|mantenha-se|permaneca)\s+no\s+personagem|\bblijf\s+"
    r"in\s+(?:je\s+)?(?:rol|karakter)|\bzosta(?:n|ń)\s+w\s+roli|\bnie\s+wychod(?:z|ź)\s+z\s+roli|оставайся\s+в\s+роли|"
    r"не\s+выходи\s+из\s+роли|залишайся\s+в\s+ролі|\brolden\s+cikma|\brolunde\s+kal|ابق\s+في\s+(?:الدور|الشخصية)|"
    r"(?:תישאר|הישאר)\s+(?:בדמות|בתפקיד)|(?:किरदार|भूमिका)\s+में\s+(?:रहो|रहें|रहना)|保持角色|不要出戏|役になりきって|"
    r"役を崩さ|キャラを(?:保|守)|역할을\s*유지|캐릭터를\s*유지|อยู่ในบทบาท|\bzustan\s+v\s+roli|μεινε\s+στο(?:ν)?\s+"
    r"ρολο|\b(?:stanna|hall\s+dig)\s+i\s+rollen|\bramai\s+in\s+(?:rol|personaj)|\bmaradj\s+(?:a\s+)?szerepben|"
    r"\bgiu\s+vai|در\s+نقش\s+بمان"
)
_SUPPOSE_YOU_ARE = (
    r"(?:imagine\s+que\s+tu\s+es|suppose\s+que\s+tu\s+es|fais\s+comme\s+si\s+tu\s+etais|imagina\s+que\s+eres|supon\s+"
    r"que\s+eres|finge\s+que\s+eres|haz\s+como\s+si\s+fueras|stell\s+dir\s+vor,?\s+(?:dass\s+)?du|angenommen,?\s+du\s+"
    r"bist|tu\s+so,?\s+als\s+warst\s+du|immagina\s+di\s+essere|fingi\s+di\s+essere|supponi\s+di\s+essere|fai\s+finta\s+"
    r"di\s+essere|imagine\s+que\s+(?:voce|tu)\s+e|finja\s+que\s+(?:voce\s+)?e|suponha\s+que\s+(?:voce\s+)?e|stel\s+je\s+"
    r"voor\s+dat\s+je|doe\s+alsof\s+je|wyobra(?:z|ź)\s+sobie,?\s+(?:ze|że)\s+jeste(?:s|ś)|udawaj,?\s+(?:ze|że)\s+"
    r"jeste(?:s|ś)|za(?:l|ł)o(?:z|ż)my,?\s+(?:ze|że)\s+jeste(?:s|ś)|представь,?\s+что\s+ты|притворись,?\s+что\s+ты|"
    r"предположим,?\s+что\s+ты|допустим,?\s+ты|уяви,?\s+що\s+ти|вдавай,?\s+що\s+ти|(?:diyelim|farz\s+et|hayal\s+et)\s+ki"
    r"\s+sen|تخيل\s+انك|تظاهر\s+بانك|افترض\s+انك|لنفترض\s+انك|(?:תדמיין|דמיין|נניח)\s+שאתה|תעמיד\s+פנים\s+שאתה|मान\s+"
    r"(?:लो|लीजिए)\s+(?:कि\s+)?(?:तुम|आप)|कल्पना\s+करो\s+कि\s+(?:तुम|आप)|假设你是|假装你是|想象你是|假如你是|"
    r"あなたは今から|당신이\s*\S*\s*(?:라고|이라고)\s*가정|너는\s*이제|สมมติว่าคุณเป็น|สมมุติว่าคุณเป็น|แกล้งทำเป็น|"
    r"predstav\s+si,?\s+(?:ze|že)\s+jsi|predstirej,?\s+(?:ze|že)\s+jsi|φαντασου\s+οτι\s+εισαι|προσποιησου\s+οτι\s+εισαι|"
    r"latsas\s+att\s+du\s+ar|forestall\s+dig\s+att\s+du\s+ar|imagineaza-ti\s+ca\s+esti|prefa-te\s+ca\s+esti|kepzeld\s+"
    r"el,?\s+hogy|tegyuk\s+fel,?\s+hogy|anggap(?:lah)?(?:\s+saja)?\s+kamu|bayangkan\s+kamu|pura-pura(?:lah)?\s+kamu|"
    r"misalkan\s+kamu|gia\s+su\s+ban\s+la|hay\s+tuong\s+tuong\s+ban\s+la|hay\s+gia\s+vo\s+ban\s+la|hay\s+dong\s+vai|"
    r"(?:فرض|تصور)\s+کن\s+(?:که\s+)?(?:تو|شما)|وانمود\s+کن)"
)
_ROLE_NOUN = (
    r"(?:employee|staff|insider|hacker|scammer|fraudster|teller|cashier|fraud\s+team|employe\w*|empleado|"
    r"mitarbeiter\w*|dipendente|impiegat\w*|funcionario|medewerker|pracownik\w*|сотрудник\w*|работник\w*|"
    r"співробітник\w*|працівник\w*|calisan\w*|personel\w*|موظف|עובד|कर्मचारी|员工|職員|社員|직원|พนักงาน|"
    r"zamestnan\w*|υπαλληλ\w*|anstalld|angajat|alkalmazott|munkatars|karyawan|pegawai|nhan\s+vien|کارمند|haker|"
    r"хакер|penipu|estafador|arnaqueur|betruger|truffatore|golpista|oplichter|oszust|мошенник|шахрай|"
    r"dolandirici|محتال|נוכל|ठग|骗子|詐欺師|사기꾼|มิจฉาชีพ|podvodnik|απατεων\w*|bedragare|escroc|csalo|ke\s+lua\s+dao|"
    r"کلاهبردار|ai|ia|ki|ии|bot|бот|asisten|assistent\w*|asistente|assistente|ассистент\w*|助手|アシスタント|"
    r"어시스턴트|ผู้ช่วย)"
)

_TWICE, _POLICY_WORDS, _WITHOUT_RULES, _ASSISTANT, _SUPPOSE_YOU_ARE, _ROLE_NOUN = map(
    whole, (_TWICE, _POLICY_WORDS, _WITHOUT_RULES, _ASSISTANT, _SUPPOSE_YOU_ARE, _ROLE_NOUN)
)

ROLES_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "injection",
        lower_of(
            *_NO_RULES_ANSWER,
            anywhere(_TWICE, near(_TWICE, _POLICY_WORDS, r"[^\n]{0,150}?")),
            *_TRANSLATE_OBEY,
            *_READER_NOTE,
        ),
    ),
    (
        "role_play",
        lower_of(
            anywhere(_WITHOUT_RULES, near(_WITHOUT_RULES, _ASSISTANT, r"[^.?!\n]{0,30}?")),
            r"「?自由な(?:ai)」?|自由的ai|자유로운\s*ai|\byou(?:'re|\s+are)\s+(?:now\s+)?(?:a\s+)?['\"]?(?:free|freed|"
            r"liberated|unshackled)\s+ai\b|\b(?:ia|ki|ai)\s+(?:libre|libera|livre|freie)\b|\b(?:freie|vrije|wolna)\s+(?:ki|"
            r"ai)\b|свободн\w+\s+ии\b",
            _IN_CHARACTER,
            rf"{_SUPPOSE_YOU_ARE}[^.?!\n]{{0,40}}?{_ROLE_NOUN}",
        ),
    ),
)
