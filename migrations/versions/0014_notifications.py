"""Notifications (issue 17): seed 003's notification tables, saved searches, the outbox

Seed 003: notification_preferences (UQ uq_user_event_type), email_logs,
email_digest_queue (its three composite indexes), webhook_configurations
(UQ uq_user_webhook_url, provider_type and is_active indexes), webhook_logs,
saved_searches (UQ uq_user_saved_search_name), with the FK map's ON DELETE rules
(CASCADE from users for preferences, digest queue, webhooks and saved searches;
SET NULL for email_logs.user_id and webhook_logs.user_id; CASCADE from
webhook_configurations for webhook_logs).
expgraph's own: outbox_events (domain events, claimed by deliverers),
notification_deliveries (one e-mail or webhook to send, retried), email_digests
(UNIQUE(user_id, frequency, period_start): one digest per user and period),
notifications (in-app), webhook_configurations.secret_encrypted, and
delivery_id/digest_id links on the log and queue tables.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 14:07:36.570769
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import expgraph.db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_digests",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "frequency",
            sa.Enum(
                "immediate",
                "daily",
                "weekly",
                "never",
                name="digest_frequency",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("period_start", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                name="digest_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_digests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_digests")),
        sa.UniqueConstraint(
            "user_id",
            "frequency",
            "period_start",
            name=op.f("uq_email_digests_user_id_frequency_period_start"),
        ),
    )
    with op.batch_alter_table("email_digests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_digests_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_digests_user_id"), ["user_id"], unique=False)

    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("email_enabled", sa.Boolean(), nullable=False),
        sa.Column("in_app_enabled", sa.Boolean(), nullable=False),
        sa.Column("slack_enabled", sa.Boolean(), nullable=False),
        sa.Column("webhook_enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "email_frequency",
            sa.Enum(
                "immediate",
                "daily",
                "weekly",
                "never",
                name="email_frequency",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint("user_id", "event_type", name="uq_user_event_type"),
    )
    with op.batch_alter_table("notification_preferences", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_preferences_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "outbox_events",
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("processed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_outbox_events_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_events_processed_id", ["processed_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_events_user_id"), ["user_id"], unique=False)

    op.create_table(
        "saved_searches",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("is_pinned", sa.Boolean(), nullable=False),
        sa.Column("usage_count", sa.Integer(), nullable=False),
        sa.Column("last_used_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_searches_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
        sa.UniqueConstraint("user_id", "name", name="uq_user_saved_search_name"),
    )
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_searches_user_id"), ["user_id"], unique=False)

    op.create_table(
        "webhook_configurations",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "provider_type",
            sa.Enum(
                "generic",
                "slack",
                "discord",
                "teams",
                name="webhook_provider",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column(
            "enabled_events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("last_used_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("secret_encrypted", sa.Text(), nullable=False),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_webhook_configurations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_configurations")),
        sa.UniqueConstraint("user_id", "webhook_url", name="uq_user_webhook_url"),
    )
    with op.batch_alter_table("webhook_configurations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_configurations_is_active"), ["is_active"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_configurations_provider_type"), ["provider_type"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_configurations_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "email_digest_queue",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column(
            "event_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("scheduled_for", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("included_in_digest", sa.Boolean(), nullable=False),
        sa.Column("digest_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["email_digests.id"],
            name=op.f("fk_email_digest_queue_digest_id_email_digests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_digest_queue_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_digest_queue")),
    )
    with op.batch_alter_table("email_digest_queue", schema=None) as batch_op:
        batch_op.create_index(
            "idx_digest_queue_event_scheduled", ["event_type", "scheduled_for"], unique=False
        )
        batch_op.create_index(
            "idx_digest_queue_included", ["included_in_digest", "scheduled_for"], unique=False
        )
        batch_op.create_index(
            "idx_digest_queue_user_scheduled", ["user_id", "scheduled_for"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_email_digest_queue_digest_id"), ["digest_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_email_digest_queue_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "notification_deliveries",
        sa.Column(
            "outbox_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "email",
                "webhook",
                name="delivery_channel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "webhook_config_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_event_id"],
            ["outbox_events.id"],
            name=op.f("fk_notification_deliveries_outbox_event_id_outbox_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_deliveries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_config_id"],
            ["webhook_configurations.id"],
            name=op.f("fk_notification_deliveries_webhook_config_id_webhook_configurations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
    )
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_deliveries_outbox_event_id"),
            ["outbox_event_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_notification_deliveries_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_deliveries_webhook_config_id"),
            ["webhook_config_id"],
            unique=False,
        )

    op.create_table(
        "notifications",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("read_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "outbox_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_event_id"],
            ["outbox_events.id"],
            name=op.f("fk_notifications_outbox_event_id_outbox_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_outbox_event_id"), ["outbox_event_id"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_user_read_id", ["user_id", "read_at", "id"], unique=False
        )

    op.create_table(
        "email_logs",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("recipient_email", sa.String(length=255), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("template_name", sa.String(length=100), nullable=True),
        sa.Column(
            "event_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("provider", sa.String(length=50), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                name="email_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("sent_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("clicked_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column(
            "delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("digest_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notification_deliveries.id"],
            name=op.f("fk_email_logs_delivery_id_notification_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["email_digests.id"],
            name=op.f("fk_email_logs_digest_id_email_digests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_email_logs_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_logs")),
    )
    with op.batch_alter_table("email_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_logs_delivery_id"), ["delivery_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_email_logs_digest_id"), ["digest_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_logs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_email_logs_user_id"), ["user_id"], unique=False)

    op.create_table(
        "webhook_logs",
        sa.Column(
            "webhook_config_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column(
            "provider_type",
            sa.Enum(
                "generic",
                "slack",
                "discord",
                "teams",
                name="webhook_log_provider",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("webhook_url", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "success",
                "failed",
                name="webhook_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("http_status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("sent_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "delivery_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("updated_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", expgraph.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notification_deliveries.id"],
            name=op.f("fk_webhook_logs_delivery_id_notification_deliveries"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_webhook_logs_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_config_id"],
            ["webhook_configurations.id"],
            name=op.f("fk_webhook_logs_webhook_config_id_webhook_configurations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_logs")),
    )
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_logs_delivery_id"), ["delivery_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_webhook_logs_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_webhook_logs_webhook_config_id"), ["webhook_config_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_logs_webhook_config_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_logs_user_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_logs_delivery_id"))

    op.drop_table("webhook_logs")
    with op.batch_alter_table("email_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_logs_user_id"))
        batch_op.drop_index(batch_op.f("ix_email_logs_status"))
        batch_op.drop_index(batch_op.f("ix_email_logs_digest_id"))
        batch_op.drop_index(batch_op.f("ix_email_logs_delivery_id"))

    op.drop_table("email_logs")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_read_id")
        batch_op.drop_index(batch_op.f("ix_notifications_outbox_event_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_deliveries_webhook_config_id"))
        batch_op.drop_index(batch_op.f("ix_notification_deliveries_user_id"))
        batch_op.drop_index(batch_op.f("ix_notification_deliveries_outbox_event_id"))
        batch_op.drop_index("ix_notification_deliveries_due")

    op.drop_table("notification_deliveries")
    with op.batch_alter_table("email_digest_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_digest_queue_user_id"))
        batch_op.drop_index(batch_op.f("ix_email_digest_queue_digest_id"))
        batch_op.drop_index("idx_digest_queue_user_scheduled")
        batch_op.drop_index("idx_digest_queue_included")
        batch_op.drop_index("idx_digest_queue_event_scheduled")

    op.drop_table("email_digest_queue")
    with op.batch_alter_table("webhook_configurations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_configurations_user_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_configurations_provider_type"))
        batch_op.drop_index(batch_op.f("ix_webhook_configurations_is_active"))

    op.drop_table("webhook_configurations")
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_searches_user_id"))

    op.drop_table("saved_searches")
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_user_id"))
        batch_op.drop_index("ix_outbox_events_processed_id")

    op.drop_table("outbox_events")
    with op.batch_alter_table("notification_preferences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_preferences_user_id"))

    op.drop_table("notification_preferences")
    with op.batch_alter_table("email_digests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_digests_user_id"))
        batch_op.drop_index(batch_op.f("ix_email_digests_status"))

    op.drop_table("email_digests")
