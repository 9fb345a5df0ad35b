"""Account queries."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, or_, select

from expgraph.db.types import utcnow
from expgraph.domains.accounts import models
from expgraph.domains.accounts.types import (
    AggregationPeriod,
    ApiKey,
    ApiMetricsSummary,
    AuditStatus,
    Session,
    SystemLog,
    User,
    UserRole,
)
from expgraph.errors import Forbidden
from expgraph.graphql.auth import Permission
from expgraph.graphql.bounds import capped
from expgraph.graphql.connections import load_node, paged
from expgraph.graphql.context import Info
from expgraph.graphql.filters import Ordering, Rule, SortDirection, escape_like
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import query_field
from expgraph.graphql.relay import model_pk

U = models.User


@strawberry.input(description="Conditions on users.")
class UserFilter:
    roles: list[UserRole] | None = strawberry.field(
        default=None, description="Has one of these roles."
    )
    is_active: bool | None = strawberry.field(
        default=None, description="Active (true) or deactivated (false) users only."
    )
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of username or email."
    )
    and_: list[UserFilter] | None = strawberry.field(
        name="and", default=None, description="Matches every one of these conditions."
    )
    or_: list[UserFilter] | None = strawberry.field(
        name="or", default=None, description="Matches at least one of these conditions."
    )
    not_: UserFilter | None = strawberry.field(
        name="not", default=None, description="Does not match this condition."
    )


@strawberry.enum(description="What users can be sorted by.")
class UserOrderField(enum.Enum):
    USERNAME = strawberry.enum_value("username", description="Username, alphabetically.")
    CREATED_AT = strawberry.enum_value("created_at", description="When the user was created.")


@strawberry.input(description="One sort key for users; list several to break ties.")
class UserOrder:
    field: UserOrderField = strawberry.field(description="What to sort by.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending unless given."
    )


def _search(value: str) -> object:
    pattern = f"%{escape_like(value)}%"
    return or_(U.username.ilike(pattern, escape="\\"), U.email.ilike(pattern, escape="\\"))


USER_RULES: dict[str, Rule] = {
    "roles": lambda v: U.role.in_(v),
    "is_active": lambda v: U.is_active.is_(v),
    "search": _search,  # type: ignore[dict-item]
}
USER_ORDERING = Ordering({f: str(f.value) for f in UserOrderField}, (SortKey("username"),))


SESSION_ORDER = (SortKey("created_at", descending=True),)
L = models.SystemLog


@strawberry.input(description="Conditions on audit records.")
class SystemLogFilter:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the user who acted."
    )
    actions: list[str] | None = capped(
        100, default=None, description="Mutation field names, e.g. login."
    )
    statuses: list[AuditStatus] | None = capped(
        100, default=None, description="Records that ended in one of these ways."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="At or after this time."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Strictly before this time."
    )
    and_: list[SystemLogFilter] | None = strawberry.field(
        name="and", default=None, description="Matches every one of these conditions."
    )
    or_: list[SystemLogFilter] | None = strawberry.field(
        name="or", default=None, description="Matches at least one of these conditions."
    )
    not_: SystemLogFilter | None = strawberry.field(
        name="not", default=None, description="Does not match this condition."
    )


SYSTEM_LOG_RULES: dict[str, Rule] = {
    "user_id": lambda v: L.user_id == model_pk(v, U),
    "actions": lambda v: L.action.in_(v),
    "statuses": lambda v: L.status.in_([status.value for status in v]),
    "created_after": lambda v: L.created_at >= v,
    "created_before": lambda v: L.created_at < v,
}


@strawberry.type
class Query:
    @query_field(description="The signed-in user (null with authentication off).")
    async def me(self, info: Info) -> User | None:
        return await load_node(info, U, info.context.principal.user_id)

    @query_field(description="Your sessions, newest first.")
    @paged(Session, models.SessionLog, SESSION_ORDER)
    def my_sessions(
        self,
        info: Info,
        active_only: Annotated[
            bool,
            strawberry.argument(description="True: only sessions neither ended nor expired."),
        ] = True,
    ) -> Select[Any]:
        S = models.SessionLog
        stmt = select(S).where(S.user_id == info.context.principal.user_id)
        if active_only:
            stmt = stmt.where(S.is_active.is_(True), S.expires_at > utcnow())
        return stmt

    @query_field(permission=Permission.ADMIN, description="The audit trail, newest first.")
    @paged(SystemLog, L, SESSION_ORDER, filter=SystemLogFilter, rules=SYSTEM_LOG_RULES)
    def system_logs(self, info: Info) -> Select[Any]:
        return select(L)

    @query_field(permission=Permission.ADMIN, description="Request metrics, newest first.")
    @paged(
        ApiMetricsSummary,
        models.ApiMetricsSummary,
        (SortKey("period_start", descending=True),),
    )
    def api_metrics_summaries(
        self,
        info: Info,
        period: Annotated[
            AggregationPeriod | None,
            strawberry.argument(description="Only rows of this period; both when null."),
        ] = None,
        from_: Annotated[
            datetime | None,
            strawberry.argument(name="from", description="Periods starting at or after this time."),
        ] = None,
        to: Annotated[
            datetime | None, strawberry.argument(description="Periods starting before this time.")
        ] = None,
    ) -> Select[Any]:
        M = models.ApiMetricsSummary
        stmt = select(M)
        if period is not None:
            stmt = stmt.where(M.aggregation_type == period.value)
        if from_ is not None:
            stmt = stmt.where(M.period_start >= from_)
        if to is not None:
            stmt = stmt.where(M.period_start < to)
        return stmt

    @query_field(description="Your API keys, newest first; admins may name another user.")
    @paged(ApiKey, models.ApiKey, SESSION_ORDER)
    def api_keys(
        self,
        info: Info,
        user_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Global ID of the owner; yours when null (others: admins only)."
            ),
        ] = None,
    ) -> Select[Any]:
        principal = info.context.principal
        owner = principal.user_id
        if user_id is not None:
            owner = model_pk(user_id, U)
            if owner != principal.user_id and not principal.has(Permission.ADMIN):
                raise Forbidden("only admins list other users' keys")
        K = models.ApiKey
        return select(K).where(K.user_id == owner)

    @query_field(description="Users, by username unless ordered.")
    @paged(User, U, USER_ORDERING, filter=UserFilter, rules=USER_RULES, order=UserOrder)
    def users(self, info: Info) -> Select[Any]:
        return select(U)
