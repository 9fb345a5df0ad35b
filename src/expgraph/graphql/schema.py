"""Schema machinery: the root types merged from the domains' ``Query``,
``Mutation`` and ``Subscription`` classes, the kernel's extensions (error codes,
limits, caches), and the SDL export. Which domains take part is decided one layer
up, in ``expgraph.schema``; this module imports none of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import build_schema as graphql_build_schema
from graphql import lexicographic_sort_schema, print_schema
from strawberry.extensions import MaxTokensLimiter
from strawberry.printer import print_schema as strawberry_print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition

from expgraph import compat
from expgraph.config import Settings
from expgraph.graphql import node
from expgraph.graphql.bounds import ListCaps, apply_list_caps
from expgraph.graphql.context import SharedReadsForQueries
from expgraph.graphql.errors import ErrorCodes
from expgraph.graphql.extend import apply_extensions
from expgraph.graphql.fastpath.executor import Executor, install_lean_resolvers
from expgraph.graphql.limits import CachedValidation, DocumentLimits, Limits, QueryCost
from expgraph.graphql.permissions import SignInRequired
from expgraph.graphql.relay import registry
from expgraph.graphql.scalars import scalar_map


class Schema(strawberry.Schema):
    """Strawberry's schema, minus its logging of every error: client errors are
    not server events, and unexpected ones are logged once, with their traceback,
    by ``ErrorCodes``."""

    # Whether it runs on the fast path (``graphql/fastpath/``): expgraph's
    # executor, lean resolvers and pages' relationships loaded ahead.
    fast_path: bool = False

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        return None


def assemble(
    queries: Sequence[type],
    mutations: Sequence[type],
    subscriptions: Sequence[type],
    settings: Settings | None = None,
    *,
    types: Sequence[type] = (),
    extensions: Sequence[type] = (),
    stock: bool = False,
) -> Schema:
    """The schema of these root classes (the node fields come first), with
    ``types`` that no root field names (each experiment kind's type) and the
    ``@extends`` classes of fields domains add to each other's types (see
    ``graphql.extend``); executed by expgraph's ``Executor`` with lean resolvers
    (see ``graphql.executor``), or with ``stock=True`` by strawberry's own
    execution path, to compare against."""
    settings = settings or Settings()
    # The fast path when the setting asks for it and every private part of
    # graphql-core and strawberry it needs is there (else one warning, see compat).
    fast = not stock and compat.use_fast_path(settings.fast_path)
    apply_extensions(extensions)
    # Request limits (graphql/limits.py), each linear in the document: the parse
    # (cached, by DocumentLimits, the only on_parse hook) after its length check;
    # then, in this list's order, the anonymous caller's refusal, the shape
    # limits, the spec's validation (cached; no rule is added, so its cache key
    # is the same for every request) and the cost.
    document_limits = Limits.of(settings)
    request_extensions: list[Any] = [
        ErrorCodes,
        SharedReadsForQueries,
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        SignInRequired,
        ListCaps,  # list lengths (graphql/bounds.py), before any input is converted
        lambda: DocumentLimits(document_limits),
        lambda: CachedValidation(maxsize=1024),
        lambda: QueryCost(settings),
    ]
    # Every node type must be in the schema even when no field names it directly
    # (node(id:) can return any of them).
    every_type = [*types, *(spec.gql_type for spec in registry.specs())]
    schema = Schema(
        query=_root("Query", (node.Query, *queries)),
        mutation=_root("Mutation", tuple(mutations)),
        subscription=_root("Subscription", tuple(subscriptions)),
        types=list(dict.fromkeys(every_type)),
        extensions=request_extensions,
        config=StrawberryConfig(scalar_map=scalar_map),
        execution_context_class=Executor if fast else None,  # None: strawberry's own
    )
    schema.fast_path = fast
    apply_list_caps(schema)
    if fast:
        install_lean_resolvers(schema)
        compat.install_fast_argument_conversion()
        compat.install_fast_variable_coercion()
    return schema


ROOT_DESCRIPTIONS = {
    "Query": "Reads: every list is a paged connection; any object by id through `node`.",
    "Mutation": "Writes: each takes one `input` and answers a payload; errors carry "
    "`extensions.code`.",
    "Subscription": "Live updates over a WebSocket at the same path "
    "(graphql-transport-ws or the older graphql-ws protocol).",
}


def _root(name: str, parts: tuple[type, ...]) -> type:
    """One root type merged from the domains' classes, with its description."""
    merged = merge_types(name, parts)
    definition = get_object_definition(merged, strict=True)
    definition.description = ROOT_DESCRIPTIONS[name]
    return merged


def export_sdl(schema: strawberry.Schema) -> str:
    """The schema's SDL, sorted so the committed file only changes with the API."""
    # Round-trip through SDL: the sorted copy then holds plain literals, not
    # strawberry's Python enum defaults.
    built = graphql_build_schema(strawberry_print_schema(schema))
    return print_schema(lexicographic_sort_schema(built)) + "\n"
