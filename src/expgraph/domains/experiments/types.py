"""GraphQL face of experiments: the ``Experiment`` interface, one type per kind,
its filter and ordering."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import func, select, true
from sqlalchemy.sql.elements import ColumnElement

from expgraph.domains.accounts.models import User as UserRecord
from expgraph.domains.catalog import models as catalog
from expgraph.domains.execution import fields as execution
from expgraph.domains.experiments import models
from expgraph.domains.research import explorations
from expgraph.domains.research import fields as research
from expgraph.domains.simulation import fields as simulation
from expgraph.graphql.bounds import capped
from expgraph.graphql.connections import connection_field
from expgraph.graphql.filters import Ordering, Rule, SortDirection, escape_like
from expgraph.graphql.loaders import Relation, RowsById, Through
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, model_pk, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public

if TYPE_CHECKING:
    from expgraph.domains.accounts.types import User
    from expgraph.domains.catalog.types import Dataset, DatasetVersion, Tag, TagOrder

_ACCOUNTS = "expgraph.domains.accounts.types"
_CATALOG = "expgraph.domains.catalog.types"
UserT = Annotated["User", strawberry.lazy(_ACCOUNTS)]
TagT = Annotated["Tag", strawberry.lazy(_CATALOG)]
TagOrderT = Annotated["TagOrder", strawberry.lazy(_CATALOG)]
DatasetT = Annotated["Dataset", strawberry.lazy(_CATALOG)]
DatasetVersionT = Annotated["DatasetVersion", strawberry.lazy(_CATALOG)]

ExperimentKind = models.ExperimentKind
strawberry.enum(ExperimentKind, description="Which system an experiment belongs to.")
ExperimentStatus = models.ExperimentStatus
strawberry.enum(ExperimentStatus, description="Lifecycle state, shared by every kind.")
UnitType = models.UnitType
strawberry.enum(UnitType, description="What an A/B test assigns to variants.")

MAX_TAG_SLUGS = 200

TAGS_OF_EXPERIMENT = Through(catalog.ExperimentTag, "experiment_id", "tag_id")
TAGS = Relation(catalog.Tag, through=TAGS_OF_EXPERIMENT)


def _tag_ordering() -> Ordering:
    from expgraph.domains.catalog.types import TAG_ORDERING  # catalog imports this module

    return TAG_ORDERING


@strawberry.interface(
    description="An experiment of any kind; ask for a kind's fields with fragments."
)
class Experiment(Node):
    id: strawberry.ID
    kind: ExperimentKind
    name: str
    description: str | None
    status: ExperimentStatus
    config: JSON
    metadata: JSON
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = strawberry.field(
        description="When it was soft-deleted; null while it is live."
    )
    record: strawberry.Private[models.Experiment]

    execution_config = execution.execution_config

    created_by: UserT | None = node_field(
        RowsById(UserRecord), "created_by", UserT, description="Who created it."
    )

    tags = connection_field(TAGS, TagT, _tag_ordering, order=TagOrderT, description="Its tags.")


EXPERIMENT_RENAMES = {"metadata": "metadata_"}


def _dataset(description: str) -> Any:
    return node_field(RowsById(catalog.Dataset), "dataset_id", DatasetT, description=description)


@node_type(models.EvaluationExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="An LLM evaluation over a dataset version.")
class EvaluationExperiment(Experiment):
    repetitions: int | None
    dataset: DatasetT | None = _dataset("The dataset it runs on.")
    runs = execution.runs
    progress = execution.progress
    incomplete_runs = strawberry.field(
        resolver=execution.incomplete_runs,
        description="Missing and failed example x repetition pairs, in order, paged.",
    )
    annotation_summaries = strawberry.field(
        resolver=execution.annotation_summaries,
        description="Per evaluator: count, errors, mean score, label counts.",
    )

    dataset_version: DatasetVersionT | None = node_field(
        RowsById(catalog.DatasetVersion),
        "dataset_version_id",
        DatasetVersionT,
        description="The dataset version whose examples it runs.",
    )


@node_type(models.AbTestExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="An A/B test assigning units to variants.")
class AbTestExperiment(Experiment):
    unit_type: UnitType | None
    start_at: datetime | None
    end_at: datetime | None


@node_type(models.SimulationExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="Iterated simulations; money in integer cents.")
class SimulationExperiment(Experiment):
    simulation_type: str | None
    scenario_path: str | None
    master_seed: BigInt | None
    completed_at: datetime | None
    num_iterations: int | None
    converged: bool | None
    convergence_reason: str | None
    final_cost: BigInt | None = strawberry.field(description="Final cost in integer cents.")
    best_cost: BigInt | None = strawberry.field(description="Best cost in integer cents.")
    iterations = simulation.iterations
    events = simulation.events
    simulation_runs = simulation.simulation_runs


@node_type(models.TrainingExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="An ML training run over a dataset.")
class TrainingExperiment(Experiment):
    dataset: DatasetT | None = _dataset("The dataset it trains on.")
    model_type: str | None
    hyperparameters: JSON | None
    metrics: JSON | None
    best_epoch: int | None
    total_epochs: int | None
    duration_seconds: float | None
    model_path: str | None
    onnx_path: str | None
    results_dir: str | None
    notes: str | None


@node_type(models.ResearchExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="A hypothesis tested on synthetic users.")
class ResearchExperiment(Experiment):
    hypothesis: str | None
    scorecard_data: JSON | None
    explorations = explorations.explorations_of
    analysis_run = strawberry.field(resolver=research.analysis_run, description="Its analysis.")
    interview_guide = research.interview_guide
    research_executions = research.research_executions
    documents = research.documents


@strawberry.input(description="Conditions on experiments; all given conditions must hold.")
class ExperimentFilter:
    kinds: list[ExperimentKind] | None = None
    statuses: list[ExperimentStatus] | None = None
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name."
    )
    tag_slugs: list[str] | None = capped(
        MAX_TAG_SLUGS, default=None, description="Has every one of these tags."
    )
    created_after: datetime | None = None
    created_before: datetime | None = None
    created_by_id: strawberry.ID | None = None
    dataset_id: strawberry.ID | None = None
    and_: list[ExperimentFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ExperimentFilter] | None = strawberry.field(name="or", default=None)
    not_: ExperimentFilter | None = strawberry.field(name="not", default=None)


@strawberry.enum
class ExperimentOrderField(enum.Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"


@strawberry.input
class ExperimentOrder:
    field: ExperimentOrderField
    direction: SortDirection = SortDirection.ASC


E = models.Experiment


def _has_tags(slugs: list[str]) -> ColumnElement[bool]:
    """Has every one of the tags: one grouped statement for any number of slugs
    (the experiments whose links to those tags number as many as the distinct
    slugs asked; slugs are unique), not one correlated EXISTS per slug."""
    wanted = sorted(set(slugs))
    if not wanted:
        return true()
    link, tag = catalog.ExperimentTag, catalog.Tag
    tagged = (
        select(link.experiment_id)
        .join(tag, tag.id == link.tag_id)
        .where(tag.slug.in_(wanted))
        .group_by(link.experiment_id)
        .having(func.count(func.distinct(link.tag_id)) == len(wanted))
    )
    return E.id.in_(tagged)


EXPERIMENT_RULES: dict[str, Rule] = {
    "kinds": lambda v: E.kind.in_(v),
    "statuses": lambda v: E.status.in_(v),
    "name_contains": lambda v: E.name.ilike(f"%{escape_like(v)}%", escape="\\"),
    "tag_slugs": _has_tags,
    "created_after": lambda v: E.created_at >= v,
    "created_before": lambda v: E.created_at < v,
    "created_by_id": lambda v: E.created_by == model_pk(v, UserRecord),
    "dataset_id": lambda v: E.dataset_id == model_pk(v, catalog.Dataset),
}

EXPERIMENT_ORDERING = Ordering(
    attributes={f: f.value for f in ExperimentOrderField},
    default=(SortKey("created_at", descending=True),),
)
