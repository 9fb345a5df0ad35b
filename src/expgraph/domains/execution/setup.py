"""Creating what executions need: configs, evaluators, prompts, providers."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db import crypto
from expgraph.domains.execution import models
from expgraph.domains.execution.configs import EvaluatorConfig, TaskConfig
from expgraph.domains.experiments.models import EvaluationExperiment, Experiment
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import json_object, optional_text, text
from expgraph.graphql.redact import refuse_secrets

FREE_FORM = {"invocation_parameters": "invocationParameters", "parameters": "parameters"}
"""The free-form parts of a config: any reader of the experiment sees them, so
secrets are refused there (``graphql.redact``: by name and by value)."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def validated(model: Any, values: dict[str, Any], field: str) -> Any:
    """``model`` from an input's values; a refusal names the GraphQL input field
    (``evaluatorConfigs[2].modelName``), as the client wrote it."""
    for key, name in FREE_FORM.items():
        refuse_secrets(values.get(key), f"{field}.{name}")
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field
        for part in first["loc"]:
            where += f"[{part}]" if isinstance(part, int) else f".{_camel(str(part))}"
        message = str(first["msg"])
        message = message[0].lower() + message[1:]
        raise BadRequest(f"{where}: {message}", field=where) from exc


async def _check_refs(session: AsyncSession, config: TaskConfig | EvaluatorConfig) -> None:
    if config.prompt_version_id is not None and not await session.get(
        models.PromptVersion, config.prompt_version_id
    ):
        raise NotFound("promptVersionId names no prompt version", field="promptVersionId")
    if config.custom_provider_id is not None and not await session.get(
        models.CustomProvider, config.custom_provider_id
    ):
        raise NotFound("customProviderId names no custom provider", field="customProviderId")


async def create_config(
    session: AsyncSession,
    experiment_id: int,
    task: TaskConfig,
    evaluators: list[EvaluatorConfig],
) -> models.ExecutionConfig:
    experiment = await session.get(Experiment, experiment_id)
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("experimentId names no experiment", field="experimentId")
    if not isinstance(experiment, EvaluationExperiment):
        raise BadRequest(
            f"only an EVALUATION experiment executes; this one is {experiment.kind.name}",
            field="experimentId",
        )
    if experiment.dataset_id is None or experiment.dataset_version_id is None:
        raise BadRequest(
            "the experiment needs a dataset and a dataset version first", field="experimentId"
        )
    if await session.get(models.ExecutionConfig, experiment_id) is not None:
        raise Conflict("the experiment already has an execution config", field="experimentId")
    names = [e.name for e in evaluators]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise BadRequest(
                f"evaluatorConfigs[{i}].name: another evaluator is named {name!r} already; "
                "names must be unique",
                field=f"evaluatorConfigs[{i}].name",
            )
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
        raise NotFound("this experiment has no execution config", field="experimentId")
    if any(e.name == evaluator.name for e in record.evaluator_configs):
        raise Conflict(
            f"evaluatorConfig.name: the config has an evaluator named {evaluator.name!r} already",
            field="evaluatorConfig.name",
        )
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
        raise NotFound("promptId names no prompt", field="promptId")
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
        raise NotFound("id names no custom provider", field="id")
    await session.delete(provider)
    await session.flush()
    return provider
