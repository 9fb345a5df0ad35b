"""Inputs of preference and in-app notification mutations."""

from __future__ import annotations

import strawberry

from expgraph.domains.notifications.types import EmailFrequency
from expgraph.domains.notifications.webhook_types import NotificationEventType
from expgraph.graphql.bounds import capped

MAX_MARK_READ = 500


@strawberry.input(
    description="Your channels for one kind of event. A field left out (or null) keeps "
    "its current value: the stored one, else the default."
)
class SetNotificationPreferenceInput:
    event_type: NotificationEventType = strawberry.field(description="The kind of event.")
    email_enabled: bool | None = strawberry.field(default=None, description="E-mail about it.")
    in_app_enabled: bool | None = strawberry.field(
        default=None, description="In-app notifications about it."
    )
    slack_enabled: bool | None = strawberry.field(default=None, description="Slack messages.")
    webhook_enabled: bool | None = strawberry.field(
        default=None, description="Calls to your webhooks."
    )
    email_frequency: EmailFrequency | None = strawberry.field(
        default=None, description="How often e-mail is sent."
    )


@strawberry.input(
    description="Which of your notifications to mark read: the given ids, or all of them."
)
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = capped(
        MAX_MARK_READ,
        default=None,
        description="Global ids of your notifications; others' and unknown ids are ignored.",
    )
    all: bool = strawberry.field(
        default=False, description="True: every unread notification of yours (ids then ignored)."
    )
