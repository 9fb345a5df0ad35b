"""One filter compiler and one ordering helper for every entity.

A filter input is a strawberry input whose fields are either entity
conditions (compiled by the entity's ``rules``: field name -> SQL condition) or
the logic fields ``and_``, ``or_`` (lists of the same input) and ``not_``.
Conditions in one input are ANDed.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import strawberry
from sqlalchemy import and_, not_, or_, true
from sqlalchemy.sql.elements import ColumnElement
from strawberry.types.unset import UNSET

from expgraph.graphql.errors import BadRequest
from expgraph.graphql.loaders import Narrowing
from expgraph.graphql.pagination import SortKey

Rule = Callable[[Any], ColumnElement[bool]]
MAX_FILTER_DEPTH = 8


@strawberry.enum(description="Which way a sort key orders the list.")
class SortDirection(enum.Enum):
    ASC = strawberry.enum_value("asc", description="Smallest, earliest or A first.")
    DESC = strawberry.enum_value("desc", description="Largest, latest or Z first.")


def compile_filter(
    value: Any, rules: Mapping[str, Rule], _depth: int = 0
) -> ColumnElement[bool] | None:
    """The SQL condition a filter input stands for (None: no condition)."""
    if value is None or value is UNSET:
        return None
    if _depth > MAX_FILTER_DEPTH:
        raise BadRequest(f"filters nest at most {MAX_FILTER_DEPTH} levels deep")
    clauses: list[ColumnElement[bool]] = []
    for f in dataclasses.fields(value):
        item = getattr(value, f.name)
        if item is None or item is UNSET:
            continue
        if f.name in ("and_", "or_"):
            parts = [compile_filter(sub, rules, _depth + 1) for sub in item]
            parts_sql = [p if p is not None else true() for p in parts]
            if parts_sql:
                clauses.append(and_(*parts_sql) if f.name == "and_" else or_(*parts_sql))
        elif f.name == "not_":
            inner = compile_filter(item, rules, _depth + 1)
            clauses.append(not_(inner if inner is not None else true()))
        else:
            clauses.append(rules[f.name](item))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else and_(*clauses)


@dataclass(frozen=True)
class Ordering:
    """How an entity may be ordered: order-field enum member -> model attribute.

    ``computed`` names the attributes that are no column but an SQL expression
    made from the list's filter input (a search rank: ``SortKey.expression``);
    its function raises BAD_REQUEST when the filter cannot give one."""

    attributes: Mapping[Any, str]
    default: tuple[SortKey, ...]
    computed: Mapping[str, Callable[[Any], ColumnElement[Any]]] = field(default_factory=dict)

    def keys(self, orders: Sequence[Any] | None, filter: Any = None) -> list[SortKey]:
        """Sort keys from a list of ``{field, direction}`` inputs (default when
        empty); ``filter`` is the list's filter input, for computed keys."""
        if not orders:
            return list(self.default)
        keys: list[SortKey] = []
        for order in orders:
            attr = self.attributes[order.field]
            if any(k.attr == attr for k in keys):
                raise BadRequest(f"ordering by {order.field.name} twice")
            descending = order.direction == SortDirection.DESC
            expression = self.computed[attr](filter) if attr in self.computed else None
            keys.append(SortKey(attr, descending=descending, expression=expression))
        return keys


def narrowing(value: Any, rules: Mapping[str, Rule]) -> Narrowing | None:
    """The condition a filter input stands for on a relation's children, keyed
    by the input's canonical form and by its rules (None: no condition). Equal
    inputs under the same rules give equal narrowings (one loader, one
    statement); inputs that differ anywhere give different ones. The condition
    is compiled now, so a bad input is refused before anything is read."""
    condition = compile_filter(value, rules)
    if condition is None:
        return None
    # The rules are module-level mappings, alive as long as the process (and
    # held by ``build``), so their identity names them.
    return Narrowing(("filter", id(rules), filter_key(value)), lambda: condition)


def filter_key(value: Any) -> str | None:
    """A canonical string for a filter input, so equal filters share a loader."""
    if value is None or value is UNSET:
        return None
    return orjson.dumps(
        dataclasses.asdict(value), default=str, option=orjson.OPT_SORT_KEYS
    ).decode()


def escape_like(text: str) -> str:
    """``text`` with LIKE wildcards escaped (use with ``escape='\\\\'``)."""
    if "\x00" in text:
        raise BadRequest("search text must not contain NUL characters")
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
