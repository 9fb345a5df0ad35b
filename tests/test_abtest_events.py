"""recordEvents (issue 15) over HTTP on both databases: a batch sent twice
counts once, more than 1,000 events are refused, unknown experiments and
variants, a variant that is not the unit's and bad metrics are refused with
nothing written (errors name the GraphQL path), a unit's first event assigns it
when its variant is the deterministic one, and a batch takes a bounded number
of statements."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from expgraph.domains.abtest import hashing, models
from expgraph.graphql.relay import encode_id
from tests.abtest_helpers import ab_test, assign, event, record


async def _counts(db) -> tuple[int, int, int]:
    async with db.transaction() as session:
        counts = [
            int((await session.execute(select(func.count()).select_from(m))).scalar_one())
            for m in (models.Event, models.EventExperiment, models.Assignment)
        ]
    return counts[0], counts[1], counts[2]


def _variant_of(test, unit_id: str) -> str | None:
    index = hashing.assign_variant(test.name, unit_id, [Decimal(a) for a in test.allocations])
    return None if index is None else test.variants[index]


def _other(test, variant: str) -> str:
    return next(v for v in test.variants if v != variant)


async def test_batch_sent_twice_counts_once(gql, db, statements):
    test = await ab_test(gql, "ingest")
    units = [f"user-{n}" for n in range(200)]
    for unit in units[:50]:
        await assign(gql, test.id, unit)
    batch = [
        event(test, u, _variant_of(test, u), event_id=f"e-{i}", metrics={"clicks": i % 3})
        for i, u in enumerate(units)
    ]
    statements.reset()
    body = await record(gql, batch)
    assert body["data"]["recordEvents"] == {"accepted": 200, "duplicates": 0}, body
    assert statements.count <= 12, statements.sql  # bulk statements, not one per event
    assert await _counts(db) == (200, 200, 200)  # the 150 unassigned units were assigned

    again = await record(gql, batch)
    assert again["data"]["recordEvents"] == {"accepted": 0, "duplicates": 200}
    mixed = await record(gql, [*batch[:10], event(test, units[0], _variant_of(test, units[0]))])
    assert mixed["data"]["recordEvents"] == {"accepted": 1, "duplicates": 10}
    assert await _counts(db) == (201, 201, 200)


async def test_more_than_1000_events_refused(gql, db):
    test = await ab_test(gql, "big")
    unit = "user-1"
    batch = [event(test, unit, _variant_of(test, unit) or test.variants[0])] * 1001
    body = await record(gql, batch)
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "at most 1,000" in body["errors"][0]["message"]
    assert await _counts(db) == (0, 0, 0)
    full = [event(test, f"u{i}", _variant_of(test, f"u{i}"), event_id=f"e{i}") for i in range(1000)]
    body = await record(gql, full)
    assert body["data"]["recordEvents"] == {"accepted": 1000, "duplicates": 0}, body
    assert await _counts(db) == (1000, 1000, 1000)


async def test_invalid_events_refused_with_nothing_written(gql, db):
    test = await ab_test(gql, "checks")
    other = await ab_test(gql, "elsewhere")
    assigned = await assign(gql, test.id, "user-a")
    mine = assigned["variant"]["id"]
    good = event(test, "user-a", mine, event_id="good")
    cases = {
        # an unknown experiment (a well-formed id of none)
        "events[1].experiments[0].experimentId": {
            **good,
            "experiments": [
                {"experimentId": encode_id("AbTestExperiment", 999999), "variantId": mine}
            ],
        },
        # a variant of another experiment
        "events[1].experiments[0].variantId": event(test, "user-a", other.variants[0]),
        "events[1].metrics.latency_ms": event(test, "user-a", mine, metrics={"latency_ms": "fast"}),
        "events[1].metrics.ok": event(test, "user-a", mine, metrics={"ok": True}),
    }
    before = await _counts(db)
    for path, bad in cases.items():
        body = await record(gql, [good, bad])
        assert body.get("errors"), (path, body)
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST", error
        assert error["extensions"]["field"] == path, error
        assert path in error["message"]
        assert await _counts(db) == before

    # the variant that is not the unit's assignment
    body = await record(gql, [good, event(test, "user-a", _other(test, mine))])
    error = body["errors"][0]
    assert error["extensions"]["field"] == "events[1].experiments[0].variantId"
    assert await _counts(db) == before

    naive = await record(gql, [{**good, "timestamp": "2026-03-01T10:15:00"}])
    assert naive["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await _counts(db) == before


async def test_first_event_assigns_only_the_deterministic_variant(gql, db):
    test = await ab_test(gql, "client-side")
    unit = next(f"u{n}" for n in range(100) if _variant_of(test, f"u{n}"))
    right = _variant_of(test, unit)
    assert right is not None

    wrong = await record(gql, [event(test, unit, _other(test, right))])
    assert wrong["errors"][0]["extensions"]["field"] == "events[0].experiments[0].variantId"
    assert await _counts(db) == (0, 0, 0)

    body = await record(
        gql,
        [
            event(test, unit, right, event_id="b", timestamp="2026-03-01T11:00:00Z"),
            event(test, unit, right, event_id="a", timestamp="2026-03-01T09:30:00+01:00"),
        ],
    )
    assert body["data"]["recordEvents"] == {"accepted": 2, "duplicates": 0}, body
    stored = await assign(gql, test.id, unit)
    assert stored["variant"]["id"] == right
    assert stored["assignedAt"].startswith("2026-03-01T08:30:00")  # its earliest event
    assert await _counts(db) == (2, 2, 1)

    # now assigned: an event with another variant is refused
    later = await record(gql, [event(test, unit, _other(test, right))])
    assert later["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_stored_events_keep_every_value_as_sent(gql, db):
    # PostgreSQL writes a batch as one statement of per-column arrays (unnest):
    # enums, JSON (an absent payload as JSON null), text and timestamps read back as sent.
    test = await ab_test(gql, "stored")
    units = ["user-ä", "user-2"]
    batch = [
        event(test, u, _variant_of(test, u), event_id=f"s-{i}", metrics={"revenue": 1.25, "n": i})
        for i, u in enumerate(units)
    ]
    batch[0] |= {"context": {"platform": "wéb ✓", "nested": {"a": [1, None]}}}
    batch[1] |= {"payload": {"k": "v"}, "timestamp": "2026-03-01T10:15:00.123456+02:00"}
    body = await record(gql, batch)
    assert body["data"]["recordEvents"] == {"accepted": 2, "duplicates": 0}, body
    async with db.read() as session:
        rows = (await session.scalars(select(models.Event).order_by(models.Event.event_id))).all()
        null_payloads = (
            await session.execute(
                select(func.count()).select_from(models.Event).where(models.Event.payload.is_(None))
            )
        ).scalar_one()
    first, second = rows
    assert (first.event_id, first.unit_id, first.unit_type.name) == ("s-0", "user-ä", "USER")
    assert first.context == {"platform": "wéb ✓", "nested": {"a": [1, None]}}
    assert first.metrics == {"revenue": 1.25, "n": 0} and first.payload is None
    assert first.experiments == [
        {"experiment_id": test.id, "variant_id": _variant_of(test, "user-ä")}
    ]
    assert second.payload == {"k": "v"} and second.context == {}
    assert second.timestamp.isoformat() == "2026-03-01T08:15:00.123456+00:00"
    assert first.created_at is not None
    assert null_payloads == 0  # an absent payload is stored as JSON null, as before
