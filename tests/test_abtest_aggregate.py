"""Metric aggregates (issue 15) on both databases: hourly and daily count, sum,
mean, min, max and sample stddev per (experiment, variant, metric) equal a
direct computation; an incremental run (only buckets with new events, late
events for an old bucket included) leaves exactly what a rebuild leaves; the
`expgraph abtest aggregate` command and serve's periodic task run it."""

from __future__ import annotations

import asyncio
import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update

from expgraph.domains.abtest import aggregate, hashing, models
from expgraph.graphql.relay import decode_id
from tests.abtest_helpers import ab_test, event, record
from tests.test_cli import expgraph

STATS = ("count", "sum", "mean", "min", "max", "stddev")


async def _rows(db) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    async with db.transaction() as session:
        found = (await session.scalars(select(models.MetricAggregate))).all()
        return {
            (
                r.experiment_id,
                r.variant_id,
                r.metric_name,
                r.bucket_type.value,
                r.bucket_start.astimezone(UTC),
            ): tuple(getattr(r, s) for s in STATS)
            for r in found
        }


async def _written_at(db, experiment_id: int) -> list[datetime]:
    async with db.transaction() as session:
        stmt = (
            select(models.MetricAggregate.created_at)
            .where(models.MetricAggregate.experiment_id == experiment_id)
            .order_by(models.MetricAggregate.id)
        )
        return list((await session.scalars(stmt)).all())


async def _run(db, rebuild: bool = False) -> aggregate.Aggregated:
    async with db.transaction() as session:
        return await aggregate.aggregate(session, db.dialect, rebuild=rebuild)


def _events(test, start: int, count: int, day: int, hour: int) -> list[dict[str, Any]]:
    out = []
    for i in range(start, start + count):
        unit = f"user-{i % 17}"
        index = hashing.assign_variant(test.name, unit, [Decimal(a) for a in test.allocations])
        assert index is not None
        out.append(
            event(
                test,
                unit,
                test.variants[index],
                event_id=f"e-{i}",
                metrics={"latency_ms": 50 + (i * 37) % 101, "tokens": i % 7 + 0.5},
                timestamp=f"2026-03-{day:02d}T{hour:02d}:{i % 60:02d}:00Z",
            )
        )
    return out


def _expected(test, events: list[dict[str, Any]]) -> dict[tuple[Any, ...], list[float]]:
    values: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    experiment = decode_id(test.id)[1]
    for e in events:
        at = datetime.fromisoformat(e["timestamp"])
        variant = decode_id(e["experiments"][0]["variantId"])[1]
        for name, value in e["metrics"].items():
            hour = at.replace(minute=0, second=0)
            day = hour.replace(hour=0)
            values[(experiment, variant, name, "hourly", hour)].append(value)
            values[(experiment, variant, name, "daily", day)].append(value)
    return values


def _close(a: Any, b: float) -> bool:
    return abs(float(a) - b) < 1e-5


async def test_aggregates_equal_a_direct_computation(gql, db):
    test = await ab_test(gql, "agg-direct")
    batch = (
        _events(test, 0, 60, 1, 10) + _events(test, 60, 40, 1, 11) + _events(test, 100, 30, 2, 9)
    )
    assert (await record(gql, batch))["data"]["recordEvents"]["accepted"] == 130
    done = await _run(db)
    assert done.since is None  # the first run looks at every bucket
    rows = await _rows(db)
    expected = _expected(test, batch)
    assert set(rows) == set(expected)
    for key, values in expected.items():
        count, total, mean, low, high, stddev = rows[key]
        assert count == len(values)
        assert _close(total, sum(values)) and _close(mean, statistics.fmean(values))
        assert _close(low, min(values)) and _close(high, max(values))
        if len(values) > 1:
            assert _close(stddev, statistics.stdev(values)), (key, stddev)
        else:
            assert stddev is None


async def test_incremental_equals_rebuild(gql, db):
    test = await ab_test(gql, "agg-incremental")
    other = await ab_test(gql, "agg-other")
    first = _events(test, 0, 50, 1, 10) + _events(other, 0, 20, 1, 10)
    await record(gql, first)
    # these events were ingested an hour ago (past the run's look-back, aggregate.LAG)
    async with db.transaction() as session:
        await session.execute(
            update(models.Event).values(created_at=datetime.now(UTC) - timedelta(hours=1))
        )
    await _run(db)
    after_first = await _rows(db)
    other_id = decode_id(other.id)[1]
    other_written = await _written_at(db, other_id)

    # new events: a new hour, and late events for the first run's hour and day
    second = _events(test, 50, 30, 1, 12) + _events(test, 80, 5, 1, 10)
    await record(gql, second)
    done = await _run(db)
    assert done.since is not None  # incremental
    incremental = await _rows(db)
    assert incremental != after_first
    # the other experiment's buckets received nothing: not rewritten
    assert await _written_at(db, other_id) == other_written
    assert {k: v for k, v in incremental.items() if k[0] == other_id} == {
        k: v for k, v in after_first.items() if k[0] == other_id
    }

    rebuilt_done = await _run(db, rebuild=True)
    assert rebuilt_done.since is None
    assert await _rows(db) == incremental
    # and a run with nothing new changes nothing
    await _run(db)
    assert await _rows(db) == incremental
    expected = _expected(test, first[:50] + second)
    test_id = decode_id(test.id)[1]
    assert {k for k in incremental if k[0] == test_id} == set(expected)


async def test_cli_aggregates_and_rebuilds(gql, db, database_url):
    test = await ab_test(gql, "agg-cli")
    await record(gql, _events(test, 0, 10, 3, 8))
    done = await asyncio.to_thread(expgraph, "abtest", "aggregate", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "aggregate rows written (every bucket)" in done.stdout
    rows = await _rows(db)
    assert sum(1 for k in rows if k[3] == "daily") == len({k[1:3] for k in rows})
    again = await asyncio.to_thread(
        expgraph, "abtest", "aggregate", "--rebuild", database_url=database_url
    )
    assert again.returncode == 0, again.stderr
    assert await _rows(db) == rows


async def test_periodic_task_fills_aggregates(gql, db):
    test = await ab_test(gql, "agg-periodic")
    await record(gql, _events(test, 0, 10, 4, 8))
    task = asyncio.create_task(aggregate.run_periodically(db, 0.05))
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if await _rows(db):
                break
        assert await _rows(db)
    finally:
        task.cancel()


async def test_concurrent_runs_do_one_at_a_time(gql, db):
    test = await ab_test(gql, "agg-together")
    await record(gql, _events(test, 0, 20, 5, 8))
    async with db.transaction() as session:
        first = await aggregate.aggregate(session, db.dialect)  # holds the lock until commit
        assert not first.skipped and first.rows > 0
        if db.dialect == "postgresql":
            # another process's run meanwhile skips (SQLite queues write transactions)
            assert (await _run(db)).skipped
    results = await asyncio.gather(*(_run(db) for _ in range(4)))
    assert any(not r.skipped for r in results)
    expected = await _rows(db)
    await _run(db, rebuild=True)
    assert await _rows(db) == expected
