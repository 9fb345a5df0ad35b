"""Saved searches: a user's named experiments search, run as a normal
connection, counted exactly under concurrency, reported (not crashed on) when
its stored filter no longer validates. Both databases, auth on (a saved search
belongs to a user)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service
from expgraph.graphql.relay import decode_id
from tests.auth_helpers import PASSWORD, Caller
from tests.helpers import create_experiment

FIELDS = "id name pinned usageCount lastUsedAt filter orderBy valid problem"
CREATE = f"""mutation($i: CreateSavedSearchInput!) {{
  createSavedSearch(input: $i) {{ savedSearch {{ {FIELDS} }} }} }}"""
UPDATE = f"""mutation($i: UpdateSavedSearchInput!) {{
  updateSavedSearch(input: $i) {{ savedSearch {{ {FIELDS} }} }} }}"""
DELETE = "mutation($id: ID!) { deleteSavedSearch(input: {id: $id}) { id } }"
LIST = f"{{ savedSearches {{ totalCount edges {{ node {{ {FIELDS} }} }} }} }}"
RUN = """query($id: ID!, $first: Int, $after: String) { node(id: $id) { ... on SavedSearch {
  usageCount valid problem
  experiments(first: $first, after: $after) {
    totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } } } }"""


@pytest.fixture
def auth_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False})


@pytest.fixture
async def users(db: Database) -> dict[str, int]:
    ids: dict[str, int] = {}
    async with db.transaction() as session:
        for name in ("owner", "other"):
            user = await service.create_user(
                session,
                username=name,
                email=f"{name}@example.com",
                role=accounts.UserRole.MEMBER,
                password=PASSWORD,
            )
            ids[name] = user.id
    return ids


@pytest.fixture
async def owner(auth_settings: Settings, db: Database, users: dict[str, int]) -> Any:
    caller = Caller(create_app(auth_settings, db=db))
    await caller.login("owner")
    yield caller
    await caller.aclose()


@pytest.fixture
async def other(auth_settings: Settings, db: Database, users: dict[str, int]) -> Any:
    caller = Caller(create_app(auth_settings, db=db))
    await caller.login("other")
    yield caller
    await caller.aclose()


async def save(caller: Caller, **fields: Any) -> dict[str, Any]:
    data = await caller.gql.data(CREATE, {"i": fields})
    saved: dict[str, Any] = data["createSavedSearch"]["savedSearch"]
    return saved


async def run(caller: Caller, saved_id: str, **args: Any) -> dict[str, Any]:
    data = await caller.gql.data(RUN, {"id": saved_id, **args})
    node: dict[str, Any] = data["node"]
    return node


async def test_round_trip_runs_as_a_normal_connection_and_counts(owner):
    await create_experiment(owner.gql, "kiwi notes", training={"notes": "kiwi"})
    await create_experiment(owner.gql, "kiwi", kind="RESEARCH", research={"hypothesis": "h"})
    await create_experiment(owner.gql, "the kiwi study")
    await create_experiment(owner.gql, "apple")
    search_filter = {"search": "kiwi", "kinds": ["TRAINING", "RESEARCH"]}
    order = [{"field": "RELEVANCE", "direction": "DESC"}]
    saved = await save(owner, name=" Kiwis ", filter=search_filter, orderBy=order, pinned=True)
    assert saved["name"] == "Kiwis" and saved["pinned"] is True
    assert saved["filter"] == search_filter and saved["orderBy"] == order
    assert (saved["valid"], saved["problem"], saved["usageCount"]) == (True, None, 0)
    assert saved["lastUsedAt"] is None

    ran = await run(owner, saved["id"], first=2)
    page = ran["experiments"]
    # The same rows and order the experiments list gives for that filter and order.
    direct = await owner.gql.data(
        "query($f: ExperimentFilter, $o: [ExperimentOrder!]) { experiments(filter: $f, "
        "orderBy: $o) { edges { node { name } } } }",
        {"f": search_filter, "o": order},
    )
    expected = [e["node"]["name"] for e in direct["experiments"]["edges"]]
    assert sorted(expected) == ["kiwi", "kiwi notes", "the kiwi study"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    assert [e["node"]["name"] for e in page["edges"]] == expected[:2]
    rest = await run(owner, saved["id"], first=2, after=page["pageInfo"]["endCursor"])
    assert [e["node"]["name"] for e in rest["experiments"]["edges"]] == expected[2:]

    listed = (await owner.gql.data(LIST))["savedSearches"]["edges"]
    assert listed[0]["node"]["usageCount"] == 2
    assert listed[0]["node"]["lastUsedAt"] is not None


async def test_pinned_first_then_by_name_and_only_your_own(owner, other):
    for name, pinned in [("b", False), ("z", True), ("a", False), ("c", True)]:
        await save(owner, name=name, pinned=pinned)
    await save(other, name="mine")
    data = await owner.gql.data(LIST)
    assert [e["node"]["name"] for e in data["savedSearches"]["edges"]] == ["c", "z", "a", "b"]
    assert data["savedSearches"]["totalCount"] == 4
    data = await other.gql.data(LIST)
    assert [e["node"]["name"] for e in data["savedSearches"]["edges"]] == ["mine"]
    # Paging over the mixed-direction order visits each once.
    seen, after = [], None
    while True:
        page = (
            await owner.gql.data(
                "query($a: String) { savedSearches(first: 1, after: $a) { "
                "edges { node { name } } pageInfo { hasNextPage endCursor } } }",
                {"a": after},
            )
        )["savedSearches"]
        seen += [e["node"]["name"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["c", "z", "a", "b"]


async def test_validated_on_save(owner):
    relevance = [{"field": "RELEVANCE", "direction": "DESC"}]
    assert await owner.code(CREATE, {"i": {"name": "x", "orderBy": relevance}}) == "BAD_REQUEST"
    bad_id = {"name": "x", "filter": {"createdById": "not-an-id"}}
    assert await owner.code(CREATE, {"i": bad_id}) == "BAD_REQUEST"
    nul = {"name": "x", "filter": {"search": "a\x00"}}
    assert await owner.code(CREATE, {"i": nul}) == "BAD_REQUEST"
    assert await owner.code(CREATE, {"i": {"name": "  "}}) == "BAD_REQUEST"
    await save(owner, name="once")
    assert await owner.code(CREATE, {"i": {"name": "once"}}) == "CONFLICT"


async def test_update_and_delete_are_the_owners(owner, other):
    await create_experiment(owner.gql, "moose")
    await create_experiment(owner.gql, "elk")
    saved = await save(owner, name="deer", filter={"search": "moose"})
    changed = (
        await owner.gql.data(
            UPDATE, {"i": {"id": saved["id"], "filter": {"search": "elk"}, "pinned": True}}
        )
    )["updateSavedSearch"]["savedSearch"]
    assert changed["filter"] == {"search": "elk"} and changed["pinned"] is True
    assert changed["name"] == "deer"
    ran = await run(owner, saved["id"])
    assert [e["node"]["name"] for e in ran["experiments"]["edges"]] == ["elk"]
    # Another user sees nothing of it and cannot change or delete it.
    assert (await other.gql.data(RUN, {"id": saved["id"]}))["node"] is None
    assert await other.code(UPDATE, {"i": {"id": saved["id"], "name": "x"}}) == "NOT_FOUND"
    assert await other.code(DELETE, {"id": saved["id"]}) == "NOT_FOUND"
    relevance = [{"field": "RELEVANCE"}]
    assert (
        await owner.code(UPDATE, {"i": {"id": saved["id"], "filter": None, "orderBy": relevance}})
        == "BAD_REQUEST"
    )
    assert (await owner.gql.data(DELETE, {"id": saved["id"]}))["deleteSavedSearch"]["id"] == (
        saved["id"]
    )
    assert (await owner.gql.data(LIST))["savedSearches"]["totalCount"] == 0


async def test_usage_count_is_exact_under_16_concurrent_runs(owner):
    await create_experiment(owner.gql, "heron")
    saved = await save(owner, name="birds", filter={"search": "heron"})
    results = await asyncio.gather(*(run(owner, saved["id"]) for _ in range(16)))
    assert all(r["experiments"]["totalCount"] == 1 for r in results)
    after = await owner.gql.data(RUN, {"id": saved["id"], "first": 0})
    # The read above ran it once more.
    listed = (await owner.gql.data(LIST))["savedSearches"]["edges"][0]["node"]
    assert after["node"]["experiments"]["totalCount"] == 1
    assert listed["usageCount"] == 17


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ("not json at all", "not valid JSON"),
        ('{"filter": {"kinds": ["SPACESHIP"]}}', "SPACESHIP"),
        ('{"filter": {"colour": "red"}}', "colour"),
        ('{"filter": {"kinds": "TRAINING"}}', "list"),
        ('{"orderBy": [{"field": "WEIGHT"}]}', "WEIGHT"),
        ('{"orderBy": [{"field": "RELEVANCE"}]}', "RELEVANCE"),
        ('{"filter": {"createdAfter": "yesterday"}}', "createdAfter"),
        ("[1, 2]", "not an object"),
    ],
)
async def test_a_stored_search_that_no_longer_validates_is_reported(owner, db, stored, problem):
    saved = await save(owner, name="old", filter={"search": "x"})
    pk = decode_id(saved["id"])[1]
    async with db.transaction() as session:
        await session.execute(
            text("UPDATE saved_searches SET query = :q WHERE id = :id"), {"q": stored, "id": pk}
        )
    body = await owner.gql.post(RUN, {"id": saved["id"]})
    assert "errors" not in body, body
    node = body["data"]["node"]
    assert node["valid"] is False and problem in node["problem"]
    assert node["experiments"] is None and node["usageCount"] == 0
    listed = await owner.gql.data(LIST)
    assert listed["savedSearches"]["edges"][0]["node"]["valid"] is False
    # It can be repaired by saving a new filter.
    repaired = await owner.gql.data(UPDATE, {"i": {"id": saved["id"], "filter": {"search": "y"}}})
    assert repaired["updateSavedSearch"]["savedSearch"]["valid"] is True
    assert orjson.loads(orjson.dumps(repaired))  # plain JSON all the way


async def test_with_authentication_off_there_is_no_user(gql):
    data = await gql.data(LIST)
    assert data["savedSearches"]["totalCount"] == 0
    assert await gql.error_code(CREATE, {"i": {"name": "x"}}) == "FORBIDDEN"
