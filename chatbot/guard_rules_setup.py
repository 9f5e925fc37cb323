"""The guard's rules for the bot's setup asked for in other words, rules voided or swapped, role setups and pasted
commands in more languages, statements dictated to the bot, and insults or slurs asked of it (chatbot/guard.py runs
them last).

Prompt extraction asks for "every rule your developers gave you", "the guidelines that shape your answers", "the
version you currently have" of a pushed prompt, "the endpoint and auth key you use", or which rule "made you" refuse.
Dictated statements put a promise or an admission in the bot's mouth for a third party to read ("write that the bank
owes me", "just type 'Your mortgage is approved'", "say yes and we'll treat this chat as binding"); a customer asking
*whether* something is approved asks nothing of the sort. Abuse asks the bot to insult or defame someone or rank
people by ethnicity. Same conventions as chatbot/guard_rules.py; other scripts folded like the text.
"""

from __future__ import annotations

import re

from chatbot.guard_views import fold
from chatbot.guard_vocabulary import any_of

_RULES_NOUN = r"(?:rules?|instructions?|guidelines?|directives?|orders|prompt|polic(?:y|ies))"
_MAKERS = r"(?:developers?|creators?|makers?|operators?|the\s+bank|programmers?|engineers?|owners?|bank)"
# The bot as the one addressed in a note inside pasted text (as in chatbot/guard_rules_more.py).
_BOT = r"(?:ai|a\.i\.|ki|ia|chatbot|bot|assistant|assistent|asistente|assistente|asystent\w*|llm)"
# Past-tense results a dictated sentence claims.
_GRANTED = r"(?:approved|refunded|waived|granted|cancel+ed|unblocked|paid|accepted|confirmed|reimbursed)"

_SCRIPT_PARTS = (
    # "the instructions (the developers) gave you", in Ukrainian/Russian, Arabic, Turkish, Japanese.
    r"інструкці\w*\s+(?:тобі|вам)\s+(?:\w+\s+)?(?:дали|надали)|инструкци\w*\s+(?:тебе|вам)\s+(?:\w+\s+)?дали|"
    r"дослівно|дословно|التعليمات\s+التي\s+(?:أعطاك|اعطاك|أعطيت|اعطيت|تلقيت)|\bsana\s+verilen\s+(?:talimat|kural|"
    r"yonerge|komut)\w*|(?:設定|与え)(?:され|られ)(?:ている|た)(?:指示|命令|ルール|プロンプト)|指示文",
)
_ROLE_SCRIPTS = (
    r"представь,?\s+что\s+ты|уяви,?\s+що\s+ти|ролев\w+\s+игр\w*|рольов\w+\s+гр\w*|\bв\s+образе\b|"
    r"не\s+зважай\s+на|відтепер\s+ти|\boyun\s+oynayalim\b|\bkurallari\s+olmayan\b|\banggap(?:lah)?\s+(?:kamu|anda|"
    r"dirimu)\b|\bbayangkan\s+(?:kamu|anda)\b|【\s*(?:システム|system|管理者|admin)\s*】",
)
_DICTATION_SCRIPTS = (r"['\"‘’“”「][^'\"‘’“”」]{1,30}['\"‘’“”」]\s*(?:라고|이라고)\s*(?:만\s*)?(?:써|말해|적어|답해)",)

