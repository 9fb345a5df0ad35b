"""What a value must be to be written: one check per column type, for every write.

PostgreSQL refuses some values (a NUL character, a string longer than its
column, an integer past its column's range) and SQLite stores them; both store
non-finite floats, and JSON numbers past 64 bits can be stored but not sent
back. So every value is checked here, against its column, before it is written:

- strings (``String(n)``, ``Text``): no NUL character, at most ``n`` characters;
- floats: finite;
- integers: within the column's range (16, 32 or 64 bits);
- JSON: no NUL in strings or keys, finite numbers, integers within 64 bits,
  nested at most ``limits.max_json_depth`` deep and at most
  ``limits.max_json_bytes`` long once serialized.

``check_flush`` runs before every ORM flush (every ``Session``, registered when
this module is imported); Core statements that carry values (``insert(Model)``
with rows) pass them through ``check_rows``. A refused value raises
``ValueRefused`` naming its column; nothing of that flush is sent, and the
transaction rolls back. The GraphQL layer answers BAD_REQUEST naming the field
(``graphql.errors.as_expected``); its scalars apply the same JSON rules before
a resolver even runs (``check_json``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Float, Integer, Numeric, SmallInteger, String, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapper, Session, UOWTransaction
from sqlalchemy.orm.attributes import PASSIVE_NO_INITIALIZE, get_history
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import Enum, TypeDecorator, TypeEngine

INT64 = (-(2**63), 2**63 - 1)
_INT_RANGES = (
    (SmallInteger, (-(2**15), 2**15 - 1)),
    (BigInteger, INT64),
    (Integer, (-(2**31), 2**31 - 1)),
)


@dataclass
class ValueLimits:
    """Caps on JSON values (``EXPGRAPH_MAX_JSON_BYTES``, ``EXPGRAPH_MAX_JSON_DEPTH``)."""

    max_json_bytes: int = 256 * 1024
    max_json_depth: int = 32


limits = ValueLimits()


def configure(settings: Any) -> None:
    """Take the JSON caps from the settings (done when a ``Database`` is made)."""
    limits.max_json_bytes = settings.max_json_bytes
    limits.max_json_depth = settings.max_json_depth


class ValueRefused(ValueError):
    """A value that may not be stored. ``column`` names the column (attribute)
    when the check ran against one; ``where`` is the place inside a JSON value."""

    def __init__(self, reason: str, *, column: str | None = None, where: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.column = column
        self.where = where

    def __str__(self) -> str:
        inner = f" (at {self.where})" if self.where else ""
        return f"{self.reason}{inner}"


# --- single values -------------------------------------------------------------------


_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(value: str, max_length: int | None = None) -> None:
    if "\x00" in value:
        raise ValueRefused("text cannot contain the NUL character (U+0000)")
    if not value.isascii() and _SURROGATE.search(value):  # ASCII has no surrogates
        raise ValueRefused("text cannot contain lone surrogates (not valid Unicode text)")
    if max_length is not None and len(value) > max_length:
        raise ValueRefused(f"at most {max_length} characters allowed, got {len(value)}")


def check_float(value: float) -> None:
    if not math.isfinite(value):
        raise ValueRefused(f"must be a finite number, got {value}")


def check_int(value: int, bounds: tuple[int, int] = INT64) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise ValueRefused(f"must be an integer between {low} and {high}")


def check_json(value: Any) -> None:
    """``value`` storable as JSON and sendable back: see the module docstring."""
    value = _plain(value)
    if not _json_ok(value, 0):
        _walk_json(value, "$", 0)  # raises, naming the place
    try:
        size = len(orjson.dumps(value))
    except TypeError as exc:  # not JSON at all (a set, an object...)
        raise ValueRefused("is not a JSON value") from exc
    if size > limits.max_json_bytes:
        raise ValueRefused(
            f"JSON value of {size} bytes is larger than the {limits.max_json_bytes} allowed"
        )


def _json_ok(value: Any, depth: int) -> bool:
    """Whether ``_walk_json`` finds nothing wrong, without working out the places
    it would name (most values are fine: their walk is then cheaper)."""
    if isinstance(value, str):
        return "\x00" not in value and (value.isascii() or not _SURROGATE.search(value))
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return INT64[0] <= value <= INT64[1]
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict | list | tuple):
        if depth >= limits.max_json_depth:
            return False
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or "\x00" in key:
                    return False
                if not key.isascii() and _SURROGATE.search(key):
                    return False
                if not _json_ok(item, depth + 1):
                    return False
            return True
        return all(_json_ok(item, depth + 1) for item in value)
    return True


def _walk_json(value: Any, where: str, depth: int) -> None:
    if isinstance(value, str):
        if "\x00" in value or _SURROGATE.search(value):
            raise ValueRefused(
                "JSON strings cannot contain the NUL character or lone surrogates", where=where
            )
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise ValueRefused("JSON integers must fit in 64 bits", where=where)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueRefused("JSON numbers must be finite (no NaN or Infinity)", where=where)
    elif isinstance(value, dict | list | tuple):
        if depth >= limits.max_json_depth:
            raise ValueRefused(
                f"JSON nested deeper than {limits.max_json_depth} levels", where=where
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ValueRefused("JSON object keys must be strings", where=where)
                if "\x00" in key or _SURROGATE.search(key):
                    raise ValueRefused(
                        "JSON keys cannot contain the NUL character or lone surrogates",
                        where=where,
                    )
                _walk_json(item, f"{where}.{key}", depth + 1)
        else:
            for index, item in enumerate(value):
                _walk_json(item, f"{where}[{index}]", depth + 1)


def _plain(value: Any) -> Any:
    """Pydantic models (``PydanticJSON`` columns) as the plain data they store."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="python")
    if isinstance(value, list | tuple) and any(hasattr(v, "model_dump") for v in value):
        return [_plain(v) for v in value]
    return value


