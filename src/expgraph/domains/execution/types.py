"""GraphQL face of execution: configs with derived state and progress, runs,
annotations, prompts. No field returns provider credentials."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from expgraph.domains.catalog.models import DatasetExample as ExampleRecord
from expgraph.domains.execution import models
from expgraph.domains.execution.loaders import Counts, ProgressById
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.graphql.connections import load_node
from expgraph.graphql.context import Info
from expgraph.graphql.filters import Ordering, Rule, SortDirection
from expgraph.graphql.loaders import ChildLists, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import derived_field, list_field, node_field
from expgraph.graphql.relay import Node, model_pk, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import AdminOnly, Public

if TYPE_CHECKING:
    from expgraph.domains.catalog.types import DatasetExample

ExampleT = Annotated["DatasetExample", strawberry.lazy("expgraph.domains.catalog.types")]
# This module's own type, for a field declared before the type it shows.
PromptVersionT = Annotated["PromptVersion", strawberry.lazy(__name__)]


@strawberry.enum(description="Where an execution stands; derived, never stored.")
class ExecutionState(enum.Enum):
    STOPPED = "stopped"
    QUEUED = "queued"
    RUNNING = "running"
    ORPHANED = "orphaned"
    COMPLETED = "completed"
    FAILED = "failed"


@strawberry.type(description="Runs recorded against dataset examples x repetitions.")
class Progress:
    expected: BigInt = strawberry.field(
        description="Dataset examples x repetitions (64-bit: it can pass 2^31)."
    )
    completed: int = strawberry.field(description="Runs recorded without error.")
    failed: int = strawberry.field(description="Runs recorded with an error (to retry).")
    missing: BigInt = strawberry.field(
        description="Example x repetition pairs with no run yet (64-bit, like expected)."
    )
    fraction: float = strawberry.field(description="completed / expected (1.0 when none).")

    @classmethod
    def of(cls, counts: Counts) -> Progress:
        fraction = counts.completed / counts.expected if counts.expected else 1.0
        return cls(
            expected=BigInt(counts.expected),
            completed=counts.completed,
            failed=counts.failed,
            missing=BigInt(counts.missing),
            fraction=min(1.0, fraction),
        )


def derive_state(
    config: models.ExecutionConfig, counts: Counts, stale_seconds: int
) -> ExecutionState:
    """The state, from the row, the run counts and the database clock."""
    if not config.enabled:
        return ExecutionState.STOPPED
    if config.claimed_at is not None:
        fresh = counts.now - config.claimed_at <= timedelta(seconds=stale_seconds)
        return ExecutionState.RUNNING if fresh else ExecutionState.ORPHANED
    if config.last_error is not None:
        return ExecutionState.FAILED
    if counts.expected and counts.completed >= counts.expected:
        return ExecutionState.COMPLETED
    return ExecutionState.QUEUED


async def progress_of(info: Info, experiment_id: int) -> Counts:
    return _present(await info.context.loader(ProgressById()).load(experiment_id))


def _present(counts: Counts | None) -> Counts:
    assert counts is not None
    return counts


def progress_shown(counts: Counts | None, _record: Any, _context: Any) -> Progress:
    """A ``progress`` field's value, from ``ProgressById``'s counts."""
    return Progress.of(_present(counts))


def state_shown(counts: Counts | None, config: Any, context: Any) -> ExecutionState:
    """A ``state`` field's value, from the config row and its counts."""
    return derive_state(config, _present(counts), context.settings.execution_stale_seconds)


@node_type(models.ExecutionConfig, read=Public)
@strawberry.type(description="How an evaluation experiment executes, and who holds it.")
class ExecutionConfig(Node):
    id: strawberry.ID
    enabled: bool
    claimed_at: datetime | None = strawberry.field(description="Last claim or heartbeat.")
    claimed_by: str | None = strawberry.field(description="The worker holding the claim.")
    fencing_token: BigInt = strawberry.field(description="Grows by one with every claim.")
    toggled_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.ExecutionConfig]

    @strawberry.field(description="The task config (fixed once created).")
    def task_config(self) -> JSON:
        return JSON(self.record.task_config.model_dump(mode="json"))

    @strawberry.field(description="Evaluator configs; more can be added later.")
    def evaluator_configs(self) -> list[JSON]:
        return [JSON(e.model_dump(mode="json")) for e in self.record.evaluator_configs]

    experiment: Experiment = node_field(
        RowsById(ExperimentRecord), "id", Experiment, nullable=False
    )

    state: ExecutionState = derived_field(ProgressById(), "id", ExecutionState, state_shown)
    progress: Progress = derived_field(ProgressById(), "id", Progress, progress_shown)


