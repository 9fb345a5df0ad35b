"""A/B test writes: variants (and their configs' references) and the rules of
an A/B test's status, checked through the experiments hub's kind hook.

Rules, in words:
- allocations are exact decimals from 0 to 1 with at most four places; an
  experiment's total never passes 1 (BAD_REQUEST);
- once an experiment has run (RUNNING, PAUSED or later), a variant's
  allocation may not shrink (CONFLICT unless ``force``: units already
  assigned keep their variant, but new units would split differently), and
  variants can no longer be deleted nor the control moved (CONFLICT);
- exactly one control: the first variant is the control by default; a new
  variant marked as control while one exists is refused (CONFLICT);
  updateVariant moves the control (before the first run only);
- DRAFT -> RUNNING needs a unit type, at least two variants, one control and a
  total allocation above 0 (at most 1); RUNNING <-> PAUSED; RUNNING or PAUSED
  -> COMPLETED; DRAFT, RUNNING or PAUSED -> CANCELLED; nothing leaves
  COMPLETED or CANCELLED (CONFLICT otherwise);
- the hash seed is the name at creation and is fixed once the experiment has run.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.abtest import configs, models
from expgraph.domains.abtest.alerts import sample_ratio_alerts as sample_ratio_alerts
from expgraph.domains.execution.models import PromptVersion
from expgraph.domains.experiments import hooks
from expgraph.domains.experiments.models import (
    AbTestExperiment,
    Experiment,
    ExperimentKind,
    ExperimentStatus,
)
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import optional_text, text
from expgraph.graphql.relay import model_pk

S = ExperimentStatus
NAME_MAX, DESCRIPTION_MAX = 255, 2000
NOT_RUN = frozenset({S.DRAFT, S.PENDING})
TRANSITIONS: dict[ExperimentStatus, frozenset[ExperimentStatus]] = {
    S.DRAFT: frozenset({S.RUNNING, S.CANCELLED}),
    S.PENDING: frozenset({S.DRAFT, S.RUNNING, S.CANCELLED}),
    S.RUNNING: frozenset({S.PAUSED, S.COMPLETED, S.CANCELLED}),
    S.PAUSED: frozenset({S.RUNNING, S.COMPLETED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
}
ONE = Decimal(1)
QUANTUM = Decimal("0.0001")


def has_run(experiment: Experiment) -> bool:
    """Whether the experiment has left its draft: assignments may exist."""
    return experiment.status not in NOT_RUN


def allocation(value: Any, field: str = "allocation") -> Decimal:
    """An exact share from 0 to 1 with at most four decimal places."""
    try:
        share = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise BadRequest(f"{field} must be a decimal number", field=field) from exc
    if not share.is_finite() or share < 0 or share > ONE:
        raise BadRequest(f"{field} must be from 0 to 1", field=field)
    if share != share.quantize(QUANTUM):
        raise BadRequest(f"{field} has at most four decimal places", field=field)
    return share.quantize(QUANTUM)


async def _ab_test(session: AsyncSession, experiment_id: int) -> AbTestExperiment:
    stmt = select(Experiment).where(Experiment.id == experiment_id).with_for_update()
    experiment = (await session.scalars(stmt)).first()
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("no experiment with that id", field="experimentId")
    if not isinstance(experiment, AbTestExperiment):
        raise BadRequest("variants belong to A/B tests only", field="experimentId")
    return experiment


async def _variants(session: AsyncSession, experiment_id: int) -> list[models.Variant]:
    stmt = (
        select(models.Variant)
        .where(models.Variant.experiment_id == experiment_id)
        .order_by(models.Variant.position)
    )
    return list((await session.scalars(stmt)).all())


async def _check_references(
    session: AsyncSession, raw: dict[str, Any], config: configs.VariantConfig
) -> None:
    """A config's policy and prompt versions exist; BAD_REQUEST naming the field."""
    legacy = "execution_strategy" not in raw and "policy_version_id" in raw
    checks = (
        (
            configs.policy_version_gid(config),
            models.PolicyVersion,
            "config.policyVersionId" if legacy else "config.mlflowModel.policyVersionId",
        ),
        (
            configs.prompt_version_gid(config),
            PromptVersion,
            "config.promptConfig.promptVersionId",
        ),
    )
    for gid, model, field in checks:
        if gid is None:
            continue
        try:
            pk = model_pk(gid, model)
        except BadRequest as exc:
            raise BadRequest(f"{field}: {exc.message}", field=field) from exc
        if await session.get(model, pk) is None:
            raise BadRequest(f"{field}: no {model.__name__} with id {gid!r}", field=field)


