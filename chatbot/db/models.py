"""SQL schema (SQLModel), in the full-stack-fastapi style: Base / table / Create / Public classes.

Every schema change needs an Alembic migration in ``chatbot/db/migrations/versions``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


def _json(default: Any = None) -> Any:
    factory = (lambda: None) if default is None else type(default)
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=default is None))


def _one_production(name: str) -> Index:
    """At most one 'production' row, whatever two concurrent promotions do: a partial unique index."""
    where = text("status = 'production'")
    return Index(name, "status", unique=True, postgresql_where=where, sqlite_where=where)


class Role(StrEnum):
    reviewer = "reviewer"
    engineer = "engineer"


class Verdict(StrEnum):
    approve = "approve"
    correct = "correct"
    reject = "reject"
    kb_gap = "kb_gap"


class ReviewStatus(StrEnum):
    unreviewed = "unreviewed"
    pending = "pending"  # some reviews, fewer than the consensus setting
    agreed = "agreed"
    disputed = "disputed"


class ModelStatus(StrEnum):
    candidate = "candidate"
    production = "production"
    retired = "retired"
    rejected = "rejected"


class RunStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    skipped = "skipped"


# --- conversations and turns ----------------------------------------------------------------------
class Conversation(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    channel: str = Field(default="web", max_length=32)
    created_at: datetime = _ts()


class TurnBase(SQLModel):
    question: str
    answer: str
    would_be_answer: str | None = None  # the model's answer when the bot abstained, kept for reviewers
    abstained: bool = False
    pii_redacted: bool = False
    confidence: float = 0.0
    base_model: str = Field(default="", max_length=255)
    adapter_version: str | None = Field(default=None, max_length=64)
    prompt_version: str = Field(default="", max_length=32)
    latency_ms: float = 0.0


class Turn(TurnBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    conversation_id: uuid.UUID = Field(foreign_key="conversation.id", index=True)
    sources: list[dict[str, Any]] = _json([])  # [{id, title, score, chunk, text}]
    confidence_components: dict[str, float] = _json({})
    meta: dict[str, Any] = _json({})  # e.g. simulation labels; never shown to customers
    review_status: str = Field(default=ReviewStatus.unreviewed, max_length=16, index=True)
    consensus_verdict: str | None = Field(default=None, max_length=16)
    consensus_answer: str | None = None
    # The article the agreed correction should cite, chosen by the reviewers (None: the bot's own citation).
    consensus_article_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = _ts(index=True)


class TurnCreate(TurnBase):
    id: uuid.UUID | None = None
    conversation_id: uuid.UUID | None = None
    sources: list[dict[str, Any]] = []
    confidence_components: dict[str, float] = {}
    meta: dict[str, Any] = {}
    created_at: datetime | None = None


# --- feedback and reviews ---------------------------------------------------------------------------
class Feedback(SQLModel, table=True):
    """The customer's thumbs on a turn; one row per turn, updated when they change their mind."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    turn_id: uuid.UUID = Field(foreign_key="turn.id", unique=True, index=True)
    rating: int  # +1 or -1
    comment: str | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class UserBase(SQLModel):
    username: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=16)


class User(UserBase, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    password_hash: str
    created_at: datetime = _ts()
    # Staff hardening (chatbot.audit, chatbot.staff_login): kept in the row so every replica sees the same lockout.
    disabled: bool = False
    failed_logins: int = 0  # consecutive failures since the last success or lockout
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    # Sessions opened before this instant are ended (a reset password logs the old sessions out).
    password_changed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    last_login_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class UserCreate(UserBase):
    password: str = Field(min_length=8)


class StaffSession(SQLModel, table=True):
    """One staff login on one protected page (ui.auth.SessionStore), shared by every replica and kept across
    restarts. The cookie's token is never stored: its SHA-256 is the key, so a copy of the table opens nothing."""

    __tablename__ = "staff_session"
    token_hash: str = Field(primary_key=True, max_length=64)  # hex SHA-256 of the cookie token
    page: str = Field(max_length=32)  # the protected app it opens ("/review", "/dashboard"): a token opens one page
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    username: str = Field(max_length=64)
    issued_at: datetime = _ts()
    last_seen_at: datetime = _ts(index=True)  # written at most every few seconds to a minute (ui.auth)
    client: str | None = Field(default=None, max_length=64)  # the address that logged in


class AuditEvent(SQLModel, table=True):
    """One staff action (who, what, when, from where); written by chatbot.audit, never updated."""

    __tablename__ = "audit_event"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    at: datetime = _ts(index=True)
    actor: str = Field(max_length=64, index=True)  # a username, the name typed at a failed login, or cli:<os user>
    role: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=32, index=True)
    target: str | None = Field(default=None, max_length=255)
    detail: dict[str, Any] = _json({})
    client: str | None = Field(default=None, max_length=64, index=True)  # address, or "cli"


class ReviewBase(SQLModel):
    verdict: str = Field(max_length=16)
    corrected_answer: str | None = None
    # With a correction: the knowledge-base article the corrected answer rests on, when the bot cited the
    # wrong one. The nightly job then trains on that article's passage and teaches retrieval the question.
    article_id: str | None = Field(default=None, max_length=255)
    comment: str | None = None


class Review(ReviewBase, table=True):
    __table_args__ = (UniqueConstraint("turn_id", "reviewer_id", name="uq_review_turn_reviewer"),)
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    turn_id: uuid.UUID = Field(foreign_key="turn.id", index=True)
    reviewer_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    created_at: datetime = _ts()


class ReviewCreate(ReviewBase):
    turn_id: uuid.UUID
    reviewer_id: uuid.UUID


