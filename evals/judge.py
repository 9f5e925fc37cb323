"""A deterministic correctness judge: does an answer cite the question's article and state its key facts?

The reference (an article's ``gold_answer``, or the reviewers' agreed answer) is reduced to typed facts — money
amounts, percentages, durations, ages, counts, times of day, phone numbers, app menu paths, web and e-mail
addresses, "24/7" — each normalised so that "£5" equals "£5.00", "five working days" equals "5 business days" and
"Cards → Freeze" equals "app > Cards > Freeze". An answer is right when it cites the expected article first, states
at least ``coverage`` of the reference's lead facts (those of its first sentence that has any; bare numbers only
when nothing else is there) and states no fact that neither the reference nor the article (nor the customer's
question) contains. The rules a human labeller applies are in evals/data/judge_labelling_rules.md;
tests/test_judge.py pins the behaviour with exact values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from chatbot.facts import NOISE, RANGE_KINDS, Fact, extract_facts, facts_by_sentence
from evals.metrics import content_tokens

__all__ = ["DEFAULT_COVERAGE", "DEFAULT_MIN_WORD_RECALL", "REASONS", "Fact", "Verdict", "extract_facts", "is_known"]
__all__ += ["judge", "lead_facts", "states"]

# Share of the lead facts an answer must state. A bank reviewer approves "Standard delivery takes 5–7 working
# days" for a delivery question without the EEA times, but not an answer that leaves out most of what was asked.
DEFAULT_COVERAGE = 0.5
# With no typed fact in the reference, the answer must share this much of its content words instead.
DEFAULT_MIN_WORD_RECALL = 0.5
REASONS = ("right", "abstained", "no_citation", "wrong_article", "contradiction", "missing_fact")


@dataclass(frozen=True)
class Verdict:
    right: bool
    reason: str  # one of REASONS
    facts_found: tuple[str, ...] = ()
    facts_missing: tuple[str, ...] = ()
    contradictions: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


# --- matching ------------------------------------------------------------------------------------------------


def _segments_match(a: str, b: str) -> bool:
    """Menu segments match when one's words are among the other's: a path quoted inside a sentence may carry a word
    too many or too few ("Chat with us straight away", "Order card" for "Order physical card")."""
    wa, wb = set(a.split()), set(b.split())
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _run_of(part: tuple[str, ...], whole: tuple[str, ...]) -> bool:
    """``part`` is a contiguous run of ``whole`` (segment by segment)."""
    n = len(part)
    return any(
        all(_segments_match(x, y) for x, y in zip(part, whole[i : i + n], strict=True))
        for i in range(len(whole) - n + 1)
    )


def _ends(fact: Fact) -> tuple[float, ...]:
    return tuple(v for v in fact.value[:2] if isinstance(v, int | float))


def _unit(fact: Fact) -> object:
    return fact.value[2] if fact.kind in ("money", "duration") else None


def states(said: Fact, wanted: Fact) -> bool:
    """The answer's fact ``said`` states the reference fact ``wanted``. A single value equal to the top of a range
    states the range ("up to 7 working days" for "5–7 working days"); a bare number states an age ("be 18")."""
    if said.kind == "count" and wanted.kind == "age":
        return wanted.value[0] == wanted.value[1] == said.value[0]
    if said.kind != wanted.kind:
        return False
    if said.kind == "path":
        if len(said.value) <= len(wanted.value):
            return _run_of(said.value, wanted.value) and len(said.value) >= min(2, len(wanted.value))
        return _run_of(wanted.value, said.value)
    if said.kind in RANGE_KINDS:
        single = said.value[0] == said.value[1]
        return _unit(said) == _unit(wanted) and (
            said.value[:2] == wanted.value[:2] or (single and said.value[1] == wanted.value[1])
        )
    return said.value == wanted.value


def is_known(said: Fact, known: Sequence[Fact]) -> bool:
    """The answer's fact agrees with some known fact (reference, article, question): a range or value whose ends are
    ends of known facts of the same kind and unit, a count equal to any known number, or a part of a known path."""
    if said.kind == "path":
        return any(k.kind == "path" and len(said.value) <= len(k.value) and _run_of(said.value, k.value) for k in known)
    if said.kind == "count":  # bare numbers are ambiguous ("2 cards", "2 working days"): any known number will do
        return any(said.value[0] in _ends(k) for k in known if k.kind in RANGE_KINDS | {"count"})
    if said.kind in RANGE_KINDS:
        ends = {e for k in known if k.kind == said.kind and _unit(k) == _unit(said) for e in _ends(k)}
        return set(_ends(said)) <= ends
    return any(k.kind == said.kind and k.value == said.value for k in known)


# --- the verdict ---------------------------------------------------------------------------------------------


def lead_facts(reference: str) -> list[Fact]:
    """The key facts: those of the reference's first sentence that has any (written answer-first, it holds the
    direct answer). Bare numbers ("3-digit code") are key only when that sentence has nothing more specific: alone
    they say little ("enter the 3-digit code" without where)."""
    group = next((group for group in facts_by_sentence(reference) if group), [])
    return [f for f in group if f.kind != "count"] or group


def judge(
    answer: str,
    cited: Sequence[str],
    expected_article: str | None,
    reference: str,
    article_text: str | None = None,
    *,
    question: str = "",
    abstained: bool = False,
    retrieved: Sequence[str] = (),
    coverage: float = DEFAULT_COVERAGE,
    min_word_recall: float = DEFAULT_MIN_WORD_RECALL,
) -> Verdict:
    """Is ``answer`` right for a question whose article is ``expected_article`` (None: any citation will do)?

    In order: a hand-off is wrong ("abstained" when retrieval ranked the expected article first — an
    over-abstention — else "wrong_article"); the first citation must be the expected article ("no_citation",
    "wrong_article"); a stated fact found in neither the reference, the article text nor the question is a
    "contradiction"; fewer than ``ceil(coverage × n)`` (at least one) of the reference's n lead facts stated is a
    "missing_fact". A reference without typed facts needs ``min_word_recall`` of its content words instead.
    """
    if abstained:
        top = list(retrieved[:1] or cited[:1])
        return Verdict(False, "abstained" if expected_article in (None, *top) else "wrong_article")
    if expected_article is not None and not cited:
        return Verdict(False, "no_citation")
    if expected_article is not None and cited[0] != expected_article:
        return Verdict(False, "wrong_article")
    wanted = extract_facts(reference)
    said = extract_facts(answer)
    known = [*wanted, *extract_facts(article_text or ""), *extract_facts(question)]
    found = [w for w in wanted if any(states(s, w) for s in said)]
    verdict = {
        "facts_found": tuple(str(f) for f in found),
        "facts_missing": tuple(str(f) for f in wanted if f not in found),
        "contradictions": tuple(str(s) for s in said if not is_known(s, known)),
    }
    lead = lead_facts(reference)
    if verdict["contradictions"]:
        return Verdict(False, "contradiction", **verdict)
    if lead:
        needed = max(1, math.ceil(coverage * len(lead) - 1e-9))
        enough = sum(1 for f in lead if f in found) >= needed
    else:
        words = content_tokens(NOISE.sub(" ", reference))
        enough = not words or len(words & content_tokens(answer)) / len(words) >= min_word_recall
    return Verdict(enough, "right" if enough else "missing_fact", **verdict)
