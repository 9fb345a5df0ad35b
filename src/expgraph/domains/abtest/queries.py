"""A/B testing queries: policies."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, select

from expgraph.domains.abtest import models
from expgraph.domains.abtest.types import Policy
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Info
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import query_field


@strawberry.type
class Query:
    @query_field(description="Policies, by name.")
    @paged(Policy, models.Policy, (SortKey("name"),))
    def policies(self, info: Info) -> Select[Any]:
        return select(models.Policy)
