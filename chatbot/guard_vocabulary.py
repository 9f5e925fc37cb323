"""The words the guard's rules are built from (chatbot/guard_rules.py): override verbs, instruction nouns, relations,
names, staff titles and privileged actions, in the languages the corpora cover. Accent-free, because the guard folds
its views before matching; kept apart so that adding a language or a synonym does not mean reading the rules."""

from __future__ import annotations

import re

# --- shared vocabulary (accent-free: the views are folded before matching) -------------------------------------
VERB = (
    r"(?:ignore|ignora|ignoriere|ignorier|negeer|disregard|forget|oublie[zr]?|olvida(?:te\s+de)?|vergiss|"
    r"missachte|overlook|override|bypass|skip|drop|cancel|set\s+aside|never\s+mind|unlearn|discard|abandon|"
    r"(?:do\s+not|don'?t|stop)\s+(?:follow(?:ing)?|obey(?:ing)?)|ne\s+tien[sd]\s+plus\s+compte\s+de|"
    r"haz\s+caso\s+omiso\s+de|fais\s+abstraction\s+de|neglect|scrap|throw\s+out|erase|wipe|"
    r"(?:quit|stop)\s+(?:following|applying|using)|pay\s+no\s+attention\s+to|(?:put|leave)\s+aside|"
    r"don'?t\s+bother\s+with|work\s+around|ne\s+tiens?\s+(?:pas|plus)\s+compte\s+de|laisse[zr]?\s+tomber|"
    r"n'?applique[zr]?\s+plus|deja\s+de\s+lado|no\s+sigas|olvidate\s+de|esquec[ea]|dimentica|non\s+seguire|"
    r"ignor[aeiă]\w*|vergeet|zignoruj|zapomnij|glom|glem|strunt\s+i|yok\s+say|setz\w*)"
)
OBJECT = (
    r"(?:instructions?|instrucciones|instrucoes|istruzioni|instructies|anweisungen|directives?|directrices|"
    r"rules|regles|reglas|regeln|normas|regole|prompts?|guidelines|guidance|richtlinien|consignes|vorgaben|"
    r"polic(?:y|ies)|restrictions|restricciones|programming|setup|filters?|safety|constraints|commands?|training|"
    r"(?:everything|all|the\s+text)\s+(?:above|before)|the\s+above|guardrails?|limitations|briefing|playbook|script|"
    r"orders|directions|configuration|content\s+polic\w+|refusal\s+\w+|safety\s+\w+|regole|regras|orientacoes|"
    r"instrucoes|opdrachten|instructies|polecenia|zasad\w*|instruktion\w*|regler\w*|talimat\w*|instructiuni\w*|"
    r"sicherheitsregeln|directrices|consignas|norme)"
)
RELATION = (
    r"(?:husband|wife|partner|mother|father|mum|mom|dad|son|daughter|friend|neighbou?r|boss|colleague|brother|"
    r"sister|cousin|uncle|aunt|tenant|landlord|flatmate|roommate|girlfriend|boyfriend|grand\w+|parents?|"
    r"ex(?:-?(?:wife|husband|partner))?)"
)
RELATION_INTL = (  # the same relations in fr, es, de, nl, pt, it, sv, pl (folded: no accents)
    r"voisin\w*|s(?:oe|œ)ur|frere|mari|femme|pere|mere|fils|fille|patron|chef|collegue|vecin[oa]|herman[oa]|espos[oa]|"
    r"marido|mujer|jefe|companer[oa]|ex|nachbar\w*|bruder|schwester|ehe(?:mann|frau)|vater|mutter|sohn|tochter|"
    r"kolleg\w*|buurman|buurvrouw|broer|zus|baas|vizinh[oa]|irma|irmao|chefe|granne|bror|syster|sasiad\w*|brat\w*|"
    r"siostr\w*|vicin[oa]|fratello|sorella|capo|marito|moglie|hij[oa]|filh[oa]|figli[oa]|kind|zoon|dochter"
)
NAME = (  # capitalised names, case-sensitive; product and place names are not people
    r"(?!(?:Apple|Google|Visa|Mastercard|Bramblecove|Faster|SEPA|SWIFT|UK|EEA|ATM|PayPoint|Junior|What|Where|When|"
    r"Who|Why|How|That|It|There|Here|This|Let|He|She|Today|Everyone|Nobody)\b)"
    r"(?-i:[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)"
)
OTHER = (
    rf"(?:(?:an?|the|some|another|other|every|all|any|your)\s+(?:\w+\s+){{0,2}}?(?:other\s+)?"
    rf"(?:customer|client|person|user|member|account\s*holder|holder|owner)s?|someone(?:\s+else)?|"
    rf"somebody(?:\s+else)?|whoever|(?:my|his|her|their)\s+{RELATION}|(?:mr|mrs|ms|miss|dr)\.?\s+\w+|"
    rf"(?:the\s+)?(?:account|card)\s+(?:number\s+)?(?:ending\s+(?:in\s+)?)?\d{{4,}}|(?:customers|clients|account\s*holders)|"
    rf"{NAME}|a\s+suspect|him|her|them)"
)
SECRET = (
    r"(?:full\s+)?(?:card\s*(?:numbers?|details|no\.?)|pins?(?:\s*(?:numbers?|codes?))?|cvv|cvc|"
    r"security\s+codes?|(?:online\s+banking\s+|app\s+)?(?:passwords?|passcodes?)|account\s*(?:numbers?|details)|"
    r"balances?|sort\s*codes?|ibans?|(?:online\s+banking|app|security|access|login)\s+codes?|(?:home\s+)?address(?:es)?|e-?mail(?:\s+address)?|phone\s+numbers?|"
    r"dates?\s+of\s+birth|transactions|statements?|spending|login|records)"
)
STAFF = (
    r"(?:it\b(?:\s+(?:support|department|team))?|compliance|fraud\s+team|security\s+team|police|officer|"
    r"detective|ceo|auditor|employee|staff|developer|administrator|head\s+office|manager|polic(?:e|ier|ia)|"
    r"polizei|it-abteilung|informatique)"
)
PRIVILEGED = (
    r"(?:admin\w*|password|passwort|mot\s+de\s+passe|contrasena|passcode|card\s+(?:details|numbers?)|\bpin\b|"
    r"address\s+of|adresse|direccion|titula\w*|phone\s+number\s+(?:of|for)|holder|(?:the|a|this|that)\s+customer|"
    r"customers|clients|account\s+\d|approve|authori[sz]e|disable|unblock|remove\s+the\s+limits|access\s+to|"
    r"api\s+keys?|system\s+prompt|configuration|monitoring|fraud\s+checks|datos)"
)


def any_of(*parts: str) -> re.Pattern[str]:
    return re.compile("(?i)" + "|".join(parts))
