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
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from strawberry.types.base import get_object_definition
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField
from strawberry.utils.str_converters import to_camel_case

from expgraph.graphql.context import Info, LoaderSpec
from expgraph.graphql.relay import registry, to_node

Show = Callable[[Any, Any, Any], Any]  # (loaded value, record, context) -> field value
PREFETCH_ATTR = "_expgraph_prefetch"


@dataclass(frozen=True, eq=False)  # one per field, hashed by identity
class Prefetch:
    """How a relationship field loads: ``spec`` keyed by ``key(record)``, the
    field's value ``show(loaded value, record, context)``; ``empty`` when the
    key is None."""

    spec: LoaderSpec
    key: Callable[[Any], Any]
    show: Show
    empty: Any = None

    def resolve(self, info: Info, record: Any) -> Any:
        """The value if the loader has it already, else an awaitable of it."""
        return self.value(info.context, record)

    def value(self, context: Any, record: Any) -> Any:
        """``resolve``, given the request's context."""
        key = self.key(record)
        if key is None:
            return self.empty
        loader = context.loader(self.spec)
        future = loader.cache_map.get(key)
        if future is not None and _succeeded(future):
            return self.show(future.result(), record, context)
        return _shown(loader.load(key), self.show, record, context)


def _succeeded(future: asyncio.Future[Any]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


async def _shown(value: Any, show: Show, record: Any, context: Any) -> Any:
    return show(await value, record, context)


def _node(row: Any, _record: Any, _context: Any) -> Any:
    return to_node(row)


def _nodes(rows: Sequence[Any], _record: Any, _context: Any) -> list[Any]:
    return [to_node(row) for row in rows]


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
    ``RowsById(User)`` keyed by ``created_by``); null when the key is."""
    prefetch = Prefetch(spec, _attribute(key_attr), _node)
    return _field(prefetch, node_type | None if nullable else node_type, description)


def list_field(spec: LoaderSpec, node_type: Any, *, description: str | None = None) -> Any:
    """A field showing the rows ``spec`` loads for the record's id (e.g. a
    ``ChildLists`` of small, bounded children)."""
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


@cache
def _node_type_of(model: type) -> tuple[dict[str, Prefetch], frozenset[str]]:
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
        loaded = await asyncio.gather(
            *(info.context.loader(p.spec).load_many(list(keys)) for p, keys in wanted.items()),
            return_exceptions=True,
        )
        level = []
        for (prefetch_, keys), values in zip(wanted.items(), loaded, strict=True):
            if isinstance(values, BaseException) or prefetch_ not in beneath:
                continue
            by_key = dict(zip(keys, values, strict=True))
            for selection, selection_keys in beneath[prefetch_].values():
                for key in selection_keys:
                    value = by_key[key]
                    for row in value if isinstance(value, list) else [value]:
                        level.append((row, selection))


def _plan(info: Info, model: type, selections: Sequence[Any]) -> _Plan:
    memo = info.context.memo
    memo_key = ("prefetch", model, id(selections))
    plan = memo.get(memo_key)
    if plan is None:
        plan = memo[memo_key] = _make_plan(model, selections)
    return plan


def _make_plan(model: type, selections: Sequence[Any]) -> _Plan:
    prefetches, names = _node_type_of(model)
    if not prefetches:
        return _Plan(())
    by_field: dict[Prefetch, list[Any]] = {}
    for field in _fields(selections, names):
        prefetch_ = prefetches.get(field.name)
        if prefetch_ is not None:
            by_field.setdefault(prefetch_, []).extend(field.selections)
    return _Plan(tuple((p, tuple(sub)) for p, sub in by_field.items()))


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
        found = []
        this = [s for field in info.selected_fields for s in field.selections]
        for edges in _named(this, "edges"):
            for node in _named(edges.selections, "node"):
                found.extend(node.selections)
        memo[key] = found
    return found


def _named(selections: Sequence[Any], name: str) -> Iterable[SelectedField]:
    for selection in selections:
        if not _included(selection.directives):
            continue
        if isinstance(selection, SelectedField):
            if selection.name == name:
                yield selection
        else:
            yield from _named(selection.selections, name)