async def checked_config(session: AsyncSession, raw: Any) -> dict[str, Any]:
    data, config = configs.checked(raw)
    await _check_references(session, data, config)
    return data


def _total_ok(
    variants: list[models.Variant], changed: models.Variant | None, share: Decimal
) -> None:
    total = sum((v.allocation for v in variants if v is not changed), Decimal(0)) + share
    if total > ONE:
        raise BadRequest(
            f"the experiment's allocations would total {total}, more than 1",
            field="allocation",
        )


async def _name_free(
    session: AsyncSession, experiment_id: int, name: str, exclude: int | None
) -> None:
    stmt = select(models.Variant.id).where(
        models.Variant.experiment_id == experiment_id, models.Variant.name == name
    )
    if exclude is not None:
        stmt = stmt.where(models.Variant.id != exclude)
    if (await session.scalars(stmt.limit(1))).first() is not None:
        raise Conflict(f"the experiment already has a variant named {name!r}", field="name")


async def create_variant(
    session: AsyncSession, experiment_id: int, values: dict[str, Any]
) -> models.Variant:
    experiment = await _ab_test(session, experiment_id)
    if experiment.status in (S.COMPLETED, S.CANCELLED, S.FAILED):
        raise Conflict(f"the experiment is {experiment.status.name}", field="experimentId")
    name = text(values["name"], "name", max_length=NAME_MAX)
    description = optional_text(
        values.get("description"), "description", max_length=DESCRIPTION_MAX
    )
    share = allocation(values["allocation"])
    config = await checked_config(session, values.get("config") or {})
    variants = await _variants(session, experiment_id)
    _total_ok(variants, None, share)
    await _name_free(session, experiment_id, name, None)
    is_control = values.get("is_control")
    if is_control is None:
        is_control = not variants
    control = next((v for v in variants if v.is_control), None)
    if is_control and control is not None:
        raise Conflict(
            f"the experiment already has a control ({control.name!r}); to move it, set "
            "isControl on a variant with updateVariant",
            field="isControl",
        )
    position = max((v.position for v in variants), default=-1) + 1
    variant = models.Variant(
        experiment_id=experiment_id,
        name=name,
        description=description,
        allocation=share,
        config=config,
        position=position,
        is_control=bool(is_control),
    )
    session.add(variant)
    await session.flush()
    return variant


async def _move_control(
    session: AsyncSession, experiment: AbTestExperiment, to: models.Variant | None
) -> None:
    """Unmark the current control (before ``to`` is marked): before the first run only."""
    if has_run(experiment):
        raise Conflict("the control cannot change once the experiment has run", field="isControl")
    await session.execute(
        update(models.Variant)
        .where(models.Variant.experiment_id == experiment.id, models.Variant.is_control)
        .values(is_control=False)
        .execution_options(synchronize_session="fetch")
    )


async def _variant(
    session: AsyncSession, variant_id: int
) -> tuple[models.Variant, AbTestExperiment]:
    variant = await session.get(models.Variant, variant_id)
    if variant is None:
        raise NotFound("no variant with that id", field="id")
    experiment = await _ab_test(session, variant.experiment_id)
    await session.refresh(variant)
    return variant, experiment


