"""GraphQL face of execution: configs with derived state and progress, runs,
annotations, prompts. No field returns provider credentials."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import Double, case, cast, literal, select
from sqlalchemy.orm import aliased

from expgraph.db.claims import is_fresh
from expgraph.db.types import utc_before
from expgraph.domains.catalog.models import DatasetExample as ExampleRecord
from expgraph.domains.execution import configs, models
from expgraph.domains.execution.configs import EvaluatorKind
from expgraph.domains.execution.loaders import Counts, ProgressById, failed_runs
from expgraph.domains.execution.service import E as EvaluationRecord
from expgraph.domains.execution.service import completed_runs, expected_runs
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.graphql.connections import load_node
from expgraph.graphql.context import Info
from expgraph.graphql.enums import described_enum
from expgraph.graphql.filters import Ordering, Rule, SortDirection
from expgraph.graphql.loaders import ChildLists, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import SqlRule, derived_field, list_field, node_field
from expgraph.graphql.relay import Node, encode_id, model_pk, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import AdminOnly, Public

if TYPE_CHECKING:
    from expgraph.domains.catalog.types import DatasetExample

ExampleT = Annotated["DatasetExample", strawberry.lazy("expgraph.domains.catalog.types")]
# This module's own type, for a field declared before the type it shows.
PromptVersionT = Annotated["PromptVersion", strawberry.lazy(__name__)]


@strawberry.enum(description="Where an execution stands; derived, never stored.")
class ExecutionState(enum.Enum):
    STOPPED = strawberry.enum_value("stopped", description="Disabled; no worker may claim it.")
    QUEUED = strawberry.enum_value(
        "queued", description="Enabled with runs to do, waiting for a worker to claim it."
    )
    RUNNING = strawberry.enum_value(
        "running", description="Claimed by a worker whose last heartbeat is recent."
    )
    ORPHANED = strawberry.enum_value(
        "orphaned", description="Claimed, but the heartbeat is stale; another worker may take it."
    )
    COMPLETED = strawberry.enum_value(
        "completed", description="Every expected run is recorded without error."
    )
    FAILED = strawberry.enum_value(
        "failed", description="Released with an error (see lastError); toggle off and on to retry."
    )


described_enum(
    EvaluatorKind,
    "What an evaluator does with each run's output.",
    {
        EvaluatorKind.LLM_JUDGE: (
            "A judge model grades the output (give modelProvider, modelName and promptVersionId)."
        ),
        EvaluatorKind.CODE: "Code run by the worker scores the output.",
        EvaluatorKind.EXACT_MATCH: (
            "Scores 1 when the output equals the example's expected output, else 0."
        ),
        EvaluatorKind.CONTAINS: ("Scores 1 when the output contains parameters.text, else 0."),
    },
)


def _global_id(type_name: str, pk: int | None) -> strawberry.ID | None:
    return None if pk is None else strawberry.ID(encode_id(type_name, pk))


@strawberry.type(
    name="TaskConfig",
    description="What each run of an execution does; the same fields TaskConfigInput takes.",
)
class TaskConfigView:
    model_provider: str = strawberry.field(description="Provider of the model, such as openai.")
    model_name: str = strawberry.field(description="Model name as the provider spells it.")
    prompt_version_id: strawberry.ID | None = strawberry.field(
        description="Global id of the prompt version each run uses; null when template is set."
    )
    template: str | None = strawberry.field(
        description="Raw prompt template; null when a prompt version is used."
    )
    custom_provider_id: strawberry.ID | None = strawberry.field(
        description="Global id of the custom provider to call; null for the built-in one."
    )
    invocation_parameters: JSON = strawberry.field(
        description="Model call parameters as given (a JSON object, keys as stored); {} if none."
    )
    max_concurrency: int = strawberry.field(
        description="Runs a worker may have in flight at once, 1-256."
    )

    @classmethod
    def of(cls, task: configs.TaskConfig) -> TaskConfigView:
        return cls(
            model_provider=task.model_provider,
            model_name=task.model_name,
            prompt_version_id=_global_id("PromptVersion", task.prompt_version_id),
            template=task.template,
            custom_provider_id=_global_id("CustomProvider", task.custom_provider_id),
            invocation_parameters=JSON(task.invocation_parameters),
            max_concurrency=task.max_concurrency,
        )


@strawberry.type(
    name="EvaluatorConfig",
    description="One evaluator of an execution; the same fields EvaluatorConfigInput takes.",
)
class EvaluatorConfigView:
    name: str = strawberry.field(
        description="Unique in the config; the name of the annotations it records."
    )
    kind: EvaluatorKind = strawberry.field(description="What the evaluator does.")
    model_provider: str | None = strawberry.field(
        description="Judge model provider (LLM_JUDGE); null otherwise."
    )
    model_name: str | None = strawberry.field(
        description="Judge model name (LLM_JUDGE); null otherwise."
    )
    prompt_version_id: strawberry.ID | None = strawberry.field(
        description="Global id of the judge's prompt version (LLM_JUDGE); null otherwise."
    )
    custom_provider_id: strawberry.ID | None = strawberry.field(
        description="Global id of the custom provider for the judge model; null if none."
    )
    parameters: JSON = strawberry.field(
        description="Evaluator settings as given (a JSON object, keys as stored); {} if none."
    )

    @classmethod
    def of(cls, evaluator: configs.EvaluatorConfig) -> EvaluatorConfigView:
        return cls(
            name=evaluator.name,
            kind=evaluator.kind,
            model_provider=evaluator.model_provider,
            model_name=evaluator.model_name,
            prompt_version_id=_global_id("PromptVersion", evaluator.prompt_version_id),
            custom_provider_id=_global_id("CustomProvider", evaluator.custom_provider_id),
            parameters=JSON(evaluator.parameters),
        )


@strawberry.enum(description="Why an example x repetition pair still needs a run.")
class IncompleteRunStatus(enum.Enum):
    MISSING = strawberry.enum_value("MISSING", description="No run is recorded for it yet.")
    FAILED = strawberry.enum_value(
        "FAILED", description="Its recorded run has an error; running it again replaces it."
    )


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
        fresh = is_fresh(config.claimed_at, counts.now, stale_seconds)
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


def counts_sql(row: Any) -> dict[str, Any]:
    """Expected, completed and failed runs of a config's experiment, in SQL
    (``ProgressById``'s counts; a config's id is its experiment's). The rules
    below read each several times; the compiler computes them once per row
    (``SqlRule.once``)."""
    experiment = aliased(EvaluationRecord)
    expected = select(expected_runs(experiment)).where(experiment.id == row.id)
    return {
        "expected": expected.scalar_subquery(),
        "completed": completed_runs(row.id),
        "failed": failed_runs(row.id),
    }


def state_sql(row: Any, settings: Any, counts: Mapping[str, Any]) -> Any:
    """``derive_state`` in SQL, from the same database clock (a hold is fresh
    up to ``execution_stale_seconds``, the claims' boundary)."""
    expected, completed = counts["expected"], counts["completed"]
    stale = row.claimed_at < utc_before(settings.execution_stale_seconds)
    return case(
        (row.enabled.is_not(True), ExecutionState.STOPPED.value),
        (row.claimed_at.is_not(None) & stale, ExecutionState.ORPHANED.value),
        (row.claimed_at.is_not(None), ExecutionState.RUNNING.value),
        (row.last_error.is_not(None), ExecutionState.FAILED.value),
        ((expected > 0) & (completed >= expected), ExecutionState.COMPLETED.value),
        else_=ExecutionState.QUEUED.value,
    )


def progress_sql(_row: Any, _settings: Any, counts: Mapping[str, Any]) -> dict[str, Any]:
    """``Progress.of`` in SQL: the fraction is one double division, as in Python."""
    expected, completed, failed = counts["expected"], counts["completed"], counts["failed"]
    one: Any = literal(1.0, Double())
    fraction = case(
        (expected == 0, one),
        (completed >= expected, one),
        else_=cast(completed, Double()) / expected,
    )
    missing = case(
        (expected - completed - failed > 0, expected - completed - failed), else_=literal(0)
    )
    return {
        "expected": expected,
        "completed": completed,
        "failed": failed,
        "missing": missing,
        "fraction": fraction,
    }


@node_type(models.ExecutionConfig, read=Public)
@strawberry.type(description="How an evaluation experiment executes, and who holds it.")
class ExecutionConfig(Node):
    id: strawberry.ID
    enabled: bool = strawberry.field(
        description="Whether workers may claim it; see toggleExecution."
    )
    claimed_at: datetime | None = strawberry.field(description="Last claim or heartbeat.")
    claimed_by: str | None = strawberry.field(description="The worker holding the claim.")
    fencing_token: BigInt = strawberry.field(description="Grows by one with every claim.")
    toggled_at: datetime | None = strawberry.field(
        description="When it was last enabled or disabled; null if never toggled."
    )
    last_error: str | None = strawberry.field(
        description="Error of the last release, if any; cleared when toggled on again."
    )
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.ExecutionConfig]

    @strawberry.field(description="What each run does (fixed once created).")
    def task_config(self) -> TaskConfigView:
        return TaskConfigView.of(self.record.task_config)

    @strawberry.field(
        description="The evaluators applied to each run, in the order they were added."
    )
    def evaluator_configs(self) -> list[EvaluatorConfigView]:
        return [EvaluatorConfigView.of(e) for e in self.record.evaluator_configs]

    experiment: Experiment = node_field(
        RowsById(ExperimentRecord),
        "id",
        Experiment,
        nullable=False,
        description="The evaluation experiment it executes.",
    )

    state: ExecutionState = derived_field(
        ProgressById(),
        "id",
        ExecutionState,
        state_shown,
        sql=SqlRule(state_sql, settings=("execution_stale_seconds",), once=counts_sql),
        description="Where it stands now, derived from the claim, errors and runs.",
    )
    progress: Progress = derived_field(
        ProgressById(),
        "id",
        Progress,
        progress_shown,
        sql=SqlRule(progress_sql, once=counts_sql),
        description="Runs recorded against those expected.",
    )


@node_type(models.ExperimentRunAnnotation, read=Public, renames={"metadata": "metadata_"})
@strawberry.type(description="One evaluator's result on one run.")
class ExperimentRunAnnotation(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="The evaluator's name.")
    label: str | None = strawberry.field(
        description="Categorical verdict; null when the evaluator gives none."
    )
    score: float | None = strawberry.field(
        description="Numeric score; null when the evaluator gives none."
    )
    explanation: str | None = strawberry.field(
        description="The evaluator's reasoning, if it gave any."
    )
    error: str | None = strawberry.field(description="Why the evaluator failed; null on success.")
    metadata: JSON = strawberry.field(
        description="Free-form JSON object from the evaluator; {} by default."
    )
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.ExperimentRunAnnotation]


