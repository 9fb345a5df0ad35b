"""Training owners: created_by on nas_campaigns, dataset_generations, dataset_imports

Not in seed 003 (hpo_campaigns has it there): who created the NAS campaign or the
dataset job, so its completion event (issue 17's outbox) reaches that user.
Nullable, indexed, SET NULL when the user is deleted; existing rows get NULL
(nobody is told about them).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 14:50:34.200487
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_generations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_generations_created_by"), ["created_by"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_generations_created_by_users"),
            "users",
            ["created_by"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("dataset_imports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_imports_created_by"), ["created_by"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_imports_created_by_users"),
            "users",
            ["created_by"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("nas_campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_nas_campaigns_created_by"), ["created_by"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_nas_campaigns_created_by_users"),
            "users",
            ["created_by"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("nas_campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_nas_campaigns_created_by_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_nas_campaigns_created_by"))
        batch_op.drop_column("created_by")

    with op.batch_alter_table("dataset_imports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dataset_imports_created_by_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_dataset_imports_created_by"))
        batch_op.drop_column("created_by")

    with op.batch_alter_table("dataset_generations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dataset_generations_created_by_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_dataset_generations_created_by"))
        batch_op.drop_column("created_by")