async def update_variant(
    session: AsyncSession, variant_id: int, values: dict[str, Any], *, force: bool = False
) -> models.Variant:
    variant, experiment = await _variant(session, variant_id)
    if experiment.status in (S.COMPLETED, S.CANCELLED, S.FAILED):
        raise Conflict(f"the experiment is {experiment.status.name}", field="id")
    if "name" in values:
        if values["name"] is None:
            raise BadRequest("name cannot be null", field="name")
        name = text(values["name"], "name", max_length=NAME_MAX)
        await _name_free(session, experiment.id, name, variant.id)
        variant.name = name
    if "description" in values:
        variant.description = optional_text(
            values["description"], "description", max_length=DESCRIPTION_MAX
        )
    if "config" in values:
        variant.config = await checked_config(session, values["config"] or {})
    if values.get("allocation") is not None:
        share = allocation(values["allocation"])
        _total_ok(await _variants(session, experiment.id), variant, share)
        if share < variant.allocation and has_run(experiment) and not force:
            raise Conflict(
                "the experiment has run: shrinking a variant's allocation changes the split "
                "of new units; pass force: true to do it anyway",
                field="allocation",
            )
        variant.allocation = share
    if "is_control" in values and values["is_control"] is not None:
        if values["is_control"] and not variant.is_control:
            await _move_control(session, experiment, variant)
            variant.is_control = True
        elif not values["is_control"] and variant.is_control:
            raise BadRequest(
                "an experiment keeps one control: mark another variant as the control instead",
                field="isControl",
            )
    await session.flush()
    return variant


async def delete_variant(session: AsyncSession, variant_id: int) -> models.Variant:
    variant, experiment = await _variant(session, variant_id)
    if has_run(experiment):
        raise Conflict("variants cannot be deleted once the experiment has run", field="id")
    await session.delete(variant)
    await session.flush()
    if variant.is_control:
        rest = await _variants(session, experiment.id)
        if rest:
            rest[0].is_control = True
            await session.flush()
    return variant


async def check_ab_test(
    session: AsyncSession, values: MutableMapping[str, Any], stored: Experiment | None
) -> None:
    """The hub's kind check for A/B tests: hash seed and status rules."""
    if values.get("hash_seed") is not None:
        values["hash_seed"] = text(values["hash_seed"], "hashSeed", max_length=255)
    elif "hash_seed" in values:
        raise BadRequest("hashSeed cannot be null", field="hashSeed")
    if stored is None:
        values.setdefault("hash_seed", values.get("name"))
        status = values.get("status", S.DRAFT)
        if status not in NOT_RUN and status is not None:
            raise Conflict(
                f"an A/B test starts as a DRAFT: add its variants, then move it to {status.name}",
                field="status",
            )
        return
    assert isinstance(stored, AbTestExperiment)
    if "hash_seed" in values and values["hash_seed"] != stored.hash_seed and has_run(stored):
        raise Conflict("the hash seed is fixed once the experiment has run", field="hashSeed")
    status = values.get("status")
    if status is None or status == stored.status:
        return
    if status not in TRANSITIONS[stored.status]:
        raise Conflict(
            f"an A/B test cannot go from {stored.status.name} to {status.name}", field="status"
        )
    if status == S.RUNNING and stored.status in NOT_RUN:
        await _check_startable(session, stored, values)
        if stored.hash_seed is None and "hash_seed" not in values:
            values["hash_seed"] = stored.name  # rows written without one (the demo's)


async def _check_startable(
    session: AsyncSession, experiment: AbTestExperiment, values: MutableMapping[str, Any]
) -> None:
    unit_type = values.get("unit_type", experiment.unit_type)
    if unit_type is None:
        raise Conflict("an A/B test needs a unit type to run", field="abTest.unitType")
    row = (
        await session.execute(
            select(
                func.count(models.Variant.id),
                func.count(models.Variant.id).filter(models.Variant.is_control),
            ).where(models.Variant.experiment_id == experiment.id)
        )
    ).one()
    count, controls = int(row[0]), int(row[1])
    total = sum((v.allocation for v in await _variants(session, experiment.id)), Decimal(0))
    if count < 2:
        raise Conflict(
            f"an A/B test needs at least 2 variants to run; it has {count}", field="status"
        )
    if controls != 1:
        raise Conflict("an A/B test needs exactly one control variant to run", field="status")
    if not (0 < total <= ONE):
        raise Conflict(
            f"an A/B test's total allocation must be above 0 and at most 1 to run; it is {total}",
            field="status",
        )


hooks.check_kind(ExperimentKind.AB_TEST, check_ab_test)
