"""abTestUpdates over a WebSocket to a real server (issue 15), on both
databases: the first message has the counts as they are, an assignment stored
by assignUnit or by a unit's first event (recordEvents) shows up within seconds
as a new count (the notification, not the periodic re-read: that is set to a
minute here), a repeated assignment sends nothing, and an unknown A/B test is
NOT_FOUND, and a caller without READ is FORBIDDEN."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from starlette.testclient import TestClient

from expgraph.app import create_app
from expgraph.db.engine import Database
from expgraph.domains.abtest import hashing
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service
from expgraph.graphql.relay import encode_id
from tests.abtest_helpers import AbTest, ab_test, assign, event, record
from tests.auth_helpers import CREATE_KEY, LOGIN, PASSWORD
from tests.conftest import GraphQLClient
from tests.test_worker import _serve

UPDATES = """subscription($id: ID!) { abTestUpdates(experimentId: $id) {
  experimentId assignedUnits { variant { id } units } srm { pValue flagged } } }"""


class Watcher:
    """One abTestUpdates subscription; ``messages`` fills as they arrive."""

    def __init__(self, url: str, experiment_id: str) -> None:
        self.url = url.replace("http://", "ws://")
        self.experiment_id = experiment_id
        self.messages: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        async with websockets.connect(self.url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {"query": UPDATES, "variables": {"id": self.experiment_id}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
            async for raw in ws:
                self.messages.append(json.loads(raw))

    async def next(self, count: int, within: float = 5.0) -> dict[str, Any]:
        """Waits for message number ``count`` (1-based)."""
        deadline = time.monotonic() + within
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"no message {count}: {self.messages}"
            assert self.task is not None and not self.task.done(), self.messages
            await asyncio.sleep(0.05)
        return self.messages[count - 1]


def _counts(message: dict[str, Any]) -> dict[str, int]:
    assert message["type"] == "next", message
    assert not message["payload"].get("errors"), message
    update = message["payload"]["data"]["abTestUpdates"]
    return {c["variant"]["id"]: c["units"] for c in update["assignedUnits"]}


def _variant(test: AbTest, unit: str) -> str:
    index = hashing.assign_variant(test.name, unit, [Decimal(a) for a in test.allocations])
    assert index is not None
    return test.variants[index]


@pytest.fixture
async def server_gql(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A minute between re-reads: a count arriving within seconds came by notification.
    monkeypatch.setenv("EXPGRAPH_ABTEST_UPDATES_POLL_SECONDS", "60")
    process, url = _serve(database_url, tmp_path / "server.log")
    try:
        async with httpx.AsyncClient(base_url=url.removesuffix("/graphql"), timeout=60) as http:
            yield url, GraphQLClient(http)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_an_assignment_shows_up_as_a_new_count(server_gql):
    url, gql = server_gql
    test = await ab_test(gql, "live-counts", ("0.5", "0.5"))
    control, treatment = test.variants
    await assign(gql, test.id, "early-bird")  # assigned before subscribing
    before = {control: 0, treatment: 0}
    before[_variant(test, "early-bird")] += 1

    watcher = Watcher(url, test.id)
    watcher.task = asyncio.create_task(watcher.run())
    try:
        first = await watcher.next(1, within=10)
        update = first["payload"]["data"]["abTestUpdates"]
        assert update["experimentId"] == test.id
        assert _counts(first) == before
        assert [c["variant"]["id"] for c in update["assignedUnits"]] == test.variants
        assert update["srm"]["flagged"] is False and update["srm"]["pValue"] is not None

        # assignUnit stores a unit: a new count arrives.
        await assign(gql, test.id, "user-1")
        after = dict(before)
        after[_variant(test, "user-1")] += 1
        assert _counts(await watcher.next(2)) == after

        # Sticky: the same unit again changes nothing, so nothing is sent...
        await assign(gql, test.id, "user-1")
        # ...and a unit assigned by its first event is the next message.
        body = await record(gql, [event(test, "user-2", _variant(test, "user-2"))])
        assert body["data"]["recordEvents"]["accepted"] == 1, body
        latest = dict(after)
        latest[_variant(test, "user-2")] += 1
        assert _counts(await watcher.next(3)) == latest
        await asyncio.sleep(0.5)
        assert len(watcher.messages) == 3
    finally:
        watcher.task.cancel()


async def test_an_unknown_ab_test_is_not_found(server_gql):
    url, _ = server_gql
    watcher = Watcher(url, encode_id("AbTestExperiment", 987654))
    watcher.task = asyncio.create_task(watcher.run())
    try:
        message = await watcher.next(1, within=10)
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    finally:
        watcher.task.cancel()


def test_the_subscription_needs_the_read_permission(settings):
    """A WRITE-only API key is FORBIDDEN; a READ key reaches the resolver."""
    settings = settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False})

    async def create_member() -> None:
        database = Database(settings)
        try:
            async with database.transaction() as session:
                await service.create_user(
                    session,
                    username="member",
                    email="member@example.com",
                    role=accounts.UserRole.MEMBER,
                    password=PASSWORD,
                )
        finally:
            await database.dispose()

    subscribe = {
        "id": "1",
        "type": "subscribe",
        "payload": {"query": UPDATES, "variables": {"id": encode_id("AbTestExperiment", 4242)}},
    }
    with TestClient(create_app(settings)) as client:
        client.portal.call(create_member)
        token = client.post(
            "/graphql", json={"query": LOGIN, "variables": {"u": "member", "p": PASSWORD}}
        ).json()["data"]["login"]["token"]
        client.cookies.clear()
        codes = {}
        for scope in ("WRITE", "READ"):
            made = client.post(
                "/graphql",
                json={"query": CREATE_KEY, "variables": {"n": scope, "s": [scope]}},
                headers={"Authorization": f"Bearer {token}"},
            ).json()
            key = made["data"]["createApiKey"]["key"]
            with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
                init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
                ws.send_json(init)
                assert ws.receive_json()["type"] == "connection_ack"
                ws.send_json(subscribe)
                message = ws.receive_json()
                payload = message["payload"]
                errors = payload["errors"] if message["type"] == "next" else payload
                codes[scope] = errors[0]["extensions"]["code"]
    assert codes == {"WRITE": "FORBIDDEN", "READ": "NOT_FOUND"}
