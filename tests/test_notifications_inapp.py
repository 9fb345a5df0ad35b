"""In-app notifications over HTTP: myNotifications (unread first, then newest;
keyset pages), unreadNotificationCount, markNotificationsRead, and the
notifications subscription fed by `expgraph serve`'s own background deliverer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, emit
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service as accounts_service
from expgraph.domains.notifications import deliver
from expgraph.graphql.relay import decode_id
from tests.auth_helpers import LOGIN, PASSWORD, Caller
from tests.test_worker import _serve

LIST = """query($first: Int, $after: String, $last: Int, $before: String, $unread: Boolean) {
  myNotifications(first: $first, after: $after, last: $last, before: $before,
                  unreadOnly: $unread) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title body eventType isRead readAt data } } } }"""
COUNT = "{ unreadNotificationCount }"
MARK = """mutation($ids: [ID!], $all: Boolean) {
  markNotificationsRead(input: {ids: $ids, all: $all}) { updated } }"""


async def _user(db: Database, name: str) -> int:
    async with db.transaction() as session:
        user = await accounts_service.create_user(
            session,
            username=name,
            email=f"{name}@example.com",
            role=accounts.UserRole.VIEWER,
            password=PASSWORD,
        )
        return int(user.id)


async def _notify(db: Database, settings: Settings, user_id: int, *names: str) -> None:
    """One in-app notification per name, through the outbox and the deliverer."""
    async with db.transaction() as session:
        for name in names:
            await emit(
                session,
                EventType.EXPERIMENT_COMPLETED,
                {"experiment_id": 1, "name": name, "old_status": "running"},
                user_id=user_id,
            )
    await deliver.run_once(db, settings, {})


@pytest.fixture
async def two_users(settings: Settings, db: Database) -> AsyncIterator[tuple[Caller, Caller]]:
    app = create_app(
        settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False}), db=db
    )
    callers = []
    for name in ("ada", "bob"):
        await _user(db, name)
        caller = Caller(app)
        await caller.login(name)
        callers.append(caller)
    yield callers[0], callers[1]
    for caller in callers:
        await caller.aclose()


def _titles(data: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in data["myNotifications"]["edges"]]


async def test_unread_first_then_newest_with_pages_and_marking_read(two_users, db, settings):
    ada, bob = two_users
    await _notify(db, settings, await _pk(db, "ada"), "n1", "n2", "n3", "n4", "n5")
    await _notify(db, settings, await _pk(db, "bob"), "bob-only")

    everything = await ada.gql.data(LIST)
    assert _titles(everything) == [f"Experiment n{i} completed" for i in (5, 4, 3, 2, 1)]
    assert everything["myNotifications"]["totalCount"] == 5
    node = everything["myNotifications"]["edges"][0]["node"]
    assert node["eventType"] == "EXPERIMENT_COMPLETED" and node["isRead"] is False
    assert node["data"]["name"] == "n5" and node["body"] == "Its status went from running."
    ids = {
        e["node"]["title"].split()[1]: e["node"]["id"]
        for e in everything["myNotifications"]["edges"]
    }
    assert (await ada.gql.data(COUNT))["unreadNotificationCount"] == 5

    # Read n4 and n2 (bob's id among them changes nothing of bob's).
    bob_notification = (await bob.gql.data(LIST))["myNotifications"]["edges"][0]["node"]["id"]
    marked = await ada.gql.data(MARK, {"ids": [ids["n4"], ids["n2"], bob_notification]})
    assert marked["markNotificationsRead"]["updated"] == 2
    assert (await ada.gql.data(MARK, {"ids": [ids["n4"]]}))["markNotificationsRead"]["updated"] == 0
    assert (await bob.gql.data(COUNT))["unreadNotificationCount"] == 1
    assert (await ada.gql.data(COUNT))["unreadNotificationCount"] == 3

    order = [f"Experiment n{i} completed" for i in (5, 3, 1, 4, 2)]
    assert _titles(await ada.gql.data(LIST)) == order
    # Forward pages of two, across the unread/read boundary.
    seen, after = [], None
    while True:
        page = await ada.gql.data(LIST, {"first": 2, "after": after})
        seen += _titles(page)
        info = page["myNotifications"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == order
    # Backward pages of two from the end.
    seen, before = [], None
    while True:
        page = await ada.gql.data(LIST, {"last": 2, "before": before})
        seen = _titles(page) + seen
        info = page["myNotifications"]["pageInfo"]
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert seen == order

    unread = await ada.gql.data(LIST, {"unread": True})
    assert _titles(unread) == order[:3] and unread["myNotifications"]["totalCount"] == 3
    assert (await ada.gql.data(MARK, {"all": True}))["markNotificationsRead"]["updated"] == 3
    assert (await ada.gql.data(COUNT))["unreadNotificationCount"] == 0
    assert (await bob.gql.data(COUNT))["unreadNotificationCount"] == 1
    refused = await ada.gql.post(MARK, {})
    assert refused["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def _pk(db: Database, username: str) -> int:
    from sqlalchemy import select

    async with db.read() as session:
        return int(
            (
                await session.execute(
                    select(accounts.User.id).where(accounts.User.username == username)
                )
            ).scalar_one()
        )


async def test_another_users_notification_is_not_readable_by_id(two_users, db, settings):
    ada, bob = two_users
    await _notify(db, settings, await _pk(db, "bob"), "private")
    bob_node = (await bob.gql.data(LIST))["myNotifications"]["edges"][0]["node"]["id"]
    shown = await ada.gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": bob_node})
    assert shown["node"] is None
    assert (await ada.gql.data(LIST))["myNotifications"]["edges"] == []


async def test_with_authentication_off_nothing_is_listed(gql, db, settings):
    user = await _user(db, "ada")
    await _notify(db, settings, user, "n1")
    assert (await gql.data(LIST))["myNotifications"]["edges"] == []
    assert (await gql.data(COUNT))["unreadNotificationCount"] == 0


SUBSCRIBE = "subscription { notifications { id title eventType isRead } }"


@pytest.fixture
async def server(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EXPGRAPH_AUTH_ENABLED", "true")
    monkeypatch.setenv("EXPGRAPH_DELIVERY_POLL_SECONDS", "0.2")
    process, url = _serve(database_url, tmp_path / "server.log")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_the_subscription_receives_new_notifications_from_serves_deliverer(
    server, db, settings
):
    ada, bob = await _user(db, "ada"), await _user(db, "bob")
    async with httpx.AsyncClient(timeout=60) as http:
        login = await http.post(
            server, json={"query": LOGIN, "variables": {"u": "ada", "p": PASSWORD}}
        )
        token = login.json()["data"]["login"]["token"]
    async with websockets.connect(
        server.replace("http://", "ws://"), subprotocols=["graphql-transport-ws"]
    ) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(1)  # the subscription is listening
        # Events written by another process (this test): the server's deliverer fans them out.
        async with db.transaction() as session:
            await emit(session, EventType.EXPERIMENT_FAILED, {"name": "for-bob"}, user_id=bob)
            await emit(session, EventType.EXPERIMENT_FAILED, {"name": "for-ada"}, user_id=ada)
        async with asyncio.timeout(20):
            message = json.loads(await ws.recv())
        assert message["type"] == "next", message
        pushed = message["payload"]["data"]["notifications"]
        assert pushed["title"] == "Experiment for-ada failed"
        assert pushed["eventType"] == "EXPERIMENT_FAILED" and pushed["isRead"] is False
        assert decode_id(pushed["id"])[0] == "Notification"
        with pytest.raises(TimeoutError):  # bob's is not sent to ada
            async with asyncio.timeout(1):
                await ws.recv()
