"""model versions become bundles: optional adapter, index snapshot, calibration, abstention threshold, lineage

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 09:00:00
"""

import json
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK_CALIBRATION = "fk_model_version_calibration_id_calibration"


def upgrade() -> None:
    # batch mode: SQLite rebuilds the table; server defaults fill the new non-null columns of existing rows.
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.alter_column("adapter_path", existing_type=sa.String(), nullable=True)
        batch_op.add_column(sa.Column("index_snapshot", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("abstain_threshold", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("calibration_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("risk", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
        batch_op.create_foreign_key(FK_CALIBRATION, "calibration", ["calibration_id"], ["id"])
    op.create_table(
        "bundle_turn",
        sa.Column("bundle_id", sa.Uuid(), nullable=False),
        sa.Column("turn_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["bundle_id"], ["model_version.id"]),
        sa.ForeignKeyConstraint(["turn_id"], ["turn.id"]),
        sa.PrimaryKeyConstraint("bundle_id", "turn_id", "role"),
    )
    with op.batch_alter_table("bundle_turn", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bundle_turn_turn_id"), ["turn_id"], unique=False)
    _lineage_from_training_runs()


def _lineage_from_training_runs() -> None:
    """Existing versions get their lineage from their training run's source turn ids (turns that still exist)."""
    bind = op.get_bind()
    pairs = bind.execute(
        sa.text(
            "SELECT model_version.id, training_run.source_turn_ids FROM model_version "
            "JOIN training_run ON training_run.id = model_version.training_run_id"
        )
    ).all()
    turn = sa.table("turn", sa.column("id", sa.Uuid()))
    existing = {row[0] for row in bind.execute(sa.select(turn.c.id)).all()}
    link = sa.table(
        "bundle_turn", sa.column("bundle_id", sa.Uuid()), sa.column("turn_id", sa.Uuid()), sa.column("role")
    )
    for bundle_id, source_ids in pairs:
        ids = json.loads(source_ids) if isinstance(source_ids, str) else (source_ids or [])
        bundle = bundle_id if isinstance(bundle_id, uuid.UUID) else uuid.UUID(str(bundle_id))
        rows = [
            {"bundle_id": bundle, "turn_id": uuid.UUID(str(t)), "role": "example"}
            for t in dict.fromkeys(ids)
            if uuid.UUID(str(t)) in existing
        ]
        if rows:
            bind.execute(sa.insert(link), rows)


def downgrade() -> None:
    with op.batch_alter_table("bundle_turn", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bundle_turn_turn_id"))
    op.drop_table("bundle_turn")
    # Bundles without an adapter cannot be expressed before this revision: they keep an empty path.
    op.execute("UPDATE model_version SET adapter_path = '' WHERE adapter_path IS NULL")
    with op.batch_alter_table("model_version", schema=None) as batch_op:
        batch_op.drop_constraint(FK_CALIBRATION, type_="foreignkey")
        batch_op.drop_column("risk")
        batch_op.drop_column("calibration_id")
        batch_op.drop_column("abstain_threshold")
        batch_op.drop_column("index_snapshot")
        batch_op.alter_column("adapter_path", existing_type=sa.String(), nullable=False)
