"""The ``experiments`` connection field that other domains' types carry
(User, Dataset, Tag): one definition, configured by the relationship."""

from __future__ import annotations

from typing import Any

from expgraph.domains.experiments import models
from expgraph.domains.experiments.types import (
    EXPERIMENT_ORDERING,
    EXPERIMENT_RULES,
    Experiment,
    ExperimentFilter,
    ExperimentOrder,
)
from expgraph.graphql.connections import connection_field
from expgraph.graphql.loaders import Narrowing, Relation, Through


def _live() -> Any:
    return models.Experiment.deleted_at.is_(None)


LIVE = Narrowing.fixed(_live)


def experiments_field(
    *, parent_attr: str | None = None, through: Through | None = None, description: str
) -> Any:
    """A connection of the (not deleted) experiments related to the parent row."""
    return connection_field(
        Relation(models.Experiment, parent_attr=parent_attr, through=through, narrowings=(LIVE,)),
        Experiment,
        EXPERIMENT_ORDERING,
        filter=ExperimentFilter,
        rules=EXPERIMENT_RULES,
        order=ExperimentOrder,
        description=description,
    )
