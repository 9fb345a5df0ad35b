"""Keyset pagination: complete, ordered walks both ways under every ordering."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from expgraph.domains.experiments import models

PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $order: [ExperimentOrder!]) {
  experiments(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
    totalCount
    edges { cursor node { id name createdAt updatedAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""

ORDERINGS = [
    None,
    [{"field": "NAME", "direction": "ASC"}],
    [{"field": "NAME", "direction": "DESC"}],
    [{"field": "CREATED_AT", "direction": "ASC"}],
    [{"field": "UPDATED_AT", "direction": "DESC"}],
    # Mixed directions exercise the expanded (non row-value) keyset condition.
    [{"field": "CREATED_AT", "direction": "DESC"}, {"field": "NAME", "direction": "ASC"}],
]


async def _seed(db, count: int) -> None:
    """``count`` experiments with many equal timestamps and names, so ties need the id."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        {
            "kind": models.ExperimentKind.TRAINING,
            "name": f"exp-{i % 37:02d}-{i}",
            "status": models.ExperimentStatus.DRAFT,
            "config": {},
            "metadata": {},
            "created_at": base + timedelta(minutes=i % 11),
            "updated_at": base + timedelta(minutes=i % 7),
        }
        for i in range(count)
    ]
    async with db.transaction() as session:
        await session.execute(insert(models.Experiment.__table__), rows)


def _expected(rows: list[dict], order: list[dict] | None) -> list[str]:
    order = order or [{"field": "CREATED_AT", "direction": "DESC"}]
    attr = {"NAME": "name", "CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt"}

    def id_key(row: dict) -> int:
        import base64

        raw = row["id"] + "=" * (-len(row["id"]) % 4)
        return int(base64.urlsafe_b64decode(raw).decode().split(":")[1])

    result = sorted(rows, key=id_key, reverse=order[0]["direction"] == "DESC")
    for spec in reversed(order):
        result.sort(key=lambda r, a=attr[spec["field"]]: r[a], reverse=spec["direction"] == "DESC")
    return [r["id"] for r in result]


