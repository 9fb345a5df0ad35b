"""``SimulationExperiment``: the simulation kind of experiment, with its
iterations, events and runs."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.experiments import models as experiments
from expgraph.domains.experiments.types import EXPERIMENT_RENAMES, Experiment
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
from expgraph.graphql.relay import node_type
from expgraph.graphql.scalars import BigInt
from expgraph.graphql.visibility import Public


@node_type(experiments.SimulationExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="Iterated simulations; money in integer cents.")
class SimulationExperiment(Experiment):
    simulation_type: str | None
    scenario_path: str | None
    master_seed: BigInt | None
    completed_at: datetime | None
    num_iterations: int | None
    converged: bool | None
    convergence_reason: str | None
    final_cost: BigInt | None = strawberry.field(description="Final cost in integer cents.")
    best_cost: BigInt | None = strawberry.field(description="Best cost in integer cents.")

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
