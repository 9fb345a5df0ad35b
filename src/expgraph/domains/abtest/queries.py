"""A/B testing queries: policies and the two views of seed 001."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, select

from expgraph.domains.abtest import models
from expgraph.domains.abtest.types import (
    METRIC_RULES,
    ActiveAbTest,
    ExperimentMetric,
    ExperimentMetricFilter,
    Policy,
)
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

    @query_field(description="Running A/B tests with their variant count and total allocation.")
    @paged(ActiveAbTest, models.ActiveAbTestRow, (SortKey("id"),))
    def active_ab_tests(self, info: Info) -> Select[Any]:
        return select(models.ActiveAbTestRow)

    @query_field(
        description=(
            "Metric aggregates with their experiment's and variant's names, by bucket start."
        )
    )
    @paged(
        ExperimentMetric,
        models.ExperimentMetricRow,
        (SortKey("bucket_start"),),
        filter=ExperimentMetricFilter,
        rules=METRIC_RULES,
    )
    def experiment_metrics(self, info: Info) -> Select[Any]:
        return select(models.ExperimentMetricRow)
