"""GraphQL types of the A/B testing domain: variants, policies, policy versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from sqlalchemy import case, or_, select

from expgraph.db.base import Base
from expgraph.db.engine import Database
from expgraph.domains.abtest import configs, models
from expgraph.domains.execution.models import PromptVersion as PromptVersionRecord
from expgraph.domains.execution.types import PromptVersion
from expgraph.domains.experiments.models import Experiment, UnitType
from expgraph.domains.experiments.types import Experiment as Experiment_
from expgraph.graphql.connections import connection_field
from expgraph.graphql.context import Info
from expgraph.graphql.enums import described_enum
from expgraph.graphql.filters import Rule
from expgraph.graphql.loaders import ChildLists, Counts, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import computed, derived_field, list_field, node_field
from expgraph.graphql.relay import Node, encode_id, model_pk, node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public, node_for

if TYPE_CHECKING:
    from expgraph.domains.abtest.assignment_api import Assignment

described_enum(
    configs.ExecutionStrategy,
    "How a variant's arm is executed.",
    {
        configs.ExecutionStrategy.MLFLOW_MODEL: "A trained model: a policy version in MLflow.",
        configs.ExecutionStrategy.PROMPT_TEMPLATE: (
            "A prompt version on an LLM, with an optional flow."
        ),
        configs.ExecutionStrategy.HYBRID: "Both a policy version and a prompt version.",
    },
)
described_enum(
    models.PolicyVersionStatus,
    "Whether a policy version may be used.",
    {
        models.PolicyVersionStatus.ACTIVE: "In use or usable by new variants.",
        models.PolicyVersionStatus.DEPRECATED: "Still usable, but superseded.",
        models.PolicyVersionStatus.ARCHIVED: "Retired; no running experiment's variant uses it.",
    },
)


@strawberry.type(description="The conversation flow a variant's prompt runs in.")
class VariantFlow:
    flow_id: str = strawberry.field(description="Identifier of the conversation flow definition.")
    initial_state: str | None = strawberry.field(
        description="The flow's starting state; null for the flow's default."
    )


described_enum(
    models.ReplayStatus,
    "Where an offline replay stands.",
    {
        models.ReplayStatus.PENDING: "Recorded before it started.",
        models.ReplayStatus.RUNNING: "Replaying now.",
        models.ReplayStatus.COMPLETED: "Finished; its scores are final.",
        models.ReplayStatus.FAILED: "Stopped by an error (errorMessage says which).",
    },
)


@node_type(models.OfflineReplayResult, read=Public)
@strawberry.type(
    description=(
        "Scores of a policy version replayed offline on a dataset version, compared with a "
        "baseline version. Scores are exact decimals (six places); null when not measured."
    )
)
class OfflineReplayResult(Node):
    id: strawberry.ID
    dataset_version: str = strawberry.field(description="The dataset version replayed.")
    mlflow_run_id: str | None = strawberry.field(
        description="The MLflow run that produced it; null when none."
    )
    plan_alignment_score: Decimal | None = strawberry.field(description="Plan alignment score.")
    constraint_respect_score: Decimal | None = strawberry.field(
        description="Constraint respect score."
    )
    edit_distance_score: Decimal | None = strawberry.field(description="Edit distance score.")
    diversity_score: Decimal | None = strawberry.field(description="Diversity score.")
    leftovers_score: Decimal | None = strawberry.field(description="Leftovers score.")
    is_better_than_baseline: bool | None = strawberry.field(
        description="Whether it beat the baseline version; null when not compared."
    )
    status: models.ReplayStatus = strawberry.field(description="Where the replay stands.")
    error_message: str | None = strawberry.field(description="Why it failed; null unless FAILED.")
    created_at: datetime
    record: strawberry.Private[models.OfflineReplayResult]

    @strawberry.field(description="The version it compared with; null when none.")
    async def baseline_version(self, info: Info) -> PolicyVersion | None:
        key = self.record.baseline_version_id
        if key is None:
            return None
        row = await info.context.loader(RowsById(models.PolicyVersion)).load(key)
        node: PolicyVersion | None = node_for(info.context.principal, row)
        return node


@node_type(models.PolicyVersion, read=Public)
@strawberry.type(description="A numbered version of a policy: an MLflow model version.")
class PolicyVersion(Node):
    id: strawberry.ID
    version: int = strawberry.field(description="Version number within its policy: 1, 2, 3, ...")
    mlflow_model_name: str = strawberry.field(description="The model's name in MLflow.")
    mlflow_model_version: str = strawberry.field(description="The model's version in MLflow.")
    config_defaults: JSON = strawberry.field(
        description="Default runtime parameters (a JSON object); {} when none."
    )
    status: models.PolicyVersionStatus = strawberry.field(
        description="Whether it may be used (ACTIVE when created)."
    )
    created_at: datetime
    record: strawberry.Private[models.PolicyVersion]

    @strawberry.field(
        description=(
            "Variants whose config uses it (either config format), by experiment and position."
        )
    )
    async def variants(self, info: Info) -> list[Variant]:
        rows = await info.context.loader(VARIANTS_USING).load(self.record.id)
        principal = info.context.principal
        return [v for v in (node_for(principal, row) for row in rows) if v is not None]

    replay_results = connection_field(
        Relation(models.OfflineReplayResult, "policy_version_id"),
        OfflineReplayResult,
        (SortKey("created_at", descending=True),),
        description="Its offline replay results, newest first.",
    )

    @strawberry.field(description="The policy it is a version of.")
    async def policy(self, info: Info) -> Policy:
        row = await info.context.loader(RowsById(models.Policy)).load(self.record.policy_id)
        node: Policy = node_for(info.context.principal, row)
        return node


@node_type(models.Policy, read=Public)
@strawberry.type(description="A named policy (for example the planner policy) with versions.")
class Policy(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="Unique name, at most 255 characters.")
    description: str | None = strawberry.field(description="Free text; null when none was given.")
    created_at: datetime
    record: strawberry.Private[models.Policy]

    versions: list[PolicyVersion] = list_field(
        ChildLists(Relation(models.PolicyVersion, "policy_id"), "version"),
        PolicyVersion,
        description="Its versions, oldest (version 1) first.",
    )


@dataclass(frozen=True)
class VariantsUsing:
    """Variants whose config names each policy version (either config format),
    in one statement for a batch of policy versions; by experiment, then position."""

    async def load(self, db: Database, keys: list[Any]) -> list[list[Any]]:
        gids = [encode_id("PolicyVersion", key) for key in keys]
        column = models.Variant.config
        stmt = (
            select(models.Variant)
            .where(
                or_(
                    column["policy_version_id"].as_string().in_(gids),
                    column[("mlflow_model", "policy_version_id")].as_string().in_(gids),
                )
            )
            .order_by(models.Variant.experiment_id, models.Variant.position)
        )
        async with db.read() as session:
            rows = (await session.scalars(stmt)).all()
        found: dict[int | None, list[Any]] = {}
        for row in rows:
            found.setdefault(row.policy_version_pk, []).append(row)
        return [found.get(key, []) for key in keys]


VARIANTS_USING = VariantsUsing()


AssignmentT = Annotated["Assignment", strawberry.lazy("expgraph.domains.abtest.assignment_api")]


@strawberry.input(description="Conditions on an A/B test's assignments; all given must hold.")
class AssignmentFilter:
    variant_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the units assigned to this variant."
    )
    unit_id: str | None = strawberry.field(default=None, description="Only this unit.")
    unit_type: UnitType | None = strawberry.field(
        default=None, description="Only units of this type."
    )
    assigned_since: datetime | None = strawberry.field(
        default=None, description="Only units assigned at or after this time."
    )


A = models.Assignment
ASSIGNMENT_RULES: dict[str, Rule] = {
    "variant_id": lambda v: A.variant_id == model_pk(v, models.Variant),
    "unit_id": lambda v: A.unit_id == v,
    "unit_type": lambda v: A.unit_type == v,
    "assigned_since": lambda v: A.assigned_at >= v,
}
# Oldest first; ``id`` breaks ties (both directions page by the same keys).
ASSIGNMENT_ORDER = (SortKey("assigned_at"),)
VARIANT_ASSIGNMENTS = Relation(models.Assignment, "variant_id")


def assignment_connection(relation: Relation, description: str) -> Any:
    """A connection of assignments over ``relation``, oldest first, with an
    ``AssignmentFilter``."""
    return connection_field(
        relation,
        AssignmentT,
        ASSIGNMENT_ORDER,
        filter=AssignmentFilter,
        rules=ASSIGNMENT_RULES,
        description=description,
    )


def _count(value: Any, _record: Any, _context: Any) -> int:
    return int(value)


def _config(root: Any) -> configs.VariantConfig | None:
    return configs.read(root.record.config)


@node_type(models.Variant, read=Public)
@strawberry.type(
    description=(
        "An arm of an A/B test. Variants split units in position order, each taking "
        "its allocation's share."
    )
)
class Variant(Node):
    id: strawberry.ID
    name: str = strawberry.field(
        description="Unique within its experiment; at most 255 characters."
    )
    description: str | None = strawberry.field(description="Free text; null when none was given.")
    allocation: Decimal = strawberry.field(
        description=(
            "Share of units assigned to it, an exact decimal from 0 to 1 with four places "
            '("0.5000"). The experiment\'s variants total at most 1.'
        )
    )
    position: int = strawberry.field(
        description="Its place in the experiment's order (from 0): the order of bucket ranges."
    )
    is_control: bool = strawberry.field(
        description="Whether it is the experiment's control: exactly one variant is."
    )
    config: JSON = strawberry.field(
        description=(
            "The raw config JSON as stored (snake_case keys, as seed 001 defines them); "
            "the typed fields below read it."
        )
    )
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.Variant]

    assignments = assignment_connection(
        VARIANT_ASSIGNMENTS,
        "The units assigned to it, oldest assignment first (by assignedAt, then id).",
    )
    assigned_units: int = derived_field(
        Counts(VARIANT_ASSIGNMENTS),
        "id",
        int,
        _count,
        description="How many units are assigned to it (stored assignments).",
    )

    @strawberry.field(
        description=(
            "How the arm is executed; null for a plain arm (an empty config). A legacy "
            "config (policy_version_id at its root) reads as MLFLOW_MODEL."
        )
    )
    def execution_strategy(self) -> configs.ExecutionStrategy | None:
        strategy = getattr(_config(self), "execution_strategy", None)
        return configs.ExecutionStrategy(strategy) if strategy else None

    policy_version: PolicyVersion | None = node_field(
        RowsById(models.PolicyVersion),
        "policy_version_pk",
        PolicyVersion,
        description="The policy version its config uses (MLFLOW_MODEL or HYBRID); null otherwise.",
    )
    prompt_version: PromptVersion | None = node_field(
        RowsById(PromptVersionRecord),
        "prompt_version_pk",
        PromptVersion,
        description=(
            "The prompt version its config uses (PROMPT_TEMPLATE or HYBRID); null otherwise."
        ),
    )

    @strawberry.field(
        description="The LLM provider of its prompt (for example anthropic); null without one."
    )
    def model_provider(self) -> str | None:
        prompt = getattr(_config(self), "prompt_config", None)
        return prompt.model_provider if prompt is not None else None

    @strawberry.field(
        description=(
            "The model it runs: the prompt's model when it has a prompt, else the MLflow "
            "model's name; null when the config names none."
        )
    )
    def model_name(self) -> str | None:
        config = _config(self)
        prompt = getattr(config, "prompt_config", None)
        if prompt is not None:
            return str(prompt.model_name)
        mlflow = getattr(config, "mlflow_model", None)
        return mlflow.model_name if mlflow is not None else None

    @strawberry.field(description="The conversation flow of its prompt; null without one.")
    def flow(self) -> VariantFlow | None:
        flow = getattr(_config(self), "flow_config", None)
        if flow is None:
            return None
        return VariantFlow(flow_id=flow.flow_id, initial_state=flow.initial_state)

    @strawberry.field(description="Runtime parameters (a JSON object, {} when none).")
    def params(self) -> JSON:
        config = _config(self)
        return cast(JSON, dict(config.params) if config is not None else {})


def view_model(row: type[Any]) -> type[Base]:
    """A read-only view's mapping (on the views' own metadata) as a node type's model."""
    return cast("type[Base]", row)


described_enum(
    models.BucketType,
    "The period a metric aggregate covers.",
    {
        models.BucketType.HOURLY: "One hour, from bucketStart (UTC).",
        models.BucketType.DAILY: "One day, from bucketStart (midnight UTC).",
    },
)


def _int32(column: Any) -> Any:
    """A BIGINT column shown as a GraphQL Int: null (which the read-query compiler
    refuses, so the executor answers its error) outside Int's 32 bits."""
    return case((column.between(-(2**31), 2**31 - 1), column))


@node_type(view_model(models.ExperimentMetricRow), read=Public)
@strawberry.type(
    description=(
        "One metric aggregate with its experiment's and variant's names (the "
        "v_experiment_metrics view): the mean and count of a metric in one hour or day."
    )
)
class ExperimentMetric(Node):
    id: strawberry.ID
    experiment_name: str = strawberry.field(description="Its experiment's name.")
    variant_name: str = strawberry.field(description="Its variant's name.")
    metric_name: str = strawberry.field(description="The metric's name, as in events' metrics.")
    record: strawberry.Private[models.ExperimentMetricRow]

    @strawberry.field(description="Whether it covers an hour or a day.")
    @computed(lambda row, _settings: row.bucket_type)
    def bucket_type(self) -> models.BucketType:
        return models.BucketType(self.record.bucket_type)

    bucket_start: datetime = strawberry.field(description="Start of the hour or day (UTC).")
    mean: Decimal | None = strawberry.field(
        description="Mean value of the metric over its events (exact decimal); null when none."
    )

    @strawberry.field(description="How many events carried the metric.")
    @computed(lambda row, _settings: _int32(row.count))
    def count(self) -> int:
        return self.record.count

    variant: Variant | None = node_field(
        RowsById(models.Variant), "variant_id", Variant, description="The variant it is about."
    )