@pytest.mark.parametrize(
    "order",
    ORDERINGS,
    ids=lambda o: "default" if not o else "-".join(f"{s['field']}_{s['direction']}" for s in o),
)
async def test_walk_forward_then_backward_sees_each_once_in_order(gql, db, order):
    await _seed(db, 230)
    forward: list[dict] = []
    after = None
    for _ in range(20):
        page = (await gql.data(PAGE, {"first": 37, "after": after, "order": order}))["experiments"]
        assert page["totalCount"] == 230
        forward += [e["node"] for e in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    ids = [n["id"] for n in forward]
    assert len(ids) == len(set(ids)) == 230
    assert ids == _expected(forward, order)

    backward: list[str] = []
    before = None
    while True:
        page = (await gql.data(PAGE, {"last": 50, "before": before, "order": order}))["experiments"]
        backward = [e["node"]["id"] for e in page["edges"]] + backward
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == ids


async def test_page_size_limits_and_bad_cursors(gql, db):
    await _seed(db, 60)
    default = await gql.data(PAGE)
    assert len(default["experiments"]["edges"]) == 50
    assert default["experiments"]["pageInfo"]["hasNextPage"] is True
    empty = await gql.data(PAGE, {"first": 0})
    assert empty["experiments"]["edges"] == []
    for variables in (
        {"first": 501},
        {"first": -1},
        {"last": 501},
        {"after": "garbage"},
        {"first": 2, "before": default["experiments"]["pageInfo"]["endCursor"]},
    ):
        assert await gql.error_code(PAGE, variables) == "BAD_REQUEST", variables
    # A cursor from one ordering is refused by another.
    by_name = [{"field": "NAME", "direction": "ASC"}]
    cursor = default["experiments"]["pageInfo"]["endCursor"]
    assert await gql.error_code(PAGE, {"after": cursor, "order": by_name}) == "BAD_REQUEST"
    assert await gql.error_code(PAGE, {"order": by_name * 2}) == "BAD_REQUEST"
    big = await gql.data(PAGE, {"first": 500})
    assert len(big["experiments"]["edges"]) == 60


async def test_nested_connections_page_per_parent(gql, db):
    from tests.helpers import create_experiment, create_tag, tag_experiment

    tags = [await create_tag(gql, f"t{i}") for i in range(5)]
    experiments = [await create_experiment(gql, f"e{i}") for i in range(3)]
    for experiment, tag_count in zip(experiments, (5, 2, 0), strict=True):
        for tag in tags[:tag_count]:
            await tag_experiment(gql, experiment["id"], tag["id"])
    query = """query($after: String) { experiments(orderBy: [{field: NAME}]) { edges { node {
        name tags(first: 2, after: $after) { totalCount edges { cursor node { name } }
                                              pageInfo { hasNextPage endCursor } } } } } }"""
    data = await gql.data(query)
    pages = {e["node"]["name"]: e["node"]["tags"] for e in data["experiments"]["edges"]}
    assert [t["node"]["name"] for t in pages["e0"]["edges"]] == ["t0", "t1"]
    assert pages["e0"]["totalCount"] == 5 and pages["e0"]["pageInfo"]["hasNextPage"]
    assert [t["node"]["name"] for t in pages["e1"]["edges"]] == ["t0", "t1"]
    assert pages["e1"]["totalCount"] == 2 and not pages["e1"]["pageInfo"]["hasNextPage"]
    assert pages["e2"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
    data = await gql.data(query, {"after": pages["e0"]["pageInfo"]["endCursor"]})
    second = {e["node"]["name"]: e["node"]["tags"] for e in data["experiments"]["edges"]}
    assert [t["node"]["name"] for t in second["e0"]["edges"]] == ["t2", "t3"]


async def test_statement_count_does_not_grow_with_page_size(gql, db, statements, settings):
    """N+1 guard: experiments -> tags, createdBy, dataset -> versions (one
    statement in all when the read-query compiler answers it)."""
    from tests.helpers import create_dataset, create_tag, tag_experiment

    users = []
    for i in range(3):
        data = await gql.data(
            "mutation($u: String!, $e: String!) { createUser(input: {username: $u, email: $e}) "
            "{ user { id } } }",
            {"u": f"user{i}", "e": f"user{i}@example.com"},
        )
        users.append(data["createUser"]["user"]["id"])
    tags = [await create_tag(gql, f"tag{i}") for i in range(4)]
    datasets = [await create_dataset(gql, f"ds{i}") for i in range(3)]
    rows = []
    for i, ((dataset_id, _), user) in enumerate(
        zip(itertools.cycle(datasets), itertools.cycle(users), strict=False)
    ):
        if i == 220:
            break
        rows.append((dataset_id, user))
    from expgraph.graphql.relay import decode_id

    base = datetime(2026, 1, 1, tzinfo=UTC)
    async with db.transaction() as session:
        await session.execute(
            insert(models.Experiment.__table__),
            [
                {
                    "kind": models.ExperimentKind.TRAINING,
                    "name": f"n{i}",
                    "status": models.ExperimentStatus.DRAFT,
                    "config": {},
                    "metadata": {},
                    "dataset_id": decode_id(d)[1],
                    "created_by": decode_id(u)[1],
                    "created_at": base + timedelta(seconds=i),
                    "updated_at": base,
                }
                for i, (d, u) in enumerate(rows)
            ],
        )
    ids = await gql.data("{ experiments(first: 500) { edges { node { id } } } }")
    for n, edge in enumerate(ids["experiments"]["edges"][:60]):
        await tag_experiment(gql, edge["node"]["id"], tags[n % 4]["id"])

    query = """query($n: Int!) { experiments(first: $n) { edges { node {
        name createdBy { username }
        tags { edges { node { name } } }
        ... on TrainingExperiment { dataset { name versions { edges { node { id } } } } }
    } } } }"""
    counts = {}
    for n in (5, 200):
        statements.reset()
        data = await gql.data(query, {"n": n})
        assert len(data["experiments"]["edges"]) == n
        counts[n] = statements.count
    assert counts[5] == counts[200], counts
    # experiments, tags, users, datasets, versions: one statement per level.
    assert counts[200] == (1 if settings.compile_queries else 5), statements.sql


async def test_a_count_alone_reads_no_page(gql, statements, settings):
    """``totalCount`` without edges or pageInfo: one count statement per level,
    no page; with anything else selected the page is read as before. (A root
    field the read-query compiler answers costs one statement, whatever it selects.)"""
    from tests.helpers import create_experiment, create_tag, tag_experiment

    compiled = settings.compile_queries
    tag = await create_tag(gql, "t")
    for n in range(3):
        experiment = await create_experiment(gql, f"e{n}")
        await tag_experiment(gql, experiment["id"], tag["id"])
    cases = [
        ("{ experiments { totalCount } }", 1),
        (
            "{ experiments { ...C } } fragment C on ExperimentConnection { totalCount __typename }",
            1,
        ),
        ("{ experiments { ... on ExperimentConnection { totalCount } } }", 1),
        ("{ experiments { totalCount pageInfo { hasNextPage } } }", 1 if compiled else 2),
        ("{ experiments { edges { node { tags { totalCount } } } } }", 1 if compiled else 2),
        (
            "{ experiments { edges { node { tags { totalCount edges { cursor } } } } } }",
            1 if compiled else 3,
        ),
        # The same field twice, one count-only: each alias is its own place.
        ("{ a: experiments { totalCount } b: experiments { edges { cursor } } }", 2),
    ]
    for query, expected in cases:
        statements.reset()
        data = await gql.data(query)
        assert statements.count == expected, (query, statements.sql)
        connections = [data[k] for k in data]
        for connection in connections:
            if "totalCount" in connection:
                assert connection["totalCount"] == 3
            if "edges" in connection:
                assert len(connection["edges"]) == 3
                for edge in connection["edges"]:
                    tags = edge.get("node", {}).get("tags")
                    if tags is not None:
                        assert tags["totalCount"] == 1
                        assert len(tags.get("edges", [{}])) == 1
