"""Change notifications between server processes.

``Broker.publish(channel, message)`` reaches every ``subscribe(channel)`` in
every process: on PostgreSQL through ``NOTIFY`` (each process keeps one
``LISTEN`` connection and fans messages out locally); on SQLite, where there
is one server process, in process.

``Broker.publish_in(session, channel, message)`` sends it as part of a write
transaction: delivered when that transaction commits and never when it rolls
back (PostgreSQL's ``pg_notify`` is transactional; on SQLite the message waits
for the session's commit), at the cost of one statement in the transaction
instead of a transaction of its own.

``changes(...)`` is the loop every "updates" subscription runs on top of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

logger = logging.getLogger("expgraph.notify")
QUEUE_SIZE = 1000
_PENDING = "expgraph.notify.pending"  # session.info key: (channel, message) to send at commit
T = TypeVar("T")


class Broker:
    def __init__(self, database: Any) -> None:
        self.db = database
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)
        self._listener: Any = None
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, message: str) -> None:
        if self.db.dialect == "postgresql":
            async with self.db.transaction() as session:
                await session.execute(select(func.pg_notify(channel, message)))
        else:
            self._deliver(channel, message)

    async def publish_in(self, session: AsyncSession, channel: str, message: str) -> None:
        """``publish`` when ``session``'s transaction commits (nothing if it rolls back)."""
        if self.db.dialect == "postgresql":
            await session.execute(select(func.pg_notify(channel, message)))
            return
        sync = session.sync_session
        pending = sync.info.get(_PENDING)
        if pending is None:
            pending = sync.info[_PENDING] = []
            event.listen(sync, "after_commit", self._after_commit)
            event.listen(sync, "after_soft_rollback", _forget)
        pending.append((channel, message))

    def _after_commit(self, session: Session) -> None:
        pending = session.info.get(_PENDING) or []
        sent = list(pending)
        pending.clear()
        for channel, message in sent:
            self._deliver(channel, message)

    def _deliver(self, channel: str, message: str) -> None:
        for queue in list(self._subscribers.get(channel, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:  # a slow subscriber misses messages, never blocks
                logger.warning("dropping a %s notification for a slow subscriber", channel)

    async def _listen(self, channel: str) -> None:
        if self.db.dialect != "postgresql":
            return
        async with self._lock:
            if self._listener is None:
                import asyncpg

                url = make_url(self.db.settings.database_url).set(drivername="postgresql")
                self._listener = await asyncpg.connect(url.render_as_string(hide_password=False))
            channels = self._listener._listeners
            if channel not in channels:
                await self._listener.add_listener(
                    channel, lambda _c, _pid, ch, payload: self._deliver(ch, payload)
                )

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers[channel].add(queue)
        try:
            await self._listen(channel)
            yield queue
        finally:
            self._subscribers[channel].discard(queue)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None


def _forget(session: Session, _previous: object) -> None:
    """A rolled-back transaction's messages are never sent."""
    pending = session.info.get(_PENDING)
    if pending:
        pending.clear()


_UNSET: Any = object()


async def changes(
    broker: Broker,
    channel: str,
    mine: Callable[[str], bool],
    read: Callable[[], Awaitable[T]],
    key: Callable[[T], Hashable],
    *,
    poll: float | None = None,
    every_message: bool = False,
    done: Callable[[T], bool] | None = None,
) -> AsyncIterator[T]:
    """A subscription's values as they change: ``read()`` once when subscribing,
    then again after each message on ``channel`` that ``mine(message)`` accepts,
    or after ``poll`` seconds without one (None: only on messages; the re-read
    catches changes written without a message). A value is sent when its
    ``key`` differs from the last one sent (or on every accepted message with
    ``every_message``); the stream ends after a value ``done`` accepts."""
    async with broker.subscribe(channel) as queue:
        last, heard = _UNSET, True
        while True:
            value = await read()
            fingerprint = key(value)
            if fingerprint != last or (every_message and heard):
                last = fingerprint
                yield value
            if done is not None and done(value):
                return
            heard = False
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    while not mine(await queue.get()):
                        pass
                    heard = True
