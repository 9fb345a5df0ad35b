"""The GraphQL schema: which domains take part, assembled by the kernel.

Adding a domain (or an experiment kind) is one import and one entry below: its
``Query``, ``Mutation`` or ``Subscription`` class. The node types come along
with the modules that declare them (``node(id:)`` can return any of them).
"""

from __future__ import annotations

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
from expgraph.domains.research import mutations as research_mutations
from expgraph.domains.research import queries as research_queries
from expgraph.domains.simulation import mutations as simulation_mutations
from expgraph.graphql.schema import Schema, assemble, export_sdl

__all__ = ["MUTATIONS", "QUERIES", "SUBSCRIPTIONS", "build_schema", "export_sdl"]

QUERIES: tuple[type, ...] = (
    experiments_queries.Query,
    catalog_queries.Query,
    accounts_queries.Query,
    execution_queries.Query,
    research_queries.Query,
)
MUTATIONS: tuple[type, ...] = (
    experiments_mutations.Mutation,
    catalog_mutations.Mutation,
    accounts_mutations.Mutation,
    execution_mutations.Mutation,
    research_mutations.Mutation,
    simulation_mutations.Mutation,
)
SUBSCRIPTIONS: tuple[type, ...] = (execution_subscriptions.Subscription,)


def build_schema(settings: Settings | None = None, *, stock: bool = False) -> Schema:
    """expgraph's schema; ``stock=True`` runs it on strawberry's own execution
    path instead of the fast path (see ``graphql.schema.assemble``)."""
    return assemble(QUERIES, MUTATIONS, SUBSCRIPTIONS, settings, stock=stock)
