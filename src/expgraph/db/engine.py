"""Engines and sessions for both dialects.

``Database`` owns two session factories:

- ``read()``: a short session for loaders and queries; within one GraphQL
  request on PostgreSQL (``for_request()``), every ``read()`` shares one session
  and connection instead of checking one out per loader batch;
- ``transaction()``: a unit of work that commits on success and rolls back on
  any error (``db.errors`` says what a database error means for the caller).

SQLite runs with WAL, foreign keys on and a busy timeout; its write transactions
start with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout instead of
failing when a read lock cannot be upgraded. PostgreSQL runs on asyncpg; a pooled
connection the server has closed is replaced at checkout (``_replace_closed``),
or, with ``db_pre_ping``, every checkout pings the server first.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from expgraph import compat
from expgraph.config import Settings
from expgraph.db import values  # checks every value before it is written (see values.py)
from expgraph.db.direct import DIRECT_READS, FAST_PATH, lost_connection
from expgraph.db.jsonsql import register_sqlite_functions


def is_sqlite_url(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for in-memory databases)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int, begin: str) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        register_sqlite_functions(dbapi_connection)  # the compiler's (db/jsonsql.py)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


def load_json(text: str | bytes) -> Any:
    """JSON columns as Python values, with orjson (several times faster than the
    standard library); values orjson refuses (NaN, which ``json.dumps`` writes)
    fall back to ``json.loads``."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


MAX_CACHED_STATEMENT_BYTES = 256 * 1024
"""Statements up to this size keep their prepared statement per connection."""

_ORJSON_STRICT = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _refuse(value: Any) -> Any:
    raise TypeError(type(value).__name__)


def dump_jsonb(value: Any) -> str:
    """JSONB parameters (PostgreSQL) as text, with orjson: several times faster
    than ``json.dumps`` and, since JSONB stores the parsed value and not the
    text, the same stored value. What orjson refuses or would write otherwise
    (non-string keys, subclasses of str, int, dict or list, datetimes,
    dataclasses) goes to ``json.dumps`` as before. SQLite's JSON keeps ``json.dumps``: it
    stores the text itself."""
    try:
        return orjson.dumps(value, default=_refuse, option=_ORJSON_STRICT).decode()
    except TypeError:
        return json.dumps(value)


def create_engine(settings: Settings, *, writer: bool = False) -> AsyncEngine:
    url = settings.database_url
    if is_sqlite_url(url):
        path = sqlite_path(url)
        if path is not None and path.parent != Path(""):
            path.parent.mkdir(parents=True, exist_ok=True)
        pool: dict[str, Any] = {}
        if path is not None:  # a file: a queue pool, whose checkout waits are bounded
            pool = {
                "pool_size": settings.db_pool_size,
                "max_overflow": settings.db_max_overflow,
                "pool_timeout": settings.db_pool_timeout_seconds,
            }
        engine = create_async_engine(
            url,
            echo=settings.echo_sql,
            json_deserializer=load_json,
            connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000},
            **pool,
        )
        _configure_sqlite(
            engine, settings.sqlite_busy_timeout_ms, "BEGIN IMMEDIATE" if writer else "BEGIN"
        )
        return engine
    server_settings = {}
    if settings.db_statement_timeout_ms > 0:
        # the server cancels a longer statement (SQLSTATE 57014: TIMEOUT to the client)
        server_settings["statement_timeout"] = str(settings.db_statement_timeout_ms)
    engine = create_async_engine(
        url,
        echo=settings.echo_sql,
        json_serializer=dump_jsonb,
        json_deserializer=load_json,
        pool_pre_ping=settings.db_pre_ping,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # a checkout waits this long when every connection is busy, then fails
        # (UNAVAILABLE) instead of queueing the request behind slow ones
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "server_settings": server_settings,
            # asyncpg keeps a prepared statement per statement text (and PostgreSQL
            # its plan) only up to this size, 15 KB by default: the read-query
            # compiler's statements are bigger, and were prepared and planned
            # again at every execution (db/direct.py runs them on asyncpg).
            "max_cacheable_statement_size": MAX_CACHED_STATEMENT_BYTES,
        },
    )
    _replace_closed(engine)
    return engine


