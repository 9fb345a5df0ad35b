"""Simulation fields carried by ``SimulationExperiment``: defined here, attached there."""

from __future__ import annotations

from typing import Any

from expgraph.domains.simulation import models
from expgraph.domains.simulation.types import (
    EVENT_RULES,
    RUN_ORDERING,
    RUN_RULES,
    ExperimentEvent,
    ExperimentEventFilter,
    ExperimentIteration,
    SimulationRun,
    SimulationRunFilter,
    SimulationRunOrder,
)
from expgraph.graphql.connections import Connection, child_connection, connection_field
from expgraph.graphql.context import Info
from expgraph.graphql.filters import Rule, compile_filter, filter_key
from expgraph.graphql.loaders import Relation
from expgraph.graphql.pagination import SortKey


def _relation(model: type[Any], filter: Any, rules: dict[str, Rule]) -> Relation:
    condition = compile_filter(filter, rules)
    return Relation(
        model,
        "experiment_id",
        where_key=filter_key(filter),
        where=(lambda: condition) if condition is not None else None,
    )


iterations = connection_field(
    Relation(models.ExperimentIteration, "experiment_id"),
    ExperimentIteration,
    (SortKey("iteration"),),
    description="Its iterations, in order.",
)


async def events(
    root: Any,
    info: Info,
    filter: ExperimentEventFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[ExperimentEvent]:
    return await child_connection(
        info,
        _relation(models.ExperimentEvent, filter, EVENT_RULES),
        root.record.id,
        (SortKey("iteration"), SortKey("timestamp")),
        first=first,
        after=after,
        last=last,
        before=before,
    )


async def simulation_runs(
    root: Any,
    info: Info,
    filter: SimulationRunFilter | None = None,
    order_by: list[SimulationRunOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[SimulationRun]:
    return await child_connection(
        info,
        _relation(models.SimulationRun, filter, RUN_RULES),
        root.record.id,
        RUN_ORDERING.keys(order_by),
        first=first,
        after=after,
        last=last,
        before=before,
    )
