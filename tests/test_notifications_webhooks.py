"""Webhooks (issue 17): signed deliveries to a real HTTP receiver on loopback (a
Starlette app under uvicorn in a thread) that verifies the signature, fails on
purpose and times out; attempt logs, consecutive failures and deactivation; the
SSRF guard; the secret shown once and nowhere else. Both databases."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, OutboxEvent, emit
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service
from expgraph.domains.notifications.channels import Outcome
from expgraph.domains.notifications.models import (
    DeliveryChannel,
    Notification,
    NotificationDelivery,
    WebhookConfiguration,
)
from expgraph.domains.notifications.webhook_security import why_refused
from expgraph.domains.notifications.webhooks import WEBHOOK
from expgraph.graphql.relay import decode_id
from tests.auth_helpers import PASSWORD, Caller

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"

# --- the receiver --------------------------------------------------------------------


def verify(secret: str, headers: dict[str, str], body: bytes, *, max_age: int = 300) -> bool:
    """What a receiver does (the README's snippet): recompute the signature, compare in
    constant time, refuse stale timestamps."""
    timestamp = headers.get("x-expgraph-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age:
        return False
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(f"sha256={mac.hexdigest()}", headers.get("x-expgraph-signature", ""))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers 200, or 500 (``mode='fail'``), or
    sleeps ``delay`` seconds first (``mode='sleep'``); keeps every request."""

    port: int = 0
    mode: str = "ok"
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/in?source=expgraph"

    def reset(self) -> None:
        self.mode, self.delay = "ok", 0.0
        self.requests.clear()

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(Received(dict(request.headers), body))
        if self.mode == "sleep":
            await asyncio.sleep(self.delay)
        if self.mode == "fail":
            return PlainTextResponse("receiver exploded " + "x" * 5_000, status_code=500)
        return JSONResponse({"received": True})


@pytest.fixture(scope="module")
def receiver_server() -> Any:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hooks/in", receiver.endpoint, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    receiver.port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.02)
    yield receiver
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def receiver(receiver_server: Receiver) -> Receiver:
    receiver_server.reset()
    return receiver_server


# --- the app -------------------------------------------------------------------------


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "auth_enabled": True,
            "request_log_enabled": False,
            "encryption_key": Fernet.generate_key().decode(),
            "webhook_allow_private_addresses": True,
            "webhook_timeout_seconds": 1.0,
            "webhook_max_consecutive_failures": 3,
        }
    )


@pytest.fixture
async def user_ids(db: Database) -> dict[str, int]:
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
async def owner(hook_settings: Settings, db: Database, user_ids: dict[str, int]) -> Any:
    caller = Caller(create_app(hook_settings, db=db))
    await caller.login("owner")
    yield caller
    await caller.aclose()


WEBHOOK_FIELDS = """id name url providerType isActive enabledEvents settings consecutiveFailures
  lastError lastUsedAt description"""
CREATE = f"""mutation($name: String!, $url: String!, $p: WebhookProvider! = GENERIC,
  $e: [NotificationEventType!]! = [], $s: JSON) {{
  createWebhook(input: {{name: $name, url: $url, providerType: $p, enabledEvents: $e,
    settings: $s, description: "for tests"}}) {{
    signingSecret webhook {{ {WEBHOOK_FIELDS} }} }} }}"""
TEST = """mutation($id: ID!) { testWebhook(input: {id: $id}) {
  sent log { id status httpStatusCode errorMessage responseBody eventType retryCount }
  webhook { consecutiveFailures isActive lastError } } }"""
ROTATE = "mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) { signingSecret } }"
UPDATE = """mutation($id: ID!, $url: String, $a: Boolean) {
  updateWebhook(input: {id: $id, url: $url, isActive: $a}) { webhook { url isActive
  consecutiveFailures } } }"""
MY_WEBHOOKS = f"""{{ myWebhooks {{ totalCount edges {{ node {{ {WEBHOOK_FIELDS}
  logs {{ edges {{ node {{ id status httpStatusCode errorMessage retryCount }} }} }} }} }} }} }}"""


