"""Users through the HTTP API: creation and its checks, the users query, the
experiments a user created, and that no password hash ever leaves the server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from expgraph.domains.accounts.models import User as UserRecord
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.graphql.relay import decode_id
from tests.conftest import GraphQLClient

USER_FIELDS = "id username email role isActive totpEnabled createdAt updatedAt"
CREATE_USER = (
    "mutation($input: CreateUserInput!) { createUser(input: $input) { user { "
    + USER_FIELDS
    + " } } }"
)
USERS_PAGE = """
query($filter: UserFilter, $orderBy: [UserOrder!], $first: Int, $after: String) {
  users(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    edges { cursor node { username email role isActive } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""
CREATE_EXPERIMENT = """
mutation($input: CreateExperimentInput!) {
  createExperiment(input: $input) { experiment { id name kind } }
}"""
KIND_BLOCKS: dict[str, dict[str, Any]] = {
    "TRAINING": {"training": {"modelType": "mlp"}},
    "SIMULATION": {"simulation": {"masterSeed": "123"}},
    "RESEARCH": {"research": {"hypothesis": "Users like owning things"}},
    "AB_TEST": {"abTest": {"unitType": "USER"}},
    "EVALUATION": {},
}
PASSWORD = "correct horse battery"


# --- helpers -----------------------------------------------------------------------


async def create_user(
    gql: GraphQLClient,
    username: str,
    email: str | None = None,
    role: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"username": username, "email": email or f"{username}@example.com"}
    if role is not None:
        payload["role"] = role
    if password is not None:
        payload["password"] = password
    data = await gql.data(CREATE_USER, {"input": payload})
    user: dict[str, Any] = data["createUser"]["user"]
    return user


async def user_total(gql: GraphQLClient) -> int:
    return int((await gql.data("{ users { totalCount } }"))["users"]["totalCount"])


async def usernames(gql: GraphQLClient, **variables: Any) -> list[str]:
    page = (await gql.data(USERS_PAGE, variables))["users"]
    assert page["totalCount"] >= len(page["edges"])
    return [edge["node"]["username"] for edge in page["edges"]]


async def create_experiment(
    gql: GraphQLClient, name: str, kind: str = "TRAINING"
) -> dict[str, Any]:
    payload = {"kind": kind, "name": name, **KIND_BLOCKS[kind]}
    experiment: dict[str, Any] = (await gql.data(CREATE_EXPERIMENT, {"input": payload}))[
        "createExperiment"
    ]["experiment"]
    return experiment


def pk(global_id: str) -> int:
    return decode_id(global_id)[1]


async def set_creator(db: Any, experiment_ids: list[str], user_id: str) -> None:
    """The API acts as an anonymous local admin, so record an owner directly."""
    async with db.transaction() as session:
        await session.execute(
            update(ExperimentRecord.__table__)
            .where(ExperimentRecord.__table__.c.id.in_([pk(i) for i in experiment_ids]))
            .values(created_by=pk(user_id))
        )


async def set_active(db: Any, user_id: str, active: bool) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(UserRecord.__table__)
            .where(UserRecord.__table__.c.id == pk(user_id))
            .values(is_active=active)
        )


async def stored_hash(db: Any, user_id: str) -> str | None:
    query = select(UserRecord.password_hash).where(UserRecord.id == pk(user_id))
    async with db.read() as session:
        return await session.scalar(query)


async def raw_post(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> str:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code in (200, 400), response.text
    return response.text


def assert_no_secret(text: str) -> None:
    assert "$argon2" not in text, text
    assert PASSWORD not in text, text


# --- createUser --------------------------------------------------------------------


async def test_create_user_returns_public_fields_and_hashes_password(gql, http, db):
    text = await raw_post(
        http,
        CREATE_USER,
        {
            "input": {
                "username": "  alice  ",
                "email": "  Alice@Example.COM ",
                "role": "ADMIN",
                "password": PASSWORD,
            }
        },
    )
    assert_no_secret(text)
    user = httpx.Response(200, content=text).json()["data"]["createUser"]["user"]
    assert user["username"] == "alice"
    assert user["email"] == "alice@example.com"
    assert user["role"] == "ADMIN"
    assert user["isActive"] is True
    assert user["totpEnabled"] is False
    assert user["createdAt"].endswith("Z")

    stored = await stored_hash(db, user["id"])
    assert stored is not None and stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, PASSWORD)

    member = await create_user(gql, "bob")
    assert member["role"] == "MEMBER"
    assert await stored_hash(db, member["id"]) is None
    exact = await create_user(gql, "carol", password="x" * 12)
    assert (await stored_hash(db, exact["id"]) or "").startswith("$argon2id$")

    node = (
        await gql.data(
            "query($id: ID!) { node(id: $id) { __typename ... on User { username } } }",
            {"id": user["id"]},
        )
    )["node"]
    assert node == {"__typename": "User", "username": "alice"}
    assert await user_total(gql) == 3


@pytest.mark.parametrize(
    "username",
    ["", "ab", "  ab  ", "has space", "x" * 51, "bad/char", "semi;colon", "émile", "tab\tname"],
)
async def test_create_user_rejects_bad_username(gql, username):
    await create_user(gql, "existing")
    code = await gql.error_code(CREATE_USER, {"input": {"username": username, "email": "ok@ex.io"}})
    assert code == "BAD_REQUEST"
    assert await user_total(gql) == 1


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plain",
        "a@b",
        "@example.com",
        "user@",
        "two@@example.com",
        "sp ace@example.com",
        "x" * 250 + "@example.com",
    ],
)
async def test_create_user_rejects_bad_email(gql, email):
    await create_user(gql, "existing")
    code = await gql.error_code(CREATE_USER, {"input": {"username": "newbie", "email": email}})
    assert code == "BAD_REQUEST"
    assert await user_total(gql) == 1


