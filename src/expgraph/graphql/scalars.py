"""Scalars, and what each accepts as input.

Every input value passes one of these before any resolver sees it, so a value
no column could store is refused as BAD_REQUEST naming its field (see
``graphql.errors.classify``), with the rules of ``db.values``:

- ``String`` and ``ID``: no NUL character (PostgreSQL cannot store it);
- ``Float``: finite (the literal ``1e400`` is infinity to a parser);
- ``JSON``: no NUL in strings or keys, finite numbers, integers within 64 bits,
  at most ``EXPGRAPH_MAX_JSON_BYTES`` serialized and ``EXPGRAPH_MAX_JSON_DEPTH`` deep;
- ``BigInt``: ASCII digits (an optional ``-``), within 64 bits;
- ``DateTime``: ISO 8601 with an offset, returned in UTC.

Lengths depend on the column a string goes to: ``db.values`` checks them at
write time. graphql-core reserves the names of its built-in scalars (a second
scalar named ``String`` cannot be made), so ``harden_builtin_scalars`` wraps the
input coercion of its ``String``, ``ID`` and ``Float`` objects in place; the
names, descriptions and output are unchanged. (A graphql-core whose scalars name
their input coercion otherwise is left as it is, with the warning of
``expgraph.compat``: ``db.values`` still refuses such values when written.)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from graphql import GraphQLFloat, GraphQLID, GraphQLScalarType, GraphQLString
from graphql.utilities import value_from_ast_untyped
from strawberry.scalars import JSON

from expgraph import compat
from expgraph.db.values import ValueRefused, check_float, check_int, check_json, check_text

__all__ = ["JSON", "BigInt", "harden_builtin_scalars", "parse_datetime", "scalar_map"]


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"invalid DateTime: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError("DateTime needs a UTC offset, e.g. 2026-01-01T00:00:00Z")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00:00-02:00
        raise ValueError(f"DateTime out of range: {value!r}") from exc


def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description="An ISO 8601 timestamp with offset; always returned in UTC (`Z`).",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)


_DECIMAL = re.compile(r"-?[0-9]+")


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueRefused("BigInt must be an integer")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and len(value) <= 40 and _DECIMAL.fullmatch(value):
        result = int(value)
    else:
        raise ValueRefused("BigInt must be an integer or a string of ASCII digits")
    check_int(result)
    return result


BigInt = NewType("BigInt", int)

BigIntScalar = strawberry.scalar(
    name="BigInt",
    description=(
        "A signed 64-bit integer, serialized as a decimal string so no client loses "
        "precision; accepts a string or an integer."
    ),
    serialize=str,
    parse_value=_parse_bigint,
)


def _parse_json(value: Any) -> Any:
    check_json(value)
    return value


def _parse_json_literal(node: Any, variables: Any = None) -> Any:
    return _parse_json(value_from_ast_untyped(node, variables))


# Same name, description and URL as strawberry's JSON scalar (the SDL is unchanged).
JSONScalar = strawberry.scalar(
    name="JSON",
    description=(
        "The `JSON` scalar type represents JSON values as specified by "
        "[ECMA-404]"
        "(https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf)."
    ),
    specified_by_url=(
        "https://ecma-international.org/wp-content/uploads/ECMA-404_2nd_edition_december_2017.pdf"
    ),
    serialize=lambda v: v,
    parse_value=_parse_json,
    parse_literal=_parse_json_literal,
)


def _harden(scalar: GraphQLScalarType, check: Any, accepts: type | tuple[type, ...]) -> None:
    """Run ``check`` on what ``scalar`` coerces from variables and literals."""
    names = compat.scalar_input_coercion()
    if names is None or getattr(scalar, "_expgraph_hardened", False):
        return
    value_name, literal_name = names
    coerce_value, coerce_literal = getattr(scalar, value_name), getattr(scalar, literal_name)
    assert coerce_literal is not None

    def checked_value(value: Any) -> Any:
        if isinstance(value, accepts) and not isinstance(value, bool):
            check(value)  # before graphql-core, whose own message names no field
        result = coerce_value(value)
        if result is not value or not isinstance(value, accepts):  # else checked above
            check(result)
        return result

    def checked_literal(node: Any, *args: Any) -> Any:
        result = coerce_literal(node, *args)
        check(result)
        return result

    setattr(scalar, value_name, checked_value)
    setattr(scalar, literal_name, checked_literal)
    scalar._expgraph_hardened = True  # type: ignore[attr-defined]


def _no_nul(value: Any) -> None:
    if isinstance(value, str):
        check_text(value)


def _finite(value: Any) -> None:
    if isinstance(value, float):
        check_float(value)


def harden_builtin_scalars() -> None:
    """Idempotent; done when this module is imported."""
    _harden(GraphQLString, _no_nul, str)
    _harden(GraphQLID, _no_nul, str)
    _harden(GraphQLFloat, _finite, float)


harden_builtin_scalars()

scalar_map: dict[object, Any] = {
    datetime: DateTimeScalar,
    BigInt: BigIntScalar,
    JSON: JSONScalar,
}
