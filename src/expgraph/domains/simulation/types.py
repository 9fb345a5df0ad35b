"""GraphQL face of simulations: iterations, events and runs. Money is BigInt cents."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.domains.simulation import models
from expgraph.graphql.bounds import capped
from expgraph.graphql.enums import described_enum
from expgraph.graphql.filters import Ordering, Rule, SortDirection
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public

RunPurpose = models.RunPurpose
described_enum(
    RunPurpose,
    "Why a simulation ran.",
    {
        RunPurpose.STANDALONE: "On its own, outside an optimisation.",
        RunPurpose.INITIAL: "The starting point of an optimisation.",
        RunPurpose.BOOTSTRAP: "One of the runs that estimate the spread of results.",
        RunPurpose.EVALUATION: "To evaluate a candidate during an iteration.",
        RunPurpose.BEST: "A re-run of the best candidate found so far.",
        RunPurpose.FINAL: "The confirming run of the final result.",
    },
)

SimulationRunStatus = models.SimulationRunStatus
described_enum(
    SimulationRunStatus,
    "Where a simulation run stands.",
    {
        SimulationRunStatus.PENDING: "Recorded, not started.",
        SimulationRunStatus.RUNNING: "Under way (the status a run is created with unless told).",
        SimulationRunStatus.COMPLETED: "Finished: completeSimulationRun recorded its results.",
        SimulationRunStatus.FAILED: "Ended by an error, as its creator recorded.",
    },
)


@strawberry.type(description="One agent's cost in an iteration, in integer cents.")
class AgentCost:
    agent_id: str = strawberry.field(description="The agent's id, as the simulation names it.")
    cost_cents: BigInt = strawberry.field(
        description="The agent's cost in this iteration, in integer cents (a decimal string)."
    )


@node_type(models.SimulationRun, read=Public)
@strawberry.type(description="One simulation run.")
class SimulationRun(Node):
    id: strawberry.ID = strawberry.field(
        description="Global id; pass it to node(id:) or to mutations."
    )
    iteration: int | None = strawberry.field(
        description="The experiment iteration the run belongs to; null for a standalone run."
    )
    sample_index: int | None = strawberry.field(
        description=(
            "Bootstrap sample number within its iteration; null when the run is not a sample."
        )
    )
    run_purpose: RunPurpose = strawberry.field(
        description=(
            "Why the run was made (standalone, initial, bootstrap, evaluation, best or final)."
        )
    )
    seed: BigInt | None = strawberry.field(
        description="The run's random seed, stored so the run can be reproduced."
    )
    total_cost: BigInt | None = strawberry.field(description="Total cost in integer cents.")
    scenario_id: str | None = strawberry.field(
        description="The scenario simulated; null when none was given."
    )
    config: JSON = strawberry.field(
        description=(
            "The run's configuration, as given when it was created (an empty object if none)."
        )
    )
    status: SimulationRunStatus = strawberry.field(
        description=(
            "Where the run stands: RUNNING unless its creator chose another; COMPLETED once "
            "completeSimulationRun has run."
        )
    )
    started_at: datetime = strawberry.field(description="When the run was created.")
    completed_at: datetime | None = strawberry.field(
        description="When the run was completed; null until completeSimulationRun."
    )
    total_synths: int = strawberry.field(
        description="Number of synths simulated; 0 until the run is completed with a count."
    )
    aggregated_outcomes: JSON | None = strawberry.field(
        description="Summary of the run's outcomes, as reported at completion; null until then."
    )
    execution_time_seconds: float | None = strawberry.field(
        description="Wall-clock duration in seconds, as reported at completion; null until then."
    )
    created_at: datetime = strawberry.field(description="When the run was recorded.")
    record: strawberry.Private[models.SimulationRun]

    experiment: Experiment | None = node_field(
        RowsById(ExperimentRecord),
        "experiment_id",
        Experiment,
        description=(
            "The simulation experiment it belongs to; null for a standalone run or one you may "
            "not see."
        ),
    )


@node_type(models.ExperimentIteration, read=Public)
@strawberry.type(description="One iteration of a simulation experiment.")
class ExperimentIteration(Node):
    id: strawberry.ID = strawberry.field(
        description="Global id; pass it to node(id:) or to mutations."
    )
    iteration: int = strawberry.field(
        description="The iteration number, from 0; unique within its experiment."
    )
    accepted_changes: JSON = strawberry.field(
        description="The policy changes accepted in this iteration (a JSON list)."
    )
    policies: JSON = strawberry.field(
        description="The agents' policies in force after this iteration (a JSON object)."
    )
    timestamp: datetime = strawberry.field(description="When the iteration was recorded.")
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
    id: strawberry.ID = strawberry.field(
        description="Global id; pass it to node(id:) or to mutations."
    )
    iteration: int = strawberry.field(description="The iteration during which the event happened.")
    event_type: str = strawberry.field(
        description="The event's kind, a free-form label chosen by the writer."
    )
    event_data: JSON = strawberry.field(
        description="The event's details (a JSON object, shape depends on eventType)."
    )
    timestamp: datetime = strawberry.field(
        description="When the event happened (the recording time unless the writer gave one)."
    )
    record: strawberry.Private[models.ExperimentEvent]


@strawberry.input(
    description="Conditions on a simulation experiment's events; all given conditions must hold."
)
class ExperimentEventFilter:
    event_types: list[str] | None = capped(
        100, default=None, description="Only events of one of these types (at most 100)."
    )
    iteration: int | None = strawberry.field(
        default=None, description="Only events of this iteration."
    )
    and_: list[ExperimentEventFilter] | None = strawberry.field(
        name="and", default=None, description="Every one of these filters must match."
    )
    or_: list[ExperimentEventFilter] | None = strawberry.field(
        name="or", default=None, description="At least one of these filters must match."
    )
    not_: ExperimentEventFilter | None = strawberry.field(
        name="not", default=None, description="This filter must not match."
    )


@strawberry.input(description="Conditions on simulation runs; all given conditions must hold.")
class SimulationRunFilter:
    iteration: int | None = strawberry.field(
        default=None, description="Only runs of this iteration."
    )
    run_purposes: list[RunPurpose] | None = strawberry.field(
        default=None, description="Only runs made for one of these purposes."
    )
    sample_index: int | None = strawberry.field(
        default=None, description="Only runs with this bootstrap sample number."
    )
    and_: list[SimulationRunFilter] | None = strawberry.field(
        name="and", default=None, description="Every one of these filters must match."
    )
    or_: list[SimulationRunFilter] | None = strawberry.field(
        name="or", default=None, description="At least one of these filters must match."
    )
    not_: SimulationRunFilter | None = strawberry.field(
        name="not", default=None, description="This filter must not match."
    )


@strawberry.enum(description="What simulation runs can be sorted by.")
class SimulationRunOrderField(enum.Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="When the run was recorded.")
    STARTED_AT = strawberry.enum_value("started_at", description="When the run started.")


@strawberry.input(description="How to sort simulation runs.")
class SimulationRunOrder:
    field: SimulationRunOrderField = strawberry.field(description="The value to sort by.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending (the default) or descending."
    )


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
RUN_ORDERING = Ordering(
    {f: str(f.value) for f in SimulationRunOrderField}, (SortKey("created_at"),)
)
