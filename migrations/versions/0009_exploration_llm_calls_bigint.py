"""Explorations' total LLM calls as a 64-bit integer

It is the sum of every node's LLM calls, which callers set: it can pass 2^31.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 05:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("explorations") as batch:
        batch.alter_column(
            "total_llm_calls",
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("explorations") as batch:
        batch.alter_column(
            "total_llm_calls",
            existing_type=sa.BigInteger(),
            type_=sa.Integer(),
            existing_nullable=False,
        )
