"""Declarative base: naming convention, id scheme and timestamp mixins.

Constraint names come from one convention so migrations are stable; a
constraint named explicitly (e.g. ``uq_experiment_tag``) keeps its name.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Enum, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from expgraph.db.types import BigIntId, JSONType, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
    }


class IdMixin:
    """The one id scheme: an auto-incrementing 64-bit integer primary key."""

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)

    # Fetch SQL-expression defaults (database-clock timestamps) with RETURNING on
    # INSERT and UPDATE, so a written row is complete without another query.
    # Subclasses that set their own mapper args repeat this flag.
    __mapper_args__: dict[str, Any] = {"eager_defaults": True}


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow(), nullable=False)


class TimestampMixin(CreatedAtMixin):
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow(), onupdate=utcnow(), nullable=False
    )


def str_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its lowercase value in a VARCHAR with a CHECK constraint.

    Plain strings (not native PostgreSQL enums) keep migrations identical on both
    dialects and adding a value a one-line change.
    """
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )
