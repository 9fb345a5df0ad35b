"""Account and access tables: users, keys, usage, sessions, logins,
backup codes, request logs, metric summaries, the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.base import Base, IdMixin, TimestampMixin, str_enum
from expgraph.db.types import BigIntId, utcnow


class UserRole(enum.Enum):
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class AggregationPeriod(enum.StrEnum):
    """The period an ``ApiMetricsSummary`` row covers; the value is what is stored."""

    HOUR = "hour"
    DAY = "day"


class DeviceType(enum.StrEnum):
    """What a session's user agent looks like; the value is what is stored."""

    DESKTOP = "desktop"
    MOBILE = "mobile"
    API = "api"


class AuditStatus(enum.StrEnum):
    """How an audited mutation ended; the value is what is stored."""

    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(50), unique=True, index=True)
    email: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    # Secrets: no GraphQL field ever reads these two columns.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[UserRole] = mapped_column(str_enum(UserRole, "user_role"), default=UserRole.MEMBER)
    is_active: Mapped[bool] = mapped_column(default=True)
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    # The last TOTP time step accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(default=None)


class ApiKey(IdMixin, TimestampMixin, Base):
    """A bearer key. Only its SHA-256 (``key_hash``) and public ``prefix`` are stored."""

    __tablename__ = "api_keys"

    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    rate_limit: Mapped[int] = mapped_column(default=60)  # requests per minute
    last_used_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    expires_at: Mapped[datetime | None]


class ApiRateWindow(Base):
    """Requests of one key in one minute: the shared rate-limit counter, so the
    limit holds across every process on the database."""

    __tablename__ = "api_rate_windows"

    api_key_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    request_count: Mapped[int] = mapped_column(default=0)


class ApiUsage(IdMixin, Base):
    __tablename__ = "api_usage"

    api_key_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("api_keys.id", ondelete="CASCADE"), index=True
    )
    endpoint: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int]
    response_time_ms: Mapped[int]
    timestamp: Mapped[datetime] = mapped_column(default=utcnow(), index=True)


class ApiRequestLog(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_request_logs"

    endpoint: Mapped[str] = mapped_column(String(255), index=True)
    method: Mapped[str] = mapped_column(String(10))
    status_code: Mapped[int]
    request_time: Mapped[datetime] = mapped_column(index=True)
    response_time_ms: Mapped[float] = mapped_column(Float)
    request_size_bytes: Mapped[int | None]
    response_size_bytes: Mapped[int | None]
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    api_key_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("api_keys.id"), index=True)
    error_message: Mapped[str | None] = mapped_column(Text)
    request_payload_sample: Mapped[dict[str, Any] | None]
    response_payload_sample: Mapped[dict[str, Any] | None]


class ApiMetricsSummary(IdMixin, TimestampMixin, Base):
    """Request metrics of one hour or day. The (period_start,
    aggregation_type) index is unique: a rollup replaces its period's row."""

    __tablename__ = "api_metrics_summary"
    __table_args__ = (
        Index(
            "ix_api_metrics_summary_period_type", "period_start", "aggregation_type", unique=True
        ),
    )

    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    aggregation_type: Mapped[str] = mapped_column(String(10))  # an AggregationPeriod value
    total_requests: Mapped[int] = mapped_column(default=0)
    successful_requests: Mapped[int] = mapped_column(default=0)
    failed_requests: Mapped[int] = mapped_column(default=0)
    avg_response_time_ms: Mapped[float | None] = mapped_column(Float)
    p50_response_time_ms: Mapped[float | None] = mapped_column(Float)
    p95_response_time_ms: Mapped[float | None] = mapped_column(Float)
    p99_response_time_ms: Mapped[float | None] = mapped_column(Float)
    requests_per_second: Mapped[float | None] = mapped_column(Float)
    error_rate: Mapped[float | None] = mapped_column(Float)
    endpoint_metrics: Mapped[dict[str, Any] | None]


class SessionLog(IdMixin, TimestampMixin, Base):
    """A login session. ``session_token`` holds the token's SHA-256, never the token."""

    __tablename__ = "session_logs"

    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    session_token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    device_type: Mapped[str | None] = mapped_column(String(20))  # a DeviceType value
    browser: Mapped[str | None] = mapped_column(String(50))
    location: Mapped[str | None] = mapped_column(String(100))
    last_active: Mapped[datetime] = mapped_column(default=utcnow())
    is_active: Mapped[bool] = mapped_column(default=True)
    logged_out_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]


class LoginHistory(IdMixin, TimestampMixin, Base):
    """Every login attempt. ``identifier_hash`` (SHA-256 of the username or email
    tried) lets failures be throttled per account whether or not it exists."""

    __tablename__ = "login_history"
    __table_args__ = (
        Index(None, "identifier_hash", "timestamp"),
        Index(None, "ip_address", "timestamp"),
    )

    user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    identifier_hash: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(100))
    login_method: Mapped[str] = mapped_column(String(20))  # password | totp | backup_code
    success: Mapped[bool]
    failure_reason: Mapped[str | None] = mapped_column(String(50))
    timestamp: Mapped[datetime] = mapped_column(default=utcnow())


class BackupCode(IdMixin, TimestampMixin, Base):
    __tablename__ = "backup_codes"
    __table_args__ = (Index("ix_backup_codes_user_unused", "user_id", "is_used"),)

    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    is_used: Mapped[bool] = mapped_column(default=False)
    used_at: Mapped[datetime | None]
    ip_address: Mapped[str | None] = mapped_column(String(45))


class SystemLog(IdMixin, TimestampMixin, Base):
    """The audit trail: one row per mutation, allowed or refused."""

    __tablename__ = "system_logs"
    __table_args__ = (
        Index("idx_system_log_time_status", "created_at", "status"),
        Index("idx_system_log_user_time", "user_id", "created_at"),
    )

    user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20))  # an AuditStatus value
    details: Mapped[dict[str, Any] | None]
    error_message: Mapped[str | None] = mapped_column(Text)
