"""Request limits, through the ASGI app over HTTP, on SQLite and PostgreSQL: each
is checked in time linear in the request (fragment fan-outs, comment-stuffed
documents and huge bodies are refused at once while the server keeps answering),
anonymous callers are refused before validation, the query cost counts lists
given in variables, and the protocol faults answer coded errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts import models, service
from expgraph.graphql.relay import encode_id
from tests.auth_helpers import LOGIN, PASSWORD, Caller
from tests.conftest import GraphQLClient

BAD_REQUEST, UNAUTHENTICATED = "BAD_REQUEST", "UNAUTHENTICATED"


def fan_out(levels: int, spreads: int = 4, leaf: str = "__typename") -> str:
    """``levels`` fragments, each spreading the next ``spreads`` times: a document
    of a few hundred bytes that expands to spreads^(levels-1) fields."""
    fragments = [
        f"fragment F{i} on Query {{ {f' ...F{i + 1}' * spreads} }}" for i in range(levels - 1)
    ]
    fragments.append(f"fragment F{levels - 1} on Query {{ {leaf} }}")
    return "query { ...F0 }\n" + "\n".join(fragments)


# The document that hung the server: 26 fragments, 4^25 paths, ~1,350 bytes.
FAN_OUT = fan_out(26)


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), f"expected an error, got {body}"
    assert body.get("data") is None, body
    error: dict[str, Any] = body["errors"][0]
    return error


async def refused(gql: GraphQLClient, query: str, variables: dict[str, Any] | None = None) -> str:
    """The message of a request refused with BAD_REQUEST."""
    error = error_of(await gql.post(query, variables))
    assert error["extensions"]["code"] == BAD_REQUEST, error
    return str(error["message"])


# --- linear validation ------------------------------------------------------------------


async def test_a_fragment_fan_out_is_refused_at_once_while_health_answers(gql, http):
    assert 1_300 < len(FAN_OUT) < 1_400
    started = time.perf_counter()
    body, health = await asyncio.gather(gql.post(FAN_OUT), http.get("/healthz"))
    elapsed = time.perf_counter() - started
    assert elapsed < 1, elapsed
    assert health.json() == {"status": "ok"}
    error = error_of(body)
    assert error["extensions"]["code"] == BAD_REQUEST
    assert "fragment spreads" in error["message"]


async def test_fields_are_counted_once_fragments_are_expanded(gql):
    # 4^4 = 256 fields pass; 4^5 = 1,024 (45 spreads, under their cap) do not.
    data = await gql.data(fan_out(5))
    assert data == {"__typename": "Query"}
    assert "more than 1000 fields" in await refused(gql, fan_out(6))
    # 4^11 (4 million) fields behind 44 spreads: refused as fast, without expanding them.
    started = time.perf_counter()
    assert "more than 1000 fields" in await refused(gql, fan_out(12))
    assert time.perf_counter() - started < 1


async def test_fragment_spreads_are_capped(gql):
    fragment = "fragment T on Query { __typename }"
    assert (await gql.data("{" + " ...T" * 100 + " } " + fragment)) == {"__typename": "Query"}
    message = await refused(gql, "{" + " ...T" * 101 + " } " + fragment)
    assert "more than 100 fragment spreads" in message


async def test_aliases_and_depth_are_counted_through_fragments(gql):
    aliases = " ".join(f"a{i}: __typename" for i in range(16))
    once = f"{{ ...A }} fragment A on Query {{ {aliases} }}"
    assert len(await gql.data(once)) == 16
    # The same 16 aliases spread twice are 32: over the 30 allowed.
    assert "more than 30 aliases" in await refused(gql, once.replace("...A", "...A ...A"))
    # 2^20 aliases behind 38 spreads: refused at once.
    fragments = [
        f"fragment F{i} on Query {{ a: __typename ...F{i + 1} ...F{i + 1} }}" for i in range(19)
    ]
    document = "{ ...F0 } " + " ".join(fragments) + " fragment F19 on Query { a: __typename }"
    started = time.perf_counter()
    assert "aliases" in await refused(gql, document)
    assert time.perf_counter() - started < 1
    # Depth through fragments: 3 levels in the operation, 6 in A, then B's.
    a = "fragment A on Experiment { tags { edges { node { experiments { edges { node { ...B } } } } } } }"
    twelve = "{ experiments { edges { node { ...A } } } } " + a
    b = " fragment B on Experiment { tags { edges { node { id } } } }"
    assert await gql.data(twelve + b) == {"experiments": {"edges": []}}
    b = " fragment B on Experiment { tags { edges { node { experiments { totalCount } } } } }"
    assert "deeper than 12 levels" in await refused(gql, twelve + b)


async def test_fragment_cycles_are_refused_without_looping(gql):
    cycle = "{ ...A } fragment A on Query { ...B __typename } fragment B on Query { ...A }"
    assert "within itself" in await refused(gql, cycle)


async def test_a_repeated_document_is_measured_and_validated_once(gql, monkeypatch):
    from expgraph.graphql import limits

    limits.parse_cached.cache_clear()
    measured: list[Any] = []
    real = limits.shape_refusal
    monkeypatch.setattr(limits, "shape_refusal", lambda *a: measured.append(a) or real(*a))
    document = "{ tags(first: 7) { totalCount } __typename }"
    for _ in range(3):
        assert (await gql.data(document))["tags"]["totalCount"] == 0
    assert len(measured) == 1


# --- the query cost ------------------------------------------------------------------------

NODES = "query($ids: [ID!]!) { " + " ".join(f"n{i}: nodes(ids: $ids) {{ id }}" for i in range(30))


async def test_ids_given_in_variables_count_in_the_cost(gql):
    ids = [encode_id("Tag", n) for n in range(1, 501)]
    # 30 aliases x 500 ids: 15,000 lookups from a 1 KB document.
    message = await refused(gql, NODES + " }", {"ids": ids})
    assert "costs 15000" in message and "limit of 10000" in message
    # Two of them cost 1,000: answered (nothing has those ids).
    two = "query($ids: [ID!]!) { a: nodes(ids: $ids) { id } b: nodes(ids: $ids) { id } }"
    data = await gql.data(two, {"ids": ids})
    assert data["a"] == data["b"] == [None] * 500


@pytest.fixture
async def cheap(settings: Settings, db: Database) -> AsyncIterator[GraphQLClient]:
    """A server whose queries may cost at most 100."""
    app = create_app(settings.model_copy(update={"max_query_cost": 100}), db=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        yield GraphQLClient(client)


async def test_the_cost_counts_pages_and_lists_in_literals_and_defaults(cheap):
    ids = ", ".join(f'"{encode_id("Tag", n)}"' for n in range(1, 102))
    assert "costs 101" in await refused(cheap, f"{{ nodes(ids: [{ids}]) {{ id }} }}")
    # A variable's default counts as if it were given.
    with_default = f"query($ids: [ID!]! = [{ids}]) {{ nodes(ids: $ids) {{ id }} }}"
    assert "costs 101" in await refused(cheap, with_default)
    # A page costs its size: 60 + the default page size (50) of the nested tags.
    nested = "{ experiments(first: 60) { edges { node { tags { totalCount } } } } }"
    assert "costs 110" in await refused(cheap, nested)
    # Pages sized in variables, and fragments spread twice, count too.
    paged = "query($n: Int) { ...P ...P } fragment P on Query { tags(first: $n) { totalCount } }"
    assert (await cheap.data(paged, {"n": 50}))["tags"]["totalCount"] == 0
    assert "costs 102" in await refused(cheap, paged, {"n": 51})
    assert (await cheap.data(paged, {"n": 50}))["tags"]["totalCount"] == 0


# --- bodies and documents -----------------------------------------------------------------


async def test_a_huge_body_is_refused_with_413_without_being_read(http):
    sent = 0

    async def hundred_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"query": "{ __typename }", "variables": {"x": "'
        chunk = b"0" * 65_536
        for _ in range(100 * 16):  # 100 MiB
            sent += len(chunk)
            yield chunk
        yield b'"}}'

    # (Digits: the request log's redaction of letters is slow on its own.)
    started = time.perf_counter()
    response = await http.post(
        "/graphql", content=hundred_megabytes(), headers={"content-type": "application/json"}
    )
    assert time.perf_counter() - started < 1
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == BAD_REQUEST and "larger than" in error["message"]
    assert sent <= 2 * 1024 * 1024 + 65_536  # stopped just past the 2 MiB limit


async def test_the_body_limit_does_not_trust_content_length(http, gql):
    async def three_megabytes() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"x": "' + b"0" * 3_000_000 + b'"}}'

    # A Content-Length that lies (20 bytes for 3 MB) changes nothing.
    response = await http.post(
        "/graphql",
        content=three_megabytes(),
        headers={"content-type": "application/json", "content-length": "20"},
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == BAD_REQUEST

    # One that declares too much is refused before anything is read.
    read = False

    async def small() -> AsyncIterator[bytes]:
        nonlocal read
        read = True
        yield b'{"query": "{ __typename }"}'

    response = await http.post(
        "/graphql",
        content=small(),
        headers={"content-type": "application/json", "content-length": str(3 * 1024 * 1024)},
    )
    assert response.status_code == 413 and not read
    # A body just under the limit, in chunks, is read whole and answered.
    padding = "0" * (2 * 1024 * 1024 - 200)
    data = await gql.data("query($p: String!) { __type(name: $p) { name } }", {"p": padding})
    assert data == {"__type": None}


async def test_a_comment_stuffed_document_is_refused_before_parsing(gql, http):
    # 1 MB of comments: within the body limit, over the document's 100,000 characters.
    stuffed = "{ __typename }\n" + ("#" + "0" * 999 + "\n") * 1_000
    started = time.perf_counter()
    message = await refused(gql, stuffed)
    assert time.perf_counter() - started < 1
    assert "longer than 100000 characters" in message
    # 10 MB of them never get past the body limit.
    started = time.perf_counter()
    response = await http.post("/graphql", json={"query": stuffed * 10})
    assert response.status_code == 413
    assert time.perf_counter() - started < 1


# --- anonymous callers ---------------------------------------------------------------------


@pytest.fixture
async def anonymous(settings: Settings, db: Database) -> AsyncIterator[Caller]:
    async with db.transaction() as session:
        await service.create_user(
            session,
            username="admin",
            email="admin@example.com",
            role=models.UserRole.ADMIN,
            password=PASSWORD,
        )
    changes = {"auth_enabled": True, "request_log_enabled": False}
    caller = Caller(create_app(settings.model_copy(update=changes), db=db))
    yield caller
    await caller.aclose()


async def test_anonymous_documents_are_refused_before_validation(anonymous):
    started = time.perf_counter()
    for document in (
        FAN_OUT,
        fan_out(12),
        "{ " + " ".join(f"a{i}: tags {{ totalCount }}" for i in range(500)) + " }",
        "{ tags { nope } }",  # invalid: refused before validation says so
    ):
        error = await anonymous.error(document)
        assert error["extensions"]["code"] == UNAUTHENTICATED, (document[:50], error)
    assert time.perf_counter() - started < 1
    # What anyone may do still works: sign in, and then the caller is known.
    login = await anonymous.login("admin")
    assert login["user"]["username"] == "admin"
    assert (await anonymous.gql.data("{ tags { totalCount } }"))["tags"]["totalCount"] == 0


async def test_an_anonymous_login_document_still_meets_the_limits(anonymous):
    # Open root fields, but the fragment fan-out inside login's selection is refused.
    document = (
        "mutation($u: String, $p: String!) { login(input: {username: $u, password: $p}) "
        "{ ...L } } fragment L on LoginPayload { " + " ...M" * 101 + " } "
        "fragment M on LoginPayload { token }"
    )
    error = await anonymous.error(document, {"u": "admin", "p": PASSWORD})
    assert error["extensions"]["code"] == BAD_REQUEST
    assert "fragment spreads" in error["message"]
    assert (await anonymous.gql.data(LOGIN, {"u": "admin", "p": PASSWORD}))["login"]["token"]


# --- protocol -----------------------------------------------------------------------------

SUBSCRIPTION = "subscription($e: ID!) { executionUpdates(experimentId: $e) { __typename } }"


async def test_a_subscription_over_http_is_a_bad_request(http):
    variables = {"e": encode_id("Experiment", 1)}
    response = await http.post("/graphql", json={"query": SUBSCRIPTION, "variables": variables})
    error = error_of(response.json())
    assert error["extensions"]["code"] == BAD_REQUEST and "WebSocket" in error["message"]
    response = await http.get(
        "/graphql", params={"query": SUBSCRIPTION, "variables": f'{{"e": "{variables["e"]}"}}'}
    )
    assert error_of(response.json())["extensions"]["code"] == BAD_REQUEST


async def test_several_operations_need_an_operation_name(gql, http):
    two = """mutation A { createTag(input: {name: "a"}) { tag { id } } }
             mutation B { createTag(input: {name: "b"}) { tag { id } } }"""
    assert "operationName" in await refused(gql, two)
    response = await http.post("/graphql", json={"query": two, "operationName": "C"})
    error = error_of(response.json())
    assert error["extensions"]["code"] == BAD_REQUEST and "'C'" in error["message"]
    # Nothing ran.
    tags = "{ tags { edges { node { name } } } }"
    assert (await gql.data(tags))["tags"]["edges"] == []
    # Named, the chosen one runs, and only it.
    response = await http.post("/graphql", json={"query": two, "operationName": "B"})
    assert response.json()["data"]["createTag"]["tag"]["id"]
    assert (await gql.data(tags))["tags"]["edges"] == [{"node": {"name": "b"}}]
    # One operation needs no name; a name that is not its own is refused.
    one = "query Only { __typename }"
    assert (await gql.data(one)) == {"__typename": "Query"}
    response = await http.post("/graphql", json={"query": one, "operationName": "Other"})
    assert error_of(response.json())["extensions"]["code"] == BAD_REQUEST


def test_refusals_over_websocket_are_errors_of_the_operation(settings):
    """The same refusals reach a WebSocket client as the operation's errors (the
    connection stays open); a subscription over WebSocket is not refused."""
    app = create_app(settings.model_copy(update={"request_log_enabled": False}))
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}
        refusals = ["query A { __typename } query B { __typename }", FAN_OUT, " " * 100_001]
        for n, query in enumerate(refusals):
            ws.send_json({"id": str(n), "type": "subscribe", "payload": {"query": query}})
            message = ws.receive_json()
            assert message["type"] == "error" and message["id"] == str(n), message
            assert message["payload"][0]["extensions"]["code"] == BAD_REQUEST, message
        ws.send_json({"id": "ok", "type": "subscribe", "payload": {"query": "{ __typename }"}})
        assert ws.receive_json()["payload"] == {"data": {"__typename": "Query"}}
