"""Per-question scoring of chat answers and the suite-level aggregates (pure except for the embedder calls).

Rules (also in docs/evals.md):

- The *model answer* is what the generator wrote: ``would_be_answer`` when the bot abstained, else ``answer``.
  Text metrics (ROUGE-L, BLEU, similarity, groundedness) and citations are scored on it for every in-scope
  question, so two models are always compared on the same questions whatever their abstention thresholds.
- ``citation_correct``: the first article the model answer cites is the expected article.
- ``correct`` (the decision was right): in-scope: answered and cites the expected article; out-of-scope and probe:
  abstained (or, for probes, refused in words).
- ``label`` (for calibration: is the answer the bot would give right?): in-scope: ``citation_correct``;
  out-of-scope and probe: 0, since no answer to them is right. (``--from-reviews`` calibration instead pairs the
  reviewers' verdict with the confidence logged with the turn, see evals/suites.py.)
- ``right`` and ``reason`` (in-scope with a reference): the correctness judge's verdict on the model answer
  (evals/judge.py: cites the expected article first, states the reference's lead facts, contradicts none of the
  reference's or the article's); ``answer_accuracy`` is their mean. ``outcome`` is what the customer got: the
  judge's reason, except that a hand-off is ``abstained`` when retrieval ranked the expected article first (an
  over-abstention) and ``wrong_article`` when it did not (a retrieval miss).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from evals import metrics
from evals.dataset import EvalItem
from evals.judge import judge

ANSWER_KEYS = (
    "answer_accuracy",
    "rouge_l",
    "bleu",
    "similarity",
    "citation_accuracy",
    "groundedness",
    "abstain_precision",
    "abstain_recall",
    "probe_refusal_rate",
)
CALIBRATION_KEYS = ("ece", "brier", "auroc", "aurc")
_PASSAGE_REF = re.compile(r"\[(\d+)\]")
_FACT_LISTS = ("facts_found", "facts_missing", "contradictions")


def model_answer(answer: Any) -> str:
    if answer.abstained and answer.would_be_answer:
        return str(answer.would_be_answer)
    return str(answer.answer)


def model_citations(answer: Any) -> list[str]:
    """Article ids the model answer cites: the pipeline's ``cited``, or for an abstained turn whose ``cited`` is
    empty, the ``[n]`` references of the would-be answer (``[n]`` is ``sources[n-1]``, see chatbot/prompt.py)."""
    if answer.cited:
        return [str(c) for c in answer.cited]
    if answer.abstained and answer.would_be_answer:
        out: list[str] = []
        for n in _PASSAGE_REF.findall(answer.would_be_answer):
            i = int(n) - 1
            if 0 <= i < len(answer.sources) and answer.sources[i].article_id not in out:
                out.append(answer.sources[i].article_id)
        return out
    return []


@lru_cache(maxsize=1)
def _kb_bodies() -> dict[str, str]:
    from retrieval.kb import load_articles

    return {a.id: a.body for a in load_articles()}


def article_text(article_id: str | None, sources: Sequence[Any]) -> str | None:
    """The expected article's text for the judge: its body in the demo KB (the eval sets' KB), else the passages
    of it the pipeline retrieved (a bank's own KB); None when neither is known."""
    if article_id is None:
        return None
    if article_id in _kb_bodies():
        return _kb_bodies()[article_id]
    return "\n".join(s.text for s in sources if s.article_id == article_id) or None


def judge_fields(item: EvalItem, answer: Any, text: str, cited: Sequence[str]) -> dict[str, Any]:
    """The judge's verdict on the model answer and the customer's outcome (see the module rules); all None for
    questions the judge does not apply to (out of scope, probes, no reference)."""
    if item.kind != "in_scope" or not item.reference_answer:
        return {key: None for key in ("right", "reason", "outcome")} | {key: [] for key in _FACT_LISTS}
    context = article_text(item.expected_article, answer.sources)
    args = (cited, item.expected_article, item.reference_answer, context)
    verdict = judge(text, *args, question=item.question)
    outcome = verdict.reason
    if answer.abstained:
        retrieved = [s.article_id for s in answer.sources]
        outcome = judge(text, *args, question=item.question, abstained=True, retrieved=retrieved).reason
    return {**verdict.to_json(), "outcome": outcome}


def base_record(item: EvalItem, answer: Any) -> dict[str, Any]:
    """Everything about one question that needs no model: decisions, citations, labels."""
    text = model_answer(answer)
    cited = model_citations(answer)
    refused = bool(answer.abstained) or metrics.is_refusal(answer.answer)
    citation_correct = (bool(cited) and cited[0] == item.expected_article) if item.expected_article else None
    label: bool | None
    if item.kind == "in_scope":
        correct = (not answer.abstained) and bool(citation_correct)
        label = citation_correct  # None for a reviewed question with no known article: left out of calibration
    elif item.kind == "probe":
        correct, label = refused, False
    else:
        correct, label = bool(answer.abstained), False
    return {
        "id": item.id,
        "kind": item.kind,
        "question": item.question,
        "expected_article": item.expected_article,
        "reference": item.reference_answer,
        "answer": answer.answer,
        "model_answer": text,
        "abstained": bool(answer.abstained),
        "refused": refused,
        "cited": cited,
        "sources": [s.article_id for s in answer.sources],
        "confidence": float(answer.confidence),
        "confidence_components": {k: float(v) for k, v in (answer.confidence_components or {}).items()},
        "citation_correct": citation_correct,
        "correct": bool(correct),
        "label": label,
        **judge_fields(item, answer, text, cited),
        **customer_fields(item, answer),
    }


def add_text_scores(records: list[dict[str, Any]], answers: Sequence[Any], embedder: Any) -> None:
    """ROUGE-L, BLEU statistics, embedding similarity and groundedness for in-scope records, in place."""
    from evals.groundedness import score_groundedness

    in_scope = [i for i, r in enumerate(records) if r["kind"] == "in_scope"]
    with_ref = [i for i in in_scope if records[i]["reference"]]
    for i in range(len(records)):
        records[i].update(rouge_l=None, bleu_stats=None, similarity=None, groundedness=None, unsupported=[])
    for i in with_ref:
        r = records[i]
        r["rouge_l"] = metrics.rouge_l(r["model_answer"], r["reference"])
        r["bleu_stats"] = metrics.bleu_stats(r["model_answer"], r["reference"])
    if with_ref:
        texts = [records[i]["model_answer"] for i in with_ref] + [records[i]["reference"] for i in with_ref]
        vecs = np.asarray(embedder.encode(texts, normalize_embeddings=True, show_progress_bar=False))
        n = len(with_ref)
        sims = (vecs[:n] * vecs[n:]).sum(axis=1)
        for i, sim in zip(with_ref, sims, strict=True):
            records[i]["similarity"] = float(sim)
    if in_scope:
        grounded = score_groundedness(
            embedder,
            [records[i]["model_answer"] for i in in_scope],
            [[s.text for s in answers[i].sources] for i in in_scope],
        )
        for i, g in zip(in_scope, grounded, strict=True):
            records[i]["groundedness"] = g.score
            records[i]["unsupported"] = g.unsupported


def customer_fields(item: EvalItem, answer: Any) -> dict[str, bool | None]:
    """The judge on what the customer got, and on what they would get if the model's answers were not shown
    (``ChatAnswer.fallback_answer``); None: a hand-off (or a question the judge does not apply to)."""
    if item.kind != "in_scope" or not item.reference_answer:
        return {"shown_right": None, "fallback_right": None}
    context = article_text(item.expected_article, answer.sources)
    top = [answer.sources[0].article_id] if answer.sources else []

    def right(text: str | None, cited: Sequence[str]) -> bool | None:
        if not text:
            return None
        return judge(text, cited, item.expected_article, item.reference_answer, context, question=item.question).right

    shown = None if answer.abstained else right(answer.answer, answer.cited or top)
    return {"shown_right": shown, "fallback_right": right(getattr(answer, "fallback_answer", None), top)}


def answer_metrics(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    """The answers suite's numbers from per-question records (pure; also used by the paired bootstrap)."""
    in_scope = [r for r in records if r["kind"] == "in_scope"]
    decidable = [r for r in records if r["kind"] in ("in_scope", "out_of_scope")]
    probes = [r for r in records if r["kind"] == "probe"]
    precision, recall = metrics.abstention_precision_recall(
        [r["kind"] == "out_of_scope" for r in decidable], [r["abstained"] for r in decidable]
    )
    cited = [r["citation_correct"] for r in in_scope if r["citation_correct"] is not None]
    return {
        "answer_accuracy": metrics.fraction([bool(r["right"]) for r in in_scope if r.get("right") is not None]),
        "rouge_l": metrics.mean([r["rouge_l"] for r in in_scope]),
        "bleu": metrics.corpus_bleu([r["bleu_stats"] for r in in_scope if r["bleu_stats"] is not None]),
        "similarity": metrics.mean([r["similarity"] for r in in_scope]),
        "citation_accuracy": metrics.fraction(cited),
        "groundedness": metrics.mean([r["groundedness"] for r in in_scope]),
        "abstain_precision": precision,
        "abstain_recall": recall,
        "probe_refusal_rate": metrics.fraction([r["refused"] for r in probes]),
        "accuracy": metrics.fraction([r["correct"] for r in records]),
        "answer_rate_in_scope": metrics.fraction([not r["abstained"] for r in in_scope]),
        # Share of the in-scope questions whose customer got a right answer: as served, and with passages only.
        "customer_right": metrics.fraction([r.get("shown_right") is True for r in in_scope]),
        "passage_only_right": metrics.fraction([r.get("fallback_right") is True for r in in_scope]),
    }


def calibration_metrics(confidences: Sequence[float], labels: Sequence[bool], n_bins: int = 15) -> dict[str, float]:
    return {
        "ece": metrics.expected_calibration_error(confidences, labels, n_bins=n_bins),
        "brier": metrics.brier_score(confidences, labels),
        "auroc": metrics.auroc(confidences, labels),
        "aurc": metrics.aurc(confidences, labels),
        "accuracy": metrics.fraction(list(labels)),
        "mean_confidence": metrics.mean(list(confidences)),
    }


def json_safe(value: Any) -> Any:
    """NaN/inf become None so the JSON output is standard (json.dumps would write NaN)."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
