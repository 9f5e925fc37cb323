"""Concurrency on the real databases: reviewers voting at the same instant, concurrent promotions, concurrent
migrations and nightly runs (durability of turns: tests/test_durability.py).

"At the same instant" means threads released together by a barrier, each with its own session and connection.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from chatbot import review_store
from chatbot.db import crud
from chatbot.db.engine import make_engine
from chatbot.db.migrate import current_revision, head_revision, upgrade
from chatbot.db.models import (
    ModelStatus,
    ModelVersion,
    ReviewCreate,
    ReviewStatus,
    Turn,
    TurnCreate,
    UserCreate,
)
from tests.conftest import _postgres_database, make_settings
from tests.nightly_support import slow_promotion_checks
from tests.pipeline_support import make_app
from tests.waiting import at_once, wait_for

ROUNDS = 100
DEADLINE_S = 20.0


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


# --- consensus under a row lock ---------------------------------------------------------------------------
# ((first reviewer's vote, second reviewer's vote), (status, verdict, answer) once both are counted)
Vote = tuple[str, str | None]
SCENARIOS: list[tuple[tuple[Vote, Vote], tuple[str, str | None, str | None]]] = [
    ((("approve", None), ("approve", None)), (ReviewStatus.agreed, "approve", "the bot's answer")),
    ((("approve", None), ("reject", None)), (ReviewStatus.disputed, None, None)),
    ((("correct", "fixed"), ("correct", "fixed")), (ReviewStatus.agreed, "correct", "fixed")),
    ((("kb_gap", None), ("kb_gap", None)), (ReviewStatus.agreed, "kb_gap", None)),
]


def _two_votes_at_once(engine: Any, rounds: int) -> list[tuple[Any, ...]]:
    """``rounds`` turns, each reviewed by two reviewers at the same instant; returns (expected, found) per turn."""
    with Session(engine) as session:
        reviewers = [
            crud.create_user(session=session, user_create=UserCreate(username=n, role="reviewer", password="pw-12345"))
            for n in ("rita", "ravi")
        ]
        turns = [
            crud.create_turn(session=session, turn_create=TurnCreate(question=f"q{i}", answer="the bot's answer"))
            for i in range(rounds)
        ]
        reviewer_ids, turn_ids = [r.id for r in reviewers], [t.id for t in turns]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def reviewer(k: int) -> None:
        try:
            for i, turn_id in enumerate(turn_ids):
                verdict, correction = SCENARIOS[i % len(SCENARIOS)][0][k]
                vote = ReviewCreate(
                    turn_id=turn_id, reviewer_id=reviewer_ids[k], verdict=verdict, corrected_answer=correction
                )
                barrier.wait(DEADLINE_S)
                with Session(engine) as session:
                    review_store.add_review(session=session, review_create=vote, required=2)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=reviewer, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors[0]
    with Session(engine) as session:
        found = {t.id: t for t in session.exec(select(Turn)).all()}
    return [
        (
            SCENARIOS[i % len(SCENARIOS)][1],
            (found[t].review_status, found[t].consensus_verdict, found[t].consensus_answer),
        )
        for i, t in enumerate(turn_ids)
    ]


@pytest.mark.postgres
def test_two_reviewers_at_the_same_instant_reach_the_right_consensus_100_times_on_postgres(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    started = time.monotonic()
    outcomes = _two_votes_at_once(engine, ROUNDS)
    wrong = [(expected, found) for expected, found in outcomes if expected != found]
    assert wrong == [], f"{len(wrong)} of {ROUNDS} turns got a wrong consensus, e.g. {wrong[:3]}"
    assert time.monotonic() - started < 30
    engine.dispose()


def test_two_reviewers_at_the_same_instant_on_sqlite(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    outcomes = _two_votes_at_once(engine, 20)  # SQLite has one writer at a time: fewer rounds show the same
    assert [found for _, found in outcomes] == [expected for expected, _ in outcomes]
    engine.dispose()


# --- at most one production model --------------------------------------------------------------------------
def _bundle(session: Session, version: str, status: str = ModelStatus.candidate) -> ModelVersion:
    row = ModelVersion(version=version, base_model="fake", status=status)
    session.add(row)
    session.commit()
    return row


def test_the_database_refuses_a_second_production_model(migrated_engine: Any) -> None:
    with Session(migrated_engine) as session:
        _bundle(session, "v1", ModelStatus.production)
        with pytest.raises(IntegrityError):
            _bundle(session, "v2", ModelStatus.production)
        session.rollback()
        _bundle(session, "v3", ModelStatus.retired)  # any number of other statuses
        _bundle(session, "v4", ModelStatus.retired)
        production = session.exec(select(ModelVersion).where(ModelVersion.status == ModelStatus.production)).all()
        assert [r.version for r in production] == ["v1"]


def test_two_unserialised_promotions_at_once_leave_one_production_and_one_clean_failure(migrated_engine: Any) -> None:
    """Without the registry lock (the raw promotion steps), the unique index still lets only one win."""
    with Session(migrated_engine) as session:
        _bundle(session, "v0", ModelStatus.production)
        _bundle(session, "v1")
        _bundle(session, "v2")

    def promote(version: str) -> str:
        with Session(migrated_engine) as session:
            for row in session.exec(select(ModelVersion).where(ModelVersion.status == ModelStatus.production)).all():
                row.status = ModelStatus.retired
                session.add(row)
            session.flush()
            target = session.exec(select(ModelVersion).where(ModelVersion.version == version)).one()
            target.status = ModelStatus.production
            session.add(target)
            session.commit()
            return version

    results = at_once(lambda: promote("v1"), lambda: promote("v2"))
    with Session(migrated_engine) as session:
        production = session.exec(select(ModelVersion).where(ModelVersion.status == ModelStatus.production)).all()
    assert len(production) == 1
    # One promotion may also run wholly after the other (then both succeed, the later one wins); never two rows.
    assert production[0].version in [r for r in results if isinstance(r, str)]
    assert all(isinstance(r, str | IntegrityError) for r in results), results


def test_concurrent_promotions_through_the_registry_are_serialised(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatbot.registry import list_models, production_version
    from finetune import registry

    slow_promotion_checks(monkeypatch)
    app = make_app(tmp_path, database_url)
    with app.session() as session:
        _bundle(session, "v1")
        _bundle(session, "v2")
    results = at_once(
        lambda: registry.promote_version(app, "v1", by="eve"), lambda: registry.promote_version(app, "v2", by="gate")
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    rows = {r.version: r.status for r in list_models(app)}
    winner = production_version(app)
    assert sorted(rows.values()) == ["production", "retired"]
    # the second promotion replaced the first: one of them reports the other as the version it replaced
    assert sorted(str(r) for r in results) == sorted(["None", "v1" if winner == "v2" else "v2"])
    # promoting the same version twice at once: one succeeds, the other is refused with a clear message
    loser = "v1" if winner == "v2" else "v2"
    again = at_once(
        lambda: registry.promote_version(app, loser, by="a"), lambda: registry.promote_version(app, loser, by="b")
    )
    assert sorted(type(r).__name__ for r in again) == ["RegistryError", "str"]
    assert "already in production" in str(next(r for r in again if isinstance(r, Exception)))
    assert production_version(app) == loser
    app.engine.dispose()


# --- migrations and the nightly job serialised -----------------------------------------------------------------
def test_two_processes_upgrading_an_empty_database_at_once_both_succeed(database_url: str) -> None:
    engines = [make_engine(database_url), make_engine(database_url)]  # two pools: two "processes"
    results = at_once(*(lambda e=e: upgrade(e) for e in engines), timeout=60)
    assert results == [None, None], results
    assert current_revision(engines[0]) == head_revision(engines[0])
    names = set(inspect(engines[0]).get_table_names())
    assert {"turn", "review", "model_version", "alembic_version"} <= names
    indexes = {i["name"] for i in inspect(engines[0]).get_indexes("model_version")}
    assert "uq_model_version_one_production" in indexes
    for engine in engines:
        engine.dispose()


@pytest.mark.postgres
def test_two_bankbot_db_upgrade_processes_started_at_once_on_postgres_both_succeed(
    tmp_path: Path, postgres_url: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANKBOT_")}
    env.update(BANKBOT_DATA_DIR=str(tmp_path), BANKBOT_DATABASE_URL=postgres_url, BANKBOT_CONFIG=str(tmp_path / "x"))
    command = [str(Path(sys.executable).with_name("bankbot")), "db", "upgrade"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    processes.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    engine = make_engine(postgres_url)
    assert current_revision(engine) == head_revision(engine)
    engine.dispose()


@pytest.mark.postgres
def test_nightly_runs_on_two_machines_sharing_postgres_do_not_overlap(tmp_path: Path, postgres_url: str) -> None:
    from finetune.nightly import NightlyAlreadyRunning, nightly_lock

    engine = make_engine(postgres_url)
    machine_a, machine_b = make_settings(tmp_path / "a"), make_settings(tmp_path / "b")  # separate data dirs
    with (
        nightly_lock(machine_a, engine),
        pytest.raises(NightlyAlreadyRunning, match="database's nightly lock"),
        nightly_lock(machine_b, engine),
    ):
        pass
    with nightly_lock(machine_b, engine):  # released when the first run ends
        pass
    engine.dispose()


@pytest.mark.postgres
def test_a_killed_holder_releases_the_database_lock(postgres_url: str) -> None:
    from chatbot.db.locks import NIGHTLY_LOCK_KEY, LockBusy, advisory_lock

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from sqlalchemy import create_engine, text\n"
            f"c = create_engine({postgres_url!r}).connect()\n"
            f"c.execute(text('SELECT pg_advisory_lock({NIGHTLY_LOCK_KEY})')); print('held', flush=True)\n"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        engine = make_engine(postgres_url)
        with pytest.raises(LockBusy), advisory_lock(engine, NIGHTLY_LOCK_KEY, wait=False):
            pass
        holder.kill()
        holder.wait(10)

        def free() -> bool:
            try:
                with advisory_lock(engine, NIGHTLY_LOCK_KEY, wait=False):
                    return True
            except LockBusy:
                return False

        wait_for(free, "the server to release a dead holder's lock")
        engine.dispose()
    finally:
        holder.kill()
        holder.wait(10)
