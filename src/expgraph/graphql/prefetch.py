"""Relationship fields that a page can load ahead, so they resolve synchronously.

A relationship field made here (``node_field``, ``list_field``, ``derived_field``) names the
DataLoader spec it reads and the record attribute that keys it; its resolver
loads through that spec (batched with its siblings), or, when the value is in
the loader already, returns it directly: no coroutine, no task, no future per
row. Connection fields over a relationship (``PageAhead``, see
``connections.connection_field``) say the same of their page.

These fields are the public surface domains build types with, and they work on
either execution path. On the fast path (``graphql/fastpath/``) a connection
that has read its page loads every such relationship the document selects for
the whole page at once, level by level (``fastpath.lookahead``), and the
executor reads the values off the loaders inline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.types.nodes import SelectedField

from expgraph.graphql.context import Info, LoaderSpec
from expgraph.graphql.loaders import ChildPages, Relation
from expgraph.graphql.pagination import Page, PageArgs, SortKey, with_tiebreak
from expgraph.graphql.visibility import node_for, nodes_for, visible_relation

Show = Callable[[Any, Any, Any], Any]  # (loaded value, record, context) -> field value
PREFETCH_ATTR = "_expgraph_prefetch"
DECLARATION_ATTR = "_expgraph_declaration"
NOT_LOADED: Any = object()


def loaded(loader: Any, key: Any) -> Any:
    """What ``loader`` holds for ``key``, or NOT_LOADED (not yet, or failed: the
    ordinary path then reports the failure where it is)."""
    future = loader.cache_map.get(key)
    if future is None or not future.done() or future.cancelled() or future.exception():
        return NOT_LOADED
    return future.result()


def _rows_of(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True, eq=False)  # one per field, hashed by identity
class Prefetch:
    """How a relationship field loads: ``spec`` keyed by ``key(record)``, the
    field's value ``show(loaded value, record, context)``; ``empty`` when the
    key is None."""

    spec: LoaderSpec
    key: Callable[[Any], Any]
    show: Show
    empty: Any = None
    rows: Callable[[Any], list[Any]] = _rows_of  # the records a loaded value holds

    def resolve(self, info: Info, record: Any) -> Any:
        """The value if the loader has it already, else an awaitable of it."""
        return self.value(info.context, record)

    def value(self, context: Any, record: Any) -> Any:
        """``resolve``, given the request's context."""
        found = self.ready(context, record)
        if found is not NOT_LOADED:
            return found
        return _shown(context.loader(self.spec).load(self.key(record)), self.show, record, context)

    def ready(self, context: Any, record: Any) -> Any:
        """The value if the loader has it already, else NOT_LOADED."""
        key = self.key(record)
        if key is None:
            return self.empty
        value = loaded(context.loader(self.spec), key)
        return value if value is NOT_LOADED else self.show(value, record, context)

    def bind(self, _context: Any, _arguments: Mapping[str, Any]) -> Prefetch | None:
        """This field as selected with ``arguments`` (it takes none)."""
        return self


PAGE_ARGUMENTS = frozenset({"first", "after", "last", "before"})


@dataclass(frozen=True, eq=False)
class PageAhead:
    """A connection over ``relation`` that a parent's page loads ahead: in its
    default order (``sort()``), when it is given page arguments at most. Its
    value is ``show(page, parent record, context)``."""

    relation: Relation
    sort: Callable[[], Sequence[SortKey]]
    show: Callable[[Page, Any, Any], Any]

    def bind(self, context: Any, arguments: Mapping[str, Any]) -> Prefetch | None:
        """The page load for one selection of the connection (``arguments`` by
        GraphQL name: coerced, or as strawberry's selections give them, with Int
        literals as strings), or None when it is not loaded ahead: other
        arguments given, or page arguments its resolver will refuse."""
        if any(
            value is not None for name, value in arguments.items() if name not in PAGE_ARGUMENTS
        ):
            return None
        page: dict[str, Any] = {name: arguments.get(name) for name in PAGE_ARGUMENTS}
        try:
            for name in ("first", "last"):
                if isinstance(page[name], str):
                    page[name] = int(page[name])
            keys = with_tiebreak(self.sort())
            args = PageArgs.within(context.settings, keys, **page)
        except Exception:  # the resolver reports it
            return None
        spec = ChildPages(visible_relation(self.relation, context.principal), keys, args)
        return Prefetch(spec, _attribute("id"), self.show, rows=_page_rows)


def _page_rows(page: Page) -> list[Any]:
    return list(page.rows)


async def _shown(value: Any, show: Show, record: Any, context: Any) -> Any:
    return show(await value, record, context)


def _node(row: Any, _record: Any, context: Any) -> Any:
    return node_for(context.principal, row)  # null when the caller may not read it


def _nodes(rows: list[Any], _record: Any, context: Any) -> list[Any]:
    return nodes_for(context.principal, rows)  # what the caller may not read left out


# --- declarations, for the read-query compiler -------------------------------------
#
# A field made by the helpers here and in ``connections`` carries what it was
# declared with (``declaration(resolver)``), so ``graphql/compiled/`` reads a
# field's meaning from public data, never from its resolver's code.


@dataclass(frozen=True)
class NodeLink:
    """A ``node_field``: the row ``spec`` loads for the record's ``key_attr``."""

    spec: LoaderSpec
    key_attr: str