async def create_webhook(caller: Caller, url: str, **variables: Any) -> dict[str, Any]:
    data = await caller.gql.data(CREATE, {"name": "hook", "url": url, **variables})
    made: dict[str, Any] = data["createWebhook"]
    return made


def pk(global_id: str) -> int:
    return decode_id(global_id)[1]


async def deliver(
    db: Database,
    settings: Settings,
    webhook_id: str,
    user_id: int,
    *,
    attempt: int = 1,
    event_type: EventType = EventType.EXPERIMENT_COMPLETED,
) -> tuple[Outcome, int]:
    """One real domain event and its webhook delivery, handed to the channel as the
    deliverer does (outside any transaction); the outcome and the delivery's id."""
    async with db.transaction() as session:
        await emit(session, event_type, {"name": "resnet-sweep", "score": 0.93}, user_id=user_id)
        event = (
            await session.execute(select(OutboxEvent).order_by(OutboxEvent.id.desc()).limit(1))
        ).scalar_one()
        delivery = NotificationDelivery(
            outbox_event_id=event.id,
            channel=DeliveryChannel.WEBHOOK,
            user_id=user_id,
            webhook_config_id=pk(webhook_id),
        )
        session.add(delivery)
        await session.flush()
    return await WEBHOOK.send(db, settings, delivery, event, attempt), delivery.id


async def webhook_row(db: Database, webhook_id: str) -> WebhookConfiguration:
    async with db.transaction() as session:
        row = await session.get(WebhookConfiguration, pk(webhook_id), populate_existing=True)
        assert row is not None
        return row


async def log_rows(db: Database) -> list[dict[str, Any]]:
    async with db.transaction() as session:
        result = await session.execute(text("SELECT * FROM webhook_logs ORDER BY id"))
        return [dict(row._mapping) for row in result]


# --- signatures ----------------------------------------------------------------------


async def test_test_webhook_reaches_the_receiver_signed_with_the_secret(owner, receiver):
    made = await create_webhook(owner, receiver.url)
    secret, hook = made["signingSecret"], made["webhook"]
    assert len(secret) >= 40 and hook["url"] == receiver.url and hook["isActive"]
    tested = (await owner.gql.data(TEST, {"id": hook["id"]}))["testWebhook"]
    assert tested["sent"] is True
    assert tested["log"]["status"] == "SUCCESS" and tested["log"]["httpStatusCode"] == 200
    assert tested["log"]["errorMessage"] is None and tested["log"]["eventType"] == "webhook_test"
    assert tested["log"]["responseBody"] == '{"received":true}'
    [got] = receiver.requests
    assert verify(secret, got.headers, got.body)
    assert not verify(secret + "x", got.headers, got.body)  # a wrong secret fails
    assert not verify(secret, got.headers, got.body + b" ")  # so does a changed body
    assert got.headers["x-expgraph-event"] == "webhook_test"
    assert got.headers["x-expgraph-delivery"].startswith("test-")
    assert got.headers["content-type"] == "application/json"
    assert set(got.json) == {"event", "occurredAt", "data"}
    assert got.json["event"] == "webhook_test" and got.json["data"]["webhookId"] == hook["id"]


async def test_a_delivery_is_signed_and_carries_the_event_and_delivery_id(
    owner, receiver, db, hook_settings, user_ids
):
    made = await create_webhook(owner, receiver.url)
    outcome, delivery_id = await deliver(
        db, hook_settings, made["webhook"]["id"], user_ids["owner"]
    )
    assert outcome == Outcome(sent=True, error=None, retry=True)
    [got] = receiver.requests
    assert verify(made["signingSecret"], got.headers, got.body)
    assert got.headers["x-expgraph-event"] == "experiment_completed"
    assert got.headers["x-expgraph-delivery"] == str(delivery_id)
    assert got.json["data"] == {"name": "resnet-sweep", "score": 0.93}
    assert got.json["occurredAt"].endswith("Z")
    [log] = await log_rows(db)
    assert (log["status"], log["http_status_code"], log["delivery_id"]) == (
        "success",
        200,
        delivery_id,
    )
    row = await webhook_row(db, made["webhook"]["id"])
    assert row.consecutive_failures == 0 and row.last_used_at is not None


