"""Training tables (seed 003): training_runs, hpo_campaigns, nas_campaigns, nas_trials,
explanations, dataset_generations, dataset_imports, and the FK experiments.hpo_campaign_id

training_runs: UNIQUE(experiment_id, epoch) (logTrainingEpochs upserts on it) and
the seed's composite index ix_training_runs_experiment_epoch; nas_trials: the
seed's ix_nas_trials_campaign_trial and UNIQUE(campaign_id, architecture_hash).
ON DELETE as the seed's FK map says: CASCADE for nas_campaigns.dataset_id and
nas_trials.campaign_id, no rule elsewhere. The two circular references are real
foreign keys, each added once both of its tables exist:
experiments.hpo_campaign_id -> hpo_campaigns and nas_campaigns.best_trial_id -> nas_trials.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 11:56:53.054998
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import expgraph.db.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_generations",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="dataset_generation_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("num_signals", sa.Integer(), nullable=True),
        sa.Column("num_faults", sa.Integer(), nullable=True),
        sa.Column("output_path", sa.String(length=500), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("celery_task_id", sa.String(length=255), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_generations")),
    )
    with op.batch_alter_table("dataset_generations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_generations_celery_task_id"), ["celery_task_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dataset_generations_status"), ["status"], unique=False)

    op.create_table(
        "dataset_imports",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                name="dataset_import_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("num_files", sa.Integer(), nullable=True),
        sa.Column("num_signals", sa.Integer(), nullable=True),
        sa.Column("output_path", sa.String(length=500), nullable=True),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("celery_task_id", sa.String(length=255), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_imports")),
    )
    with op.batch_alter_table("dataset_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_imports_celery_task_id"), ["celery_task_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_dataset_imports_status"), ["status"], unique=False)

    op.create_table(
        "hpo_campaigns",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "grid_search",
                "random_search",
                "bayesian",
                "hyperband",
                name="hpo_method",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "pending",
                "running",
                "paused",
                "completed",
                "failed",
                "cancelled",
                name="hpo_campaign_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("base_model_type", sa.String(length=100), nullable=False),
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "search_space",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "budget",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("trials_completed", sa.Integer(), nullable=False),
        sa.Column("trials_total", sa.Integer(), nullable=False),
        sa.Column(
            "best_experiment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("best_accuracy", sa.Float(), nullable=True),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["best_experiment_id"],
            ["experiments.id"],
            name=op.f("fk_hpo_campaigns_best_experiment_id_experiments"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_hpo_campaigns_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_hpo_campaigns_dataset_id_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hpo_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_hpo_campaigns_name")),
    )
    with op.batch_alter_table("hpo_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hpo_campaigns_best_experiment_id"), ["best_experiment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hpo_campaigns_created_by"), ["created_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hpo_campaigns_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hpo_campaigns_status"), ["status"], unique=False)

    op.create_table(
        "nas_campaigns",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column(
            "dataset_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("search_algorithm", sa.String(length=50), nullable=False),
        sa.Column("num_trials", sa.Integer(), nullable=False),
        sa.Column("max_epochs_per_trial", sa.Integer(), nullable=False),
        sa.Column(
            "search_space_config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=50), nullable=False),
        sa.Column(
            "best_trial_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("best_accuracy", sa.Float(), nullable=True),
        sa.Column("task_id", sa.String(length=255), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_nas_campaigns_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nas_campaigns")),
    )
    with op.batch_alter_table("nas_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_nas_campaigns_best_trial_id"), ["best_trial_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_nas_campaigns_dataset_id"), ["dataset_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_nas_campaigns_status"), ["status"], unique=False)

    op.create_table(
        "nas_trials",
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("trial_number", sa.Integer(), nullable=False),
        sa.Column(
            "architecture",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("architecture_hash", sa.String(length=64), nullable=False),
        sa.Column("validation_accuracy", sa.Float(), nullable=True),
        sa.Column("validation_loss", sa.Float(), nullable=True),
        sa.Column("training_time", sa.Float(), nullable=True),
        sa.Column("num_parameters", sa.Integer(), nullable=True),
        sa.Column("flops", sa.BigInteger(), nullable=True),
        sa.Column("model_size_mb", sa.Float(), nullable=True),
        sa.Column(
            "metrics",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["nas_campaigns.id"],
            name=op.f("fk_nas_trials_campaign_id_nas_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nas_trials")),
        sa.UniqueConstraint(
            "campaign_id",
            "architecture_hash",
            name=op.f("uq_nas_trials_campaign_id_architecture_hash"),
        ),
    )
    with op.batch_alter_table("nas_trials", schema=None) as batch_op:
        batch_op.create_index(
            "ix_nas_trials_campaign_trial", ["campaign_id", "trial_number"], unique=False
        )
    with op.batch_alter_table("nas_campaigns", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_nas_campaigns_best_trial_id_nas_trials"),
            "nas_trials",
            ["best_trial_id"],
            ["id"],
        )

    op.create_table(
        "explanations",
        sa.Column(
            "experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("signal_id", sa.String(length=255), nullable=True),
        sa.Column("method", sa.String(length=50), nullable=False),
        sa.Column(
            "explanation_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("file_path", sa.String(length=500), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_explanations_experiment_id_experiments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_explanations")),
    )
    with op.batch_alter_table("explanations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_explanations_experiment_id"), ["experiment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_explanations_signal_id"), ["signal_id"], unique=False)

    op.create_table(
        "training_runs",
        sa.Column(
            "experiment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("train_loss", sa.Float(), nullable=True),
        sa.Column("val_loss", sa.Float(), nullable=True),
        sa.Column("train_accuracy", sa.Float(), nullable=True),
        sa.Column("val_accuracy", sa.Float(), nullable=True),
        sa.Column("learning_rate", sa.Float(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("checkpoint_path", sa.String(length=500), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_training_runs_experiment_id_experiments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_runs")),
        sa.UniqueConstraint(
            "experiment_id", "epoch", name=op.f("uq_training_runs_experiment_id_epoch")
        ),
    )
    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_runs_experiment_epoch", ["experiment_id", "epoch"], unique=False
        )

    # SQLite adds a constraint by rebuilding the table; the views of 0010 name
    # experiments, and renaming the rebuilt table over them needs the legacy rule.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA legacy_alter_table = ON")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_experiments_hpo_campaign_id_hpo_campaigns"),
            "hpo_campaigns",
            ["hpo_campaign_id"],
            ["id"],
        )
    if sqlite:
        op.execute("PRAGMA legacy_alter_table = OFF")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA legacy_alter_table = ON")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_experiments_hpo_campaign_id_hpo_campaigns"), type_="foreignkey"
        )
    if sqlite:
        op.execute("PRAGMA legacy_alter_table = OFF")

    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_training_runs_experiment_epoch")

    op.drop_table("training_runs")
    with op.batch_alter_table("explanations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_explanations_signal_id"))
        batch_op.drop_index(batch_op.f("ix_explanations_experiment_id"))

    op.drop_table("explanations")
    with op.batch_alter_table("nas_campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_nas_campaigns_best_trial_id_nas_trials"), type_="foreignkey"
        )

    with op.batch_alter_table("nas_trials", schema=None) as batch_op:
        batch_op.drop_index("ix_nas_trials_campaign_trial")

    op.drop_table("nas_trials")
    with op.batch_alter_table("nas_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nas_campaigns_status"))
        batch_op.drop_index(batch_op.f("ix_nas_campaigns_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_nas_campaigns_best_trial_id"))

    op.drop_table("nas_campaigns")
    with op.batch_alter_table("hpo_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hpo_campaigns_status"))
        batch_op.drop_index(batch_op.f("ix_hpo_campaigns_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_hpo_campaigns_created_by"))
        batch_op.drop_index(batch_op.f("ix_hpo_campaigns_best_experiment_id"))

    op.drop_table("hpo_campaigns")
    with op.batch_alter_table("dataset_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_imports_status"))
        batch_op.drop_index(batch_op.f("ix_dataset_imports_celery_task_id"))

    op.drop_table("dataset_imports")
    with op.batch_alter_table("dataset_generations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_generations_status"))
        batch_op.drop_index(batch_op.f("ix_dataset_generations_celery_task_id"))

    op.drop_table("dataset_generations")
