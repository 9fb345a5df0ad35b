"""Mutation inputs for execution."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.execution.configs import EvaluatorKind
from expgraph.domains.execution.service import MAX_BATCH
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON, BigInt

MAX_EVALUATORS = 50


@strawberry.input(description="What each run does. Ids are global ids.")
class TaskConfigInput:
    model_provider: str = strawberry.field(description="Provider of the model, 1-100 characters.")
    model_name: str = strawberry.field(
        description="Model name as the provider spells it, 1-200 characters."
    )
    prompt_version_id: strawberry.ID | None = strawberry.field(
        default=None, description="Prompt version to run; or give template instead."
    )
    template: str | None = strawberry.field(
        default=None, description="Raw prompt template, at most 100,000 characters."
    )
    custom_provider_id: strawberry.ID | None = strawberry.field(
        default=None, description="Custom provider to call instead of the built-in one."
    )
    invocation_parameters: JSON | None = strawberry.field(
        default=None, description="Model call parameters as a JSON object; secrets are refused."
    )
    max_concurrency: int = strawberry.field(
        default=4, description="Runs a worker may have in flight at once, 1-256."
    )


@strawberry.input(description="One evaluator; its name names its annotations.")
class EvaluatorConfigInput:
    name: str = strawberry.field(
        description="1-100 characters, unique in the config; names its annotations."
    )
    kind: EvaluatorKind = strawberry.field(
        default=EvaluatorKind.CODE, description="What the evaluator does; CODE when omitted."
    )
    model_provider: str | None = strawberry.field(
        default=None, description="Judge model provider (LLM_JUDGE only)."
    )
    model_name: str | None = strawberry.field(
        default=None, description="Judge model name (LLM_JUDGE only)."
    )
    prompt_version_id: strawberry.ID | None = strawberry.field(
        default=None, description="Judge prompt version (LLM_JUDGE only)."
    )
    custom_provider_id: strawberry.ID | None = strawberry.field(
        default=None, description="Custom provider for the judge model."
    )
    parameters: JSON | None = strawberry.field(
        default=None, description="Evaluator settings as a JSON object; secrets are refused."
    )


@strawberry.input(description="Makes one evaluation experiment executable.")
class CreateExecutionConfigInput:
    experiment_id: strawberry.ID = strawberry.field(
        description="Global id of an evaluation experiment with a dataset version."
    )
    task_config: TaskConfigInput = strawberry.field(
        description="What each run does; fixed once created."
    )
    evaluator_configs: list[EvaluatorConfigInput] = capped(
        MAX_EVALUATORS, default_factory=list, description="Evaluators to apply to each run."
    )


@strawberry.input(description="Adds one evaluator to an execution config.")
class AddEvaluatorConfigInput:
    experiment_id: strawberry.ID = strawberry.field(description="Global id of the experiment.")
    evaluator_config: EvaluatorConfigInput = strawberry.field(
        description="The evaluator; its name must be new to the config."
    )


@strawberry.input(description="Enables or disables an execution.")
class ToggleExecutionInput:
    experiment_id: strawberry.ID = strawberry.field(description="Global id of the experiment.")
    enabled: bool = strawberry.field(
        description="True to let workers claim it, false to stop them."
    )


@strawberry.input(description="Asks for a claim on an execution.")
class ClaimExecutionInput:
    worker_id: str = strawberry.field(
        description="Identifies the claiming worker, 1-255 characters after trimming."
    )
    experiment_id: strawberry.ID | None = strawberry.field(
        default=None, description="Omit to claim the next claimable experiment (oldest first)."
    )


@strawberry.input(description="Proves the caller still holds the claim it was given.")
class HolderInput:
    experiment_id: strawberry.ID = strawberry.field(
        description="Global id of the claimed experiment."
    )
    worker_id: str = strawberry.field(description="The workerId the claim was made with.")
    fencing_token: BigInt = strawberry.field(
        description="The claim's fencingToken; a stale token gets a CONFLICT error."
    )


@strawberry.input(description="Gives a claim back.")
class ReleaseExecutionInput(HolderInput):
    error: str | None = strawberry.field(default=None, description="Recorded as lastError.")


@strawberry.input(
    description="One run result; recording the same example and repetition again replaces it."
)
class RunInput:
    dataset_example_id: strawberry.ID = strawberry.field(
        description="Global id of an example in the experiment's dataset version."
    )
    repetition_number: int = strawberry.field(description="From 1 to the experiment's repetitions.")
    output: JSON | None = strawberry.field(
        default=None, description="The task's output; a non-object is stored as {value: ...}."
    )
    error: str | None = strawberry.field(
        default=None, description="Why the run failed; null for a success."
    )
    start_time: datetime | None = strawberry.field(
        default=None, description="When the run started."
    )
    end_time: datetime | None = strawberry.field(default=None, description="When the run ended.")
    latency_ms: float | None = strawberry.field(
        default=None, description="Model call latency in milliseconds, at least 0."
    )
    prompt_tokens: int | None = strawberry.field(
        default=None, description="Input tokens used, at least 0."
    )
    completion_tokens: int | None = strawberry.field(
        default=None, description="Output tokens used, at least 0."
    )
    cost_micros: BigInt | None = strawberry.field(
        default=None, description="Cost in millionths of a dollar, at least 0."
    )


@strawberry.input(description="A batch of run results from the claim holder.")
class RecordExperimentRunsInput(HolderInput):
    runs: list[RunInput] = capped(
        MAX_BATCH, description="At least one run; each example and repetition at most once."
    )


@strawberry.input(
    description="One evaluator result; recording the same run and name again replaces it."
)
class AnnotationInput:
    experiment_run_id: strawberry.ID = strawberry.field(
        description="Global id of a run of the claimed experiment."
    )
    name: str = strawberry.field(description="The evaluator's name, at most 100 characters.")
    label: str | None = strawberry.field(
        default=None, description="Categorical verdict, at most 255 characters."
    )
    score: float | None = strawberry.field(default=None, description="Numeric score.")
    explanation: str | None = strawberry.field(
        default=None, description="The evaluator's reasoning."
    )
    error: str | None = strawberry.field(
        default=None, description="Why the evaluator failed; null on success."
    )
    metadata: JSON | None = strawberry.field(
        default=None, description="Free-form JSON object; {} when omitted."
    )


@strawberry.input(description="A batch of evaluator results from the claim holder.")
class RecordRunAnnotationsInput(HolderInput):
    annotations: list[AnnotationInput] = capped(
        MAX_BATCH, description="At least one; each run and name at most once."
    )


@strawberry.input(description="A new prompt and its version 1.")
class CreatePromptInput:
    name: str = strawberry.field(description="Unique prompt name, at most 255 characters.")
    template: str = strawberry.field(
        description="Template of version 1, at most 100,000 characters."
    )
    model_provider: str = strawberry.field(
        description="Provider of the model, at most 100 characters."
    )
    model_name: str = strawberry.field(description="Model name, at most 200 characters.")
    description: str | None = strawberry.field(
        default=None, description="Free text, at most 10,000 characters."
    )
    invocation_parameters: JSON | None = strawberry.field(
        default=None, description="Model call parameters as a JSON object; secrets are refused."
    )


@strawberry.input(description="The next version of a prompt; it gets the next number.")
class CreatePromptVersionInput:
    prompt_id: strawberry.ID = strawberry.field(description="Global id of the prompt.")
    template: str = strawberry.field(description="Template text, at most 100,000 characters.")
    model_provider: str = strawberry.field(
        description="Provider of the model, at most 100 characters."
    )
    model_name: str = strawberry.field(description="Model name, at most 200 characters.")
    invocation_parameters: JSON | None = strawberry.field(
        default=None, description="Model call parameters as a JSON object; secrets are refused."
    )


@strawberry.input(description="Credentials are stored encrypted and never returned.")
class CreateCustomProviderInput:
    name: str = strawberry.field(description="Unique provider name, at most 255 characters.")
    provider_kind: str = strawberry.field(description="Which API it speaks, at most 50 characters.")
    base_url: str | None = strawberry.field(
        default=None, description="Endpoint URL, at most 1,000 characters."
    )
    credentials: JSON | None = strawberry.field(
        default=None, description="JSON object of secrets; encrypted, never readable again."
    )


@strawberry.input(description="Names the custom provider to delete.")
class DeleteCustomProviderInput:
    id: strawberry.ID = strawberry.field(description="Global id of the custom provider.")