async def test_rotating_the_secret_signs_with_the_new_one(owner, receiver):
    made = await create_webhook(owner, receiver.url)
    hook_id = made["webhook"]["id"]
    new = (await owner.gql.data(ROTATE, {"id": hook_id}))["rotateWebhookSecret"]["signingSecret"]
    assert new != made["signingSecret"]
    await owner.gql.data(TEST, {"id": hook_id})
    [got] = receiver.requests
    assert verify(new, got.headers, got.body)
    assert not verify(made["signingSecret"], got.headers, got.body)


@pytest.mark.parametrize(
    ("provider", "keys"),
    [
        ("SLACK", {"text", "blocks", "channel"}),
        ("DISCORD", {"content", "embeds"}),
        ("TEAMS", {"@type", "@context", "summary", "title", "sections"}),
    ],
)
async def test_payloads_are_shaped_for_the_provider(owner, receiver, provider, keys):
    made = await create_webhook(owner, receiver.url, p=provider, s={"channel": "#ml"})
    assert made["webhook"]["providerType"] == provider
    await owner.gql.data(TEST, {"id": made["webhook"]["id"]})
    [got] = receiver.requests
    assert set(got.json) == keys
    assert verify(made["signingSecret"], got.headers, got.body)


# --- failures ------------------------------------------------------------------------


async def test_a_500_is_logged_failed_counted_and_retried(
    owner, receiver, db, hook_settings, user_ids
):
    made = await create_webhook(owner, receiver.url)
    receiver.mode = "fail"
    outcome, _ = await deliver(
        db, hook_settings, made["webhook"]["id"], user_ids["owner"], attempt=2
    )
    assert not outcome.sent and outcome.retry and "500" in (outcome.error or "")
    [log] = await log_rows(db)
    assert (log["status"], log["http_status_code"], log["retry_count"]) == ("failed", 500, 1)
    assert log["response_body"].startswith("receiver exploded")
    assert len(log["response_body"].encode()) == 2_000  # truncated to the setting
    row = await webhook_row(db, made["webhook"]["id"])
    assert row.consecutive_failures == 1 and row.is_active and "500" in (row.last_error or "")
    # The owner reads the same through the API, newest log first.
    receiver.mode = "ok"
    await owner.gql.data(TEST, {"id": made["webhook"]["id"]})
    [node] = (await owner.gql.data(MY_WEBHOOKS))["myWebhooks"]["edges"]
    hook = node["node"]
    assert hook["consecutiveFailures"] == 0 and hook["lastError"] is None
    assert [e["node"]["status"] for e in hook["logs"]["edges"]] == ["SUCCESS", "FAILED"]


async def test_a_receiver_slower_than_the_timeout_fails_with_a_timeout(owner, receiver):
    made = await create_webhook(owner, receiver.url)
    receiver.mode, receiver.delay = "sleep", 3.0
    started = time.monotonic()
    tested = (await owner.gql.data(TEST, {"id": made["webhook"]["id"]}))["testWebhook"]
    assert time.monotonic() - started < 2.5  # the 1 s timeout, not the receiver's 3 s
    assert tested["sent"] is False
    assert tested["log"]["status"] == "FAILED" and tested["log"]["httpStatusCode"] is None
    assert "timeout" in tested["log"]["errorMessage"]
    assert tested["webhook"]["consecutiveFailures"] == 1


