"""Training tables (seed 003): ``training_runs`` (one row per experiment and
epoch), ``hpo_campaigns``, ``nas_campaigns`` and ``nas_trials``, ``explanations``,
``dataset_generations`` and ``dataset_imports``.

ON DELETE rules are the seed's FK map: none (experiments are soft-deleted), except
``nas_campaigns.dataset_id`` and ``nas_trials.campaign_id`` (CASCADE). The two
circular references are real foreign keys, created after both tables
(``use_alter``): ``hpo_campaigns.best_experiment_id`` <-> ``experiments.hpo_campaign_id``
(the latter declared on the experiment model) and ``nas_campaigns.best_trial_id``
<-> ``nas_trials.campaign_id``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.base import Base, IdMixin, TimestampMixin, str_enum
from expgraph.db.claims import ClaimColumns
from expgraph.db.types import BigIntId
from expgraph.domains.experiments.models import ExperimentStatus


class HpoMethod(enum.Enum):
    GRID_SEARCH = "grid_search"
    RANDOM_SEARCH = "random_search"
    BAYESIAN = "bayesian"
    HYPERBAND = "hyperband"


class HpoTrialState(enum.Enum):
    """An HPO trial's state, as Optuna's TrialState: RUNNING while claimed,
    then COMPLETED, PRUNED (stopped early by the pruner) or FAILED (reported as
    failed, or its holder went stale)."""

    RUNNING = "running"
    COMPLETED = "completed"
    PRUNED = "pruned"
    FAILED = "failed"


class NasTrialStatus(enum.Enum):
    """A NAS trial's state: RUNNING while claimed, then COMPLETED or FAILED."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class DatasetGenerationStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DatasetImportStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TrainingRun(IdMixin, TimestampMixin, Base):
    """One epoch of a TRAINING experiment: its losses, accuracies and learning rate.
    A resent epoch updates its row (UNIQUE(experiment_id, epoch))."""

    __tablename__ = "training_runs"
    __table_args__ = (
        UniqueConstraint("experiment_id", "epoch"),
        Index("ix_training_runs_experiment_epoch", "experiment_id", "epoch"),
    )

    experiment_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("experiments.id"))
    epoch: Mapped[int]
    train_loss: Mapped[float | None] = mapped_column(Float)
    val_loss: Mapped[float | None] = mapped_column(Float)
    train_accuracy: Mapped[float | None] = mapped_column(Float)
    val_accuracy: Mapped[float | None] = mapped_column(Float)
    learning_rate: Mapped[float | None] = mapped_column(Float)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    checkpoint_path: Mapped[str | None] = mapped_column(String(500))


class HpoCampaign(IdMixin, TimestampMixin, Base):
    """A hyperparameter search; its trials are TRAINING experiments
    (``experiments.hpo_campaign_id``)."""

    __tablename__ = "hpo_campaigns"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    method: Mapped[HpoMethod] = mapped_column(str_enum(HpoMethod, "hpo_method"))
    status: Mapped[ExperimentStatus] = mapped_column(
        str_enum(ExperimentStatus, "hpo_campaign_status"),
        default=ExperimentStatus.PENDING,
        index=True,
    )
    base_model_type: Mapped[str] = mapped_column(String(100))
    dataset_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("datasets.id"), index=True)
    search_space: Mapped[dict[str, Any]]
    budget: Mapped[dict[str, Any]] = mapped_column(default=dict)
    trials_completed: Mapped[int] = mapped_column(default=0)
    trials_total: Mapped[int] = mapped_column(default=0)
    best_experiment_id: Mapped[int | None] = mapped_column(
        BigIntId,
        ForeignKey("experiments.id", use_alter=True),
        index=True,
    )
    best_accuracy: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    # Not in the seed: the samplers' seed (a campaign is reproducible from it), the
    # objective trials are judged by ({"metric": "val_accuracy", "direction":
    # "maximize"}), when the first trial was claimed (the budget's max duration
    # counts from it) and when the campaign completed.
    seed: Mapped[int | None] = mapped_column(BigInteger)
    objective: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class HpoTrial(IdMixin, TimestampMixin, ClaimColumns, Base):
    """One trial of an HPO campaign (not in the seed: Optuna's trial, stored): its
    TRAINING experiment (whose ``hyperparameters`` are the trial's parameters), its
    number in the campaign, state, objective value and intermediate values by
    epoch, and the claim of the worker training it (holder ``claimed_by``)."""

    __tablename__ = "hpo_trials"
    __table_args__ = (
        UniqueConstraint("campaign_id", "trial_number"),
        Index("ix_hpo_trials_campaign_state", "campaign_id", "state"),
    )

    campaign_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("hpo_campaigns.id", ondelete="CASCADE")
    )
    experiment_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("experiments.id"), unique=True)
    trial_number: Mapped[int]
    state: Mapped[HpoTrialState] = mapped_column(
        str_enum(HpoTrialState, "hpo_trial_state"), default=HpoTrialState.RUNNING
    )
    value: Mapped[float | None] = mapped_column(Float)
    intermediate_values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    finished_at: Mapped[datetime | None]


