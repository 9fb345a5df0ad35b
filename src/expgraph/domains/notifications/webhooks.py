"""The webhook channel: one signed POST per delivery, each attempt logged.

``WEBHOOK.send`` is called by the deliverer outside any transaction (see
``channels.py``). One attempt:

1. reads the webhook (gone or deactivated: a permanent failure, nothing sent);
2. shapes the payload for the webhook's provider (GENERIC, SLACK, DISCORD, TEAMS);
3. resolves the URL's host and checks the addresses (``webhook_security``: DNS
   may have changed since the webhook was saved), then connects to those very
   addresses;
4. POSTs the JSON body with ``X-Expgraph-Event``, ``X-Expgraph-Delivery``,
   ``X-Expgraph-Timestamp`` (unix seconds) and ``X-Expgraph-Signature:
   sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret>``,
   within ``EXPGRAPH_WEBHOOK_TIMEOUT_SECONDS``; a 2xx answer is a success;
5. records it in one transaction: a ``webhook_logs`` row, and on the webhook
   ``consecutive_failures = 0`` and ``last_used_at`` (success) or
   ``consecutive_failures + 1`` and ``last_error`` (failure). The failure that
   reaches ``EXPGRAPH_WEBHOOK_MAX_CONSECUTIVE_FAILURES`` deactivates the webhook
   (an UPDATE guarded by ``is_active``: of two concurrent failures only one
   deactivates it) and gives its owner one in-app notification.

The request is plain HTTP/1.1 over asyncio streams (``Connection: close``):
httpx is only a test dependency, and connecting to the checked address (not the
host name) is what keeps DNS rebinding out. ``testWebhook`` runs the same
``make_attempt`` with a sample event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, update

from expgraph.config import Settings
from expgraph.db import crypto
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, OutboxEvent
from expgraph.domains.notifications.channels import Outcome
from expgraph.domains.notifications.models import (
    DeliveryChannel,
    Notification,
    NotificationDelivery,
    WebhookConfiguration,
    WebhookLog,
    WebhookProvider,
    WebhookStatus,
)
from expgraph.domains.notifications.webhook_security import RefusedAddress, Target, target

W = WebhookConfiguration
USER_AGENT = "expgraph-webhooks/1"
MAX_HEADER_BYTES = 64 * 1024  # one header line at most
MAX_HEADERS = 200
MAX_ERROR_CHARS = 1_000


# --- the secret --------------------------------------------------------------------


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def seal(settings: Settings, secret: str) -> str:
    """The secret encrypted with the server's key (``EXPGRAPH_ENCRYPTION_KEY``)."""
    return crypto.encrypt(settings.encryption_key, {"secret": secret}).decode("ascii")


def unseal(settings: Settings, sealed: str) -> str:
    return str(crypto.decrypt(settings.encryption_key, sealed.encode("ascii"))["secret"])


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


# --- payloads ----------------------------------------------------------------------


def _title(event_type: str) -> str:
    return event_type.replace("_", " ").capitalize()


def _summary(event_type: str, data: dict[str, Any]) -> str:
    name = data.get("name") or data.get("title")
    return f"{_title(event_type)}: {name}" if isinstance(name, str) else _title(event_type)


def _facts(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (str(key), value if isinstance(value, str) else orjson.dumps(value).decode())
        for key, value in list(data.items())[:20]
    ]


def payload(
    provider: WebhookProvider,
    event_type: str,
    occurred_at: datetime,
    data: dict[str, Any],
    options: dict[str, Any],
) -> dict[str, Any]:
    """The JSON a receiver of ``provider`` expects for one event."""
    when = occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    summary = _summary(event_type, data)
    facts = _facts(data)
    if provider is WebhookProvider.SLACK:
        lines = "\n".join(f"*{key}*: {value}" for key, value in facts)
        body: dict[str, Any] = {
            "text": summary,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": summary[:150]}},
                *(
                    [{"type": "section", "text": {"type": "mrkdwn", "text": lines[:3000]}}]
                    if lines
                    else []
                ),
                {"type": "context", "elements": [{"type": "mrkdwn", "text": when}]},
            ],
        }
        for key in ("channel", "username", "icon_emoji"):
            if isinstance(options.get(key), str):
                body[key] = options[key]
        return body
    if provider is WebhookProvider.DISCORD:
        body = {
            "content": summary[:2000],
            "embeds": [
                {
                    "title": _title(event_type)[:256],
                    "timestamp": when,
                    "fields": [
                        {"name": key[:256], "value": value[:1024] or "-", "inline": True}
                        for key, value in facts
                    ],
                }
            ],
        }
        if isinstance(options.get("username"), str):
            body["username"] = options["username"]
        return body
    if provider is WebhookProvider.TEAMS:
        return {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": summary,
            "title": summary,
            "sections": [
                {
                    "activitySubtitle": when,
                    "facts": [{"name": key, "value": value} for key, value in facts],
                }
            ],
        }
    return {"event": event_type, "occurredAt": when, "data": data}


