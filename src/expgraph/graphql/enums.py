"""GraphQL enums from Python enums (a model's column values), each value described.

A model's enum (``ExperimentStatus``) is the one source of its values, for the
database and for GraphQL; ``described_enum`` registers it with strawberry and
gives the type and every value a description a client developer reads in
GraphiQL and in a generated client. A value without one is an error at import,
so a new value cannot ship undescribed.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=enum.Enum)


def described_enum(
    python_enum: type[E], description: str, values: Mapping[E, str], *, name: str | None = None
) -> type[E]:
    """Register ``python_enum`` as a GraphQL enum (named ``name``, else after the
    class) described by ``description``, each of its values by ``values[member]``."""
    missing = [member.name for member in python_enum if member not in values]
    if missing:
        raise TypeError(f"{python_enum.__name__}: no description for {', '.join(missing)}")
    strawberry.enum(python_enum, name=name, description=description)
    definition = python_enum.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = values[python_enum[value.name]]
    return python_enum
