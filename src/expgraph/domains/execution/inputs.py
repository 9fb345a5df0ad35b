"""Mutation inputs for execution."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.execution.service import MAX_BATCH
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON, BigInt

MAX_EVALUATORS = 50


@strawberry.input(description="What each run does. Ids are global ids.")
class TaskConfigInput:
    model_provider: str
    model_name: str
    prompt_version_id: strawberry.ID | None = None
    template: str | None = None
    custom_provider_id: strawberry.ID | None = None
    invocation_parameters: JSON | None = None
    max_concurrency: int = 4


@strawberry.input(description="One evaluator; its name names its annotations.")
class EvaluatorConfigInput:
    name: str
    kind: str = strawberry.field(
        default="code", description="llm_judge, code, exact_match, contains"
    )
    model_provider: str | None = None
    model_name: str | None = None
    prompt_version_id: strawberry.ID | None = None
    custom_provider_id: strawberry.ID | None = None
    parameters: JSON | None = None


@strawberry.input
class CreateExecutionConfigInput:
    experiment_id: strawberry.ID
    task_config: TaskConfigInput
    evaluator_configs: list[EvaluatorConfigInput] = capped(MAX_EVALUATORS, default_factory=list)


@strawberry.input
class AddEvaluatorConfigInput:
    experiment_id: strawberry.ID
    evaluator_config: EvaluatorConfigInput


@strawberry.input
class ToggleExecutionInput:
    experiment_id: strawberry.ID
    enabled: bool


@strawberry.input
class ClaimExecutionInput:
    worker_id: str
    experiment_id: strawberry.ID | None = strawberry.field(
        default=None, description="Omit to claim the next claimable experiment (oldest first)."
    )


@strawberry.input
class HolderInput:
    experiment_id: strawberry.ID
    worker_id: str
    fencing_token: BigInt


@strawberry.input
class ReleaseExecutionInput(HolderInput):
    error: str | None = strawberry.field(default=None, description="Recorded as lastError.")


@strawberry.input
class RunInput:
    dataset_example_id: strawberry.ID
    repetition_number: int
    output: JSON | None = None
    error: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    latency_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_micros: BigInt | None = None


@strawberry.input
class RecordExperimentRunsInput(HolderInput):
    runs: list[RunInput] = capped(MAX_BATCH)


@strawberry.input
class AnnotationInput:
    experiment_run_id: strawberry.ID
    name: str
    label: str | None = None
    score: float | None = None
    explanation: str | None = None
    error: str | None = None
    metadata: JSON | None = None


@strawberry.input
class RecordRunAnnotationsInput(HolderInput):
    annotations: list[AnnotationInput] = capped(MAX_BATCH)


@strawberry.input
class CreatePromptInput:
    name: str
    template: str
    model_provider: str
    model_name: str
    description: str | None = None
    invocation_parameters: JSON | None = None


@strawberry.input
class CreatePromptVersionInput:
    prompt_id: strawberry.ID
    template: str
    model_provider: str
    model_name: str
    invocation_parameters: JSON | None = None


@strawberry.input(description="Credentials are stored encrypted and never returned.")
class CreateCustomProviderInput:
    name: str
    provider_kind: str
    base_url: str | None = None
    credentials: JSON | None = None


@strawberry.input
class DeleteCustomProviderInput:
    id: strawberry.ID
