"""Expected errors and the masking of everything else.

An expected failure raises an ``ExpgraphError`` subclass; it reaches the client
with its message and ``extensions.code``. Parse and validation errors (bad
syntax, unknown fields, unknown enum values, wrong argument types) are the
client's too: BAD_REQUEST. Anything else is masked as INTERNAL_SERVER_ERROR and
logged here with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from expgraph.db.errors import Failure, classify_database_error

logger = logging.getLogger("expgraph.errors")


class ExpgraphError(Exception):
    """A failure the client caused or must know about."""

    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": self.code, **extensions}


class BadRequest(ExpgraphError):
    code = "BAD_REQUEST"


class NotFound(ExpgraphError):
    code = "NOT_FOUND"


class Conflict(ExpgraphError):
    code = "CONFLICT"


class Cooldown(ExpgraphError):
    code = "COOLDOWN"


class Unauthenticated(ExpgraphError):
    code = "UNAUTHENTICATED"


class Forbidden(ExpgraphError):
    code = "FORBIDDEN"


class RateLimited(ExpgraphError):
    code = "RATE_LIMITED"


class Timeout(ExpgraphError):
    """The request's work ran past a server time limit (the statement timeout)."""

    code = "TIMEOUT"


class Unavailable(ExpgraphError):
    """The database cannot be reached right now; the same request may succeed later."""

    code = "UNAVAILABLE"


INTERNAL = "INTERNAL_SERVER_ERROR"

_FOR_FAILURE: dict[Failure, ExpgraphError] = {
    Failure.UNIQUE: Conflict("a record with the same unique value already exists"),
    Failure.FOREIGN_KEY: BadRequest("a referenced record does not exist or is still referenced"),
    Failure.NOT_NULL: BadRequest("a required value is missing"),
    Failure.CHECK: BadRequest("a value is out of its allowed range"),
    Failure.INTEGRITY: BadRequest("the write violates a database constraint"),
    Failure.DATA: BadRequest("a value does not fit its field (too long, out of range or invalid)"),
    Failure.TIMEOUT: Timeout("the request took longer than the server allows; narrow it down"),
    Failure.UNAVAILABLE: Unavailable("the database is unavailable; try again shortly"),
}


def as_expected(exc: BaseException) -> ExpgraphError | None:
    """``exc`` as the expected error the client sees, or None when it is a bug.

    Database failures (constraint violations, refused values, timeouts, an
    unreachable server) are expected: each becomes a coded error here, in one
    place, whichever driver raised it and wherever it was raised.
    """
    if isinstance(exc, ExpgraphError):
        return exc
    failure = classify_database_error(exc)
    if failure is None:
        return None
    template = _FOR_FAILURE[failure]
    return type(template)(template.message)


def _with_code(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


def classify(error: GraphQLError) -> GraphQLError:
    """The error as the client sees it."""
    original = error.original_error
    expected = as_expected(original) if original is not None else None
    if expected is not None:
        return _with_code(error, expected.message, expected.extensions)
    if original is None or not error.path:
        # Raised by graphql-core itself while parsing, validating or coercing the
        # request's input (variables included): the request is wrong, not the server.
        code = (error.extensions or {}).get("code") or "BAD_REQUEST"
        return _with_code(error, error.message, {**(error.extensions or {}), "code": code})
    logger.error(
        "unexpected error at %s",
        ".".join(str(p) for p in error.path or []),
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with_code(error, "Internal server error.", {"code": INTERNAL})


class ErrorCodes(MaskErrors):
    """Gives every error an ``extensions.code`` and masks the unexpected ones."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [classify(error) for error in errors]
