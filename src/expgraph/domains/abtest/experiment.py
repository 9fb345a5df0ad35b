"""``AbTestExperiment``: the A/B-test kind of experiment."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.abtest import models, service
from expgraph.domains.abtest.event_types import (
    EVENT_RULES,
    EVENTS_OF_EXPERIMENT,
    NEWEST_FIRST,
    Event,
    EventFilter,
)
from expgraph.domains.abtest.results_types import AbTestResults, resolve_results
from expgraph.domains.abtest.types import Variant, assignment_connection
from expgraph.domains.experiments import models as experiments
from expgraph.domains.experiments.types import EXPERIMENT_RENAMES, Experiment, UnitType
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import connection_field
from expgraph.graphql.loaders import ChildLists, Relation
from expgraph.graphql.permissions import requires
from expgraph.graphql.prefetch import list_field
from expgraph.graphql.relay import node_type
from expgraph.graphql.visibility import Public

VARIANTS = ChildLists(Relation(models.Variant, "experiment_id"), "position")
# The A/B test's status rules (hooks.check_kind) register when the service is imported.
_RULES = service.check_ab_test


@node_type(experiments.AbTestExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="An A/B test assigning units to variants.")
class AbTestExperiment(Experiment):
    unit_type: UnitType | None = strawberry.field(
        description="What is assigned to variants; null until set."
    )
    start_at: datetime | None = strawberry.field(
        description="When assignment starts (UTC); null until scheduled."
    )
    end_at: datetime | None = strawberry.field(
        description="When assignment ends (UTC); null while open-ended."
    )
    hash_seed: str | None = strawberry.field(
        description=(
            "The seed of its units' hash (GrowthBook's hash version 2 of seed and unit id): "
            "its name at creation, fixed once it has run."
        )
    )

    variants: list[Variant] = list_field(
        VARIANTS, Variant, description="Its variants, in position order (the bucket order)."
    )
    assignments = assignment_connection(
        Relation(models.Assignment, "experiment_id"),
        "Its units' assignments, oldest first (by assignedAt, then id).",
    )
    events = connection_field(
        EVENTS_OF_EXPERIMENT,
        Event,
        NEWEST_FIRST,
        filter=EventFilter,
        rules=EVENT_RULES,
        description="The events that count for it, newest first (by timestamp, then id).",
    )
    results: AbTestResults = strawberry.field(
        resolver=resolve_results,
        permission_classes=[requires(Permission.READ)],
        description=(
            "Its results for one metric: per variant the units assigned, the mean and variance "
            "of the per-unit values, and against the control the absolute and relative lift "
            "with confidence intervals, Welch's p-value and the chance to beat control; with a "
            "sample-ratio mismatch check. Computed on request from assignments and events."
        ),
    )
