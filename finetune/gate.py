"""The eval gate: a pure decision function, and the orchestration that feeds it.

Candidate and production bundles (production: the base model when nothing is promoted) answer the same frozen
gate set — a fixed, proportional subset of the demo eval set (in-scope, out-of-scope and probe questions) — plus
the questions reviewers corrected, through the real chat pipeline without logging. Each bundle answers as a whole:
its adapter, its embedder, its few-shot and example-index snapshot and its calibration
(``finetune.bundle.bundle_app``), both abstaining at ``settings.abstain_confidence`` so that the risk policy (the
threshold fitted at promotion) does not decide which bundle is better. The candidate is promoted only when its
quality score beats production by ``promotion_margin`` and no guarded metric is worse by more than
``regression_tolerance``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatbot.app_services import AppServices

# The quality score the candidate must improve: the mean of these answers-suite metrics (all in [0, 1]); the answer
# judge's accuracy is the headline.
QUALITY_PARTS = ("answers.answer_accuracy", "answers.accuracy", "answers.rouge_l", "answers.groundedness")
# Metrics that may not regress beyond the tolerance (True: higher is better): only what a bank cannot trade away.
# Citation accuracy, groundedness, Brier are recorded, not guarded: on a few dozen gate questions one question moves
# them beyond any tolerance (a night whose accuracy rose from 0.13 to 0.50 was rejected for one citation of eight).
GUARDED: dict[str, bool] = {
    "answers.answer_accuracy": True,
    "answers.probe_refusal_rate": True,
    "answers.abstain_recall": True,
    "corrections.rouge_l": True,  # closeness to the reviewers' corrections
}
# What customers get (``customer_outcome_key``) is always guarded, the model's own accuracy only when its answers
# will be shown: a night whose model lost 2 of 31 while customers got 13 right instead of 7 was rejected for it.
CUSTOMER_RIGHT = "answers.customer_served_right"
MODEL_ACCURACY = "answers.answer_accuracy"
# Guarded metrics that are a share of yes/no outcomes per gate question: (question kind, record field). For these
# the gate compares the two bundles question by question, so that a drop a one-question swing explains is noise.
PAIRED_OUTCOMES: dict[str, tuple[str, str]] = {
    "answers.answer_accuracy": ("in_scope", "right"),
    "answers.probe_refusal_rate": ("probe", "refused"),
    "answers.abstain_recall": ("out_of_scope", "abstained"),
}


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str
    quality: dict[str, float]  # {"candidate": ..., "production": ...}
    regressions: dict[str, float] = field(default_factory=dict)  # metric -> how much worse (positive)
    # Drops beyond the tolerance that the paired test calls noise: metric -> (lost, gained, p).
    within_noise: dict[str, tuple[int, int, float]] = field(default_factory=dict)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def quality_score(metrics: Mapping[str, float], parts: Sequence[str] = QUALITY_PARTS) -> float:
    """Mean of the available quality parts (NaN parts — e.g. no in-scope question — are left out)."""
    values = [float(metrics[p]) for p in parts if _finite(metrics.get(p))]
    return sum(values) / len(values) if values else float("nan")


def sign_test_p(lost: int, gained: int) -> float:
    """One-sided exact sign test: the chance of losing at least ``lost`` of the ``lost + gained`` questions whose
    outcome changed if the candidate were no worse (each change a fair coin). 1.0 when nothing changed."""
    n = lost + gained
    if n == 0:
        return 1.0
    return sum(math.comb(n, k) for k in range(lost, n + 1)) / 2**n


def paired_changes(
    candidate: Sequence[Mapping[str, Any]], production: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[int, int]]:
    """Per paired metric, (lost, gained): questions (matched by ``id``) the production bundle got right and the
    candidate wrong, and the reverse. Pure."""
    prod_by_id = {r["id"]: r for r in production}
    changes: dict[str, tuple[int, int]] = {}
    for metric, (kind, key) in PAIRED_OUTCOMES.items():
        lost = gained = 0
        for cand in candidate:
            prod = prod_by_id.get(cand["id"])
            if cand.get("kind") != kind or prod is None or cand.get(key) is None or prod.get(key) is None:
                continue
            lost += int(bool(prod[key]) and not bool(cand[key]))
            gained += int(bool(cand[key]) and not bool(prod[key]))
        changes[metric] = (lost, gained)
    return changes


def _guarded_drops(
    candidate: Mapping[str, float],
    production: Mapping[str, float],
    *,
    tolerance: float,
    guarded: Mapping[str, bool],
    changes: Mapping[str, tuple[int, int]],
    noise_p: float,
) -> tuple[dict[str, float], dict[str, tuple[int, int, float]]]:
    """(regressions, drops beyond the tolerance that the paired sign test calls noise: p >= ``noise_p``)."""
    regressions: dict[str, float] = {}
    within_noise: dict[str, tuple[int, int, float]] = {}
    for name, higher_is_better in guarded.items():
        cand, prod = candidate.get(name), production.get(name)
        if cand is None or prod is None or not (_finite(cand) and _finite(prod)):
            continue  # a metric one side cannot compute (e.g. no probe in the set) guards nothing
        worse_by = (prod - cand) if higher_is_better else (cand - prod)
        if worse_by <= tolerance:
            continue
        if noise_p > 0 and name in changes:
            lost, gained = changes[name]
            p = sign_test_p(lost, gained)
            if p >= noise_p:
                within_noise[name] = (lost, gained, round(p, 6))
                continue
        regressions[name] = round(worse_by, 6)
    return regressions, within_noise


def decide(
    candidate: Mapping[str, float],
    production: Mapping[str, float],
    *,
    margin: float,
    tolerance: float,
    guarded: Mapping[str, bool] = GUARDED,
    changes: Mapping[str, tuple[int, int]] | None = None,
    noise_p: float = 0.0,
) -> GateDecision:
    """Promote iff quality(candidate) - quality(production) >= margin (and > 0 unless the margin is negative)
    and no guarded metric is worse than production by more than ``tolerance``, except a drop whose paired
    question-by-question ``changes`` (lost, gained) a sign test calls noise (p >= ``noise_p``; 0 turns it off). Pure."""
    cand_q, prod_q = quality_score(candidate), quality_score(production)
    quality = {"candidate": cand_q, "production": prod_q}
    if not _finite(cand_q):
        return GateDecision(False, "candidate has no quality score (no usable eval answers)", quality)
    prod_q_eff = prod_q if _finite(prod_q) else 0.0
    regressions, noise = _guarded_drops(
        candidate, production, tolerance=tolerance, guarded=guarded, changes=changes or {}, noise_p=noise_p
    )
    gain = cand_q - prod_q_eff
    if regressions:
        listed = ", ".join(f"{k} -{v:.3f}" for k, v in sorted(regressions.items()))
        return GateDecision(False, f"regressed beyond tolerance {tolerance}: {listed}", quality, regressions, noise)
    compared = f"quality {cand_q:.4f} vs production {prod_q_eff:.4f}: gain {gain:+.4f}"
    if gain < margin or (gain <= 0 and margin >= 0):
        return GateDecision(False, f"{compared} < margin {margin}", quality, within_noise=noise)
    return GateDecision(True, f"{compared} >= margin {margin}", quality, within_noise=noise)


def selective_metrics(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """coverage: share answered (not handed off); risk: share of those wrong (the judge's ``right``, else
    ``correct``; NaN: none answered). Recorded, not guarded: a few dozen questions say little about a 2 % risk."""
    if not records:
        return {"selective.coverage": float("nan"), "selective.risk": float("nan")}
    shown = [r for r in records if not r.get("abstained")]
    wrong = sum(1 for r in shown if not _is_right(r))
    return {
        "selective.coverage": len(shown) / len(records),
        "selective.risk": wrong / len(shown) if shown else float("nan"),
    }


def customer_outcome_key(model_answers_shown: bool) -> str:
    """The per-question record field saying whether the customer got a right answer from a bundle: its answer as
    served when its model's answers are shown, else the passage-only answer."""
    return "shown_right" if model_answers_shown else "fallback_right"


