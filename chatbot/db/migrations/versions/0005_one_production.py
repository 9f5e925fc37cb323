"""at most one production bundle, enforced by the database (a partial unique index)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_model_version_one_production"
WHERE = sa.text("status = 'production'")


def upgrade() -> None:
    _retire_all_but_newest_production()
    op.create_index(INDEX, "model_version", ["status"], unique=True, postgresql_where=WHERE, sqlite_where=WHERE)


def _retire_all_but_newest_production() -> None:
    """Two concurrent promotions could leave two production rows before this revision; the app already served the
    newest promoted one (``crud.production_model``), so the others become retired and the index can be built."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, promoted_at, created_at FROM model_version WHERE status = 'production'")
    ).all()
    if len(rows) < 2:
        return
    # NULL promoted_at sorts first (oldest); raw values (text on SQLite) are compared as text, both ISO-ordered.
    ordered = sorted(rows, key=lambda r: (r.promoted_at is not None, str(r.promoted_at or ""), str(r.created_at)))
    for row in ordered[:-1]:  # the raw id goes back as it came, so no UUID conversion per dialect is needed
        bind.execute(sa.text("UPDATE model_version SET status = 'retired' WHERE id = :id"), {"id": row.id})


def downgrade() -> None:
    op.drop_index(INDEX, table_name="model_version")