@pytest.mark.parametrize("password", ["", "short", "x" * 11, "elevenchars"])
async def test_create_user_rejects_short_password(gql, http, password):
    await create_user(gql, "existing")
    text = await raw_post(
        http,
        CREATE_USER,
        {"input": {"username": "newbie", "email": "newbie@example.com", "password": password}},
    )
    body = httpx.Response(200, content=text).json()
    assert body.get("errors"), body
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "$argon2" not in text
    assert await user_total(gql) == 1


async def test_create_user_rejects_unknown_role(gql):
    code = await gql.error_code(
        CREATE_USER, {"input": {"username": "boss", "email": "boss@example.com", "role": "ROOT"}}
    )
    assert code == "BAD_REQUEST"
    assert await user_total(gql) == 0


@pytest.mark.parametrize(
    ("username", "email"),
    [
        ("alice", "other@example.com"),
        ("  alice ", "other@example.com"),
        ("someone", "alice@example.com"),
        ("someone", "ALICE@Example.com"),
        ("alice", "alice@example.com"),
    ],
)
async def test_create_user_duplicates_conflict(gql, username, email):
    await create_user(gql, "alice", "alice@example.com")
    code = await gql.error_code(
        CREATE_USER, {"input": {"username": username, "email": email, "password": PASSWORD}}
    )
    assert code == "CONFLICT"
    assert await usernames(gql) == ["alice"]


