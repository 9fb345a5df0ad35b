"""Execution queries: prompts and custom providers."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, select

from expgraph.domains.execution import models
from expgraph.domains.execution.types import CustomProvider, Prompt
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Info
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import query_field

BY_NAME = (SortKey("name"),)


@strawberry.type
class Query:
    @query_field(description="Prompts, by name.")
    @paged(Prompt, models.Prompt, BY_NAME)
    def prompts(self, info: Info) -> Select[Any]:
        return select(models.Prompt)

    @query_field(permission=Permission.ADMIN, description="Custom providers (no credentials).")
    @paged(CustomProvider, models.CustomProvider, BY_NAME)
    def custom_providers(self, info: Info) -> Select[Any]:
        return select(models.CustomProvider)
