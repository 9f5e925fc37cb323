"""Schema, migrations and CRUD on both SQLite and the real PostgreSQL server."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from chatbot import review_store
from chatbot.db import crud
from chatbot.db.engine import check_connection, make_engine
from chatbot.db.migrate import current_revision, downgrade, head_revision, upgrade
from chatbot.db.models import Feedback, ReviewCreate, ReviewStatus, Turn, TurnCreate, UserCreate
from chatbot.errors import DatabaseUnavailable
from chatbot.staff_login import attempt_login

TABLES = {
    "conversation",
    "turn",
    "feedback",
    "review",
    "user",
    "model_version",
    "training_run",
    "eval_run",
    "calibration",
    "bundle_turn",
}


def test_upgrade_to_head_and_back_down(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)  # and up again: downgrade leaves nothing behind that blocks a re-run
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_bundle_migration_keeps_versions_and_derives_their_lineage_then_downgrades(database_url: str) -> None:
    """0003 on a database with a version trained on two turns (one since deleted): the version becomes a bundle
    (index snapshot 0, no own calibration or threshold) listing the turn that still exists; downgrade undoes it."""
    from sqlalchemy import text

    engine = make_engine(database_url)
    upgrade(engine, "0002")
    kept, gone, run, version = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with Session(engine) as session:
        _turn(session, id=kept)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO training_run (id, status, base_model, data_hash, n_train, n_val, hyperparameters, "
                "metrics, source_turn_ids, started_at) VALUES (:id, 'succeeded', 'b', 'h', 1, 0, '{}', '{}', :ids, "
                "CURRENT_TIMESTAMP)"
            ),
            {"id": _uuid_value(engine, run), "ids": f'["{kept}", "{gone}"]'},
        )
        conn.execute(
            text(
                "INSERT INTO model_version (id, version, adapter_path, base_model, training_data_hash, "
                "training_run_id, eval_metrics, status, created_at) VALUES (:id, 'v1', '/a', 'b', 'h', :run, '{}', "
                "'production', CURRENT_TIMESTAMP)"
            ),
            {"id": _uuid_value(engine, version), "run": _uuid_value(engine, run)},
        )
    upgrade(engine)
    with Session(engine) as session:
        bundle = crud.get_model_version(session=session, version="v1")
        assert bundle is not None
        assert (bundle.index_snapshot, bundle.calibration_id, bundle.abstain_threshold, bundle.risk) == (
            0,
            None,
            None,
            {},
        )
        assert crud.lineage(session=session, bundle_id=bundle.id) == {"example": [str(kept)]}
    downgrade(engine, "0002")
    columns = {c["name"] for c in inspect(engine).get_columns("model_version")}
    assert "bundle_turn" not in inspect(engine).get_table_names()
    assert not columns & {"index_snapshot", "calibration_id", "abstain_threshold", "risk"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version, adapter_path FROM model_version")).all() == [("v1", "/a")]
    engine.dispose()


# The columns a row needs in each table, as the schema of revision 0002 (model_version) and 0007 (embedder_version)
# takes them.
_COLUMNS = {
    "model_version": (
        "version, adapter_path, base_model, training_data_hash, eval_metrics",
        ":v, '/a', 'b', 'h', '{}'",
    ),
    "embedder_version": ("version, path, metrics", ":v, :v, '{}'"),
}


def _insert(engine: Any, table: str, rows: dict[str, str]) -> None:
    """Rows of version -> status in ``table``."""
    from sqlalchemy import text

    columns, values = _COLUMNS[table]
    sql = f"INSERT INTO {table} (id, {columns}, status, created_at) VALUES (:id, {values}, :s, CURRENT_TIMESTAMP)"
    with engine.begin() as conn:
        for version, status in rows.items():
            conn.execute(text(sql), {"id": _uuid_value(engine, uuid.uuid4()), "v": version, "s": status})


def _bundle_embedders(engine: Any) -> dict[str, str | None]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT version, embedder_version FROM model_version")).all())


def test_bundle_embedder_migration_names_the_embedder_serving_then_and_downgrades(database_url: str) -> None:
    """0010: the bundles that exist name the embedder that served them, the production one when the revision runs
    (none: NULL, the configured one), so rolling back to one of them keeps that embedder; downgrade drops the
    column and keeps the rows."""
    engine = make_engine(database_url)
    upgrade(engine, "0002")
    _insert(engine, "model_version", {"v1": "retired", "v2": "production"})
    upgrade(engine)
    assert _bundle_embedders(engine) == {"v1": None, "v2": None}  # nothing promoted: the configured embedder
    downgrade(engine, "0009")
    assert "embedder_version" not in {c["name"] for c in inspect(engine).get_columns("model_version")}
    _insert(engine, "embedder_version", {"emb-0": "retired", "emb-1": "production"})
    upgrade(engine)
    assert _bundle_embedders(engine) == {"v1": "emb-1", "v2": "emb-1"}
    engine.dispose()


def _uuid_value(engine: object, value: uuid.UUID) -> str:
    """How a Uuid column stores a value: 32 hex digits on SQLite, the native type elsewhere."""
    return value.hex if engine.dialect.name == "sqlite" else str(value)  # type: ignore[attr-defined]


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_unreachable_database_gives_one_readable_line() -> None:
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    with pytest.raises(DatabaseUnavailable) as info:
        check_connection(engine)
    message = str(info.value)
    assert "BANKBOT_DATABASE_URL" in message and "\n" not in message


def _turn(session: Session, **kw: object) -> Turn:
    data: dict[str, object] = {
        "question": "Where is my card?",
        "answer": "It ships in 5-7 days [1].",
        "confidence": 0.8,
    }
    data.update(kw)
    return crud.create_turn(session=session, turn_create=TurnCreate(**data))  # type: ignore[arg-type]


def test_turn_round_trip_keeps_every_field(migrated_engine) -> None:  # type: ignore[no-untyped-def]
    with Session(migrated_engine) as session:
        turn = _turn(
            session,
            sources=[{"id": "card_arrival", "title": "Card", "score": 0.71, "chunk": 0}],
            confidence_components={"mean_token_prob": 0.6, "top_score": 0.71},
            base_model="smollm2",
            adapter_version="v1",
            prompt_version="p1",
            latency_ms=812.5,
            abstained=False,
            pii_redacted=True,
        )
        turn_id = turn.id
    with Session(migrated_engine) as session:
        stored = session.get(Turn, turn_id)
        assert stored is not None
        assert stored.sources[0]["id"] == "card_arrival"
        assert stored.confidence_components == {"mean_token_prob": 0.6, "top_score": 0.71}
        assert (stored.adapter_version, stored.pii_redacted, stored.latency_ms) == ("v1", True, 812.5)
        assert stored.review_status == ReviewStatus.unreviewed


def test_create_turn_is_idempotent_on_id(migrated_engine) -> None:  # type: ignore[no-untyped-def]
    turn_id = uuid.uuid4()
    with Session(migrated_engine) as session:
        _turn(session, id=turn_id)
        _turn(session, id=turn_id, answer="a replayed copy")
        assert len(session.exec(select(Turn)).all()) == 1


def test_feedback_is_updated_when_the_customer_changes_their_mind(migrated_engine) -> None:  # type: ignore[no-untyped-def]
    with Session(migrated_engine) as session:
        turn = _turn(session)
        review_store.set_feedback(session=session, turn_id=turn.id, rating=1)
        review_store.set_feedback(session=session, turn_id=turn.id, rating=-1, comment="wrong fee")
        rows = session.exec(select(Feedback)).all()
        assert [(r.rating, r.comment) for r in rows] == [(-1, "wrong fee")]
        with pytest.raises(ValueError):
            review_store.set_feedback(session=session, turn_id=turn.id, rating=5)


def test_one_review_per_reviewer_and_consensus(migrated_engine) -> None:  # type: ignore[no-untyped-def]
    with Session(migrated_engine) as session:
        turn = _turn(session)
        alice = crud.create_user(
            session=session, user_create=UserCreate(username="alice", role="reviewer", password="password-a")
        )
        bob = crud.create_user(
            session=session, user_create=UserCreate(username="bob", role="reviewer", password="password-b")
        )
        review_store.add_review(
            session=session,
            review_create=ReviewCreate(
                turn_id=turn.id, reviewer_id=alice.id, verdict="correct", corrected_answer="Fixed."
            ),
            required=2,
        )
        session.refresh(turn)
        assert turn.review_status == ReviewStatus.pending
        with pytest.raises(IntegrityError):
            review_store.add_review(
                session=session,
                review_create=ReviewCreate(turn_id=turn.id, reviewer_id=alice.id, verdict="approve"),
                required=2,
            )
        session.rollback()
        review_store.add_review(
            session=session,
            review_create=ReviewCreate(
                turn_id=turn.id, reviewer_id=bob.id, verdict="correct", corrected_answer="Fixed!"
            ),
            required=2,
        )
        session.refresh(turn)
        assert (turn.review_status, turn.consensus_verdict, turn.consensus_answer) == ("agreed", "correct", "Fixed!")


def test_users_have_hashed_passwords_and_roles(migrated_engine) -> None:  # type: ignore[no-untyped-def]
    with Session(migrated_engine) as session:
        user = crud.create_user(
            session=session, user_create=UserCreate(username="eve", role="engineer", password="s3cret-pass")
        )
        assert "s3cret-pass" not in user.password_hash
        assert attempt_login(session=session, username="eve", password="s3cret-pass").user is not None
        assert attempt_login(session=session, username="eve", password="wrong-pass").user is None
        with pytest.raises(ValueError, match="already exists"):
            crud.create_user(
                session=session, user_create=UserCreate(username="eve", role="engineer", password="another-1")
            )
        with pytest.raises(ValueError, match="role"):
            crud.create_user(
                session=session, user_create=UserCreate(username="mallory", role="admin", password="password1")
            )


def test_an_undefined_metric_is_stored_as_null_on_every_database(migrated_engine) -> None:  # type: ignore[no-untyped-def]
    from chatbot.db.engine import json_safe

    assert json_safe({"a": float("nan"), "b": [1.0, float("inf")], "c": (0.5,)}) == {
        "a": None,
        "b": [1.0, None],
        "c": [0.5],
    }
    with Session(migrated_engine) as session:
        turn = crud.create_turn(
            session=session,
            turn_create=TurnCreate(question="q", answer="a", confidence=0.5, meta={"accuracy": float("nan")}),
        )
        turn_id = turn.id
    with Session(migrated_engine) as session:
        stored = session.get(Turn, turn_id)
        assert stored is not None and stored.meta == {"accuracy": None}  # PostgreSQL refused "NaN" before
