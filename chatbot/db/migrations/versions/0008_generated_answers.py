"""a bundle says whether customers see its model's answers (the gate's decision)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite >= 3.35 drops a column in place): a batch copy of model_version
# would have to drop the table that bundle_turn's foreign key points at.


def upgrade() -> None:
    # NULL for the bundles already recorded: they keep showing their model's answers, as they did.
    op.add_column("model_version", sa.Column("generated_answers", sa.Boolean(), nullable=True))


def downgrade() -> None:
    op.drop_column("model_version", "generated_answers")