# --- the request -------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str], limit: int) -> bytes:
    """At most ``limit`` bytes of the answer's body (the rest is not read)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = b""
        while len(chunks) < limit:
            size_line = await reader.readline()
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                break
            if size >= limit - len(chunks):
                chunks += await reader.readexactly(limit - len(chunks))
                break
            chunks += await reader.readexactly(size)
            await reader.readexactly(2)
        return chunks[:limit]
    length = headers.get("content-length")
    if length is not None:
        return await reader.readexactly(min(int(length), limit))
    return await reader.read(limit) if limit else b""


async def _exchange(
    where: Target, address: str, body: bytes, headers: dict[str, str], limit: int
) -> Answer:
    context = ssl.create_default_context() if where.scheme == "https" else None
    reader, writer = await asyncio.open_connection(
        address,
        where.port,
        ssl=context,
        server_hostname=where.host if context is not None else None,
        limit=MAX_HEADER_BYTES,
    )
    try:
        head = [f"POST {where.path} HTTP/1.1", f"Host: {where.host_header}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        writer.write("\r\n".join(head).encode("latin-1") + body)
        await writer.drain()
        status_line = (await reader.readline()).decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ConnectionError(f"the receiver did not answer HTTP ({status_line[:80]!r})")
        answer_headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            answer_headers[name.strip().lower()] = value.strip()
        else:
            raise ConnectionError("the receiver's answer has too many headers")
        try:
            content = await _read_body(reader, answer_headers, limit)
        except (ValueError, asyncio.IncompleteReadError):
            content = b""
        return Answer(int(parts[1]), content)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


async def _post(where: Target, body: bytes, headers: dict[str, str], limit: int) -> Answer:
    """POST to the first of the checked addresses that accepts a connection."""
    error: OSError | None = None
    for address in where.addresses:
        try:
            return await _exchange(where, address, body, headers, limit)
        except ConnectionRefusedError as exc:  # the next address may answer
            error = exc
    assert error is not None
    raise error


# --- one attempt -------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One logged attempt: the ``webhook_logs`` row's id and what the deliverer does next."""

    log_id: int | None
    outcome: Outcome
    status: WebhookStatus | None = None
    http_status_code: int | None = None
    error: str | None = None


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout: the receiver did not answer in time"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:MAX_ERROR_CHARS]


async def make_attempt(
    db: Database,
    settings: Settings,
    webhook_id: int,
    *,
    event_type: str,
    occurred_at: datetime,
    data: dict[str, Any],
    delivery_key: str,
    delivery_id: int | None = None,
    retry_count: int = 0,
) -> Attempt:
    """Send one event to one webhook, log the attempt and keep the webhook's count."""
    async with db.read() as session:
        config = await session.get(W, webhook_id)
    if config is None:
        return Attempt(None, Outcome(sent=False, error="the webhook was deleted", retry=False))
    if not config.is_active:
        return Attempt(None, Outcome(sent=False, error="the webhook is deactivated", retry=False))
    sent_payload = payload(config.provider_type, event_type, occurred_at, data, config.settings)
    body = orjson.dumps(sent_payload)
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None
    permanent = False
    try:
        secret = unseal(settings, config.secret_encrypted)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Expgraph-Event": event_type,
            "X-Expgraph-Delivery": delivery_key,
            "X-Expgraph-Timestamp": str(timestamp),
            "X-Expgraph-Signature": signature(secret, timestamp, body),
        }
        async with asyncio.timeout(settings.webhook_timeout_seconds):
            where = await target(settings, config.webhook_url)
            answer = await _post(where, body, headers, settings.webhook_response_body_max_bytes)
        status_code = answer.status
        response_body = answer.body.decode("utf-8", "replace")
        if not 200 <= answer.status < 300:
            error = f"the receiver answered HTTP {answer.status}"
    except RefusedAddress as exc:
        error, permanent = f"refused: {exc}", True
    except Exception as exc:  # every failure of the request is this attempt's result
        error = _error_text(exc)
    return await _record(
        db,
        settings,
        config,
        event_type=event_type,
        sent_payload=sent_payload,
        status_code=status_code,
        response_body=response_body,
        error=error,
        permanent=permanent,
        delivery_id=delivery_id,
        retry_count=retry_count,
    )


