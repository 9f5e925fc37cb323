"""Held-out evaluation after each round: retrieval accuracy@1 on every held-out question, answer quality and
calibration on a fixed subset. Nothing is logged: the held-out questions never reach the review queue.

``summarise`` is pure (exact values in the tests); ``evaluate_heldout`` runs the real app.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from evals import metrics
from evals.judge import REASONS
from evals.simulation.customers import DEFAULT_MATCH_THRESHOLD, answer_score, answer_verdict
from evals.simulation.split import LabelledQuestion

LOW_CONFIDENCE_SHARE = 0.2  # "the least confident 20%" of answers
CONFIDENCE_BINS = 5


@dataclass(frozen=True)
class AnswerRecord:
    question: str
    article_id: str
    answer: str
    cited_right: bool
    score: float  # ROUGE-L of the answer the customer saw to the gold answer (a hand-off scores low)
    right: bool  # the judge's verdict on the answer the customer saw
    confidence: float
    abstained: bool
    model_score: float  # ROUGE-L of what the model wrote (the would-be answer when it abstained)
    # Why (evals.judge.REASONS): wrong_article = retrieval miss, contradiction/missing_fact = wrong or missing
    # facts, abstained = handed off although retrieval ranked the right article first. Empty in rounds stored
    # before the judge.
    reason: str = ""
    facts_found: tuple[str, ...] = ()
    facts_missing: tuple[str, ...] = ()
    contradictions: tuple[str, ...] = ()


def low_confidence_split(confidences: Sequence[float], right: Sequence[bool], share: float) -> tuple[float, float]:
    """(wrong rate among the ``share`` least confident answers, wrong rate among the rest); ties keep input order.
    The low group has ceil(share * n) answers; NaN for an empty group."""
    n = len(confidences)
    if n == 0:
        return float("nan"), float("nan")
    order = sorted(range(n), key=lambda i: confidences[i])
    k = min(n, math.ceil(share * n))
    low, rest = order[:k], order[k:]

    def wrong_rate(idx: list[int]) -> float:
        return sum(1 for i in idx if not right[i]) / len(idx) if idx else float("nan")

    return wrong_rate(low), wrong_rate(rest)


def summarise(retrieval: Mapping[str, Any], answers: Sequence[AnswerRecord]) -> dict[str, Any]:
    """One round's held-out metrics: the retrieval eval's numbers plus answer quality and calibration."""
    confidences = [a.confidence for a in answers]
    right = [a.right for a in answers]
    low_wrong, rest_wrong = low_confidence_split(confidences, right, LOW_CONFIDENCE_SHARE)
    # The same split on citations: a weaker notion of "right" that still separates answers while a small model
    # rarely reaches the answer-accuracy bar (a hand-off counts as not citing the right article).
    cited = [a.cited_right for a in answers]
    low_wrong_cite, rest_wrong_cite = low_confidence_split(confidences, cited, LOW_CONFIDENCE_SHARE)
    return {
        "retrieval_n": retrieval.get("n"),
        "retrieval_accuracy_at_1": retrieval.get("accuracy_at_1"),
        "retrieval_recall_at_5": retrieval.get("recall_at_5"),
        "retrieval_mrr": retrieval.get("mrr"),
        "answers_n": len(answers),
        "rouge_l": metrics.mean([a.score for a in answers]),
        "model_rouge_l": metrics.mean([a.model_score for a in answers]),
        "citation_accuracy": metrics.fraction([a.cited_right for a in answers]),
        "answer_accuracy": metrics.fraction(right),
        "reasons": {reason: sum(1 for a in answers if a.reason == reason) for reason in REASONS},
        "abstention_rate": metrics.fraction([a.abstained for a in answers]),
        "mean_confidence": metrics.mean(confidences),
        "ece": metrics.expected_calibration_error(confidences, right, n_bins=CONFIDENCE_BINS),
        "auroc": metrics.auroc(confidences, right),
        "wrong_share_low_confidence": low_wrong,
        "wrong_share_rest": rest_wrong,
        "wrong_citation_share_low_confidence": low_wrong_cite,
        "wrong_citation_share_rest": rest_wrong_cite,
        "confidence_bins": metrics.reliability_bins(confidences, right, n_bins=CONFIDENCE_BINS),
    }


def rescore(held: Mapping[str, Any], answers: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A round's held-out metrics recomputed from its stored answer records (``rounds/*.json``) with the current
    ``summarise``, keeping the round's retrieval numbers (they are not stored per query)."""
    retrieval = {
        "n": held.get("retrieval_n"),
        "accuracy_at_1": held.get("retrieval_accuracy_at_1"),
        "recall_at_5": held.get("retrieval_recall_at_5"),
        "mrr": held.get("retrieval_mrr"),
    }
    return summarise(retrieval, [AnswerRecord(**dict(a)) for a in answers])


def answer_record(
    question: LabelledQuestion, answer: Any, *, article_id: str, gold: str, threshold: float
) -> AnswerRecord:
    """Score one ChatAnswer against the article of the question's intent."""
    cited = list(answer.cited or [])
    text = answer.answer
    verdict = answer_verdict(
        answer=text,
        cited=cited,
        abstained=answer.abstained,
        article_id=article_id,
        gold_answer=gold,
        threshold=threshold,
        question=question.text,
        retrieved=[s.article_id for s in answer.sources],
    )
    return AnswerRecord(
        question=question.text,
        article_id=article_id,
        answer=text,
        cited_right=bool(cited) and cited[0] == article_id and not answer.abstained,
        score=answer_score(text, gold),
        right=verdict.right,
        reason=verdict.reason,
        facts_found=verdict.facts_found,
        facts_missing=verdict.facts_missing,
        contradictions=verdict.contradictions,
        confidence=float(answer.confidence),
        abstained=bool(answer.abstained),
        model_score=answer_score(answer.would_be_answer or text, gold)
        if answer.abstained
        else answer_score(text, gold),
    )


def evaluate_heldout(
    app: Any,
    *,
    heldout: Sequence[LabelledQuestion],
    answer_subset: Sequence[LabelledQuestion],
    gold: dict[str, tuple[str, str]],
    threshold: float = DEFAULT_MATCH_THRESHOLD,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(metrics, per-answer records). ``gold`` maps intent → (article id, gold answer)."""
    from evals.retrieval import LabelledQuery, RetrievalEval

    retrieval = RetrievalEval([LabelledQuery(q.text, q.category) for q in heldout]).run(app)
    answers = app.pipeline.answer_batch([q.text for q in answer_subset], log=False)
    records = [
        answer_record(q, a, article_id=gold[q.category][0], gold=gold[q.category][1], threshold=threshold)
        for q, a in zip(answer_subset, answers, strict=True)
    ]
    return summarise(retrieval, records), [asdict(r) for r in records]
