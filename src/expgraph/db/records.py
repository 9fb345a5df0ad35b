"""Reading rows as records without the ORM's bookkeeping.

A read-only page of a plain model (one table, no inheritance, nothing deferred)
does not need what the ORM builds for every row it loads: an identity-map
entry, an instance state, a weak reference, change tracking. ``read_records``
runs the same ``select(Model, ...)`` as a Core statement on the session's
connection and makes each row an instance of the model with its column values
in ``__dict__``: attribute reads behave as on a loaded ORM object (the mapped
attributes find their values there), ``isinstance`` holds, and a row costs a
fraction of an ORM object. Such records are for reading: they belong to no
session, so they cannot be changed, refreshed or lazily loaded. Any other
model is loaded through the ORM as usual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Executable, inspect
from sqlalchemy.ext.asyncio import AsyncSession


@cache
def plain_columns(model: type) -> Mapping[str, str] | None:
    """Column name -> attribute name for a plain model, or None when rows of
    ``model`` need the ORM (inheritance, polymorphism, deferred or composite
    columns)."""
    mapper: Any = inspect(model)
    if mapper.inherits is not None or mapper.polymorphic_on is not None:
        return None
    names: dict[str, str] = {}
    for prop in mapper.column_attrs:
        if prop.deferred or len(prop.columns) != 1:
            return None
        names[prop.columns[0].name] = prop.key
    return names


async def read_records(
    session: AsyncSession, stmt: Executable, params: Mapping[str, Any], model: type
) -> Sequence[Sequence[Any]]:
    """The rows of ``stmt`` (``select(model, *extra)``) as ``(record, *extra)``."""
    names = plain_columns(model)
    if names is None:
        return (await session.execute(stmt, params)).all()
    connection = await session.connection()
    result = await connection.execute(stmt, params)
    keys = list(result.keys())
    width = len(names)
    if [names.get(key) for key in keys[:width]].count(None) or any(
        key in names for key in keys[width:]
    ):
        raise ValueError(f"{model.__name__}'s columns must come first, each once: {keys}")
    attributes = [names[key] for key in keys[:width]]
    new = object.__new__
    records = []
    for row in result.all():
        record: Any = new(model)
        record.__dict__.update(zip(attributes, row, strict=False))
        records.append((record, *row[width:]))
    return records
