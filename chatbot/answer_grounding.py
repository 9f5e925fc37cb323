"""Is a generated answer written from the article it cites? (pure)

The small model sometimes answers with nothing ("The answer to this question is: [1]"), with an apology that it
cannot help, or with the text of another article (in a conversation it can repeat its previous answer to a new
question). Confidence lets these through: their token probabilities are high. What they share is that few of their
words come from the passages they cite.

``grounded_share`` is the share of the answer's content words (stop words, citation markers and filler such as
"answer" or "sorry" left out; words compared by their first five letters, so "freeze"/"freezing" match) found in
the cited passages, the approved answer the prompt carried, or the question. An answer whose share is below
``MIN_GROUNDED_SHARE``, or with no content word at all, fails its checks.

The threshold is 0.4 because, on the 279 hand-labelled answers of this product (tests/data/judge_labels.jsonl), no
right answer scores under it while 53 of the 215 wrong ones do, nearly all the base model's
(``python benchmarks/answer_grounding.py``; figures in docs/chat.md). A wrong answer of the adapted model is mostly
a fluent answer from the wrong article, which this check cannot see (the retrieval certainty gate is for that). 0.5
would leave too little margin: a right base-model answer that mixes the steps of the lost-card article into the
swallowed-card answer scores 0.46.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_GROUNDED_SHARE = 0.4
_STEM = 5
_WORD = re.compile(r"[a-z0-9£€$%]+(?:[.,][0-9]+)?")
_CITATION = re.compile(r"\[\d+\]")
# Function words, and the words of the model's "The answer to your question is:" frame: neither grounds an answer.
# An apology ("as a customer support assistant I am unable to assist") is not filler here: it is an answer that
# says nothing from the article, and its words count against it.
_STOP_WORDS = """a an the and or but if then so to of in on at by for with from as is are was were be been being
    it its this
    that these those you your yours we our us i me my they them their he she his her do does did done can could will
    would should may might must not no yes there here what which who whom how when where why all any each every some
    such than too very just also into out up down over under again about after before more most other only own same
    both few nor off once while because until am has have had having don doesn isn aren wasn weren hasn haven hadn
    won wouldn shouldn couldn let get got answer answers question questions im ive youre dont cant"""
_STOP = frozenset(_STOP_WORDS.split())


def content_words(text: str) -> list[str]:
    """The words that carry content, lower-cased and cut to their stem (first five letters)."""
    text = _CITATION.sub(" ", text.lower().replace("'", ""))
    return [w[:_STEM] for w in _WORD.findall(text) if len(w) > 1 and w not in _STOP]


def grounded_share(answer: str, grounding: Iterable[str]) -> tuple[float, int]:
    """(share of the answer's content words found in ``grounding``, how many content words it has); (0, 0) for
    an answer without any."""
    words = content_words(answer)
    if not words:
        return 0.0, 0
    known = {w for text in grounding for w in content_words(text)}
    return sum(1 for w in words if w in known) / len(words), len(words)
