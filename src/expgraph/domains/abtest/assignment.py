"""Assigning units to variants: deterministic (GrowthBook's bucketing of the
experiment's hash seed and the unit id, ``hashing.assign_variant``), sticky (a
stored assignment is returned as it is, whatever the allocations say now) and
safe under concurrency (``INSERT ... ON CONFLICT DO NOTHING`` on the unique
(experiment, unit), then a read: racing calls store one row and agree).

Only a RUNNING experiment inside its start/end window (the database clock)
assigns; otherwise CONFLICT with a ``reason``: NOT_RUNNING, NOT_STARTED or
ENDED. A unit outside every bucket range is not in the experiment: nothing is
stored and the answer is None.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.dialect import insert_ignoring_conflicts
from expgraph.db.types import utcnow
from expgraph.domains.abtest import hashing, models
from expgraph.domains.experiments.models import (
    AbTestExperiment,
    ExperimentStatus,
    UnitType,
)
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.errors import BadRequest, Conflict, NotFound

MAX_EXPERIMENTS = 100
"""At most this many experiments in one assignUnits call."""
UNIT_ID_MAX = 255


class NotAssigning(enum.Enum):
    """Why an experiment does not assign units now (the CONFLICT's ``reason``)."""

    NOT_RUNNING = "NOT_RUNNING"
    NOT_STARTED = "NOT_STARTED"
    ENDED = "ENDED"


@dataclass(frozen=True)
class Arm:
    """What bucketing needs of a variant."""

    id: int
    allocation: Decimal
    row: models.Variant | None = field(default=None, compare=False)
    """The variant's row when it was read whole (``load_for_unit``)."""


def why_not_assigning(experiment: AbTestExperiment, now: datetime) -> NotAssigning | None:
    """None when the experiment assigns units at ``now`` (database clock)."""
    if experiment.status is not ExperimentStatus.RUNNING:
        return NotAssigning.NOT_RUNNING
    if experiment.start_at is not None and now < experiment.start_at:
        return NotAssigning.NOT_STARTED
    if experiment.end_at is not None and now >= experiment.end_at:
        return NotAssigning.ENDED
    return None


def refuse(experiment: AbTestExperiment, reason: NotAssigning, field: str) -> Conflict:
    """The CONFLICT for an experiment that does not assign now."""
    status = experiment.status.name
    if reason is NotAssigning.NOT_STARTED:
        message = f"experiment {experiment.name!r} ({status}) starts at {experiment.start_at}"
    elif reason is NotAssigning.ENDED:
        message = f"experiment {experiment.name!r} ({status}) ended at {experiment.end_at}"
    else:
        message = (
            f"experiment {experiment.name!r} is {status}: only a RUNNING experiment assigns units"
        )
    return Conflict(message, reason=reason.value, field=field)


def bucket(experiment: AbTestExperiment, arms: Sequence[Arm], unit_id: str) -> int | None:
    """The variant id GrowthBook's SDK gives ``unit_id`` (arms in position order)."""
    if not arms:
        return None
    index = hashing.assign_variant(
        experiment.hash_seed or experiment.name, unit_id, [a.allocation for a in arms]
    )
    return None if index is None else arms[index].id


async def database_now(session: AsyncSession) -> datetime:
    now: datetime = (await session.execute(select(utcnow()))).scalar_one()
    return now


def _chosen(ids: Sequence[int] | None, unit_type: UnitType | None) -> ColumnElement[bool]:
    """Live A/B experiments: the given ids, or every RUNNING one of ``unit_type``
    when ``ids`` is None."""
    if ids is None:
        return and_(
            AbTestExperiment.deleted_at.is_(None),
            AbTestExperiment.status == ExperimentStatus.RUNNING,
            AbTestExperiment.unit_type == unit_type,
        )
    return and_(AbTestExperiment.deleted_at.is_(None), AbTestExperiment.id.in_(set(ids)))


async def load_experiments(
    session: AsyncSession, ids: Sequence[int] | None, unit_type: UnitType | None = None
) -> tuple[dict[int, AbTestExperiment], datetime]:
    """A/B experiments (not deleted) by id with the database clock, in one statement:
    the given ids, or every RUNNING one of ``unit_type`` when ``ids`` is None."""
    stmt = select(AbTestExperiment, utcnow().label("now")).where(_chosen(ids, unit_type))
    rows = (await session.execute(stmt)).all()
    now = rows[0].now if rows else await database_now(session)
    return {row[0].id: row[0] for row in rows}, now


async def load_for_unit(
    session: AsyncSession,
    ids: Sequence[int] | None,
    unit_type: UnitType | None,
    unit_id: str,
) -> tuple[
    dict[int, AbTestExperiment], datetime, dict[int, list[Arm]], dict[int, models.Assignment]
]:
    """What assigning one unit needs, in one statement: the A/B experiments (not
    deleted; the given ids, or every RUNNING one of ``unit_type`` when ``ids`` is
    None) with the database clock, each one's variants in position order, and the
    unit's stored assignment in each (one row per variant)."""
    stmt = (
        select(
            AbTestExperiment,
            utcnow().label("now"),
            models.Variant,
            models.Assignment,
        )
        .outerjoin(models.Variant, models.Variant.experiment_id == AbTestExperiment.id)
        .outerjoin(
            models.Assignment,
            and_(
                models.Assignment.experiment_id == AbTestExperiment.id,
                models.Assignment.unit_id == unit_id,
            ),
        )
        .where(_chosen(ids, unit_type))
        .order_by(AbTestExperiment.id, models.Variant.position)
    )
    rows = (await session.execute(stmt)).all()
    now = rows[0].now if rows else await database_now(session)
    experiments: dict[int, AbTestExperiment] = {}
    arms: dict[int, list[Arm]] = {}
    have: dict[int, models.Assignment] = {}
    for experiment, _, variant, stored_one in rows:
        experiments[experiment.id] = experiment
        found = arms.setdefault(experiment.id, [])
        if variant is not None:
            found.append(Arm(variant.id, Decimal(variant.allocation), variant))
        if stored_one is not None:
            have[experiment.id] = stored_one
    return experiments, now, arms, have


async def load_arms(session: AsyncSession, experiment_ids: Sequence[int]) -> dict[int, list[Arm]]:
    """Each experiment's variants in position order (one statement)."""
    arms: dict[int, list[Arm]] = {e: [] for e in experiment_ids}
    if not experiment_ids:
        return arms
    stmt = (
        select(models.Variant.experiment_id, models.Variant.id, models.Variant.allocation)
        .where(models.Variant.experiment_id.in_(set(experiment_ids)))
        .order_by(models.Variant.experiment_id, models.Variant.position)
    )
    for experiment_id, variant_id, share in (await session.execute(stmt)).all():
        arms[experiment_id].append(Arm(variant_id, Decimal(share)))
    return arms


async def stored(
    session: AsyncSession, experiment_ids: Sequence[int], unit_ids: Sequence[str]
) -> dict[tuple[int, str], models.Assignment]:
    """Stored assignments of these units in these experiments (one statement)."""
    if not experiment_ids or not unit_ids:
        return {}
    stmt = select(models.Assignment).where(
        models.Assignment.experiment_id.in_(set(experiment_ids)),
        models.Assignment.unit_id.in_(set(unit_ids)),
    )
    return {(a.experiment_id, a.unit_id): a for a in (await session.scalars(stmt)).all()}


async def store(
    session: AsyncSession,
    dialect: str,
    rows: Sequence[dict[str, object]],
) -> dict[tuple[int, str], models.Assignment]:
    """Insert new assignments, leaving any stored meanwhile as they are, and read
    back what is stored for them (two statements whatever the number)."""
    if not rows:
        return {}
    table = models.Assignment.__table__
    await session.execute(
        insert_ignoring_conflicts(dialect, table, list(rows), ("experiment_id", "unit_id"))  # type: ignore[arg-type]
    )
    experiment_ids = [int(str(r["experiment_id"])) for r in rows]
    unit_ids = [str(r["unit_id"]) for r in rows]
    return await stored(session, experiment_ids, unit_ids)


async def insert_new(
    session: AsyncSession, dialect: str, rows: Sequence[dict[str, object]]
) -> dict[int, models.Assignment]:
    """Insert one unit's new assignments, leaving any stored meanwhile as they are
    (one statement, RETURNING only the rows this call inserted), by experiment."""
    if not rows:
        return {}
    stmt = insert_ignoring_conflicts(
        dialect,
        models.Assignment,  # type: ignore[arg-type]
        None,
        ("experiment_id", "unit_id"),
    ).returning(models.Assignment)
    found = (await session.scalars(stmt, list(rows))).all()
    return {a.experiment_id: a for a in found}


def _unit_id(unit_id: str, field: str = "unitId") -> str:
    if not unit_id or not unit_id.strip():
        raise BadRequest(f"{field} must not be empty", field=field)
    if len(unit_id) > UNIT_ID_MAX:
        raise BadRequest(f"{field} is at most {UNIT_ID_MAX} characters", field=field)
    return unit_id


def _check_unit_type(experiment: AbTestExperiment, unit_type: UnitType, field: str) -> None:
    if experiment.unit_type is not unit_type:
        wanted = experiment.unit_type.name if experiment.unit_type else "none"
        raise BadRequest(
            f"experiment {experiment.name!r} assigns {wanted} units, not {unit_type.name}",
            field=field,
        )


async def assign_unit(
    session: AsyncSession, dialect: str, experiment_id: int, unit_type: UnitType, unit_id: str
) -> tuple[models.Assignment | None, bool, dict[type, dict[int, object]]]:
    """The unit's assignment in one experiment, stored on first call; None when
    the unit falls outside every bucket range (nothing stored). The flag says
    whether this call stored it (what subscribers of the counts need to hear), and
    the experiment and variant rows read (``_read``)."""
    unit_id = _unit_id(unit_id)
    experiments, now, arms, have = await load_for_unit(session, [experiment_id], None, unit_id)
    experiment = experiments.get(experiment_id)
    if experiment is None:
        raise NotFound("no A/B experiment with that id", field="experimentId")
    found, new = await _assign(
        session, dialect, [experiment], now, arms, have, unit_type, unit_id, "experimentId"
    )
    return found.get(experiment_id), experiment_id in new, _read(experiments, arms)


async def assign_units(
    session: AsyncSession,
    dialect: str,
    unit_type: UnitType,
    unit_id: str,
    experiment_ids: Sequence[int] | None,
) -> tuple[list[models.Assignment], set[int], dict[type, dict[int, object]]]:
    """The unit's assignments in the given experiments (in their order), or in
    every RUNNING A/B experiment of its unit type inside its window when none are
    given (in id order), the ids of the experiments this call stored one in, and
    the experiment and variant rows read (``_read``).
    Units outside an experiment's ranges are left out."""
    unit_id = _unit_id(unit_id)
    if experiment_ids is not None:
        if len(experiment_ids) > MAX_EXPERIMENTS:
            raise BadRequest(
                f"at most {MAX_EXPERIMENTS} experimentIds per call", field="experimentIds"
            )
        experiments, now, arms, have = await load_for_unit(session, experiment_ids, None, unit_id)
        chosen = []
        for i, pk in enumerate(dict.fromkeys(experiment_ids)):
            if pk not in experiments:
                raise NotFound("no A/B experiment with that id", field=f"experimentIds[{i}]")
            chosen.append(experiments[pk])
        field = "experimentIds"
    else:
        experiments, now, arms, have = await load_for_unit(session, None, unit_type, unit_id)
        chosen = [e for _, e in sorted(experiments.items()) if why_not_assigning(e, now) is None][
            :MAX_EXPERIMENTS
        ]
        field = "unitType"
    found, new = await _assign(session, dialect, chosen, now, arms, have, unit_type, unit_id, field)
    assignments = [found[e.id] for e in chosen if e.id in found]
    return assignments, new, _read(experiments, arms)


def _read(
    experiments: dict[int, AbTestExperiment], arms: dict[int, list[Arm]]
) -> dict[type, dict[int, object]]:
    """The experiment and variant rows read, by model and id: the rows an answer's
    ``experiment`` and ``variant`` fields show (their loaders need not read them
    again)."""
    variants = {a.id: a.row for found in arms.values() for a in found if a.row is not None}
    return {ExperimentRecord: dict(experiments), models.Variant: dict(variants)}


async def _assign(
    session: AsyncSession,
    dialect: str,
    experiments: Sequence[AbTestExperiment],
    now: datetime,
    arms: dict[int, list[Arm]],
    stored_now: dict[int, models.Assignment],
    unit_type: UnitType,
    unit_id: str,
    field: str,
) -> tuple[dict[int, models.Assignment], set[int]]:
    """The stored or new assignment per experiment (``arms`` and the unit's
    ``stored_now`` assignments as ``load_for_unit`` read them), and the
    experiments whose assignment this call inserted (or raced another call
    inserting it)."""
    for experiment in experiments:
        reason = why_not_assigning(experiment, now)
        if reason is not None:
            raise refuse(experiment, reason, field)
        _check_unit_type(experiment, unit_type, "unitType")
    ids = [e.id for e in experiments]
    if not ids:
        return {}, set()
    have = {e: a for e, a in stored_now.items() if e in set(ids)}
    missing = [e for e in experiments if e.id not in have]
    if not missing:
        return have, set()
    rows: list[dict[str, object]] = []
    for experiment in missing:
        variant_id = bucket(experiment, arms[experiment.id], unit_id)
        if variant_id is not None:
            rows.append(
                {
                    "experiment_id": experiment.id,
                    "unit_type": unit_type,
                    "unit_id": unit_id,
                    "variant_id": variant_id,
                }
            )
    inserted = await insert_new(session, dialect, rows)
    raced = [r for r in rows if int(str(r["experiment_id"])) not in inserted]
    # (a row another call stored since the read above: read it back, never overwrite)
    written = await stored(session, [int(str(r["experiment_id"])) for r in raced], [unit_id])
    return (
        have | inserted | {e: a for (e, _), a in written.items()},
        set(inserted) | {e for (e, _) in written},
    )
