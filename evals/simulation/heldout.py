"""Held-out evaluation after each round: retrieval accuracy@1 on the held-out retrieval set; on a fixed answer set
(stratified over intents) what customers were shown, how right it was, why each failure failed, and calibration.
Nothing is logged: the held-out questions never reach the review queue.

``summarise`` is pure (exact values in the tests); ``evaluate_heldout`` runs the real app.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from evals import metrics
from evals.judge import REASONS
from evals.simulation.answer_metrics import (
    FAILURES,
    N_RESAMPLES,
    SHOWN_KINDS,
    Outcome,
    bootstrap_intervals,
    failure,
    shown_metrics,
)
from evals.simulation.customers import DEFAULT_MATCH_THRESHOLD, answer_score, answer_verdict, model_answer
from evals.simulation.split import LabelledQuestion

if TYPE_CHECKING:
    from chatbot.app_services import AppServices

LOW_CONFIDENCE_SHARE = 0.2  # "the least confident 20%" of answers
ANSWER_KINDS = ("generated", "passage", "handoff", "refusal")
CONFIDENCE_BINS = 5


@dataclass(frozen=True)
class AnswerRecord:
    question: str
    article_id: str
    answer: str  # what the customer was shown
    cited_right: bool
    score: float  # ROUGE-L of the answer the customer saw to the gold answer (a hand-off scores low)
    right: bool  # the judge's verdict on the answer the customer saw
    confidence: float
    abstained: bool
    model_score: float  # ROUGE-L of what the model wrote (the would-be answer when it was withheld)
    # Why (evals.judge.REASONS): wrong_article = retrieval miss, contradiction/missing_fact = wrong or missing
    # facts, abstained = handed off although retrieval ranked the right article first. Empty in rounds stored
    # before the judge.
    reason: str = ""
    facts_found: tuple[str, ...] = ()
    facts_missing: tuple[str, ...] = ()
    contradictions: tuple[str, ...] = ()
    # Empty or None in rounds stored before answer kinds (then "shown" is "not abstained" and the model's verdict
    # is the shown answer's).
    intent: str = ""
    answer_kind: str = ""  # generated | passage | handoff | refusal
    retrieved_top: str = ""  # the article retrieval ranked first
    would_be_answer: str | None = None  # the model's answer when it was withheld (passage or hand-off shown)
    model_right: bool | None = None  # the judge's verdict on the model's answer (False: it wrote none)
    model_reason: str = ""  # the judge's reason for it; "no_answer" when the model wrote none
    failure: str = ""  # answer_metrics.failure: why this is not a right shown answer ("" when it is)
    # A hand-off's suggested articles ("Did you mean …?") and, when the question's own article was among them, the
    # judge's verdict on the answer from it that the customer gets by picking it (None: nothing to pick).
    suggested: tuple[str, ...] = ()
    chosen_right: bool | None = None
    chosen_answer: str | None = None


def is_shown(record: AnswerRecord) -> bool:
    return record.answer_kind in SHOWN_KINDS if record.answer_kind else not record.abstained


def model_is_right(record: AnswerRecord) -> bool:
    return record.right if record.model_right is None else record.model_right


def outcome(record: AnswerRecord) -> Outcome:
    shown = is_shown(record)
    generated = record.answer_kind == "generated" if record.answer_kind else shown
    return Outcome(shown=shown, right=shown and record.right, generated=generated)


def outcome_after_choice(record: AnswerRecord) -> Outcome:
    """The outcome once a customer picks their article from a hand-off's suggestions (when it was offered)."""
    if record.chosen_right is None:
        return outcome(record)
    return Outcome(shown=True, right=record.chosen_right, generated=False)


def choice_counts(answers: Sequence[AnswerRecord]) -> dict[str, int]:
    """Hand-offs that offered articles, how many offered the question's own, and how many of those answered right."""
    return {
        "offered": sum(1 for a in answers if a.suggested),
        "article_offered": sum(1 for a in answers if a.chosen_right is not None),
        "chosen_right": sum(1 for a in answers if a.chosen_right),
    }


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


