"""an index of failed runs per experiment (progress)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("experiment_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_experiment_runs_failed",
            ["experiment_id"],
            unique=False,
            sqlite_where=sa.text("error IS NOT NULL"),
            postgresql_where=sa.text("error IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("experiment_runs", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_experiment_runs_failed",
            sqlite_where=sa.text("error IS NOT NULL"),
            postgresql_where=sa.text("error IS NOT NULL"),
        )
