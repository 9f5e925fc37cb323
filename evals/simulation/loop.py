"""The simulation loop: rounds of customers → thumbs → reviews → nightly job, evaluated on held-out questions.

Each arm runs in its own fresh data folder (SQLite, Chroma with the demo KB, adapters) through the real
composition root, so everything the product does in production — logging, the priority queue, consensus, the
nightly dataset/LoRA/gate/promotion — happens here too. Arms differ only in which turns the review budget goes to.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chatbot.app_services import AppDatabase, AppServices
from chatbot.settings import Settings
from evals.simulation import customers, steps
from evals.simulation.report import write_report, write_round
from evals.simulation.split import (
    LabelledQuestion,
    customer_batches,
    read_questions,
    stratified_split,
    stratified_subset,
)

log = logging.getLogger(__name__)
ARMS = ("confidence", "random")
# The LoRA run of each simulated night, set here so the lead can tune them for the simulation alone; the rest of the
# recipe (rank, target modules, top layers, prompt shape) is finetune/lora.py's defaults, the product's.
NIGHTLY_MAX_STEPS = 50
NIGHTLY_LEARNING_RATE = 2e-3
# Every night trains (``force``: min_new_examples is a production guard against tiny nights) and the gate re-asks
# 40 frozen and 10 of the newest corrected questions with both models (each costs a generation per model). With 10
# frozen questions (8 in scope) one answer moved the gate by more than a far better night gained: a night whose
# answers were 0.97 ROUGE-L from the reviewers' corrections (base model 0.15) was rejected (docs/simulation.md).
DEFAULT_NIGHTLY: dict[str, Any] = {
    "force": True,
    "max_steps": NIGHTLY_MAX_STEPS,
    "learning_rate": NIGHTLY_LEARNING_RATE,
    "gate_questions": 40,
    "gate_corrections": 10,
}


@dataclass(frozen=True)
class SimulationConfig:
    questions: Path
    out: Path
    holdout_fraction: float = 0.2
    rounds: int = 4  # learning rounds after round 0 (the starting point)
    per_round: int = 300  # customers a round
    review_budget: int = 200  # turns reviewed a round: two thirds, so which two thirds matters
    answer_subset: int = 308  # held-out questions answered each round: 4 for each of Banking77's 77 intents
    max_new_tokens: int = 80  # the gold answers are 40-70 tokens
    seed: int = 77
    arms: tuple[str, ...] = ARMS
    click_rate: float = 0.6
    wrong_click_rate: float = 0.1
    disagreement_rate: float = 0.05
    match_threshold: float = customers.DEFAULT_MATCH_THRESHOLD
    heldout_limit: int | None = 770  # retrieval is scored on this many held-out questions, 10 an intent (None: all)
    nightly: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_NIGHTLY))  # see adapters.run_nightly_job

    def __post_init__(self) -> None:
        from chatbot.errors import BankbotError

        for name in ("rounds", "per_round", "review_budget", "answer_subset", "max_new_tokens"):
            if getattr(self, name) < 1:
                raise BankbotError(f"{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}")
        unknown = [a for a in self.arms if a not in ARMS]
        if unknown or not self.arms:
            raise BankbotError(f"unknown arm(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(ARMS)}")

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["questions"] = str(self.questions)
        data["out"] = str(self.out)
        return data


def gold_by_intent() -> dict[str, tuple[str, str]]:
    """intent → (article id, gold answer) over the demo knowledge base."""
    from retrieval.kb import article_id_for_intent, load_articles

    gold: dict[str, tuple[str, str]] = {}
    for article in load_articles():
        gold[article.intent] = (article.id, article.gold_answer)
        gold.setdefault(article_id_for_intent(article.intent), (article.id, article.gold_answer))
    return gold


def arm_settings(base: Settings, out: Path, arm: str, config: SimulationConfig) -> Settings:
    """A fresh data folder per arm; the converted base models are shared between arms (read-only cache)."""
    return base.model_copy(
        update={
            "data_dir": out / arm / "data",
            "database_url": None,
            "chroma_path": None,
            "chroma_host": None,
            "model_cache_dir": base.model_cache_dir or out / "model-cache",
            "max_new_tokens": config.max_new_tokens,
        }
    )


def open_app(settings: Settings, *, fresh: bool) -> Any:
    from chatbot.app import build_app
    from evals.simulation.adapters import ingest_demo_kb

    app = build_app(settings)
    app.upgrade_database()
    if fresh:
        ingest_demo_kb(app)
    return app


@dataclass(frozen=True)
class QuestionPlan:
    """Which questions a run asks: a pure function of the questions file and the seed, so every arm (and every
    process of a split run) gets the same customers in the same rounds and the same held-out sets."""

    gold: dict[str, tuple[str, str]]
    pool_size: int
    heldout_total: int  # never asked by customers
    retrieval_set: list[LabelledQuestion]  # held-out questions retrieval is scored on
    answer_set: list[LabelledQuestion]  # held-out questions answered and judged, stratified over intents
    batches: list[list[LabelledQuestion]]  # one batch of customers a round


def plan_questions(config: SimulationConfig, gold: dict[str, tuple[str, str]]) -> QuestionPlan:
    labelled = [q for q in read_questions(config.questions) if q.category in gold]
    pool, heldout = stratified_split(labelled, holdout_fraction=config.holdout_fraction, seed=config.seed)
    batches = customer_batches(pool, rounds=config.rounds, per_round=config.per_round, seed=config.seed)
    answer_set = stratified_subset(heldout, size=config.answer_subset, seed=config.seed)
    retrieval_set = heldout
    if config.heldout_limit is not None:
        retrieval_set = stratified_subset(heldout, size=config.heldout_limit, seed=config.seed)
    return QuestionPlan(gold, len(pool), len(heldout), retrieval_set, answer_set, batches)


def served_state(app: AppDatabase) -> tuple[Any, ...]:
    """What the chat serves (the production bundle: adapter, index snapshot, calibration); the held-out answers are
    a function of it, so while it stays the same they need not be generated again."""
    from finetune.bundle import production_bundle

    ref = production_bundle(app)
    return ref.version, ref.index_snapshot, str(ref.calibration_id)


def run_arm_round(
    app: AppServices,
    arm: str,
    round_no: int,
    batch: Sequence[LabelledQuestion],
    *,
    config: SimulationConfig,
    reviewer_ids: Sequence[Any],
    gold: dict[str, tuple[str, str]],
    shared_turns: Sequence[Any] | None = None,
) -> tuple[dict[str, Any], list[Any]]:
    """Customers, reviews and the nightly job of one round; returns (the round's entry, its logged turns)."""
    from evals.simulation.adapters import run_nightly_job

    timing: dict[str, float] = {}
    mark = time.perf_counter()
    asked, turns = steps.ask_customers(
        app,
        batch,
        round_no=round_no,
        seed=config.seed,
        behaviour=customers.CustomerBehaviour(config.click_rate, config.wrong_click_rate),
        gold=gold,
        threshold=config.match_threshold,
        shared=shared_turns,
    )
    timing["customers_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    rng = random.Random(f"pick:{config.seed}:{round_no}")
    chosen = steps.pick_turns(app, arm, reviewer_id=reviewer_ids[0], budget=config.review_budget, rng=rng)
    reviews = steps.review_turns(
        app,
        chosen,
        reviewer_ids=reviewer_ids,
        round_no=round_no,
        seed=config.seed,
        disagreement_rate=config.disagreement_rate,
        gold=gold,
        threshold=config.match_threshold,
    )
    timing["reviews_s"] = time.perf_counter() - mark
    mark = time.perf_counter()
    nightly = run_nightly_job(app, **config.nightly)
    timing["nightly_s"] = time.perf_counter() - mark
    entry = {
        "round": round_no,
        "arm": arm,
        "customers": {**asked, "shared_with_first_arm": shared_turns is not None},
        "reviews": reviews,
        "nightly": nightly,
        "timing": timing,
    }
    return entry, turns


def _print(line: str) -> None:
    print(line, flush=True)  # a run is followed through a log file: no block buffering


@dataclass
class SharedWork:
    """Work both arms would repeat identically, done by the first arm and reused by the next."""

    round0: tuple[dict[str, Any], list[dict[str, Any]]] | None = None  # held-out metrics and answer records
    first_round_turns: list[Any] | None = None  # round 1's customer turns (TurnCreate)


def run_simulation(
    config: SimulationConfig, base: Settings, *, progress: Callable[[str], None] = _print
) -> dict[str, Any]:
    """Run every arm for ``config.rounds`` rounds and write the report; returns the results mapping.

    Done once for all arms of a process: round 0 (the base model on the held-out questions) and round 1's customer
    answers (every arm starts from the same state); and an arm whose night changed nothing served (a rejected
    bundle) keeps its previous held-out answers instead of generating the same ones again."""
    started = time.perf_counter()
    plan = plan_questions(config, gold_by_intent())
    results: dict[str, Any] = {
        "config": {
            **config.public(),
            "pool": plan.pool_size,
            "heldout": len(plan.retrieval_set),  # scored for retrieval
            "heldout_total": plan.heldout_total,  # never asked
            "answer_subset": len(plan.answer_set),
            "review_consensus": base.review_consensus,
            "llm_model": base.llm_model,
        },
        "arms": {},
        "timing": {"arm_setup_s": {}},
    }
    shared = SharedWork()
    for arm in config.arms:
        run_arm(arm, config, base, plan, results, shared, progress=progress, started=started)
    results["timing"]["total_s"] = time.perf_counter() - started
    write_report(config.out, results)
    return results


def evaluate(
    app: AppServices, plan: QuestionPlan, config: SimulationConfig
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from evals.simulation.heldout import evaluate_heldout

    return evaluate_heldout(
        app,
        heldout=plan.retrieval_set,
        answer_subset=plan.answer_set,
        gold=plan.gold,
        threshold=config.match_threshold,
        seed=config.seed,
    )


def run_arm(
    arm: str,
    config: SimulationConfig,
    base: Settings,
    plan: QuestionPlan,
    results: dict[str, Any],
    shared: SharedWork,
    *,
    progress: Callable[[str], None],
    started: float,
) -> None:
    """One arm in its own fresh data folder: (round 0 if no arm ran it yet), then every learning round, each
    followed by the held-out evaluation; the report is rewritten after every round."""
    mark = time.perf_counter()
    settings = arm_settings(base, config.out, arm, config)
    app = open_app(settings, fresh=True)
    reviewer_ids = steps.create_reviewers(app)
    results["timing"]["arm_setup_s"][arm] = time.perf_counter() - mark
    if shared.round0 is None:
        shared.round0 = _round_zero(app, plan, config, results, progress)
    previous = (0, *shared.round0)
    rounds: list[dict[str, Any]] = []
    results["arms"][arm] = {"rounds": rounds}
    for round_no, batch in enumerate(plan.batches, start=1):
        served = served_state(app)
        entry, turns = run_arm_round(
            app,
            arm,
            round_no,
            batch,
            config=config,
            reviewer_ids=reviewer_ids,
            gold=plan.gold,
            shared_turns=shared.first_round_turns if round_no == 1 else None,
        )
        if round_no == 1 and shared.first_round_turns is None:
            shared.first_round_turns = turns
        entry["reviewed_total"] = (
            sum(r["reviews"]["turns_reviewed"] for r in rounds) + entry["reviews"]["turns_reviewed"]
        )
        app = open_app(settings, fresh=False)  # pick up what the nightly job promoted
        mark = time.perf_counter()
        if served_state(app) == served:
            entry["heldout_reused_from_round"] = previous[0]  # the round whose answers these are
            held, records = previous[1], previous[2]
        else:
            held, records = evaluate(app, plan, config)
            previous = (round_no, held, records)
        entry["timing"]["heldout_s"] = time.perf_counter() - mark
        entry["heldout"] = held
        rounds.append(entry)
        write_round(config.out, arm, {**entry, "answers": records})
        progress(_line(f"{arm} round {round_no}", held, sum(entry["timing"].values())))
        progress(f"  reviews {entry['reviews']}  nightly {entry['nightly'].get('decision')}")
        results["timing"]["total_s"] = time.perf_counter() - started
        write_report(config.out, results)


def _round_zero(
    app: AppServices,
    plan: QuestionPlan,
    config: SimulationConfig,
    results: dict[str, Any],
    progress: Callable[[str], None],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The starting point on the held-out questions, once for all arms."""
    progress(f"round 0: the starting point on {len(plan.answer_set)} held-out questions")
    mark = time.perf_counter()
    held, records = evaluate(app, plan, config)
    results["round0"] = held
    results["timing"]["round0_heldout_s"] = time.perf_counter() - mark
    write_round(config.out, "start", {"round": 0, "heldout": held, "answers": records})
    progress(_line("round 0", held, results["timing"]["round0_heldout_s"]))
    return held, records


def _line(label: str, held: dict[str, Any], seconds: float) -> str:
    return (
        f"{label}: shown right {held['answer_accuracy_shown']:.3f}  coverage {held['coverage']:.3f}  "
        f"wrong shown {held['wrong_shown_rate']:.3f}  generated {held['generated_share']:.3f}  "
        f"with a pick: right {held.get('answer_accuracy_shown_with_choice', float('nan')):.3f} coverage "
        f"{held.get('coverage_with_choice', float('nan')):.3f}  "
        f"retrieval@1 {held['retrieval_accuracy_at_1']:.3f}  AUROC {held['auroc']:.3f}  ({seconds:.0f} s)"
    )
