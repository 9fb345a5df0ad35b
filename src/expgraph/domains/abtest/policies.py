"""Policy and policy version writes.

- A policy's name is unique; a policy with versions cannot be deleted (CONFLICT).
- A new version's number is the policy's next integer: the policy's row is
  locked while it is chosen (FOR UPDATE on PostgreSQL; SQLite has one writer),
  so concurrent creates get 1, 2, 3... with no gap and no clash.
- Status: ACTIVE <-> DEPRECATED, either -> ARCHIVED, which is final; a version
  cannot be archived while a variant of a running experiment uses it (CONFLICT).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.abtest import models
from expgraph.domains.experiments.models import Experiment, ExperimentStatus
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import json_object, optional_text, text
from expgraph.graphql.relay import encode_id

V = models.PolicyVersionStatus
TRANSITIONS = {
    V.ACTIVE: {V.DEPRECATED, V.ARCHIVED},
    V.DEPRECATED: {V.ACTIVE, V.ARCHIVED},
    V.ARCHIVED: set(),
}


async def _name_free(session: AsyncSession, name: str, exclude: int | None) -> None:
    stmt = select(models.Policy.id).where(models.Policy.name == name)
    if exclude is not None:
        stmt = stmt.where(models.Policy.id != exclude)
    if (await session.scalars(stmt.limit(1))).first() is not None:
        raise Conflict(f"a policy named {name!r} already exists", field="name")


async def _policy(session: AsyncSession, pk: int, *, lock: bool = False) -> models.Policy:
    stmt = select(models.Policy).where(models.Policy.id == pk)
    if lock:
        stmt = stmt.with_for_update()
    policy = (await session.scalars(stmt)).first()
    if policy is None:
        raise NotFound("no policy with that id", field="policyId")
    return policy


async def create_policy(session: AsyncSession, values: dict[str, Any]) -> models.Policy:
    name = text(values["name"], "name", max_length=255)
    await _name_free(session, name, None)
    description = optional_text(values.get("description"), "description", max_length=2000)
    policy = models.Policy(name=name, description=description)
    session.add(policy)
    await session.flush()
    return policy


async def update_policy(session: AsyncSession, pk: int, values: dict[str, Any]) -> models.Policy:
    policy = await _policy(session, pk, lock=True)
    if "name" in values:
        if values["name"] is None:
            raise BadRequest("name cannot be null", field="name")
        policy.name = text(values["name"], "name", max_length=255)
        await _name_free(session, policy.name, pk)
    if "description" in values:
        policy.description = optional_text(values["description"], "description", max_length=2000)
    await session.flush()
    return policy


async def delete_policy(session: AsyncSession, pk: int) -> None:
    policy = await _policy(session, pk, lock=True)
    versions = await session.scalar(
        select(func.count()).where(models.PolicyVersion.policy_id == pk)
    )
    if versions:
        raise Conflict(f"the policy has {versions} version(s); it cannot be deleted", field="id")
    await session.delete(policy)
    await session.flush()


async def create_version(
    session: AsyncSession, policy_id: int, values: dict[str, Any]
) -> models.PolicyVersion:
    await _policy(session, policy_id, lock=True)
    last = await session.scalar(
        select(func.max(models.PolicyVersion.version)).where(
            models.PolicyVersion.policy_id == policy_id
        )
    )
    version = models.PolicyVersion(
        policy_id=policy_id,
        version=(last or 0) + 1,
        mlflow_model_name=text(values["mlflow_model_name"], "mlflowModelName", max_length=255),
        mlflow_model_version=text(
            values["mlflow_model_version"], "mlflowModelVersion", max_length=50
        ),
        config_defaults=json_object(values.get("config_defaults") or {}, "configDefaults"),
    )
    session.add(version)
    await session.flush()
    return version


def references(column: Any, global_id: str) -> Any:
    """Variants whose config names the policy version ``global_id``, in either format."""
    return or_(
        column["policy_version_id"].as_string() == global_id,
        column[("mlflow_model", "policy_version_id")].as_string() == global_id,
    )


async def update_version(
    session: AsyncSession, pk: int, values: dict[str, Any]
) -> models.PolicyVersion:
    stmt = select(models.PolicyVersion).where(models.PolicyVersion.id == pk).with_for_update()
    version = (await session.scalars(stmt)).first()
    if version is None:
        raise NotFound("no policy version with that id", field="id")
    status = values.get("status")
    if status is not None and status != version.status:
        if status not in TRANSITIONS[version.status]:
            raise Conflict(
                f"a policy version cannot go from {version.status.name} to {status.name}",
                field="status",
            )
        if status == V.ARCHIVED:
            running = await session.scalar(
                select(func.count())
                .select_from(models.Variant)
                .join(Experiment, Experiment.id == models.Variant.experiment_id)
                .where(
                    Experiment.status == ExperimentStatus.RUNNING,
                    Experiment.deleted_at.is_(None),
                    references(models.Variant.config, encode_id("PolicyVersion", pk)),
                )
            )
            if running:
                raise Conflict(
                    "a variant of a running experiment uses this policy version", field="status"
                )
        version.status = status
    if "config_defaults" in values:
        version.config_defaults = json_object(values["config_defaults"] or {}, "configDefaults")
    await session.flush()
    return version


SCORES = (
    "plan_alignment_score",
    "constraint_respect_score",
    "edit_distance_score",
    "diversity_score",
    "leftovers_score",
)
SCORE_LIMIT = Decimal(10_000)  # Numeric(10, 6): below 10^4 in absolute value, six places


def score(value: Any, field: str) -> Decimal | None:
    if value is None:
        return None
    exact = Decimal(str(value))
    if not exact.is_finite() or abs(exact) >= SCORE_LIMIT:
        raise BadRequest(f"{field} must be below 10,000 in absolute value", field=field)
    if exact != exact.quantize(Decimal("0.000001")):
        raise BadRequest(f"{field} has at most six decimal places", field=field)
    return exact


async def record_replay(
    session: AsyncSession, version_id: int, baseline_id: int | None, values: dict[str, Any]
) -> models.OfflineReplayResult:
    if await session.get(models.PolicyVersion, version_id) is None:
        raise NotFound("no policy version with that id", field="policyVersionId")
    if baseline_id is not None:
        if baseline_id == version_id:
            raise BadRequest("a version is not its own baseline", field="baselineVersionId")
        if await session.get(models.PolicyVersion, baseline_id) is None:
            raise NotFound("no policy version with that id", field="baselineVersionId")
    status = values.get("status") or models.ReplayStatus.COMPLETED
    error = optional_text(values.get("error_message"), "errorMessage", max_length=10_000)
    if status == models.ReplayStatus.FAILED and not error:
        raise BadRequest("a FAILED replay needs its errorMessage", field="errorMessage")
    result = models.OfflineReplayResult(
        policy_version_id=version_id,
        baseline_version_id=baseline_id,
        dataset_version=text(values["dataset_version"], "datasetVersion", max_length=255),
        mlflow_run_id=optional_text(values.get("mlflow_run_id"), "mlflowRunId", max_length=255),
        is_better_than_baseline=values.get("is_better_than_baseline"),
        status=status,
        error_message=error,
        **{name: score(values.get(name), _camel(name)) for name in SCORES},
    )
    session.add(result)
    await session.flush()
    return result


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
