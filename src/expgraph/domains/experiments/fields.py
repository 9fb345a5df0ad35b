"""The ``experiments`` connection field that other domains' types carry
(User, Dataset, Tag): one definition, configured by the relationship."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from expgraph.domains.catalog.models import ExperimentTag
from expgraph.domains.experiments import models
from expgraph.graphql.connections import Connection, child_connection
from expgraph.graphql.context import Info
from expgraph.graphql.filters import compile_filter, filter_key
from expgraph.graphql.loaders import Relation, Through

if TYPE_CHECKING:
    from expgraph.domains.experiments.types import (
        Experiment,
        ExperimentFilter,
        ExperimentOrder,
    )

_TYPES = "expgraph.domains.experiments.types"
ExperimentT = Annotated["Experiment", strawberry.lazy(_TYPES)]
FilterT = Annotated["ExperimentFilter", strawberry.lazy(_TYPES)]
OrderT = Annotated["ExperimentOrder", strawberry.lazy(_TYPES)]

TAGGED = Through(ExperimentTag, "tag_id", "experiment_id")


def experiments_field(
    *, parent_attr: str | None = None, through: Through | None = None, description: str
) -> Any:
    """A connection of the (not deleted) experiments related to the parent row."""

    async def resolve(
        root: Any,
        info: Info,
        filter: FilterT | None = None,
        order_by: list[OrderT] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ExperimentT]:
        from expgraph.domains.experiments.types import EXPERIMENT_ORDERING, EXPERIMENT_RULES

        condition = compile_filter(filter, EXPERIMENT_RULES)

        def where() -> Any:
            visible = models.Experiment.deleted_at.is_(None)
            return visible if condition is None else visible & condition

        relation = Relation(
            models.Experiment,
            parent_attr=parent_attr,
            through=through,
            where_key=filter_key(filter),
            where=where,
        )
        sort = EXPERIMENT_ORDERING.keys(order_by)
        return await child_connection(
            info, relation, root.record.id, sort, first=first, after=after, last=last, before=before
        )

    return strawberry.field(resolver=resolve, description=description)