async def test_consecutive_failures_deactivate_once_and_notify_the_owner_once(
    owner, receiver, db, hook_settings, user_ids
):
    made = await create_webhook(owner, receiver.url)
    hook_id, uid = made["webhook"]["id"], user_ids["owner"]
    receiver.mode = "fail"
    first, _ = await deliver(db, hook_settings, hook_id, uid)
    assert first.retry
    # The limit is 3: the 2nd and 3rd failures race, a 4th follows; one deactivation.
    racing = await asyncio.gather(
        deliver(db, hook_settings, hook_id, uid), deliver(db, hook_settings, hook_id, uid)
    )
    assert sorted(outcome.retry for outcome, _ in racing) == [False, True]
    after, _ = await deliver(db, hook_settings, hook_id, uid)
    assert after == Outcome(sent=False, error="the webhook is deactivated", retry=False)
    assert len(receiver.requests) == 3
    row = await webhook_row(db, hook_id)
    assert not row.is_active and row.consecutive_failures == 3
    async with db.transaction() as session:
        notes = (await session.execute(select(Notification))).scalars().all()
    assert [(n.user_id, n.event_type) for n in notes] == [(uid, "webhook_deactivated")]
    assert "hook" in notes[0].title
    # testWebhook refuses a deactivated webhook; reactivating starts the count again.
    assert await owner.code(TEST, {"id": hook_id}) == "BAD_REQUEST"
    reactivated = (await owner.gql.data(UPDATE, {"id": hook_id, "a": True}))["updateWebhook"]
    assert reactivated["webhook"] == {
        "url": receiver.url,
        "isActive": True,
        "consecutiveFailures": 0,
    }


# --- SSRF ----------------------------------------------------------------------------

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://10.0.0.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://localhost/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
]


@pytest.fixture
async def guarded(hook_settings: Settings, db: Database, user_ids: dict[str, int]) -> Any:
    """The owner on an app with private addresses refused (the default)."""
    strict = hook_settings.model_copy(update={"webhook_allow_private_addresses": False})
    caller = Caller(create_app(strict, db=db))
    await caller.login("owner")
    yield caller, strict
    await caller.aclose()


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_private_addresses_are_refused_at_creation(guarded, url):
    caller, _ = guarded
    error = await caller.error(CREATE, {"name": "evil", "url": url})
    assert error["extensions"]["code"] == "BAD_REQUEST", error
    assert "public addresses" in error["message"]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "file:///etc/passwd", "http://user:pw@example.com/", "nope"]
)
async def test_only_plain_http_urls_are_accepted(guarded, url):
    caller, _ = guarded
    assert await caller.code(CREATE, {"name": "odd", "url": url}) == "BAD_REQUEST"


async def test_private_addresses_are_refused_at_send_time_too(
    owner, guarded, receiver, db, user_ids
):
    # Saved while allowed (or DNS answered differently then); the guard runs again.
    made = await create_webhook(owner, receiver.url)
    caller, strict = guarded
    outcome, _ = await deliver(db, strict, made["webhook"]["id"], user_ids["owner"])
    assert not outcome.sent and outcome.retry is False
    assert "loopback" in (outcome.error or "")
    assert receiver.requests == []
    [log] = await log_rows(db)
    assert log["status"] == "failed" and log["http_status_code"] is None
    assert "refused" in log["error_message"]
    # Changing the URL to a private one is refused as on creation.
    code = await caller.code(UPDATE, {"id": made["webhook"]["id"], "url": "http://10.1.2.3/"})
    assert code == "BAD_REQUEST"


def test_the_address_rules():
    import ipaddress

    def refused(address: str) -> str | None:
        return why_refused(ipaddress.ip_address(address))

    assert refused("8.8.8.8") is None and refused("2606:4700:4700::1111") is None
    assert refused("127.0.0.1") == "loopback" and refused("::1") == "loopback"
    assert refused("::ffff:10.0.0.1") == "private" and refused("fe80::1") == "link-local"
    assert refused("169.254.169.254") == "link-local" and refused("fc00::1") == "private"
    assert refused("0.0.0.0") == "unspecified" and refused("::") == "unspecified"
    assert refused("ff02::1") == "multicast" and refused("240.0.0.1") is not None
    assert refused("100.64.0.1") is not None  # carrier-grade NAT: not public


# --- the secret ----------------------------------------------------------------------


