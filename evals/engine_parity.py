"""Engine parity: does the served llama.cpp GGUF answer like the transformers reference with the same adapter?

The served model is the reference's weights merged and re-encoded (GGUF, quantised), so the two should give the
same greedy answers on the same prompts. On ``PARITY_PROMPTS`` fixed RAG prompts (demo-eval questions with their
KB article and two distractors, built with the production prompt builder) this measures:

  token_agreement   share of answer positions, over both answers' lengths, where the two greedy answers have the
                    same token id up to their first difference (1.0 = identical answers)
  exact_match       share of prompts whose two answers are the same text
  rouge_l           mean ROUGE-L F1 of the served answers against the reference answers
  judge_accuracy    per engine: share of answers the answer judge calls right (``evals.judge``)

Used by ``bankbot eval parity``, the slow engine test and ``benchmarks/inference.py`` (its prompt). Metrics pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chatbot.prompt import build_messages
from chatbot.protocols import Generation, Generator, Source

PARITY_PROMPTS = 12
PROMPT_BUDGET = 420  # prompt tokens, like a typical chat turn (3 passages of ~80 words)


@dataclass(frozen=True)
class ParityCase:
    question: str
    expected_article: str
    reference_answer: str
    messages: list[dict[str, str]]


def demo_cases(count_tokens: Callable[[str], int], n: int = PARITY_PROMPTS) -> list[ParityCase]:
    """``n`` in-scope demo-eval questions spread over the set, each with its article and the next two articles
    (alphabetically) as distractors: the same prompts on every run and machine."""
    from evals.dataset import load_eval_set
    from retrieval.kb import load_articles

    articles = {a.id: a for a in load_articles()}
    ids = sorted(articles)
    items = [i for i in load_eval_set() if i.kind == "in_scope" and i.expected_article in articles]
    step = max(len(items) // max(n, 1), 1)
    cases = []
    for item in items[::step][:n]:
        assert item.expected_article is not None
        at = ids.index(item.expected_article)
        chosen = [ids[at], ids[(at + 1) % len(ids)], ids[(at + 2) % len(ids)]]
        sources = [
            Source(article_id=a, title=articles[a].title, score=1.0 - 0.1 * k, text=articles[a].body)
            for k, a in enumerate(chosen)
        ]
        messages = build_messages(item.question, sources, [], [], count_tokens=count_tokens, budget=PROMPT_BUDGET)
        cases.append(ParityCase(item.question, item.expected_article, articles[ids[at]].gold_answer, messages))
    return cases


def token_agreement(reference: Sequence[Any], served: Sequence[Any]) -> float:
    """Common-prefix length over the longer answer's length (two empty answers agree fully)."""
    longest = max(len(reference), len(served))
    if longest == 0:
        return 1.0
    same = 0
    for a, b in zip(reference, served, strict=False):
        if a != b:
            break
        same += 1
    return same / longest


def rouge_l(reference: str, candidate: str) -> float:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return float(scorer.score(reference, candidate)["rougeL"].fmeasure)


def judged_right(case: ParityCase, answer: str) -> bool:
    """The answer judge's verdict for an answer that cites the case's article (both engines get the same [1])."""
    from evals.judge import judge

    return bool(judge(answer, [case.expected_article], case.expected_article, case.reference_answer).right)


def summarise(
    cases: Sequence[ParityCase],
    reference: Sequence[Generation],
    served: Sequence[Generation],
    encode: Callable[[str], list[Any]],
) -> dict[str, Any]:
    n = max(len(cases), 1)
    pairs = list(zip(cases, reference, served, strict=True))
    return {
        "prompts": len(cases),
        "token_agreement": round(sum(token_agreement(encode(r.text), encode(s.text)) for _, r, s in pairs) / n, 4),
        "exact_match": round(sum(r.text == s.text for _, r, s in pairs) / n, 4),
        "rouge_l": round(sum(rouge_l(r.text, s.text) for _, r, s in pairs) / n, 4),
        "judge_accuracy_reference": round(sum(judged_right(c, r.text) for c, r, _ in pairs) / n, 4),
        "judge_accuracy_served": round(sum(judged_right(c, s.text) for c, _, s in pairs) / n, 4),
        "samples": [{"question": c.question, "reference": r.text, "served": s.text} for c, r, s in pairs[:3]],
    }


def compare(reference: Generator, served: Generator, *, n: int = PARITY_PROMPTS, max_new_tokens: int = 64) -> dict:
    """Greedy answers of both engines on the same ``n`` prompts, summarised."""
    cases = demo_cases(served.count_tokens, n)
    ref = reference.generate_batch([c.messages for c in cases], max_new_tokens=max_new_tokens)
    out = served.generate_batch([c.messages for c in cases], max_new_tokens=max_new_tokens)
    encode: Callable[[str], list[Any]] = getattr(served, "tokenize_text", None) or str.split
    return summarise(cases, ref, out, encode)
