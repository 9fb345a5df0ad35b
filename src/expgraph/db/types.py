"""Column types shared by every table.

- ``JSONType``: JSONB on PostgreSQL, JSON on SQLite.
- ``UTCDateTime``: timezone-aware timestamps, always returned in UTC.
- ``BigIntId``: the one id scheme: 64-bit integers on PostgreSQL, SQLite's rowid integer.
- ``utcnow()``: the database clock, with sub-second precision on both dialects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, bindparam
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

JSONType = JSON().with_variant(JSONB(), "postgresql")

BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp; naive values are refused, results are UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite stores text; keep one canonical UTC form so text order is time order.
            return value.replace(tzinfo=None)
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.driver == "asyncpg":
            return None  # asyncpg gives timestamptz values as aware UTC datetimes already
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class utcnow(FunctionElement[datetime]):
    """The database's current UTC time (never the application server's clock)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(utcnow)
def _utcnow_default(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return "CURRENT_TIMESTAMP"


@compiles(utcnow, "postgresql")
def _utcnow_postgresql(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    # statement_timestamp(), not now(): distinct per statement inside one transaction.
    return "statement_timestamp()"


@compiles(utcnow, "sqlite")
def _utcnow_sqlite(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    # Same text form SQLAlchemy's SQLite DateTime writes, with microseconds.
    return "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


class utc_minute(FunctionElement[datetime]):
    """The start of the database clock's current minute (rate-limit windows)."""

    type = UTCDateTime()
    inherit_cache = True


@compiles(utc_minute, "postgresql")
def _utc_minute_postgresql(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return "date_trunc('minute', statement_timestamp())"


@compiles(utc_minute, "sqlite")
def _utc_minute_sqlite(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    return "strftime('%Y-%m-%d %H:%M:00.000000', 'now')"


class utc_after(FunctionElement[datetime]):
    """The database clock plus a number of seconds (expiry times).

    The seconds are a bound parameter, so statements that differ only in them
    share one cached compiled form and each runs with its own value (a literal
    left out of the cache key would be reused from the first compilation)."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, seconds: int) -> None:
        super().__init__(bindparam(None, int(seconds), type_=Integer(), unique=True))


def _seconds(element: utc_after, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(next(iter(element.clauses)), **kw))


@compiles(utc_after, "postgresql")
def _utc_after_postgresql(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    seconds = _seconds(element, compiler, **kw)
    return f"(statement_timestamp() + CAST({seconds} AS INTEGER) * interval '1 second')"


@compiles(utc_after, "sqlite")
def _utc_after_sqlite(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    seconds = _seconds(element, compiler, **kw)
    return f"strftime('%Y-%m-%d %H:%M:%f000', 'now', CAST({seconds} AS TEXT) || ' seconds')"


def utc_before(seconds: int) -> utc_after:
    """The database clock minus a number of seconds (windows looking back)."""
    return utc_after(-int(seconds))
