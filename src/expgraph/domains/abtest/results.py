"""An A/B test's results for one metric: per-variant sums in SQL, statistics in ``stats``.

A unit's value is the sum of the metric over its events that name the
experiment and happened at or after its assignment; an assigned unit without
such events counts as 0. Those per-unit sums are kept as the events arrive
(``unit_metric_sums``, written by ``recordEvents`` in the events' transaction,
recomputable from the events by ``aggregate.rebuild_unit_sums``), so results
read the experiment's assignments joined to one row per unit and metric, not
its events: one statement returning one row per variant (units, units with the
metric, sum of values, sum of squared values), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.abtest.models import Assignment, UnitMetricSum, Variant
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
    sums = UnitMetricSum
    statement = (
        select(
            Assignment.variant_id,
            func.count(Assignment.id),
            func.count(sums.unit_id),
            func.coalesce(func.sum(sums.total), 0.0),
            func.coalesce(func.sum(sums.total * sums.total), 0.0),
        )
        .select_from(Assignment)
        .outerjoin(
            sums,
            and_(
                sums.experiment_id == Assignment.experiment_id,
                sums.metric_name == metric,
                sums.unit_id == Assignment.unit_id,
            ),
        )
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
