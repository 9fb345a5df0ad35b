"""A/B assignment (issue 15) over HTTP on both databases: assignUnit gives the
variant GrowthBook's SDK computes (hashing.assign_variant), is sticky after a
reallocation, stores one row under 32 concurrent calls, refuses experiments
that do not assign now (CONFLICT with a reason), returns null and stores
nothing outside coverage; assignUnits over several experiments."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import func, select

from expgraph.domains.abtest import hashing, models
from expgraph.graphql.relay import decode_id
from tests.abtest_helpers import (
    ASSIGN,
    ASSIGN_MANY,
    UPDATE_VARIANT,
    ab_test,
    assign,
    set_status,
)


async def _count(db, experiment_id: str | None = None) -> int:
    stmt = select(func.count()).select_from(models.Assignment)
    if experiment_id is not None:
        stmt = stmt.where(models.Assignment.experiment_id == decode_id(experiment_id)[1])
    async with db.transaction() as session:
        return int((await session.execute(stmt)).scalar_one())


def _expected(test, unit_id: str) -> str | None:
    index = hashing.assign_variant(test.name, unit_id, [Decimal(a) for a in test.allocations])
    return None if index is None else test.variants[index]


async def test_assignment_is_growthbooks_and_stored_once(gql, db):
    test = await ab_test(gql, "checkout-button", ("0.2", "0.3", "0.5"))
    seen = set()
    for n in range(60):
        unit = f"user-{n}"
        found = await assign(gql, test.id, unit)
        assert found["variant"]["id"] == _expected(test, unit)
        assert found["unitId"] == unit and found["unitType"] == "USER"
        assert found["experiment"]["id"] == test.id
        seen.add(found["variant"]["id"])
        again = await assign(gql, test.id, unit)
        assert again == found  # same row, same time
    assert seen == set(test.variants)
    assert await _count(db, test.id) == 60


async def test_sticky_after_reallocation(gql, db):
    test = await ab_test(gql, "sticky", ("0.5", "0.5"))
    before = {u: (await assign(gql, test.id, u))["variant"]["id"] for u in map(str, range(40))}
    # shrink the control (force: the experiment has run): stored units keep their variants
    await set_status(gql, test.id, "PAUSED")
    body = await gql.post(
        UPDATE_VARIANT, {"input": {"id": test.variants[0], "allocation": "0.1", "force": True}}
    )
    assert not body.get("errors"), body
    await set_status(gql, test.id, "RUNNING")
    moved = 0
    test.allocations = ["0.1", "0.5"]
    for unit, variant in before.items():
        assert (await assign(gql, test.id, unit))["variant"]["id"] == variant
        moved += _expected(test, unit) != variant
    assert moved > 0  # the new allocations would have put some elsewhere
    assert await _count(db, test.id) == 40


async def test_32_concurrent_calls_store_one_row(gql, db):
    test = await ab_test(gql, "race", ("0.5", "0.5"))
    variables = {"input": {"experimentId": test.id, "unitType": "USER", "unitId": "u-race"}}
    bodies = await asyncio.gather(*(gql.post(ASSIGN, variables) for _ in range(32)))
    assert all(not b.get("errors") for b in bodies), [b for b in bodies if b.get("errors")][:1]
    variants = {b["data"]["assignUnit"]["assignment"]["variant"]["id"] for b in bodies}
    ids = {b["data"]["assignUnit"]["assignment"]["id"] for b in bodies}
    assert variants == {_expected(test, "u-race")} and len(ids) == 1
    assert await _count(db, test.id) == 1


async def _conflict(gql, experiment_id: str) -> dict:
    body = await gql.post(
        ASSIGN, {"input": {"experimentId": experiment_id, "unitType": "USER", "unitId": "u1"}}
    )
    assert body.get("errors"), body
    return body["errors"][0]


async def test_not_running_or_outside_window_is_a_conflict_with_reason(gql, db):
    draft = await ab_test(gql, "draft", status=None)
    error = await _conflict(gql, draft.id)
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["reason"] == "NOT_RUNNING" and "DRAFT" in error["message"]

    paused = await ab_test(gql, "paused")
    await set_status(gql, paused.id, "PAUSED")
    error = await _conflict(gql, paused.id)
    assert error["extensions"]["reason"] == "NOT_RUNNING" and "PAUSED" in error["message"]

    later = await ab_test(gql, "later", start_at="2999-01-01T00:00:00Z")
    error = await _conflict(gql, later.id)
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["reason"] == "NOT_STARTED" and "RUNNING" in error["message"]

    over = await ab_test(
        gql, "over", start_at="2001-01-01T00:00:00Z", end_at="2002-01-01T00:00:00Z"
    )
    error = await _conflict(gql, over.id)
    assert error["extensions"]["reason"] == "ENDED"
    assert await _count(db) == 0


async def test_wrong_unit_type_is_bad_request(gql, db):
    test = await ab_test(gql, "households", unit_type="HOUSEHOLD")
    body = await gql.post(
        ASSIGN, {"input": {"experimentId": test.id, "unitType": "USER", "unitId": "u1"}}
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await _count(db) == 0


async def test_outside_coverage_is_null_and_nothing_stored(gql, db):
    test = await ab_test(gql, "small", ("0.05", "0.05"))
    outside = next(u for u in (f"user-{n}" for n in range(1000)) if _expected(test, u) is None)
    inside = next(u for u in (f"user-{n}" for n in range(1000)) if _expected(test, u))
    assert await assign(gql, test.id, outside) is None
    assert await _count(db, test.id) == 0
    assert (await assign(gql, test.id, inside))["variant"]["id"] == _expected(test, inside)
    assert await _count(db, test.id) == 1


async def test_assign_units_over_several_experiments(gql, db):
    a = await ab_test(gql, "exp-a", ("0.5", "0.5"))
    b = await ab_test(gql, "exp-b", ("0.3", "0.7"))
    c = await ab_test(gql, "exp-c", ("0.5", "0.5"), unit_type="SESSION")
    await ab_test(gql, "exp-draft", status=None)
    await ab_test(gql, "exp-later", start_at="2999-01-01T00:00:00Z")

    data = await gql.data(ASSIGN_MANY, {"input": {"unitType": "USER", "unitId": "u-7"}})
    found = data["assignUnits"]["assignments"]
    assert [x["experiment"]["id"] for x in found] == [a.id, b.id]  # running, USER, in window
    assert [x["variant"]["id"] for x in found] == [_expected(a, "u-7"), _expected(b, "u-7")]

    chosen = await gql.data(
        ASSIGN_MANY, {"input": {"unitType": "USER", "unitId": "u-7", "experimentIds": [b.id]}}
    )
    assert chosen["assignUnits"]["assignments"][0]["id"] == found[1]["id"]  # sticky
    assert await _count(db) == 2

    wrong = await gql.post(
        ASSIGN_MANY, {"input": {"unitType": "USER", "unitId": "u-7", "experimentIds": [c.id]}}
    )
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    capped = await gql.post(
        ASSIGN_MANY,
        {"input": {"unitType": "USER", "unitId": "u", "experimentIds": [a.id] * 101}},
    )
    assert capped["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_assign_units_takes_the_same_statements_for_1_or_6_experiments(gql, db, statements):
    tests = [await ab_test(gql, f"many-{n}") for n in range(6)]
    counts = []
    for unit, chosen in (("u-one", tests[:1]), ("u-six", tests)):
        statements.reset()
        data = await gql.data(
            ASSIGN_MANY,
            {
                "input": {
                    "unitType": "USER",
                    "unitId": unit,
                    "experimentIds": [t.id for t in chosen],
                }
            },
        )
        assert len(data["assignUnits"]["assignments"]) == len(chosen)
        counts.append(statements.count)
    assert counts[0] == counts[1], statements.sql


async def test_only_a_new_assignment_is_announced_to_subscribers(gql, app, statements):
    """A sticky answer changes no count: it sends no notification (on PostgreSQL a
    NOTIFY statement; on SQLite an in-process message), so an app calling
    assignUnits on every request costs subscribers nothing."""
    test = await ab_test(gql, "quiet", ("0.5", "0.5"))
    sent: list[str] = []
    broker = app.state.broker
    original = broker.publish_in

    async def publish_in(session, channel: str, message: str) -> None:
        sent.append(channel)
        await original(session, channel, message)

    broker.publish_in = publish_in
    try:
        await assign(gql, test.id, "u-1")
        await gql.data(ASSIGN_MANY, {"input": {"unitType": "USER", "unitId": "u-2"}})
        assert sent == ["abtest_updates", "abtest_updates"]
        statements.reset()
        await assign(gql, test.id, "u-1")
        await gql.data(ASSIGN_MANY, {"input": {"unitType": "USER", "unitId": "u-2"}})
        assert sent == ["abtest_updates", "abtest_updates"]  # nothing more
        assert not any("pg_notify" in sql for sql in statements.sql)
    finally:
        broker.publish_in = original


async def test_assign_units_for_a_new_unit_reads_once_and_writes_once(gql, statements):
    """One read (the experiments, their variants and the unit's stored assignments)
    and one INSERT, whatever the number of experiments: the answer's variant and
    experiment are the rows that read returned, not read again."""
    tests = [await ab_test(gql, f"once-{n}") for n in range(3)]
    statements.reset()
    data = await gql.data(ASSIGN_MANY, {"input": {"unitType": "USER", "unitId": "new-unit"}})
    got = data["assignUnits"]["assignments"]
    assert [a["experiment"]["id"] for a in got] == [t.id for t in tests]
    for a, t in zip(got, tests, strict=True):
        assert a["variant"]["id"] == _expected(t, "new-unit")
    reads = [
        s
        for s in statements.sql
        if s.lstrip().upper().startswith("SELECT") and "pg_notify" not in s
    ]
    writes = [s for s in statements.sql if "INSERT INTO assignments" in s]
    assert len(reads) == 1 and len(writes) == 1, statements.sql
