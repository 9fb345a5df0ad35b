"""Simulation writes. Every cost is an integer number of cents; fractions are refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.types import utcnow
from expgraph.db.values import check_rows
from expgraph.domains.experiments.models import SimulationExperiment
from expgraph.domains.simulation import models
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import graphql_name, json_object

INT64 = 2**63
MAX_EVENTS = 5000


def cents(value: Any, field: str) -> int:
    """A cost: a non-negative integer number of cents, or BAD_REQUEST (floats, even
    12.0, are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{field} must be an integer number of cents", field=field)
    if value < 0:
        raise BadRequest(f"{field} must be >= 0 (a cost in cents)", field=field)
    if not -INT64 <= value < INT64:
        raise BadRequest(f"{field} is out of the 64-bit range", field=field)
    return value


async def simulation(session: AsyncSession, experiment_id: int) -> SimulationExperiment:
    experiment = await session.get(SimulationExperiment, experiment_id)
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("no simulation experiment with that id", field="experimentId")
    return experiment


async def _run_of(session: AsyncSession, run_id: int | None, experiment_id: int) -> None:
    if run_id is None:
        return
    run = await session.get(models.SimulationRun, run_id)
    if run is None:
        raise NotFound("no simulation run with that id", field="evaluationSimulationRunId")
    if run.experiment_id != experiment_id:
        raise BadRequest("the simulation run belongs to another experiment")


async def record_iteration(
    session: AsyncSession, experiment_id: int, values: dict[str, Any]
) -> models.ExperimentIteration:
    await simulation(session, experiment_id)
    costs = json_object(values.get("costs_per_agent"), "costsPerAgent")
    values["costs_per_agent"] = {
        str(agent): cents(cost, f"costsPerAgent.{agent}") for agent, cost in costs.items()
    }
    if values["iteration"] < 0:
        raise BadRequest("iteration must be >= 0", field="iteration")
    if not isinstance(values.get("accepted_changes") or [], list):
        raise BadRequest("acceptedChanges must be a JSON list", field="acceptedChanges")
    values["accepted_changes"] = values.get("accepted_changes") or []
    values["policies"] = json_object(values.get("policies"), "policies")
    await _run_of(session, values.get("evaluation_simulation_id"), experiment_id)
    taken = await session.scalar(
        select(models.ExperimentIteration.id).where(
            models.ExperimentIteration.experiment_id == experiment_id,
            models.ExperimentIteration.iteration == values["iteration"],
        )
    )
    if taken is not None:
        raise Conflict(f"iteration {values['iteration']} is already recorded", field="iteration")
    row = models.ExperimentIteration(experiment_id=experiment_id, **values)
    session.add(row)
    await session.flush()
    return row


async def record_events(
    session: AsyncSession, experiment_id: int, events: Sequence[dict[str, Any]]
) -> list[models.ExperimentEvent]:
    if not events:
        raise BadRequest("events must not be empty", field="events")
    if len(events) > MAX_EVENTS:
        raise BadRequest(f"at most {MAX_EVENTS} events per call", field="events")
    await simulation(session, experiment_id)
    rows = []
    for i, event in enumerate(events):
        if not event.get("event_type", "").strip():
            raise BadRequest(f"events[{i}].eventType must not be empty", field="events")
        rows.append(
            {
                "experiment_id": experiment_id,
                "iteration": event["iteration"],
                "event_type": event["event_type"].strip()[:100],
                "event_data": json_object(event.get("event_data"), f"events[{i}].eventData"),
                **({"timestamp": event["timestamp"]} if event.get("timestamp") else {}),
            }
        )
    check_rows(models.ExperimentEvent, rows)  # Core inserts skip the ORM's value checks
    ids = (
        await session.scalars(
            insert(models.ExperimentEvent).returning(models.ExperimentEvent.id), rows
        )
    ).all()
    return list(
        (
            await session.scalars(
                select(models.ExperimentEvent)
                .where(models.ExperimentEvent.id.in_(ids))
                .order_by(models.ExperimentEvent.id)
            )
        ).all()
    )


async def create_run(
    session: AsyncSession, experiment_id: int | None, values: dict[str, Any]
) -> models.SimulationRun:
    if experiment_id is not None:
        await simulation(session, experiment_id)
    for field in ("iteration", "sample_index"):
        if values.get(field) is not None and values[field] < 0:
            raise BadRequest(f"{graphql_name(field)} must be >= 0", field=graphql_name(field))
    values["config"] = json_object(values.get("config"), "config")
    run = models.SimulationRun(experiment_id=experiment_id, **values)
    session.add(run)
    await session.flush()
    return run


async def complete_run(
    session: AsyncSession, run_id: int, values: dict[str, Any]
) -> models.SimulationRun:
    """pending/running -> completed, once: one guarded UPDATE."""
    if "aggregated_outcomes" in values and values["aggregated_outcomes"] is not None:
        values["aggregated_outcomes"] = json_object(
            values["aggregated_outcomes"], "aggregatedOutcomes"
        )
    R, DONE = models.SimulationRun, models.SimulationRunStatus.COMPLETED.value
    done = (
        await session.scalars(
            update(R)
            .where(R.id == run_id, R.status != DONE)
            .values(status=DONE, completed_at=utcnow(), **values)
            .returning(R)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if done is not None:
        return done
    if await session.get(R, run_id) is None:
        raise NotFound("no simulation run with that id")
    raise Conflict("the simulation run is already completed")