async def test_concurrent_create_user_same_username_one_wins(gql):
    bodies = await asyncio.gather(
        *(
            gql.post(CREATE_USER, {"input": {"username": "racer", "email": f"racer{i}@ex.io"}})
            for i in range(6)
        )
    )
    winners = [b for b in bodies if not b.get("errors")]
    codes = [b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors")]
    assert len(winners) == 1, bodies
    assert codes == ["CONFLICT"] * 5, bodies
    assert await user_total(gql) == 1


# --- users query -------------------------------------------------------------------


async def seed_users(gql: GraphQLClient, db: Any) -> dict[str, dict[str, Any]]:
    specs = [
        ("carol", "carol@example.com", "VIEWER"),
        ("alice", "alice@corp.io", "ADMIN"),
        ("dave_x", "dave@example.com", "MEMBER"),
        ("bob", "bob@CORP.io", "MEMBER"),
        ("erin", "erin@example.com", "VIEWER"),
        ("davex", "x100%@example.com", "MEMBER"),
    ]
    users = {}
    for username, email, role in specs:
        users[username] = await create_user(gql, username, email, role, password=PASSWORD)
    await set_active(db, users["erin"]["id"], False)
    return users


async def test_users_default_order_and_fields(gql, db):
    await seed_users(gql, db)
    page = (await gql.data(USERS_PAGE))["users"]
    assert [e["node"]["username"] for e in page["edges"]] == [
        "alice",
        "bob",
        "carol",
        "dave_x",
        "davex",
        "erin",
    ]
    assert page["totalCount"] == 6
    by_name = {e["node"]["username"]: e["node"] for e in page["edges"]}
    assert by_name["bob"]["email"] == "bob@corp.io"
    assert by_name["alice"]["role"] == "ADMIN"
    assert by_name["erin"]["isActive"] is False


@pytest.mark.parametrize(
    ("user_filter", "expected"),
    [
        ({"roles": ["ADMIN"]}, ["alice"]),
        ({"roles": ["ADMIN", "VIEWER"]}, ["alice", "carol", "erin"]),
        ({"roles": []}, []),
        ({"isActive": False}, ["erin"]),
        ({"isActive": True}, ["alice", "bob", "carol", "dave_x", "davex"]),
        ({"roles": ["VIEWER"], "isActive": True}, ["carol"]),
        ({"search": "CORP"}, ["alice", "bob"]),
        ({"search": "Ali"}, ["alice"]),
        ({"search": "_"}, ["dave_x"]),
        ({"search": "%"}, ["davex"]),
        ({"search": "dave"}, ["dave_x", "davex"]),
        ({"search": "nobody-matches"}, []),
        ({"or": [{"roles": ["ADMIN"]}, {"isActive": False}]}, ["alice", "erin"]),
        ({"not": {"roles": ["MEMBER"]}}, ["alice", "carol", "erin"]),
        ({"and": [{"search": "example"}, {"not": {"roles": ["VIEWER"]}}]}, ["dave_x", "davex"]),
        (
            {"or": [{"and": [{"roles": ["MEMBER"]}, {"search": "corp"}]}, {"search": "carol"}]},
            ["bob", "carol"],
        ),
    ],
)
async def test_users_filter(gql, db, user_filter, expected):
    await seed_users(gql, db)
    page = (await gql.data(USERS_PAGE, {"filter": user_filter}))["users"]
    assert [e["node"]["username"] for e in page["edges"]] == expected
    assert page["totalCount"] == len(expected)


async def test_users_order_and_pagination(gql, db):
    await seed_users(gql, db)
    created = ["carol", "alice", "dave_x", "bob", "erin", "davex"]
    assert await usernames(gql, orderBy=[{"field": "USERNAME", "direction": "DESC"}]) == [
        "erin",
        "davex",
        "dave_x",
        "carol",
        "bob",
        "alice",
    ]
    assert await usernames(gql, orderBy=[{"field": "CREATED_AT"}]) == created
    assert await usernames(gql, orderBy=[{"field": "CREATED_AT", "direction": "DESC"}]) == list(
        reversed(created)
    )

    for order, expected in (
        (None, sorted(created)),
        ([{"field": "CREATED_AT", "direction": "DESC"}], list(reversed(created))),
    ):
        seen: list[str] = []
        after = None
        while True:
            page = (await gql.data(USERS_PAGE, {"orderBy": order, "first": 4, "after": after}))[
                "users"
            ]
            assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
            seen += [e["node"]["username"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == expected

    page = (await gql.data(USERS_PAGE, {"filter": {"roles": ["MEMBER"]}, "first": 2}))["users"]
    assert [e["node"]["username"] for e in page["edges"]] == ["bob", "dave_x"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] is True
    rest = (
        await gql.data(
            USERS_PAGE,
            {"filter": {"roles": ["MEMBER"]}, "first": 2, "after": page["pageInfo"]["endCursor"]},
        )
    )["users"]
    assert [e["node"]["username"] for e in rest["edges"]] == ["davex"]
    assert rest["pageInfo"]["hasNextPage"] is False

    assert await gql.error_code(USERS_PAGE, {"first": 2, "after": "garbage"}) == "BAD_REQUEST"
    assert await gql.error_code(USERS_PAGE, {"orderBy": [{"field": "EMAIL"}]}) == "BAD_REQUEST"


# --- User.experiments --------------------------------------------------------------

USER_EXPERIMENTS = """
query($id: ID!, $filter: ExperimentFilter, $orderBy: [ExperimentOrder!], $first: Int,
      $after: String) {
  node(id: $id) {
    ... on User {
      username
      experiments(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
        totalCount
        edges { node { name kind createdBy { username } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}"""


async def user_experiments(gql: GraphQLClient, user_id: str, **variables: Any) -> dict[str, Any]:
    node = (await gql.data(USER_EXPERIMENTS, {"id": user_id, **variables}))["node"]
    connection: dict[str, Any] = node["experiments"]
    return connection


async def test_user_experiments_connection(gql, db):
    owner = await create_user(gql, "owner")
    other = await create_user(gql, "other")
    idle = await create_user(gql, "idle")
    mine = [
        await create_experiment(gql, "m-train", "TRAINING"),
        await create_experiment(gql, "m-sim", "SIMULATION"),
        await create_experiment(gql, "m-research", "RESEARCH"),
        await create_experiment(gql, "m-gone", "AB_TEST"),
    ]
    theirs = await create_experiment(gql, "t-eval", "EVALUATION")
    orphan = await create_experiment(gql, "orphan", "TRAINING")
    await set_creator(db, [e["id"] for e in mine], owner["id"])
    await set_creator(db, [theirs["id"]], other["id"])
    await gql.data(
        "mutation($id: ID!) { deleteExperiment(input: {id: $id}) { experiment { id } } }",
        {"id": mine[3]["id"]},
    )

    connection = await user_experiments(gql, owner["id"], orderBy=[{"field": "NAME"}])
    assert [(e["node"]["name"], e["node"]["kind"]) for e in connection["edges"]] == [
        ("m-research", "RESEARCH"),
        ("m-sim", "SIMULATION"),
        ("m-train", "TRAINING"),
    ]
    assert connection["totalCount"] == 3
    assert all(e["node"]["createdBy"] == {"username": "owner"} for e in connection["edges"])

    # Default order: newest first.
    newest = await user_experiments(gql, owner["id"])
    assert [e["node"]["name"] for e in newest["edges"]] == ["m-research", "m-sim", "m-train"]

    filtered = await user_experiments(gql, owner["id"], filter={"kinds": ["SIMULATION", "AB_TEST"]})
    assert [e["node"]["name"] for e in filtered["edges"]] == ["m-sim"]
    assert filtered["totalCount"] == 1

    first = await user_experiments(
        gql, owner["id"], orderBy=[{"field": "NAME", "direction": "DESC"}], first=2
    )
    assert [e["node"]["name"] for e in first["edges"]] == ["m-train", "m-sim"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = await user_experiments(
        gql,
        owner["id"],
        orderBy=[{"field": "NAME", "direction": "DESC"}],
        first=2,
        after=first["pageInfo"]["endCursor"],
    )
    assert [e["node"]["name"] for e in second["edges"]] == ["m-research"]
    assert second["pageInfo"]["hasNextPage"] is False

    assert [e["node"]["name"] for e in (await user_experiments(gql, other["id"]))["edges"]] == [
        "t-eval"
    ]
    assert await user_experiments(gql, idle["id"]) == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }
    orphan_node = (
        await gql.data(
            "query($id: ID!) { node(id: $id) { ... on Experiment { createdBy { id } } } }",
            {"id": orphan["id"]},
        )
    )["node"]
    assert orphan_node == {"createdBy": None}
    by_creator = await gql.data(
        "query($u: ID!) { experiments(filter: {createdById: $u}) { totalCount } }",
        {"u": owner["id"]},
    )
    assert by_creator["experiments"]["totalCount"] == 3

    # All users with their experiments in one request.
    everyone = await gql.data(
        "{ users { edges { node { username experiments { totalCount } } } } }"
    )
    counts = {
        e["node"]["username"]: e["node"]["experiments"]["totalCount"]
        for e in everyone["users"]["edges"]
    }
    assert counts == {"idle": 0, "other": 1, "owner": 3}


# --- secrets never leave ------------------------------------------------------------

EVERYTHING_ABOUT_USERS = """
query($id: ID!) {
  users { edges { node { id username email role isActive totpEnabled createdAt updatedAt } } }
  node(id: $id) { __typename id ... on User { username email role isActive totpEnabled } }
  nodes(ids: [$id]) { id ... on User { username } }
  experiments { edges { node { name createdBy { id username email role } } } }
  datasets { edges { node { name createdBy { username } } } }
}"""


async def test_no_response_contains_a_password_hash(gql, http, db):
    users = [
        await create_user(gql, f"user{i}", role=role, password=f"{PASSWORD}-{i}")
        for i, role in enumerate(["ADMIN", "MEMBER", "VIEWER"])
    ]
    for user in users:
        assert (await stored_hash(db, user["id"]) or "").startswith("$argon2id$")
    experiment = await create_experiment(gql, "owned")
    await set_creator(db, [experiment["id"]], users[0]["id"])

    text = await raw_post(http, EVERYTHING_ABOUT_USERS, {"id": users[0]["id"]})
    assert_no_secret(text)
    body = httpx.Response(200, content=text).json()
    assert not body.get("errors"), body
    assert len(body["data"]["users"]["edges"]) == 3
    assert body["data"]["experiments"]["edges"][0]["node"]["createdBy"]["username"] == "user0"

    # Asking for the secret columns by name fails validation and leaks nothing.
    for field in ("passwordHash", "password", "password_hash", "totpSecret"):
        text = await raw_post(http, "{ users { edges { node { " + field + " } } } }")
        assert_no_secret(text)
        body = httpx.Response(200, content=text).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    # The schema itself offers no such field.
    text = await raw_post(http, '{ __type(name: "User") { fields { name } } }')
    fields = {
        f["name"] for f in httpx.Response(200, content=text).json()["data"]["__type"]["fields"]
    }
    assert not {f for f in fields if "password" in f.lower() or "totp" in f.lower()} - {
        "totpEnabled"
    }

    # Failing mutations do not echo the password or its hash either.
    text = await raw_post(
        http,
        CREATE_USER,
        {"input": {"username": "user0", "email": "dup@example.com", "password": PASSWORD}},
    )
    assert_no_secret(text)
    assert '"CONFLICT"' in text


# --- the last active admin ------------------------------------------------------------

UPDATE_USER = """mutation($id: ID!, $role: UserRole, $active: Boolean) {
  updateUser(input: {id: $id, role: $role, isActive: $active}) { user { role isActive } } }"""


async def roles(gql: GraphQLClient) -> dict[str, tuple[str, bool]]:
    page = (await gql.data(USERS_PAGE, {"first": 50}))["users"]
    return {
        e["node"]["username"]: (e["node"]["role"], e["node"]["isActive"]) for e in page["edges"]
    }


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(gql):
    first = await create_user(gql, "first", role="ADMIN")
    for change in ({"role": "MEMBER"}, {"role": "VIEWER"}, {"active": False}):
        body = await gql.post(UPDATE_USER, {"id": first["id"], **change})
        assert body["errors"][0]["extensions"]["code"] == "CONFLICT", body
        assert "last active admin" in body["errors"][0]["message"]
    assert await roles(gql) == {"first": ("ADMIN", True)}
    # Changes that keep them an active admin are fine.
    await gql.data(UPDATE_USER, {"id": first["id"], "role": "ADMIN", "active": True})

    second = await create_user(gql, "second", role="ADMIN")
    await gql.data(UPDATE_USER, {"id": first["id"], "role": "MEMBER"})
    assert await gql.error_code(UPDATE_USER, {"id": second["id"], "active": False}) == "CONFLICT"
    # An inactive admin is no admin: it does not count as the one left.
    await gql.data(UPDATE_USER, {"id": first["id"], "role": "ADMIN", "active": False})
    assert await gql.error_code(UPDATE_USER, {"id": second["id"], "role": "VIEWER"}) == "CONFLICT"
    assert await roles(gql) == {"first": ("ADMIN", False), "second": ("ADMIN", True)}
    # Reactivated, the first one lets the second go.
    await gql.data(UPDATE_USER, {"id": first["id"], "active": True})
    await gql.data(UPDATE_USER, {"id": second["id"], "active": False})
    assert await roles(gql) == {"first": ("ADMIN", True), "second": ("ADMIN", False)}


async def test_two_admins_demoting_each_other_at_once_leave_one(gql):
    a = await create_user(gql, "admin_a", role="ADMIN")
    b = await create_user(gql, "admin_b", role="ADMIN")
    bodies = await asyncio.gather(
        gql.post(UPDATE_USER, {"id": a["id"], "role": "MEMBER"}),
        gql.post(UPDATE_USER, {"id": b["id"], "active": False}),
    )
    codes = sorted(body["errors"][0]["extensions"]["code"] for body in bodies if body.get("errors"))
    assert codes == ["CONFLICT"], bodies
    left = [
        name for name, (role, active) in (await roles(gql)).items() if role == "ADMIN" and active
    ]
    assert len(left) == 1
