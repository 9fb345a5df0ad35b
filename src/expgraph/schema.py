"""The GraphQL schema: which domains take part, assembled by the kernel.

Adding a domain is one import and one entry below for each of its ``Query``,
``Mutation`` or ``Subscription`` classes; adding an experiment kind is its
domain's experiment type in ``KINDS``; a field one domain adds to another's type
(``graphql.extend.extends``) is its class in ``EXTENSIONS``. The node types come
along with the modules that declare them (``node(id:)`` can return any of them).
"""

from __future__ import annotations

from expgraph.config import Settings
from expgraph.domains.abtest import assignment_api as abtest_assignment
from expgraph.domains.abtest import mutations as abtest_mutations
from expgraph.domains.abtest import queries as abtest_queries
from expgraph.domains.abtest import updates as abtest_updates
from expgraph.domains.abtest.experiment import AbTestExperiment
from expgraph.domains.accounts import fields as accounts_fields
from expgraph.domains.accounts import mutations as accounts_mutations
from expgraph.domains.accounts import queries as accounts_queries
from expgraph.domains.catalog import fields as catalog_fields
from expgraph.domains.catalog import mutations as catalog_mutations
from expgraph.domains.catalog import queries as catalog_queries
from expgraph.domains.execution import fields as execution_fields
from expgraph.domains.execution import mutations as execution_mutations
from expgraph.domains.execution import queries as execution_queries
from expgraph.domains.execution import subscriptions as execution_subscriptions
from expgraph.domains.execution.experiment import EvaluationExperiment
from expgraph.domains.experiments import mutations as experiments_mutations
from expgraph.domains.experiments import queries as experiments_queries
from expgraph.domains.experiments import saved_search_api as experiments_saved_searches
from expgraph.domains.notifications import api as notifications_api
from expgraph.domains.notifications import webhook_api as notifications_webhooks
from expgraph.domains.research import mutations as research_mutations
from expgraph.domains.research import queries as research_queries
from expgraph.domains.research.experiment import ResearchExperiment
from expgraph.domains.simulation import mutations as simulation_mutations
from expgraph.domains.simulation.experiment import SimulationExperiment
from expgraph.domains.training import dataset_job_api as training_dataset_jobs
from expgraph.domains.training import explanations as training_explanations
from expgraph.domains.training import hpo_api as training_hpo
from expgraph.domains.training import mutations as training_mutations
from expgraph.domains.training import nas_api as training_nas
from expgraph.domains.training import queries as training_queries
from expgraph.domains.training.experiment import TrainingExperiment
from expgraph.graphql.schema import Schema, assemble, export_sdl

__all__ = [
    "EXTENSIONS",
    "KINDS",
    "MUTATIONS",
    "QUERIES",
    "SUBSCRIPTIONS",
    "build_schema",
    "export_sdl",
]

QUERIES: tuple[type, ...] = (
    experiments_queries.Query,
    experiments_saved_searches.Query,
    catalog_queries.Query,
    accounts_queries.Query,
    execution_queries.Query,
    research_queries.Query,
    abtest_queries.Query,
    training_queries.Query,
    notifications_api.Query,
    training_hpo.Query,
    training_nas.Query,
    training_dataset_jobs.Query,
    notifications_webhooks.Query,
)
MUTATIONS: tuple[type, ...] = (
    experiments_mutations.Mutation,
    experiments_saved_searches.Mutation,
    catalog_mutations.Mutation,
    accounts_mutations.Mutation,
    execution_mutations.Mutation,
    research_mutations.Mutation,
    simulation_mutations.Mutation,
    abtest_mutations.Mutation,
    abtest_assignment.Mutation,
    training_mutations.Mutation,
    notifications_api.Mutation,
    training_hpo.Mutation,
    training_nas.Mutation,
    training_explanations.Mutation,
    training_dataset_jobs.Mutation,
    notifications_webhooks.Mutation,
)
SUBSCRIPTIONS: tuple[type, ...] = (
    execution_subscriptions.Subscription,
    abtest_updates.Subscription,
    notifications_api.Subscription,
    training_hpo.Subscription,
    training_nas.Subscription,
    training_dataset_jobs.Subscription,
)
# One type per experiment kind, each in the domain of that kind.
KINDS: tuple[type, ...] = (
    EvaluationExperiment,
    AbTestExperiment,
    SimulationExperiment,
    TrainingExperiment,
    ResearchExperiment,
)
# Fields domains add to every experiment: its creator, tags and execution config.
EXTENSIONS: tuple[type, ...] = (
    accounts_fields.ExperimentCreator,
    catalog_fields.ExperimentTags,
    execution_fields.ExperimentExecution,
)


def build_schema(settings: Settings | None = None, *, stock: bool = False) -> Schema:
    """expgraph's schema; ``stock=True`` runs it on strawberry's own execution
    path instead of the fast path (see ``graphql.schema.assemble``)."""
    return assemble(
        QUERIES,
        MUTATIONS,
        SUBSCRIPTIONS,
        settings,
        types=KINDS,
        extensions=EXTENSIONS,
        stock=stock,
    )