# --- model registry (bundles), training and eval runs ----------------------------------------------
class LineageRole(StrEnum):
    example = "example"  # trained on, and in the few-shot store / example index
    calibration = "calibration"  # the confidence calibration was fitted on it
    threshold = "threshold"  # the abstention threshold was fitted on it (at promotion)


class ModelVersionBase(SQLModel):
    """One bundle: everything a promotion changes, promoted, rejected or rolled back as a whole."""

    version: str = Field(max_length=64, unique=True, index=True)
    adapter_path: str | None = None  # None: the bundle serves the base model
    base_model: str = Field(max_length=255)
    training_data_hash: str = Field(default="", max_length=64)
    # The few-shot store and example index entries this bundle reads (retrieval.snapshots): entries tagged
    # since <= index_snapshot < until. 0 is what existed before bundles were versioned.
    index_snapshot: int = 0
    # Below: hand off. None: settings.abstain_confidence (too few reviewed turns to fit one).
    abstain_threshold: float | None = None
    # The retrieval certainty an answer drawn from the top article needs, fitted at promotion on the spot check
    # (chatbot.risk.article_threshold). None: the configured floors (too few reviewed turns to fit one).
    article_threshold: float | None = None
    # Whether customers see the model's answers (else the articles' approved answers or passages only): the gate
    # decides it per bundle (finetune.gate.generated_answers_earned). None: recorded before the gate decided it.
    generated_answers: bool | None = None
    # The embedder the bundle retrieves with (an ``embedder_version`` row's version; its Chroma collections are
    # named after it), flipped with the bundle at promotion and rollback. None: the configured embedder.
    embedder_version: str | None = Field(default=None, max_length=64)


class ModelVersion(ModelVersionBase, table=True):
    __tablename__ = "model_version"
    __table_args__ = (_one_production("uq_model_version_one_production"),)  # migration 0005
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    training_run_id: uuid.UUID | None = Field(default=None, foreign_key="training_run.id")
    # None: the newest active calibration row (bundles recorded before calibrations were part of them).
    calibration_id: uuid.UUID | None = Field(default=None, foreign_key="calibration.id")
    risk: dict[str, Any] = _json({})  # how the abstention threshold was fitted (chatbot.risk.RiskThreshold)
    eval_metrics: dict[str, Any] = _json({})
    status: str = Field(default=ModelStatus.candidate, max_length=16, index=True)
    decision: str | None = None  # why the gate promoted or rejected it
    promoted_by: str | None = Field(default=None, max_length=64)
    promoted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()


class ModelVersionCreate(ModelVersionBase):
    training_run_id: uuid.UUID | None = None
    calibration_id: uuid.UUID | None = None


class ModelVersionPublic(ModelVersionBase):
    id: uuid.UUID
    training_run_id: uuid.UUID | None
    calibration_id: uuid.UUID | None
    risk: dict[str, Any]
    status: str
    decision: str | None
    promoted_by: str | None
    promoted_at: datetime | None
    created_at: datetime


class BundleTurn(SQLModel, table=True):
    """Lineage: the reviewed turns a bundle learned from, and what it learned from each."""

    __tablename__ = "bundle_turn"
    bundle_id: uuid.UUID = Field(foreign_key="model_version.id", primary_key=True)
    turn_id: uuid.UUID = Field(foreign_key="turn.id", primary_key=True, index=True)
    role: str = Field(max_length=16, primary_key=True)


class TrainingRun(SQLModel, table=True):
    __tablename__ = "training_run"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: str = Field(default=RunStatus.running, max_length=16, index=True)
    base_model: str = Field(default="", max_length=255)
    output_dir: str | None = None
    data_hash: str = Field(default="", max_length=64)
    n_train: int = 0
    n_val: int = 0
    hyperparameters: dict[str, Any] = _json({})
    metrics: dict[str, Any] = _json({})
    source_turn_ids: list[str] = _json([])
    message: str | None = None
    started_at: datetime = _ts()
    finished_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class EvalRun(SQLModel, table=True):
    __tablename__ = "eval_run"
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    suite: str = Field(max_length=32, index=True)
    model_label: str = Field(default="", max_length=128)
    dataset: str = ""
    metrics: dict[str, Any] = _json({})
    report_path: str | None = None
    created_at: datetime = _ts()


class Calibration(SQLModel, table=True):
    """Confidence calibration fitted by the eval suite; the newest active row is used by the chat."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    method: str = Field(max_length=16)  # platt | isotonic | temperature
    params: dict[str, Any] = _json({})
    eval_run_id: uuid.UUID | None = Field(default=None, foreign_key="eval_run.id")
    active: bool = True
    created_at: datetime = _ts()


# --- the active embedder (retrieval.embedder_registry) ------------------------------------------------------
class EmbedderStatus(StrEnum):
    candidate = "candidate"  # named by a candidate bundle; its collections exist, nothing serves it yet
    production = "production"
    retired = "retired"


class EmbedderVersion(SQLModel, table=True):
    """A fine-tuned embedder: a night's candidate named by its bundle, production while a bundle naming it is (or
    when imported from an older release's pointer, ``retrieval.embedder_registry.import_legacy_pointer``); the
    'production' row is the one every replica uses."""

    __tablename__ = "embedder_version"
    __table_args__ = (_one_production("uq_embedder_version_one_production"),)  # migration 0007
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: str = Field(max_length=64, unique=True, index=True)  # also names its Chroma collections
    path: str  # the model folder relative to the artifact root (chatbot.artifacts)
    status: str = Field(default=EmbedderStatus.production, max_length=16)
    metrics: dict[str, Any] = _json({})  # the retrieval comparison that made it a candidate (or promoted it)
    promoted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()
