"""a bundle names the embedder it retrieves with (model_version.embedder_version)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases, as in 0008.


def upgrade() -> None:
    # NULL: the configured embedder.
    op.add_column("model_version", sa.Column("embedder_version", sa.String(length=64), nullable=True))
    # Before this revision the embedder was promoted on its own and served whichever bundle was in production, so
    # the bundles that exist now are taken to name the production embedder: a rollback to one of them then keeps
    # the promoted embedder instead of silently returning to the configured one. Without a production embedder
    # they stay NULL, which is what served them.
    op.execute(
        sa.text(
            "UPDATE model_version SET embedder_version = "
            "(SELECT version FROM embedder_version WHERE status = 'production')"
        )
    )


def downgrade() -> None:
    # Older releases serve the production embedder_version row alone, which promotion and rollback kept in step.
    op.drop_column("model_version", "embedder_version")
