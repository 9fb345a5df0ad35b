"""Schema assembly: every domain's Query and Mutation merged, with the
kernel's extensions (error codes, limits, caches), and the SDL export."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import build_schema as graphql_build_schema
from graphql import lexicographic_sort_schema, print_schema
from strawberry.extensions import MaxTokensLimiter
from strawberry.printer import print_schema as strawberry_print_schema
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types

from expgraph.config import Settings
from expgraph.domains.accounts import mutations as accounts_mutations
from expgraph.domains.accounts import queries as accounts_queries
from expgraph.domains.catalog import mutations as catalog_mutations
from expgraph.domains.catalog import queries as catalog_queries
from expgraph.domains.execution import mutations as execution_mutations
from expgraph.domains.execution import queries as execution_queries
from expgraph.domains.execution import subscriptions as execution_subscriptions
from expgraph.domains.experiments import mutations as experiments_mutations
from expgraph.domains.experiments import queries as experiments_queries
from expgraph.domains.research import explorations as research_explorations
from expgraph.domains.research import mutations as research_mutations
from expgraph.domains.research import queries as research_queries
from expgraph.domains.simulation import mutations as simulation_mutations
from expgraph.graphql import node
from expgraph.graphql.bounds import ListCaps, apply_list_caps
from expgraph.graphql.context import SharedReadsForQueries
from expgraph.graphql.errors import ErrorCodes
from expgraph.graphql.executor import Executor, install_lean_resolvers
from expgraph.graphql.limits import CachedValidation, DocumentLimits, Limits, QueryCost
from expgraph.graphql.permissions import SignInRequired
from expgraph.graphql.relay import registry
from expgraph.graphql.scalars import scalar_map

QUERIES: tuple[type, ...] = (
    node.Query,
    experiments_queries.Query,
    catalog_queries.Query,
    accounts_queries.Query,
    execution_queries.Query,
    research_explorations.Query,
    research_queries.Query,
)
MUTATIONS: tuple[type, ...] = (
    experiments_mutations.Mutation,
    catalog_mutations.Mutation,
    accounts_mutations.Mutation,
    execution_mutations.Mutation,
    research_explorations.Mutation,
    research_mutations.Mutation,
    simulation_mutations.Mutation,
)
SUBSCRIPTIONS: tuple[type, ...] = (execution_subscriptions.Subscription,)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)
Subscription = merge_types("Subscription", SUBSCRIPTIONS)


class Schema(strawberry.Schema):
    """Strawberry's schema, minus its logging of every error: client errors are
    not server events, and unexpected ones are logged once, with their traceback,
    by ``ErrorCodes``."""

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        return None


def build_schema(settings: Settings | None = None, *, stock: bool = False) -> Schema:
    """The schema, executed by expgraph's ``Executor`` with lean resolvers (see
    ``graphql.executor``); ``stock=True`` keeps strawberry's own execution path,
    to compare against."""
    settings = settings or Settings()
    # Request limits (graphql/limits.py), each linear in the document: the parse
    # (cached, by DocumentLimits, the only on_parse hook) after its length check;
    # then, in this list's order, the anonymous caller's refusal, the shape
    # limits, the spec's validation (cached; no rule is added, so its cache key
    # is the same for every request) and the cost.
    document_limits = Limits.of(settings)
    extensions: list[Any] = [
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
    types = [spec.gql_type for spec in registry.specs()]
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=types,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=scalar_map),
        execution_context_class=StrawberryGraphQLCoreExecutionContext if stock else Executor,
    )
    apply_list_caps(schema)
    if not stock:
        install_lean_resolvers(schema)
    return schema


def export_sdl(schema: strawberry.Schema) -> str:
    """The schema's SDL, sorted so the committed file only changes with the API."""
    # Round-trip through SDL: the sorted copy then holds plain literals, not
    # strawberry's Python enum defaults.
    built = graphql_build_schema(strawberry_print_schema(schema))
    return print_schema(lexicographic_sort_schema(built)) + "\n"
