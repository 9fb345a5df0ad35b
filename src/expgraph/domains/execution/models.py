"""Execution tables (see "Execution claims" in docs/architecture.md).

``experiment_execution_configs`` is 1:1 with an evaluation experiment. Its state
is derived, never stored: from ``claimed_at`` (null, fresh, stale), ``enabled``,
``last_error`` and the runs recorded. ``fencing_token`` grows with every claim.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.base import Base, CreatedAtMixin, IdMixin, TimestampMixin
from expgraph.db.pydantic_json import PydanticJSON
from expgraph.db.types import BigIntId
from expgraph.domains.execution.configs import EvaluatorConfig, TaskConfig


class Prompt(IdMixin, TimestampMixin, Base):
    __tablename__ = "prompts"

    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class PromptVersion(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "prompt_versions"
    __table_args__ = (UniqueConstraint("prompt_id", "version"),)

    prompt_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("prompts.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    template: Mapped[str] = mapped_column(Text)
    model_provider: Mapped[str] = mapped_column(String(100))
    model_name: Mapped[str] = mapped_column(String(200))
    invocation_parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CustomProvider(IdMixin, TimestampMixin, Base):
    """A model provider with its own endpoint; ``credentials_encrypted`` is
    Fernet-encrypted with the server's key and has no field in the API."""

    __tablename__ = "custom_providers"

    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    provider_kind: Mapped[str] = mapped_column(String(50))
    base_url: Mapped[str | None] = mapped_column(String(1000))
    credentials_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)


class ExecutionConfig(TimestampMixin, Base):
    __tablename__ = "experiment_execution_configs"
    __table_args__ = (Index(None, "enabled", "claimed_at"),)
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    task_config: Mapped[TaskConfig] = mapped_column(PydanticJSON(TaskConfig))
    evaluator_configs: Mapped[list[EvaluatorConfig]] = mapped_column(
        PydanticJSON(list[EvaluatorConfig]), default=list
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    fencing_token: Mapped[int] = mapped_column(BigInteger, default=0)
    toggled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


SUCCESSFUL = text("error IS NULL")
FAILED = text("error IS NOT NULL")


class ExperimentRun(IdMixin, TimestampMixin, Base):
    """One example x repetition of an evaluation experiment. ``cost_micros`` is
    integer money, in millionths of a dollar: LLM calls cost fractions of a cent."""

    __tablename__ = "experiment_runs"
    __table_args__ = (
        UniqueConstraint("experiment_id", "dataset_example_id", "repetition_number"),
        Index(None, "experiment_id", "id"),
        # Progress and claim-next count an experiment's successful runs: this
        # makes that count an index-only scan instead of a visit to every run.
        Index(
            "ix_experiment_runs_successful",
            "experiment_id",
            sqlite_where=SUCCESSFUL,
            postgresql_where=SUCCESSFUL,
        ),
        # ... and progress counts its failed runs (few): found, not filtered out.
        Index(
            "ix_experiment_runs_failed",
            "experiment_id",
            sqlite_where=FAILED,
            postgresql_where=FAILED,
        ),
    )

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE")
    )
    dataset_example_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("dataset_examples.id", ondelete="CASCADE"), index=True
    )
    repetition_number: Mapped[int]
    output: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    latency_ms: Mapped[float | None] = mapped_column(Float)
    prompt_tokens: Mapped[int | None]
    completion_tokens: Mapped[int | None]
    cost_micros: Mapped[int | None] = mapped_column(BigInteger)
    worker_id: Mapped[str | None] = mapped_column(String(255))


class ExperimentRunAnnotation(IdMixin, TimestampMixin, Base):
    """One evaluator's result on one run."""

    __tablename__ = "experiment_run_annotations"
    __table_args__ = (UniqueConstraint("experiment_run_id", "name"),)

    experiment_run_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiment_runs.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100), index=True)
    label: Mapped[str | None] = mapped_column(String(255))
    score: Mapped[float | None] = mapped_column(Float)
    explanation: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
