"""Research queries."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

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
from expgraph.graphql.connections import Connection, connection, filtered_connection
from expgraph.graphql.context import Info
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import query_field

NEWEST = (SortKey("created_at", descending=True),)


@strawberry.type
class Query:
    @query_field(description="Synth groups, newest first.")
    async def synth_groups(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SynthGroup]:
        G = models.SynthGroup
        return await connection(
            info, select(G), G, NEWEST, first=first, after=after, last=last, before=before
        )

    @query_field(description="Synths, newest first.")
    async def synths(
        self,
        info: Info,
        filter: SynthFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Synth]:
        S = models.Synth
        return await filtered_connection(
            info,
            select(S),
            S,
            filter,
            SYNTH_RULES,
            NEWEST,
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @query_field(description="Research executions, newest first.")
    async def research_executions(
        self,
        info: Info,
        filter: ResearchExecutionFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ResearchExecution]:
        X = models.ResearchExecution
        return await filtered_connection(
            info,
            select(X),
            X,
            filter,
            EXECUTION_RULES,
            (SortKey("started_at", descending=True),),
            first=first,
            after=after,
            last=last,
            before=before,
        )
