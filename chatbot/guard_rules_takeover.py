"""The guard's rules for other people's accounts: getting into them (what it takes to reset someone's password,
their phone used to move their money, a SIM on their number, their code got by posing as the bank) and reading them
behind a pretext (a landlord, the parent of an adult, a debt, "his side" of a transfer, whether and where someone
banks, staff asking for a named customer) in the 28 languages the corpora use (chatbot/guard.py runs them after
chatbot/guard_rules_cashout.py).

The key is whose account it is and who would act: *someone else's* password, number or money, moved or read by the
asker. A carer resetting a password *for* a relative, a customer asking whether *their own* transfer arrived, a
parent of a minor (chatbot/guard.py exempts guardians and attorneys from ``other_customer``) and a victim telling how
a caller posed as the bank ask none of this. Same conventions as chatbot/guard_rules_setup_intl.py.
"""

from __future__ import annotations

import re

from chatbot.guard_rules_harm import lower_of
from chatbot.guard_rules_setup_intl import anywhere, near, near3, whole

# Someone else, as the owner of a password, a number or money.
_SOMEONE_ELSES = whole(
    r"(?:someone(?:\s+else)?'?s|somebody(?:\s+else)?'?s|another\s+person'?s|other\s+people'?s|a\s+stranger'?s|(?:my\s+|"
    r"a\s+|the\s+)?(?:neighbou?r|friend|flatmate|roommate|colleague|boss|employer|tenant|landlord|ex|customer|victim)"
    r"(?:'s|s')|"
    r"(?:de\s+)?(?:otra\s+persona|alguien(?:\s+mas)?|quelqu'un(?:\s+d'autre)?|une\s+autre\s+personne|jemand\w*\s+"
    r"anderem?|einer\s+anderen\s+person|fremde[nm]?|qualcun\s+altro|un'altra\s+persona|outra\s+pessoa|alguem|iemand\s+"
    r"anders|ko(?:g|k)o(?:s|ś)\s+innego|cudz\w+|чуж\w+|другого\s+человека|кого-то|чужий|чужого|іншої\s+людини|"
    r"baskasinin|baska\s+birinin|شخص\s+(?:اخر|آخر)|מישהו\s+אחר|nekoho\s+jineho|ciz\w+|καποιου\s+αλλου|nagon\s+annans|"
    r"altcuiva|unei\s+alte\s+persoane|valaki\s+mas\w*|orang\s+lain|nguoi\s+khac|شخص\s+دیگر\S*|کس\s+دیگر\S*))|"
    r"किसी\s+और\s+(?:के|की|का)|दूसरे\s+(?:के|की|का)|别人的?|他人の?|남의|다른\s*사람(?:의)?|คนอื่น"
)
_PASSWORD = whole(
    r"(?:passwords?|passcodes?|pins?|logins?|online\s+banking|security\s+questions?|contrasena|clave|mot\s+de\s+passe|"
    r"senha|palavra-passe|online-?banking|banca\s+(?:online|en\s+linea|por\s+internet)|banque\s+en\s+ligne|"
    r"internet\s?banking|net\s?banking|onlinebanking|app|aplicacion|anwendung|applicazione|aplicativo|онлайн-?банк\w*|"
    r"личн\w+\s+кабинет\w*|приложени\w*|uygulama\w*|"
    r"passwort|kennwort|zugangsdaten|wachtwoord|inlogcode|has(?:l|ł)o|пароль|пароля|парол\w+|sifre\w*|parola\w*|"
    r"كلمة\s+(?:السر|المرور)|סיסמ\S*|heslo|κωδικ\w*|losenord\w*|jelszav?\w*|kata\s+sandi|mat\s+khau|رمز\S*)|"
    r"पासवर्ड|密码|パスワード|暗証番号|비밀번호|รหัสผ่าน"
)
_RESET = whole(
    r"(?:reset|change|recover|unlock|get\s+into|log\s+into|access|restablecer|cambiar|recuperar|acceder|entrar|"
    r"reinitialiser|changer|acceder|zurucksetzen|andern|zugreifen|reimpostare|cambiare|accedere|redefinir|alterar|"
    r"acessar|entrar|resetten|wijzigen|inloggen|zresetowa(?:c|ć)|zmieni(?:c|ć)|odzyska(?:c|ć)|zalogowa(?:c|ć)|"
    r"сбросить|сменить|поменять|восстановить|войти|скинути|змінити|відновити|увійти|sifirla\w*|degistir\w*|gir\w*|zugang|komme\s+ich\s+an|"
    r"rankommen|"
    r"اعادة\s+تعيين|تغيير|الدخول|לאפס|לשנות|להיכנס|resetovat|zmenit|prihlasit|επαναφερ\w*|αλλαξ\w*|aterstall\w*|"
    r"andra|logga\s+in|resetez|schimb\w*|visszaallit\w*|megvaltoztat\w*|belep\w*|mereset|mengubah|masuk|dat\s+lai|"
    r"doi|dang\s+nhap|بازنشانی|تغییر|وارد)|रीसेट|बदल|重置|修改|登录|リセット|変更|ログイン|재설정|변경|로그인|รีเซ็ต|เปลี่ยน|เข้า"
)
_INTO_SOMEONES = (
    # What the asker needs to know about someone to get into their account; resetting it "myself".
    r"\b(?:what|which)\s+(?:\w+\s+)?(?:details|information|info|data|answers|questions)\s+(?:\w+\s+){0,4}?(?:about|on|of|"
    r"from)\s+(?:someone|somebody|a\s+person|another\s+person|him|her|them|my\s+\w+|the\s+account\s*holder)\s+"
    r"(?:\w+\s+){0,2}?to\s+(?:reset|change|access|get\s+into|log\s+into|unlock|recover|take\s+over|open)\b|\bwhat\s+(?:do|would|"
    r"should)\s+i\s+need\s+(?:to\s+know\s+)?(?:about|on|from)\s+(?:someone|somebody|a\s+person|him|her|them|my\s+\w+)\s+to\s+"
    r"(?:reset|change|access|get\s+into|log\s+into|unlock|recover)\b|\b(?:reset|change|unlock|access|get\s+into)\s+(?:his|"
    r"her|their)\s+(?:\w+\s+){0,2}?(?:password|passcode|pin|login|app|online\s+banking)\b[^.?!\n]{0,40}\bwithout\s+"
    r"(?:telling|asking)\s+(?:him|her|them)\b|\b(?:reset|"
    r"change|unlock|recover)\s+(?:their|his|her)\s+(?:\w+\s+){0,2}?(?:password|passcode|pin|login|online\s+banking)\b"
    r"[^.?!\n]{0,30}\b(?:myself|without\s+(?:them|him|her)\s+(?:knowing|noticing))",
    anywhere(_SOMEONE_ELSES, near3(_SOMEONE_ELSES, _PASSWORD, _RESET, r"[^.?!\n]{0,30}?")),
)
_MONEY = whole(
    r"(?:money|funds|savings|balance|cash|dinero|fondos|ahorros|argent|fonds|geld|guthaben|soldi|fondi|dinheiro|"
    r"fundos|pieni(?:a|ą)dze|(?:s|ś)rodki|деньги|средства|гроші|кошти|para\w*|اموال|أموال|المال|כסף|penize|χρηματα|"
    r"pengar|banii|bani|penz\w*|uang|dana|tien|پول)|पैसे|钱|お金|돈|เงิน"
)
_TO_MY_ACCOUNT = whole(
    r"(?:(?:in)?to\s+my\s+(?:own\s+)?account|a\s+mi\s+cuenta|sur\s+mon\s+compte|auf\s+mein\s+konto|sul\s+mio\s+conto|"
    r"para\s+a\s+minha\s+conta|naar\s+mijn\s+rekening|na\s+moje\s+konto|на\s+(?:мой|свой)\s+(?:сч(?:е|ё)т|счет|"
    r"карту)|на\s+(?:мій|свій)\s+рахунок|kendi\s+hesab\w*|hesabima|الى\s+حسابي|לחשבון\s+שלי|na\s+(?:muj|svuj)\s+"
    r"ucet|στο(?:ν)?\s+λογαριασμο\s+μου|till\s+mitt\s+konto|in\s+contul\s+meu|a\s+(?:sajat\s+)?szamlamra|ke\s+"
    r"rekening\s+(?:saya|aku|ku)|vao\s+tai\s+khoan\s+(?:cua\s+)?toi|به\s+حساب\s+(?:خودم|من))|अपने\s+खाते\s+में|"
    r"(?:转到|转进|转入)我的?(?:账户|卡)|自分の口座に|내\s*계좌로|เข้าบัญชี(?:ของ)?(?:ฉัน|ผม)"
)
_THEIR_MONEY = (
    anywhere(_TO_MY_ACCOUNT, near3(_SOMEONE_ELSES, _MONEY, _TO_MY_ACCOUNT, r"[^.?!\n]{0,50}?")),
    r"\b(?:how\s+(?:do|can|could|would)\s+i|what\s+would\s+i\s+(?:need|have)\s+to\s+do\s+to|i\s+(?:want|need)\s+to|help\s+"
    r"me)\s+(?:\w+\s+){0,2}?(?:move|transfer|send|take|get)\s+(?:all\s+(?:of\s+)?)?(?:their|his|her|someone'?s|"
    r"somebody'?s)\s+(?:money|funds|savings|balance|cash)\s+(?:in)?to\s+my\b|\b(?:got|get|had|have)\s+hold\s+of\s+"
    r"(?:someone|somebody|a\s+person|his|her|their)(?:'s)?\s+(?:phone|mobile|device|card|laptop)\b[^\n]{0,120}\b(?:move|"
    r"transfer|send|take)\b",
)
# A SIM on someone else's number, or their bank codes coming to the asker.
_THEIR_NUMBER = whole(
    r"(?:(?:someone(?:\s+else)?'?s|somebody(?:\s+else)?'?s|another\s+person'?s|his|her|their|the\s+victim'?s)\s+"
    r"(?:phone\s+|mobile\s+)?number|numero\s+de\s+(?:otra\s+persona|alguien|outra\s+pessoa|alguem)|numero\s+de\s+"
    r"quelqu'un|nummer\s+von\s+jemand\w*|fremde\s+nummer|numero\s+di\s+qualcun\w*|nummer\s+van\s+iemand\s+anders|"
    r"numer\s+(?:kogo(?:s|ś)\s+innego)|cudzy\s+numer|чужой\s+номер|чужий\s+номер|номер\s+другого\s+человека|"
    r"baskasinin\s+numara\w*|رقم\s+شخص\s+(?:اخر|آخر)|המספר\s+של\s+מישהו\s+אחר|cislo\s+nekoho\s+jineho|cizi\s+cislo|"
    r"αριθμο\s+καποιου\s+αλλου|nagon\s+annans\s+nummer|numarul\s+altcuiva|valaki\s+mas\s+(?:telefon)?szam\w*|nomor\s+"
    r"orang\s+lain|so\s+(?:dien\s+thoai\s+)?cua\s+nguoi\s+khac|شماره\s+(?:شخص|کس)\s+دیگر\S*)|किसी\s+और\s+के\s+नंबर|"
    r"别人的?(?:手机)?号码|他人の(?:電話)?番号|다른\s*사람(?:의)?\s*번호|เบอร์(?:ของ)?คนอื่น"
)
_SIM = (
    near(
        r"(?:\bsim\b|\be-?sim\b|סים|شريحة|сим|симк\w*|सिम|手机卡|sim卡|シム|유심|ซิม)", _THEIR_NUMBER, r"[^.?!\n]{0,60}?"
    ),
    r"\b(?:port|transfer|move|swap)\s+(?:someone(?:\s+else)?'?s|his|her|their|another\s+person'?s)\s+(?:phone\s+|mobile\s+)?"
    r"number\s+(?:to|onto)\s+(?:my|a\s+new)\b|\b(?:his|her|their|someone'?s|the\s+victim'?s)\s+(?:bank\s+|sms\s+|"
    r"security\s+|one-time\s+|verification\s+)?(?:codes?|otps?|texts)\s+(?:\w+\s+){0,2}?(?:come|go|arrive|get\s+sent|"
    r"are\s+sent)\s+to\s+(?:me|my)\b|הקודים\s+(?:\S+\s+){0,2}?יגיעו\s+אלי",
)
# Someone persuaded to give the asker their code or password, or the asker posing as the bank to get it.
_CODE = whole(
    r"(?:codes?|otps?|pins?|tans?|passwords?|login\s+codes?|one-time\s+codes?|inlogcode|code|codigo|clave|contrasena|"
    r"mot\s+de\s+passe|codice|senha|kod\w*|has(?:l|ł)o|код\w*|пароль|sifre\w*|الرمز|الكود|كلمة\s+السر|הקוד|הסיסמה|"
    r"heslo|κωδικο|losenord|parola|jelszav\w*|kata\s+sandi|ma\s+(?:otp|xac\s+thuc)|mat\s+khau|کد|رمز)|ओटीपी|कोड|"
    r"पासवर्ड|验证码|密码|認証コード|暗証番号|パスワード|인증\s*번호|비밀번호|รหัส"
)
_PERSUADE = whole(
    r"(?:convince|persuade|get|trick|talk|make)\s+(?:someone|somebody|people|a\s+customer|customers|victims?|an?\s+"
    r"(?:old|elderly)\s+\w+)\s+(?:\w+\s+){0,2}?(?:to\s+|into\s+)?(?:giv|hand|read|tell|shar|send)\w*\s+(?:me\b|over|out)|"
    r"(?:overtuigen|overhalen|zover\s+krijgen)\s+(?:\w+\s+){0,2}?(?:om\s+)?(?:mij|me)\b|convencer\s+a\s+(?:alguien|la\s+"
    r"gente|un\s+cliente)\s+(?:de|para)\s+que\s+me|convenz\w*\s+a\s+(?:alguien|la\s+gente|un\s+cliente)|"
    r"(?:bringe|uberrede|uberzeuge)\s+ich\s+(?:\w+\s+)?(?:jemand\w*|leute|menschen|kunden)|(?:jemand\w*|leute|"
    r"menschen|kunden)\s+dazu,?\s+mir|convaincre\s+(?:quelqu'un|les\s+gens|un\s+client)\s+de\s+me|"
    r"(?:bringen|uberreden|uberzeugen)\w*,?\s+mir\b|jemanden\s+(?:dazu\s+)?(?:bringen|uberreden|uberzeugen)|convincere"
    r"\s+(?:qualcuno|la\s+gente|un\s+cliente)\s+a\s+(?:darmi|dirmi)|convencer\s+(?:alguem|as\s+pessoas|um\s+cliente)\s+"
    r"a\s+me|przekona(?:c|ć)\s+(?:kogo(?:s|ś)|ludzi|klienta),?\s+(?:(?:z|ż)eby|aby)(?:\s+mi)?|убедить\s+(?:\w+\s+){0,2}?"
    r"(?:дать|сообщить|назвать|продиктовать)\s+мне|(?:заставить|уговорить|развести|вынудить)\s+(?:\w+\s+){0,2}?"
    r"(?:дать|сообщить|назвать|продиктовать|сказать)\s+мне|переконати\s+(?:\w+\s+){0,2}?(?:дати|повідомити|продиктувати)\s+"
    r"мені|ikna\s+(?:etmek|ederim|edebilirim)|(?:اقناع|اقنع)\s+(?:\S+\s+){0,3}?(?:باعطائي|يعطيني|اعطائي)|לשכנע\s+"
    r"(?:\S+\s+){0,2}?לתת\s+לי|presvedcit\s+(?:\w+\s+){0,2}?aby\s+mi|να\s+πεισω\s+(?:\S+\s+){0,3}?να\s+μου|overtyga\s+"
    r"(?:\w+\s+){0,2}?att\s+ge\s+mig|sa\s+conving\s+(?:\w+\s+){0,2}?sa-?mi|raven\w*\s+(?:\w+\s+){0,3}?hogy|(?:membujuk|"
    r"meyakinkan|menipu)\s+(?:\w+\s+){0,2}?(?:untuk\s+|agar\s+|supaya\s+)?(?:memberikan|memberi|menyebutkan)|thuyet\s+"
    r"phuc\s+(?:\w+\s+){0,3}?(?:dua|cung\s+cap|noi)|(?:قانع|متقاعد)\s+کنم|(?:让|骗|说服)(?:别人|他|她|对方|客户)(?:把)?|"
    r"(?:相手|他人|誰か|客)に[^。？！]{0,20}(?:教えさせ|言わせ|聞き出)|(?:상대방|다른\s*사람|누군가|고객)(?:에게|이)\s*\S*\s*"
    r"\S*\s*(?:알려\s*주게|받아\s*내|말하게)|"
    r"หลอก(?:ให้)?(?:คนอื่น|เขา|เหยื่อ|ลูกค้า)"
)
# Posing as the bank, said in the first person: a victim's "someone called pretending to be the bank" is left alone.
_AS_THE_BANK = whole(
    r"(?:(?:how\s+(?:do|can|could|would|should)\s+i|can\s+i|could\s+i|should\s+i|i\s+(?:want|need|plan)\s+to)\b"
    r"[^.?!\n]{0,80}\b(?:pretend\w*|pos(?:e|ing)\s+as|impersonat\w*|acting\s+as)\s+(?:that\s+)?(?:i'?m\s+|i\s+am\s+|to\s+"
    r"be\s+)?(?:calling\s+)?(?:from\s+)?(?:the|your|their|a)\s+bank|doen\s+alsof\s+ik\s+(?:\w+\s+){0,2}?(?:van|bij)\s+"
    r"de\s+bank|als\s+ob\s+ich\s+von\s+der\s+bank|mich\s+als\s+(?:\w+\s+)?bank\w*\s+ausgeben|en\s+me\s+faisant\s+passer\s+"
    r"pour|haciendome\s+pasar\s+por|facendomi\s+passare\s+per|fingendomi|me\s+passando\s+por|(?:jak|czy)\s+mog(?:e|ę)"
    r"[^.?!\n]{0,60}(?:podszy\w*|udawa\w*)|(?:как\s+(?:мне|я\s+могу)|могу\s+ли\s+я)[^.?!\n]{0,60}(?:притвори\w*|"
    r"представи\w*|выда\w*\s+себя)|(?:كيف|هل)\s+(?:يمكنني|استطيع)[^.?!\n]{0,40}انتحال|איך\s+(?:\S+\s+)?(?:יכול|אפשר)\s+"
    r"להתחזות|vydavat\s+se\s+za\s+(?:\w+\s+)?bank\w*|latsas\s+att\s+jag\s+(?:\w+\s+)?fran\s+banken|bagaimana\s+"
    r"(?:cara\s+)?(?:saya\s+)?(?:berpura-pura|menyamar)|lam\s+sao\s+(?:de\s+)?(?:toi\s+)?gia\s+(?:lam|danh))|"
    r"(?:कैसे|क्या\s+मैं)[^.?!\n]{0,30}बैंक\s+(?:का\s+कर्मचारी\s+)?बनकर|(?:どうすれば|どうやって)[^。？！]{0,20}銀行(?:員)?の"
    r"ふりをして|(?:어떻게)[^.?!]{0,20}은행(?:원|직원)?인\s*척"
)
# People made to click the asker's link, in a message that passes for the bank's.
_CLICK_MY_LINK = whole(
    r"(?:pour\s+que\s+les\s+gens\s+cliquent|para\s+que\s+(?:la\s+gente|las\s+personas)\s+(?:haga|hagan)\s+clic|damit\s+"
    r"(?:die\s+)?leute\s+(?:\w+\s+){0,3}?klicken|perche\s+la\s+gente\s+clicchi|para\s+que\s+as\s+pessoas\s+cliquem|"
    r"zodat\s+(?:mensen|ze)\s+(?:\w+\s+){0,3}?klikken|(?:z|ż)eby\s+ludzie\s+klikn\w*|чтобы\s+(?:люди|они)\s+(?:нажал\w*|"
    r"кликнул\w*|перешл\w*)|щоб\s+люди\s+(?:натиснул\w*|перейшл\w*)|linkime\s+tikla\w*|لكي\s+ينقر|שאנשים\s+ילחצו|"
    r"aby\s+(?:lide|lidi)\s+klikl\w*|να\s+κανουν\s+κλικ|sa\s+att\s+folk\s+klickar|ca\s+oamenii\s+sa\s+(?:dea\s+click|"
    r"apese)|hogy\s+(?:az\s+emberek\s+)?rakattintsanak|agar\s+orang\s+(?:meng)?klik|de\s+moi\s+nguoi\s+nhap|"
    r"کلیک\s+کنند)|लिंक\s+पर\s+क्लिक|点击我的链接|リンクをクリックさせ|링크를\s*클릭하게|ให้คนคลิก"
)
_THEIR_CODE = (
    anywhere(_PERSUADE, near(_PERSUADE, _CODE, r"[^.?!\n]{0,40}?")),
    anywhere(_AS_THE_BANK, near(_AS_THE_BANK, _CODE, r"[^\n]{0,100}?")),
    _CLICK_MY_LINK
    + r"[^\n]{0,60}?(?:\blink\b|\blien\b|\benlace\b|\blinkki\b|\blinkje\b|ссылк\w*|посилан\w*|رابط|קישור|"
    r"odkaz\w*|συνδεσμο|\blank\w*|\blegatur\w*|\bhivatkoz\w*|\btautan\b|lien\s+ket|لینک|लिंक|链接|リンク|링크|ลิงก์)?",
)

