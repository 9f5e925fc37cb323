"""The guard's override, prompt-extraction and no-limits rules in languages beyond the first seven, including scripts
other than Latin (Cyrillic, Greek, Arabic, Devanagari, Chinese, Japanese, Korean).

The guard folds every view before matching (accents dropped, Cyrillic and Greek look-alikes read as Latin: "о" is
"o"), so these patterns are folded the same way when compiled: they are written as a speaker types them and match
the folded text. Chinese, Japanese and Korean have no spaces between words, so their verb and object are matched
within a window of characters, in either order (Japanese, Korean, Turkish and Hindi put the object first).
"""

from __future__ import annotations

import re

from chatbot.guard_views import fold

# Imperatives only ("забудь", not "забыл": "I forgot my PIN" is a customer's own problem); no "forget" in Chinese,
# Japanese or Korean, where "I forgot" is written the same way.
_OVERRIDE = (
    r"игнорируй|игнорируйте|забудь|забудьте|не\s+обращай\s+внимания|ігноруй|"
    r"αγνόησε|αγνοήστε|ξέχασε|ξεχάστε|"
    r"تجاهل|انس|إنس|"
    r"अनदेखा|भूल\s+जाओ|नज़रअंदाज़|"
    r"忽略|忽视|无视|無視|不要理会|不要理會|"
    r"무시|"
    r"\bunut\b|\byok\s+say|\bgormezden\s+gel|\bdikkate\s+alma|"
    r"\bbo\s+qua\s+(?:moi|tat\s+ca|cac|nhung|het)|\bphot\s+lo|"
    r"\babaikan\b|\blupakan\b|\bacuhkan\b|"
    r"\bignoruj\w*|\bzapomen\w*|\bignorujte|"
    r"\bunohda\b|\bohita\b|\bfelejtsd\s+el|\bhagyd\s+figyelmen|\bpuuza\b|\buita\b|"
    r"התעלם|שכח"
)
_INSTRUCTIONS = (
    r"инструкци\w*|указани\w*|правил\w*|промпт\w*|інструкці\w*|"
    r"οδηγίες|οδηγιών|κανόνες|εντολές|"
    r"التعليمات|تعليمات|الأوامر|القواعد|"
    r"निर्देश\w*|नियम\w*|"
    r"指令|指示|规则|規則|命令|"
    r"ルール|プロンプト|"
    r"지시|지침|규칙|명령|프롬프트|"
    r"\btalimat\w*|\bkural\w*|"
    r"\bhuong\s+dan\b|\bchi\s+thi\b|\bquy\s+tac\b|"
    r"\binstruksi\b|\bperintah\b|\baturan\b|\bpetunjuk\b|"
    r"\bpokyn\w*|\binstrukc\w*|\bpravidl\w*|"
    r"\bohjee\w*|\bsaann\w*|\butasitas\w*|\bmaagizo\b|\binstructiuni\w*|"
    r"ההוראות|הוראות"
)
_SYSTEM_PROMPT = (
    r"системн\w+\s+(?:промпт\w*|инструкци\w*|сообщени\w*|подсказк\w*|запрос\w*)|скрыт\w+\s+инструкци\w*|"
    r"οδηγίες\s+(?:του\s+)?συστήματος|κρυφές\s+(?:σου\s+)?οδηγίες|"
    r"تعليمات\s+النظام|موجه\s+النظام|"
    r"सिस्टम\s+प्रॉम्प्ट|"
    r"系统提示|系統提示|系统指令|系統指令|提示词|提示詞|"
    r"システムプロンプト|システム指示|"
    r"시스템\s*프롬프트|시스템\s*지시|"
    r"\bsistem\s+(?:istem\w*|talimat\w*|mesaj\w*)|"
    r"\b(?:prompt|instruksi|perintah)\s+sistem\b|\bloi\s+nhac\s+he\s+thong|\bhuong\s+dan\s+he\s+thong|"
    r"\bsystemov\w+\s+(?:prompt\w*|pokyn\w*|instrukc\w*)|\bjarjestelmakehote\w*"
)
_NO_LIMITS = (
    r"без\s+(?:ограничений|правил|цензуры|фильтров)|χωρίς\s+(?:περιορισμούς|κανόνες)|بدون\s+(?:قيود|قواعد)|"
    r"बिना\s+(?:किसी\s+)?(?:प्रतिबंध|नियम)|没有限制|无限制|不受限制|沒有限制|無限制|制限なし|制限のない|"
    r"제한\s*없는|제한\s*없이|\btanpa\s+(?:batasan|aturan|filter|sensor)\b|\bkhong\s+(?:co\s+)?(?:gioi\s+han|"
    r"quy\s+tac)\b|\bbez\s+(?:omezeni|pravidel|cenzury)\b|\bkuralsiz\b"
)
_NOW_YOU_ARE = (
    r"\bvanaf\s+nu\s+(?:ben\s+je|bent\s+u|jij)\b|\bsekarang\s+(?:kamu|anda)\s+(?:adalah|menjadi)\b|"
    r"теперь\s+ты\b|отныне\b|ab\s+heute\s+bist\s+du|\bartik\s+sen\b|从现在开始你|從現在開始你|今から(?:あなた|君)は|"
    r"지금부터\s*(?:너|당신)"
)

# "How much is on my ex-wife's account": the account followed by "of my <someone>" (genitive), not "on my account".
_OTHERS_ACCOUNT = (
    r"(?:скільки|сколько|баланс|залишок|остаток|виписк\w*|выписк\w*)\b.{0,40}(?:рахунк\w*|счет\w*|счёт\w*)\s+"
    r"(?:моєї|мого|моего|моей)\s+(?!картк|карт|рахунк|счет)\w+"
)


def _folded(*parts: str) -> re.Pattern[str]:
    """Parts joined as alternatives, folded like the text they will read (see the module docstring)."""
    return re.compile("(?i)" + "|".join(fold(p) for p in parts))


SCRIPT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "injection",
        _folded(
            rf"(?:{_OVERRIDE}).{{0,40}}?(?:{_INSTRUCTIONS})",
            rf"(?:{_INSTRUCTIONS}).{{0,30}}?(?:{_OVERRIDE})",
            _NO_LIMITS,
        ),
    ),
    ("prompt_extraction", _folded(_SYSTEM_PROMPT)),
    ("role_play", _folded(_NOW_YOU_ARE)),
    ("pii_fishing", _folded(_OTHERS_ACCOUNT)),
)
