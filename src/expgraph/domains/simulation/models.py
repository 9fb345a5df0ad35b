"""Simulation tables: iterations, events and simulation runs (one table for runs
of simulation experiments and for legacy analysis runs). Money is an integer
number of cents; seeds are stored so every run can be reproduced."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.base import Base, CreatedAtMixin, IdMixin, str_enum
from expgraph.db.types import BigIntId, utcnow


class RunPurpose(enum.Enum):
    STANDALONE = "standalone"
    INITIAL = "initial"
    BOOTSTRAP = "bootstrap"
    EVALUATION = "evaluation"
    BEST = "best"
    FINAL = "final"


class SimulationRunStatus(enum.StrEnum):
    """Where a simulation run stands; the value is what is stored."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class SimulationRun(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "simulation_runs"
    __table_args__ = (Index(None, "experiment_id", "iteration", "sample_index"),)

    # Linkage to an experiment's iteration and bootstrap sample.
    experiment_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE")
    )
    iteration: Mapped[int | None]
    sample_index: Mapped[int | None]
    run_purpose: Mapped[RunPurpose] = mapped_column(
        str_enum(RunPurpose, "run_purpose"), default=RunPurpose.STANDALONE, index=True
    )
    seed: Mapped[int | None] = mapped_column(BigInteger)
    total_cost: Mapped[int | None] = mapped_column(BigInteger)  # integer cents
    # Legacy analysis runs (a scorecard and a scenario).
    scorecard_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("feature_scorecards.id", ondelete="SET NULL"), index=True
    )
    scenario_id: Mapped[str | None] = mapped_column(String(100))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # a SimulationRunStatus
    started_at: Mapped[datetime] = mapped_column(default=utcnow())
    completed_at: Mapped[datetime | None]
    total_synths: Mapped[int] = mapped_column(default=0)
    aggregated_outcomes: Mapped[dict[str, Any] | None]
    execution_time_seconds: Mapped[float | None] = mapped_column(Float)


class ExperimentIteration(IdMixin, Base):
    """One iteration of a simulation experiment; costs per agent in integer cents."""

    __tablename__ = "experiment_iterations"
    __table_args__ = (UniqueConstraint("experiment_id", "iteration"),)

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE")
    )
    iteration: Mapped[int]
    costs_per_agent: Mapped[dict[str, Any]]
    accepted_changes: Mapped[list[Any]]
    policies: Mapped[dict[str, Any]]
    timestamp: Mapped[datetime] = mapped_column(default=utcnow())
    evaluation_simulation_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("simulation_runs.id", ondelete="SET NULL"), index=True
    )


class ExperimentEvent(IdMixin, Base):
    __tablename__ = "experiment_events"
    __table_args__ = (Index(None, "experiment_id", "iteration", "id"),)

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE")
    )
    iteration: Mapped[int]
    event_type: Mapped[str] = mapped_column(String(100), index=True)
    event_data: Mapped[dict[str, Any]]
    timestamp: Mapped[datetime] = mapped_column(default=utcnow())
