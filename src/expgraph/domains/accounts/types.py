"""GraphQL types for accounts. No field reads a password hash or TOTP secret."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.accounts import models
from expgraph.domains.experiments.fields import experiments_field
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import AdminOnly, OwnerOrAdmin, Public

UserRole = models.UserRole
strawberry.enum(UserRole, description="What a user may do.")


@node_type(models.User, read=Public)
@strawberry.type(description="A person or service account.")
class User(Node):
    id: strawberry.ID
    username: str
    email: str
    role: UserRole
    is_active: bool
    totp_enabled: bool
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.User]

    experiments = experiments_field(
        parent_attr="created_by", description="Experiments this user created."
    )


Scope = Permission
strawberry.enum(Scope, name="Scope", description="What an API key (or a role) allows.")


@node_type(models.ApiKey, read=OwnerOrAdmin("user_id"))
@strawberry.type(description="An API key, without its secret (shown once, at creation).")
class ApiKey(Node):
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The key's public start, to recognise it.")
    scopes: list[str]
    rate_limit: int = strawberry.field(description="Requests per minute.")
    last_used_at: datetime | None
    is_active: bool
    expires_at: datetime | None
    created_at: datetime
    record: strawberry.Private[models.ApiKey]

    user: User = node_field(RowsById(models.User), "user_id", User, nullable=False)


@node_type(models.SessionLog, read=OwnerOrAdmin("user_id"))
@strawberry.type(description="A sign-in session (its token is never shown again).")
class Session(Node):
    id: strawberry.ID
    ip_address: str | None
    user_agent: str | None
    device_type: str | None
    browser: str | None
    location: str | None
    last_active: datetime
    is_active: bool
    logged_out_at: datetime | None
    expires_at: datetime
    created_at: datetime
    record: strawberry.Private[models.SessionLog]

    @strawberry.field(description="Whether this is the session making the request.")
    def current(self, info: Info) -> bool:
        return bool(info.context.principal.session_id == self.record.id)


@node_type(models.SystemLog, read=AdminOnly)
@strawberry.type(description="An audit record: one mutation, allowed or refused.")
class SystemLog(Node):
    id: strawberry.ID
    action: str
    status: str = strawberry.field(description="success, failure or denied.")
    details: JSON | None = strawberry.field(description="The input, secrets redacted.")
    error_message: str | None
    created_at: datetime
    record: strawberry.Private[models.SystemLog]

    user: User | None = node_field(
        RowsById(models.User),
        "user_id",
        User,
        description="Who did it (null: the local admin, or anonymous).",
    )


@node_type(models.ApiMetricsSummary, read=AdminOnly)
@strawberry.type(description="Request metrics of one hour or day (expgraph rollup-api-metrics).")
class ApiMetricsSummary(Node):
    id: strawberry.ID
    period_start: datetime
    period_end: datetime
    aggregation_type: str = strawberry.field(description="hour or day")
    total_requests: int
    successful_requests: int
    failed_requests: int
    avg_response_time_ms: float | None
    p50_response_time_ms: float | None
    p95_response_time_ms: float | None
    p99_response_time_ms: float | None
    requests_per_second: float | None
    error_rate: float | None
    endpoint_metrics: JSON | None
    record: strawberry.Private[models.ApiMetricsSummary]
