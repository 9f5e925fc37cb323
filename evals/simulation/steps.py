"""One round's steps in one arm's app: customers ask and click, the review budget is spent, reviewers vote.

Everything goes through the product's own code (the chat pipeline with logging, ``review_store.set_feedback``, the
review queue, ``submit_review``). Every seeded draw is keyed by when a turn was asked (round and place in the batch),
never by its random id, so ``--seed`` reproduces a run, the random arm's picks included.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from evals.simulation import customers, reviewers
from evals.simulation.split import LabelledQuestion

if TYPE_CHECKING:
    from chatbot.app_services import AppDatabase, AppServices

REVIEWER_NAMES = ("sim-reviewer-a", "sim-reviewer-b")
ANSWER_KINDS = ("generated", "passage", "handoff", "refusal")


def create_reviewers(app: AppDatabase) -> list[Any]:
    from chatbot.db import crud
    from chatbot.db.models import UserCreate

    ids = []
    with app.session() as session:
        for name in REVIEWER_NAMES:
            user = crud.get_user_by_username(session=session, username=name) or crud.create_user(
                session=session, user_create=UserCreate(username=name, role="reviewer", password="simulated-pw-1")
            )
            ids.append(user.id)
    return ids


def asked_key(meta: Mapping[str, Any] | None) -> tuple[int, int]:
    """(round, place in the round's batch) of a customer's turn: its seed-stable name."""
    meta = meta or {}
    return int(meta.get("sim_round", 0)), int(meta.get("sim_index", 0))


def turn_key(turn: Any) -> str:
    """A turn's name for seeded draws: "round:place" for a simulated customer's turn, else its id."""
    meta = turn.meta or {}
    return "{}:{}".format(*asked_key(meta)) if "sim_round" in meta else str(turn.id)


def ask_customers(
    app: AppServices,
    batch: Sequence[LabelledQuestion],
    *,
    round_no: int,
    seed: int,
    behaviour: customers.CustomerBehaviour,
    gold: Mapping[str, tuple[str, str]],
    threshold: float,
    shared: Sequence[Any] | None = None,
) -> tuple[dict[str, Any], list[Any]]:
    """Customers ask through the real pipeline (logged), then click thumbs on what they were shown.

    ``shared``: the same batch's turns as another arm logged them (``TurnCreate``s) when both arms' apps were in the
    same state (round 1: the same base model and knowledge base, nothing reviewed yet), so the answers are the same
    and are logged here instead of generated again. Returns (counts, this round's turns as ``TurnCreate``s)."""
    from chatbot import review_store
    from chatbot.db.models import Turn, TurnCreate

    if shared is None:
        metas = [{"sim_intent": q.category, "sim_round": round_no, "sim_index": i} for i, q in enumerate(batch)]
        answers = app.pipeline.answer_batch([q.text for q in batch], metas=metas, log=True)
        turn_ids: list[Any] = [a.turn_id for a in answers]
    else:
        for turn_create in shared:
            app.turn_store.log_turn(turn_create)
        by_place = {asked_key(t.meta)[1]: t.id for t in shared}
        turn_ids = [by_place.get(i) for i in range(len(batch))]
    counts: dict[str, Any] = {"asked": len(batch), "right": 0, "thumbs_up": 0, "thumbs_down": 0, "no_click": 0}
    counts.update({kind: 0 for kind in ANSWER_KINDS})
    logged = []
    with app.session() as session:
        for i, (q, turn_id) in enumerate(zip(batch, turn_ids, strict=True)):
            turn = session.get(Turn, turn_id) if turn_id is not None else None
            if turn is None:  # spooled: the database refused it, so nobody can review it
                continue
            logged.append(TurnCreate.model_validate(turn.model_dump()))  # before a commit expires the row
            meta = turn.meta or {}
            right = customers.answer_is_right(
                answer=turn.answer,
                cited=list(meta.get("cited") or []),
                abstained=turn.abstained,
                article_id=gold[q.category][0],
                gold_answer=gold[q.category][1],
                threshold=threshold,
                question=q.text,
            )
            counts["right"] += right
            kind = str(meta.get("answer_kind") or "unknown")
            counts[kind] = counts.get(kind, 0) + 1
            rating = customers.thumbs(right, behaviour, customers.customer_rng(seed, round_no, i))
            if rating is None:
                counts["no_click"] += 1
            else:
                review_store.set_feedback(session=session, turn_id=turn_id, rating=rating)
                counts["thumbs_up" if rating > 0 else "thumbs_down"] += 1
    return counts, logged


def pick_turns(app: AppDatabase, arm: str, *, reviewer_id: Any, budget: int, rng: random.Random) -> list[Any]:
    """The turn ids the review budget goes to: the top of the real priority queue, or a seeded random sample of the
    open turns (taken in the order they were asked, so the sample depends on the seed alone)."""
    from chatbot.db.models import Turn
    from chatbot.review_queue import QueueFilters, review_queue

    with app.session() as session:
        if arm == "confidence":
            items = review_queue(
                session,
                reviewer_id=reviewer_id,
                filters=QueueFilters(status="open"),
                limit=budget,
                spot_check_share=app.settings.spot_check_share,
            )
            return [item.turn_id for item in items]
        everything = review_queue(session, reviewer_id=reviewer_id, filters=QueueFilters(status="open"), limit=10**9)
        asked = {}
        for item in everything:
            turn = session.get(Turn, item.turn_id)
            asked[item.turn_id] = (*asked_key(turn.meta if turn is not None else None), str(item.turn_id))
    ids = sorted(asked, key=asked.__getitem__)
    return rng.sample(ids, min(budget, len(ids)))


def model_vote(turn: Any, *, article_id: str, gold_answer: str, threshold: float) -> reviewers.Judgement:
    """Reviewer A's vote on a logged turn: the model's answer (the would-be one when it was withheld) judged
    against the article, with the customer's question."""
    meta = turn.meta or {}
    written = customers.model_answer(
        answer=turn.answer,
        answer_kind=str(meta.get("answer_kind") or ""),
        would_be_answer=turn.would_be_answer,
        cited=list(meta.get("cited") or []),
        source_ids=[str(s.get("id", "")) for s in turn.sources or []],
    )
    return reviewers.judge(
        answer=written[0] if written else turn.answer,
        cited=written[1] if written else [],
        abstained=written is None,
        article_id=article_id,
        gold_answer=gold_answer,
        threshold=threshold,
        question=turn.question,
    )


def review_turns(
    app: AppDatabase,
    turn_ids: Sequence[Any],
    *,
    reviewer_ids: Sequence[Any],
    round_no: int,
    seed: int,
    disagreement_rate: float,
    gold: Mapping[str, tuple[str, str]],
    threshold: float,
) -> dict[str, Any]:
    """Both reviewers judge every chosen turn against its article; a correction is pointed at the article."""
    from chatbot.db.models import Turn
    from chatbot.review_queue import submit_review

    counts = {"turns_reviewed": 0, "approved": 0, "corrected": 0, "disputed": 0, "agreed": 0}
    required = app.settings.review_consensus
    with app.session() as session:
        for turn_id in turn_ids:
            turn = session.get(Turn, turn_id)
            intent = str((turn.meta or {}).get("sim_intent")) if turn is not None else ""
            if turn is None or intent not in gold:
                continue
            article_id, gold_answer = gold[intent]
            first = model_vote(turn, article_id=article_id, gold_answer=gold_answer, threshold=threshold)
            rng = reviewers.reviewer_rng(seed, round_no, turn_key(turn))
            second = reviewers.second_opinion(first, gold_answer, disagreement_rate=disagreement_rate, rng=rng)
            for reviewer_id, vote in zip(reviewer_ids, (first, second), strict=True):
                turn = submit_review(
                    session,
                    turn_id=turn_id,
                    reviewer_id=reviewer_id,
                    verdict=vote.verdict,
                    required=required,
                    corrected_answer=vote.corrected_answer,
                    article_id=article_id,  # what a reviewer picks on the review page; ignored unless correcting
                    comment="simulated reviewer",
                )
            counts["turns_reviewed"] += 1
            counts["approved" if first.verdict == reviewers.APPROVE else "corrected"] += 1
            counts["agreed" if turn.review_status == "agreed" else "disputed"] += 1
    return counts
