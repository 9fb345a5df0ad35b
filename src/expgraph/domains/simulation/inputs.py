"""Mutation inputs for simulation."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.simulation.service import MAX_EVENTS
from expgraph.domains.simulation.types import RunPurpose, SimulationRunStatus
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON, BigInt


@strawberry.input(
    description="One iteration of a simulation experiment; each iteration number is recorded once."
)
class RecordIterationInput:
    experiment_id: strawberry.ID = strawberry.field(description="The simulation experiment.")
    iteration: int = strawberry.field(
        description=(
            "The iteration number, 0 or more; recording the same number twice is a CONFLICT."
        )
    )
    costs_per_agent: JSON = strawberry.field(description="Agent id -> integer cents.")
    accepted_changes: JSON | None = strawberry.field(
        default=None,
        description="The policy changes accepted in this iteration, a JSON list; empty if omitted.",
    )
    policies: JSON | None = strawberry.field(
        default=None,
        description="The agents' policies after this iteration, a JSON object; empty if omitted.",
    )
    evaluation_simulation_run_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The simulation run that evaluated this iteration; it must belong to the same "
            "experiment."
        ),
    )


@strawberry.input(description="One event of a simulation experiment.")
class ExperimentEventInput:
    iteration: int = strawberry.field(description="The iteration during which it happened.")
    event_type: str = strawberry.field(description="The event's kind, a non-empty free-form label.")
    event_data: JSON | None = strawberry.field(
        default=None, description="The event's details, a JSON object; empty if omitted."
    )
    timestamp: datetime | None = strawberry.field(
        default=None, description="When it happened; the recording time if omitted."
    )


@strawberry.input(
    description="A batch of events for one simulation experiment, recorded all or none."
)
class RecordExperimentEventsInput:
    experiment_id: strawberry.ID = strawberry.field(description="The simulation experiment.")
    events: list[ExperimentEventInput] = capped(
        MAX_EVENTS, description="The events, from 1 to 5000."
    )


@strawberry.input(
    description="A new simulation run, standalone or part of a simulation experiment."
)
class CreateSimulationRunInput:
    experiment_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The simulation experiment it belongs to; omit for a standalone run.",
    )
    iteration: int | None = strawberry.field(
        default=None, description="The experiment iteration it belongs to, 0 or more."
    )
    sample_index: int | None = strawberry.field(
        default=None, description="Its bootstrap sample number within the iteration, 0 or more."
    )
    run_purpose: RunPurpose = strawberry.field(
        default=RunPurpose.STANDALONE, description="Why it runs; standalone if omitted."
    )
    seed: BigInt | None = strawberry.field(
        default=None, description="The run's random seed, stored so the run can be reproduced."
    )
    scenario_id: str | None = strawberry.field(default=None, description="The scenario simulated.")
    config: JSON | None = strawberry.field(
        default=None, description="The run's configuration (a JSON object)."
    )
    status: SimulationRunStatus = strawberry.field(
        default=SimulationRunStatus.RUNNING,
        description="Its initial status; RUNNING if omitted.",
    )


@strawberry.input(
    description=(
        "The results of a simulation run; a run can be completed once (again is a CONFLICT)."
    )
)
class CompleteSimulationRunInput:
    id: strawberry.ID = strawberry.field(description="The simulation run.")
    total_cost: BigInt | None = strawberry.field(default=None, description="Integer cents.")
    aggregated_outcomes: JSON | None = strawberry.field(
        default=None, description="Summary of the run's outcomes (a JSON object)."
    )
    execution_time_seconds: float | None = strawberry.field(
        default=None, description="Wall-clock duration in seconds."
    )
    total_synths: int | None = strawberry.field(
        default=None, description="Number of synths simulated."
    )