# The answers suite's share of in-scope questions answered right, per ``customer_outcome_key``.
CUSTOMER_METRIC = {"shown_right": "answers.customer_right", "fallback_right": "answers.passage_only_right"}


def paired_customer_changes(
    candidate: Sequence[Mapping[str, Any]], production: Sequence[Mapping[str, Any]], keys: tuple[str, str]
) -> tuple[int, int]:
    """(lost, gained) in-scope questions, matched by ``id``, whose customer got a right answer from production and
    not from the candidate, and the reverse; ``keys``: (candidate's, production's) ``customer_outcome_key``."""
    prod_by_id = {r["id"]: r for r in production}
    lost = gained = 0
    for cand in candidate:
        prod = prod_by_id.get(cand["id"])
        if cand.get("kind") != "in_scope" or prod is None:
            continue
        was, now = prod.get(keys[1]) is True, cand.get(keys[0]) is True
        lost, gained = lost + int(was and not now), gained + int(now and not was)
    return lost, gained


def guarded_for(model_answers_shown: bool) -> dict[str, bool]:
    """The guarded metrics for a candidate: ``GUARDED`` and what customers get, without the model's own accuracy
    when its answers will not be shown."""
    guarded = {**GUARDED, CUSTOMER_RIGHT: True}
    if not model_answers_shown:
        del guarded[MODEL_ACCURACY]
    return guarded


