"""Generic DataLoader specs: rows by id, pages of children by foreign key
(directly or through an association table), counts, unpaged child lists, a parent's first child, and
ancestors and descendants in self-referential trees (recursive CTEs).

Each spec is a frozen dataclass: equal specs within a request share one
DataLoader, so every parent's request for the same relationship page lands in
one batch and one SQL statement. Results come back in key order.

Statements take their keys as one parameter (``parent_keys``: an array on
PostgreSQL, an expanding ``IN`` elsewhere, see ``db.dialect.in_keys``), so a
spec's statement is built once and reused by every request (building a
windowed page statement costs more than running it), and on PostgreSQL runs
straight on asyncpg (``db.direct.reusable``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from expgraph.db.dialect import in_keys
from expgraph.db.direct import reusable
from expgraph.db.engine import Database
from expgraph.db.records import read_records, read_rows
from expgraph.graphql.pagination import (
    Page,
    PageArgs,
    SortKey,
    make_page,
    partitioned_page_statement,
)

PARENT_KEYS = "parent_keys"
STATEMENTS_CACHED = 1024


@dataclass(frozen=True)
class RowsById:
    """Rows of ``model`` by primary key; None where missing."""

    model: type[Any]  # a mapped class with an ``id`` primary key

    async def load(self, db: Database, keys: list[Any]) -> list[Any]:
        async with db.read() as session:
            rows = await read_records(
                session, _rows_statement(self), {PARENT_KEYS: keys}, self.model
            )
        by_id = {row[0].id: row[0] for row in rows}
        return [by_id.get(key) for key in keys]


@dataclass(frozen=True)
class Through:
    """A many-to-many link: ``association.parent_attr`` -> ``association.target_attr``."""

    association: type[Any]
    parent_attr: str
    target_attr: str


@dataclass(frozen=True)
class Narrowing:
    """A condition on a relation's children and the key that names its SQL.

    Equal narrowings are the same condition: a relation's loaders and its
    cached statements are shared by every spec whose narrowings are equal. So
    the key is never written by hand; it comes from what builds the condition:
    ``fixed`` (a module-level function: the function is the key),
    ``filters.narrowing`` (a filter input and its rules) or the read rules
    (``visibility.visible_relation``).
    """

    key: Hashable
    build: Callable[[], ColumnElement[bool]] = field(compare=False, hash=False, repr=False)

    @classmethod
    def fixed(cls, build: Callable[[], ColumnElement[bool]]) -> Narrowing:
        """A condition that never changes (e.g. hide soft-deleted rows): ``build``,
        a module-level function, names it."""
        return cls(("fixed", build), build)


@dataclass(frozen=True)
class Relation:
    """Children of ``model`` per parent: by ``model.parent_attr``, or through a
    link, narrowed by every condition in ``narrowings`` (all must hold).

    Two relations are the same loader, and the same statement, exactly when
    their model, link and narrowings are equal (see ``Narrowing``).
    """

    model: type[Any]
    parent_attr: str | None = None
    through: Through | None = None
    narrowings: tuple[Narrowing, ...] = ()

    def narrowed(self, narrowing: Narrowing | None) -> Relation:
        """This relation with one more condition (itself when None)."""
        if narrowing is None:
            return self
        return replace(self, narrowings=(*self.narrowings, narrowing))

    def statement(self) -> tuple[Select[Any], ColumnElement[Any]]:
        """The children of the parents in the ``parent_keys`` parameter, and
        the parent key column."""
        if self.through is not None:
            link = self.through.association
            parent = getattr(link, self.through.parent_attr)
            stmt = select(self.model).join(
                link, getattr(link, self.through.target_attr) == self.model.id
            )
        else:
            assert self.parent_attr is not None
            parent = getattr(self.model, self.parent_attr)
            stmt = select(self.model)
        stmt = stmt.where(in_keys(parent, PARENT_KEYS))
        for narrowing in self.narrowings:
            stmt = stmt.where(narrowing.build())
        return stmt, parent


@dataclass(frozen=True)
class ChildPages:
    """One page of a relation per parent key, in one statement."""

    relation: Relation
    sort: tuple[SortKey, ...]
    args: PageArgs

    async def load(self, db: Database, keys: list[Any]) -> list[Page]:
        stmt = _pages_statement(self)
        pages = await _grouped(db, stmt, self.relation.model, keys, {PARENT_KEYS: keys})
        return [make_page(rows, self.args, self.sort) for rows in pages]


@dataclass(frozen=True)
class Counts:
    """How many children of a relation each parent key has."""

    relation: Relation

    async def load(self, db: Database, keys: list[Any]) -> list[int]:
        async with db.read() as session:
            counts = dict(await read_rows(session, _counts_statement(self), {PARENT_KEYS: keys}))
        return [int(counts.get(key, 0)) for key in keys]


@dataclass(frozen=True)
class ChildLists:
    """All children of a relation per parent key, unpaged: for small, bounded
    lists (e.g. a run's evaluator annotations), in one statement."""

    relation: Relation
    order_attr: str = "id"

    async def load(self, db: Database, keys: list[Any]) -> list[list[Any]]:
        stmt = _lists_statement(self)
        return await _grouped(db, stmt, self.relation.model, keys, {PARENT_KEYS: keys})


@dataclass(frozen=True)
class FirstChild:
    """The first child (lowest id) of a relation per parent key, None for none:
    a to-one link held on the child's side, e.g. a tree's root
    (``Relation(Node, "tree_id", (Narrowing.fixed(is_root),))``). For relations
    with few children per parent (it reads them all)."""

    relation: Relation

    async def load(self, db: Database, keys: list[Any]) -> list[Any]:
        lists = await ChildLists(self.relation).load(db, keys)
        return [rows[0] if rows else None for rows in lists]


@lru_cache(maxsize=STATEMENTS_CACHED)
def _rows_statement(spec: RowsById) -> Select[Any]:
    return reusable(select(spec.model).where(in_keys(spec.model.id, PARENT_KEYS)))


@lru_cache(maxsize=STATEMENTS_CACHED)
def _pages_statement(spec: ChildPages) -> Select[Any]:
    stmt, parent = spec.relation.statement()
    return reusable(
        partitioned_page_statement(stmt, spec.relation.model, parent, spec.sort, spec.args)
    )


@lru_cache(maxsize=STATEMENTS_CACHED)
def _counts_statement(spec: Counts) -> Select[Any]:
    stmt, parent = spec.relation.statement()
    return reusable(stmt.with_only_columns(parent, func.count()).group_by(parent))


@lru_cache(maxsize=STATEMENTS_CACHED)
def _lists_statement(spec: ChildLists) -> Select[Any]:
    stmt, parent = spec.relation.statement()
    return reusable(
        stmt.add_columns(parent.label("parent_key")).order_by(
            getattr(spec.relation.model, spec.order_attr)
        )
    )


@dataclass(frozen=True)
class Ancestors:
    """Each key's ancestors in a self-referential tree, root first: one recursive
    statement for the whole batch (``model.parent_attr`` points at the parent)."""

    model: type[Any]
    parent_attr: str = "parent_id"

    async def load(self, db: Database, keys: list[Any]) -> list[list[Any]]:
        m = self.model
        parent = getattr(m, self.parent_attr)
        walk = (
            select(m.id.label("origin"), parent.label("next_id"), literal(0).label("level"))
            .where(m.id.in_(keys))
            .cte("ancestors", recursive=True)
        )
        step = aliased(m)
        walk = walk.union_all(
            select(walk.c.origin, getattr(step, self.parent_attr), walk.c.level + 1).join(
                step, step.id == walk.c.next_id
            )
        )
        stmt = (
            select(m, walk.c.origin)
            .join(walk, m.id == walk.c.next_id)
            .order_by(walk.c.origin, walk.c.level.desc())
        )
        return await _grouped(db, stmt, m, keys)


@dataclass(frozen=True)
class Descendants:
    """Each key's descendants down to ``max_depth`` levels below it, level by
    level: one recursive statement for the whole batch."""

    model: type[Any]
    max_depth: int
    parent_attr: str = "parent_id"

    async def load(self, db: Database, keys: list[Any]) -> list[list[Any]]:
        m = self.model
        walk = (
            select(m.id.label("origin"), m.id.label("node_id"), literal(0).label("level"))
            .where(m.id.in_(keys))
            .cte("descendants", recursive=True)
        )
        child = aliased(m)
        walk = walk.union_all(
            select(walk.c.origin, child.id, walk.c.level + 1)
            .join(child, getattr(child, self.parent_attr) == walk.c.node_id)
            .where(walk.c.level < self.max_depth)
        )
        stmt = (
            select(m, walk.c.origin)
            .join(walk, m.id == walk.c.node_id)
            .where(walk.c.level > 0)
            .order_by(walk.c.origin, walk.c.level, m.id)
        )
        return await _grouped(db, stmt, m, keys)


async def _grouped(
    db: Database,
    stmt: Select[Any],
    model: type[Any],
    keys: list[Any],
    params: dict[str, Any] | None = None,
) -> list[list[Any]]:
    """The rows of ``stmt`` (``select(model, key)``) grouped by key, in key order."""
    grouped: dict[Any, list[Any]] = defaultdict(list)
    async with db.read() as session:
        rows = await read_records(session, stmt, params or {}, model)
    for row, origin in rows:
        grouped[origin].append(row)
    return [grouped.get(key, []) for key in keys]
