"""Training claims: hpo_trials, and claim columns on nas_trials and the dataset jobs

Not in seed 003, needed by issue 16's one claims mechanism (db/claims.py):
- hpo_trials: one row per trial of an HPO campaign (Optuna's trial, stored: its
  TRAINING experiment, number, state, objective value, intermediate values by
  epoch) with its claim (claimed_by, claimed_at, fencing_token); deleted with
  its campaign (CASCADE), UNIQUE(campaign_id, trial_number), UNIQUE(experiment_id).
- nas_trials: status, claimed_by, claimed_at, fencing_token, finished_at. Rows
  stored before this revision were finished results: status 'completed'.
- dataset_generations / dataset_imports: claimed_at and fencing_token (the holder
  is the seed's celery_task_id), the dataset a finished job wrote (SET NULL),
  error_message, finished_at.
- hpo_campaigns: seed (the samplers' seed), objective ({"metric", "direction"}),
  started_at (max duration counts from it), completed_at.
- nas_campaigns: seed, max_parallel (trials running at once; 1 for existing rows),
  completed_at.
Existing rows get fencing_token 0 (never claimed).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 14:03:45.550766
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import expgraph.db.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hpo_trials",
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("trial_number", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "running",
                "completed",
                "pruned",
                "failed",
                name="hpo_trial_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column(
            "intermediate_values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("finished_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["hpo_campaigns.id"],
            name=op.f("fk_hpo_trials_campaign_id_hpo_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_hpo_trials_experiment_id_experiments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hpo_trials")),
        sa.UniqueConstraint(
            "campaign_id", "trial_number", name=op.f("uq_hpo_trials_campaign_id_trial_number")
        ),
        sa.UniqueConstraint("experiment_id", name=op.f("uq_hpo_trials_experiment_id")),
    )
    with op.batch_alter_table("hpo_trials", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hpo_trials_campaign_state", ["campaign_id", "state"], unique=False
        )

    with op.batch_alter_table("dataset_generations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("error_message", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("finished_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("fencing_token", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_generations_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_generations_dataset_id_datasets"),
            "datasets",
            ["dataset_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("dataset_imports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("error_message", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("finished_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("fencing_token", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            batch_op.f("ix_dataset_imports_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_imports_dataset_id_datasets"),
            "datasets",
            ["dataset_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("hpo_campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seed", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "objective",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )
        batch_op.add_column(
            sa.Column("started_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("completed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("nas_campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seed", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("max_parallel", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("completed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("nas_trials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "running",
                    "completed",
                    "failed",
                    name="nas_trial_status",
                    native_enum=False,
                    create_constraint=True,
                ),
                nullable=False,
                server_default="completed",
            )
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("finished_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("claimed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("fencing_token", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("nas_trials", schema=None) as batch_op:
        batch_op.drop_column("fencing_token")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("finished_at")
        batch_op.drop_column("claimed_by")
        batch_op.drop_constraint(op.f("ck_nas_trials_nas_trial_status"), type_="check")
        batch_op.drop_column("status")

    with op.batch_alter_table("nas_campaigns", schema=None) as batch_op:
        batch_op.drop_column("completed_at")
        batch_op.drop_column("max_parallel")
        batch_op.drop_column("seed")

    with op.batch_alter_table("hpo_campaigns", schema=None) as batch_op:
        batch_op.drop_column("completed_at")
        batch_op.drop_column("started_at")
        batch_op.drop_column("objective")
        batch_op.drop_column("seed")

    with op.batch_alter_table("dataset_imports", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dataset_imports_dataset_id_datasets"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_dataset_imports_dataset_id"))
        batch_op.drop_column("fencing_token")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("finished_at")
        batch_op.drop_column("error_message")
        batch_op.drop_column("dataset_id")

    with op.batch_alter_table("dataset_generations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dataset_generations_dataset_id_datasets"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_dataset_generations_dataset_id"))
        batch_op.drop_column("fencing_token")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("finished_at")
        batch_op.drop_column("error_message")
        batch_op.drop_column("dataset_id")

    with op.batch_alter_table("hpo_trials", schema=None) as batch_op:
        batch_op.drop_index("ix_hpo_trials_campaign_state")

    op.drop_table("hpo_trials")