def summarise(
    retrieval: Mapping[str, Any], answers: Sequence[AnswerRecord], *, seed: int = 0, n_resamples: int = N_RESAMPLES
) -> dict[str, Any]:
    """One round's held-out metrics: the retrieval eval's numbers, what customers were shown and how right it was
    (with seeded bootstrap intervals), and calibration — the confidence against the judge's verdict on the model's
    answer, which is what the confidence scores and the abstention threshold acts on."""
    confidences = [a.confidence for a in answers]
    model_right = [model_is_right(a) for a in answers]
    low_wrong, rest_wrong = low_confidence_split(confidences, model_right, LOW_CONFIDENCE_SHARE)
    # The same split on citations: a weaker notion of "right" that still separates answers when few are right
    # (a hand-off counts as not citing the right article).
    cited = [a.cited_right for a in answers]
    low_wrong_cite, rest_wrong_cite = low_confidence_split(confidences, cited, LOW_CONFIDENCE_SHARE)
    outcomes = [outcome(a) for a in answers]
    withheld_right = [not o.shown and r for o, r in zip(outcomes, model_right, strict=True)]
    return {
        "retrieval_n": retrieval.get("n"),
        "retrieval_accuracy_at_1": retrieval.get("accuracy_at_1"),
        "retrieval_recall_at_5": retrieval.get("recall_at_5"),
        "retrieval_mrr": retrieval.get("mrr"),
        "answers_n": len(answers),
        **shown_metrics(outcomes),
        # the same rates once customers pick their article from a hand-off's suggestions
        **{f"{k}_with_choice": v for k, v in shown_metrics([outcome_after_choice(a) for a in answers]).items()},
        "suggestions": choice_counts(answers),
        "intervals": bootstrap_intervals(outcomes, n_resamples=n_resamples, seed=seed),
        # the model's answer was right but a passage or hand-off was shown instead
        "withheld_right_rate": metrics.fraction(withheld_right),
        # retrieval accuracy@1 on the answered questions (records stored before answer kinds lack the top article)
        "answered_retrieval_at_1": metrics.fraction([a.retrieved_top == a.article_id for a in answers])
        if all(a.answer_kind for a in answers)
        else None,
        "rouge_l": metrics.mean([a.score for a in answers]),
        "model_rouge_l": metrics.mean([a.model_score for a in answers]),
        "citation_accuracy": metrics.fraction([a.cited_right for a in answers]),
        "answer_accuracy": metrics.fraction([o.right for o in outcomes]),  # right shown / all questions
        "model_answer_accuracy": metrics.fraction(model_right),
        "reasons": {reason: sum(1 for a in answers if a.reason == reason) for reason in REASONS},
        "failures": {name: sum(1 for a in answers if a.failure == name) for name in FAILURES},
        "answer_kinds": {kind: sum(1 for a in answers if a.answer_kind == kind) for kind in ANSWER_KINDS},
        "abstention_rate": metrics.fraction([a.abstained for a in answers]),
        "mean_confidence": metrics.mean(confidences),
        "ece": metrics.expected_calibration_error(confidences, model_right, n_bins=CONFIDENCE_BINS),
        "auroc": metrics.auroc(confidences, model_right),
        "wrong_share_low_confidence": low_wrong,
        "wrong_share_rest": rest_wrong,
        "wrong_citation_share_low_confidence": low_wrong_cite,
        "wrong_citation_share_rest": rest_wrong_cite,
        "confidence_bins": metrics.reliability_bins(confidences, model_right, n_bins=CONFIDENCE_BINS),
    }


def rescore(held: Mapping[str, Any], answers: Sequence[Mapping[str, Any]], *, seed: int = 0) -> dict[str, Any]:
    """A round's held-out metrics recomputed from its stored answer records (``rounds/*.json``) with the current
    ``summarise``, keeping the round's retrieval numbers (they are not stored per query)."""
    retrieval = {
        "n": held.get("retrieval_n"),
        "accuracy_at_1": held.get("retrieval_accuracy_at_1"),
        "recall_at_5": held.get("retrieval_recall_at_5"),
        "mrr": held.get("retrieval_mrr"),
    }
    return summarise(retrieval, [AnswerRecord(**dict(a)) for a in answers], seed=seed)