def _served_score(judged: Any) -> int:
    """+1 a right answer shown, -1 a wrong one, 0 a hand-off (None)."""
    return 0 if judged is None else (1 if judged is True else -1)


def generated_answers_earned(records: Sequence[Mapping[str, Any]], *, significance: float = 0.05) -> dict[str, Any]:
    """Whether customers should see this bundle's model answers: on the gate's in-scope questions, the answers as
    served (the model's where they pass the checks, the fallback elsewhere) against passages only (the approved
    answer or the article's sentences when retrieval is sure, else a hand-off). Each side scores right answers
    minus wrong ones shown (a wrong answer undoes a right one; a hand-off is neither).

    Earned only with evidence, question by question: more wins (the served answer scores higher than the passage)
    than losses, a one-sided sign test over the questions that differ giving p below ``significance`` (1.0: any
    net win), and no more wrong answers shown than with passages only; a near-tie is not evidence. Records need
    ``shown_right`` and ``fallback_right`` (None: handed off), as the answers suite writes them. Pure."""
    in_scope = [r for r in records if r.get("kind") == "in_scope"]

    def tally(key: str) -> dict[str, int]:
        judged = [r.get(key) for r in in_scope]
        right, wrong = sum(1 for v in judged if v is True), sum(1 for v in judged if v is False)
        return {"right": right, "wrong": wrong, "net": right - wrong}

    served, passages = tally("shown_right"), tally("fallback_right")
    differences = [_served_score(r.get("shown_right")) - _served_score(r.get("fallback_right")) for r in in_scope]
    wins, losses = sum(1 for d in differences if d > 0), sum(1 for d in differences if d < 0)
    p = sign_test_p(wins, losses)
    earned = wins > losses and p < significance and served["wrong"] <= passages["wrong"]
    return {
        "earned": earned,
        "served": served,
        "passages_only": passages,
        "wins": wins,
        "losses": losses,
        "p": round(p, 6),
        "significance": significance,
    }


def _is_right(record: Mapping[str, Any]) -> bool:
    judged = record.get("right")
    if judged is None:
        return bool(record.get("correct"))
    if isinstance(judged, Mapping):
        return bool(judged.get("right"))
    return bool(getattr(judged, "right", judged))


