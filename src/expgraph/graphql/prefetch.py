"""Relationship fields that a page loads ahead, so they resolve synchronously.

A relationship field made here (``node_field``, ``list_field``, ``derived_field``) names the
DataLoader spec it reads and the record attribute that keys it. When a
connection has read its page, ``prefetch`` looks at what the document selects
under ``edges.node`` and loads every such relationship for the whole page at
once (one batch per spec, as the fields themselves would), then the
relationships of what that loaded, level by level. The fields then find their
value already in the loader and return it directly: no coroutine, no task, no
future per row. A value not loaded ahead (a field outside a page, a key seen
for the first time) is loaded the ordinary way, through the same loader and
batch.

Connection fields over a relationship (``PageAhead``, see
``connections.connection_field``) are loaded ahead too, a page per parent, when
the document gives them page arguments at most: in their default order, the
same page their resolver would read for the same arguments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from strawberry.types.base import get_object_definition
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField
from strawberry.utils.str_converters import to_camel_case

from expgraph.graphql.context import Info, LoaderSpec
from expgraph.graphql.loaders import ChildPages, Relation
from expgraph.graphql.pagination import Page, PageArgs, SortKey, with_tiebreak
from expgraph.graphql.relay import registry
from expgraph.graphql.visibility import node_for, nodes_for, visible_relation

Show = Callable[[Any, Any, Any], Any]  # (loaded value, record, context) -> field value
PREFETCH_ATTR = "_expgraph_prefetch"
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


def _field(prefetch: Prefetch, returns: Any, description: str | None) -> Any:
    def resolve(root: Any, info: Info) -> Any:
        return prefetch.resolve(info, root.record)

    resolve.__annotations__ = {"root": Any, "info": Info, "return": returns}
    setattr(resolve, PREFETCH_ATTR, prefetch)
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
    return _field(prefetch, node_type | None if nullable else node_type, description)


def list_field(spec: LoaderSpec, node_type: Any, *, description: str | None = None) -> Any:
    """A field showing the rows ``spec`` loads for the record's id (e.g. a
    ``ChildLists`` of small, bounded children), without those the caller may
    not read (their type's read rule)."""
    prefetch = Prefetch(spec, _attribute("id"), _nodes, empty=[])
    return _field(prefetch, list[node_type], description)


def derived_field(
    spec: LoaderSpec,
    key_attr: str,
    returns: Any,
    derive: Show,
    *,
    description: str | None = None,
) -> Any:
    """A field computed by ``derive(loaded value, record, context)`` from what
    ``spec`` loads for ``record.<key_attr>`` (e.g. a state from run counts)."""
    return _field(Prefetch(spec, _attribute(key_attr), derive), returns, description)


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


@cache
def _node_type_of(model: type) -> tuple[dict[str, Ahead], frozenset[str]]:
    """The relationship fields of ``model``'s node type that can be loaded ahead
    (by GraphQL name), and the names a fragment may use for that type (its own
    and its interfaces')."""
    spec = registry.for_model(model)
    if spec is None:
        return {}, frozenset()
    definition = get_object_definition(spec.gql_type, strict=True)
    found = {}
    for f in definition.fields:
        resolver = f.base_resolver.wrapped_func if f.base_resolver else None
        prefetch_ = getattr(resolver, PREFETCH_ATTR, None)
        if prefetch_ is not None:
            found[f.graphql_name or to_camel_case(f.python_name)] = prefetch_
    names = frozenset([definition.name, *(i.name for i in definition.interfaces)])
    return found, names


@dataclass(frozen=True)
class _Plan:
    """For one node type: what to load ahead, and what is selected beneath it."""

    loads: tuple[tuple[Prefetch, tuple[Any, ...]], ...]


async def prefetch(info: Info, records: Iterable[Any], selections: Sequence[Any]) -> None:
    """Load ahead the relationship fields ``selections`` asks of ``records`` (and
    of what they load, recursively), one batch per spec and level.

    A batch that fails is left to its fields: they find the failure in the
    loader and report it where they are, as they would without the look-ahead.
    """
    level: list[tuple[Any, Sequence[Any]]] = [(record, selections) for record in records]
    while level:
        # per field: its keys, and per sub-selection the keys whose values it reads
        wanted: dict[Prefetch, dict[Any, None]] = {}
        beneath: dict[Prefetch, dict[int, tuple[Sequence[Any], list[Any]]]] = {}
        for record, selected in level:
            if record is None:
                continue
            for prefetch_, sub in _plan(info, type(record), selected).loads:
                key = prefetch_.key(record)
                if key is None:
                    continue
                wanted.setdefault(prefetch_, {})[key] = None
                if sub:
                    group = beneath.setdefault(prefetch_, {}).setdefault(id(sub), (sub, []))
                    group[1].append(key)
        if not wanted:
            return
        results = await asyncio.gather(
            *(info.context.loader(p.spec).load_many(list(keys)) for p, keys in wanted.items()),
            return_exceptions=True,
        )
        level = []
        for (prefetch_, keys), values in zip(wanted.items(), results, strict=True):
            if isinstance(values, BaseException) or prefetch_ not in beneath:
                continue
            by_key = dict(zip(keys, values, strict=True))
            for selection, selection_keys in beneath[prefetch_].values():
                for key in selection_keys:
                    for row in prefetch_.rows(by_key[key]):
                        level.append((row, selection))


def _plan(info: Info, model: type, selections: Sequence[Any]) -> _Plan:
    memo = info.context.memo
    memo_key = ("prefetch", model, id(selections))
    plan = memo.get(memo_key)
    if plan is None:
        plan = memo[memo_key] = _make_plan(info.context, model, selections)
    return plan


def _make_plan(context: Any, model: type, selections: Sequence[Any]) -> _Plan:
    aheads, names = _node_type_of(model)
    if not aheads:
        return _Plan(())
    by_field: dict[Prefetch, list[Any]] = {}
    for field in _fields(selections, names):
        ahead = aheads.get(field.name)
        if isinstance(ahead, Prefetch):
            by_field.setdefault(ahead, []).extend(field.selections)
        elif ahead is not None and not selects_only_count(field):
            bound = ahead.bind(context, field.arguments)
            if bound is not None:
                by_field.setdefault(bound, []).extend(_page_nodes([field]))
    return _Plan(tuple((p, tuple(sub)) for p, sub in by_field.items()))


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


def _fields(selections: Sequence[Any], type_names: frozenset[str]) -> Iterable[SelectedField]:
    """The fields selected on an object whose type (or an interface of it) is
    one of ``type_names``, through fragments; ``@skip``/``@include`` honoured."""
    for selection in selections:
        if not _included(selection.directives):
            continue
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, (InlineFragment, FragmentSpread)):
            condition = selection.type_condition
            if condition is None or condition in type_names:
                yield from _fields(selection.selections, type_names)


def _included(directives: dict[str, dict[str, Any]]) -> bool:
    skip = directives.get("skip")
    include = directives.get("include")
    return not (skip and skip.get("if")) and not (include is not None and not include.get("if"))


def page_node_selections(info: Info) -> list[Any]:
    """What a connection field selects on ``edges { node { ... } }``, fragments
    flattened to their contents' places (type conditions kept for ``_fields``)."""
    memo = info.context.memo
    key = ("page-nodes", id(info._raw_info.field_nodes[0]))
    found = memo.get(key)
    if found is None:
        found = memo[key] = _page_nodes(info.selected_fields)
    return found


def _page_nodes(connection_fields: Sequence[Any]) -> list[Any]:
    this = [s for field in connection_fields for s in field.selections]
    return [
        s
        for edges in _named(this, "edges")
        for node in _named(edges.selections, "node")
        for s in node.selections
    ]


def _named(selections: Sequence[Any], name: str) -> Iterable[SelectedField]:
    for selection in selections:
        if not _included(selection.directives):
            continue
        if isinstance(selection, SelectedField):
            if selection.name == name:
                yield selection
        else:
            yield from _named(selection.selections, name)
