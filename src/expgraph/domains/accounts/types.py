"""GraphQL types for accounts. No field reads a password hash or TOTP secret."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.accounts import models
from expgraph.domains.experiments.fields import experiments_field
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.enums import described_enum
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import AdminOnly, OwnerOrAdmin, Public

UserRole = models.UserRole
described_enum(
    UserRole,
    "What a user may do.",
    {
        UserRole.ADMIN: "Everything, including managing users and reading admin-only data.",
        UserRole.MEMBER: "Read, write and execute: create experiments and run them.",
        UserRole.VIEWER: "Read only.",
    },
)

AggregationPeriod = models.AggregationPeriod
described_enum(
    AggregationPeriod,
    "The period one row of request metrics covers.",
    {
        models.AggregationPeriod.HOUR: "One hour, starting on the hour (UTC).",
        models.AggregationPeriod.DAY: "One day, starting at midnight UTC.",
    },
)
DeviceType = models.DeviceType
described_enum(
    DeviceType,
    "What kind of client a session was signed in from, guessed from its User-Agent.",
    {
        models.DeviceType.DESKTOP: "A desktop or laptop browser (anything not mobile or a tool).",
        models.DeviceType.MOBILE: "A phone or tablet browser (Mobile, Android or iPhone).",
        models.DeviceType.API: "A program: curl, Python, Go, Node.js or another HTTP library.",
    },
)
AuditStatus = models.AuditStatus
described_enum(
    AuditStatus,
    "How an audited mutation ended.",
    {
        models.AuditStatus.SUCCESS: "It ran and its changes were saved.",
        models.AuditStatus.FAILURE: "It failed (bad input, a conflict or a server error).",
        models.AuditStatus.DENIED: "It was refused: the caller was not signed in or not allowed.",
    },
)


@node_type(models.User, read=Public)
@strawberry.type(description="A person or service account.")
class User(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    username: str = strawberry.field(description="Sign-in name, unique.")
    email: str = strawberry.field(description="Email address, unique, lower-cased.")
    role: UserRole = strawberry.field(description="What the user may do.")
    is_active: bool = strawberry.field(
        description="False once deactivated by an admin: the user cannot sign in."
    )
    totp_enabled: bool = strawberry.field(description="Whether sign-in needs a two-factor code.")
    created_at: datetime = strawberry.field(description="When the user was created.")
    updated_at: datetime = strawberry.field(description="When the user was last changed.")
    record: strawberry.Private[models.User]

    experiments = experiments_field(
        parent_attr="created_by", description="Experiments this user created."
    )


Scope = Permission
described_enum(
    Scope,
    "What an API key (or a role) allows.",
    {
        Scope.READ: "Read every object the caller may see.",
        Scope.WRITE: "Create and change experiments, datasets, tags and research data.",
        Scope.EXECUTE: "Claim, heartbeat and release executions and record runs (workers).",
        Scope.ADMIN: "Manage users and other users' keys; read admin-only data.",
    },
    name="Scope",
)


@node_type(models.ApiKey, read=OwnerOrAdmin("user_id"))
@strawberry.type(description="An API key, without its secret (shown once, at creation).")
class ApiKey(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    name: str = strawberry.field(description="The label given at creation.")
    prefix: str = strawberry.field(description="The key's public start, to recognise it.")
    scopes: list[Scope] = strawberry.field(description="What the key allows.")
    rate_limit: int = strawberry.field(description="Requests per minute.")
    last_used_at: datetime | None = strawberry.field(
        description="When a request last used it; null if never."
    )
    is_active: bool = strawberry.field(description="False once revoked.")
    expires_at: datetime | None = strawberry.field(
        description="When it stops working; null if it does not expire."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    record: strawberry.Private[models.ApiKey]

    user: User = node_field(
        RowsById(models.User), "user_id", User, nullable=False, description="The key's owner."
    )


@node_type(models.SessionLog, read=OwnerOrAdmin("user_id"))
@strawberry.type(description="A sign-in session (its token is never shown again).")
class Session(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    ip_address: str | None = strawberry.field(
        description="Client IP address at sign-in, when known."
    )
    user_agent: str | None = strawberry.field(
        description="The User-Agent header sent at sign-in, when any."
    )
    device_type: DeviceType | None = strawberry.field(
        description="Kind of client, guessed from the user agent; null without one."
    )
    browser: str | None = strawberry.field(
        description="Browser guessed from the user agent (chrome, firefox, safari, edge...), "
        "when recognised."
    )
    location: str | None = strawberry.field(
        description="Where the sign-in came from; not recorded yet, so null."
    )
    last_active: datetime = strawberry.field(description="When the session last made a request.")
    is_active: bool = strawberry.field(description="False once signed out or revoked.")
    logged_out_at: datetime | None = strawberry.field(
        description="When it was ended; null while active."
    )
    expires_at: datetime = strawberry.field(description="When it stops working even if not ended.")
    created_at: datetime = strawberry.field(description="When the user signed in.")
    record: strawberry.Private[models.SessionLog]

    @strawberry.field(description="Whether this is the session making the request.")
    def current(self, info: Info) -> bool:
        return bool(info.context.principal.session_id == self.record.id)


@node_type(models.SystemLog, read=AdminOnly)
@strawberry.type(description="An audit record: one mutation, allowed or refused.")
class SystemLog(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    action: str = strawberry.field(description="The mutation's field name, e.g. createExperiment.")
    status: AuditStatus = strawberry.field(description="How the mutation ended.")
    details: JSON | None = strawberry.field(description="The input, secrets redacted.")
    error_message: str | None = strawberry.field(
        description="The error code and message when refused or failed; null on success."
    )
    created_at: datetime = strawberry.field(description="When it happened.")
    record: strawberry.Private[models.SystemLog]

    user: User | None = node_field(
        RowsById(models.User),
        "user_id",
        User,
        description="Who did it (null: the local admin, or anonymous).",
    )


@strawberry.type(description="Request metrics of one endpoint path in one period.")
class EndpointMetrics:
    path: str = strawberry.field(description="The endpoint path, e.g. /graphql.")
    total_requests: int = strawberry.field(description="Requests to the path in the period.")
    failed_requests: int = strawberry.field(
        description="Of those, requests answered with a status of 400 or more, or an error."
    )
    avg_response_time_ms: float | None = strawberry.field(
        description="Mean response time in milliseconds."
    )
    p95_response_time_ms: float | None = strawberry.field(
        description="95th percentile response time in milliseconds."
    )


@node_type(models.ApiMetricsSummary, read=AdminOnly)
@strawberry.type(description="Request metrics of one hour or day (expgraph rollup-api-metrics).")
class ApiMetricsSummary(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    period_start: datetime = strawberry.field(description="Start of the period (inclusive).")
    period_end: datetime = strawberry.field(description="End of the period (exclusive).")
    aggregation_type: AggregationPeriod = strawberry.field(
        description="The period the row covers: an hour or a day."
    )
    total_requests: int = strawberry.field(description="Requests in the period.")
    successful_requests: int = strawberry.field(
        description="Requests answered with a status below 400 and no error."
    )
    failed_requests: int = strawberry.field(
        description="Requests answered with a status of 400 or more, or an error."
    )
    avg_response_time_ms: float | None = strawberry.field(
        description="Mean response time in milliseconds; null with no requests."
    )
    p50_response_time_ms: float | None = strawberry.field(
        description="Median response time in milliseconds; null with no requests."
    )
    p95_response_time_ms: float | None = strawberry.field(
        description="95th percentile response time in milliseconds; null with no requests."
    )
    p99_response_time_ms: float | None = strawberry.field(
        description="99th percentile response time in milliseconds; null with no requests."
    )
    requests_per_second: float | None = strawberry.field(
        description="Mean requests per second over the period."
    )
    error_rate: float | None = strawberry.field(
        description="Failed requests as a fraction of all, 0 to 1."
    )
    record: strawberry.Private[models.ApiMetricsSummary]

    @strawberry.field(description="The period's figures per endpoint path, by path.")
    def endpoint_metrics(self) -> list[EndpointMetrics]:
        stored = self.record.endpoint_metrics or {}
        return [
            EndpointMetrics(
                path=path,
                total_requests=int(figures.get("count") or 0),
                failed_requests=int(figures.get("failed") or 0),
                avg_response_time_ms=figures.get("avg_ms"),
                p95_response_time_ms=figures.get("p95_ms"),
            )
            for path, figures in sorted(stored.items())
        ]