# Read-outs of someone else's account behind a pretext.
_NOT_OWN_TRANSFER = (
    r"^(?![\s\S]*\b(?:i\s+(?:sent|made|paid|transferred|set\s+up)|my\s+(?:transfer|payment|standing\s+order)|from\s+me|"
    r"von\s+mir|que\s+je\s+(?:lui\s+)?ai\s+envoy|que\s+(?:le|les)\s+envie|che\s+gli\s+ho|que\s+eu\s+(?:enviei|fiz)|"
    r"die\s+ik\s+(?:heb\s+)?(?:gestuurd|overgemaakt)|kt(?:o|ó)ry\s+wys(?:l|ł)a(?:l|ł)em|который\s+я\s+отправил)\b)"
)
_PAYMENT_OF_THEIRS = (
    r"\b(?:confirm|check|see|tell\s+me|verify|find\s+out|look)\s+(?:\w+\s+){0,2}?(?:whether|if)\s+(?:a|the|any|his|her|"
    r"their)\s+(?:\w+\s+)?(?:payment|transfer|money|rent|deposit|amount)s?\s+(?:\w+\s+){0,2}?(?:left|went\s+out\s+of|"
    r"came\s+out\s+of|was\s+(?:sent|taken|paid)\s+(?:out\s+)?(?:from|of)|reached|landed\s+in|arrived\s+in|went\s+into|"
    r"came\s+into|was\s+paid\s+into)\s+(?:his|her|their|\w+'s)\s+account\b|\b(?:look\s+at|check|see)\s+(?:his|her|"
    r"their)\s+(?:side|end)\b|\bwho(?:\s+else)?\s+(?:is|are|has\s+been|have\s+been)\s+(?:paying|sending|transferring|"
    r"depositing)\s+(?:\w+\s+)?(?:in)?to\s+(?:his|her|their|\w+'s)\s+account\b|\b(?:whether|if)\s+(?:she|he|they)\s+"
    r"(?:has|have|holds?)\s+(?:an?|any)\s+(?:\w+\s+)?accounts?\s+(?:with\s+you|here|at\s+(?:your|this)\s+bank)"
)
# A debt as the pretext: "he owes me money", then anything about his account.
_OWES_ME = whole(
    r"(?:owes\s+me|schuldet\s+mir|me\s+doit|me\s+debe|mi\s+deve|me\s+deve|is\s+(?:me\s+)?(?:\w+\s+)?(?:geld\s+)?"
    r"schuldig|jest\s+mi\s+(?:winien|winna|d(?:l|ł)u(?:z|ż)n\w*)|wisi\s+mi|должен\s+мне|должна\s+мне|винен\s+мені|"
    r"bana\s+borc\w*|مدين\s+لي|يدين\s+لي|חייב\s+לי|dluzi\s+mi|μου\s+χρωσταει|ar\s+skyldig\s+mig|imi\s+datoreaz\w*|"
    r"tartozik\s+nekem|berutang|punya\s+utang|no\s+toi|بدهکار)|मुझे\s+पैसे\s+देने|欠我|借りがある|빚을\s*졌|ติดเงิน"
)
_THEIR_ACCOUNT = whole(
    r"(?:received|got|has\s+(?:an?\s+)?account|an\s+account\s+with\s+you|which\s+branch|balance|how\s+much|bekommen|"
    r"erhalten|konto|kontostand|recu|compte|solde|recibido|recibio|cuenta|saldo|ricevuto|conto|filiale|recebeu|conta|"
    r"agencia|ontvangen|rekening|filiaal|otrzyma\w*|dosta(?:l|ł)\w*|konto|oddzia(?:l|ł)\w*|получил\w*|сч(?:е|ё)т|счет|"
    r"отделени\w*|отримав|рахун\w*|hesab\w*|sube\w*|حساب\S*|رصيد\S*|חשבון|סניף|ucet|pobock\w*|λογαριασμ\w*|konto|"
    r"kontor|cont|sucursal\w*|szamla\w*|fiok\w*|rekening|cabang|tai\s+khoan|chi\s+nhanh|شعبه)|खाता|账户|口座|계좌|บัญชี"
)
_THIRD_READ_OUT = (
    r"(?:how\s+much\s+(?:money\s+)?(?:she|he|they)\s+(?:has|have|had)?\s*(?:spent|spends|earns|withdr[ae]w\w*|received)|"
    r"what\s+(?:she|he|they)\s+(?:has\s+)?(?:spent|bought)|combien\s+(?:d'argent\s+)?(?:elle|il)\s+a\s+(?:depense|"
    r"retire|recu|sur\s+son\s+compte)|cuanto\s+(?:dinero\s+)?(?:ha\s+)?(?:gastado|gasto|retirado|recibido|tiene)|wie\s*"
    r"viel\s+(?:geld\s+)?(?:sie|er)\s+(?:\w+\s+){0,3}?(?:ausgegeben|abgehoben|bekommen|hat)|wie\s*viel\s+(?:geld\s+)?"
    r"(?:hat|haben)\s+(?:sie|er)\s+(?:\w+\s+){0,3}?(?:ausgegeben|abgehoben|bekommen)|combien\s+a-t-(?:elle|il)\s+"
    r"(?:depense|retire|recu)|how\s+much\s+(?:money\s+)?(?:has|did)\s+(?:she|he)\s+(?:spent|spend|withdrawn|withdraw|"
    r"received)|combien\s+(?:d'argent\s+)?a-t-(?:elle|il)\b|quanto\s+(?:ha\s+)?"
    r"(?:speso|prelevato|ricevuto)|quanto\s+(?:ela|ele)\s+(?:gastou|tem|recebeu|sacou)|hoeveel\s+(?:geld\s+)?(?:zij|ze|"
    r"hij)\s+(?:heeft\s+)?(?:uitgegeven|opgenomen|ontvangen)|hoeveel\s+(?:geld\s+)?heeft\s+(?:hij|zij|ze)\s+"
    r"(?:\w+\s+)?(?:uitgegeven|opgenomen|ontvangen)|ile\s+(?:pieni(?:e|ę)dzy\s+)?(?:ona|on)\s+(?:wyda(?:l|ł)\w*|"
    r"ma|wyp(?:l|ł)aci(?:l|ł)\w*)|сколько\s+(?:денег\s+)?(?:она|он)\s+(?:потратил\w*|снял\w*|получил\w*)|скільки\s+"
    r"(?:грошей\s+)?(?:вона|він)\s+(?:витратил\w*|витратив|зняв|зняла)|(?:his|her|their)\s+(?:spending|balance|"
    r"transactions|statements?|account\s+activity)|son\s+solde|ses\s+depenses|sus\s+gastos|su\s+saldo|"
    r"seine[nm]?\s+(?:kontostand|ausgaben)|ihre[nm]?\s+(?:kontostand|ausgaben)|le\s+sue\s+spese|il\s+suo\s+saldo|"
    r"os\s+gastos\s+del[ae]|o\s+saldo\s+del[ae]|zijn\s+saldo|haar\s+(?:saldo|uitgaven)|jego\s+(?:saldo|wydatki)|"
    r"jej\s+(?:saldo|wydatki)|(?:его|её|ее)\s+(?:баланс|расход\w*|трат\w*|остаток))"
)
# An adult (18 or older) named with their age, and how much they spent: a parent has no rights to it; whoever
# holds a power of attorney or a joint account is left alone here.
_ADULT_AGE = whole(
    r"(?:(?<!\d)(?:1[89]|[2-9]\d)\s*(?:-?\s*years?(?:\s*-?\s*old)?|yo|ans|anos|anni|jahre|jaar|lat|лет|год\w*|рок\w*|"
    r"yasinda|سنة|عاما|שנים|let|ετων|ar|ani|eves|tahun|tuoi|ساله)|adult|grown-?up|adulte|adult[oa]|erwachsen\w*|"
    r"volwassen|doros(?:l|ł)\w*|взросл\w*|доросл\w*|yetiskin|بالغ\S*|בוגר\S*|dospel\w*|ενηλικ\w*|vuxen|felnott|"
    r"dewasa|truong\s+thanh|بزرگسال|(?:is|she'?s|he'?s|turned|ist|est|tiene|tem|heeft|jest|ma)\s+(?:now\s+|already\s+)?"
    r"(?<!\d)(?:1[89]|[2-9]\d)(?![\d,.]?\d|\s*(?:pounds|euros?|dollars|%|£|\$|€|p\b|k\b)))|(?<!\d)(?:1[89]|[2-9]\d)\s*(?:साल|岁|歳|살|ปี)|बालिग|成年|성인|ผู้ใหญ่"
)
_ACTS_FOR = (
    r"^(?![\s\S]*(?:attorney|guardian|deputy|vollmacht|betreuer|procuration|tutel|poder\s+notarial|procuracao|"
    r"volmacht|bewindvoerder|pe(?:l|ł)nomocn|доверенност|опекун|vekalet|joint|conjunta|commun|gemeinsam|cointestato))"
)
_OTHERS_DATA_INTL = (
    # Japanese, Chinese, Korean: others' accounts or balances; Arabic "his balance"; Persian "my husband's card";
    # Hinglish "does a man named X have an account".
    r"他人の(?:口座|残高|カード|取引)|别人的?(?:账户|帐户|余额|银行卡|流水)|我(?:男朋友|女朋友|老公|老婆|丈夫|妻子|哥哥|"
    r"弟弟|姐姐|妹妹|朋友|邻居|同事|前妻|前夫|男友|女友)的?(?:账户|帐户|卡|银行卡)(?:里|上)?(?:还)?(?:有多少|的余额|"
    r"余额|流水)|남의\s*(?:계좌|잔액|잔고)|(?:اعطني|اخبرني|قل\s+لي|اعرض)\s+(?:\S+\s+){0,3}?(?:رصيده|رصيدها|"
    r"عملياته|عملياتها|كشف\s+حسابه|كشف\s+حسابها)|صاحب\s+الحساب[^.?!\n]{0,80}(?:رصيد|العمليات|كشف)|(?:شماره\s+"
    r"(?:\S+\s+)?کارت|موجودی|تراکنش|صورتحساب|گردش\s+حساب)\S*\s+(?:\S+\s+){0,3}?(?:شوهرم|همسرم|زنم|برادرم|خواهرم|"
    r"پدرم|مادرم|دوستم|همسایه\S*|مستاجرم|صاحبخانه\S*|رئیسم|همکارم)|\bnaam\s+(?:ka|ki|ke)\b[^.?!\n]{0,80}\baccount\s+"
    r"(?:rakhta|rakhti|hai)|\b(?:uska|uski|uske|unka|unki|unke)\s+(?:account|khata|balance|statement|transactions?)\b",
)
_WHERE_THEY_BANK = (
    r"\bse\s+(?:(?:lui|lei)\s+)?ha\s+un\s+conto\s+(?:da\s+voi|presso\s+di\s+voi|con\s+voi|nella\s+vostra)|\bsi\s+"
    r"(?:(?:el|ella)\s+)?tiene\s+(?:una\s+)?cuenta\s+(?:con\s+ustedes|en\s+(?:su|este)\s+banco|aqui)|\bs'il\s+a\s+un\s+"
    r"compte\s+chez\s+vous|\bsi\s+elle\s+a\s+un\s+compte\s+chez\s+vous|\bob\s+(?:er|sie)\s+(?:ein\s+)?konto\s+bei\s+"
    r"(?:ihnen|euch)|\bse\s+(?:ele|ela)\s+tem\s+(?:uma\s+)?conta\s+(?:com\s+voces|no\s+(?:seu\s+)?banco|aqui)|\bof\s+"
    r"(?:hij|zij|ze)\s+een\s+rekening\s+(?:bij\s+jullie|bij\s+u)|\bczy\s+(?:on|ona)?\s*ma\s+(?:u\s+was|w\s+waszym\s+"
    r"banku)\s+konto|есть\s+ли\s+у\s+(?:него|неё|нее)\s+(?:сч(?:е|ё)т|счет)|чи\s+(?:є|е)\s+(?:у|в)\s+(?:нього|неї)\s+"
    r"рахунок|\bhangi\s+subede\s+hesab\w*|\b(?:sizde|bankanizda)\s+hesab\w*\s+var\s+mi|هل\s+(?:لديه|لديها|عنده|"
    r"عندها)\s+حساب|האם\s+יש\s+(?:לו|לה)\s+חשבון|(?:उसका|उसकी)\s+(?:\S+\s+){0,3}?खाता\s+है|(?:他|她)(?:在你们\S{0,4})?"
    r"有没有(?:账户|帐户)|口座を持って(?:いる|ます)か|계좌가\s*있는지|เขามีบัญชี|\bjestli\s+(?:\w+\s+)?ma\s+u\s+vas\s+"
    r"ucet|\bom\s+(?:han|hon)\s+har\s+(?:ett\s+)?konto\s+hos\s+(?:er|dig)|\bdaca\s+(?:\w+\s+)?are\s+cont\s+la\s+"
    r"(?:voi|dumneavoastra)|\bvan-e\s+(?:\w+\s+)?szamlaja|\bapakah\s+(?:dia\s+)?(?:punya|memiliki)\s+rekening|"
    r"\bco\s+tai\s+khoan\s+(?:o|tai)\s+(?:ngan\s+hang\s+)?(?:cac\s+ban|nay)|در\s+(?:بانک\s+)?شما\s+حساب\s+دارد|"
    r"\b(?:in\s+)?which\s+branch\s+(?:he|she|they)\s+(?:banks|has|have|holds?)\b"
)
_WHETHER_THEY = whole(
    r"(?:(?:whether|if)\s+(?:he|she|they)|(?:does|has)\s+(?:he|she)\s+(?:have|got)\s+an?\s+account|hat\s+(?:er|sie)\s+"
    r"(?:ein\s+)?konto|(?:ele|ela)\s+tem\s+(?:uma\s+)?conta|tiene\s+(?:una\s+)?cuenta|a-t-(?:il|elle)\s+un\s+compte|"
    r"ha\s+un\s+conto|heeft\s+(?:hij|zij|ze)\s+een\s+rekening|ob\s+(?:er|sie)|s'il|si\s+elle|si\s+(?:el|ella)|se\s+(?:lui|lei|ele|ela)|"
    r"se\s+ha\s+(?:ricevuto|un\s+conto)|of\s+(?:hij|zij|ze)|czy\s+(?:on|ona)|czy\s+(?:dosta(?:l|ł)|otrzyma(?:l|ł)|ma)|"
    r"ли\s+(?:он|она)|ли\s+у\s+(?:него|неё|нее)|ли\s+(?:ему|ей)|чи\s+(?:він|вона)|чи\s+(?:є|е)\s+у\s+(?:нього|неї)|"
    r"hesab(?:i|ina|inda)|هل\s+(?:لديه|لديها|استلم|تلقى|وصله)|حسابه|حسابها|האם\s+(?:הוא|היא|יש\s+לו|יש\s+לה)|jestli\s+"
    r"(?:ma|dostal)|αν\s+(?:εχει|ελαβε)|om\s+(?:han|hon)|daca\s+(?:a\s+primit|are)|hogy\s+(?:kapott|van)|apakah\s+"
    r"(?:dia|ia)|rekeningnya|lieu\s+(?:anh\s+ay|co\s+ay)|آیا\s+او|حسابش)|क्या\s+(?:उसने|उसका|उसके)|(?:他|她)(?:有没有|"
    r"是否|昨天)|彼(?:女)?の口座|(?:그|그녀)의?\s*계좌|บัญชีของเขา"
)
# Staff who say they work at this bank, asking for a customer's balance or statements.
_STAFF_ME = whole(
    r"(?:je\s+suis\s+(?:le\s+|la\s+)?(?:directeur|directrice|responsable|conseill\w+|employ\w+)\s+(?:d'agence|de\s+(?:la|"
    r"cette)\s+(?:banque|agence))|soy\s+(?:el\s+|la\s+)?(?:gerente|director\w*|emplead\w+|cajer\w+)\s+(?:de\s+(?:la\s+|"
    r"esta\s+)?)?(?:sucursal|banco|oficina)|ich\s+bin\s+(?:der\s+|die\s+)?(?:filialleiter\w*|bankangestellt\w*|"
    r"mitarbeiter\w*\s+(?:dieser|der|ihrer)\s+(?:bank|filiale))|sono\s+(?:il\s+|la\s+)?(?:direttore|direttrice|"
    r"dipendente|impiegat\w)\s+(?:della|di\s+questa)\s+(?:filiale|banca)|sou\s+(?:o\s+|a\s+)?(?:gerente|funcion\w+|"
    r"bancari\w)\s+(?:da|desta)\s+(?:agencia|banco)|ik\s+ben\s+(?:de\s+)?(?:filiaalmanager|filiaalhouder|"
    r"bankmedewerker|medewerker\s+van\s+(?:deze|de)\s+bank)|jestem\s+(?:kierownikiem|dyrektorem|pracownikiem)\s+"
    r"(?:oddzia(?:l|ł)u|tego\s+banku|banku)|я\s+(?:управляющ\w+|сотрудник\w*|работник\w*|менеджер\w*)\s+(?:этого\s+|"
    r"вашего\s+)?(?:отделения|банка)|я\s+(?:керуюч\w+|співробітник\w*|працівник\w*)\s+(?:цього\s+|вашого\s+)?"
    r"(?:відділення|банку)|sube\s+muduru\w*|bankanin\s+(?:calisan\w*|personel\w*)|انا\s+(?:مدير|موظف)\s+(?:في\s+)?"
    r"(?:هذا\s+)?(?:الفرع|البنك)|אני\s+(?:מנהל|עובד)\S*\s+(?:ה)?(?:סניף|בנק)|jsem\s+(?:vedouci\s+pobocky|zamestnan\w+)"
    r"\s+(?:teto\s+)?(?:banky|pobocky)|ειμαι\s+(?:ο\s+)?(?:διευθυντης|υπαλληλος)\s+(?:του\s+|της\s+)?(?:καταστηματος|"
    r"τραπεζας)|jag\s+ar\s+(?:kontorschef|anstalld)\s+(?:pa|vid)\s+(?:banken|kontoret)|sunt\s+(?:directorul|angajat\w*)\s+"
    r"(?:sucursalei|bancii)|fiokvezeto|bank\s+(?:alkalmazottja|munkatarsa)\s+vagyok|saya\s+(?:adalah\s+)?(?:kepala\s+"
    r"cabang|pegawai|karyawan)\s+(?:bank|cabang)|toi\s+la\s+(?:giam\s+doc\s+chi\s+nhanh|nhan\s+vien)\s+(?:ngan\s+hang|"
    r"chi\s+nhanh)|من\s+(?:مدیر\s+شعبه|کارمند)\s+(?:این\s+)?(?:بانک|شعبه))|मैं\s+(?:इसी|इस)?\s*बैंक\s+(?:का|की|में)\s+"
    r"(?:\S+\s+)?(?:परबंधक|प्रबंधक|कर्मचारी|मैनेजर|अधिकारी)|我是(?:这家|本|你们)?(?:银行|支行|分行)的?(?:行长|经理|员工|职员|"
    r"工作人员)|(?:この)?(?:銀行|支店)の(?:支店長|行員|社員|職員)|(?:이\s*)?(?:은행|지점)의?\s*(?:지점장|직원|행원)|"
    r"(?:ฉัน|ผม)เป็น(?:ผู้จัดการสาขา|พนักงาน)"
)
_CUSTOMER = whole(
    r"(?:customer|client|kunde\w*|cliente|klant|klient\w*|клиент\w*|клієнт\w*|musteri\w*|عميل|العميل|לקוח|"
    r"zakaznik\w*|πελατ\w*|kund|ugyfel\w*|nasabah|khach\s+hang|مشتری)|ग्राहक|客户|顧客|お客様|고객|ลูกค้า"
)
_BALANCE = whole(
    r"(?:balance|statements?|transactions|saldo|solde|kontostand|umsatze|movimient\w+|movimenti|movimentos|transacties|"
    r"остат\w*|баланс\w*|выписк\w*|залишок|виписк\w*|bakiye\w*|ekstre\w*|رصيد\S*|יתרה|zustatek|υπολοιπ\w*|sold\w*|"
    r"egyenleg\w*|so\s+du|موجودی)|बैलेंस|शेष|余额|残高|잔액|ยอดเงิน"
)

TAKEOVER_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("fraud_help", lower_of(*_INTO_SOMEONES, *_THEIR_MONEY, *_SIM, *_THEIR_CODE)),
    (
        "other_customer",
        lower_of(
            _NOT_OWN_TRANSFER + r"[\s\S]*?" + _PAYMENT_OF_THEIRS,
            anywhere(_OWES_ME, near(_OWES_ME, _WHETHER_THEY, r"[^\n]{0,150}?")),
            *_OTHERS_DATA_INTL,
            _WHERE_THEY_BANK,
        ),
    ),
    ("pii_fishing", lower_of(_ACTS_FOR + r"[\s\S]*?" + _ADULT_AGE + r"[\s\S]{0,150}?" + _THIRD_READ_OUT)),
    ("impersonation", lower_of(_STAFF_ME + r"[^\n]{0,200}?" + near(_CUSTOMER, _BALANCE, r"[^.?!\n]{0,60}?"))),
)
