"""Research queries."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.research import models
from expgraph.domains.research.explorations import Exploration
from expgraph.domains.research.types import (
    EXECUTION_RULES,
    SYNTH_RULES,
    ResearchExecution,
    ResearchExecutionFilter,
    Synth,
    SynthFilter,
    SynthGroup,
)
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Info
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import query_field
from expgraph.graphql.relay import model_pk

NEWEST = (SortKey("created_at", descending=True),)


@strawberry.type
class Query:
    @query_field(description="Synth groups, newest first.")
    @paged(SynthGroup, models.SynthGroup, NEWEST)
    def synth_groups(self, info: Info) -> Select[Any]:
        return select(models.SynthGroup)

    @query_field(description="Synths, newest first.")
    @paged(Synth, models.Synth, NEWEST, filter=SynthFilter, rules=SYNTH_RULES)
    def synths(self, info: Info) -> Select[Any]:
        return select(models.Synth)

    @query_field(description="Research executions, newest first.")
    @paged(
        ResearchExecution,
        models.ResearchExecution,
        (SortKey("started_at", descending=True),),
        filter=ResearchExecutionFilter,
        rules=EXECUTION_RULES,
    )
    def research_executions(self, info: Info) -> Select[Any]:
        return select(models.ResearchExecution)

    @query_field(description="Explorations, newest first.")
    @paged(Exploration, models.Exploration, (SortKey("started_at", descending=True),))
    def explorations(
        self,
        info: Info,
        experiment_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only the explorations of this experiment."),
        ] = None,
    ) -> Select[Any]:
        X = models.Exploration
        stmt = select(X)
        if experiment_id is not None:
            stmt = stmt.where(X.experiment_id == model_pk(experiment_id, ExperimentRecord))
        return stmt