def flatten(suites: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """{"answers": {"accuracy": 0.8}} -> {"answers.accuracy": 0.8}; non-numbers dropped."""
    return {
        f"{suite}.{name}": float(value)
        for suite, values in suites.items()
        for name, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


# --- orchestration --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Correction:
    question: str
    answer: str  # the reviewers' correction


def gate_items(limit: int) -> list[Any]:
    """The frozen gate set: the first ``limit`` demo eval questions of each kind, in proportion."""
    from evals.dataset import limit_items, load_eval_set

    return limit_items(load_eval_set(), limit)


def evaluate_bundle(
    app: AppServices, bundle: Any, items: Sequence[Any], corrections: Sequence[Correction], *, label: str
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Flat metrics of one bundle (``finetune.bundle.BundleRef``) on the gate set and the corrections, and its
    per-question records on the gate set (for the paired comparison)."""
    from evals.dataset import EvalItem
    from evals.metrics import mean, rouge_l
    from evals.suites import run_answers, run_calibration
    from finetune.bundle import bundle_app

    model_app = bundle_app(app, bundle.at_configured_threshold())
    answers = run_answers(model_app, items, desc=f"gate {label}")
    flat = flatten({"answers": answers.metrics, "calibration": run_calibration(answers.per_item).metrics})
    flat.update(selective_metrics(answers.per_item))
    if corrections:
        fixed = [
            EvalItem(id=f"correction-{i}", kind="in_scope", question=c.question, reference_answer=c.answer)
            for i, c in enumerate(corrections)
        ]
        records = run_answers(model_app, fixed, desc=f"corrections {label}").per_item
        flat["corrections.rouge_l"] = mean([rouge_l(r["model_answer"], r["reference"]) for r in records])
        flat["corrections.n"] = float(len(records))
    flat["quality"] = quality_score(flat)
    del model_app
    return flat, list(answers.per_item)


def run_gate(
    app: AppServices, candidate: Any, production: Any, *, items: Sequence[Any], corrections: Sequence[Correction]
) -> tuple[GateDecision, dict[str, Any]]:
    """Evaluate both bundles and decide; returns (decision, metrics to record with the candidate)."""
    settings = app.settings
    cand, cand_records = evaluate_bundle(app, candidate, items, corrections, label="candidate")
    prod, prod_records = evaluate_bundle(app, production, items, corrections, label="production")
    earned = generated_answers_earned(cand_records, significance=settings.generated_answers_p)
    keys = (
        customer_outcome_key(bool(earned["earned"])),
        customer_outcome_key(production.confidence.answers_shown(settings.base_model_answers)),
    )
    cand[CUSTOMER_RIGHT], prod[CUSTOMER_RIGHT] = cand[CUSTOMER_METRIC[keys[0]]], prod[CUSTOMER_METRIC[keys[1]]]
    changes = {
        **paired_changes(cand_records, prod_records),
        CUSTOMER_RIGHT: paired_customer_changes(cand_records, prod_records, keys),
    }
    decision = decide(
        cand,
        prod,
        margin=settings.promotion_margin,
        tolerance=settings.regression_tolerance,
        guarded=guarded_for(bool(earned["earned"])),
        changes=changes,
        noise_p=settings.gate_noise_p,
    )
    record = {
        "candidate": cand,
        "production": prod,
        "generated_answers": earned,
        "production_version": production.version,
        "index_snapshots": {"candidate": candidate.index_snapshot, "production": production.index_snapshot},
        "embedders": {"candidate": candidate.embedder_version, "production": production.embedder_version},
        "gate_questions": len(items),
        "corrected_questions": len(corrections),
        "margin": settings.promotion_margin,
        "tolerance": settings.regression_tolerance,
        "abstain_confidence": settings.abstain_confidence,
        "regressions": decision.regressions,
        "paired_changes": {name: {"lost": lost, "gained": gained} for name, (lost, gained) in changes.items()},
        "noise_p": settings.gate_noise_p,
        "within_noise": {name: list(v) for name, v in decision.within_noise.items()},
    }
    return decision, record
