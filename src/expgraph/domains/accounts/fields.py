"""Account fields carried by other domains' types: every experiment's creator
(added to the ``Experiment`` interface)."""

from __future__ import annotations

from expgraph.domains.accounts import models
from expgraph.domains.accounts.types import User
from expgraph.domains.experiments.types import Experiment
from expgraph.graphql.extend import extends
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.prefetch import node_field


@extends(Experiment)
class ExperimentCreator:
    created_by = node_field(
        RowsById(models.User), "created_by", User, description="Who created it."
    )
