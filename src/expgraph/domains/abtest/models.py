"""A/B testing tables (seed 001): variants, assignments, events, metric
aggregates, policies, policy versions and offline replay results, plus the two
read-only views the migration creates.

Ids follow expgraph's one id scheme (64-bit integers), not the seed's UUIDs;
the seed's ``exp.experiments`` is expgraph's one ``experiments`` table (kind
AB_TEST). Foreign keys have no ON DELETE rule, as in the seed (experiments are
soft-deleted), except the event -> experiment side table, which goes with its event.

Allocations and scores are exact decimals (``Numeric``; Python ``Decimal``,
never float). Events of one experiment are found through ``event_experiments``
(one row per event and experiment it names, indexed by experiment and variant)
on both databases; PostgreSQL also has the seed's GIN index on ``events.experiments``
(SQLite gets a plain index of that name, which its queries do not use).
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from expgraph.db.base import Base, CreatedAtMixin, IdMixin, TimestampMixin, str_enum
from expgraph.db.types import BigIntId, UTCDateTime, utcnow
from expgraph.domains.abtest import configs
from expgraph.domains.experiments.models import UnitType

ALLOCATION = Numeric(5, 4)
"""An allocation: a share of units from 0.0000 to 1.0000, exact."""
SCORE = Numeric(10, 6)
STAT = Numeric(20, 6)
IS_CONTROL = text("is_control")


class BucketType(enum.Enum):
    HOURLY = "hourly"
    DAILY = "daily"


class PolicyVersionStatus(enum.Enum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    ARCHIVED = "archived"


class ReplayStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class Variant(IdMixin, TimestampMixin, Base):
    """An arm of an A/B test; its position orders the bucket ranges."""

    __tablename__ = "variants"
    __table_args__ = (
        UniqueConstraint("experiment_id", "name"),
        UniqueConstraint("experiment_id", "position"),
        CheckConstraint("allocation >= 0 AND allocation <= 1", name="allocation_share"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        # At most one control per experiment.
        Index(
            "uq_variants_one_control",
            "experiment_id",
            unique=True,
            sqlite_where=IS_CONTROL,
            postgresql_where=IS_CONTROL,
        ),
        Index(None, "experiment_id"),
    )

    experiment_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("experiments.id"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    allocation: Mapped[Decimal] = mapped_column(ALLOCATION)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int]
    is_control: Mapped[bool] = mapped_column(default=False)

    @property
    def policy_version_pk(self) -> int | None:
        """The policy version its config names (either config format), if any."""
        return configs.pk_of(configs.policy_version_gid(configs.read(self.config)), "PolicyVersion")

    @property
    def prompt_version_pk(self) -> int | None:
        """The prompt version its config names, if any."""
        return configs.pk_of(configs.prompt_version_gid(configs.read(self.config)), "PromptVersion")


class Assignment(IdMixin, Base):
    """A unit's variant in an experiment: stored once, never changed."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("experiment_id", "unit_id"),
        Index(None, "unit_type", "unit_id"),
        Index(None, "experiment_id"),
        Index(None, "variant_id"),
    )

    experiment_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("experiments.id"))
    unit_type: Mapped[UnitType] = mapped_column(str_enum(UnitType, "unit_type"))
    unit_id: Mapped[str] = mapped_column(String(255))
    variant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("variants.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow())


class Event(IdMixin, CreatedAtMixin, Base):
    """An in-product action of a unit; ``event_id`` (the client's) makes retries idempotent."""

    __tablename__ = "events"
    __table_args__ = (
        Index(None, "event_type"),
        Index(None, "unit_type", "unit_id"),
        Index(None, "timestamp"),
        # GIN on PostgreSQL (jsonb containment); a plain index on SQLite, where
        # event_experiments is what finds an experiment's events.
        Index("ix_events_experiments", "experiments", postgresql_using="gin"),
    )

    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    unit_type: Mapped[UnitType] = mapped_column(str_enum(UnitType, "unit_type"))
    unit_id: Mapped[str] = mapped_column(String(255))
    # [{"experiment_id": ..., "variant_id": ...}], global ids as the client sent them.
    experiments: Mapped[list[Any]] = mapped_column(default=list)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload: Mapped[dict[str, Any] | None]
    timestamp: Mapped[datetime]


class EventExperiment(Base):
    """One row per event and experiment it names: finds an experiment's events by index."""

    __tablename__ = "event_experiments"
    __table_args__ = (Index(None, "experiment_id", "variant_id"),)

    event_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id"), primary_key=True
    )
    variant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("variants.id"))


class UnitMetricSum(Base):
    """A unit's running sum of one metric in one experiment: the metric summed over
    the unit's events that name the experiment and happened at or after the unit's
    assignment (``events`` of them). Kept by ``recordEvents`` in the events'
    transaction and recomputable from the events (``aggregate.rebuild_unit_sums``),
    so that results read one row per unit instead of every event."""

    __tablename__ = "unit_metric_sums"

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id"), primary_key=True
    )
    metric_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    total: Mapped[float] = mapped_column(Float)
    events: Mapped[int] = mapped_column(BigInteger)


