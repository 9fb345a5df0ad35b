"""GraphQL read side of events: the ``Event`` node type, the experiments an
event counts for (``EventExperimentRef``, batch-loaded from the
``event_experiments`` side table) and the filter of an A/B test's events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from expgraph.domains.abtest import models
from expgraph.domains.abtest.types import Variant
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment, UnitType
from expgraph.graphql.filters import Rule
from expgraph.graphql.loaders import ChildLists, Relation, RowsById, Through
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import derived_field, node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public


@strawberry.type(description="An A/B test an event counts for, and the unit's variant in it.")
class EventExperimentRef:
    record: strawberry.Private[models.EventExperiment]

    experiment: Experiment | None = node_field(
        RowsById(ExperimentRecord),
        "experiment_id",
        Experiment,
        description="The A/B test; null when you may not read it.",
    )
    variant: Variant | None = node_field(
        RowsById(models.Variant),
        "variant_id",
        Variant,
        description="The unit's variant in it; null when you may not read it.",
    )


def _refs(rows: list[Any], _record: Any, _context: Any) -> list[EventExperimentRef]:
    return [EventExperimentRef(record=row) for row in rows]


EXPERIMENTS_OF_EVENT = ChildLists(Relation(models.EventExperiment, "event_id"), "experiment_id")


@node_type(models.Event, read=Public)
@strawberry.type(description="An in-product action of a unit, recorded with recordEvents.")
class Event(Node):
    id: strawberry.ID
    event_id: str = strawberry.field(
        description="Its unique id: the client's eventId, or one the server made."
    )
    event_type: str = strawberry.field(description="What happened, such as plan_generated.")
    unit_type: UnitType = strawberry.field(description="The unit's type.")
    unit_id: str = strawberry.field(description="The unit's identifier.")
    timestamp: datetime = strawberry.field(description="When it happened (UTC).")
    metrics: JSON = strawberry.field(
        description="Numbers measured, a JSON object of metric name to number; {} when none."
    )
    context: JSON = strawberry.field(description="Context (app version, ...); {} when none.")
    payload: JSON | None = strawberry.field(description="Event-specific data; null when none.")
    created_at: datetime = strawberry.field(description="When it was recorded (UTC).")
    record: strawberry.Private[models.Event]

    experiments: list[EventExperimentRef] = derived_field(
        EXPERIMENTS_OF_EVENT,
        "id",
        list[EventExperimentRef],
        _refs,
        description="The A/B tests it counts for, with the unit's variant in each, by experiment.",
    )


@strawberry.input(description="Conditions on an A/B test's events; all given must hold.")
class EventFilter:
    unit_id: str | None = strawberry.field(default=None, description="Only this unit's events.")
    event_type: str | None = strawberry.field(default=None, description="Only events of this type.")
    since: datetime | None = strawberry.field(
        default=None, description="Only events that happened at or after this time."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Only events that happened before this time."
    )


E = models.Event
EVENT_RULES: dict[str, Rule] = {
    "unit_id": lambda v: E.unit_id == v,
    "event_type": lambda v: E.event_type == v,
    "since": lambda v: E.timestamp >= v,
    "until": lambda v: E.timestamp < v,
}
# An experiment's events, through the side table (indexed by experiment).
EVENTS_OF_EXPERIMENT = Relation(
    models.Event, through=Through(models.EventExperiment, "experiment_id", "event_id")
)
# Newest first; ``id`` breaks ties in the same direction.
NEWEST_FIRST = (SortKey("timestamp", descending=True),)
