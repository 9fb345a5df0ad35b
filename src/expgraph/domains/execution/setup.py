"""Creating what executions need: configs, evaluators, prompts, providers."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.execution import crypto, models
from expgraph.domains.execution.configs import EvaluatorConfig, TaskConfig
from expgraph.domains.experiments.models import EvaluationExperiment, Experiment
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import json_object, optional_text, text
from expgraph.graphql.redact import refuse_secrets

FREE_FORM = {"invocation_parameters": "invocationParameters", "parameters": "parameters"}
"""The free-form parts of a config: any reader of the experiment sees them, so
secrets are refused there (``graphql.redact``: by name and by value)."""


def validated(model: Any, values: dict[str, Any], field: str) -> Any:
    for key, name in FREE_FORM.items():
        refuse_secrets(values.get(key), f"{field}.{name}")
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadRequest(f"{field}.{where}: {first['msg']}", field=field) from exc


async def _check_refs(session: AsyncSession, config: TaskConfig | EvaluatorConfig) -> None:
    if config.prompt_version_id is not None and not await session.get(
        models.PromptVersion, config.prompt_version_id
    ):
        raise NotFound("no prompt version with that id", field="promptVersionId")
    if config.custom_provider_id is not None and not await session.get(
        models.CustomProvider, config.custom_provider_id
    ):
        raise NotFound("no custom provider with that id", field="customProviderId")


async def create_config(
    session: AsyncSession,
    experiment_id: int,
    task: TaskConfig,
    evaluators: list[EvaluatorConfig],
) -> models.ExecutionConfig:
    experiment = await session.get(Experiment, experiment_id)
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("no experiment with that id")
    if not isinstance(experiment, EvaluationExperiment):
        raise BadRequest("only evaluation experiments execute")
    if experiment.dataset_id is None or experiment.dataset_version_id is None:
        raise BadRequest("the experiment needs a dataset and a dataset version first")
    if await session.get(models.ExecutionConfig, experiment_id) is not None:
        raise Conflict("the experiment already has an execution config")
    names = [e.name for e in evaluators]
    if len(set(names)) != len(names):
        raise BadRequest("evaluator names must be unique")
    configs: list[TaskConfig | EvaluatorConfig] = [task, *evaluators]
    for config in configs:
        await _check_refs(session, config)
    record = models.ExecutionConfig(
        id=experiment_id, task_config=task, evaluator_configs=evaluators
    )
    session.add(record)
    await session.flush()
    await session.refresh(record)
    return record


async def add_evaluator(
    session: AsyncSession, experiment_id: int, evaluator: EvaluatorConfig
) -> models.ExecutionConfig:
    record = await session.get(models.ExecutionConfig, experiment_id, with_for_update=True)
    if record is None:
        raise NotFound("this experiment has no execution config")
    if any(e.name == evaluator.name for e in record.evaluator_configs):
        raise Conflict(f"an evaluator named {evaluator.name!r} exists")
    await _check_refs(session, evaluator)
    record.evaluator_configs = [*record.evaluator_configs, evaluator]
    await session.flush()
    await session.refresh(record)
    return record


async def create_prompt(session: AsyncSession, values: dict[str, Any]) -> models.Prompt:
    name = text(values["name"], "name", max_length=255)
    if (await session.scalars(select(models.Prompt.id).where(models.Prompt.name == name))).first():
        raise Conflict(f"a prompt named {name!r} exists", field="name")
    prompt = models.Prompt(
        name=name,
        description=optional_text(values.get("description"), "description", max_length=10_000),
    )
    session.add(prompt)
    await session.flush()
    await add_version(session, prompt.id, values)
    return prompt


async def add_version(
    session: AsyncSession, prompt_id: int, values: dict[str, Any]
) -> models.PromptVersion:
    if await session.get(models.Prompt, prompt_id, with_for_update=True) is None:
        raise NotFound("no prompt with that id", field="promptId")
    latest = await session.scalar(
        select(func.max(models.PromptVersion.version)).where(
            models.PromptVersion.prompt_id == prompt_id
        )
    )
    version = models.PromptVersion(
        prompt_id=prompt_id,
        version=(latest or 0) + 1,
        template=text(values["template"], "template", max_length=100_000),
        model_provider=text(values["model_provider"], "modelProvider", max_length=100),
        model_name=text(values["model_name"], "modelName", max_length=200),
        invocation_parameters=_no_secrets(
            json_object(values.get("invocation_parameters"), "invocationParameters"),
            "invocationParameters",
        ),
    )
    session.add(version)
    await session.flush()
    return version


def _no_secrets(value: dict[str, Any], field: str) -> dict[str, Any]:
    refuse_secrets(value, field)
    return value


async def create_provider(
    session: AsyncSession, key: str | None, values: dict[str, Any]
) -> models.CustomProvider:
    name = text(values["name"], "name", max_length=255)
    exists = select(models.CustomProvider.id).where(models.CustomProvider.name == name)
    if (await session.scalars(exists)).first():
        raise Conflict(f"a provider named {name!r} exists", field="name")
    credentials = values.get("credentials")
    provider = models.CustomProvider(
        name=name,
        provider_kind=text(values["provider_kind"], "providerKind", max_length=50),
        base_url=optional_text(values.get("base_url"), "baseUrl", max_length=1000),
        credentials_encrypted=(
            crypto.encrypt(key, json_object(credentials, "credentials")) if credentials else None
        ),
    )
    session.add(provider)
    await session.flush()
    return provider


async def delete_provider(session: AsyncSession, pk: int) -> models.CustomProvider:
    provider = await session.get(models.CustomProvider, pk)
    if provider is None:
        raise NotFound("no custom provider with that id")
    await session.delete(provider)
    await session.flush()
    return provider
