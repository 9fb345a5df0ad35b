"""Keyset pagination: one builder for top-level and per-parent connections.

A page is asked for with ``first``/``after`` (forward) or ``last``/``before``
(backward). Rows are ordered by the sort keys plus ``id`` as tiebreak; a cursor
carries the row's sort-key values, and the next page is the rows strictly past
it. Never OFFSET, never fetch-all-then-slice: the database returns at most
``limit + 1`` rows (per parent), the extra one only telling whether more exist.

Sort keys must be NOT NULL columns, so that comparisons are total.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    Select,
    SmallInteger,
    String,
    and_,
    bindparam,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.types import TypeDecorator

from expgraph.graphql.errors import BadRequest
from expgraph.graphql.scalars import parse_datetime


@dataclass(frozen=True)
class SortKey:
    """One ordering key: a model attribute name and its direction.

    A computed key (``expression``: an SQL expression, e.g. a search rank) is
    not a column: the list's statement selects it, the page's records carry its
    value as ``attr`` (``connection``) and cursors hold it like a column's. Its
    name stands for it in cursors and loader keys."""

    attr: str
    descending: bool = False
    expression: Any = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class PageArgs:
    """Validated page arguments (hashable, so loaders can be keyed by them)."""

    limit: int
    forward: bool
    cursor: tuple[Any, ...] | None

    @classmethod
    def parse(
        cls,
        sort: Sequence[SortKey],
        *,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        default: int,
        maximum: int,
    ) -> PageArgs:
        forward = last is None and before is None
        if not forward and (first is not None or after is not None):
            raise BadRequest("page forward with first/after or backward with last/before")
        requested = first if forward else last
        if requested is not None and not 0 <= requested <= maximum:
            raise BadRequest(f"{'first' if forward else 'last'} must be between 0 and {maximum}")
        limit = default if requested is None else requested
        raw = after if forward else before
        return cls(limit=limit, forward=forward, cursor=decode_cursor(raw, sort) if raw else None)

    @classmethod
    def within(
        cls,
        settings: Any,
        sort: Sequence[SortKey],
        *,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
    ) -> PageArgs:
        """``parse`` with the server's default and maximum page sizes (``settings``)."""
        return cls.parse(
            sort,
            first=first,
            after=after,
            last=last,
            before=before,
            default=settings.page_size_default,
            maximum=settings.page_size_max,
        )


def sort_signature(sort: Sequence[SortKey]) -> str:
    return ",".join(f"{k.attr}:{'d' if k.descending else 'a'}" for k in sort)


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if hasattr(value, "value") and not isinstance(value, (int, str)):
        return value.value  # enums
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"}:
        return parse_datetime(value["t"])
    return value


def encode_cursor(record: Any, sort: Sequence[SortKey]) -> str:
    payload = [sort_signature(sort), [_encode_value(getattr(record, k.attr)) for k in sort]]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sequence[SortKey]) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
        signature, values = orjson.loads(raw)
        decoded = tuple(_decode_value(v) for v in values)
    except (
        ValueError,
        TypeError,
        OverflowError,
        UnicodeError,
        binascii.Error,
        orjson.JSONDecodeError,
    ) as exc:
        raise BadRequest("malformed cursor") from exc
    if signature != sort_signature(sort) or len(decoded) != len(sort):
        raise BadRequest("cursor belongs to another ordering; start again without it")
    return decoded


def with_tiebreak(sort: Sequence[SortKey]) -> tuple[SortKey, ...]:
    """The sort keys with ``id`` last, in the direction of the first key."""
    keys = tuple(k for k in sort if k.attr != "id")
    descending = keys[0].descending if keys else False
    return (*keys, SortKey("id", descending))


def _columns(entity: Any, sort: Sequence[SortKey]) -> list[Any]:
    return [getattr(entity, k.attr) if k.expression is None else k.expression for k in sort]


def order_by(entity: Any, sort: Sequence[SortKey], forward: bool) -> list[Any]:
    clauses = []
    for column, key in zip(_columns(entity, sort), sort, strict=True):
        descending = key.descending if forward else not key.descending
        clauses.append(column.desc() if descending else column.asc())
    return clauses


def _fits(value: Any, column: Any) -> bool:
    """Whether a cursor value is of its sort column's type (a tampered cursor may
    carry anything): checked before it becomes a statement parameter."""
    type_ = column.type
    base = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    try:
        if isinstance(base, Enum):
            return isinstance(value, str) and value in base.enums
        if isinstance(base, Boolean):
            return isinstance(value, bool)
        if isinstance(base, Integer):
            bounds = (
                (-(2**15), 2**15 - 1)
                if isinstance(base, SmallInteger)
                else (-(2**63), 2**63 - 1)
                if isinstance(base, BigInteger)
                else (-(2**31), 2**31 - 1)
            )
            return (
                isinstance(value, int)
                and not isinstance(value, bool)
                and bounds[0] <= value <= bounds[1]
            )
        if isinstance(base, Float | Numeric):
            return (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and abs(value) < 2**63
            )
        if isinstance(base, String):
            return isinstance(value, str) and "\x00" not in value
        if isinstance(base, DateTime):
            return isinstance(value, datetime)
    except NotImplementedError:
        return True
    return True