ANNOTATIONS = ChildLists(Relation(models.ExperimentRunAnnotation, "experiment_run_id"), "name")


@node_type(models.ExperimentRun, read=Public)
@strawberry.type(description="One dataset example x repetition of an evaluation experiment.")
class ExperimentRun(Node):
    id: strawberry.ID
    repetition_number: int = strawberry.field(
        description="Which repetition of the example, from 1."
    )
    output: JSON | None = strawberry.field(
        description="The task's output; non-object values are wrapped as {value: ...}."
    )
    error: str | None = strawberry.field(description="Why the run failed; null when it succeeded.")
    start_time: datetime | None = strawberry.field(
        description="When the run started, as reported by the worker."
    )
    end_time: datetime | None = strawberry.field(
        description="When the run ended, as reported by the worker."
    )
    latency_ms: float | None = strawberry.field(description="Model call latency in milliseconds.")
    prompt_tokens: int | None = strawberry.field(
        description="Input tokens used; null when unknown."
    )
    completion_tokens: int | None = strawberry.field(
        description="Output tokens used; null when unknown."
    )
    cost_micros: BigInt | None = strawberry.field(description="Cost in millionths of a dollar.")
    worker_id: str | None = strawberry.field(description="The worker that recorded it.")
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.ExperimentRun]

    example: ExampleT = node_field(
        RowsById(ExampleRecord),
        "dataset_example_id",
        ExampleT,
        nullable=False,
        description="The dataset example it ran on.",
    )
    annotations: list[ExperimentRunAnnotation] = list_field(
        ANNOTATIONS, ExperimentRunAnnotation, description="Evaluator results, by evaluator name."
    )


