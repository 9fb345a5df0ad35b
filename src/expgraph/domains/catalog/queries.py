"""Catalog queries."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

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
from expgraph.graphql.connections import Connection, filtered_connection
from expgraph.graphql.context import Info
from expgraph.graphql.permissions import query_field


@strawberry.type
class Query:
    @query_field(description="Tags, by name unless ordered.")
    async def tags(
        self,
        info: Info,
        filter: TagFilter | None = None,
        order_by: list[TagOrder] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Tag]:
        return await filtered_connection(
            info,
            select(models.Tag),
            models.Tag,
            filter,
            TAG_RULES,
            TAG_ORDERING.keys(order_by),
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @query_field(description="Datasets, newest first unless ordered.")
    async def datasets(
        self,
        info: Info,
        filter: DatasetFilter | None = None,
        order_by: list[DatasetOrder] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Dataset]:
        return await filtered_connection(
            info,
            select(models.Dataset),
            models.Dataset,
            filter,
            DATASET_RULES,
            DATASET_ORDERING.keys(order_by),
            first=first,
            after=after,
            last=last,
            before=before,
        )
