"""Research tables. Ids follow expgraph's one integer scheme. A synth's name and
description are stored in the columns ``nome`` and ``descricao`` (names kept
from the system these tables came from); the API calls them name and description."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, synonym

from expgraph.db.base import Base, CreatedAtMixin, IdMixin, TimestampMixin, str_enum
from expgraph.db.types import BigIntId, utcnow


class AnalysisStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class ResearchStatus(enum.Enum):
    PENDING = "pending"
    RUNNING = "running"
    GENERATING_SUMMARY = "generating_summary"
    COMPLETED = "completed"
    FAILED = "failed"


class ExplorationStatus(enum.Enum):
    RUNNING = "running"
    GOAL_ACHIEVED = "goal_achieved"
    DEPTH_LIMIT_REACHED = "depth_limit_reached"
    COST_LIMIT_REACHED = "cost_limit_reached"
    NO_VIABLE_PATHS = "no_viable_paths"


class NodeStatus(enum.Enum):
    ACTIVE = "active"
    DOMINATED = "dominated"
    WINNER = "winner"
    EXPANSION_FAILED = "expansion_failed"


class DocumentType(enum.Enum):
    SUMMARY = "summary"
    PRFAQ = "prfaq"
    EXECUTIVE_SUMMARY = "executive_summary"


class TranscriptStatus(enum.StrEnum):
    """Where one synth's interview stands; the value is what is stored."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class DocumentStatus(enum.Enum):
    PENDING = "pending"
    GENERATING = "generating"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIAL = "partial"


def _rate(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0 AND {column} <= 1", name=f"{column}_in_unit_range")


class SynthGroup(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "synth_groups"

    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow(), index=True)


class Synth(IdMixin, Base):
    __tablename__ = "synths"

    synth_group_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("synth_groups.id", ondelete="SET NULL"), index=True
    )
    nome: Mapped[str] = mapped_column(String(255), index=True)
    descricao: Mapped[str | None] = mapped_column(Text)
    link_photo: Mapped[str | None] = mapped_column(String(1000))
    avatar_path: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow(), index=True)
    version: Mapped[str] = mapped_column(String(20), default="2.0.0")
    data: Mapped[dict[str, Any] | None]


class AnalysisRun(IdMixin, Base):
    """At most one per experiment (enforced by a unique constraint)."""

    __tablename__ = "analysis_runs"

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE"), unique=True
    )
    scenario_id: Mapped[str] = mapped_column(String(100), default="baseline")
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[AnalysisStatus] = mapped_column(
        str_enum(AnalysisStatus, "analysis_status"), default=AnalysisStatus.PENDING, index=True
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow())
    completed_at: Mapped[datetime | None]
    total_synths: Mapped[int] = mapped_column(default=0)
    aggregated_outcomes: Mapped[dict[str, Any] | None]
    execution_time_seconds: Mapped[float | None] = mapped_column(Float)


class SynthOutcome(IdMixin, Base):
    __tablename__ = "synth_outcomes"
    __table_args__ = (
        UniqueConstraint("analysis_id", "synth_id"),
        _rate("did_not_try_rate"),
        _rate("failed_rate"),
        _rate("success_rate"),
    )

    analysis_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("analysis_runs.id", ondelete="CASCADE"), index=True
    )
    synth_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("synths.id", ondelete="CASCADE"), index=True
    )
    did_not_try_rate: Mapped[float] = mapped_column(Float)
    failed_rate: Mapped[float] = mapped_column(Float)
    success_rate: Mapped[float] = mapped_column(Float)
    synth_attributes: Mapped[dict[str, Any] | None]


class AnalysisCache(Base):
    __tablename__ = "analysis_cache"

    analysis_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("analysis_runs.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    cache_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    data: Mapped[dict[str, Any]]
    params: Mapped[dict[str, Any] | None]
    computed_at: Mapped[datetime] = mapped_column(default=utcnow())


class ResearchExecution(IdMixin, Base):
    __tablename__ = "research_executions"

    experiment_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    topic_name: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[ResearchStatus] = mapped_column(
        str_enum(ResearchStatus, "research_status"), default=ResearchStatus.PENDING, index=True
    )
    synth_count: Mapped[int] = mapped_column(default=0)
    successful_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    model: Mapped[str] = mapped_column(String(100), default="gpt-4o-mini")
    max_turns: Mapped[int] = mapped_column(default=6)
    started_at: Mapped[datetime] = mapped_column(default=utcnow(), index=True)
    completed_at: Mapped[datetime | None]
    additional_context: Mapped[str | None] = mapped_column(Text)


class Transcript(IdMixin, Base):
    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("exec_id", "synth_id"),)

    exec_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("research_executions.id", ondelete="CASCADE"), index=True
    )
    synth_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("synths.id", ondelete="CASCADE"), index=True
    )
    synth_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # a TranscriptStatus
    turn_count: Mapped[int] = mapped_column(default=0)
    timestamp: Mapped[datetime] = mapped_column(default=utcnow())
    messages: Mapped[list[Any]] = mapped_column(default=list)


class InterviewGuide(TimestampMixin, Base):
    """One per experiment: its primary key is the experiment's id."""

    __tablename__ = "interview_guides"
    __mapper_args__ = {"eager_defaults": True}

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE"), primary_key=True
    )
    context_definition: Mapped[str | None] = mapped_column(Text)
    questions: Mapped[str | None] = mapped_column(Text)
    # The one id scheme: a guide's id is its experiment's.
    id: Mapped[int] = synonym("experiment_id")
    context_examples: Mapped[str | None] = mapped_column(Text)