@strawberry.type(description="A missing or failed example x repetition: what a resume runs.")
class IncompleteRun:
    repetition_number: int = strawberry.field(
        description="Which repetition of the example, from 1."
    )
    status: IncompleteRunStatus = strawberry.field(
        description="Whether it has no run yet or its run failed."
    )
    cursor: str = strawberry.field(
        description="Opaque; pass as `after` to continue after this item."
    )
    record: strawberry.Private[Any]

    @strawberry.field(description="The dataset example to run.")
    async def example(self, info: Info) -> ExampleT:
        return await load_node(info, ExampleRecord, self.record)


@strawberry.type(description="One page of incomplete runs.")
class IncompleteRunPage:
    items: list[IncompleteRun] = strawberry.field(description="At most `first` items, in order.")
    has_next_page: bool = strawberry.field(description="Whether more items follow this page.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item; null when the page is empty."
    )


@strawberry.type(description="How many annotations carry one label.")
class LabelCount:
    label: str = strawberry.field(description="The label as the evaluator gave it.")
    count: int = strawberry.field(description="Annotations with this label.")


@strawberry.type(description="What one evaluator said across an experiment's runs.")
class AnnotationSummary:
    name: str = strawberry.field(description="The evaluator's name.")
    count: int = strawberry.field(description="Annotations it recorded, errors included.")
    error_count: int = strawberry.field(description="Annotations with an error.")
    mean_score: float | None = strawberry.field(
        description="Mean of the scores given; null when none has a score."
    )
    labels: list[LabelCount] = strawberry.field(description="How often each label was given.")