def answer_record(
    question: LabelledQuestion, answer: Any, *, article_id: str, gold: str, threshold: float, chosen: Any = None
) -> AnswerRecord:
    """Score one ChatAnswer against the article of the question's intent: the shown answer (what the customer
    read) and the model's own answer (what the confidence is about), and say why it failed if it did. ``chosen``:
    the answer after the customer picked their article from the hand-off's suggestions (None: not offered)."""
    cited = list(answer.cited or [])
    source_ids = [s.article_id for s in answer.sources]
    common: dict[str, Any] = {
        "article_id": article_id,
        "gold_answer": gold,
        "threshold": threshold,
        "question": question.text,
        "retrieved": source_ids,
    }
    shown = answer_verdict(answer=answer.answer, cited=cited, abstained=answer.abstained, **common)
    written = model_answer(
        answer=answer.answer,
        answer_kind=answer.answer_kind,
        would_be_answer=answer.would_be_answer,
        cited=cited,
        source_ids=source_ids,
    )
    model = answer_verdict(answer=written[0], cited=written[1], abstained=False, **common) if written else None
    after = None
    if chosen is not None:
        after = answer_verdict(answer=chosen.answer, cited=list(chosen.cited), abstained=chosen.abstained, **common)
    retrieval_right = bool(source_ids) and source_ids[0] == article_id
    return AnswerRecord(
        question=question.text,
        article_id=article_id,
        answer=answer.answer,
        cited_right=bool(cited) and cited[0] == article_id and not answer.abstained,
        score=answer_score(answer.answer, gold),
        right=shown.right,
        reason=shown.reason,
        facts_found=shown.facts_found,
        facts_missing=shown.facts_missing,
        contradictions=shown.contradictions,
        confidence=float(answer.confidence),
        abstained=bool(answer.abstained),
        model_score=answer_score(written[0] if written else "", gold),
        intent=question.category,
        answer_kind=answer.answer_kind,
        retrieved_top=source_ids[0] if source_ids else "",
        would_be_answer=answer.would_be_answer,
        model_right=model.right if model else False,
        model_reason=model.reason if model else "no_answer",
        failure=failure(
            answer_kind=answer.answer_kind, right=shown.right, reason=shown.reason, retrieval_right=retrieval_right
        ),
        suggested=tuple(s.article_id for s in answer.suggestions),
        chosen_right=after.right if after is not None else None,
        chosen_answer=chosen.answer if chosen is not None else None,
    )


def evaluate_heldout(
    app: AppServices,
    *,
    heldout: Sequence[LabelledQuestion],
    answer_subset: Sequence[LabelledQuestion],
    gold: dict[str, tuple[str, str]],
    threshold: float = DEFAULT_MATCH_THRESHOLD,
    seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(metrics, per-answer records). ``gold`` maps intent → (article id, gold answer); ``seed`` draws the
    bootstrap resamples."""
    from evals.retrieval import LabelledQuery, RetrievalEval

    retrieval = RetrievalEval([LabelledQuery(q.text, q.category) for q in heldout]).run(app)
    answers = app.pipeline.answer_batch([q.text for q in answer_subset], log=False)
    records = []
    for q, a in zip(answer_subset, answers, strict=True):
        article_id, gold_answer = gold[q.category]
        # The customer knows what they asked about: offered their article, they pick it.
        offered = any(s.article_id == article_id for s in a.suggestions)
        chosen = app.pipeline.answer_chosen_article(q.text, article_id, log=False) if offered else None
        records.append(answer_record(q, a, article_id=article_id, gold=gold_answer, threshold=threshold, chosen=chosen))
    return summarise(retrieval, records, seed=seed), [asdict(r) for r in records]