class Exploration(IdMixin, Base):
    __tablename__ = "explorations"

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    baseline_analysis_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("analysis_runs.id"), index=True
    )
    goal: Mapped[dict[str, Any]]
    config: Mapped[dict[str, Any]]
    status: Mapped[ExplorationStatus] = mapped_column(
        str_enum(ExplorationStatus, "exploration_status"),
        default=ExplorationStatus.RUNNING,
        index=True,
    )
    current_depth: Mapped[int] = mapped_column(default=0)
    total_nodes: Mapped[int] = mapped_column(default=0)
    # a sum over the tree's nodes: can pass 2^31
    total_llm_calls: Mapped[int] = mapped_column(BigInteger, default=0)
    best_success_rate: Mapped[float | None] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(default=utcnow())
    completed_at: Mapped[datetime | None]


WINNER = text("node_status = 'winner'")


class ScenarioNode(IdMixin, CreatedAtMixin, Base):
    """A node of an exploration's tree; at most one winner per exploration."""

    __tablename__ = "scenario_nodes"
    __table_args__ = (
        Index(None, "exploration_id", "node_status"),
        Index(None, "exploration_id", "depth"),
        Index(
            "uq_scenario_nodes_one_winner",
            "exploration_id",
            unique=True,
            sqlite_where=WINNER,
            postgresql_where=WINNER,
        ),
        CheckConstraint("depth >= 0", name="depth_not_negative"),
        CheckConstraint(
            "execution_time_seconds IS NULL OR execution_time_seconds >= 0",
            name="execution_time_not_negative",
        ),
    )

    exploration_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("explorations.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("scenario_nodes.id", ondelete="CASCADE"), index=True
    )
    depth: Mapped[int]
    action_applied: Mapped[str | None] = mapped_column(Text)
    action_category: Mapped[str | None] = mapped_column(String(100))
    rationale: Mapped[str | None] = mapped_column(Text)
    short_action: Mapped[str | None] = mapped_column(String(255))
    scorecard_params: Mapped[dict[str, Any]]
    simulation_results: Mapped[dict[str, Any] | None]
    execution_time_seconds: Mapped[float | None] = mapped_column(Float)
    llm_calls: Mapped[int] = mapped_column(default=0)
    node_status: Mapped[NodeStatus] = mapped_column(
        str_enum(NodeStatus, "node_status"), default=NodeStatus.ACTIVE
    )


class ExperimentDocument(IdMixin, Base):
    __tablename__ = "experiment_documents"
    __table_args__ = (UniqueConstraint("experiment_id", "document_type"),)

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    document_type: Mapped[DocumentType] = mapped_column(
        str_enum(DocumentType, "document_type"), index=True
    )
    markdown_content: Mapped[str] = mapped_column(Text, default="")
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    generated_at: Mapped[datetime] = mapped_column(default=utcnow())
    model: Mapped[str] = mapped_column(String(100), default="gpt-4o-mini")
    status: Mapped[DocumentStatus] = mapped_column(
        str_enum(DocumentStatus, "document_status"), default=DocumentStatus.COMPLETED, index=True
    )
    error_message: Mapped[str | None] = mapped_column(Text)


class ChartInsight(IdMixin, TimestampMixin, Base):
    """One per simulation (or analysis) and insight type; ``simulation_id`` names
    either, so it has no foreign key."""

    __tablename__ = "chart_insights"
    __table_args__ = (UniqueConstraint("simulation_id", "insight_type"),)

    simulation_id: Mapped[int] = mapped_column(BigIntId, index=True)
    insight_type: Mapped[str] = mapped_column(String(100), index=True)
    response_json: Mapped[dict[str, Any]]


class SensitivityResult(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "sensitivity_results"

    simulation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("simulation_runs.id", ondelete="CASCADE"), index=True
    )
    analyzed_at: Mapped[datetime] = mapped_column(default=utcnow(), index=True)
    deltas_used: Mapped[list[Any]]
    baseline_success: Mapped[float] = mapped_column(Float)
    most_sensitive_dimension: Mapped[str] = mapped_column(String(255))
    dimensions: Mapped[list[Any]]


class RegionAnalysis(IdMixin, Base):
    __tablename__ = "region_analyses"
    __table_args__ = (_rate("did_not_try_rate"), _rate("failed_rate"), _rate("success_rate"))

    simulation_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("simulation_runs.id", ondelete="CASCADE"), index=True
    )
    rules: Mapped[list[Any]]
    rule_text: Mapped[str] = mapped_column(Text)
    synth_count: Mapped[int]
    synth_percentage: Mapped[float] = mapped_column(Float)
    did_not_try_rate: Mapped[float] = mapped_column(Float)
    failed_rate: Mapped[float] = mapped_column(Float)
    success_rate: Mapped[float] = mapped_column(Float)
    failure_delta: Mapped[float] = mapped_column(Float)


class FeatureScorecard(IdMixin, TimestampMixin, Base):
    """Legacy: kept for old simulation runs that point at it; a research
    experiment's scorecard now lives in ``experiments.scorecard_data``."""

    __tablename__ = "feature_scorecards"

    experiment_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    data: Mapped[dict[str, Any]]
