"""Metric aggregates: count, sum, mean, min, max and sample standard deviation
of each metric per (experiment, variant, metric) and hourly or daily bucket of
the events' timestamps (UTC), computed in SQL (one ``INSERT ... SELECT ... ON
CONFLICT DO UPDATE`` per bucket type) into ``metric_aggregates``.

Incremental: a run recomputes, whole, only the buckets that received events
since the previous run. The watermark is the last run's time, read back from
the aggregates it wrote (``metric_aggregates.created_at``, set to the database
clock at every write); events whose ingestion time (``events.created_at``) is
after it, less ``LAG`` (a batch ingested while the last run read, committed after
it, is then still seen), mark their experiment's bucket of their timestamp
dirty. A dirty bucket is recomputed from all its events, so an incremental run
leaves exactly what a rebuild from scratch (``rebuild=True``: delete all, then
aggregate every bucket) leaves. A rebuild also recomputes ``unit_metric_sums``
(the per-unit sums results read, kept by ``recordEvents``) from the events:
``rebuild_unit_sums``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Float, and_, cast, delete, func, insert, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.dialect import (
    json_number_entries,
    sample_stddev,
    truncate_time,
    try_transaction_lock,
    upsert_from_select,
)
from expgraph.db.types import utcnow
from expgraph.domains.abtest import models

logger = logging.getLogger(__name__)

LAG = timedelta(minutes=5)
"""How far before the last run's time events are looked at again."""
UNITS = {models.BucketType.HOURLY: "hour", models.BucketType.DAILY: "day"}
STATS = ("count", "sum", "mean", "min", "max", "stddev")
LOCK = 0x61627465  # one run at a time across processes (serve's workers, the CLI)


@dataclass(frozen=True)
class Aggregated:
    since: datetime | None  # None: every bucket (a rebuild or the first run)
    rows: int  # aggregate rows written (both bucket types)
    skipped: bool = False  # another run was under way: nothing done
    unit_sums: int = 0  # unit_metric_sums rows recomputed (a rebuild only)


async def watermark(session: AsyncSession) -> datetime | None:
    """When the last run wrote aggregates; None when none exist."""
    last: datetime | None = (
        await session.execute(select(func.max(models.MetricAggregate.created_at)))
    ).scalar_one()
    return last


def _upsert(dialect: str, bucket_type: models.BucketType, since: datetime | None) -> Any:
    events, links = models.Event.__table__, models.EventExperiment.__table__
    aggregates = models.MetricAggregate.__table__
    start = truncate_time(dialect, events.c.timestamp, UNITS[bucket_type]).label("bucket_start")
    entries, name, value = json_number_entries(dialect, events.c.metrics, "metric")
    source = events.join(links, links.c.event_id == events.c.id).join(entries, true())
    stmt = select(
        links.c.experiment_id,
        links.c.variant_id,
        name.label("metric_name"),
        literal(bucket_type.value).label("bucket_type"),
        start,
        func.count(value).label("count"),
        func.sum(value).label("sum"),
        func.avg(value).label("mean"),
        func.min(value).label("min"),
        func.max(value).label("max"),
        sample_stddev(dialect, value).label("stddev"),
        utcnow().label("created_at"),
    ).select_from(source)
    if since is None:
        stmt = stmt.where(true())  # SQLite: an upsert's SELECT needs a WHERE
    else:
        dirty_start = truncate_time(dialect, events.c.timestamp, UNITS[bucket_type])
        dirty = (
            select(links.c.experiment_id, dirty_start.label("bucket_start"))
            .select_from(events.join(links, links.c.event_id == events.c.id))
            .where(events.c.created_at >= since)
            .distinct()
            .subquery("dirty")
        )
        stmt = stmt.join(
            dirty,
            and_(
                dirty.c.experiment_id == links.c.experiment_id,
                dirty.c.bucket_start
                == truncate_time(dialect, events.c.timestamp, UNITS[bucket_type]),
            ),
        ).where(true())
    stmt = stmt.group_by(links.c.experiment_id, links.c.variant_id, name, start)
    columns = [
        "experiment_id",
        "variant_id",
        "metric_name",
        "bucket_type",
        "bucket_start",
        *STATS,
        "created_at",
    ]
    return upsert_from_select(
        dialect,
        aggregates,  # type: ignore[arg-type]
        columns,
        stmt,
        ("experiment_id", "variant_id", "metric_name", "bucket_type", "bucket_start"),
        (*STATS, "created_at"),
    )


async def rebuild_unit_sums(
    session: AsyncSession, dialect: str, experiment_ids: Sequence[int] | None = None
) -> int:
    """Recompute ``unit_metric_sums`` from the events (of these experiments; of all
    when None): per experiment, metric and assigned unit, the sum and count of the
    metric over the unit's events that name the experiment and happened at or after
    its assignment. What ``recordEvents`` keeps incrementally, computed from scratch:
    for events written outside the API (the demo, bulk loads) and to check the table.
    Returns the rows written."""
    events, links = models.Event.__table__, models.EventExperiment.__table__
    assignments, sums = models.Assignment.__table__, models.UnitMetricSum
    entries, name, value = json_number_entries(dialect, events.c.metrics, "metric")
    source = (
        events.join(links, links.c.event_id == events.c.id)
        .join(
            assignments,
            and_(
                assignments.c.experiment_id == links.c.experiment_id,
                assignments.c.unit_type == events.c.unit_type,
                assignments.c.unit_id == events.c.unit_id,
                events.c.timestamp >= assignments.c.assigned_at,
            ),
        )
        .join(entries, true())
    )
    rows = select(
        links.c.experiment_id,
        name.label("metric_name"),
        assignments.c.unit_id,
        cast(func.sum(value), Float).label("total"),
        func.count(value).label("events"),
    ).select_from(source)
    clear = delete(sums)
    if experiment_ids is not None:
        rows = rows.where(links.c.experiment_id.in_(list(experiment_ids)))
        clear = clear.where(sums.experiment_id.in_(list(experiment_ids)))
    rows = rows.group_by(links.c.experiment_id, name, assignments.c.unit_id)
    await session.execute(clear)
    result = await session.execute(
        insert(sums).from_select(
            ["experiment_id", "metric_name", "unit_id", "total", "events"], rows
        )
    )
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]


async def aggregate(session: AsyncSession, dialect: str, *, rebuild: bool = False) -> Aggregated:
    """Fill ``metric_aggregates`` for the buckets with new events (all with ``rebuild``);
    skipped when another run holds the lock (several ``serve`` workers tick together)."""
    since: datetime | None = None
    if not await try_transaction_lock(session, dialect, LOCK):
        return Aggregated(since=None, rows=0, skipped=True)
    if rebuild:
        await session.execute(delete(models.MetricAggregate))
    else:
        last = await watermark(session)
        since = None if last is None else last - LAG
    written = 0
    for bucket_type in UNITS:
        result = await session.execute(_upsert(dialect, bucket_type, since))
        written += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
    if rebuild:
        unit_sums = await rebuild_unit_sums(session, dialect)
        return Aggregated(since=since, rows=written, unit_sums=unit_sums)
    return Aggregated(since=since, rows=written)


async def run_periodically(database: Any, interval_seconds: float) -> None:
    """Aggregate every ``interval_seconds`` until cancelled (``serve``'s task);
    a failed run is logged and retried at the next tick."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            async with database.transaction() as session:
                done = await aggregate(session, database.dialect)
            logger.info("A/B aggregates: %d rows written since %s", done.rows, done.since)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("A/B aggregation failed; retrying in %s s", interval_seconds)