async def _record(
    db: Database,
    settings: Settings,
    config: WebhookConfiguration,
    *,
    event_type: str,
    sent_payload: dict[str, Any],
    status_code: int | None,
    response_body: str | None,
    error: str | None,
    permanent: bool,
    delivery_id: int | None,
    retry_count: int,
) -> Attempt:
    now = datetime.now(UTC)
    status = WebhookStatus.SUCCESS if error is None else WebhookStatus.FAILED
    deactivated = False
    async with db.transaction() as session:
        log_id = (
            await session.execute(
                insert(WebhookLog)
                .values(
                    webhook_config_id=config.id,
                    user_id=config.user_id,
                    event_type=event_type,
                    provider_type=config.provider_type,
                    webhook_url=config.webhook_url,
                    payload=sent_payload,
                    status=status,
                    http_status_code=status_code,
                    response_body=response_body,
                    error_message=error,
                    retry_count=retry_count,
                    sent_at=now,
                    delivery_id=delivery_id,
                )
                .returning(WebhookLog.id)
            )
        ).scalar_one()
        if error is None:
            await session.execute(
                update(W)
                .where(W.id == config.id)
                .values(consecutive_failures=0, last_used_at=now, last_error=None)
            )
        else:
            await session.execute(
                update(W)
                .where(W.id == config.id)
                .values(consecutive_failures=W.consecutive_failures + 1, last_error=error)
            )
            # Only the failure whose UPDATE finds the webhook still active deactivates
            # it (the row lock serialises concurrent failures; the loser matches no row).
            limit = settings.webhook_max_consecutive_failures
            turned_off = (
                await session.execute(
                    update(W)
                    .where(W.id == config.id, W.is_active.is_(True))
                    .where(W.consecutive_failures >= limit)
                    .values(is_active=False)
                    .returning(W.id)
                )
            ).first()
            if turned_off is not None:
                deactivated = True
                await session.execute(
                    insert(Notification).values(
                        user_id=config.user_id,
                        event_type=EventType.WEBHOOK_DEACTIVATED.value,
                        title=f"Webhook {config.name!r} was deactivated",
                        body=f"Its last {limit} deliveries failed (last error: {error}). "
                        "Fix the receiver, then reactivate it with updateWebhook.",
                        data={"webhookId": config.id, "name": config.name, "error": error},
                    )
                )
    outcome = Outcome(sent=error is None, error=error, retry=not (permanent or deactivated))
    return Attempt(log_id, outcome, status, status_code, error)


# --- the channel -------------------------------------------------------------------


class WebhookChannel:
    """Sends ``DeliveryChannel.WEBHOOK`` deliveries (see ``channels.Channel``)."""

    channel = DeliveryChannel.WEBHOOK

    async def send(
        self,
        db: Database,
        settings: Settings,
        delivery: NotificationDelivery,
        event: OutboxEvent,
        attempt: int,
    ) -> Outcome:
        if delivery.webhook_config_id is None:
            return Outcome(sent=False, error="the delivery names no webhook", retry=False)
        made = await make_attempt(
            db,
            settings,
            delivery.webhook_config_id,
            event_type=event.event_type,
            occurred_at=event.created_at,
            data=event.payload,
            delivery_key=str(delivery.id),
            delivery_id=delivery.id,
            retry_count=max(attempt - 1, 0),
        )
        return made.outcome


WEBHOOK = WebhookChannel()
"""The webhook channel the deliverer's registry lists."""
