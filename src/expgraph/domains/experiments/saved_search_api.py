"""Saved searches in GraphQL: the ``SavedSearch`` node, ``savedSearches`` and
create/update/delete. A saved search belongs to the signed-in user; with
authentication off there is no user, so the list is empty and the mutations
are FORBIDDEN (as for webhooks and sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, cast

import orjson
import strawberry
from sqlalchemy import Select, select
from strawberry.types.unset import UNSET

from expgraph.domains.experiments import models, saved_searches
from expgraph.domains.experiments.types import Experiment, ExperimentFilter, ExperimentOrder
from expgraph.errors import BadRequest, Forbidden
from expgraph.graphql.auth import Permission
from expgraph.graphql.bounds import capped
from expgraph.graphql.connections import PAGE_ARGUMENT_DESCRIPTIONS, Connection, connection, paged
from expgraph.graphql.context import Context, Info
from expgraph.graphql.inputs import given
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import mutation, query_field
from expgraph.graphql.relay import Node, encode_id, model_pk, node_type, to_node
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import OwnerOrAdmin, owned_by

S = models.SavedSearch
PINNED_THEN_NAME = (SortKey("is_pinned", descending=True), SortKey("name"))


def _page_argument(name: str) -> Any:
    return strawberry.argument(description=PAGE_ARGUMENT_DESCRIPTIONS[name])


@node_type(S, read=OwnerOrAdmin("user_id"), renames={"pinned": "is_pinned"})
@strawberry.type(
    description="A named experiments search of yours (a filter and an ordering), "
    "run with `experiments`."
)
class SavedSearch(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    name: str = strawberry.field(description="Its name, unique among your saved searches.")
    pinned: bool = strawberry.field(description="Pinned searches come first in savedSearches.")
    usage_count: int = strawberry.field(
        description="How many times `experiments` has run it (every run counts, exactly)."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When `experiments` last ran it; null if never."
    )
    created_at: datetime = strawberry.field(description="When it was saved.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    record: strawberry.Private[models.SavedSearch]

    def _stored(self) -> Any:
        try:
            return orjson.loads(self.record.query)
        except orjson.JSONDecodeError:
            return None

    @strawberry.field(
        description="The ExperimentFilter as saved, in the JSON a client sends for it "
        "(GraphQL field names, enum value names); null when none or unreadable."
    )
    def filter(self) -> JSON | None:
        stored = self._stored()
        return stored.get("filter") if isinstance(stored, dict) else None

    @strawberry.field(
        description="The ordering as saved: a list of {field, direction} as a client "
        "sends ExperimentOrder; empty: the experiments list's default (newest first)."
    )
    def order_by(self) -> JSON:
        stored = self._stored()
        orders = stored.get("orderBy") if isinstance(stored, dict) else None
        return cast(JSON, orders if isinstance(orders, list) else [])

    @strawberry.field(
        description="Whether the saved filter and ordering still validate against the "
        "schema as it is now (it may have changed since they were saved)."
    )
    def valid(self) -> bool:
        return not isinstance(saved_searches.read_query(self.record.query), str)

    @strawberry.field(description="Why it no longer validates; null while it is valid.")
    def problem(self) -> str | None:
        found = saved_searches.read_query(self.record.query)
        return found if isinstance(found, str) else None

    @strawberry.field(
        description="Runs the search: the live experiments meeting its filter, in its "
        "order, paged like the experiments list. Each run adds one to usageCount and "
        "sets lastUsedAt. Null (and not counted) when the search no longer validates "
        "(see problem)."
    )
    async def experiments(
        self,
        info: Info,
        first: Annotated[int | None, _page_argument("first")] = None,
        after: Annotated[str | None, _page_argument("after")] = None,
        last: Annotated[int | None, _page_argument("last")] = None,
        before: Annotated[str | None, _page_argument("before")] = None,
    ) -> Connection[Experiment] | None:
        search = saved_searches.read_query(self.record.query)
        if isinstance(search, str):
            return None
        page = await connection(
            info,
            search.stmt,
            models.Experiment,
            search.keys,
            first=first,
            after=after,
            last=last,
            before=before,
        )
        async with info.context.db.transaction() as session:
            await saved_searches.count_use(session, self.record.id)
        return page


@strawberry.input(description="A new saved search.")
class CreateSavedSearchInput:
    name: str = strawberry.field(
        description="1-255 characters, unique among your saved searches (CONFLICT otherwise)."
    )
    filter: ExperimentFilter | None = strawberry.field(
        default=None, description="The conditions, as on the experiments list; none: every one."
    )
    order_by: list[ExperimentOrder] | None = capped(
        saved_searches.MAX_ORDERS,
        default=None,
        description="The ordering, as on the experiments list; none: newest first.",
    )
    pinned: bool = strawberry.field(default=False, description="Show it first.")


@strawberry.input(description="Changes to a saved search; omitted fields stay as they are.")
class UpdateSavedSearchInput:
    id: strawberry.ID = strawberry.field(description="Global ID of your saved search.")
    name: str | None = strawberry.field(default=UNSET, description="A new name; cannot be null.")
    filter: ExperimentFilter | None = strawberry.field(
        default=UNSET, description="A new filter; null: no conditions."
    )
    order_by: list[ExperimentOrder] | None = capped(
        saved_searches.MAX_ORDERS,
        default=UNSET,
        description="A new ordering; null or empty: newest first.",
    )
    pinned: bool | None = strawberry.field(default=UNSET, description="Pin or unpin it.")


@strawberry.input(description="Names one saved search.")
class SavedSearchIdInput:
    id: strawberry.ID = strawberry.field(description="Global ID of your saved search.")


@strawberry.type(description="The result of a saved search mutation.")
class SavedSearchPayload:
    saved_search: SavedSearch = strawberry.field(description="The saved search as it is now.")


@strawberry.type(description="The result of deleting a saved search.")
class DeleteSavedSearchPayload:
    id: strawberry.ID = strawberry.field(description="Global ID of the deleted saved search.")


def _user(ctx: Context) -> int:
    if ctx.principal.user_id is None:
        raise Forbidden("saved searches belong to a user: sign in to save one")
    return ctx.principal.user_id


@strawberry.type
class Query:
    @query_field(description="Your saved searches: pinned ones first, then by name.")
    @paged(SavedSearch, S, PINNED_THEN_NAME)
    def saved_searches(self, info: Info) -> Select[Any]:
        return select(S).where(owned_by(S.user_id, info.context.principal.user_id))


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.WRITE,
        description="Save an experiments search under a name; the filter and ordering are "
        "checked now (BAD_REQUEST as the experiments list would answer).",
    )
    async def create_saved_search(
        self, info: Info, input: CreateSavedSearchInput
    ) -> SavedSearchPayload:
        ctx = info.context
        user_id = _user(ctx)
        async with ctx.db.transaction() as session:
            saved = await saved_searches.create(
                session,
                user_id,
                name=input.name,
                filter=input.filter,
                order_by=input.order_by,
                pinned=input.pinned,
            )
        return SavedSearchPayload(saved_search=to_node(saved))

    @mutation(permission=Permission.WRITE, description="Change one of your saved searches.")
    async def update_saved_search(
        self, info: Info, input: UpdateSavedSearchInput
    ) -> SavedSearchPayload:
        ctx = info.context
        user_id = _user(ctx)
        pk = model_pk(input.id, S)
        for field in ("name", "pinned"):
            if given(getattr(input, field)) and getattr(input, field) is None:
                raise BadRequest(f"{field} cannot be null", field=field)
        async with ctx.db.transaction() as session:
            saved = await saved_searches.get_own(
                session, pk, user_id, admin=ctx.principal.has(Permission.ADMIN), for_update=True
            )
            search = None
            if given(input.filter) or given(input.order_by):
                # What is not given stays as stored (nothing, if that no longer validates).
                current = saved_searches.read_query(saved.query)
                kept_filter = None if isinstance(current, str) else current.filter
                kept_orders = None if isinstance(current, str) else current.order_by
                search = saved_searches.build(
                    input.filter if given(input.filter) else kept_filter,
                    input.order_by if given(input.order_by) else kept_orders,
                )
            saved = await saved_searches.update_search(
                session,
                saved,
                name=input.name if given(input.name) else None,
                search=search,
                pinned=input.pinned if given(input.pinned) else None,
            )
        return SavedSearchPayload(saved_search=to_node(saved))

    @mutation(permission=Permission.WRITE, description="Delete one of your saved searches.")
    async def delete_saved_search(
        self, info: Info, input: SavedSearchIdInput
    ) -> DeleteSavedSearchPayload:
        ctx = info.context
        user_id = _user(ctx)
        pk = model_pk(input.id, S)
        async with ctx.db.transaction() as session:
            saved = await saved_searches.get_own(
                session, pk, user_id, admin=ctx.principal.has(Permission.ADMIN), for_update=True
            )
            await session.delete(saved)
        return DeleteSavedSearchPayload(id=strawberry.ID(encode_id("SavedSearch", pk)))
