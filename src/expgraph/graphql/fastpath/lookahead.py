"""Relationships loaded ahead for a whole page (the fast path).

When a connection has read its page, ``prefetch`` looks at what the document
selects under ``edges.node`` and loads every relationship field of
``graphql.prefetch`` it names for the whole page at once (one batch per spec, as
the fields themselves would), then the relationships of what that loaded, level
by level. The fields then find their value already in the loader. A value not
loaded ahead (a field outside a page, a key seen for the first time) is loaded
the ordinary way, through the same loader and batch.

Connection fields over a relationship (``PageAhead``) are loaded ahead too, a
page per parent, when the document gives them page arguments at most: in their
default order, the same page their resolver would read for the same arguments.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from strawberry.types.base import get_object_definition
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField
from strawberry.utils.str_converters import to_camel_case

from expgraph import compat
from expgraph.graphql.context import Info
from expgraph.graphql.prefetch import PREFETCH_ATTR, Ahead, Prefetch, selects_only_count
from expgraph.graphql.relay import registry


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
    raw = compat.raw_info(info)
    if raw is None:  # (strawberry keeps it elsewhere: worked out for each parent)
        return _page_nodes(info.selected_fields)
    memo = info.context.memo
    key = ("page-nodes", id(raw.field_nodes[0]))
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
