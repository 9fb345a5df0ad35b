"""Mutation inputs for simulation."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.simulation.service import MAX_EVENTS
from expgraph.domains.simulation.types import RunPurpose
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON, BigInt


@strawberry.input
class RecordIterationInput:
    experiment_id: strawberry.ID
    iteration: int
    costs_per_agent: JSON = strawberry.field(description="Agent id -> integer cents.")
    accepted_changes: JSON | None = None
    policies: JSON | None = None
    evaluation_simulation_run_id: strawberry.ID | None = None


@strawberry.input
class ExperimentEventInput:
    iteration: int
    event_type: str
    event_data: JSON | None = None
    timestamp: datetime | None = None


@strawberry.input
class RecordExperimentEventsInput:
    experiment_id: strawberry.ID
    events: list[ExperimentEventInput] = capped(MAX_EVENTS)


@strawberry.input
class CreateSimulationRunInput:
    experiment_id: strawberry.ID | None = None
    iteration: int | None = None
    sample_index: int | None = None
    run_purpose: RunPurpose = RunPurpose.STANDALONE
    seed: BigInt | None = strawberry.field(
        default=None, description="The run's random seed, stored so the run can be reproduced."
    )
    scenario_id: str | None = None
    config: JSON | None = None
    status: str = "running"


@strawberry.input
class CompleteSimulationRunInput:
    id: strawberry.ID
    total_cost: BigInt | None = strawberry.field(default=None, description="Integer cents.")
    aggregated_outcomes: JSON | None = None
    execution_time_seconds: float | None = None
    total_synths: int | None = None