@dataclass(frozen=True)
class ListLink:
    """A ``list_field``: the rows ``spec`` loads for the record's id, without
    those the caller may not read."""

    spec: LoaderSpec


@dataclass(frozen=True, eq=False)
class SqlRule:
    """A derived field's rule written in SQL, declared next to its Python
    resolver (``derived_field(..., sql=...)``) so the read-query compiler can
    answer the field inside the database; it must give exactly what the
    resolver gives.

    ``build(row, settings)`` gets the record's columns by attribute name
    (``row.claimed_at``: columns of whatever the row is read from, for
    correlated subqueries) and the settings, and returns, for a scalar or enum
    field, an SQL expression of its value as a column would hold it (an enum
    member's value); for an object field, a mapping from each of the object's
    fields (Python names) to such an expression. ``settings``: the names of the
    settings ``build`` reads (the compiled statement depends on them)."""

    build: Callable[..., Any]
    settings: tuple[str, ...] = ()
    once: Callable[[Any], Mapping[str, Any]] | None = None
    """Values ``build`` reads more than once (scalar subqueries over the row),
    each computed once per row: given ``once``, the compiler calls
    ``build(row, settings, values)`` with ``values = once(row)``'s columns."""


def declare(resolver: Any, declared: Any) -> Any:
    """Attach what a field was declared with to its resolver."""
    setattr(resolver, DECLARATION_ATTR, declared)
    return resolver


def declaration(resolver: Any) -> Any:
    """What a field's resolver was declared with (``NodeLink``, ``ListLink``,
    ``connections.ListDeclaration``, ``SqlRule``...), or None."""
    return getattr(resolver, DECLARATION_ATTR, None)


def computed(build: Callable[[Any, Any], Any], *, settings: tuple[str, ...] = ()) -> Any:
    """Declare the SQL form of a field its resolver computes from the record's
    own columns (``build(row, settings)``, as ``SqlRule``), so the read-query
    compiler answers it too; put it under ``@strawberry.field``::

        @strawberry.field(description="...")
        @computed(lambda row, _settings: row.read_at.is_not(None))
        def is_read(self) -> bool:
            return self.record.read_at is not None
    """

    def mark(resolver: Any) -> Any:
        return declare(resolver, SqlRule(build, settings))

    return mark


def _field(prefetch: Prefetch, returns: Any, description: str | None, declared: Any = None) -> Any:
    def resolve(root: Any, info: Info) -> Any:
        return prefetch.resolve(info, root.record)

    resolve.__annotations__ = {"root": Any, "info": Info, "return": returns}
    setattr(resolve, PREFETCH_ATTR, prefetch)
    if declared is not None:
        declare(resolve, declared)
    return strawberry.field(resolver=resolve, description=description)


def node_field(
    spec: LoaderSpec,
    key_attr: str,
    node_type: Any,
    *,
    nullable: bool = True,
    description: str | None = None,
) -> Any:
    """A field showing the row ``spec`` loads for ``record.<key_attr>`` (e.g.
    ``RowsById(User)`` keyed by ``created_by``); null when the key is, or when
    the caller may not read the row (its type's read rule)."""
    prefetch = Prefetch(spec, _attribute(key_attr), _node)
    returns = node_type | None if nullable else node_type
    return _field(prefetch, returns, description, NodeLink(spec, key_attr))


def list_field(spec: LoaderSpec, node_type: Any, *, description: str | None = None) -> Any:
    """A field showing the rows ``spec`` loads for the record's id (e.g. a
    ``ChildLists`` of small, bounded children), without those the caller may
    not read (their type's read rule)."""
    prefetch = Prefetch(spec, _attribute("id"), _nodes, empty=[])
    return _field(prefetch, list[node_type], description, ListLink(spec))


def derived_field(
    spec: LoaderSpec,
    key_attr: str,
    returns: Any,
    derive: Show,
    *,
    sql: SqlRule | None = None,
    description: str | None = None,
) -> Any:
    """A field computed by ``derive(loaded value, record, context)`` from what
    ``spec`` loads for ``record.<key_attr>`` (e.g. a state from run counts);
    ``sql``: the same rule in SQL, when it can be written so (``SqlRule``)."""
    prefetch = Prefetch(spec, _attribute(key_attr), derive)
    return _field(prefetch, returns, description, sql)


def _attribute(name: str) -> Callable[[Any], Any]:
    def key(record: Any) -> Any:
        return getattr(record, name)

    return key


Ahead = Prefetch | PageAhead


def loads_ahead(ahead: PageAhead) -> Callable[[Any], Any]:
    """Mark a connection resolver as one a parent's page may load ahead (its
    value for the arguments ``ahead`` takes must be ``ahead``'s)."""

    def mark(resolver: Any) -> Any:
        setattr(resolver, PREFETCH_ATTR, ahead)
        return resolver

    return mark


COUNT_ONLY = frozenset({"totalCount", "__typename"})


def selects_only_count(field: Any) -> bool:
    """Whether a connection field selects nothing but ``totalCount`` (through
    fragments too): then its page need not be read."""
    return _selects_only(field.selections, COUNT_ONLY)


def _selects_only(selections: Sequence[Any], names: frozenset[str]) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name not in names:
                return False
        elif not _selects_only(selection.selections, names):  # a fragment
            return False
    return True
