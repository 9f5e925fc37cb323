"""artifact paths relative to the shared artifact root; the active embedder in the embedder_version table

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00
"""

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")
INDEX = "uq_embedder_version_one_production"
WHERE = sa.text("status = 'production'")
# Columns naming an artifact folder: written as absolute (or working-directory relative) paths before this revision.
PATH_COLUMNS = (("model_version", "adapter_path"), ("training_run", "output_dir"))


def upgrade() -> None:
    op.create_table(
        "embedder_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("embedder_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_embedder_version_version"), ["version"], unique=True)
    op.create_index(INDEX, "embedder_version", ["status"], unique=True, postgresql_where=WHERE, sqlite_where=WHERE)
    root = _artifact_root()
    if root is not None:
        _rewrite_paths(lambda value: _relative_or_absolute(root, value))


def downgrade() -> None:
    # The promoted embedder is forgotten: older releases read data_dir/embedders/active.json (renamed
    # active.json.imported when it was imported; rename it back to keep that embedder).
    op.drop_index(INDEX, table_name="embedder_version")
    with op.batch_alter_table("embedder_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_embedder_version_version"))
    op.drop_table("embedder_version")
    root = _artifact_root()
    if root is not None:  # older releases open the stored path as it is: make relative references absolute again
        _rewrite_paths(lambda value: value if os.path.isabs(value) else (root / value).as_posix())


def _artifact_root() -> Path | None:
    """The artifact root: given by the caller (``config.attributes["artifact_root"]``), else the settings of this
    process's environment (what `bankbot db upgrade` and `bankbot serve` read). None when it cannot be determined;
    the paths then stay as they are, and reading still honours absolute ones."""
    given = context.config.attributes.get("artifact_root")
    if given is not None:
        return Path(os.path.normpath(os.path.abspath(given)))
    try:
        from chatbot.settings import Settings

        return Path(os.path.normpath(os.path.abspath(Settings().effective_artifact_root)))
    except Exception as exc:  # invalid BANKBOT_* settings: the data migration is skipped, not the schema change
        log.warning("artifact root unknown (%s); stored artifact paths are left as they are", exc)
        return None


def _relative_or_absolute(root: Path, value: str) -> str:
    """Under the root: relative to it (posix). Elsewhere: absolute, so that no older working-directory relative path
    is mistaken for a path under the root."""
    absolute = Path(os.path.normpath(os.path.abspath(value)))
    if absolute != root and absolute.is_relative_to(root):
        return absolute.relative_to(root).as_posix()
    return value if os.path.isabs(value) else absolute.as_posix()


def _rewrite_paths(convert: Callable[[str], str]) -> None:
    bind = op.get_bind()
    for table, column in PATH_COLUMNS:
        rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
        for row_id, value in rows:
            if not value:
                continue
            new = convert(value)
            if new != value:  # the raw id goes back as it came, so no UUID conversion per dialect is needed
                bind.execute(
                    sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"), {"value": new, "id": row_id}
                )
