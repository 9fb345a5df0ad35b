"""Remembered answers (graphql/compiled/answers.py): a POST that repeats a
request every root field of which compiled statements answered is answered by
those statements alone, with fresh data, for that caller only; anything else
takes the ordinary path."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts.models import UserRole
from expgraph.graphql.compiled import answers
from tests.auth_helpers import CREATE_KEY, LOGOUT, Caller, create_users
from tests.test_compiled import LIST, Pair, Writer, pair, seed

__all__ = ["pair"]  # the fixture, shared with test_compiled

RENAME = """mutation($id: ID!, $name: String!) {
  updateExperiment(input: {id: $id, name: $name}) { experiment { id name } } }"""


async def _post(client: httpx.AsyncClient, query: str, variables: Any = None) -> bytes:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code in (200, 400), response.text
    assert response.headers["content-type"] == "application/json"
    return response.content


async def test_a_repeated_request_runs_its_statements_alone(pair: Pair) -> None:
    """The second identical request answers byte for byte what the first did, with
    the one statement, and runs nothing else; the data is read anew each time."""
    made = await seed(pair)
    served = answers.served
    first = await _post(pair.compiled, LIST, {"first": 3})
    assert answers.served == served  # the first one executed (and compiled)
    pair.statements.reset()
    again = await _post(pair.compiled, LIST, {"first": 3})
    assert answers.served == served + 1
    assert again == first
    assert pair.statements.count == 1, pair.statements.sql
    # Fresh: a write shows in the next repeat (still answered from the statement).
    newest = orjson.loads(first)["data"]["experiments"]["edges"][0]["node"]
    await Writer(pair.executor).data(RENAME, {"id": newest["id"], "name": "renamed"})
    renamed = orjson.loads(await _post(pair.compiled, LIST, {"first": 3}))
    assert answers.served == served + 2
    assert renamed["data"]["experiments"]["edges"][0]["node"]["name"] == "renamed"
    assert renamed == orjson.loads(await _post(pair.executor, LIST, {"first": 3}))
    # Other variables are another request: executed first, then remembered too.
    second_page = await _post(pair.compiled, LIST, {"first": 2})
    assert answers.served == served + 2
    assert await _post(pair.compiled, LIST, {"first": 2}) == second_page
    assert answers.served == served + 3
    assert len(made) == 10


async def test_only_whole_error_free_single_query_posts_are_remembered(pair: Pair) -> None:
    """Refused, erroring, partly executed, batched, persisted, GET and mutation
    requests are executed every time; a refusal is never skipped."""
    await seed(pair)
    page = "{ experiments(first: 2) { totalCount edges { node { id name } } } }"
    repeated: list[tuple[str, Any]] = [
        ("{ experiments(first: 2) { edges { node { id nope } } } }", None),  # invalid
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "not an id"}),  # errors
        ("{ __typename experiments(first: 2) { totalCount } }", None),  # part executed
        ("{ experiments(first: 2) { totalCount } me { username } }", None),
        (RENAME, {"id": "bm90IGFuIGlk", "name": "x"}),  # a mutation
        ("{ experiments(first: 100000) { totalCount } }", None),  # past a limit
    ]
    served = answers.served
    for query, variables in repeated:
        bodies = [await _post(pair.compiled, query, variables) for _ in range(3)]
        assert bodies[0] == bodies[1] == bodies[2]
    for _ in range(3):  # GET, a batch, a persisted query's extensions
        await pair.compiled.get("/graphql", params={"query": page})
        batch = await pair.compiled.post("/graphql", json=[{"query": page}, {"query": page}])
        assert batch.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", batch.text
        persisted = {"query": page, "extensions": {"persistedQuery": {"version": 1}}}
        await pair.compiled.post("/graphql", json=persisted)
    assert answers.served == served
    errors = orjson.loads(await _post(pair.compiled, repeated[0][0]))["errors"]
    assert errors[0]["extensions"]["code"] == "BAD_REQUEST", errors


async def test_a_remembered_answer_is_only_its_callers(settings: Settings, db: Database) -> None:
    """With authentication on, the same body from another caller is that caller's
    own request (read rules differ); an anonymous caller is still refused; a
    session signed out is refused, not answered from memory."""
    await create_users(
        db, {"admin": UserRole.ADMIN, "ann": UserRole.MEMBER, "bob": UserRole.MEMBER}
    )
    app = create_app(
        settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False}), db=db
    )
    admin, ann, bob, anonymous = Caller(app), Caller(app), Caller(app), Caller(app)
    try:
        await admin.login("admin")
        await ann.login("ann")
        await bob.login("bob")
        key = (await ann.gql.data(CREATE_KEY, {"n": "ann's", "s": ["READ"]}))["createApiKey"]
        node = "query($id: ID!) { node(id: $id) { id ... on ApiKey { name } } }"
        variables = {"id": key["apiKey"]["id"]}
        served = answers.served
        seen: dict[str, list[Any]] = {"admin": [], "ann": [], "bob": []}
        for _ in range(3):
            for name, caller in [("ann", ann), ("bob", bob), ("admin", admin)]:
                body = orjson.loads((await caller.raw(node, variables)).content)
                seen[name].append(body["data"]["node"])
            refused = orjson.loads((await anonymous.raw(node, variables)).content)
            assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", refused
        assert answers.served == served + 6  # each caller's last two
        assert seen["ann"] == seen["admin"] == [{"id": variables["id"], "name": "ann's"}] * 3
        assert seen["bob"] == [None] * 3
        await ann.gql.data(LOGOUT)
        signed_out = orjson.loads((await ann.raw(node, variables)).content)
        assert signed_out["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", signed_out
        assert answers.served == served + 6
    finally:
        for caller in (admin, ann, bob, anonymous):
            await caller.aclose()