@strawberry.input(description="Conditions on runs.")
class ExperimentRunFilter:
    has_error: bool | None = strawberry.field(
        default=None, description="True: only failed runs; false: only successful ones."
    )
    repetition: int | None = strawberry.field(
        default=None, description="Only this repetition number."
    )
    dataset_example_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only runs of this dataset example (global id)."
    )
    and_: list[ExperimentRunFilter] | None = strawberry.field(
        name="and", default=None, description="Every one of these filters holds."
    )
    or_: list[ExperimentRunFilter] | None = strawberry.field(
        name="or", default=None, description="At least one of these filters holds."
    )
    not_: ExperimentRunFilter | None = strawberry.field(
        name="not", default=None, description="This filter does not hold."
    )


@strawberry.enum(description="What runs can be sorted by; ties are broken by id.")
class ExperimentRunOrderField(enum.Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="When the run was first recorded.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="When the run was last recorded.")
    REPETITION_NUMBER = strawberry.enum_value("repetition_number", description="Repetition number.")
    DATASET_EXAMPLE = strawberry.enum_value(
        "dataset_example_id", description="Dataset example, in creation order."
    )


@strawberry.input(description="A sort order for runs.")
class ExperimentRunOrder:
    field: ExperimentRunOrderField = strawberry.field(description="What to sort by.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending unless told otherwise."
    )


R = models.ExperimentRun
RUN_RULES: dict[str, Rule] = {
    "has_error": lambda v: R.error.is_not(None) if v else R.error.is_(None),
    "repetition": lambda v: R.repetition_number == v,
    "dataset_example_id": lambda v: R.dataset_example_id == model_pk(v, ExampleRecord),
}
RUN_ORDERING = Ordering(
    {f: str(f.value) for f in ExperimentRunOrderField}, (SortKey("created_at"),)
)


PROMPT_VERSIONS = ChildLists(Relation(models.PromptVersion, "prompt_id"), "version")


@node_type(models.Prompt, read=Public, renames={"metadata": "metadata_"})
@strawberry.type(description="A named prompt with versions.")
class Prompt(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="Unique prompt name, at most 255 characters.")
    description: str | None = strawberry.field(description="Free text; null when none was given.")
    metadata: JSON = strawberry.field(description="Free-form JSON object; {} by default.")
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
    version: int = strawberry.field(description="Version number within its prompt: 1, 2, 3, ...")
    template: str = strawberry.field(description="The prompt template text.")
    model_provider: str = strawberry.field(description="Provider of the model, such as openai.")
    model_name: str = strawberry.field(description="Model name as the provider spells it.")
    invocation_parameters: JSON = strawberry.field(
        description="Model call parameters (temperature, ...) as a JSON object; never secrets."
    )
    created_at: datetime
    record: strawberry.Private[models.PromptVersion]

    prompt: Prompt = node_field(
        RowsById(models.Prompt),
        "prompt_id",
        Prompt,
        nullable=False,
        description="The prompt it is a version of.",
    )


@node_type(models.CustomProvider, read=AdminOnly)
@strawberry.type(description="A model provider endpoint. Its credentials are write-only.")
class CustomProvider(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="Unique provider name, at most 255 characters.")
    provider_kind: str = strawberry.field(description="Which API it speaks, such as openai.")
    base_url: str | None = strawberry.field(
        description="Endpoint URL; null for the provider's default."
    )
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.CustomProvider]

    @strawberry.field(description="Whether credentials are stored (they are never shown).")
    def has_credentials(self) -> bool:
        return self.record.credentials_encrypted is not None
