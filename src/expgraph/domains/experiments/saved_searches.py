"""Saved searches: a user's named experiments filter and ordering.

The search is stored in ``saved_searches.query`` as JSON text,
``{"filter": <ExperimentFilter as a client sends it>, "orderBy": [...]}``,
validated when saved (read back and compiled once, as a run would). A stored
search that no longer validates (the schema changed since) is reported by
``read_query`` as a problem, never raised past it. Each run counts: one
``UPDATE ... SET usage_count = usage_count + 1`` (atomic under concurrency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.types import utcnow
from expgraph.domains.experiments import models
from expgraph.domains.experiments.types import (
    EXPERIMENT_ORDERING,
    EXPERIMENT_RULES,
    ExperimentFilter,
    ExperimentOrder,
)
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.filters import compile_filter
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.stored_inputs import dump_input, load_input

S = models.SavedSearch
E = models.Experiment
NAME_MAX = 255
MAX_ORDERS = 3


@dataclass(frozen=True)
class Search:
    """A stored search read back: the filter input, the ordering inputs, and
    the statement and sort keys a run uses."""

    filter: ExperimentFilter | None
    order_by: list[ExperimentOrder]
    stmt: Select[Any]
    keys: list[SortKey]


def build(filter: ExperimentFilter | None, order_by: list[ExperimentOrder] | None) -> Search:
    """The live experiments the search lists, in its order; BAD_REQUEST when
    the filter or ordering does not validate (compiled here, once)."""
    orders = list(order_by or [])
    if len(orders) > MAX_ORDERS:
        raise BadRequest(f"orderBy takes at most {MAX_ORDERS} keys", field="orderBy")
    keys = EXPERIMENT_ORDERING.keys(orders, filter)
    stmt = select(E).where(E.deleted_at.is_(None))
    condition = compile_filter(filter, EXPERIMENT_RULES)
    if condition is not None:
        stmt = stmt.where(condition)
    return Search(filter, orders, stmt, keys)


def dump_query(search: Search) -> str:
    return orjson.dumps(
        {"filter": dump_input(search.filter), "orderBy": dump_input(search.order_by)}
    ).decode()


def read_query(query: str) -> Search | str:
    """The stored search, or why it no longer validates."""
    try:
        data = orjson.loads(query)
        if not isinstance(data, dict) or set(data) - {"filter", "orderBy"}:
            return 'the stored search is not an object of "filter" and "orderBy"'
        raw_filter, raw_orders = data.get("filter"), data.get("orderBy") or []
        if not isinstance(raw_orders, list):
            return "orderBy must be a list"
        filter = None if raw_filter is None else load_input(ExperimentFilter, raw_filter, "filter")
        orders = [
            load_input(ExperimentOrder, item, f"orderBy[{i}]") for i, item in enumerate(raw_orders)
        ]
        return build(filter, orders)
    except orjson.JSONDecodeError:
        return "the stored search is not valid JSON"
    except BadRequest as exc:
        return exc.message


def _name(name: str) -> str:
    if "\x00" in name:
        raise BadRequest("name must not contain NUL characters", field="name")
    stripped = name.strip()
    if not 1 <= len(stripped) <= NAME_MAX:
        raise BadRequest(f"name must be 1-{NAME_MAX} characters", field="name")
    return stripped


async def _check_name_free(
    session: AsyncSession, user_id: int, name: str, exclude: int | None
) -> None:
    stmt = select(S.id).where(S.user_id == user_id, S.name == name)
    if exclude is not None:
        stmt = stmt.where(S.id != exclude)
    if (await session.scalars(stmt.limit(1))).first() is not None:
        raise Conflict(f"you already have a saved search named {name!r}", field="name")


async def create(
    session: AsyncSession,
    user_id: int,
    *,
    name: str,
    filter: ExperimentFilter | None,
    order_by: list[ExperimentOrder] | None,
    pinned: bool,
) -> models.SavedSearch:
    name = _name(name)
    query = dump_query(build(filter, order_by))
    await _check_name_free(session, user_id, name, None)
    saved = S(user_id=user_id, name=name, query=query, is_pinned=pinned, usage_count=0)
    session.add(saved)
    await session.flush()
    await session.refresh(saved)
    return saved


async def get_own(
    session: AsyncSession, pk: int, user_id: int | None, *, admin: bool, for_update: bool = False
) -> models.SavedSearch:
    """The saved search, if ``user_id`` owns it (admins: any); else NOT_FOUND."""
    stmt = select(S).where(S.id == pk)
    if for_update:
        stmt = stmt.with_for_update()
    saved = (await session.scalars(stmt)).first()
    if saved is None or (saved.user_id != user_id and not admin):
        raise NotFound("no saved search with that id")
    return saved


async def update_search(
    session: AsyncSession,
    saved: models.SavedSearch,
    *,
    name: str | None = None,
    search: Search | None = None,
    pinned: bool | None = None,
) -> models.SavedSearch:
    if name is not None:
        name = _name(name)
        await _check_name_free(session, saved.user_id, name, saved.id)
        saved.name = name
    if search is not None:
        saved.query = dump_query(search)
    if pinned is not None:
        saved.is_pinned = pinned
    await session.flush()
    await session.refresh(saved)
    return saved


async def count_use(session: AsyncSession, pk: int) -> None:
    """One more run of the search, now: a single atomic UPDATE."""
    await session.execute(
        update(S)
        .where(S.id == pk)
        .values(usage_count=S.usage_count + 1, last_used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
