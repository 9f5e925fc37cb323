"""Text normalisation before the guard and PII redaction see user text (pure).

Attackers hide words from pattern rules with look-alike characters ("ｉｇｎｏｒｅ", ligatures), invisible ones
(zero-width spaces and joiners, soft hyphens, bidi controls) and unusual spaces (no-break, thin, ideographic). NFKC
folds compatibility look-alikes onto their plain letters and digits, format characters (Unicode category Cf) are
dropped, and every kind of space becomes a plain one, so "4111\u00a01111\u200b1111 1111" and "4111 1111 1111 1111"
are the same text to every check after this one.
"""

from __future__ import annotations

import unicodedata

# Line breaks survive as "\n" so multi-line questions keep their shape; other separators become spaces.
_LINE_BREAKS = frozenset("\n\r\u2028\u2029\x85\x0b\x0c")


def normalise_text(text: str) -> str:
    """NFKC, format characters removed, every space and line break made plain."""
    folded = unicodedata.normalize("NFKC", text)
    out: list[str] = []
    for ch in folded:
        if ch in _LINE_BREAKS:
            out.append("\n")
            continue
        category = unicodedata.category(ch)
        if category == "Cf":  # zero-width space/joiners, soft hyphen, BOM, bidi controls
            continue
        if category == "Zs" or ch == "\t":
            out.append(" ")
            continue
        out.append(ch)
    return "".join(out)


def has_lone_surrogate(text: str) -> bool:
    """True when the text cannot be encoded as UTF-8 (a lone surrogate from a broken client or an attacker)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
