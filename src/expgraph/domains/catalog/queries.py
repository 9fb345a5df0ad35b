"""Catalog queries."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import Select, select

from expgraph.domains.catalog import models
from expgraph.domains.catalog.types import (
    DATASET_ORDERING,
    DATASET_RULES,
    TAG_ORDERING,
    TAG_RULES,
    Dataset,
    DatasetFilter,
    DatasetOrder,
    Tag,
    TagFilter,
    TagOrder,
)
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Info
from expgraph.graphql.permissions import query_field


@strawberry.type
class Query:
    @query_field(description="Tags, by name unless ordered.")
    @paged(Tag, models.Tag, TAG_ORDERING, filter=TagFilter, rules=TAG_RULES, order=TagOrder)
    def tags(self, info: Info) -> Select[Any]:
        return select(models.Tag)

    @query_field(description="Datasets, newest first unless ordered.")
    @paged(
        Dataset,
        models.Dataset,
        DATASET_ORDERING,
        filter=DatasetFilter,
        rules=DATASET_RULES,
        order=DatasetOrder,
    )
    def datasets(self, info: Info) -> Select[Any]:
        return select(models.Dataset)
