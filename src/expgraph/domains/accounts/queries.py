"""Account queries."""

from __future__ import annotations

import enum

import strawberry
from sqlalchemy import or_, select

from expgraph.domains.accounts import models
from expgraph.domains.accounts.types import User, UserRole
from expgraph.graphql.connections import Connection, filtered_connection
from expgraph.graphql.context import Info
from expgraph.graphql.filters import Ordering, Rule, SortDirection, escape_like
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import query_field

U = models.User


@strawberry.input(description="Conditions on users.")
class UserFilter:
    roles: list[UserRole] | None = None
    is_active: bool | None = None
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of username or email."
    )
    and_: list[UserFilter] | None = strawberry.field(name="and", default=None)
    or_: list[UserFilter] | None = strawberry.field(name="or", default=None)
    not_: UserFilter | None = strawberry.field(name="not", default=None)


@strawberry.enum
class UserOrderField(enum.Enum):
    USERNAME = "username"
    CREATED_AT = "created_at"


@strawberry.input
class UserOrder:
    field: UserOrderField
    direction: SortDirection = SortDirection.ASC


def _search(value: str) -> object:
    pattern = f"%{escape_like(value)}%"
    return or_(U.username.ilike(pattern, escape="\\"), U.email.ilike(pattern, escape="\\"))


USER_RULES: dict[str, Rule] = {
    "roles": lambda v: U.role.in_(v),
    "is_active": lambda v: U.is_active.is_(v),
    "search": _search,  # type: ignore[dict-item]
}
USER_ORDERING = Ordering({f: f.value for f in UserOrderField}, (SortKey("username"),))


@strawberry.type
class Query:
    @query_field(description="Users, by username unless ordered.")
    async def users(
        self,
        info: Info,
        filter: UserFilter | None = None,
        order_by: list[UserOrder] | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[User]:
        return await filtered_connection(
            info,
            select(U),
            U,
            filter,
            USER_RULES,
            USER_ORDERING.keys(order_by),
            first=first,
            after=after,
            last=last,
            before=before,
        )
