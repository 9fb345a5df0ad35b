"""``node(id:)`` and ``nodes(ids:)``: any object by its global id, as far as
the caller may read it (its type's read rule, see ``visibility``): an object
they may not read is null, exactly like one that does not exist."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry

from expgraph.graphql.bounds import capped_argument
from expgraph.graphql.context import Info
from expgraph.graphql.errors import BadRequest
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.permissions import query_field
from expgraph.graphql.relay import Node, decode_id, registry
from expgraph.graphql.visibility import node_for

MAX_NODES = 500


async def _resolve(info: Info, global_id: str) -> Node | None:
    type_name, pk = decode_id(global_id)
    spec = registry.by_name(type_name)
    if spec is None:
        raise BadRequest(f"id {global_id!r} names no known type")
    record = await info.context.loader(RowsById(spec.model)).load(pk)
    return node_for(info.context.principal, record)


@strawberry.type
class Query:
    @query_field(description="Any object by its global id; null when it does not exist.")
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="A global id, as any object's `id`.")
        ],
    ) -> Node | None:
        return await _resolve(info, id)

    @query_field(description="Objects by global id, in the order asked; null where missing.")
    async def nodes(
        self, info: Info, ids: Annotated[list[strawberry.ID], capped_argument(MAX_NODES)]
    ) -> list[Node | None]:
        # Resolved together, so the loaders batch them: one statement per type.
        return list(await asyncio.gather(*(_resolve(info, i) for i in ids)))
