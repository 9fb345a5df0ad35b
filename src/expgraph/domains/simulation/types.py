"""GraphQL face of simulations: iterations, events and runs. Money is BigInt cents."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.domains.simulation import models
from expgraph.graphql.bounds import capped
from expgraph.graphql.filters import Ordering, Rule, SortDirection
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public

RunPurpose = models.RunPurpose
strawberry.enum(RunPurpose, description="Why a simulation ran.")


@strawberry.type(description="One agent's cost in an iteration, in integer cents.")
class AgentCost:
    agent_id: str
    cost_cents: BigInt


@node_type(models.SimulationRun, read=Public)
@strawberry.type(description="One simulation run.")
class SimulationRun(Node):
    id: strawberry.ID
    iteration: int | None
    sample_index: int | None
    run_purpose: RunPurpose
    seed: BigInt | None = strawberry.field(
        description="The run's random seed, stored so the run can be reproduced."
    )
    total_cost: BigInt | None = strawberry.field(description="Total cost in integer cents.")
    scenario_id: str | None
    config: JSON
    status: str
    started_at: datetime
    completed_at: datetime | None
    total_synths: int
    aggregated_outcomes: JSON | None
    execution_time_seconds: float | None
    created_at: datetime
    record: strawberry.Private[models.SimulationRun]

    experiment: Experiment | None = node_field(
        RowsById(ExperimentRecord), "experiment_id", Experiment
    )


@node_type(models.ExperimentIteration, read=Public)
@strawberry.type(description="One iteration of a simulation experiment.")
class ExperimentIteration(Node):
    id: strawberry.ID
    iteration: int
    accepted_changes: JSON
    policies: JSON
    timestamp: datetime
    record: strawberry.Private[models.ExperimentIteration]

    @strawberry.field(description="Cost per agent, integer cents, by agent id.")
    def costs_per_agent(self) -> list[AgentCost]:
        return [
            AgentCost(agent_id=agent, cost_cents=BigInt(cost))
            for agent, cost in sorted(self.record.costs_per_agent.items())
        ]

    evaluation_simulation_run: SimulationRun | None = node_field(
        RowsById(models.SimulationRun),
        "evaluation_simulation_id",
        SimulationRun,
        description="The simulation run that evaluated this iteration.",
    )


@node_type(models.ExperimentEvent, read=Public)
@strawberry.type(description="A high-level event of a simulation experiment.")
class ExperimentEvent(Node):
    id: strawberry.ID
    iteration: int
    event_type: str
    event_data: JSON
    timestamp: datetime
    record: strawberry.Private[models.ExperimentEvent]


@strawberry.input
class ExperimentEventFilter:
    event_types: list[str] | None = capped(100, default=None)
    iteration: int | None = None
    and_: list[ExperimentEventFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ExperimentEventFilter] | None = strawberry.field(name="or", default=None)
    not_: ExperimentEventFilter | None = strawberry.field(name="not", default=None)


@strawberry.input
class SimulationRunFilter:
    iteration: int | None = None
    run_purposes: list[RunPurpose] | None = None
    sample_index: int | None = None
    and_: list[SimulationRunFilter] | None = strawberry.field(name="and", default=None)
    or_: list[SimulationRunFilter] | None = strawberry.field(name="or", default=None)
    not_: SimulationRunFilter | None = strawberry.field(name="not", default=None)


@strawberry.enum
class SimulationRunOrderField(enum.Enum):
    CREATED_AT = "created_at"
    STARTED_AT = "started_at"


@strawberry.input
class SimulationRunOrder:
    field: SimulationRunOrderField
    direction: SortDirection = SortDirection.ASC


Ev, Run = models.ExperimentEvent, models.SimulationRun
EVENT_RULES: dict[str, Rule] = {
    "event_types": lambda v: Ev.event_type.in_(v),
    "iteration": lambda v: Ev.iteration == v,
}
RUN_RULES: dict[str, Rule] = {
    "iteration": lambda v: Run.iteration == v,
    "run_purposes": lambda v: Run.run_purpose.in_(v),
    "sample_index": lambda v: Run.sample_index == v,
}
RUN_ORDERING = Ordering({f: f.value for f in SimulationRunOrderField}, (SortKey("created_at"),))
