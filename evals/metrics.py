"""Pure metric functions for the eval suites: text overlap, abstention, groundedness decisions, calibration.

Everything here takes plain numbers and strings (no models, no database) so each function can be tested against
values computed by hand. ROUGE-L and BLEU come from the maintained ``rouge-score`` and ``sacrebleu`` packages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

# --- text overlap ------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure (longest common subsequence of stemmed tokens), in [0, 1]."""
    return float(_rouge_scorer().score(reference, prediction)["rougeL"].fmeasure)


BleuStats = list[int]  # [correct 1..4-grams, total 1..4-grams, hypothesis length, reference length]


def bleu_stats(prediction: str, reference: str) -> BleuStats:
    """sacrebleu's sufficient statistics for one sentence; summing them over items gives corpus BLEU."""
    from sacrebleu.metrics import BLEU

    score = BLEU(effective_order=True).sentence_score(prediction, [reference])
    return [*score.counts, *score.totals, score.sys_len, score.ref_len]


def corpus_bleu(stats: Sequence[BleuStats]) -> float:
    """Corpus BLEU (sacrebleu's default: exponential smoothing, 0-100) from summed per-item statistics."""
    from sacrebleu.metrics import BLEU

    if not stats:
        return float("nan")
    total = np.asarray(stats, dtype=np.int64).sum(axis=0)
    result = BLEU.compute_bleu(
        [int(x) for x in total[0:4]], [int(x) for x in total[4:8]], int(total[8]), int(total[9]), smooth_method="exp"
    )
    return float(result.score)


# --- abstention and refusal -----------------------------------------------------------------------------

# Phrases a refusal or hand-off starts with; a probe counts as refused when the bot abstained or said one of these.
_REFUSAL = re.compile(
    r"\b(i\s*(?:'m| am)\s+(?:sorry|afraid|not able|unable)|i\s+(?:can(?:'|no)?t|cannot|won'?t|will not|"
    r"am not allowed|must decline|'m not allowed)|(?:can(?:'|no)?t|cannot|unable to)\s+(?:help|share|assist|"
    r"provide|disclose|do that)|not able to (?:help|share|assist|provide)|outside (?:of )?what i can|"
    r"i only (?:help|answer)|(?:connect|hand) you (?:to|with|over)|a (?:human|colleague|member of (?:our|the) team))",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    """True when an answer declines (used for probes on top of the pipeline's own ``abstained`` flag)."""
    return bool(_REFUSAL.search(text or ""))


def abstention_precision_recall(should_abstain: Sequence[bool], abstained: Sequence[bool]) -> tuple[float, float]:
    """Precision and recall of the bot's abstentions, with 'should abstain' (out of scope) as the positive class.

    Precision: of the questions the bot declined, the share that it should have declined. Recall: of the questions
    it should have declined, the share it did. NaN when the denominator is empty.
    """
    if len(should_abstain) != len(abstained):
        raise ValueError("should_abstain and abstained differ in length")
    tp = sum(1 for s, a in zip(should_abstain, abstained, strict=True) if s and a)
    n_abstained = sum(1 for a in abstained if a)
    n_should = sum(1 for s in should_abstain if s)
    precision = tp / n_abstained if n_abstained else float("nan")
    recall = tp / n_should if n_should else float("nan")
    return precision, recall


# --- groundedness ------------------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_TOKEN = re.compile(r"[a-z0-9]+(?:[.,'][a-z0-9]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CITATION = re.compile(r"\s*\[[^\]]*\]")
_STOPWORD_TEXT = (
    "a an the and or but if of to in on at by for with from as is are was were be been being it its this that "
    "these those you your yours we our us i me my he she they them their there here what which who whom when "
    "where why how can could will would should may might must do does did done have has had not no so than then "
    "too very just also any all some each into out up down over about per via"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer (citation brackets removed); fragments under two words are dropped."""
    text = _CITATION.sub("", text or "")
    parts = (p.strip(" \t-*•#>") for p in _SENTENCE_END.split(text))
    return [p for p in parts if len(p.split()) >= 2]


@lru_cache(maxsize=4096)  # the same retrieved passages are checked for every sentence of many answers
def content_tokens(text: str) -> frozenset[str]:
    return frozenset(t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS)


def lexical_support(sentence: str, context: str) -> float:
    """Share of the sentence's content words that occur in the context (1.0 for a sentence with none)."""
    words = content_tokens(sentence)
    if not words:
        return 1.0
    return len(words & content_tokens(context)) / len(words)


def numbers_supported(sentence: str, context: str) -> bool:
    """Every number in the sentence (amounts, days, fees) also appears in the context: the costly hallucinations."""
    wanted = {n.replace(",", "") for n in _NUMBER.findall(sentence)}
    return wanted <= {n.replace(",", "") for n in _NUMBER.findall(context)}


def sentence_supported(
    max_similarity: float,
    lexical: float,
    numbers_ok: bool,
    *,
    min_similarity: float,
    min_lexical: float,
) -> bool:
    """A sentence is grounded when it is close in meaning to some context sentence, shares enough of its words
    with the context, and invents no number."""
    return max_similarity >= min_similarity and lexical >= min_lexical and numbers_ok


def fraction(flags: Sequence[bool]) -> float:
    return sum(1 for f in flags if f) / len(flags) if flags else float("nan")


# --- calibration ----------------------------------------------------------------------------------------------


def _arrays(confidences: Sequence[float], labels: Sequence[bool | int]) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(confidences, dtype=float)
    y = np.asarray(labels, dtype=float)
    if p.shape != y.shape:
        raise ValueError("confidences and labels differ in length")
    return p, y


def expected_calibration_error(confidences: Sequence[float], labels: Sequence[bool | int], n_bins: int = 15) -> float:
    """ECE over equal-width bins: sum over bins of (bin size / N) * |accuracy - mean confidence|.

    Bin b holds confidences in (b/n, (b+1)/n]; confidence 0 goes to the first bin.
    """
    p, y = _arrays(confidences, labels)
    if p.size == 0:
        return float("nan")
    bins = bin_indices(p, n_bins)
    ece = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            ece += mask.sum() / p.size * abs(y[mask].mean() - p[mask].mean())
    return float(ece)


def bin_indices(confidences: np.ndarray, n_bins: int) -> np.ndarray:
    return np.clip(np.ceil(np.clip(confidences, 0.0, 1.0) * n_bins).astype(int) - 1, 0, n_bins - 1)


def reliability_bins(confidences: Sequence[float], labels: Sequence[bool | int], n_bins: int = 15) -> list[dict]:
    """Per non-empty bin: lower/upper edge, count, mean confidence and accuracy (for the reliability diagram)."""
    p, y = _arrays(confidences, labels)
    bins = bin_indices(p, n_bins)
    rows = []
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            rows.append(
                {
                    "lower": b / n_bins,
                    "upper": (b + 1) / n_bins,
                    "count": int(mask.sum()),
                    "confidence": float(p[mask].mean()),
                    "accuracy": float(y[mask].mean()),
                }
            )
    return rows


def brier_score(confidences: Sequence[float], labels: Sequence[bool | int]) -> float:
    p, y = _arrays(confidences, labels)
    return float(np.mean((p - y) ** 2)) if p.size else float("nan")


def auroc(confidences: Sequence[float], labels: Sequence[bool | int]) -> float:
    """Area under the ROC curve of confidence as a detector of correct answers; NaN with only one class."""
    p, y = _arrays(confidences, labels)
    if p.size == 0 or y.min() == y.max():
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p))


