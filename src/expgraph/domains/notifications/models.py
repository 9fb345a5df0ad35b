"""Notification tables: seed 003's notification_preferences, email_logs,
email_digest_queue, webhook_configurations and webhook_logs, and expgraph's own
notifications (in-app), notification_deliveries (one e-mail or webhook to send,
claimed by deliverers, retried with backoff) and email_digests (one digest per
user and period: its unique key makes a digest impossible to send twice).

ON DELETE as the seed's FK map says: CASCADE from users for preferences, digest
queue and webhook configurations; SET NULL for email_logs.user_id and
webhook_logs.user_id; CASCADE from webhook_configurations for webhook_logs.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.base import Base, IdMixin, TimestampMixin, str_enum
from expgraph.db.claims import ClaimColumns
from expgraph.db.types import BigIntId


class EmailFrequency(enum.Enum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"
    NEVER = "never"


class EmailStatus(enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class WebhookProvider(enum.Enum):
    GENERIC = "generic"
    SLACK = "slack"
    DISCORD = "discord"
    TEAMS = "teams"


class WebhookStatus(enum.Enum):
    SUCCESS = "success"
    FAILED = "failed"


class DeliveryChannel(enum.Enum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.Enum):
    PENDING = "pending"  # waiting for its next attempt (next_attempt_at)
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class NotificationPreference(IdMixin, TimestampMixin, Base):
    """One user's channels for one event type."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "event_type", name="uq_user_event_type"),)

    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(100))
    email_enabled: Mapped[bool] = mapped_column(default=True)
    in_app_enabled: Mapped[bool] = mapped_column(default=True)
    slack_enabled: Mapped[bool] = mapped_column(default=False)
    webhook_enabled: Mapped[bool] = mapped_column(default=True)
    email_frequency: Mapped[EmailFrequency] = mapped_column(
        str_enum(EmailFrequency, "email_frequency"), default=EmailFrequency.IMMEDIATE
    )


class EmailLog(IdMixin, TimestampMixin, Base):
    """One attempt to send one e-mail."""

    __tablename__ = "email_logs"

    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    recipient_email: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(500))
    template_name: Mapped[str | None] = mapped_column(String(100))
    event_data: Mapped[dict[str, Any] | None]
    provider: Mapped[str | None] = mapped_column(String(50))
    message_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[EmailStatus] = mapped_column(
        str_enum(EmailStatus, "email_status"), default=EmailStatus.PENDING, index=True
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    retry_count: Mapped[int] = mapped_column(default=0)
    # Not in the seed: the delivery (or digest) this attempt belongs to.
    delivery_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("notification_deliveries.id", ondelete="SET NULL"), index=True
    )
    digest_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("email_digests.id", ondelete="SET NULL"), index=True
    )


class EmailDigestQueue(IdMixin, TimestampMixin, Base):
    """An event waiting for a user's DAILY or WEEKLY digest."""

    __tablename__ = "email_digest_queue"
    __table_args__ = (
        Index("idx_digest_queue_user_scheduled", "user_id", "scheduled_for"),
        Index("idx_digest_queue_included", "included_in_digest", "scheduled_for"),
        Index("idx_digest_queue_event_scheduled", "event_type", "scheduled_for"),
    )

    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(100))
    event_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    scheduled_for: Mapped[datetime]
    included_in_digest: Mapped[bool] = mapped_column(default=False)
    # Not in the seed: the digest that included it.
    digest_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("email_digests.id", ondelete="SET NULL"), index=True
    )


class EmailDigest(IdMixin, TimestampMixin, ClaimColumns, Base):
    """One user's digest for one period (not in the seed). UNIQUE(user_id,
    frequency, period_start): two deliverers cannot both create it, so it is
    sent at most once; its claim (``claimed_by``) guards the sending."""

    __tablename__ = "email_digests"
    __table_args__ = (UniqueConstraint("user_id", "frequency", "period_start"),)

    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    frequency: Mapped[EmailFrequency] = mapped_column(str_enum(EmailFrequency, "digest_frequency"))
    period_start: Mapped[datetime]
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "digest_status"), default=DeliveryStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(255))


class WebhookConfiguration(IdMixin, TimestampMixin, Base):
    """A user's webhook. ``secret_encrypted`` (not in the seed): the signing
    secret, encrypted at rest; no GraphQL field reads it."""

    __tablename__ = "webhook_configurations"
    __table_args__ = (UniqueConstraint("user_id", "webhook_url", name="uq_user_webhook_url"),)

    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider_type: Mapped[WebhookProvider] = mapped_column(
        str_enum(WebhookProvider, "webhook_provider"), default=WebhookProvider.GENERIC, index=True
    )
    webhook_url: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    enabled_events: Mapped[list[Any]] = mapped_column(default=list)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_used_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    secret_encrypted: Mapped[str] = mapped_column(Text)


class WebhookLog(IdMixin, TimestampMixin, Base):
    """One attempt to deliver one event to one webhook."""

    __tablename__ = "webhook_logs"

    webhook_config_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("webhook_configurations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(100))
    provider_type: Mapped[WebhookProvider] = mapped_column(
        str_enum(WebhookProvider, "webhook_log_provider")
    )
    webhook_url: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[WebhookStatus] = mapped_column(str_enum(WebhookStatus, "webhook_status"))
    http_status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    retry_count: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    # Not in the seed: the delivery this attempt belongs to.
    delivery_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("notification_deliveries.id", ondelete="SET NULL"), index=True
    )


class Notification(IdMixin, TimestampMixin, Base):
    """An in-app notification (not in the seed): unread until ``read_at``."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read_id", "user_id", "read_at", "id"),)

    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    read_at: Mapped[datetime | None]
    outbox_event_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("outbox_events.id", ondelete="SET NULL"), index=True
    )


class NotificationDelivery(IdMixin, TimestampMixin, ClaimColumns, Base):
    """One e-mail or webhook request to make for one outbox event (not in the
    seed): claimed by deliverers, retried with backoff until sent or given up.
    Each attempt is logged in email_logs or webhook_logs."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    outbox_event_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("outbox_events.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[DeliveryChannel] = mapped_column(str_enum(DeliveryChannel, "delivery_channel"))
    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    webhook_config_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("webhook_configurations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(255))
