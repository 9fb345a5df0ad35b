"""Experiment writes: create, update, soft delete, restore.

Kind-specific fields arrive as one block named after the kind; the block of
another kind is refused. Names are unique among experiments not deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.outbox import EventType, emit
from expgraph.db.types import utcnow
from expgraph.domains.experiments import hooks, models
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import (
    article,
    given,
    graphql_name,
    json_object,
    optional_text,
    positive,
    text,
    values_given,
)

E = models.Experiment
KindKey = models.ExperimentKind

# The input block that carries each kind's own fields.
BLOCK_OF_KIND: Mapping[KindKey, str] = {
    KindKey.EVALUATION: "evaluation",
    KindKey.AB_TEST: "ab_test",
    KindKey.SIMULATION: "simulation",
    KindKey.TRAINING: "training",
    KindKey.RESEARCH: "research",
}
# Fields a kind cannot be created without (nor have removed later): a simulation's
# master seed (required to reproduce its runs), a research experiment's hypothesis
# and what an A/B test assigns.
REQUIRED_AT_CREATION: Mapping[KindKey, tuple[str, ...]] = {
    KindKey.AB_TEST: ("unit_type",),
    KindKey.SIMULATION: ("master_seed",),
    KindKey.RESEARCH: ("hypothesis",),
}
TEXT_LIMITS = {
    "hypothesis": 500,
    "simulation_type": 100,
    "scenario_path": 500,
    "convergence_reason": 255,
    "model_type": 100,
    "model_path": 500,
    "onnx_path": 500,
    "results_dir": 500,
    "notes": 100_000,
}
NON_NEGATIVE = ("repetitions", "num_iterations", "best_epoch", "total_epochs")
# Money (integer cents) is never negative: column -> input field.
COSTS = {"final_cost": "finalCost", "best_cost": "bestCost"}
JSON_OBJECTS = ("hyperparameters", "metrics", "scorecard_data")
NAME_MAX, DESCRIPTION_MAX = 255, 2000


def model_for(kind: KindKey) -> type[models.Experiment]:
    return E.__mapper__.polymorphic_map[kind].class_


def _present(block: Any) -> bool:
    return given(block) and block is not None


def kind_values(kind: KindKey, blocks: Any, *, creating: bool) -> dict[str, Any]:
    """Column values from the kind's block, checked; BAD_REQUEST for another kind's."""
    own = BLOCK_OF_KIND[kind]
    for other in BLOCK_OF_KIND.values():
        if other != own and _present(getattr(blocks, other)):
            raise BadRequest(
                f"the {graphql_name(other)} block does not apply to {article(kind.name)} "
                f"{kind.name} experiment",
                field=graphql_name(other),
            )
    block = getattr(blocks, own)
    values = values_given(block) if _present(block) else {}
    if creating:
        missing = [
            f"{graphql_name(own)}.{graphql_name(f)}"
            for f in REQUIRED_AT_CREATION.get(kind, ())
            if values.get(f) is None
        ]
        if missing:
            raise BadRequest(
                f"{article(kind.name)} {kind.name} experiment needs {', '.join(missing)}",
                field=graphql_name(own),
            )
    for field, limit in TEXT_LIMITS.items():
        if field in values:
            values[field] = optional_text(values[field], field, max_length=limit)
    for field in NON_NEGATIVE:
        if field in values:
            positive(values[field], field, allow_zero=True)
    if (values.get("repetitions") or 0) > models.MAX_REPETITIONS:
        raise BadRequest(
            f"repetitions must be at most {models.MAX_REPETITIONS:,}", field="repetitions"
        )
    for field, name in COSTS.items():
        if (values.get(field) or 0) < 0:
            raise BadRequest(f"{name} must be >= 0 (integer cents)", field=name)
    for field in JSON_OBJECTS:
        if values.get(field) is not None:
            json_object(values[field], field)
    if not creating:
        for field in REQUIRED_AT_CREATION.get(kind, ()):
            if field in values and values[field] is None:
                name = f"{graphql_name(own)}.{graphql_name(field)}"
                raise BadRequest(f"{name} cannot be removed", field=graphql_name(field))
    return values


def _check_window(values: Mapping[str, Any], stored: Any = None) -> None:
    """An A/B test ends no earlier than it starts; a field not given is the
    stored one (an update may move only one end)."""
    start, end = (
        values[f] if f in values else getattr(stored, f, None) for f in ("start_at", "end_at")
    )
    if start is not None and end is not None and end < start:
        raise BadRequest(
            "endAt must not be before startAt",
            field="endAt" if "end_at" in values else "startAt",
            fields=["startAt", "endAt"],
        )


def common_values(data: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if "name" in values:
        if values["name"] is None:
            raise BadRequest("name cannot be null", field="name")
        values["name"] = text(values["name"], "name", max_length=NAME_MAX)
    if "description" in values:
        values["description"] = optional_text(
            values["description"], "description", max_length=DESCRIPTION_MAX
        )
    if "status" in values and values["status"] is None:
        raise BadRequest("status cannot be null", field="status")
    for field in ("config", "metadata_"):
        if field in values:
            values[field] = json_object(values[field], field.rstrip("_"))
    return values


async def _check_name_free(session: AsyncSession, name: str, exclude_id: int | None) -> None:
    stmt = select(E.id).where(E.name == name, E.deleted_at.is_(None))
    if exclude_id is not None:
        stmt = stmt.where(E.id != exclude_id)
    if (await session.scalars(stmt.limit(1))).first() is not None:
        raise Conflict(f"an experiment named {name!r} already exists", field="name")


async def create(
    session: AsyncSession,
    dialect: str,
    *,
    kind: KindKey,
    common: Mapping[str, Any],
    blocks: Any,
    created_by: int | None,
) -> models.Experiment:
    values = {**common_values(common), **kind_values(kind, blocks, creating=True)}
    _check_window(values)
    await hooks.run_kind_checks(session, kind, values, None)
    await _check_name_free(session, values["name"], None)
    experiment = model_for(kind)(**values, created_by=created_by)
    session.add(experiment)
    await session.flush()
    await hooks.run_created(session, dialect, experiment, blocks, created_by)
    return experiment


async def get_live(
    session: AsyncSession, pk: int, *, for_update: bool = False
) -> models.Experiment:
    stmt = select(E).where(E.id == pk)
    if for_update:
        stmt = stmt.with_for_update()
    experiment = (await session.scalars(stmt)).first()
    if experiment is None:
        raise NotFound("no experiment with that id")
    return experiment


async def update_experiment(
    session: AsyncSession, dialect: str, pk: int, common: Mapping[str, Any], blocks: Any
) -> models.Experiment:
    experiment = await get_live(session, pk, for_update=True)
    if experiment.deleted_at is not None:
        raise NotFound("the experiment is deleted; restore it first")
    values = {**common_values(common), **kind_values(experiment.kind, blocks, creating=False)}
    _check_window(values, experiment)
    await hooks.run_kind_checks(session, experiment.kind, values, experiment)
    if "name" in values:
        await _check_name_free(session, values["name"], experiment.id)
    old_status = experiment.status
    for column, value in values.items():
        setattr(experiment, column, value)
    await session.flush()
    await _emit_status_event(session, experiment, old_status)
    return experiment


# Statuses users are notified of (the outbox event's type and payload are
# documented in domains/notifications/events.py; the hub imports only db/).
_STATUS_EVENTS = {
    models.ExperimentStatus.COMPLETED: EventType.EXPERIMENT_COMPLETED,
    models.ExperimentStatus.FAILED: EventType.EXPERIMENT_FAILED,
}


async def _emit_status_event(
    session: AsyncSession, experiment: models.Experiment, old: models.ExperimentStatus
) -> None:
    """An outbox event, in this transaction, when the status became COMPLETED or FAILED."""
    new = experiment.status
    if new == old or new not in _STATUS_EVENTS:
        return
    await emit(
        session,
        _STATUS_EVENTS[new],
        {
            "experiment_id": experiment.id,
            "name": experiment.name,
            "kind": experiment.kind.value,
            "old_status": old.value,
            "new_status": new.value,
        },
        user_id=experiment.created_by,
    )


async def set_deleted(session: AsyncSession, pk: int, *, deleted: bool) -> models.Experiment:
    """Soft delete or restore; doing either twice changes nothing."""
    experiment = await get_live(session, pk, for_update=True)
    if (experiment.deleted_at is not None) == deleted:
        return experiment
    if not deleted:
        await _check_name_free(session, experiment.name, experiment.id)
    await session.execute(
        update(E)
        .where(E.id == pk)
        .values(deleted_at=utcnow() if deleted else None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await hooks.run_deleted_or_restored(session, pk, deleted)
    await session.refresh(experiment)
    return experiment
