"""a bundle's fitted retrieval certainty for answers drawn from the top article (chatbot.risk.article_threshold)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases, as in 0008.


def upgrade() -> None:
    # NULL: the configured passage_min_retrieval_certainty / answer_min_retrieval_certainty, as before.
    op.add_column("model_version", sa.Column("article_threshold", sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column("model_version", "article_threshold")