# --- per column -------------------------------------------------------------------------

Check = Callable[[Any], None]


def _base_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    return type_.impl_instance if isinstance(type_, TypeDecorator) else type_


def checker_for(type_: TypeEngine[Any]) -> Check | None:
    """The check of a column type, or None when its values need none."""
    if isinstance(type_, TypeDecorator) and isinstance(type_.impl_instance, JSON):
        return _json_value
    base = _base_type(type_)
    if isinstance(base, JSON):
        return _json_value
    if isinstance(base, Enum):
        return None  # SQLAlchemy checks enum values itself
    if isinstance(base, String):
        length = base.length

        def text_value(value: Any) -> None:
            if isinstance(value, str):
                check_text(value, length)

        return text_value
    if isinstance(base, Float | Numeric):
        return _float_value
    for kind, bounds in _INT_RANGES:
        if isinstance(base, kind):
            return partial(_int_value, bounds=bounds)
    return None


def _json_value(value: Any) -> None:
    if value is not None:
        check_json(value)


def _float_value(value: Any) -> None:
    if isinstance(value, float):
        check_float(value)


def _int_value(value: Any, bounds: tuple[int, int]) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        check_int(value, bounds)


_CHECKS: dict[Mapper[Any], tuple[tuple[str, Check], ...]] = {}


def column_checks(mapper: Mapper[Any]) -> tuple[tuple[str, Check], ...]:
    """(attribute name, check) of every checked column of a mapped class, made once."""
    found = _CHECKS.get(mapper)
    if found is None:
        pairs = []
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            check = checker_for(column.type)
            if check is not None:
                pairs.append((prop.key, check))
        found = _CHECKS[mapper] = tuple(pairs)
    return found


def _check(column: str, check: Check, value: Any) -> None:
    if value is None or isinstance(value, ClauseElement) or hasattr(value, "__clause_element__"):
        return  # SQL expressions (server clocks, counters) are the server's own
    try:
        check(value)
    except ValueRefused as exc:
        exc.column = column
        raise


def check_object(obj: Any, *, new: bool) -> None:
    """The values an ORM object is about to write: all of them when ``new``,
    the changed ones otherwise."""
    state = sa_inspect(obj)
    for key, check in column_checks(state.mapper):
        if new:
            value = state.dict.get(key)
            _check(key, check, value)
        else:
            for value in get_history(obj, key, passive=PASSIVE_NO_INITIALIZE).added or ():
                _check(key, check, value)


def check_rows(model: type, rows: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> None:
    """Rows (by attribute name) about to be written by a Core statement on ``model``."""
    checks = dict(column_checks(sa_inspect(model)))
    for row in [rows] if isinstance(rows, Mapping) else rows:
        for key, value in row.items():
            check = checks.get(key)
            if check is not None:
                _check(key, check, value)


@event.listens_for(Session, "before_flush")
def check_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    for obj in session.new:
        check_object(obj, new=True)
    for obj in session.dirty:
        check_object(obj, new=False)


__all__ = [
    "ValueLimits",
    "ValueRefused",
    "check_float",
    "check_int",
    "check_json",
    "check_rows",
    "check_text",
    "checker_for",
    "configure",
    "limits",
]