class MetricAggregate(IdMixin, CreatedAtMixin, Base):
    """Count, sum, mean, min, max and standard deviation of one metric per bucket."""

    __tablename__ = "metric_aggregates"
    __table_args__ = (
        UniqueConstraint(
            "experiment_id", "variant_id", "metric_name", "bucket_type", "bucket_start"
        ),
        Index(None, "experiment_id", "variant_id", "metric_name", "bucket_start"),
    )

    experiment_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("experiments.id"))
    variant_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("variants.id"), index=True)
    metric_name: Mapped[str] = mapped_column(String(100))
    bucket_type: Mapped[BucketType] = mapped_column(str_enum(BucketType, "bucket_type"))
    bucket_start: Mapped[datetime]
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    sum: Mapped[Decimal | None] = mapped_column(STAT)
    mean: Mapped[Decimal | None] = mapped_column(STAT)
    min: Mapped[Decimal | None] = mapped_column(STAT)
    max: Mapped[Decimal | None] = mapped_column(STAT)
    stddev: Mapped[Decimal | None] = mapped_column(STAT)


class Policy(IdMixin, CreatedAtMixin, Base):
    """A named policy (e.g. the planner policy)."""

    __tablename__ = "policies"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)


class PolicyVersion(IdMixin, CreatedAtMixin, Base):
    """A numbered version of a policy, naming an MLflow model version."""

    __tablename__ = "policy_versions"
    __table_args__ = (
        UniqueConstraint("policy_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(None, "policy_id"),
        Index(None, "mlflow_model_name", "mlflow_model_version"),
    )

    policy_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("policies.id"))
    version: Mapped[int]
    mlflow_model_name: Mapped[str] = mapped_column(String(255))
    mlflow_model_version: Mapped[str] = mapped_column(String(50))
    config_defaults: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[PolicyVersionStatus] = mapped_column(
        str_enum(PolicyVersionStatus, "policy_version_status"), default=PolicyVersionStatus.ACTIVE
    )


class OfflineReplayResult(IdMixin, CreatedAtMixin, Base):
    """Scores of a policy version replayed on a dataset version, against a baseline."""

    __tablename__ = "offline_replay_results"

    policy_version_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("policy_versions.id"), index=True
    )
    dataset_version: Mapped[str] = mapped_column(String(255), index=True)
    mlflow_run_id: Mapped[str | None] = mapped_column(String(255))
    plan_alignment_score: Mapped[Decimal | None] = mapped_column(SCORE)
    constraint_respect_score: Mapped[Decimal | None] = mapped_column(SCORE)
    edit_distance_score: Mapped[Decimal | None] = mapped_column(SCORE)
    diversity_score: Mapped[Decimal | None] = mapped_column(SCORE)
    leftovers_score: Mapped[Decimal | None] = mapped_column(SCORE)
    baseline_version_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("policy_versions.id"), index=True
    )
    is_better_than_baseline: Mapped[bool | None]
    status: Mapped[ReplayStatus] = mapped_column(
        str_enum(ReplayStatus, "replay_status"), default=ReplayStatus.COMPLETED
    )
    error_message: Mapped[str | None] = mapped_column(Text)


class ViewBase(DeclarativeBase):
    """Read-only mappings of the views 0010 creates: their own metadata, so
    alembic's comparison and ``create_all`` never see them as tables."""

    metadata = MetaData()
    type_annotation_map = {datetime: UTCDateTime()}


class ExperimentMetricRow(ViewBase):
    """``v_experiment_metrics``: an aggregate with its experiment's and variant's names."""

    __tablename__ = "v_experiment_metrics"

    # The aggregate's id: one row of the view per aggregate.
    id: Mapped[int] = mapped_column("aggregate_id", BigIntId, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(BigIntId)
    variant_id: Mapped[int] = mapped_column(BigIntId)
    experiment_name: Mapped[str] = mapped_column(String(255))
    variant_name: Mapped[str] = mapped_column(String(255))
    metric_name: Mapped[str] = mapped_column(String(100))
    bucket_type: Mapped[str] = mapped_column(String(20))
    mean: Mapped[Decimal | None] = mapped_column(STAT)
    count: Mapped[int] = mapped_column(BigInteger)
    bucket_start: Mapped[datetime]


class ActiveAbTestRow(ViewBase):
    """``v_active_experiments``: running A/B tests with their variant count and total allocation."""

    __tablename__ = "v_active_experiments"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    variant_count: Mapped[int] = mapped_column(BigInteger)
    total_allocation: Mapped[Decimal] = mapped_column(ALLOCATION)
