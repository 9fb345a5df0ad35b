"""Experiment queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select

from expgraph.domains.experiments import models
from expgraph.domains.experiments.types import (
    EXPERIMENT_ORDERING,
    EXPERIMENT_RULES,
    Experiment,
    ExperimentFilter,
    ExperimentOrder,
)
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Info
from expgraph.graphql.permissions import query_field


@strawberry.type
class Query:
    @query_field(description="Experiments of every kind, newest first unless ordered.")
    @paged(
        Experiment,
        models.Experiment,
        EXPERIMENT_ORDERING,
        filter=ExperimentFilter,
        rules=EXPERIMENT_RULES,
        order=ExperimentOrder,
    )
    def experiments(
        self,
        info: Info,
        include_deleted: Annotated[
            bool, strawberry.argument(description="Also list soft-deleted experiments.")
        ] = False,
    ) -> Select[Any]:
        E = models.Experiment
        stmt = select(E)
        if not include_deleted:
            stmt = stmt.where(E.deleted_at.is_(None))
        return stmt
