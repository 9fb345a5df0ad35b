"""an index of successful runs per experiment (progress, claim-next)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("experiment_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_experiment_runs_successful",
            ["experiment_id"],
            unique=False,
            sqlite_where=sa.text("error IS NULL"),
            postgresql_where=sa.text("error IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("experiment_runs", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_experiment_runs_successful",
            sqlite_where=sa.text("error IS NULL"),
            postgresql_where=sa.text("error IS NULL"),
        )
