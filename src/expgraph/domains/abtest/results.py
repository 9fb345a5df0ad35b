"""An A/B test's results for one metric: per-variant sums in SQL, statistics in ``stats``.

A unit's value is the sum of the metric over its events that name the
experiment (``event_experiments``) and happened at or after its assignment;
an assigned unit without such events counts as 0. The database groups the
events per unit and then the units per variant, returning one row per variant
(units, units with the metric, sum of values, sum of squared values): nothing
proportional to the events or units is loaded into Python. The same statement
serves SQLite and PostgreSQL (the metric is read with SQLAlchemy's JSON
accessors: ``->>`` cast to float on PostgreSQL, ``json_extract`` on SQLite).
"""

from __future__ import annotations

from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.abtest.models import Assignment, Event, EventExperiment, Variant
from expgraph.domains.abtest.stats import (
    DEFAULT_SEQUENTIAL_TUNING,
    ExperimentResults,
    VariantSummary,
    analyze,
)

__all__ = ["experiment_results", "variant_summaries"]


async def variant_summaries(
    session: AsyncSession, experiment_id: int, metric: str
) -> dict[int, VariantSummary]:
    """Variant id -> summary of its units' values of ``metric`` (variants without units absent)."""
    value = Event.metrics[metric].as_float()
    per_unit = (
        select(
            Assignment.id.label("assignment_id"),
            cast(func.sum(value), Float).label("value"),
        )
        .join(
            Event,
            and_(
                Event.unit_type == Assignment.unit_type,
                Event.unit_id == Assignment.unit_id,
                Event.timestamp >= Assignment.assigned_at,
            ),
        )
        .join(
            EventExperiment,
            and_(
                EventExperiment.event_id == Event.id,
                EventExperiment.experiment_id == Assignment.experiment_id,
            ),
        )
        .where(Assignment.experiment_id == experiment_id, value.is_not(None))
        .group_by(Assignment.id)
        .subquery("per_unit")
    )
    statement = (
        select(
            Assignment.variant_id,
            func.count(Assignment.id),
            func.count(per_unit.c.value),
            func.coalesce(func.sum(per_unit.c.value), 0.0),
            func.coalesce(func.sum(per_unit.c.value * per_unit.c.value), 0.0),
        )
        .select_from(Assignment)
        .outerjoin(per_unit, per_unit.c.assignment_id == Assignment.id)
        .where(Assignment.experiment_id == experiment_id)
        .group_by(Assignment.variant_id)
    )
    rows = (await session.execute(statement)).all()
    return {
        variant_id: VariantSummary(
            units=units, total=total, sum_squares=squares, units_with_metric=with_metric
        )
        for variant_id, units, with_metric, total, squares in rows
    }


async def experiment_results(
    session: AsyncSession,
    experiment_id: int,
    metric: str,
    alpha: float = 0.05,
    sequential: bool = False,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
) -> tuple[list[Variant], ExperimentResults]:
    """The experiment's variants in position order and their results for ``metric``.

    The control is the variant flagged ``is_control`` (the first one when none
    is); the sample-ratio check uses the variants' allocations.
    """
    variants = list(
        (
            await session.scalars(
                select(Variant)
                .where(Variant.experiment_id == experiment_id)
                .order_by(Variant.position)
            )
        ).all()
    )
    summaries = await variant_summaries(session, experiment_id, metric) if variants else {}
    empty = VariantSummary(units=0, total=0.0, sum_squares=0.0)
    control_index = next((i for i, v in enumerate(variants) if v.is_control), 0)
    results = analyze(
        [summaries.get(v.id, empty) for v in variants],
        [v.allocation for v in variants],
        control_index,
        alpha,
        sequential,
        tuning,
    )
    return variants, results
