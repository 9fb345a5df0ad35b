"""The per-unit metric sums that results read (unit_metric_sums, issue 15) are
kept by recordEvents over HTTP on both databases: they equal the definition (a
unit's metric summed over its events naming the experiment at or after its
assignment) computed here in Python, a batch sent twice leaves them unchanged,
8 concurrent batches for the same units add up exactly, and the rebuild from
the events (`abtest aggregate --rebuild`) gives the same table."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from expgraph.domains.abtest import hashing, models
from expgraph.domains.abtest.aggregate import aggregate
from expgraph.graphql.relay import decode_id
from tests.abtest_helpers import AbTest, ab_test, assign, record

Key = tuple[int, str, str]


def _variant_of(test: AbTest, unit: str) -> str:
    index = hashing.assign_variant(test.name, unit, [Decimal(a) for a in test.allocations])
    assert index is not None  # allocations add up to 1: every unit is in
    return test.variants[index]


def _pk(global_id: str) -> int:
    return int(decode_id(global_id)[1])


def _event(
    tests: list[AbTest], unit: str, event_id: str, at: datetime, metrics: dict[str, Any]
) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "eventType": "purchase",
        "unitType": "USER",
        "unitId": unit,
        "experiments": [{"experimentId": t.id, "variantId": _variant_of(t, unit)} for t in tests],
        "metrics": metrics,
        "timestamp": at.isoformat(),
    }


async def _sums(db) -> dict[Key, tuple[float, int]]:
    async with db.read() as session:
        rows = (await session.scalars(select(models.UnitMetricSum))).all()
    return {(r.experiment_id, r.metric_name, r.unit_id): (r.total, r.events) for r in rows}


async def _assigned_at(db) -> dict[tuple[int, str], datetime]:
    async with db.read() as session:
        rows = (await session.scalars(select(models.Assignment))).all()
    return {(a.experiment_id, a.unit_id): a.assigned_at for a in rows}


def _expected(
    events: list[dict[str, Any]], assigned_at: dict[tuple[int, str], datetime]
) -> dict[Key, tuple[float, int]]:
    """The definition, in Python: per experiment, metric and unit, the sum and count
    of the metric over the unit's events (each id once) at or after its assignment."""
    totals: dict[Key, tuple[float, int]] = {}
    for e in {e["eventId"]: e for e in events}.values():
        at = datetime.fromisoformat(e["timestamp"])
        for link in e["experiments"]:
            experiment = _pk(link["experimentId"])
            if at < assigned_at[(experiment, e["unitId"])]:
                continue
            for name, value in e["metrics"].items():
                total, count = totals.get((experiment, name, e["unitId"]), (0.0, 0))
                totals[(experiment, name, e["unitId"])] = (total + value, count + 1)
    return totals


def _assert_same(found: dict[Key, tuple[float, int]], wanted: dict[Key, tuple[float, int]]) -> None:
    assert found.keys() == wanted.keys()
    for key, (total, count) in wanted.items():
        assert found[key][1] == count, key
        assert found[key][0] == pytest.approx(total, rel=1e-12, abs=1e-9), key


async def test_sums_follow_the_definition_and_a_batch_sent_twice_changes_nothing(gql, db):
    checkout, other = await ab_test(gql, "checkout"), await ab_test(gql, "banner")
    units = [f"user-{n}" for n in range(40)]
    for unit in units[:20]:  # assigned now: their earlier events do not count
        await assign(gql, checkout.id, unit)
    now = datetime.now(UTC)
    before, after = now - timedelta(days=2), now + timedelta(seconds=1)
    later = now + timedelta(minutes=5)
    events = []
    for n, unit in enumerate(units):
        # The units not assigned yet are assigned by their first event (at its
        # timestamp, `before`): all their events count.
        events.append(_event([checkout, other], unit, f"a-{n}", before, {"revenue": 10.5 + n}))
        events.append(_event([checkout], unit, f"b-{n}", after, {"revenue": 0.25, "clicks": 2}))
        events.append(_event([checkout], unit, f"c-{n}", later, {"revenue": 1.1 * n}))
    events.append(dict(events[0]))  # the same event id twice in one batch: counted once
    body = await record(gql, events)
    assert body["data"]["recordEvents"] == {"accepted": 120, "duplicates": 1}, body

    assigned_at = await _assigned_at(db)
    wanted = _expected(events, assigned_at)
    checkout_pk = _pk(checkout.id)
    # A unit assigned after its `before` event: that event is left out.
    assert wanted[(checkout_pk, "revenue", "user-0")][1] == 2
    assert wanted[(checkout_pk, "revenue", "user-30")][1] == 3
    found = await _sums(db)
    _assert_same(found, wanted)

    again = await record(gql, events)
    assert again["data"]["recordEvents"] == {"accepted": 0, "duplicates": 121}
    assert await _sums(db) == found  # duplicates add nothing

    async with db.transaction() as session:
        done = await aggregate(session, db.dialect, rebuild=True)
    assert done.unit_sums == len(found)
    _assert_same(await _sums(db), found)  # the rebuild from the events equals the incremental


async def test_concurrent_batches_for_the_same_units_add_up_exactly(gql, db):
    test = await ab_test(gql, "concurrent")
    units = [f"user-{n}" for n in range(25)]
    for unit in units[:10]:
        await assign(gql, test.id, unit)
    at = datetime.now(UTC) + timedelta(minutes=1)
    batches = [
        [
            # Reverse order in every other batch: rows are still locked in one order.
            _event([test], unit, f"batch{b}-{unit}", at, {"clicks": b + 1, "revenue": 0.5})
            for unit in (units if b % 2 else list(reversed(units)))
        ]
        for b in range(8)
    ]
    bodies = await asyncio.gather(*(record(gql, batch) for batch in batches))
    for body in bodies:
        assert body["data"]["recordEvents"] == {"accepted": 25, "duplicates": 0}, body

    pk = _pk(test.id)
    found = await _sums(db)
    wanted: dict[Key, tuple[float, int]] = {}
    for unit in units:
        wanted[(pk, "clicks", unit)] = (float(sum(range(1, 9))), 8)
        wanted[(pk, "revenue", unit)] = (4.0, 8)
    assert found == wanted

    async with db.transaction() as session:
        await aggregate(session, db.dialect, rebuild=True)
    assert await _sums(db) == wanted
