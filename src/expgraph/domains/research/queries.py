"""Research queries."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, select

from expgraph.domains.research import models
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
