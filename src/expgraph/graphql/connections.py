"""Relay connection types and the two ways to fill them.

``connection(...)`` pages a top-level query; ``child_connection(...)`` pages a
relationship per parent through a DataLoader (one statement for all parents).
``totalCount`` is computed only when asked for, and the page only when anything
but ``totalCount`` is.

Both show only what the caller may read (``visibility``): the statement, or the
relation, is narrowed by the node type's read rule in SQL, so pages and
``totalCount`` agree; a row that still reaches a page unreadable (a polymorphic
list whose types' rules differ) is left out of it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select, func, select

from expgraph.db.base import Base
from expgraph.db.records import read_records, read_rows
from expgraph.graphql.auth import Principal
from expgraph.graphql.context import Info
from expgraph.graphql.fastpath import active as fast_path_active
from expgraph.graphql.fastpath.lookahead import page_node_selections, prefetch
from expgraph.graphql.filters import Ordering, Rule, compile_filter, narrowing
from expgraph.graphql.loaders import ChildPages, Counts, Relation, RowsById
from expgraph.graphql.pagination import (
    Page,
    PageArgs,
    SortKey,
    make_page,
    page_statement,
    with_tiebreak,
)
from expgraph.graphql.prefetch import PageAhead, declare, loads_ahead, selects_only_count
from expgraph.graphql.visibility import node_for, visible_relation, visible_statement

NodeT = TypeVar("NodeT")


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether items follow this page (ask again with `after: endCursor`)."
    )
    has_previous_page: bool = strawberry.field(
        description="Whether items come before this page (ask with `before: startCursor`)."
    )
    start_cursor: str | None = strawberry.field(
        description="The first item's cursor; null when the page is empty."
    )
    end_cursor: str | None = strawberry.field(
        description="The last item's cursor; null when the page is empty."
    )


@strawberry.type(description="One item of a page, with its cursor (Relay).")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(
        description="Opaque position of this item, for `after` or `before`; valid as long as "
        "the list's order is the same."
    )
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, with keyset cursors (Relay).")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The page's items, in order.")
    page_info: PageInfo = strawberry.field(description="Where the page sits in the list.")
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list has (one extra query).")
    async def total_count(self) -> int:
        return await self._count()


class PageEdge(Edge):
    """An edge of a page read from the database: its cursor is encoded from its
    row when asked for, not for every edge of every page."""

    _page: Page
    _row: Any

    @property
    def cursor(self) -> str:  # type: ignore[override]
        return self._page.cursor(self._row)


def page_edges(page: Page, principal: Principal) -> list[PageEdge]:
    """The edges of ``page``'s rows ``principal`` may read."""
    edges = []
    for row in page.rows:
        node = node_for(principal, row)
        if node is not None:
            edge = object.__new__(PageEdge)
            edge.__dict__.update(node=node, _page=page, _row=row)
            edges.append(edge)
    return edges


class PageConnection(Connection):
    """A connection over a page read from the database: its ``pageInfo`` (and
    the two cursors in it) is made when asked for."""

    _page: Page

    @property
    def page_info(self) -> PageInfo:  # type: ignore[override]
        page, edges = self._page, self.edges
        return PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        )


def build_connection(
    page: Page, count: Callable[[], Awaitable[int]], principal: Principal
) -> Connection[Any]:
    connection = object.__new__(PageConnection)
    connection.__dict__.update(edges=page_edges(page, principal), _count=count, _page=page)
    return connection


def asks_only_count(info: Info) -> bool:
    """Whether this connection field selects nothing but ``totalCount`` (through
    fragments too): then its page need not be read. Worked out once per place in
    the document and request (the same for every parent of a list)."""
    position = []
    path: Any = info.path
    while path is not None:
        if not isinstance(path.key, int):
            position.append((path.key, path.typename))
        path = path.prev
    key = ("count-only", tuple(position))
    memo = info.context.memo
    if key not in memo:
        memo[key] = all(selects_only_count(field) for field in info.selected_fields)
    return bool(memo[key])


