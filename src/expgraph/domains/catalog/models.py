"""Catalog tables: datasets, their versions and examples, signals, and tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.base import Base, CreatedAtMixin, IdMixin, TimestampMixin
from expgraph.db.types import BigIntId


class Dataset(IdMixin, TimestampMixin, Base):
    """One table for every kind of dataset (evaluation examples and recorded
    signals); ``meta_data`` and ``metadata`` are one column."""

    __tablename__ = "datasets"

    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    num_signals: Mapped[int] = mapped_column(default=0)
    fault_types: Mapped[list[Any] | None]
    severity_levels: Mapped[list[Any] | None]
    file_path: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)


class DatasetVersion(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "dataset_versions"

    dataset_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class DatasetExample(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "dataset_examples"
    __table_args__ = (Index(None, "dataset_id", "id"),)

    dataset_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("datasets.id", ondelete="CASCADE"))
    dataset_version_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class Signal(IdMixin, TimestampMixin, Base):
    __tablename__ = "signals"

    dataset_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("datasets.id"), index=True)
    signal_id: Mapped[str] = mapped_column(String(255))
    fault_class: Mapped[str | None] = mapped_column(String(100))
    severity: Mapped[str | None] = mapped_column(String(50))
    file_path: Mapped[str | None] = mapped_column(String(500))
    rms: Mapped[float | None] = mapped_column(Float)
    kurtosis: Mapped[float | None] = mapped_column(Float)
    dominant_frequency: Mapped[float | None] = mapped_column(Float)


class Tag(IdMixin, TimestampMixin, Base):
    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(50), unique=True, index=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True, index=True)
    color: Mapped[str | None] = mapped_column(String(7))
    created_by: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    usage_count: Mapped[int] = mapped_column(default=0)


class ExperimentTag(IdMixin, TimestampMixin, Base):
    __tablename__ = "experiment_tags"
    __table_args__ = (UniqueConstraint("experiment_id", "tag_id", name="uq_experiment_tag"),)

    experiment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("experiments.id", ondelete="CASCADE")
    )
    tag_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("tags.id", ondelete="CASCADE"), index=True
    )
    added_by: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
