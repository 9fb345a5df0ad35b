"""Statements built once and run many times, straight on asyncpg.

A loader's statement is built once (``reusable(stmt)``) and runs for every
request. SQLAlchemy's execution path around it (a cache key, an execution
context, a cursor adapted through a greenlet, a result object, Row objects)
costs more than running the statement on PostgreSQL. In a read session on
PostgreSQL (autocommit, see ``Database``), ``execute`` compiles such a statement
once per dialect and runs it with the asyncpg connection under the session's
own, applying the same bind and result processing as SQLAlchemy would (its
types' processors). The connection's ``before_cursor_execute`` and
``after_cursor_execute`` listeners still see every statement, so anything that
counts or logs statements sees the same ones.

Anything else (SQLite, a write session, a statement built per request, SQL
echo, a statement whose caller passes expanding parameters) runs through
SQLAlchemy as usual, and so does a statement asyncpg refuses: SQLAlchemy then
reports it as it would.

This is part of the fast path: it runs only in sessions whose ``info`` has
``FAST_PATH`` (``Database`` sets it when the setting is on and ``expgraph.compat``
found what it needs of SQLAlchemy: the compiled statement's result columns, its
positional parameters, the listeners called by hand).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from expgraph import compat
from expgraph.db.errors import Failure, classify_database_error

DIRECT_READS = "expgraph_direct_reads"  # session.info flag: autocommit reads on asyncpg
# session.info flag: the fast path is on (statements straight on asyncpg, bare records)
FAST_PATH = "expgraph_fast_path"

S = TypeVar("S", bound=Executable)

_REUSABLE: WeakKeyDictionary[Any, dict[str, _Compiled | None]] = WeakKeyDictionary()


def reusable(stmt: S) -> S:
    """Mark ``stmt`` as built once and run many times (e.g. a cached loader
    statement): read sessions on PostgreSQL may then run it directly."""
    _REUSABLE.setdefault(stmt, {})
    return stmt


@dataclass
class _Compiled:
    """A statement compiled for asyncpg: its SQL with every expanding parameter
    (the ORM's ``kind IN (...)`` of a single-table subclass) rendered once."""

    sql: str
    names: tuple[str, ...]  # the positional parameters, in order
    given: frozenset[str]  # those the caller passes at each execution
    fixed: Mapping[str, Any]  # the others' values (literals of the statement), processed
    bind_processors: Mapping[str, Callable[[Any], Any]]
    keys: list[str]  # result column names
    types: list[Any]  # result column types
    # (column, result processor), known once the server has described the result
    processors: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None

    def arguments(self, params: Mapping[str, Any]) -> list[Any] | None:
        """The positional arguments, or None when ``params`` are not the ones
        this statement was compiled for."""
        if params.keys() != self.given:
            return None
        processors, fixed = self.bind_processors, self.fixed
        arguments = []
        for name in self.names:
            if name in fixed:
                arguments.append(fixed[name])
            else:
                value = params[name]
                processor = processors.get(name)
                arguments.append(processor(value) if processor is not None else value)
        return arguments

    async def describe(self, driver: Any, dialect: Dialect) -> None:
        """The result processors, given the column types the server reports (a
        processor may depend on them, e.g. numeric vs float)."""
        attributes = (await driver.prepare(self.sql)).get_attributes()
        processors = []
        for index, (type_, attribute) in enumerate(zip(self.types, attributes, strict=True)):
            processor = type_.dialect_impl(dialect).result_processor(dialect, attribute.type.oid)
            if processor is not None:
                processors.append((index, processor))
        self.processors = tuple(processors)


def _compile(stmt: Any, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled | None:
    """``stmt`` for asyncpg, or None when its SQL depends on the parameters given
    (an expanding parameter the caller passes)."""
    compiled: Any = stmt.compile(dialect=dialect)
    expanding = {name for name, bind in compiled.binds.items() if bind.expanding}
    columns = compat.result_columns(compiled)
    if expanding & params.keys() or not compiled.positional or columns is None:
        return None
    state = compiled.construct_expanded_state(params)
    names = compat.positional_names(state)
    given = frozenset(params)
    # The expanded state holds the processors of expanded parameters only: the
    # others' are their types' (as SQLAlchemy applies them, e.g. an enum's value).
    processors = dict(state.processors)
    for name in names:
        bind = compiled.binds.get(name)
        if name not in processors and bind is not None:
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
    fixed = {}
    for name in names:
        if name not in given:
            value = state.parameters[name]
            processor = processors.get(name)
            fixed[name] = processor(value) if processor is not None else value
    return _Compiled(
        state.statement,
        tuple(names),
        given,
        fixed,
        processors,
        [key for key, _ in columns],
        [type_ for _, type_ in columns],
    )


def _plan(
    session: AsyncSession, connection: AsyncConnection, stmt: Executable, params: Mapping[str, Any]
) -> _Compiled | None:
    by_dialect = _REUSABLE.get(stmt)
    info = session.info
    if by_dialect is None or not (info.get(DIRECT_READS) and info.get(FAST_PATH)):
        return None
    engine = connection.sync_engine
    if engine.echo:
        return None
    dialect = engine.dialect
    if dialect.driver != "asyncpg":
        return None
    key = dialect.name
    if key not in by_dialect:
        by_dialect[key] = _compile(stmt, dialect, params)
    return by_dialect[key]


def lost_connection(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection itself is gone (the server closed it:
    a restart, a terminated backend), rather than that the statement failed."""
    if isinstance(exc, asyncpg.exceptions.InternalClientError):
        return True  # a protocol left mid-operation by a connection that died under it
    return classify_database_error(exc) is Failure.UNAVAILABLE


async def execute(
    session: AsyncSession, stmt: Executable, params: Mapping[str, Any]
) -> tuple[list[str], Sequence[Sequence[Any]]]:
    """``(column names, rows)`` of ``stmt`` on the session's connection:
    directly on asyncpg where it can, else through SQLAlchemy's Core.

    In an autocommit read session (PostgreSQL reads), a statement whose pooled
    connection turns out to be closed by the server (which the pool's checkout
    cannot see before the close reaches the socket) runs once more on a new
    connection: a read there holds no transaction, so nothing is lost."""
    try:
        return await _execute(session, stmt, params)
    except Exception as exc:
        if not (session.info.get(DIRECT_READS) and lost_connection(exc)):
            raise
    await session.invalidate()  # the dead connection is discarded, not pooled again
    return await _execute(session, stmt, params)


async def _execute(
    session: AsyncSession, stmt: Executable, params: Mapping[str, Any]
) -> tuple[list[str], Sequence[Sequence[Any]]]:
    connection = await session.connection()
    plan = _plan(session, connection, stmt, params)
    if plan is not None:
        rows = await _direct(connection, plan, params)
        if rows is not None:
            return plan.keys, rows
    result = await connection.execute(stmt, params)
    return list(result.keys()), result.all()


async def _direct(
    connection: AsyncConnection, plan: _Compiled, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]] | None:
    arguments = plan.arguments(params)
    if arguments is None:
        return None
    sync = connection.sync_connection
    assert sync is not None
    sql = plan.sql
    for listener in compat.cursor_listeners(sync, "before_cursor_execute"):
        sql, arguments = listener(sync, None, sql, arguments, None, False)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    try:
        if plan.processors is None:
            await plan.describe(driver, connection.sync_engine.dialect)
        records = await driver.fetch(sql, *arguments)
    except asyncpg.PostgresError as exc:
        if classify_database_error(exc) in (Failure.TIMEOUT, Failure.UNAVAILABLE):
            # Not run again: a statement cancelled by the statement timeout would
            # wait its time out twice, and a connection that is gone is left in a
            # state where SQLAlchemy's attempt fails with "another operation is in
            # progress". Raised as it is (``db.errors`` classifies asyncpg's own).
            raise
        # SQLAlchemy runs it again (the listeners see it again: it is sent
        # again) and reports the error as it would
        return None
    for listener in compat.cursor_listeners(sync, "after_cursor_execute"):
        listener(sync, None, sql, arguments, None, False)
    processors = plan.processors
    assert processors is not None
    if not processors:
        return [tuple(record) for record in records]
    rows = []
    for record in records:
        values = list(record)
        for index, processor in processors:
            value = values[index]
            if value is not None:
                values[index] = processor(value)
        rows.append(values)
    return rows