async def connection(
    info: Info,
    stmt: Select[Any],
    entity: Any,
    sort: Sequence[SortKey],
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[Any]:
    """A top-level connection over ``stmt`` (a ``select(entity)`` with its
    filters), narrowed to the rows the caller may read."""
    keys = with_tiebreak(sort)
    args = PageArgs.within(
        info.context.settings, keys, first=first, after=after, last=last, before=before
    )
    db, principal = info.context.db, info.context.principal
    if isinstance(entity, type):
        stmt = visible_statement(stmt, entity, principal)
    rows: list[Any] = []
    computed = [k for k in keys if k.expression is not None]
    if not asks_only_count(info):
        page = page_statement(stmt, entity, keys, args)
        if computed:
            page = page.add_columns(*(k.expression for k in computed))
        async with db.read() as session:
            if isinstance(entity, type):
                read = await read_records(session, page, {}, entity)
                rows = [row[0] for row in read]
                # A computed sort key's value rides on its record, for its cursor.
                for row in read:
                    for i, key in enumerate(computed, start=1):
                        row[0].__dict__[key.attr] = row[i]
            else:
                rows = list((await session.scalars(page)).all())

    async def count() -> int:
        count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
        async with db.read() as session:
            return int((await read_rows(session, count_stmt))[0][0])

    if rows and fast_path_active(info):
        await prefetch(info, rows, page_node_selections(info))
    return build_connection(make_page(rows, args, keys), count, principal)


async def child_connection(
    info: Info,
    relation: Relation,
    parent_id: Any,
    sort: Sequence[SortKey],
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[Any]:
    """A relationship's connection for one parent, batched with its siblings,
    narrowed to the children the caller may read."""
    keys = with_tiebreak(sort)
    args = PageArgs.within(
        info.context.settings, keys, first=first, after=after, last=last, before=before
    )
    context = info.context
    relation = visible_relation(relation, context.principal)
    if asks_only_count(info):
        page = make_page([], args, keys)
    else:
        page = await context.loader(ChildPages(relation, keys, args)).load(parent_id)
        if page.rows and fast_path_active(info):
            await prefetch(info, page.rows, page_node_selections(info))
    return build_connection(page, _counter(context, relation, parent_id), context.principal)


def _counter(context: Any, relation: Relation, parent_id: Any) -> Callable[[], Awaitable[int]]:
    async def count() -> int:
        return int(await context.loader(Counts(relation)).load(parent_id))

    return count


def page_ahead(relation: Relation, sort: Callable[[], Sequence[SortKey]]) -> PageAhead:
    """``child_connection`` over ``relation`` in the order ``sort()`` gives,
    for a parent's page to load ahead (``prefetch.loads_ahead``)."""

    def show(page: Page, record: Any, context: Any) -> Connection[Any]:
        # ``page`` was read for the relation as narrowed for the caller
        # (``PageAhead.bind``); so is its count.
        visible = visible_relation(relation, context.principal)
        return build_connection(page, _counter(context, visible, record.id), context.principal)

    return PageAhead(relation, sort, show)


async def load_node(info: Info, model: type[Base], pk: int | None) -> Any:
    """The GraphQL object for the row ``model(pk)``, batched; None when absent
    or when the caller may not read it."""
    if pk is None:
        return None
    return node_for(info.context.principal, await info.context.loader(RowsById(model)).load(pk))


async def load_nodes(info: Info, model: type[Base], pks: Sequence[int]) -> list[Any]:
    """The GraphQL objects for ``pks``: None where absent or not readable."""
    rows = await info.context.loader(RowsById(model)).load_many(list(pks))
    principal = info.context.principal
    return [node_for(principal, row) for row in rows]


def stmt_filtered(stmt: Select[Any], filter: Any, rules: Mapping[str, Rule]) -> Select[Any]:
    """``stmt`` narrowed by a filter input and its rules."""
    condition = compile_filter(filter, rules)
    return stmt if condition is None else stmt.where(condition)


# Relay's page arguments, declared here once for every connection field.
PAGE_ARGUMENT_DESCRIPTIONS = {
    "first": (
        "How many items to return from the start of the list (after `after` when "
        "given); 0 to the server's page maximum (500 by default). Default: 50."
    ),
    "after": "Return the items after this cursor (an edge's `cursor` or `pageInfo.endCursor`).",
    "last": (
        "How many items to return from the end of the list (before `before` when "
        "given); 0 to the server's page maximum. Use instead of `first`."
    ),
    "before": (
        "Return the items before this cursor (an edge's `cursor` or `pageInfo.startCursor`)."
    ),
}
PAGE_PARAMETERS = tuple(
    inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            annotation, strawberry.argument(description=PAGE_ARGUMENT_DESCRIPTIONS[name])
        ],
    )
    for name, annotation in (
        ("first", int | None),
        ("after", str | None),
        ("last", int | None),
        ("before", str | None),
    )
)

# A connection's order: fixed sort keys, or an ``Ordering`` its ``orderBy``
# argument chooses from (or a function giving one, where importing it would
# be circular).
Sorting = Sequence[SortKey] | Ordering | Callable[[], Ordering]
Rules = Mapping[str, Rule] | Callable[[], Mapping[str, Rule]]


def _sort_keys(sort: Sorting, order_by: Any, filter: Any = None) -> Sequence[SortKey]:
    chosen = sort() if callable(sort) else sort
    return chosen.keys(order_by, filter) if isinstance(chosen, Ordering) else chosen


def _rules(rules: Rules | None) -> Mapping[str, Rule]:
    if rules is None:
        raise TypeError("a connection with a filter needs its rules")
    return rules() if callable(rules) else rules


