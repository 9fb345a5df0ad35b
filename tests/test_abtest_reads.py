"""Reading an A/B test's assignments and events as connections (issue 15), over
HTTP on both databases, with data made by assignUnit and recordEvents:
keyset pages in both directions with filters and totalCount, a variant's
assignments and assignedUnits, events newest first with the experiments they
count for, and a page of A/B tests with all of that in the same number of
statements for 2 and for 6 experiments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.abtest_helpers import ab_test, assign, event, record

ASSIGNMENTS = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
  $filter: AssignmentFilter) { node(id: $id) { ... on AbTestExperiment {
  assignments(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount edges { node { unitId unitType assignedAt variant { id } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""
VARIANT = """query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on Variant {
  assignedUnits assignments(first: $first, after: $after) {
    totalCount edges { node { unitId variant { id } } } pageInfo { hasNextPage endCursor } }
  } } }"""
EVENTS = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String,
  $filter: EventFilter) { node(id: $id) { ... on AbTestExperiment {
  events(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount edges { node { eventId eventType unitId unitType timestamp metrics context payload
      experiments { experiment { id } variant { id } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""
PAGE = """query($name: String!) {
  experiments(first: 10, filter: {nameContains: $name}) { edges { node {
    ... on AbTestExperiment {
      variants { id assignedUnits
        assignments(first: 5) { totalCount edges { node { unitId variant { id name } } } } }
      events(first: 5) { edges { node { eventId
        experiments { experiment { id name } variant { id name } } } } }
    } } } } }"""


def _units(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["unitId"] for edge in connection["edges"]]


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["eventId"] for edge in connection["edges"]]


async def _assignments(gql, test_id: str, **arguments: Any) -> dict[str, Any]:
    data = await gql.data(ASSIGNMENTS, {"id": test_id, **arguments})
    return data["node"]["assignments"]


async def test_assignments_page_both_ways_with_filters(gql):
    test = await ab_test(gql, "reads-assignments")
    made = [await assign(gql, test.id, f"unit-{i}") for i in range(7)]
    order = [a["unitId"] for a in made]  # assigned one after another: oldest first

    first = await _assignments(gql, test.id, first=3)
    assert _units(first) == order[:3]
    assert first["totalCount"] == 7
    assert first["pageInfo"]["hasNextPage"]
    assert not first["pageInfo"]["hasPreviousPage"]
    rest = await _assignments(gql, test.id, first=10, after=first["pageInfo"]["endCursor"])
    assert _units(rest) == order[3:]
    assert not rest["pageInfo"]["hasNextPage"]

    last = await _assignments(gql, test.id, last=3)
    assert _units(last) == order[4:]
    assert last["pageInfo"]["hasPreviousPage"]
    assert not last["pageInfo"]["hasNextPage"]
    before = await _assignments(gql, test.id, last=3, before=last["pageInfo"]["startCursor"])
    assert _units(before) == order[1:4]
    assert before["pageInfo"]["hasPreviousPage"]

    variant = test.variants[1]
    chosen = [a["unitId"] for a in made if a["variant"]["id"] == variant]
    by_variant = await _assignments(gql, test.id, filter={"variantId": variant})
    assert _units(by_variant) == chosen
    assert by_variant["totalCount"] == len(chosen)
    assert {e["node"]["variant"]["id"] for e in by_variant["edges"]} <= {variant}

    one = await _assignments(gql, test.id, filter={"unitId": "unit-4"})
    assert _units(one) == ["unit-4"] and one["totalCount"] == 1
    users = await _assignments(gql, test.id, filter={"unitType": "USER"})
    assert users["totalCount"] == 7
    households = await _assignments(gql, test.id, filter={"unitType": "HOUSEHOLD"})
    assert households["totalCount"] == 0 and households["edges"] == []

    since = made[3]["assignedAt"]
    moment = datetime.fromisoformat(since)
    later = [a["unitId"] for a in made if datetime.fromisoformat(a["assignedAt"]) >= moment]
    recent = await _assignments(gql, test.id, filter={"assignedSince": since})
    assert _units(recent) == later
    assert set(order[3:]) <= set(later)
    # A filter and a cursor together: the page after the first recent one.
    head = await _assignments(gql, test.id, first=1, filter={"assignedSince": since})
    tail = await _assignments(
        gql,
        test.id,
        first=10,
        after=head["pageInfo"]["endCursor"],
        filter={"assignedSince": since},
    )
    assert _units(head) + _units(tail) == later
    assert tail["totalCount"] == len(later)


async def test_a_variants_assignments_and_assigned_units(gql):
    test = await ab_test(gql, "reads-variant")
    made = [await assign(gql, test.id, f"v-unit-{i}") for i in range(6)]
    for variant in test.variants:
        chosen = [a["unitId"] for a in made if a["variant"]["id"] == variant]
        data = (await gql.data(VARIANT, {"id": variant, "first": 2}))["node"]
        assert data["assignedUnits"] == len(chosen)
        page = data["assignments"]
        assert page["totalCount"] == len(chosen)
        assert _units(page) == chosen[:2]
        if len(chosen) > 2:
            after = page["pageInfo"]["endCursor"]
            rest = (await gql.data(VARIANT, {"id": variant, "first": 10, "after": after}))["node"]
            assert _units(rest["assignments"]) == chosen[2:]
        assert {e["node"]["variant"]["id"] for e in page["edges"]} <= {variant}


async def test_events_newest_first_with_filters_and_experiments(gql):
    test = await ab_test(gql, "reads-events")
    other = await ab_test(gql, "reads-events-other")
    units = {}
    for unit in ("alice", "bob"):
        units[unit] = (await assign(gql, test.id, unit))["variant"]["id"]
    both = (await assign(gql, other.id, "alice"))["variant"]["id"]
    events = [
        event(test, unit, units[unit], event_id=f"e{i}", timestamp=f"2026-03-01T10:0{i}:00Z")
        for i, unit in enumerate(["alice", "bob", "alice", "bob", "alice"])
    ]
    events[3]["eventType"] = "plan_rated"
    events[4]["experiments"].append({"experimentId": other.id, "variantId": both})
    events[4]["payload"] = {"plan": 7}
    events.append(event(other, "alice", both, event_id="only-other"))
    assert (await record(gql, events))["data"]["recordEvents"]["accepted"] == 6

    newest = ["e4", "e3", "e2", "e1", "e0"]
    page = (await gql.data(EVENTS, {"id": test.id, "first": 2}))["node"]["events"]
    assert _ids(page) == newest[:2]
    assert page["totalCount"] == 5
    top = page["edges"][0]["node"]
    assert top["unitId"] == "alice" and top["unitType"] == "USER"
    assert top["timestamp"].startswith("2026-03-01T10:04:00")
    assert top["metrics"] == {"latency_ms": 100} and top["payload"] == {"plan": 7}
    assert top["context"] == {}
    refs = {(r["experiment"]["id"], r["variant"]["id"]) for r in top["experiments"]}
    assert refs == {(test.id, units["alice"]), (other.id, both)}
    second = page["edges"][1]["node"]
    assert second["experiments"] == [
        {"experiment": {"id": test.id}, "variant": {"id": units["bob"]}}
    ]
    rest = await gql.data(
        EVENTS, {"id": test.id, "first": 5, "after": page["pageInfo"]["endCursor"]}
    )
    assert _ids(rest["node"]["events"]) == newest[2:]
    assert not rest["node"]["events"]["pageInfo"]["hasNextPage"]

    last = (await gql.data(EVENTS, {"id": test.id, "last": 2}))["node"]["events"]
    assert _ids(last) == newest[3:]
    assert last["pageInfo"]["hasPreviousPage"]
    cursor = last["pageInfo"]["startCursor"]
    before = (await gql.data(EVENTS, {"id": test.id, "last": 2, "before": cursor}))["node"]
    assert _ids(before["events"]) == newest[1:3]

    async def filtered(filter: dict[str, Any], **page: Any) -> dict[str, Any]:
        data = await gql.data(EVENTS, {"id": test.id, "filter": filter, **page})
        return data["node"]["events"]

    assert _ids(await filtered({"unitId": "bob"})) == ["e3", "e1"]
    assert _ids(await filtered({"eventType": "plan_rated"})) == ["e3"]
    window = {"since": "2026-03-01T10:01:00Z", "until": "2026-03-01T10:04:00Z"}
    assert _ids(await filtered(window)) == ["e3", "e2", "e1"]
    assert (await filtered(window))["totalCount"] == 3
    head = await filtered(window, first=1)
    tail = await filtered(window, first=5, after=head["pageInfo"]["endCursor"])
    assert _ids(head) + _ids(tail) == ["e3", "e2", "e1"]
    alice_since = await filtered({"unitId": "alice", "since": "2026-03-01T10:02:00Z"}, last=1)
    assert _ids(alice_since) == ["e2"]

    # The other experiment sees only the events naming it.
    data = (await gql.data(EVENTS, {"id": other.id}))["node"]["events"]
    assert sorted(_ids(data)) == ["e4", "only-other"]


async def _ab_tests_with_data(gql, prefix: str, count: int) -> None:
    for n in range(count):
        test = await ab_test(gql, f"{prefix}-{n}")
        batch = []
        for i in range(3):
            unit = f"{prefix}-{n}-u{i}"
            variant = (await assign(gql, test.id, unit))["variant"]["id"]
            batch.append(event(test, unit, variant, event_id=f"{prefix}-{n}-e{i}"))
        assert (await record(gql, batch))["data"]["recordEvents"]["accepted"] == 3


async def test_a_page_of_ab_tests_takes_the_same_statements_for_2_or_6(gql, statements):
    await _ab_tests_with_data(gql, "few", 2)
    await _ab_tests_with_data(gql, "many", 6)
    counts = []
    for prefix, expected in (("few-", 2), ("many-", 6)):
        statements.reset()
        data = await gql.data(PAGE, {"name": prefix})
        nodes = [edge["node"] for edge in data["experiments"]["edges"]]
        assert len(nodes) == expected
        for node in nodes:
            assert sum(v["assignedUnits"] for v in node["variants"]) == 3
            assert sum(v["assignments"]["totalCount"] for v in node["variants"]) == 3
            assert len(node["events"]["edges"]) == 3
            for edge in node["events"]["edges"]:
                (ref,) = edge["node"]["experiments"]
                assert ref["experiment"] is not None and ref["variant"] is not None
        counts.append(statements.count)
    assert counts[0] == counts[1], statements.sql
