"""Execution queries: prompts and custom providers."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from expgraph.domains.execution import models
from expgraph.domains.execution.types import CustomProvider, Prompt
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import Connection, connection
from expgraph.graphql.context import Info
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import query_field

BY_NAME = (SortKey("name"),)


@strawberry.type
class Query:
    @query_field(description="Prompts, by name.")
    async def prompts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Prompt]:
        P = models.Prompt
        return await connection(
            info, select(P), P, BY_NAME, first=first, after=after, last=last, before=before
        )

    @query_field(permission=Permission.ADMIN, description="Custom providers (no credentials).")
    async def custom_providers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CustomProvider]:
        P = models.CustomProvider
        return await connection(
            info, select(P), P, BY_NAME, first=first, after=after, last=last, before=before
        )