def check_cursor(entity: Any, sort: Sequence[SortKey], cursor: Sequence[Any]) -> None:
    """BAD_REQUEST when a cursor's values are not of its sort columns' types
    (placeholders of ``cursor_parameters``, whose values were checked, pass)."""
    for column, value in zip(_columns(entity, sort), cursor, strict=True):
        if not isinstance(value, BindParameter) and not _fits(value, column):
            raise BadRequest("malformed cursor")


def cursor_parameters(
    entity: Any, sort: Sequence[SortKey], cursor: Sequence[Any], prefix: str
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A cursor's values as named parameters (checked first, as ``past_cursor``
    checks them): placeholders typed as their sort columns, to build a statement
    with in their place, and their values by name. A statement built so serves
    every cursor of its ordering (the read-query compiler caches it)."""
    check_cursor(entity, sort, cursor)
    placeholders, values = [], {}
    for i, (column, value) in enumerate(zip(_columns(entity, sort), cursor, strict=True)):
        name = f"{prefix}{i}"
        placeholders.append(bindparam(name, type_=column.type))
        values[name] = value
    return tuple(placeholders), values


def past_cursor(
    entity: Any, sort: Sequence[SortKey], cursor: Sequence[Any], forward: bool
) -> ColumnElement[bool]:
    """Rows strictly after (forward) or before (backward) the cursor position."""
    check_cursor(entity, sort, cursor)
    columns = _columns(entity, sort)
    directions = {k.descending for k in sort}
    if len(directions) == 1:
        descending = next(iter(directions)) != (not forward)
        left, right = tuple_(*columns), tuple_(*cursor)
        return left < right if descending else left > right
    alternatives = []
    for i, (column, key) in enumerate(zip(columns, sort, strict=True)):
        descending = key.descending != (not forward)
        # A boolean key (e.g. pinned first) is compared as a bound value:
        # SQLAlchemy refuses ``column < True``.
        value = literal(cursor[i], column.type) if isinstance(cursor[i], bool) else cursor[i]
        step = column < value if descending else column > value
        alternatives.append(
            and_(*(c == v for c, v in zip(columns[:i], cursor[:i], strict=True)), step)
        )
    return or_(*alternatives)


@dataclass
class Page:
    """One page of rows in display order, with what Relay's ``pageInfo`` needs."""

    rows: list[Any]
    has_next: bool
    has_previous: bool
    sort: tuple[SortKey, ...]

    def cursor(self, record: Any) -> str:
        return encode_cursor(record, self.sort)


def make_page(rows: list[Any], args: PageArgs, sort: tuple[SortKey, ...]) -> Page:
    more = len(rows) > args.limit
    rows = rows[: args.limit]
    if args.forward:
        return Page(rows, has_next=more, has_previous=args.cursor is not None, sort=sort)
    rows.reverse()
    return Page(rows, has_next=args.cursor is not None, has_previous=more, sort=sort)


def page_statement(
    stmt: Select[Any], entity: Any, sort: tuple[SortKey, ...], args: PageArgs
) -> Select[Any]:
    """``stmt`` narrowed to one page (plus one row to see whether more exist)."""
    if args.cursor is not None:
        stmt = stmt.where(past_cursor(entity, sort, args.cursor, args.forward))
    return stmt.order_by(*order_by(entity, sort, args.forward)).limit(args.limit + 1)


def partitioned_page_statement(
    stmt: Select[Any],
    entity: Any,
    parent_key: ColumnElement[Any],
    sort: tuple[SortKey, ...],
    args: PageArgs,
) -> Select[Any]:
    """One page per parent in one statement: ``ROW_NUMBER() OVER (PARTITION BY
    parent)`` numbers each parent's rows past the cursor; the outer query keeps
    the first ``limit + 1`` of each. Selects ``(row, parent_key)``."""
    if args.cursor is not None:
        stmt = stmt.where(past_cursor(entity, sort, args.cursor, args.forward))
    row_number = (
        func.row_number()
        .over(partition_by=parent_key, order_by=order_by(entity, sort, args.forward))
        .label("page_row_number")
    )
    inner = stmt.add_columns(parent_key.label("page_parent_key"), row_number).subquery()
    row = aliased(entity, inner)
    parent, number = inner.c["page_parent_key"], inner.c["page_row_number"]
    return select(row, parent).where(number <= args.limit + 1).order_by(parent, number)