def _replace_closed(engine: AsyncEngine) -> None:
    """A pooled connection whose socket the server has closed (a restart, a
    terminated backend) is discarded at checkout and the pool connects anew:
    asyncpg knows it locally, so this costs no round trip (a pre-ping costs
    one per request). What only a round trip finds (a silent network
    partition) needs ``db_pre_ping``."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this pooled connection")


class SharedReads:
    """One read session for the whole of a request, lent to one block at a time.

    Loaders of one request run concurrently; they take turns on the session (a
    nested ``read()`` in the same task reuses it). After each block the session
    forgets its objects, so every block sees freshly loaded rows, exactly as with
    a session of its own: a read after the request's own write is never stale.
    """

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self._maker = maker
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self.enabled = False
        self.closed = False

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        task = asyncio.current_task()
        if self._session is not None and task is not None and self._holder is task:
            yield self._session  # nested in a block this task already holds
            return
        async with self._lock:
            if self._session is None:
                self._session = self._maker()
            session = self._session
            self._holder = task
            try:
                yield session
            except BaseException as exc:
                if lost_connection(exc):
                    # the server closed the connection: let it go (the pool makes
                    # a new one), so the request's next read does not reuse it
                    await session.invalidate()
                else:
                    await session.rollback()  # a failed statement aborts the transaction
                raise
            finally:
                self._holder = None
                session.expunge_all()

    async def close(self) -> None:
        self.closed = True
        async with self._lock:
            if self._session is not None:
                await self._session.close()
                self._session = None


class Database:
    """The process's database: one reader engine and, on SQLite, a writer engine."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        values.configure(settings)
        self.dialect = "sqlite" if is_sqlite_url(settings.database_url) else "postgresql"
        self.engine = create_engine(settings)
        self.write_engine = (
            create_engine(settings, writer=True) if self.dialect == "sqlite" else self.engine
        )
        # The fast path (the setting, and what it needs of SQLAlchemy there, see
        # compat): rows read as bare records, autocommit reads straight on asyncpg.
        fast = compat.use_fast_path(settings.fast_path)
        self._reader = async_sessionmaker(
            self._read_engine(),
            expire_on_commit=False,
            autoflush=False,
            # autocommit reads on asyncpg: reusable statements may run directly
            info={DIRECT_READS: self.dialect == "postgresql", FAST_PATH: fast},
        )
        self._writer = async_sessionmaker(
            self.write_engine, expire_on_commit=False, info={FAST_PATH: fast}
        )
        self._shared: SharedReads | None = None

    def _read_engine(self) -> AsyncEngine:
        """Reads on PostgreSQL run outside an explicit transaction (autocommit):
        at READ COMMITTED every statement takes its own snapshot either way, and
        a read then costs no BEGIN and no ROLLBACK round trip. (The pool's
        connections are shared with writers; the setting is per checkout.)"""
        if self.dialect != "postgresql":
            return self.engine
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def for_request(self) -> Database:
        """This database as one request sees it: ``share_reads()`` then makes every
        ``read()`` use one session, until ``end_request()``. SQLite reads are local
        (no round trips to save), so they keep a session per read there."""
        if self.dialect != "postgresql":
            return self
        scoped = copy.copy(self)
        scoped._shared = SharedReads(self._reader)
        return scoped

    def share_reads(self, enabled: bool = True) -> None:
        """Read through one session from now on (or, ``False``, no longer): only
        for read-only operations, as a request that holds its read connection
        while it waits for a write connection could, with enough such requests,
        exhaust the pool."""
        if self._shared is not None:
            self._shared.enabled = enabled

    async def end_request(self) -> None:
        if self._shared is not None:
            await self._shared.close()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        shared = self._shared
        if shared is not None and shared.enabled and not shared.closed:
            async with shared.session() as session:
                yield session
            return
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._writer() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()
