"""The one ``experiments`` table, with single-table inheritance per kind.

Common columns hold what every kind of experiment has; each kind's own columns
are nullable and mapped on its subclass. Indexes: status, name,
created_at and model_type indexes, keyset indexes ``(sort key, id)`` for the
three orderings, and names unique among experiments not deleted.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.base import Base, IdMixin, TimestampMixin, str_enum
from expgraph.db.search import SearchVector
from expgraph.db.types import BigIntId


class ExperimentKind(enum.Enum):
    EVALUATION = "evaluation"
    AB_TEST = "ab_test"
    SIMULATION = "simulation"
    TRAINING = "training"
    RESEARCH = "research"


class ExperimentStatus(enum.Enum):
    DRAFT = "draft"
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class UnitType(enum.Enum):
    USER = "user"
    HOUSEHOLD = "household"
    SESSION = "session"


NOT_DELETED = text("deleted_at IS NULL")


class Experiment(IdMixin, TimestampMixin, Base):
    __tablename__ = "experiments"
    __table_args__ = (
        Index(
            "uq_experiments_name_not_deleted",
            "name",
            unique=True,
            sqlite_where=NOT_DELETED,
            postgresql_where=NOT_DELETED,
        ),
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
        Index(None, "name", "id"),
        Index(None, "kind", "created_at", "id"),
        # The live experiments' ids: totalCount of a list counts them with an
        # index-only scan instead of reading the whole table.
        Index("ix_experiments_live", "id", sqlite_where=NOT_DELETED, postgresql_where=NOT_DELETED),
    )
    __mapper_args__ = {
        "polymorphic_on": "kind",
        "polymorphic_abstract": True,
        # Load every kind's columns with the row: one query serves any mix of kinds.
        "with_polymorphic": "*",
        "eager_defaults": True,
    }

    kind: Mapped[ExperimentKind] = mapped_column(str_enum(ExperimentKind, "experiment_kind"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ExperimentStatus] = mapped_column(
        str_enum(ExperimentStatus, "experiment_status"), default=ExperimentStatus.DRAFT, index=True
    )
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    created_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    deleted_at: Mapped[datetime | None]
    # Full-text search document on PostgreSQL (name, description, hypothesis, notes,
    # tag names), kept by triggers (migration 0015; SQLite: the experiments_fts table).
    search_vector: Mapped[str | None] = mapped_column(SearchVector, deferred=True)
    # Evaluation and training experiments use a dataset.
    dataset_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("datasets.id"), index=True)


# Runs per dataset example, at most: the work of an execution (and of paging
# its incomplete runs) grows with it.
MAX_REPETITIONS = 1000


class EvaluationExperiment(Experiment):
    """Runs over a dataset version, each example ``repetitions`` times."""

    __mapper_args__ = {"polymorphic_identity": ExperimentKind.EVALUATION, "eager_defaults": True}

    dataset_version_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("dataset_versions.id"), index=True
    )
    repetitions: Mapped[int | None] = mapped_column(default=None)


class AbTestExperiment(Experiment):
    """Units of a type are assigned to variants between start and end."""

    __mapper_args__ = {"polymorphic_identity": ExperimentKind.AB_TEST, "eager_defaults": True}

    unit_type: Mapped[UnitType | None] = mapped_column(str_enum(UnitType, "unit_type"))
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    # GrowthBook's hash seed of its units; the name at creation, fixed once it has run.
    hash_seed: Mapped[str | None] = mapped_column(String(255))


class SimulationExperiment(Experiment):
    """Iterations of simulations. Money is an integer number of cents; the master
    seed is required, so every run can be reproduced."""

    __mapper_args__ = {"polymorphic_identity": ExperimentKind.SIMULATION, "eager_defaults": True}

    simulation_type: Mapped[str | None] = mapped_column(String(100))
    scenario_path: Mapped[str | None] = mapped_column(String(500))
    master_seed: Mapped[int | None] = mapped_column(BigInteger)
    completed_at: Mapped[datetime | None]
    num_iterations: Mapped[int | None] = mapped_column(default=None)
    converged: Mapped[bool | None] = mapped_column(default=None)
    convergence_reason: Mapped[str | None] = mapped_column(String(255))
    final_cost: Mapped[int | None] = mapped_column(BigInteger)
    best_cost: Mapped[int | None] = mapped_column(BigInteger)


class TrainingExperiment(Experiment):
    """A model trained on a dataset, possibly spawned by an HPO campaign."""

    __mapper_args__ = {"polymorphic_identity": ExperimentKind.TRAINING, "eager_defaults": True}

    model_type: Mapped[str | None] = mapped_column(String(100), index=True)
    hyperparameters: Mapped[dict[str, Any] | None]
    metrics: Mapped[dict[str, Any] | None]
    best_epoch: Mapped[int | None] = mapped_column(default=None)
    total_epochs: Mapped[int | None] = mapped_column(default=None)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    model_path: Mapped[str | None] = mapped_column(String(500))
    onnx_path: Mapped[str | None] = mapped_column(String(500))
    results_dir: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    # The HPO campaign it is a trial of (domains/training); a circular reference
    # with hpo_campaigns.best_experiment_id, so the constraint is created after both.
    hpo_campaign_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("hpo_campaigns.id", use_alter=True), index=True
    )


class ResearchExperiment(Experiment):
    """A hypothesis tested on synthetic users, with a scorecard."""

    __mapper_args__ = {"polymorphic_identity": ExperimentKind.RESEARCH, "eager_defaults": True}

    hypothesis: Mapped[str | None] = mapped_column(String(500))
    scorecard_data: Mapped[dict[str, Any] | None]


class SavedSearch(IdMixin, TimestampMixin, Base):
    """A user's named experiment search (UNIQUE(user_id, name), deleted with the
    user): ``query`` is the ExperimentFilter and ordering as JSON text, validated
    when saved; ``usage_count`` and ``last_used_at`` follow each run."""

    __tablename__ = "saved_searches"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_user_saved_search_name"),)

    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    query: Mapped[str] = mapped_column(Text)
    is_pinned: Mapped[bool] = mapped_column(default=False)
    usage_count: Mapped[int] = mapped_column(default=0)
    last_used_at: Mapped[datetime | None]