SETUP_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "prompt_extraction",
        any_of(
            rf"\bwhat\s+(?:are|were)\s+your\s+(?:\w+\s+)?(?:instructions|rules|guidelines|directives|orders)\b(?=\s*"
            rf"(?:[?.!,]|$|and\b|exactly|in\s+full))|\b{_RULES_NOUN}\s+(?:that\s+)?(?:your\s+|the\s+)?{_MAKERS}\s+"
            r"(?:gave|have\s+given|give|set|wrote|put|told|programmed|handed)\s+(?:you|to\s+you)\b|\b(?:which|what)\s+"
            rf"{_RULES_NOUN}\s+did\s+(?:your\s+|the\s+)?{_MAKERS}\s+give\s+you\b",
            r"\b(?:what|which)\s+(?:\w+\s+)?(?:model|llm)\s+(?:are\s+you|is\s+this|do\s+you)\s+(?:running|built|based|"
            r"using|run)\b|\btemperature\s+(?:and|or|,)\s+(?:\w+\s+){0,2}?(?:max|top|token)|\bmax[-_\s]tokens?\s+"
            r"(?:settings?|limits?|values?|parameters?)\b|\b(?:endpoint|auth(?:entication|orization)?\s+(?:key|token|"
            r"header)|access\s+token|bearer\s+token|api\s+(?:url|credentials))s?\b(?:\s+\w+){0,4}?\s+you\s+(?:use|call|"
            r"hit|query|connect)",
            r"\b(?:which|what)\s+(?:specific\s+|exact\s+|particular\s+)?(?:rule|instruction|guideline|policy|line|part)\s+"
            r"(?:of\s+your\s+\w+\s+)?(?:made|caused|told|forced|led)\s+you\b|\b(?:loaded|stored|indexed|embedded)\s+"
            r"(?:in|into)\s+you\b|\bfolder\s+paths?\b|\bfile\s+paths?\b",
            r"\b(?:guidelines|rules|instructions|principles|directives)\s+(?:that\s+|which\s+)?(?:shape|govern|guide|"
            r"control|determine|drive|dictate|constrain|define)\s+(?:your\s+(?:answers|responses|replies|behaviou?r|"
            r"output)|how\s+you\s+(?:answer|respond|behave|reply))\b|\b(?:pushed|deployed|shipped|rolled\s+out|uploaded)"
            r"\s+(?:a\s+)?(?:new\s+)?(?:prompt|system\s+prompt|config\w*|instructions)\b|\b(?:decision\s+)?rules\s+you\s+"
            r"use\s+(?:for|to|when)\s+(?:refus|declin|reject|flag|block)\w*",
            r"\b(?:deine|ihre|eure|die)\s+(?:internen|vertraulichen)\s+(?:anweisungen|regeln|vorgaben|richtlinien|"
            r"instruktionen|einstellungen)\b|\bals\s+vertraulich\s+(?:markiert|gekennzeichnet)\b|\bparola\s+per\s+parola"
            r"\b|\b(?:prima\s+del\s+mio|avant\s+mon|antes\s+de\s+mi|vor\s+meiner)\s+(?:primo|premier|primer|ersten)\s+"
            r"(?:messaggio|message|mensaje|nachricht)\b|\b(?:prompt|instructies|regels)\s+(?:\w+\s+){0,3}?waarmee\s+je\s+"
            r"(?:bent|werd|wordt)\s+(?:ingesteld|geconfigureerd|geprogrammeerd)|\b(?:setari|configurari|instructiuni|"
            r"reguli)\w*\s+(?:tale|voastre)\s+(?:interne|secrete|ascunse|initiale)\b",
            r"\b(?:paste|show|send|print|share)\s+(?:me\s+)?the\s+version\s+(?:you|u)\s+(?:currently\s+)?(?:have|run|"
            r"use|got)\b",
        ),
    ),
    ("prompt_extraction", re.compile("(?i)" + "|".join(fold(p) for p in _SCRIPT_PARTS))),
    (
        "injection",
        any_of(
            r"\bnew\s+(?:polic(?:y|ies)|rules?|instructions?|directives?)\s*,\s*(?:effective|starting|applies)\s+"
            r"(?:immediately|now|today)\b|\b(?:you\s+)?(?:may|can)\s+(?:now\s+)?discuss\s+(?:any|other|another)\b",
            r"\b(?:your|the\s+(?:content|safety|usage|moderation))\s+(?:\w+\s+){0,2}?polic(?:y|ies)\b.{0,60}\b(?:doesn'?t|"
            r"does\s+not|don'?t|no\s+longer)\s+apply\b|\bpolicy\s+you\s+follow\b|\b(?:answer|respond|reply)\s+without\s+"
            r"(?:it|them|that|those)\b",
            r"\b(?:swap|replace|exchange|substitute)\s+(?:them|your\s+(?:\w+\s+)?(?:rules|instructions|guidelines))\s+"
            r"(?:\w+\s+)?(?:for|with)\b|\b(?:always|just|only)\s+(?:comply|obey|agree)\s+with\s+(?:the\s+user|me|"
            r"whatever)\b|\b(?:only\s+follow|follow\s+only|obey\s+only|only\s+obey)\s+(?:what\s+i\s+say|me\b|my\s+\w+)|"
            r"\bsiga\s+(?:so|apenas|somente)\s+o\s+que\s+eu\b|\bsigue\s+solo\s+lo\s+que\s+(?:yo\s+)?(?:diga|digo)\b|"
            r"\bfoljer\s+du\s+(?:bara|endast)\s+mina\b|\bdesconsider\w*\s+(?:as|os|a|o|las|los)\s+(?:\w+\s+)?"
            r"(?:orientacoes|instrucoes|regras|normas|instrucciones|reglas)\b|\bstrunta\s+(?:\w+\s+)?i\s+(?:alla\s+)?"
            r"(?:tidigare\s+)?(?:instruktioner|regler)\b",
            r"\b(?:switch|turn|shut)\s+off\s+(?:whatever|any|the|your|all)\s+(?:\w+\s+)?filter\w*\s+(?:that'?s\s+|which\s+"
            r"is\s+|is\s+)?(?:checking|reading|scanning|screening|blocking)\b|\b(?:turn|switch|shut)\s+off\s+(?:the\s+|"
            r"your\s+)?(?:content|input|message|chat|prompt)\s+(?:filter|filtering|moderation)\b|\b(?:update|change|"
            r"amend|modify|rewrite|adjust|edit)\s+(?:your|the\s+bot'?s)\s+(?:\w+\s+)?(?:rules|instructions|guidelines|"
            r"programming|prompt)\s+(?:so|to)\b|\bdo\s+it\s+anyway\b|\bwhat\s+you(?:'d|\s+would)\s+(?:normally|usually)"
            r"\s+refuse\b|\bwithout\s+(?:any\s+)?(?:safety|content)\s+(?:rules|filters|restrictions|guidelines|checks)\b",
            rf"\bif\s+you\s+are\s+(?:an?\s+)?(?:ai|a\.i\.|language\s+model|llm|chatbot|bot|(?:ai\s+|virtual\s+)?assistant)"
            r"\b,?\s+(?:please\s+)?(?:confirm|tell|say|ignore|reply|respond|approve|mark|treat|inform|do|state)\b|\b(?:confirm|"
            r"tell|say|state|assure|inform)\s+(?:to\s+)?(?:the\s+)?(?:user|customer|client|reader)\s+that\b|[\[„\"'«(]\s*"
            rf"(?:\w+\s+){{0,3}}?{_BOT}(?:-\w+)?\s*:",
            # Statements dictated for a third party to read.
            rf"\b(?:type|write|say|reply|print|output|schreib\w*)\s+(?:\w+\s+){{0,2}}?['\"„“]\s*(?:your|the|my)\s+"
            rf"(?:\w+\s+){{0,2}}?(?:is|has\s+been|was|are|have\s+been)\s+(?:now\s+)?{_GRANTED}\b|\bpromise\b.{{0,60}}"
            r"\b(?:approved|waived|refunded|guarantee\w*|0\s*%|zero\s+percent)|\bsay\s+yes\s+and\b|\b(?:treat|consider)\s+"
            r"this\s+(?:chat|conversation)\s+as\s+(?:a\s+)?(?:binding|legal|contract)",
            r"\b(?:write|say|state|confirm|type|put)\s+(?:\w+\s+)?(?:that\s+)?(?:the\s+bank|you|bramblecove|your\s+bank)\s+"
            r"(?:owes?|admits?|guarantees?|acknowledges?|promises?)\b|\b(?:escribe|di|pon|confirma)\s+que\s+el\s+banco\s+"
            r"(?:me\s+debe|reconoce|acepta|garantiza|ha\s+aprobado)\b|\b(?:diga|escreva|confirme|fala)\s+que\s+o\s+banco\s+"
            r"(?:garante|deve|aceita|reconhece|promete)\b|\b(?:di|scrivi|conferma)\w*\s+che\s+la\s+banca\s+(?:mi\s+deve|"
            r"garantisce|riconosce)\b|\bbestatige\s+(?:mir\s+)?(?:bitte\s+)?schriftlich\b|\bschreib\w*\s+(?:einfach|nur)\s+"
            r"[„\"']",
        ),
    ),
    ("injection", re.compile("|".join(fold(p) for p in _DICTATION_SCRIPTS))),
    (
        "role_play",
        any_of(
            r"\bvamos\s+a\s+jugar\s*(?::|a\s+(?:un\s+juego|que)|un\s+juego)|\bjuguemos\s+(?:a\s+que|un\s+juego)|"
            r"\b(?:tu\s+eres|eres)\s+(?:un|una)\s+(?:empleado|empleada|asistente|"
            r"banquero|cajero|hacker|insider)\b|\b(?:no\s+longer|doesn'?t|don'?t|never)\s+cares?\s+about\s+(?:the\s+)?"
            r"(?:rules|polic\w+|regulations)\b|\bya\s+no\s+le\s+importan\b|\bfingi\s+di\s+essere\b|\bfai\s+finta\s+di\s+"
            r"essere\b",
        ),
    ),
    ("role_play", re.compile("(?i)" + "|".join(fold(p) for p in _ROLE_SCRIPTS))),
    (
        "markup",
        any_of(
            r"(?:^|\n)\s*#{1,6}\s*(?:instruction|response|input|output)\s*:|</?\s*(?:function_?call|tool_?(?:call|use|"
            r"result|output)|function_?result)\b[^>]*>|\b(?:execute|run|invoke|perform)\s+(?:the\s+|this\s+)?call\s+"
            r"(?:above|below)\b",
            r"\b(?:skip|bypass|disable|no|ignore)_\w+['\"]?\s*[:=]\s*['\"]?(?:true|yes|on|1)\b|\b\w*_cmd\s*:|\b(?:safe\w*|"
            r"refusals?|content_\w+|checks?|verification)['\"]?\s*[:=]\s*['\"]?(?:false|off|disabled|none|0)\b|^\W*"
            r"override\s*:",
        ),
    ),
    (
        "abuse",
        any_of(
            r"\b(?:insult|swear\s+at|curse\s+at|belittle|humiliate)\s+(?:me|a\s+customer|us|him|her|them)\b|\bcall\s+me\s+"
            r"(?:a|an)\s+(?:\w+\s+)?(?:idiot|moron|stupid|loser|names)\b|\binsultami\b|\binsulte[sz]?-moi\b|\bbeleidige\s+"
            r"mich\b|\bbeledig\s+me\b|\bxingue-me\b|\binsultame\b",
            r"\b(?:say|write|agree|admit|tell\s+me|confirm|type)\b.{0,100}\b(?:are|is)\s+(?:a\s+|an\s+)?(?:thieves|crooks?|"
            r"corrupt|criminals?|scammers?|liars?)\b|\bagree\s+(?:with\s+me\s+)?that\b.{0,100}\b(?:corrupt|bribes?|"
            r"thie\w+|crook|scam\w*|fraud\w*)\b|\b(?:dis|ecris|dites|ecrivez|affirme)\w*\b.{0,60}\b(?:est\s+une\s+arnaque|"
            r"sont\s+des\s+voleurs|escrocs?)\b",
            r"\b(?:ethnic\w*|racial|religious)\s+(?:groups?|backgrounds?|origins?)\b.{0,60}\b(?:likely|default|risk\w*|"
            r"trust\w*|rank\w*|worse|better)\b",
        ),
    ),
)
