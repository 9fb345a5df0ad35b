"""Experiment queries."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from expgraph.domains.experiments import models
from expgraph.domains.experiments.types import (
    EXPERIMENT_ORDERING,
    EXPERIMENT_RULES,
    Experiment,
    ExperimentFilter,
    ExperimentOrder,
)
from expgraph.graphql.connections import Connection, filtered_connection
from expgraph.graphql.context import Info
from expgraph.graphql.permissions import query_field


@strawberry.type
class Query:
    @query_field(description="Experiments of every kind, newest first unless ordered.")
    async def experiments(
        self,
        info: Info,
        filter: ExperimentFilter | None = None,
        order_by: list[ExperimentOrder] | None = None,
        include_deleted: bool = False,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Experiment]:
        E = models.Experiment
        stmt = select(E)
        if not include_deleted:
            stmt = stmt.where(E.deleted_at.is_(None))
        return await filtered_connection(
            info,
            stmt,
            E,
            filter,
            EXPERIMENT_RULES,
            EXPERIMENT_ORDERING.keys(order_by),
            first=first,
            after=after,
            last=last,
            before=before,
        )
