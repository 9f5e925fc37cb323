"""reviewers choose the right article on a correction

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER most things in place; nullable columns keep existing rows valid.
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.add_column(sa.Column("article_id", sa.String(length=255), nullable=True))
    with op.batch_alter_table("turn", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consensus_article_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turn", schema=None) as batch_op:
        batch_op.drop_column("consensus_article_id")
    with op.batch_alter_table("review", schema=None) as batch_op:
        batch_op.drop_column("article_id")