async def test_the_secret_is_shown_once_and_stored_nowhere_readable(
    owner, receiver, db, hook_settings, user_ids
):
    made = await create_webhook(owner, receiver.url)
    secret = made["signingSecret"]
    await owner.gql.data(TEST, {"id": made["webhook"]["id"]})
    receiver.mode = "fail"
    await deliver(db, hook_settings, made["webhook"]["id"], user_ids["owner"])
    listed = await owner.raw(MY_WEBHOOKS)
    assert secret not in listed.text and made["webhook"]["id"] in listed.text
    logs = await log_rows(db)
    assert len(logs) == 2 and all(secret not in repr(row) for row in logs)
    row = await webhook_row(db, made["webhook"]["id"])
    assert secret not in row.secret_encrypted  # encrypted at rest
    # No field of the schema reads a secret: only the two payloads that show it once.
    sdl = SCHEMA_FILE.read_text()
    for type_name in ("Webhook", "WebhookLog"):
        block = sdl.split(f"\ntype {type_name} implements Node")[1].split("\n}")[0]
        assert "secret" not in block.lower(), type_name
    fields = re.findall(r"^\s+(\w*secret\w*)\s*:", sdl, flags=re.IGNORECASE | re.MULTILINE)
    assert fields == ["signingSecret", "signingSecret"]  # the two payloads that show it


async def test_other_users_cannot_see_or_use_a_webhook(owner, receiver, db, hook_settings):
    made = await create_webhook(owner, receiver.url)
    other = Caller(create_app(hook_settings, db=db))
    try:
        await other.login("other")
        assert await other.code(TEST, {"id": made["webhook"]["id"]}) == "NOT_FOUND"
        assert await other.code(ROTATE, {"id": made["webhook"]["id"]}) == "NOT_FOUND"
        listed = (await other.gql.data(MY_WEBHOOKS))["myWebhooks"]
        assert listed["totalCount"] == 0
    finally:
        await other.aclose()
    assert receiver.requests == []
    # The same URL twice for one user is a conflict.
    assert await owner.code(CREATE, {"name": "again", "url": receiver.url}) == "CONFLICT"


UPDATE_ALL = """mutation($id: ID!, $n: String, $e: [NotificationEventType!], $s: JSON,
  $d: String, $p: WebhookProvider) {
  updateWebhook(input: {id: $id, name: $n, enabledEvents: $e, settings: $s, description: $d,
    providerType: $p}) { webhook { name enabledEvents settings description providerType } } }"""
DELETE = "mutation($id: ID!) { deleteWebhook(input: {id: $id}) { id } }"


async def test_create_update_and_delete_round_trip(owner, receiver, db):
    made = await create_webhook(
        owner, receiver.url, e=["EXPERIMENT_FAILED", "EXPERIMENT_FAILED", "API_KEY_EXPIRING"]
    )
    hook = made["webhook"]
    assert hook["enabledEvents"] == ["EXPERIMENT_FAILED", "API_KEY_EXPIRING"]
    assert (hook["settings"], hook["description"], hook["consecutiveFailures"]) == (
        {},
        "for tests",
        0,
    )
    async with db.transaction() as session:
        stored = await session.get(WebhookConfiguration, pk(hook["id"]))
        assert stored is not None and stored.enabled_events == [
            "experiment_failed",
            "api_key_expiring",
        ]
    changed = await owner.gql.data(
        UPDATE_ALL,
        {
            "id": hook["id"],
            "n": " renamed ",
            "e": [],
            "s": {"username": "bot"},
            "d": None,
            "p": "DISCORD",
        },
    )
    assert changed["updateWebhook"]["webhook"] == {
        "name": "renamed",
        "enabledEvents": [],
        "settings": {"username": "bot"},
        "description": None,
        "providerType": "DISCORD",
    }
    assert await owner.code(UPDATE_ALL, {"id": hook["id"], "n": None}) == "BAD_REQUEST"
    assert await owner.code(UPDATE_ALL, {"id": hook["id"], "s": [1, 2]}) == "BAD_REQUEST"
    await owner.gql.data(TEST, {"id": hook["id"]})
    assert receiver.requests[0].json["username"] == "bot"
    deleted = await owner.gql.data(DELETE, {"id": hook["id"]})
    assert deleted["deleteWebhook"]["id"] == hook["id"]
    assert (await owner.gql.data(MY_WEBHOOKS))["myWebhooks"]["totalCount"] == 0
    assert await log_rows(db) == []
    assert await owner.code(TEST, {"id": hook["id"]}) == "NOT_FOUND"