@strawberry.input(description="Conditions on experiment metrics; all given must hold.")
class ExperimentMetricFilter:
    experiment_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this experiment's metrics."
    )
    variant_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this variant's metrics."
    )
    metric_name: str | None = strawberry.field(default=None, description="Only this metric.")
    bucket_type: models.BucketType | None = strawberry.field(
        default=None, description="Only hourly or only daily aggregates."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only buckets starting at or after this time."
    )


M = models.ExperimentMetricRow
METRIC_RULES: dict[str, Rule] = {
    "experiment_id": lambda v: M.experiment_id == model_pk(v, Experiment),
    "variant_id": lambda v: M.variant_id == model_pk(v, models.Variant),
    "metric_name": lambda v: M.metric_name == v,
    "bucket_type": lambda v: M.bucket_type == v.value,
    "since": lambda v: M.bucket_start >= v,
}


@node_type(view_model(models.ActiveAbTestRow), read=Public)
@strawberry.type(
    description=(
        "A running A/B test with how many variants it has and their total allocation "
        "(the v_active_experiments view)."
    )
)
class ActiveAbTest(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="The experiment's name.")

    @strawberry.field(description="How many variants it has.")
    @computed(lambda row, _settings: _int32(row.variant_count))
    def variant_count(self) -> int:
        return self.record.variant_count

    total_allocation: Decimal = strawberry.field(
        description="The sum of its variants' allocations, an exact decimal from 0 to 1."
    )
    record: strawberry.Private[models.ActiveAbTestRow]

    experiment: Experiment_ | None = node_field(
        RowsById(Experiment), "id", Experiment_, description="The experiment itself."
    )
