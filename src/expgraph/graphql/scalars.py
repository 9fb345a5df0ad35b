"""Custom scalars: DateTime (always UTC, offsets required), BigInt, JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from strawberry.scalars import JSON

__all__ = ["JSON", "BigInt", "parse_datetime", "scalar_map"]


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"invalid DateTime: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError("DateTime needs a UTC offset, e.g. 2026-01-01T00:00:00Z")
    return parsed.astimezone(UTC)


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


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("BigInt must be an integer")
    if isinstance(value, int):
        result = value
    elif isinstance(value, str) and value.lstrip("-").isdigit():
        result = int(value)
    else:
        raise ValueError("BigInt must be an integer or a string of digits")
    if not -(2**63) <= result < 2**63:
        raise ValueError("BigInt out of 64-bit range")
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

scalar_map: dict[object, Any] = {datetime: DateTimeScalar, BigInt: BigIntScalar}