class Explanation(IdMixin, TimestampMixin, Base):
    """An explanation of an experiment's model on one signal."""

    __tablename__ = "explanations"

    experiment_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("experiments.id"), index=True)
    signal_id: Mapped[str | None] = mapped_column(String(255), index=True)
    method: Mapped[str] = mapped_column(String(50))
    explanation_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    file_path: Mapped[str | None] = mapped_column(String(500))


class NasCampaign(IdMixin, TimestampMixin, Base):
    """A neural architecture search over a dataset; deleted with its dataset."""

    __tablename__ = "nas_campaigns"

    name: Mapped[str] = mapped_column(String(255))
    dataset_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    search_algorithm: Mapped[str] = mapped_column(String(50))
    num_trials: Mapped[int] = mapped_column(default=0)
    max_epochs_per_trial: Mapped[int] = mapped_column(default=0)
    search_space_config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(50), default="pending", index=True)
    best_trial_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("nas_trials.id", use_alter=True), index=True
    )
    best_accuracy: Mapped[float | None] = mapped_column(Float)
    task_id: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)
    # Not in the seed: the sampler's seed, how many trials may run at once, and
    # when the campaign completed.
    seed: Mapped[int | None] = mapped_column(BigInteger)
    max_parallel: Mapped[int] = mapped_column(default=1)
    completed_at: Mapped[datetime | None]
    # Not in the seed: who created the campaign (told when it completes).
    created_by: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class NasTrial(IdMixin, TimestampMixin, ClaimColumns, Base):
    """One sampled architecture of a NAS campaign; deleted with its campaign.
    An architecture (by its hash) is trained once per campaign."""

    __tablename__ = "nas_trials"
    __table_args__ = (
        UniqueConstraint("campaign_id", "architecture_hash"),
        Index("ix_nas_trials_campaign_trial", "campaign_id", "trial_number"),
    )

    campaign_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("nas_campaigns.id", ondelete="CASCADE")
    )
    trial_number: Mapped[int]
    architecture: Mapped[dict[str, Any]]
    architecture_hash: Mapped[str] = mapped_column(String(64))
    validation_accuracy: Mapped[float | None] = mapped_column(Float)
    validation_loss: Mapped[float | None] = mapped_column(Float)
    training_time: Mapped[float | None] = mapped_column(Float)
    num_parameters: Mapped[int | None]
    flops: Mapped[int | None] = mapped_column(BigInteger)
    model_size_mb: Mapped[float | None] = mapped_column(Float)
    metrics: Mapped[dict[str, Any] | None]
    # Not in the seed: the trial's state and the claim of the worker training it.
    status: Mapped[NasTrialStatus] = mapped_column(
        str_enum(NasTrialStatus, "nas_trial_status"), default=NasTrialStatus.RUNNING
    )
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    finished_at: Mapped[datetime | None]


class DatasetGeneration(IdMixin, TimestampMixin, ClaimColumns, Base):
    """A job generating a synthetic dataset; its claim holder is ``celery_task_id``."""

    __tablename__ = "dataset_generations"

    name: Mapped[str] = mapped_column(String(255))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[DatasetGenerationStatus] = mapped_column(
        str_enum(DatasetGenerationStatus, "dataset_generation_status"),
        default=DatasetGenerationStatus.PENDING,
        index=True,
    )
    num_signals: Mapped[int | None]
    num_faults: Mapped[int | None]
    output_path: Mapped[str | None] = mapped_column(String(500))
    progress: Mapped[int] = mapped_column(default=0)
    celery_task_id: Mapped[str | None] = mapped_column(String(255), index=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    # Not in the seed: the dataset the finished job created or updated (kept when
    # the job is; SET NULL when the dataset goes), why it failed, when it ended.
    dataset_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("datasets.id", ondelete="SET NULL"), index=True
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    # Not in the seed: who created the job (told when it ends).
    created_by: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )


class DatasetImport(IdMixin, TimestampMixin, ClaimColumns, Base):
    """A job importing files into a dataset; its claim holder is ``celery_task_id``."""

    __tablename__ = "dataset_imports"

    name: Mapped[str] = mapped_column(String(255))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[DatasetImportStatus] = mapped_column(
        str_enum(DatasetImportStatus, "dataset_import_status"),
        default=DatasetImportStatus.PENDING,
        index=True,
    )
    num_files: Mapped[int | None]
    num_signals: Mapped[int | None]
    output_path: Mapped[str | None] = mapped_column(String(500))
    progress: Mapped[int] = mapped_column(default=0)
    celery_task_id: Mapped[str | None] = mapped_column(String(255), index=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    # Not in the seed: the dataset the finished job created or updated (kept when
    # the job is; SET NULL when the dataset goes), why it failed, when it ended.
    dataset_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("datasets.id", ondelete="SET NULL"), index=True
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
    # Not in the seed: who created the job (told when it ends).
    created_by: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
