"""Request logging off the request path.

``RequestLogMiddleware`` times every HTTP request (but the health checks) and
hands one entry to ``RequestLogWriter.submit``, which never blocks and never
raises: a bounded queue, drained in batches by a background task into
``api_usage`` and ``api_request_logs``. When the queue is full the entry is
dropped and counted. ``stop()`` flushes what is queued.

Payload samples (a fraction ``request_log_sample_rate`` of requests, and every
failed one) are redacted: no passwords, codes, tokens or keys are stored.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts import models
from expgraph.graphql.audit import storable
from expgraph.graphql.graphiql import STATIC_PATH
from expgraph.graphql.redact import redact, redact_request

logger = logging.getLogger("expgraph.requestlog")
SKIP = {"/healthz", "/readyz"}
# GraphiQL's own files (seven per page load) are not API requests.
SKIP_PREFIXES = (STATIC_PATH + "/",)
MAX_PARSED_BODY = 64 * 1024
BATCH = 500


@dataclass
class Entry:
    endpoint: str
    method: str
    status_code: int
    request_time: datetime
    response_time_ms: float
    request_size_bytes: int
    response_size_bytes: int
    ip_address: str | None
    user_agent: str | None
    api_key_id: int | None
    error_message: str | None
    request_payload_sample: dict[str, Any] | None = None
    response_payload_sample: dict[str, Any] | None = None


@dataclass
class RequestLogWriter:
    db: Database
    settings: Settings
    rng: random.Random = field(default_factory=random.Random)
    written: int = 0
    dropped: int = 0
    failed: int = 0

    def __post_init__(self) -> None:
        self.queue: asyncio.Queue[Entry] = asyncio.Queue(
            maxsize=self.settings.request_log_queue_size
        )
        self.task: asyncio.Task[None] | None = None

    def submit(self, entry: Entry) -> None:
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.dropped += 1

    def sampled(self) -> bool:
        return self.rng.random() < self.settings.request_log_sample_rate

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.create_task(self._drain_forever())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
        await self.flush()

    async def flush(self) -> None:
        """Write everything queued now."""
        while not self.queue.empty():
            await self._write(self._take(BATCH))

    def _take(self, limit: int) -> list[Entry]:
        batch: list[Entry] = []
        while len(batch) < limit and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch

    async def _drain_forever(self) -> None:
        while True:
            first = await self.queue.get()
            await asyncio.sleep(self.settings.request_log_flush_seconds)
            await self._write([first, *self._take(BATCH - 1)])

    async def _write(self, batch: list[Entry]) -> None:
        if not batch:
            return
        usage = [
            {
                "api_key_id": e.api_key_id,
                "endpoint": e.endpoint,
                "method": e.method,
                "status_code": e.status_code,
                "response_time_ms": round(e.response_time_ms),
                "timestamp": e.request_time,
            }
            for e in batch
        ]
        logs = [vars(e) for e in batch]
        try:
            async with self.db.transaction() as session:
                await session.execute(insert(models.ApiUsage), usage)
                await session.execute(insert(models.ApiRequestLog), logs)
            self.written += len(batch)
        except Exception:  # logging must never take the server down
            self.failed += len(batch)
            logger.exception("could not write %d request log entries", len(batch))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _error_of(body: bytes) -> str | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    if not errors:
        return None
    first = errors[0]
    code = (first.get("extensions") or {}).get("code", "ERROR")
    return f"{code}: {first.get('message', '')}"[:2000]


def _sample(body: bytes, *, request: bool) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {"unparsed_bytes": len(body)}
    if not isinstance(parsed, dict):
        return {"value": "[non-object body]"}
    # storable: a NUL or a non-finite number must not fail the whole batch's insert
    return storable(redact_request(parsed) if request else redact(parsed))


class RequestLogMiddleware:
    """Outermost: it also sees requests that authentication refused (401/429)."""

    def __init__(self, app: ASGIApp, writer: RequestLogWriter) -> None:
        self.app, self.writer = app, writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in SKIP or path.startswith(SKIP_PREFIXES):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_time = datetime.now(UTC)
        request_body = bytearray()
        response_body = bytearray()
        state = {"status": 500, "response_size": 0}

        async def receive_logged() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                room = MAX_PARSED_BODY - len(request_body)
                if room > 0:  # keep at most MAX_PARSED_BODY bytes, whatever a chunk holds
                    request_body.extend(message.get("body", b"")[:room])
            return message

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                state["response_size"] += len(chunk)
                room = MAX_PARSED_BODY - len(response_body)
                if room > 0:
                    response_body.extend(chunk[:room])
            await send(message)

        try:
            await self.app(scope, receive_logged, send_logged)
        finally:
            try:
                self._log(
                    scope, started, request_time, bytes(request_body), bytes(response_body), state
                )
            except Exception:  # never fail a request because of its log entry
                self.writer.failed += 1
                logger.exception("request logging failed")

    def _log(
        self,
        scope: Scope,
        started: float,
        request_time: datetime,
        request_body: bytes,
        response_body: bytes,
        state: dict[str, int],
    ) -> None:
        status = state["status"]
        error = _error_of(response_body) if len(response_body) < MAX_PARSED_BODY else None
        sample = self.writer.sampled() or status >= 400 or error is not None
        principal = scope.get("state", {}).get("principal")
        client = scope.get("client")
        length = _header(scope, b"content-length")
        self.writer.submit(
            Entry(
                endpoint=scope["path"][:255],
                method=scope["method"],
                status_code=status,
                request_time=request_time,
                response_time_ms=(time.perf_counter() - started) * 1000,
                request_size_bytes=int(length)
                if length and length.isdigit()
                else len(request_body),
                response_size_bytes=state["response_size"],
                ip_address=client[0] if client else None,
                user_agent=_header(scope, b"user-agent"),
                api_key_id=getattr(principal, "api_key_id", None),
                error_message=error,
                request_payload_sample=_sample(request_body, request=True)
                if sample and request_body
                else None,
                response_payload_sample=_sample(response_body, request=False)
                if sample and response_body
                else None,
            )
        )