@dataclass(frozen=True, eq=False)  # one per field, hashed by identity
class ListDeclaration:
    """What a connection field was declared with (``paged`` or
    ``connection_field``), for the read-query compiler: the rows of ``entity``
    a ``listing(root, info=..., **own arguments)`` statement gives (``paged``),
    or the children ``relation`` gives per parent (``connection_field``), in
    the order ``sort`` chooses, filtered by ``rules``."""

    entity: Any
    sort: Sorting
    rules: Rules | None
    filter: Any = None
    listing: Callable[..., Select[Any]] | None = None
    relation: Relation | None = None

    def sort_keys(self, order_by: Any, filter: Any = None) -> Sequence[SortKey]:
        """The sort keys for an ``orderBy`` argument (and filter), as the resolver picks them."""
        return _sort_keys(self.sort, order_by, filter)

    def filter_rules(self) -> Mapping[str, Rule]:
        """The filter's rules (a ``TypeError`` when it has none)."""
        return _rules(self.rules)


def _list_arguments(filter: Any, order: Any) -> list[inspect.Parameter]:
    """The ``filter`` and ``orderBy`` parameters of a connection resolver, when
    it has them (before the page arguments, in that order)."""
    parameters = []
    if filter is not None:
        parameters.append(
            inspect.Parameter(
                "filter",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    filter | None,
                    strawberry.argument(
                        description="Only the items meeting these conditions (all of them)."
                    ),
                ],
            )
        )
    if order is not None:
        parameters.append(
            inspect.Parameter(
                "order_by",
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=list[order] | None,
            )
        )
    return parameters


def connection_field(
    relation: Relation,
    node_type: Any,
    sort: Sorting = (SortKey("id"),),
    *,
    filter: Any = None,
    rules: Rules | None = None,
    order: Any = None,
    description: str | None = None,
) -> Any:
    """A relationship connection field of a node type, with Relay page arguments:
    ``children = connection_field(Relation(Child, "parent_id"), Child)``.

    ``node_type`` is the GraphQL type of the children (a class, or a
    ``strawberry.lazy`` annotation); the parent's record id is the key. With
    ``filter`` (a filter input type) and its ``rules`` the field takes a
    ``filter`` argument, which narrows the relation (``filters.narrowing``:
    equal filters share one loader and one statement); with ``order`` (the
    ``orderBy`` item input) and an ``Ordering`` as ``sort``, an ``orderBy``
    argument. Unfiltered, in its default order, a parent's page loads it ahead.
    """

    async def resolve(
        root: Any,
        info: Info,
        filter: Any = None,
        order_by: Any = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Any]:
        narrowed = relation
        if filter is not None:
            narrowed = relation.narrowed(narrowing(filter, _rules(rules)))
        return await child_connection(
            info,
            narrowed,
            root.record.id,
            _sort_keys(sort, order_by),
            first=first,
            after=after,
            last=last,
            before=before,
        )

    parameters = [
        inspect.Parameter("root", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Any),
        inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info),
        *_list_arguments(filter, order),
        *PAGE_PARAMETERS,
    ]
    # strawberry reads a resolver's arguments from its signature.
    resolve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=Connection[node_type]
    )
    loads_ahead(page_ahead(relation, lambda: _sort_keys(sort, None)))(resolve)
    declare(resolve, ListDeclaration(relation.model, sort, rules, filter, relation=relation))
    return strawberry.field(resolver=resolve, description=description)


def paged(
    node_type: Any,
    entity: Any,
    sort: Sorting = (SortKey("id"),),
    *,
    filter: Any = None,
    rules: Rules | None = None,
    order: Any = None,
) -> Callable[[Callable[..., Select[Any]]], Any]:
    """Make a function that returns the statement of a top-level list into the
    resolver of its connection (``connection``: page arguments, narrowed to what
    the caller may read)::

        @query_field(description="...")
        @paged(Tag, models.Tag, TAG_ORDERING, filter=TagFilter, rules=TAG_RULES, order=TagOrder)
        def tags(self, info: Info) -> Select[Any]:
            return select(models.Tag)

    The field returns a connection of ``node_type`` and takes the function's
    own arguments first, then ``filter`` and ``orderBy`` when given, then the
    page arguments.
    """

    def wrap(listing: Callable[..., Select[Any]]) -> Any:
        own = inspect.signature(listing)

        async def resolve(
            *args: Any,
            filter: Any = None,
            order_by: Any = None,
            first: int | None = None,
            after: str | None = None,
            last: int | None = None,
            before: str | None = None,
            **kwargs: Any,
        ) -> Connection[Any]:
            info = kwargs["info"]
            stmt = listing(*args, **kwargs)
            keys = _sort_keys(sort, order_by, filter)
            if filter is not None:
                stmt = stmt_filtered(stmt, filter, _rules(rules))
            return await connection(
                info, stmt, entity, keys, first=first, after=after, last=last, before=before
            )

        resolve.__signature__ = own.replace(  # type: ignore[attr-defined]
            parameters=[
                *own.parameters.values(),
                *_list_arguments(filter, order),
                *PAGE_PARAMETERS,
            ],
            return_annotation=Connection[node_type],
        )
        resolve.__name__ = listing.__name__
        resolve.__qualname__ = listing.__qualname__
        resolve.__module__ = listing.__module__  # its annotations are read there
        resolve.__doc__ = listing.__doc__
        return declare(resolve, ListDeclaration(entity, sort, rules, filter, listing=listing))

    return wrap
