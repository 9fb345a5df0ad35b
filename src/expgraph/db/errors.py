"""Database failures from either driver, classified once.

Services check what they can before writing; this is the net for everything
else: a race on a unique name, a value the column refuses, a statement that ran
past its time limit, a server that is down. ``classify_database_error`` names
what happened in the database's terms; the GraphQL layer turns that name into
an error code (``graphql.errors``), so no caller ever sees a driver's message.
"""

from __future__ import annotations

import enum
import re

from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout


class Failure(enum.Enum):
    """What went wrong in the database, as far as the caller is concerned."""

    UNIQUE = "unique"  # a row with the same unique value exists
    FOREIGN_KEY = "foreign_key"  # a referenced row is missing, or a row is still referenced
    NOT_NULL = "not_null"  # a required value is missing
    CHECK = "check"  # a value is outside its allowed range
    INTEGRITY = "integrity"  # another constraint
    DATA = "data"  # a value the column type refuses: too long, NUL, out of range
    TIMEOUT = "timeout"  # the statement ran past the statement timeout
    UNAVAILABLE = "unavailable"  # the server is down, restarting or out of connections


_BY_SQLSTATE = {
    "23505": Failure.UNIQUE,
    "23503": Failure.FOREIGN_KEY,
    "23502": Failure.NOT_NULL,
    "23514": Failure.CHECK,
    "57014": Failure.TIMEOUT,  # query_canceled: statement_timeout
    "55P03": Failure.TIMEOUT,  # lock_not_available: lock_timeout
    "57P01": Failure.UNAVAILABLE,  # admin_shutdown
    "57P02": Failure.UNAVAILABLE,  # crash_shutdown
    "57P03": Failure.UNAVAILABLE,  # cannot_connect_now
    "53300": Failure.UNAVAILABLE,  # too_many_connections
}
_BY_SQLSTATE_CLASS = {"22": Failure.DATA, "23": Failure.INTEGRITY, "08": Failure.UNAVAILABLE}
_SQLITE_MESSAGES = (
    (r"UNIQUE constraint failed", Failure.UNIQUE),
    (r"FOREIGN KEY constraint failed", Failure.FOREIGN_KEY),
    (r"NOT NULL constraint failed", Failure.NOT_NULL),
    (r"CHECK constraint failed", Failure.CHECK),
    (r"too large|too big|string or blob too big", Failure.DATA),
    (r"integer overflow|malformed JSON", Failure.DATA),
    (r"database is locked", Failure.TIMEOUT),
    (r"unable to open database", Failure.UNAVAILABLE),
)


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error, through SQLAlchemy's wrapper if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
        current = getattr(current, "orig", None) or current.__cause__
    return None


def classify_database_error(exc: BaseException) -> Failure | None:
    """What ``exc`` says about the database, or None when it is not a database error."""
    state = _sqlstate(exc)
    if state is not None:
        return _BY_SQLSTATE.get(state) or _BY_SQLSTATE_CLASS.get(state[:2])
    if isinstance(exc, PoolTimeout | DisconnectionError):
        return Failure.UNAVAILABLE
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return Failure.UNAVAILABLE
        message = str(exc.orig)
        for pattern, failure in _SQLITE_MESSAGES:
            if re.search(pattern, message, re.IGNORECASE):
                return failure
        if isinstance(exc, IntegrityError):
            return Failure.INTEGRITY
        return None
    if isinstance(exc, ConnectionError | OSError) and not isinstance(exc, FileNotFoundError):
        # asyncpg raises these when it cannot reach the server at all
        return Failure.UNAVAILABLE
    return None
