"""hpoCampaignUpdates over a WebSocket to a real server (both databases): the
campaign's progress arrives when subscribing, then after each claim, report and
finish of its trials."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import GraphQLClient
from tests.test_training_hpo import REPORT, claim, create, finish, holder
from tests.test_worker import _serve

UPDATES = """subscription($id: ID!) { hpoCampaignUpdates(campaignId: $id) {
  campaignId status trialsTotal trialsCompleted bestValue
  progress { running completed pruned failed remaining } } }"""


class Watcher:
    def __init__(self, url: str, campaign_id: str) -> None:
        self.url = url.replace("http://", "ws://")
        self.campaign_id = campaign_id
        self.messages: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        async with websockets.connect(self.url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {"query": UPDATES, "variables": {"id": self.campaign_id}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
            async for raw in ws:
                self.messages.append(json.loads(raw))

    async def next(self, count: int, within: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"no message {count}: {self.messages}"
            assert self.task is not None and not self.task.done(), self.messages
            await asyncio.sleep(0.05)
        message = self.messages[count - 1]
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        return message["payload"]["data"]["hpoCampaignUpdates"]  # type: ignore[no-any-return]


@pytest.fixture
async def server_gql(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A minute between re-reads: an update arriving within seconds came by notification.
    monkeypatch.setenv("EXPGRAPH_ABTEST_UPDATES_POLL_SECONDS", "60")
    process, url = _serve(database_url, tmp_path / "server.log")
    try:
        async with httpx.AsyncClient(base_url=url.removesuffix("/graphql"), timeout=60) as http:
            yield url, GraphQLClient(http)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_progress_is_pushed_after_each_claim_report_and_finish(server_gql):
    url, gql = server_gql
    campaign = await create(gql, budget={"maxTrials": 1, "maxParallel": 1})
    watcher = Watcher(url, campaign["id"])
    watcher.task = asyncio.create_task(watcher.run())
    try:
        first = await watcher.next(1, within=20)
        assert first["campaignId"] == campaign["id"] and first["status"] == "PENDING"
        assert first["progress"]["remaining"] == 1
        trial = await claim(gql, campaign["id"])
        assert trial is not None
        claimed = await watcher.next(2)
        assert claimed["status"] == "RUNNING" and claimed["progress"]["running"] == 1
        await gql.data(REPORT, {**holder(trial), "epoch": 0, "v": 0.4})
        reported = await watcher.next(3)
        assert reported["progress"]["running"] == 1
        await finish(gql, trial, v=0.6)
        done = await watcher.next(4)
        assert done["status"] == "COMPLETED" and done["bestValue"] == 0.6
        assert done["progress"]["completed"] == 1 and done["trialsCompleted"] == 1
    finally:
        watcher.task.cancel()
