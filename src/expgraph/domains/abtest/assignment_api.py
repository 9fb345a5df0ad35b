"""GraphQL side of assignment and event ingestion: the ``Assignment`` node type,
``assignUnit``, ``assignUnits`` and ``recordEvents``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.abtest import assignment, events, models, updates
from expgraph.domains.abtest.types import Variant
from expgraph.domains.experiments.models import AbTestExperiment as AbTestRecord
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment, UnitType
from expgraph.graphql.auth import Permission
from expgraph.graphql.bounds import capped
from expgraph.graphql.context import Context, Info
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.permissions import mutation
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, model_pk, node_type, to_node
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public


@node_type(models.Assignment, read=Public)
@strawberry.type(
    description=(
        "A unit's variant in an A/B test: stored on its first assignment and never "
        "changed afterwards, even when allocations change."
    )
)
class Assignment(Node):
    id: strawberry.ID
    unit_type: UnitType = strawberry.field(description="What the unit is (user, household, ...).")
    unit_id: str = strawberry.field(description="The unit's identifier, as the client sent it.")
    assigned_at: datetime = strawberry.field(
        description=(
            "When it was assigned (UTC): the server's time for assignUnit(s), the earliest "
            "event's timestamp when a first event assigned it."
        )
    )
    record: strawberry.Private[models.Assignment]

    variant: Variant = node_field(
        RowsById(models.Variant),
        "variant_id",
        Variant,
        nullable=False,
        description="The variant the unit sees.",
    )
    experiment: Experiment = node_field(
        RowsById(ExperimentRecord),
        "experiment_id",
        Experiment,
        nullable=False,
        description="The A/B test it belongs to.",
    )


@strawberry.input(description="A unit to assign in one A/B test.")
class AssignUnitInput:
    experiment_id: strawberry.ID = strawberry.field(description="The A/B test's id.")
    unit_type: UnitType = strawberry.field(
        description="The unit's type; must be the experiment's unit type (BAD_REQUEST otherwise)."
    )
    unit_id: str = strawberry.field(
        description="The unit's identifier (a user id, ...); 1 to 255 characters."
    )


@strawberry.input(description="A unit to assign in several A/B tests at once.")
class AssignUnitsInput:
    unit_type: UnitType = strawberry.field(description="The unit's type.")
    unit_id: str = strawberry.field(
        description="The unit's identifier (a user id, ...); 1 to 255 characters."
    )
    experiment_ids: list[strawberry.ID] | None = capped(
        assignment.MAX_EXPERIMENTS,
        default=None,
        description=(
            "The A/B tests; each must be running inside its window (CONFLICT otherwise). "
            "When null: every running A/B test of this unit type inside its window (at most "
            f"{assignment.MAX_EXPERIMENTS})."
        ),
    )


@strawberry.input(description="An experiment an event belongs to, and the unit's variant in it.")
class EventExperimentInput:
    experiment_id: strawberry.ID = strawberry.field(description="The A/B test's id.")
    variant_id: strawberry.ID = strawberry.field(
        description=(
            "The variant the unit saw: must be its stored assignment or, for a unit not yet "
            "assigned, the one GrowthBook's bucketing gives it (BAD_REQUEST otherwise)."
        )
    )


@strawberry.input(description="An in-product action of a unit.")
class EventInput:
    event_id: str | None = strawberry.field(
        default=None,
        description=(
            "Your unique id of the event (1 to 255 characters): an event sent again with the "
            "same id is counted as a duplicate and not stored twice. When null, the server "
            "makes one (retries are then not recognised)."
        ),
    )
    event_type: str = strawberry.field(
        description="What happened, such as plan_generated; 1 to 100 characters."
    )
    unit_type: UnitType = strawberry.field(description="The unit's type: the experiments' one.")
    unit_id: str = strawberry.field(description="The unit's identifier; 1 to 255 characters.")
    experiments: list[EventExperimentInput] = capped(
        events.MAX_EXPERIMENTS_PER_EVENT,
        description="The A/B tests it counts for, each once; at least one.",
    )
    timestamp: datetime = strawberry.field(
        description="When it happened, with a UTC offset; it chooses the aggregates' bucket."
    )
    metrics: JSON | None = strawberry.field(
        default=None,
        description=(
            'Numbers measured, a JSON object of metric name to number ({"latency_ms": 120}); '
            "{} when null."
        ),
    )
    context: JSON | None = strawberry.field(
        default=None, description="Context (app version, ...), a JSON object; {} when null."
    )
    payload: JSON | None = strawberry.field(
        default=None, description="Event-specific data, a JSON object; may be null."
    )


@strawberry.input(description="A batch of events, recorded all or none.")
class RecordEventsInput:
    events: list[EventInput] = capped(events.MAX_EVENTS, description="The events, at least one.")


@strawberry.type(description="The result of assignUnit.")
class AssignUnitPayload:
    assignment: Assignment | None = strawberry.field(
        description=(
            "The unit's assignment; null when its hash falls outside every variant's range "
            "(the unit is not in the experiment, and nothing is stored)."
        )
    )


@strawberry.type(description="The result of assignUnits.")
class AssignUnitsPayload:
    assignments: list[Assignment] = strawberry.field(
        description=(
            "The unit's assignments, in the order of experimentIds (by experiment id when "
            "omitted); experiments whose ranges the unit falls outside are left out."
        )
    )


@strawberry.type(description="The result of recordEvents.")
class RecordEventsPayload:
    accepted: int = strawberry.field(description="Events stored by this call.")
    duplicates: int = strawberry.field(
        description="Events not stored because their eventId was already stored or repeated."
    )


def _prime(ctx: Context, read: dict[type, dict[int, object]]) -> None:
    """Give the answer's ``variant`` and ``experiment`` loaders the rows the
    assignment read in its transaction (no second read of the same rows)."""
    for model, rows in read.items():
        loader = ctx.loader(RowsById(model))
        for pk, row in rows.items():
            loader.prime(pk, row)


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Assign a unit to a variant of a running A/B test, as GrowthBook's SDK buckets it "
            "(hash of the experiment's hashSeed and the unit id; variants' allocations in "
            "position order). Sticky: a unit assigned before gets its stored variant. "
            "CONFLICT with extensions.reason NOT_RUNNING, NOT_STARTED or ENDED when the "
            "experiment does not assign now; BAD_REQUEST when unitType is not its unit type."
        ),
    )
    async def assign_unit(self, info: Info, input: AssignUnitInput) -> AssignUnitPayload:
        experiment_id = model_pk(input.experiment_id, AbTestRecord)
        ctx = info.context
        async with ctx.db.transaction() as session:
            found, stored, read = await assignment.assign_unit(
                session, ctx.db.dialect, experiment_id, input.unit_type, input.unit_id
            )
            if stored:  # (a sticky answer changes no count: nothing to announce)
                await updates.announce(ctx, [experiment_id], session)
        _prime(ctx, read)
        return AssignUnitPayload(assignment=to_node(found))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Assign a unit in several A/B tests at once, with the rules of assignUnit: what an "
            "app calls once per request."
        ),
    )
    async def assign_units(self, info: Info, input: AssignUnitsInput) -> AssignUnitsPayload:
        ids = (
            None
            if input.experiment_ids is None
            else [model_pk(gid, AbTestRecord) for gid in input.experiment_ids]
        )
        ctx = info.context
        async with ctx.db.transaction() as session:
            found, stored, read = await assignment.assign_units(
                session, ctx.db.dialect, input.unit_type, input.unit_id, ids
            )
            if stored:  # heard at commit (pg_notify is transactional), never on rollback
                await updates.announce(ctx, stored, session)
        _prime(ctx, read)
        return AssignUnitsPayload(assignments=[to_node(a) for a in found])

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            f"Record up to {events.MAX_EVENTS} events, all or none. Each names A/B tests and "
            "the unit's variant in each: its stored assignment or, for a unit not yet "
            "assigned, the variant GrowthBook's bucketing gives it (the event then assigns "
            "it). BAD_REQUEST naming the faulty field (events[i].experiments[j].variantId, "
            "...) and nothing stored when any event is invalid."
        ),
    )
    async def record_events(self, info: Info, input: RecordEventsInput) -> RecordEventsPayload:
        batch = [
            events.EventIn(
                event_id=e.event_id,
                event_type=e.event_type,
                unit_type=e.unit_type,
                unit_id=e.unit_id,
                timestamp=e.timestamp,
                experiments=[(str(x.experiment_id), str(x.variant_id)) for x in e.experiments],
                metrics=e.metrics,
                context=e.context,
                payload=e.payload,
            )
            for e in input.events
        ]
        ctx = info.context
        async with ctx.db.transaction() as session:
            done = await events.record_events(session, ctx.db.dialect, batch)
            if done.accepted:  # (an event may have assigned its unit)
                named = {gid for e in batch for gid, _ in e.experiments}
                await updates.announce(ctx, [model_pk(gid, AbTestRecord) for gid in named], session)
        return RecordEventsPayload(accepted=done.accepted, duplicates=done.duplicates)
