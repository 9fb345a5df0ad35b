"""The HTTP surface and the kernel's guarantees: transports, ids, errors, limits."""

from __future__ import annotations

import logging

from sqlalchemy import text
from starlette.testclient import TestClient

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db import migrate
from expgraph.graphql.relay import encode_id
from tests.helpers import create_experiment, create_tag


async def test_graphiql_on_browser_get(http):
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_queries_over_get_but_not_mutations(http, gql):
    await create_tag(gql, "x")
    response = await http.get("/graphql", params={"query": "{ tags { totalCount } }"})
    assert response.status_code == 200
    assert response.json()["data"]["tags"]["totalCount"] == 1
    mutation = 'mutation { createTag(input: {name: "y"}) { tag { id } } }'
    response = await http.get("/graphql", params={"query": mutation})
    assert response.status_code in (400, 405)
    assert (await gql.data("{ tags { totalCount } }"))["tags"]["totalCount"] == 1


async def test_health_and_readiness(http, settings):
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    ready = await http.get("/readyz")
    assert ready.status_code == 200, ready.text
    await_downgrade = migrate.downgrade(settings.database_url, "base")
    assert await_downgrade is None
    behind = await http.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["migrations"] == "behind"


def test_websocket_speaks_graphql_transport_ws(tmp_path):
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/ws.db", _env_file=None))
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init"})
        assert ws.receive_json() == {"type": "connection_ack"}
        ws.send_json({"type": "ping"})
        assert ws.receive_json()["type"] == "pong"


def test_a_websocket_authenticates_with_the_connection_init_payload(tmp_path):
    """Browsers cannot set headers on a WebSocket: GraphiQL sends its headers
    editor's Authorization in connection_init, and it counts as the header would."""
    from expgraph.db.engine import Database
    from expgraph.domains.accounts import models, service

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/ws-auth.db", auth_enabled=True, _env_file=None
    )
    subscribe = {
        "id": "1",
        "type": "subscribe",
        "payload": {
            "query": "subscription($id: ID!) { executionUpdates(experimentId: $id) { state } }",
            "variables": {"id": encode_id("EvaluationExperiment", 9999)},
        },
    }

    async def create_admin() -> None:
        database = Database(settings)
        try:
            async with database.transaction() as session:
                await service.create_user(
                    session,
                    username="ada",
                    email="ada@example.com",
                    role=models.UserRole.ADMIN,
                    password="correct horse battery staple",
                )
        finally:
            await database.dispose()

    migrate.upgrade(settings.database_url)

    def first_error(ws) -> str:
        message = ws.receive_json()  # an execution error comes as "next", a refusal as "error"
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        return errors[0]["extensions"]["code"]

    with TestClient(create_app(settings)) as client:
        client.portal.call(create_admin)
        login = client.post(
            "/graphql",
            json={
                "query": 'mutation { login(input: {username: "ada", '
                'password: "correct horse battery staple"}) { token } }'
            },
        )
        token = login.json()["data"]["login"]["token"]
        client.cookies.clear()  # only the connection_init payload may sign these in
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json()["type"] == "connection_ack"
            ws.send_json(subscribe)
            assert first_error(ws) == "UNAUTHENTICATED"
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            )
            assert ws.receive_json()["type"] == "connection_ack"
            ws.send_json(subscribe)
            assert first_error(ws) == "NOT_FOUND"  # signed in: the experiment is looked up
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"authorization": "Bearer nope"}})
            message = ws.receive()
            assert message["type"] == "websocket.close" and message["code"] == 4403


async def test_node_and_nodes_resolve_any_type(gql):
    experiment = await create_experiment(gql, "n1", "RESEARCH")
    tag = await create_tag(gql, "n2")
    data = await gql.data(
        """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }""",
        {"ids": [tag["id"], experiment["id"], "VGFnOjk5OTk"]},
    )
    assert data["nodes"] == [
        {"__typename": "Tag", "id": tag["id"]},
        {"__typename": "ResearchExperiment", "id": experiment["id"]},
        None,
    ]
    for bad in ("not base64 !", "bm9jb2xvbg", "VW5rbm93bjox"):  # garbage, no colon, unknown type
        code = await gql.error_code("query($id: ID!) { node(id: $id) { id } }", {"id": bad})
        assert code == "BAD_REQUEST", bad


async def test_validation_errors_are_bad_requests(gql):
    assert await gql.error_code("{ experiments { nope } }") == "BAD_REQUEST"
    assert await gql.error_code("{ experiments(filter: {kinds: [NOPE]}) { totalCount } }") == (
        "BAD_REQUEST"
    )
    assert await gql.error_code("{ experiments { ") == "BAD_REQUEST"
    assert (
        await gql.error_code(
            "query($k: [ExperimentKind!]) { experiments(filter: {kinds: $k}) { totalCount } }",
            {"k": ["NOPE"]},
        )
        == "BAD_REQUEST"
    )


async def test_depth_and_alias_limits(gql):
    deep = (
        "{ experiments { edges { node { tags { edges { node { experiments { edges { node {"
        " tags { edges { node { experiments { edges { node { id } } } } } } } } } } } } } } } }"
    )
    assert await gql.error_code(deep) == "BAD_REQUEST"
    aliases = "{ " + " ".join(f"a{i}: tags {{ totalCount }}" for i in range(40)) + " }"
    assert await gql.error_code(aliases) == "BAD_REQUEST"


async def test_unexpected_errors_are_masked_and_logged(gql, db, caplog):
    async with db.transaction() as session:
        await session.execute(text("DROP TABLE experiment_tags"))
        await session.execute(text("DROP TABLE tags"))
    with caplog.at_level(logging.ERROR, logger="expgraph.errors"):
        body = await gql.post("{ tags { totalCount } }")
    error = body["errors"][0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "tags" not in error["message"].lower()
    assert any(record.exc_info for record in caplog.records)


async def test_token_limit(gql):
    # No aliases and depth 1: only the token limit (5,000) refuses it.
    huge = "{ " + " ".join("__typename" for _ in range(6000)) + " }"
    body = await gql.post(huge)
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "token" in body["errors"][0]["message"].lower()


async def test_a_body_that_is_not_plain_json_is_refused_whole_with_a_coded_json_error(http):
    headers = {"content-type": "application/json"}
    cases = {
        b"{not json": 400,
        b'{"query": "{ __typename }", "variables": {"x": NaN}}': 400,
        b'{"query": "{ __typename }", "variables": {"x": 1e400}}': 400,
        b'{"query": "{ __typename }", "variables": {"x": 18446744073709551616}}': 400,
        b'{"query": "{ __typename }", "variables": {"x": -9223372036854775809}}': 400,
    }
    for body, status in cases.items():
        response = await http.post("/graphql", content=body, headers=headers)
        assert response.status_code == status, body
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    # 64-bit integers and long digit runs inside strings are fine
    fine = b'{"query": "{ __typename }", "variables": {"x": 9223372036854775807, "y": "12345678901234567890123"}}'
    response = await http.post("/graphql", content=fine, headers=headers)
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_method_graphql_does_not_take_gets_a_coded_json_error(http):
    response = await http.put("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
