"""Expected errors and the masking of everything else.

An expected failure raises an ``ExpgraphError`` subclass; it reaches the client
with its message and ``extensions.code``. Parse and validation errors (bad
syntax, unknown fields, unknown enum values, wrong argument types) are the
client's too: BAD_REQUEST. Anything else is masked as INTERNAL_SERVER_ERROR and
logged here with its traceback.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    ObjectFieldNode,
    VariableDefinitionNode,
    VariableNode,
    parse,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import MaskErrors

from expgraph.db.errors import Failure, classify_database_error
from expgraph.db.values import ValueRefused
from expgraph.errors import (
    BadRequest,
    Conflict,
    Cooldown,
    ExpgraphError,
    Forbidden,
    NotFound,
    RateLimited,
    Timeout,
    Unauthenticated,
    Unavailable,
)

__all__ = [  # the error classes are re-exported for the kernel's own modules
    "BadRequest",
    "Conflict",
    "Cooldown",
    "ExpgraphError",
    "Forbidden",
    "NotFound",
    "RateLimited",
    "Timeout",
    "Unauthenticated",
    "Unavailable",
    "as_expected",
    "classify",
]

logger = logging.getLogger("expgraph.errors")


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
    if isinstance(exc, ValueRefused):
        return refused_value(exc, camel(exc.column) if exc.column else None)
    failure = classify_database_error(exc)
    if failure is None:
        return None
    template = _FOR_FAILURE[failure]
    return type(template)(template.message)


def camel(name: str) -> str:
    """A column or attribute name as the GraphQL field name (``task_config`` -> ``taskConfig``)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def refused_value(exc: ValueRefused, field: str | None) -> BadRequest:
    """A value refused by ``db.values`` (or a scalar) as BAD_REQUEST naming the field."""
    if field is None:
        return BadRequest(str(exc))
    return BadRequest(f"{field}: {exc}", field=field)


def _refused_in(error: BaseException | None) -> ValueRefused | None:
    """The ``ValueRefused`` a scalar raised, under graphql-core's wrapping errors."""
    seen = 0
    while error is not None and seen < 8:
        if isinstance(error, ValueRefused):
            return error
        error = getattr(error, "original_error", None) or error.__cause__
        seen += 1
    return None


_AT_PATH = re.compile(r"has invalid value at \.?([^:]+):")


def _input_field(error: GraphQLError) -> str | None:
    """The input field (or argument) an input coercion error is about: the
    innermost field around the offending literal, or, for a variable, the field
    at the end of the path graphql-core reports, else where the variable is used."""
    match = _AT_PATH.search(error.message)
    if match:
        names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", match.group(1))
        if names:
            return names[-1]
    if error.source is None or not error.nodes:
        return None
    node = error.nodes[0]
    if node.loc is None:
        return None
    try:
        document = parse(error.source)
    except GraphQLError:
        return None
    found: list[str] = []
    variable = node.variable.name.value if isinstance(node, VariableDefinitionNode) else None
    start = node.loc.start

    class Find(Visitor):
        def enter_argument(self, field: ArgumentNode, *_: Any) -> None:
            self._check(field)

        def enter_object_field(self, field: ObjectFieldNode, *_: Any) -> None:
            self._check(field)

        def _check(self, field: ArgumentNode | ObjectFieldNode) -> None:
            value = field.value
            if variable is not None:
                if isinstance(value, VariableNode) and value.name.value == variable:
                    found.append(field.name.value)
            elif value.loc is not None and value.loc.start <= start < value.loc.end:
                found.append(field.name.value)

    visit(document, Find())
    return found[-1] if found else None


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
    refused = _refused_in(original) if original is not None and not error.path else None
    if refused is not None:
        # A scalar refused an input value (NUL, non-finite, too large...): name the field.
        field = _input_field(error)
        bad = refused_value(refused, field)
        return _with_code(error, bad.message, bad.extensions)
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
    """Gives every error an ``extensions.code`` and masks the unexpected ones:
    strawberry's ``MaskErrors`` hands every error (its default ``should_mask_error``)
    to ``anonymise_error``, which here classifies it."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return classify(error)