@node_type(models.ExperimentRunAnnotation, read=Public, renames={"metadata": "metadata_"})
@strawberry.type(description="One evaluator's result on one run.")
class ExperimentRunAnnotation(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="The evaluator's name.")
    label: str | None
    score: float | None
    explanation: str | None
    error: str | None
    metadata: JSON
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.ExperimentRunAnnotation]


ANNOTATIONS = ChildLists(Relation(models.ExperimentRunAnnotation, "experiment_run_id"), "name")


@node_type(models.ExperimentRun, read=Public)
@strawberry.type(description="One dataset example x repetition of an evaluation experiment.")
class ExperimentRun(Node):
    id: strawberry.ID
    repetition_number: int
    output: JSON | None
    error: str | None
    start_time: datetime | None
    end_time: datetime | None
    latency_ms: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_micros: BigInt | None = strawberry.field(description="Cost in millionths of a dollar.")
    worker_id: str | None
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.ExperimentRun]

    example: ExampleT = node_field(
        RowsById(ExampleRecord), "dataset_example_id", ExampleT, nullable=False
    )
    annotations: list[ExperimentRunAnnotation] = list_field(
        ANNOTATIONS, ExperimentRunAnnotation, description="Evaluator results, by evaluator name."
    )


@strawberry.type(description="A missing or failed example x repetition: what a resume runs.")
class IncompleteRun:
    repetition_number: int
    status: str = strawberry.field(description="MISSING or FAILED.")
    cursor: str
    record: strawberry.Private[Any]

    @strawberry.field
    async def example(self, info: Info) -> ExampleT:
        return await load_node(info, ExampleRecord, self.record)


@strawberry.type
class IncompleteRunPage:
    items: list[IncompleteRun]
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class LabelCount:
    label: str
    count: int


@strawberry.type(description="What one evaluator said across an experiment's runs.")
class AnnotationSummary:
    name: str
    count: int
    error_count: int
    mean_score: float | None
    labels: list[LabelCount]


@strawberry.input(description="Conditions on runs.")
class ExperimentRunFilter:
    has_error: bool | None = None
    repetition: int | None = None
    dataset_example_id: strawberry.ID | None = None
    and_: list[ExperimentRunFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ExperimentRunFilter] | None = strawberry.field(name="or", default=None)
    not_: ExperimentRunFilter | None = strawberry.field(name="not", default=None)


@strawberry.enum
class ExperimentRunOrderField(enum.Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    REPETITION_NUMBER = "repetition_number"
    DATASET_EXAMPLE = "dataset_example_id"


@strawberry.input
class ExperimentRunOrder:
    field: ExperimentRunOrderField
    direction: SortDirection = SortDirection.ASC


R = models.ExperimentRun
RUN_RULES: dict[str, Rule] = {
    "has_error": lambda v: R.error.is_not(None) if v else R.error.is_(None),
    "repetition": lambda v: R.repetition_number == v,
    "dataset_example_id": lambda v: R.dataset_example_id == model_pk(v, ExampleRecord),
}
RUN_ORDERING = Ordering({f: f.value for f in ExperimentRunOrderField}, (SortKey("created_at"),))


PROMPT_VERSIONS = ChildLists(Relation(models.PromptVersion, "prompt_id"), "version")


@node_type(models.Prompt, read=Public, renames={"metadata": "metadata_"})
@strawberry.type(description="A named prompt with versions.")
class Prompt(Node):
    id: strawberry.ID
    name: str
    description: str | None
    metadata: JSON
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.Prompt]

    versions: list[PromptVersionT] = list_field(
        PROMPT_VERSIONS, PromptVersionT, description="Its versions, oldest first."
    )


@node_type(models.PromptVersion, read=Public)
@strawberry.type(description="One version of a prompt: template and model.")
class PromptVersion(Node):
    id: strawberry.ID
    version: int
    template: str
    model_provider: str
    model_name: str
    invocation_parameters: JSON
    created_at: datetime
    record: strawberry.Private[models.PromptVersion]

    prompt: Prompt = node_field(RowsById(models.Prompt), "prompt_id", Prompt, nullable=False)


@node_type(models.CustomProvider, read=AdminOnly)
@strawberry.type(description="A model provider endpoint. Its credentials are write-only.")
class CustomProvider(Node):
    id: strawberry.ID
    name: str
    provider_kind: str
    base_url: str | None
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.CustomProvider]

    @strawberry.field(description="Whether credentials are stored (they are never shown).")
    def has_credentials(self) -> bool:
        return self.record.credentials_encrypted is not None
