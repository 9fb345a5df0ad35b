"""GraphQL face of experiments: the ``Experiment`` interface with the fields
every kind shares, its filter and ordering. Each kind's own type lives in the
domain of that kind (``EvaluationExperiment`` in execution, ...); fields other
domains add to every experiment (its creator, tags, execution config) are
declared there with ``graphql.extend.extends``."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry

from expgraph.db.search import search_match, search_rank
from expgraph.domains.experiments import models
from expgraph.errors import BadRequest
from expgraph.graphql.bounds import capped
from expgraph.graphql.enums import described_enum
from expgraph.graphql.filters import Ordering, Rule, SortDirection, escape_like
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.relay import Node, named_pk
from expgraph.graphql.scalars import JSON

ExperimentKind = models.ExperimentKind
described_enum(
    ExperimentKind,
    "Which system an experiment belongs to; each kind has its own type.",
    {
        ExperimentKind.EVALUATION: "An LLM evaluation over a dataset (EvaluationExperiment).",
        ExperimentKind.AB_TEST: "An A/B test assigning units to variants (AbTestExperiment).",
        ExperimentKind.SIMULATION: "Iterated simulations (SimulationExperiment).",
        ExperimentKind.TRAINING: "An ML training run (TrainingExperiment).",
        ExperimentKind.RESEARCH: "A hypothesis tested on synthetic users (ResearchExperiment).",
    },
)
ExperimentStatus = models.ExperimentStatus
described_enum(
    ExperimentStatus,
    "Lifecycle state, shared by every kind.",
    {
        ExperimentStatus.DRAFT: "Being set up; nothing runs.",
        ExperimentStatus.PENDING: "Ready, waiting to start.",
        ExperimentStatus.RUNNING: "Under way.",
        ExperimentStatus.PAUSED: "Stopped for now; it may resume.",
        ExperimentStatus.COMPLETED: "Finished.",
        ExperimentStatus.FAILED: "Ended by an error.",
        ExperimentStatus.CANCELLED: "Stopped for good before it finished.",
    },
)
UnitType = models.UnitType
described_enum(
    UnitType,
    "What an A/B test assigns to variants.",
    {
        UnitType.USER: "Each user gets one variant.",
        UnitType.HOUSEHOLD: "Everyone in a household gets the same variant.",
        UnitType.SESSION: "Each session gets a variant.",
    },
)

MAX_TAG_SLUGS = 200


@strawberry.interface(
    description="An experiment of any kind; ask for a kind's fields with fragments."
)
class Experiment(Node):
    id: strawberry.ID = strawberry.field(
        description="Globally unique, opaque id: give it to `node(id:)` or to experiment mutations."
    )
    kind: ExperimentKind = strawberry.field(description="Which kind it is; fixed at creation.")
    name: str = strawberry.field(
        description="Display name, at most 255 characters, unique among live experiments."
    )
    description: str | None = strawberry.field(description="Free text; null when none was given.")
    status: ExperimentStatus = strawberry.field(description="Lifecycle state, set by clients.")
    config: JSON = strawberry.field(description="Free-form JSON object; {} when none was given.")
    metadata: JSON = strawberry.field(
        description="Free-form JSON object for client use; {} by default."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    updated_at: datetime = strawberry.field(description="When it last changed (UTC).")
    deleted_at: datetime | None = strawberry.field(
        description="When it was soft-deleted; null while it is live."
    )
    record: strawberry.Private[models.Experiment]


EXPERIMENT_RENAMES = {"metadata": "metadata_"}
"""Experiment columns whose Python attribute differs from the field name."""


@strawberry.input(description="Conditions on experiments; all given conditions must hold.")
class ExperimentFilter:
    kinds: list[ExperimentKind] | None = strawberry.field(
        default=None, description="Is of one of these kinds."
    )
    statuses: list[ExperimentStatus] | None = strawberry.field(
        default=None, description="Has one of these statuses."
    )
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name."
    )
    tag_slugs: list[str] | None = capped(
        MAX_TAG_SLUGS, default=None, description="Has every one of these tags."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Created at or after this instant."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Created strictly before this instant."
    )
    created_by_id: strawberry.ID | None = strawberry.field(
        default=None, description="Created by this user (global id)."
    )
    dataset_id: strawberry.ID | None = strawberry.field(
        default=None, description="Uses this dataset (global id); evaluation and training only."
    )
    search: str | None = strawberry.field(
        default=None,
        description=(
            "Full-text search over the name, description, hypothesis, notes and tag names: "
            "experiments holding every word (case-insensitive, whole words). On PostgreSQL "
            'web-search syntax also applies: "quoted phrase", `or`, `-word` to exclude. '
            "Punctuation is never an operator; a text without any letter or digit matches "
            "nothing. At most 1000 characters. Order by RELEVANCE to see best matches first."
        ),
    )
    and_: list[ExperimentFilter] | None = strawberry.field(
        name="and", default=None, description="Every one of these filters holds."
    )
    or_: list[ExperimentFilter] | None = strawberry.field(
        name="or", default=None, description="At least one of these filters holds."
    )
    not_: ExperimentFilter | None = strawberry.field(
        name="not", default=None, description="This filter does not hold."
    )


RELEVANCE_KEY = "search_rank"
"""The sort key of RELEVANCE: a search rank, no column (``Ordering.computed``)."""


@strawberry.enum(description="What experiments can be sorted by; ties are broken by id.")
class ExperimentOrderField(enum.Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="Creation time.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="Time of the last change.")
    NAME = strawberry.enum_value("name", description="Name, in the database's collation.")
    RELEVANCE = strawberry.enum_value(
        RELEVANCE_KEY,
        description=(
            "How well an experiment matches the list's `filter.search` (a name match "
            "counts most, then description and hypothesis, then notes and tags); use "
            "DESC for the best matches first. Only with `filter.search` (BAD_REQUEST "
            "otherwise), and only on the top-level `experiments` list."
        ),
    )


@strawberry.input(description="A sort order for experiments.")
class ExperimentOrder:
    field: ExperimentOrderField = strawberry.field(description="What to sort by.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending unless told otherwise."
    )


E = models.Experiment


EXPERIMENT_RULES: dict[str, Rule] = {
    "kinds": lambda v: E.kind.in_(v),
    "statuses": lambda v: E.status.in_(v),
    "name_contains": lambda v: E.name.ilike(f"%{escape_like(v)}%", escape="\\"),
    "created_after": lambda v: E.created_at >= v,
    "created_before": lambda v: E.created_at < v,
    "created_by_id": lambda v: E.created_by == named_pk(v, "User"),
    "dataset_id": lambda v: E.dataset_id == named_pk(v, "Dataset"),
    "search": lambda v: search_match(E.id, E.search_vector, v),
}
"""The SQL condition of each ``ExperimentFilter`` field; ``tag_slugs`` is the
catalog's (tags are its), added with ``filter_rule``."""


def filter_rule(name: str) -> Callable[[Rule], Rule]:
    """Declare the condition of the ``ExperimentFilter`` field ``name`` from the
    domain whose tables answer it."""

    def add(rule: Rule) -> Rule:
        if name in EXPERIMENT_RULES:
            raise ValueError(f"ExperimentFilter.{name} already has a rule")
        EXPERIMENT_RULES[name] = rule
        return rule

    return add


def _relevance(filter: ExperimentFilter | None) -> Any:
    """The search rank of the list's top-level ``search`` (RELEVANCE ordering)."""
    text = getattr(filter, "search", None)
    if not isinstance(text, str):
        raise BadRequest(
            "ordering by RELEVANCE needs a search: give filter.search on the experiments list",
            field="orderBy",
        )
    return search_rank(E.id, E.search_vector, text)


EXPERIMENT_ORDERING = Ordering(
    attributes={f: str(f.value) for f in ExperimentOrderField},
    default=(SortKey("created_at", descending=True),),
    computed={RELEVANCE_KEY: _relevance},
)
