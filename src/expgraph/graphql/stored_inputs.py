"""Input objects stored as JSON and read back (e.g. a saved search's filter).

``dump_input`` writes a strawberry input object as the JSON a client would
send for it: GraphQL field names, enum value names, ISO 8601 date-times, unset
fields left out. ``load_input`` makes the input object again from such JSON,
checked against the input type as it is now: a field, enum value or type
that no longer fits (the schema changed since it was stored) is a
``BadRequest`` naming where, never a crash.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    get_object_definition,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.unset import UNSET
from strawberry.utils.str_converters import to_camel_case

from expgraph.errors import BadRequest
from expgraph.graphql.scalars import parse_datetime


def _graphql_name(field: Any) -> str:
    return str(field.graphql_name or to_camel_case(field.python_name))


def dump_input(value: Any) -> Any:
    """The JSON form of an input value (an input object, list, enum, scalar)."""
    if value is None:
        return None
    if has_object_definition(value):
        out: dict[str, Any] = {}
        for field in get_object_definition(value, strict=True).fields:
            item = getattr(value, field.python_name, UNSET)
            if item is not UNSET and item is not None:
                out[_graphql_name(field)] = dump_input(item)
        return out
    if isinstance(value, list | tuple):
        return [dump_input(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def load_input(type_: Any, data: Any, path: str = "") -> Any:
    """The value of ``type_`` (a strawberry input class or field type) that
    ``data`` (from ``dump_input``) stands for; BAD_REQUEST when it does not fit."""
    where = path or "the value"
    if isinstance(type_, StrawberryOptional):
        return None if data is None else load_input(type_.of_type, data, path)
    if data is None:
        raise BadRequest(f"{where} cannot be null")
    if isinstance(type_, StrawberryList):
        if not isinstance(data, list):
            raise BadRequest(f"{where} must be a list")
        return [load_input(type_.of_type, item, f"{path}[{i}]") for i, item in enumerate(data)]
    if isinstance(type_, StrawberryEnumDefinition):
        members = {v.name for v in type_.values}
        if not isinstance(data, str) or data not in members:
            raise BadRequest(f"{where}: {data!r} is not a value of {type_.name}")
        return type_.wrapped_cls[data]
    if isinstance(type_, type) and has_object_definition(type_):
        definition = get_object_definition(type_, strict=True)
        if not isinstance(data, dict):
            raise BadRequest(f"{where} must be an object of {definition.name}")
        fields = {_graphql_name(f): f for f in definition.fields}
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise BadRequest(f"{definition.name} has no field {unknown[0]!r} ({where})")
        values = {
            fields[name].python_name: load_input(
                fields[name].type, item, f"{path}.{name}" if path else name
            )
            for name, item in data.items()
        }
        try:
            return type_(**values)
        except TypeError as exc:  # a required field missing
            raise BadRequest(f"{where} does not fit {definition.name}: {exc}") from exc
    return _scalar(type_, data, where)


def _scalar(type_: Any, data: Any, where: str) -> Any:
    base = getattr(type_, "__supertype__", type_)  # NewType (strawberry.ID) -> str
    if base is datetime:
        if not isinstance(data, str):
            raise BadRequest(f"{where} must be a date-time")
        try:
            return parse_datetime(data)
        except ValueError as exc:
            raise BadRequest(f"{where}: {exc}") from exc
    if base is bool:
        ok = isinstance(data, bool)
    elif base is int:
        ok = isinstance(data, int) and not isinstance(data, bool)
    elif base is float:
        ok = isinstance(data, int | float) and not isinstance(data, bool)
    elif base is str:
        ok = isinstance(data, str)
    else:
        ok = True  # JSON and other scalars: as stored
    if not ok:
        raise BadRequest(f"{where} must be of type {getattr(base, '__name__', base)}")
    return data
