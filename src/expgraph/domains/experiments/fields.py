"""The ``experiments`` connection field that other domains' types carry
(User, Dataset, Tag): one definition, configured by the relationship."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from expgraph.domains.catalog.models import ExperimentTag
from expgraph.domains.experiments import models
from expgraph.graphql.connections import connection_field
from expgraph.graphql.filters import Ordering, Rule
from expgraph.graphql.loaders import Narrowing, Relation, Through

if TYPE_CHECKING:
    from expgraph.domains.experiments.types import (
        Experiment,
        ExperimentFilter,
        ExperimentOrder,
    )

_TYPES = "expgraph.domains.experiments.types"
ExperimentT = Annotated["Experiment", strawberry.lazy(_TYPES)]
FilterT = Annotated["ExperimentFilter", strawberry.lazy(_TYPES)]
OrderT = Annotated["ExperimentOrder", strawberry.lazy(_TYPES)]

TAGGED = Through(ExperimentTag, "tag_id", "experiment_id")


def _ordering() -> Ordering:
    from expgraph.domains.experiments.types import EXPERIMENT_ORDERING  # it imports this module

    return EXPERIMENT_ORDERING


def _rules() -> dict[str, Rule]:
    from expgraph.domains.experiments.types import EXPERIMENT_RULES

    return EXPERIMENT_RULES


def _live() -> Any:
    return models.Experiment.deleted_at.is_(None)


LIVE = Narrowing.fixed(_live)


def experiments_field(
    *, parent_attr: str | None = None, through: Through | None = None, description: str
) -> Any:
    """A connection of the (not deleted) experiments related to the parent row."""
    return connection_field(
        Relation(models.Experiment, parent_attr=parent_attr, through=through, narrowings=(LIVE,)),
        ExperimentT,
        _ordering,
        filter=FilterT,
        rules=_rules,
        order=OrderT,
        description=description,
    )
