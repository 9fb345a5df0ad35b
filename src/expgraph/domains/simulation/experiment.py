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
    simulation_type: str | None = strawberry.field(
        description="The kind of simulation run, a free-form label; null if not set."
    )
    scenario_path: str | None = strawberry.field(
        description="Path of the scenario file the simulation uses; null if not set."
    )
    master_seed: BigInt | None = strawberry.field(
        description=(
            "The seed all runs' seeds derive from, for reproducing the experiment (a decimal "
            "string); null if not set."
        )
    )
    completed_at: datetime | None = strawberry.field(
        description="When the experiment finished; null until it finishes."
    )
    num_iterations: int | None = strawberry.field(
        description="Number of iterations run; null until known."
    )
    converged: bool | None = strawberry.field(
        description="Whether the iterations converged; null until the experiment finishes."
    )
    convergence_reason: str | None = strawberry.field(
        description="Why the iterations stopped, in words; null until the experiment finishes."
    )
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