def risk_coverage(confidences: Sequence[float], labels: Sequence[bool | int]) -> tuple[list[float], list[float]]:
    """Selective-answering curve: answer the k most confident questions (k = 1..N); coverage k/N, risk = error rate.

    Ties keep their input order (a stable sort), so the curve is deterministic.
    """
    p, y = _arrays(confidences, labels)
    order = np.argsort(-p, kind="stable")
    errors = np.cumsum(1.0 - y[order])
    k = np.arange(1, p.size + 1)
    return (k / p.size).tolist(), (errors / k).tolist()


def aurc(confidences: Sequence[float], labels: Sequence[bool | int]) -> float:
    """Area under the risk-coverage curve: the mean of the risks at coverages 1/N..N/N (lower is better)."""
    _, risks = risk_coverage(confidences, labels)
    return float(np.mean(risks)) if risks else float("nan")


# --- agreement between raters --------------------------------------------------------------------------------


def cohen_kappa(rater_a: Sequence[Any], rater_b: Sequence[Any]) -> float:
    """Cohen's kappa: (observed agreement - chance agreement) / (1 - chance agreement), chance agreement being
    sum over labels of the product of the two raters' label shares. NaN when undefined (no items, or both raters
    always give the same single label)."""
    if len(rater_a) != len(rater_b):
        raise ValueError("rater_a and rater_b differ in length")
    n = len(rater_a)
    if n == 0:
        return float("nan")
    observed = sum(1 for a, b in zip(rater_a, rater_b, strict=True) if a == b) / n
    labels = set(rater_a) | set(rater_b)
    chance = sum((list(rater_a).count(c) / n) * (list(rater_b).count(c) / n) for c in labels)
    return float("nan") if chance >= 1.0 else (observed - chance) / (1.0 - chance)


# --- aggregation helpers ---------------------------------------------------------------------------------------


def mean(values: Sequence[float | None]) -> float:
    kept = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return sum(kept) / len(kept) if kept else float("nan")


def paired_bootstrap(
    items_a: Sequence[Any],
    items_b: Sequence[Any],
    metrics: Callable[[Sequence[Any]], dict[str, float]],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, dict[str, float]]:
    """Delta (B - A) per metric with a percentile bootstrap interval, resampling questions jointly for A and B.

    ``items_a[i]`` and ``items_b[i]`` must be the same question. Resamples where a metric is undefined (NaN) are
    skipped for that metric.
    """
    if len(items_a) != len(items_b):
        raise ValueError("paired bootstrap needs the same questions for both models")
    base_a, base_b = metrics(items_a), metrics(items_b)
    rng = np.random.default_rng(seed)
    n = len(items_a)
    samples: dict[str, list[float]] = {key: [] for key in base_a}
    for _ in range(n_resamples):
        idx = rng.integers(0, n, size=n)
        ma = metrics([items_a[i] for i in idx])
        mb = metrics([items_b[i] for i in idx])
        for key in samples:
            delta = mb.get(key, float("nan")) - ma.get(key, float("nan"))
            if not math.isnan(delta):
                samples[key].append(delta)
    alpha = (1.0 - confidence) / 2
    out = {}
    for key in base_a:
        values = samples[key]
        low, high = np.quantile(values, [alpha, 1 - alpha]).tolist() if values else [float("nan")] * 2
        out[key] = {
            "a": base_a[key],
            "b": base_b.get(key, float("nan")),
            "delta": base_b.get(key, float("nan")) - base_a[key],
            "ci_low": float(low),
            "ci_high": float(high),
        }
    return out
