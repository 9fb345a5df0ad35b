"""Simulation fields carried by ``SimulationExperiment``: defined here, attached there."""

from __future__ import annotations

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
from expgraph.graphql.connections import connection_field
from expgraph.graphql.loaders import Relation
from expgraph.graphql.pagination import SortKey

iterations = connection_field(
    Relation(models.ExperimentIteration, "experiment_id"),
    ExperimentIteration,
    (SortKey("iteration"),),
    description="Its iterations, in order.",
)

events = connection_field(
    Relation(models.ExperimentEvent, "experiment_id"),
    ExperimentEvent,
    (SortKey("iteration"), SortKey("timestamp")),
    filter=ExperimentEventFilter,
    rules=EVENT_RULES,
    description="Its events.",
)

simulation_runs = connection_field(
    Relation(models.SimulationRun, "experiment_id"),
    SimulationRun,
    RUN_ORDERING,
    filter=SimulationRunFilter,
    rules=RUN_RULES,
    order=SimulationRunOrder,
    description="Its simulation runs.",
)
