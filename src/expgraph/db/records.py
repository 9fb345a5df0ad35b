"""Reading rows as records without the ORM's bookkeeping.

A read-only page of a model kept in one table (single-table inheritance
included) does not need what the ORM builds for every row it loads: an identity-map
entry, an instance state, a weak reference, change tracking. ``read_records``
runs the same ``select(Model, ...)`` as a Core statement on the session's
connection and makes each row an instance of the model with its column values
in ``__dict__``: attribute reads behave as on a loaded ORM object (the mapped
attributes find their values there), ``isinstance`` holds, and a row costs a
fraction of an ORM object. Such records are for reading: they belong to no
session, so they cannot be changed, refreshed or lazily loaded, and deferred
columns are left out. Models of joined inheritance are loaded through the ORM
as usual, and so is every model when the fast path is off (a session without
``direct.FAST_PATH`` in its ``info``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Executable, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db import direct


@dataclass(frozen=True)
class RecordShape:
    """How the columns of a model's rows become records."""

    names: Mapping[str, str]  # column name -> attribute name
    deferred: frozenset[str]  # columns a row may carry but a record leaves out
    discriminator: str | None  # single-table inheritance: the column naming the class
    classes: Mapping[Any, type]  # discriminator value -> class


@cache
def record_shape(model: type) -> RecordShape | None:
    """How rows of ``model`` become records, or None when they need the ORM
    (joined inheritance, composite columns)."""
    mapper: Any = inspect(model)
    hierarchy = list(mapper.base_mapper.self_and_descendants)
    if any(m.local_table is not mapper.local_table for m in hierarchy):
        return None  # joined inheritance: columns of several tables
    names: dict[str, str] = {}
    deferred: set[str] = set()
    for m in hierarchy:
        for prop in m.column_attrs:
            if len(prop.columns) != 1:
                return None
            if prop.deferred:
                deferred.add(prop.columns[0].name)
            else:
                names[prop.columns[0].name] = prop.key
    discriminator = None
    classes: dict[Any, type] = {}
    if mapper.polymorphic_on is not None:
        discriminator = mapper.polymorphic_on.name
        classes = {value: m.class_ for value, m in mapper.polymorphic_map.items()}
    return RecordShape(names, frozenset(deferred), discriminator, classes)


async def read_rows(
    session: AsyncSession, stmt: Executable, params: Mapping[str, Any] | None = None
) -> Sequence[Any]:
    """The rows of a statement that selects columns (not entities), run as Core
    on the session's connection (or straight on asyncpg, see ``db.direct``):
    without the ORM's execution path, which such a statement does not need."""
    return (await direct.execute(session, stmt, params or {}))[1]


async def read_records(
    session: AsyncSession, stmt: Executable, params: Mapping[str, Any], model: type
) -> Sequence[Sequence[Any]]:
    """The rows of ``stmt`` (``select(model, *extra)``) as ``(record, *extra)``."""
    shape = record_shape(model) if session.info.get(direct.FAST_PATH) else None
    if shape is None:
        return (await session.execute(stmt, params)).all()
    keys, rows = await direct.execute(session, stmt, params)
    names, deferred = shape.names, shape.deferred
    width = 0
    while width < len(keys) and (keys[width] in names or keys[width] in deferred):
        width += 1
    taken = [(index, names[key]) for index, key in enumerate(keys[:width]) if key in names]
    if not taken or any(key in names for key in keys[width:]):
        raise ValueError(f"{model.__name__}'s columns must come first: {keys}")
    positions = [index for index, _ in taken]
    attributes = [name for _, name in taken]
    contiguous = positions == list(range(len(positions)))
    kind = keys.index(shape.discriminator) if shape.discriminator else None
    classes = shape.classes
    new = object.__new__
    records = []
    for row in rows:
        record: Any = new(model if kind is None else classes[row[kind]])
        values = row if contiguous else [row[index] for index in positions]
        record.__dict__.update(zip(attributes, values, strict=False))
        records.append((record, *row[width:]))
    return records
