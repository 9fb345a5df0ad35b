"""Execution mutations: configs, the claim lifecycle, run writes, prompts, providers.

Workers need the EXECUTE permission; toggling and configuring need WRITE;
custom providers (credentials) need ADMIN.
"""

from __future__ import annotations

from typing import Any

import strawberry

from expgraph.domains.catalog.models import DatasetExample
from expgraph.domains.execution import models, service, setup
from expgraph.domains.execution.configs import EvaluatorConfig, TaskConfig
from expgraph.domains.execution.inputs import (
    AddEvaluatorConfigInput,
    ClaimExecutionInput,
    CreateCustomProviderInput,
    CreateExecutionConfigInput,
    CreatePromptInput,
    CreatePromptVersionInput,
    DeleteCustomProviderInput,
    EvaluatorConfigInput,
    HolderInput,
    RecordExperimentRunsInput,
    RecordRunAnnotationsInput,
    ReleaseExecutionInput,
    TaskConfigInput,
    ToggleExecutionInput,
)
from expgraph.domains.execution.types import (
    CustomProvider,
    ExecutionConfig,
    ExperimentRun,
    ExperimentRunAnnotation,
    Prompt,
    PromptVersion,
)
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.errors import BadRequest, Conflict
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import load_node
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import encode_id, model_pk, to_node
from expgraph.graphql.scalars import BigInt


@strawberry.type(description="The result of an execution config mutation.")
class ExecutionConfigPayload:
    execution_config: ExecutionConfig = strawberry.field(description="The config as it is now.")


@strawberry.type(description="A held claim: use fencingToken in every later call.")
class Claim:
    config: ExecutionConfig = strawberry.field(description="The claimed execution's config.")
    fencing_token: BigInt = strawberry.field(
        description="The claim's token: pass it with workerId to every later call on this claim."
    )
    record: strawberry.Private[models.ExecutionConfig]

    @strawberry.field(description="The claimed experiment.")
    async def experiment(self, info: Info) -> Experiment:
        return await load_node(info, ExperimentRecord, self.record.id)


@strawberry.type(description="The result of claimExecution.")
class ClaimPayload:
    claim: Claim | None = strawberry.field(description="Null when nothing is claimable.")


@strawberry.type(description="The result of recordExperimentRuns.")
class RecordExperimentRunsPayload:
    runs: list[ExperimentRun] = strawberry.field(description="The recorded runs, in input order.")


@strawberry.type(description="The result of recordRunAnnotations.")
class RecordRunAnnotationsPayload:
    annotations: list[ExperimentRunAnnotation] = strawberry.field(
        description="The recorded annotations, in input order."
    )


@strawberry.type(description="The result of createPrompt.")
class PromptPayload:
    prompt: Prompt = strawberry.field(description="The new prompt, with its version 1.")


@strawberry.type(description="The result of createPromptVersion.")
class PromptVersionPayload:
    prompt_version: PromptVersion = strawberry.field(description="The new version.")


@strawberry.type(description="The result of a custom provider mutation.")
class CustomProviderPayload:
    custom_provider: CustomProvider = strawberry.field(
        description="The provider; after a delete, as it was."
    )


