"""Simulation mutations."""

from __future__ import annotations

import strawberry

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.simulation import models, service
from expgraph.domains.simulation.inputs import (
    CompleteSimulationRunInput,
    CreateSimulationRunInput,
    RecordExperimentEventsInput,
    RecordIterationInput,
)
from expgraph.domains.simulation.types import (
    ExperimentEvent,
    ExperimentIteration,
    SimulationRun,
)
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import model_pk, to_node


@strawberry.type(description="The result of recordIteration.")
class ExperimentIterationPayload:
    experiment_iteration: ExperimentIteration = strawberry.field(
        description="The iteration just recorded."
    )


@strawberry.type(description="The result of recordExperimentEvents.")
class RecordExperimentEventsPayload:
    events: list[ExperimentEvent] = strawberry.field(
        description="The events just recorded, in the order given."
    )


@strawberry.type(description="The result of createSimulationRun or completeSimulationRun.")
class SimulationRunPayload:
    simulation_run: SimulationRun = strawberry.field(
        description="The simulation run as it now stands."
    )


@strawberry.type
class Mutation:
    @mutation(permission=Permission.WRITE, description="Record one iteration (once).")
    async def record_iteration(
        self, info: Info, input: RecordIterationInput
    ) -> ExperimentIterationPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        values = values_given(input)
        values.pop("experiment_id")
        run = values.pop("evaluation_simulation_run_id", None)
        values["evaluation_simulation_id"] = model_pk(run, models.SimulationRun) if run else None
        async with info.context.db.transaction() as session:
            row = await service.record_iteration(session, experiment_id, values)
        return ExperimentIterationPayload(experiment_iteration=to_node(row))

    @mutation(permission=Permission.WRITE, description="Record a batch of events, all or none.")
    async def record_experiment_events(
        self, info: Info, input: RecordExperimentEventsInput
    ) -> RecordExperimentEventsPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        events = [values_given(e) for e in input.events]
        async with info.context.db.transaction() as session:
            rows = await service.record_events(session, experiment_id, events)
        return RecordExperimentEventsPayload(events=[to_node(r) for r in rows])

    @mutation(permission=Permission.WRITE, description="Start a simulation run.")
    async def create_simulation_run(
        self, info: Info, input: CreateSimulationRunInput
    ) -> SimulationRunPayload:
        values = values_given(input)
        experiment = values.pop("experiment_id", None)
        experiment_id = model_pk(experiment, ExperimentRecord) if experiment else None
        if values.get("seed") is not None:
            values["seed"] = int(values["seed"])
        values["status"] = values["status"].value  # stored as its lower-case value
        async with info.context.db.transaction() as session:
            run = await service.create_run(session, experiment_id, values)
        return SimulationRunPayload(simulation_run=to_node(run))

    @mutation(permission=Permission.WRITE, description="Complete a run, once.")
    async def complete_simulation_run(
        self, info: Info, input: CompleteSimulationRunInput
    ) -> SimulationRunPayload:
        run_id = model_pk(input.id, models.SimulationRun)
        values = {k: v for k, v in values_given(input).items() if k != "id" and v is not None}
        if "total_cost" in values:
            values["total_cost"] = service.cents(int(values["total_cost"]), "totalCost")
        async with info.context.db.transaction() as session:
            run = await service.complete_run(session, run_id, values)
        return SimulationRunPayload(simulation_run=to_node(run))
