"""Tag.usage_count counts links to live experiments only: recount existing tags

Until now a soft-deleted experiment kept counting for its tags; from now on
deleting an experiment takes one off each of its tags and restoring puts it back,
so the stored counts are recounted once here (no schema change).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_ONLY = """
UPDATE tags SET usage_count = (
    SELECT count(*) FROM experiment_tags
    JOIN experiments ON experiments.id = experiment_tags.experiment_id
    WHERE experiment_tags.tag_id = tags.id AND experiments.deleted_at IS NULL
)
"""
ALL_LINKS = """
UPDATE tags SET usage_count = (
    SELECT count(*) FROM experiment_tags WHERE experiment_tags.tag_id = tags.id
)
"""


def upgrade() -> None:
    op.execute(sa.text(LIVE_ONLY))


def downgrade() -> None:
    op.execute(sa.text(ALL_LINKS))
