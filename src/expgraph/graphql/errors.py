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


INTERNAL = "INTERNAL_SERVER_ERROR"


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
    if isinstance(original, ExpgraphError):
        return _with_code(error, original.message, original.extensions)
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


class RateLimited(ExpgraphError):
    code = "RATE_LIMITED"