def _ids(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("prompt_version_id") is not None:
        values["prompt_version_id"] = model_pk(values["prompt_version_id"], models.PromptVersion)
    if values.get("custom_provider_id") is not None:
        values["custom_provider_id"] = model_pk(values["custom_provider_id"], models.CustomProvider)
    for json_field in ("invocation_parameters", "parameters"):
        if values.get(json_field) is None:
            values.pop(json_field, None)
    return values


def _task(data: TaskConfigInput) -> TaskConfig:
    return setup.validated(TaskConfig, _ids(values_given(data)), "taskConfig")


def _evaluator(data: EvaluatorConfigInput, field: str) -> EvaluatorConfig:
    return setup.validated(EvaluatorConfig, _ids(values_given(data)), field)


def _holder(data: HolderInput) -> tuple[int, service.Holder]:
    return (
        model_pk(data.experiment_id, ExperimentRecord),
        service.Holder(worker_id=data.worker_id, fencing_token=int(data.fencing_token)),
    )


def _worker_id(value: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= 255:
        raise BadRequest("workerId must be 1-255 characters", field="workerId")
    return value


async def _check_providers(session: Any, config: models.ExecutionConfig) -> None:
    """A claim needs every referenced provider: resuming after one was deleted fails clearly."""
    items: list[TaskConfig | EvaluatorConfig] = [config.task_config, *config.evaluator_configs]
    for item in items:
        pk = item.custom_provider_id
        if pk is not None and await session.get(models.CustomProvider, pk) is None:
            raise Conflict(
                f"the custom provider {encode_id('CustomProvider', pk)} this experiment's "
                "config uses was deleted; it cannot run until its config names an existing "
                "provider",
                reason="PROVIDER_DELETED",
            )


@strawberry.type
class Mutation:
    @mutation(permission=Permission.WRITE, description="Make an evaluation experiment executable.")
    async def create_execution_config(
        self, info: Info, input: CreateExecutionConfigInput
    ) -> ExecutionConfigPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        task = _task(input.task_config)
        evaluators = [
            _evaluator(e, f"evaluatorConfigs[{i}]") for i, e in enumerate(input.evaluator_configs)
        ]
        async with info.context.db.transaction() as session:
            config = await setup.create_config(session, experiment_id, task, evaluators)
        await info.context.notify(experiment_id)
        return ExecutionConfigPayload(execution_config=to_node(config))

    @mutation(permission=Permission.WRITE, description="Add an evaluator (the task is fixed).")
    async def add_evaluator_config(
        self, info: Info, input: AddEvaluatorConfigInput
    ) -> ExecutionConfigPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        evaluator = _evaluator(input.evaluator_config, "evaluatorConfig")
        async with info.context.db.transaction() as session:
            config = await setup.add_evaluator(session, experiment_id, evaluator)
        return ExecutionConfigPayload(execution_config=to_node(config))

    @mutation(permission=Permission.WRITE, description="Enable or disable; COOLDOWN if too soon.")
    async def toggle_execution(
        self, info: Info, input: ToggleExecutionInput
    ) -> ExecutionConfigPayload:
        ctx = info.context
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        async with ctx.db.transaction() as session:
            config = await service.toggle(
                session,
                experiment_id,
                input.enabled,
                ctx.settings.execution_toggle_cooldown_seconds,
            )
        await ctx.notify(experiment_id)
        return ExecutionConfigPayload(execution_config=to_node(config))

    @mutation(permission=Permission.EXECUTE, description="Claim one experiment, or the next.")
    async def claim_execution(self, info: Info, input: ClaimExecutionInput) -> ClaimPayload:
        ctx = info.context
        worker = _worker_id(input.worker_id)
        stale = ctx.settings.execution_stale_seconds
        async with ctx.db.transaction() as session:
            if input.experiment_id is not None:
                pk = model_pk(input.experiment_id, ExperimentRecord)
                config: models.ExecutionConfig | None = await service.claim(
                    session, pk, worker, stale
                )
            else:
                config = await service.claim_next(session, ctx.db.dialect, worker, stale)
            if config is not None:
                await _check_providers(session, config)
        if config is None:
            return ClaimPayload(claim=None)
        await ctx.notify(config.id)
        return ClaimPayload(
            claim=Claim(
                config=to_node(config), fencing_token=BigInt(config.fencing_token), record=config
            )
        )

    @mutation(permission=Permission.EXECUTE, description="Keep a claim alive.")
    async def heartbeat_execution(self, info: Info, input: HolderInput) -> ExecutionConfigPayload:
        ctx = info.context
        experiment_id, holder = _holder(input)
        async with ctx.db.transaction() as session:
            config = await service.heartbeat(
                session, experiment_id, holder, ctx.settings.execution_stale_seconds
            )
        return ExecutionConfigPayload(execution_config=to_node(config))

    @mutation(permission=Permission.EXECUTE, description="Give a claim back, with an error if any.")
    async def release_execution(
        self, info: Info, input: ReleaseExecutionInput
    ) -> ExecutionConfigPayload:
        ctx = info.context
        experiment_id, holder = _holder(input)
        async with ctx.db.transaction() as session:
            config = await service.release(session, experiment_id, holder, input.error)
        await ctx.notify(experiment_id)
        return ExecutionConfigPayload(execution_config=to_node(config))

    @mutation(permission=Permission.EXECUTE, description="Record runs (idempotent per pair).")
    async def record_experiment_runs(
        self, info: Info, input: RecordExperimentRunsInput
    ) -> RecordExperimentRunsPayload:
        ctx = info.context
        experiment_id, holder = _holder(input)
        runs = []
        for run in input.runs:
            values = values_given(run)
            values["dataset_example_id"] = model_pk(run.dataset_example_id, DatasetExample)
            if values.get("cost_micros") is not None:
                values["cost_micros"] = int(values["cost_micros"])
            if values.get("output") is not None and not isinstance(values["output"], dict):
                values["output"] = {"value": values["output"]}
            runs.append(values)
        async with ctx.db.transaction() as session:
            rows = await service.record_runs(session, ctx.db.dialect, experiment_id, holder, runs)
        await ctx.notify(experiment_id)
        return RecordExperimentRunsPayload(runs=[to_node(r) for r in rows])

    @mutation(permission=Permission.EXECUTE, description="Record evaluator results (idempotent).")
    async def record_run_annotations(
        self, info: Info, input: RecordRunAnnotationsInput
    ) -> RecordRunAnnotationsPayload:
        ctx = info.context
        experiment_id, holder = _holder(input)
        annotations = []
        for item in input.annotations:
            values = values_given(item)
            values["experiment_run_id"] = model_pk(item.experiment_run_id, models.ExperimentRun)
            annotations.append(values)
        async with ctx.db.transaction() as session:
            rows = await service.record_annotations(
                session, ctx.db.dialect, experiment_id, holder, annotations
            )
        return RecordRunAnnotationsPayload(annotations=[to_node(r) for r in rows])

    @mutation(permission=Permission.WRITE, description="Create a prompt with its first version.")
    async def create_prompt(self, info: Info, input: CreatePromptInput) -> PromptPayload:
        async with info.context.db.transaction() as session:
            prompt = await setup.create_prompt(session, values_given(input))
        return PromptPayload(prompt=to_node(prompt))

    @mutation(permission=Permission.WRITE, description="Add the next version of a prompt.")
    async def create_prompt_version(
        self, info: Info, input: CreatePromptVersionInput
    ) -> PromptVersionPayload:
        prompt_id = model_pk(input.prompt_id, models.Prompt)
        async with info.context.db.transaction() as session:
            version = await setup.add_version(session, prompt_id, values_given(input))
        return PromptVersionPayload(prompt_version=to_node(version))

    @mutation(
        permission=Permission.ADMIN, description="Register a provider; credentials encrypted."
    )
    async def create_custom_provider(
        self, info: Info, input: CreateCustomProviderInput
    ) -> CustomProviderPayload:
        ctx = info.context
        async with ctx.db.transaction() as session:
            provider = await setup.create_provider(
                session, ctx.settings.encryption_key, values_given(input)
            )
        return CustomProviderPayload(custom_provider=to_node(provider))

    @mutation(permission=Permission.ADMIN, description="Delete a provider.")
    async def delete_custom_provider(
        self, info: Info, input: DeleteCustomProviderInput
    ) -> CustomProviderPayload:
        pk = model_pk(input.id, models.CustomProvider)
        async with info.context.db.transaction() as session:
            provider = await setup.delete_provider(session, pk)
        return CustomProviderPayload(custom_provider=to_node(provider))
