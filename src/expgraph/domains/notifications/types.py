"""GraphQL types of preferences and in-app notifications."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.db.outbox import EventType
from expgraph.domains.notifications import models
from expgraph.domains.notifications.preferences import Preference
from expgraph.domains.notifications.webhook_types import NotificationEventType
from expgraph.graphql.enums import described_enum
from expgraph.graphql.prefetch import computed
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import OwnerOrAdmin

EmailFrequency = models.EmailFrequency
described_enum(
    EmailFrequency,
    "How often e-mail about one kind of event is sent.",
    {
        EmailFrequency.IMMEDIATE: "One e-mail per event, as soon as it happens (the default).",
        EmailFrequency.DAILY: "One digest per UTC day with that day's events, sent after it ends.",
        EmailFrequency.WEEKLY: "One digest per week (Monday to Sunday, UTC) with its events, "
        "sent after it ends.",
        EmailFrequency.NEVER: "No e-mail.",
    },
)


def _event_type(value: str) -> EventType:
    return EventType(value)


@strawberry.type(
    description="How you are told about one kind of event. Without a stored choice the "
    "defaults apply: e-mail on at IMMEDIATE frequency, in-app on, webhooks on, Slack off."
)
class NotificationPreference:
    event_type: NotificationEventType = strawberry.field(description="The kind of event.")
    email_enabled: bool = strawberry.field(
        description="E-mail about it (at emailFrequency); default true."
    )
    in_app_enabled: bool = strawberry.field(
        description="An in-app notification (myNotifications, the notifications "
        "subscription); default true."
    )
    slack_enabled: bool = strawberry.field(
        description="Slack messages (through your Slack webhooks); default false."
    )
    webhook_enabled: bool = strawberry.field(
        description="Calls to your active webhooks that subscribe to this event; default true."
    )
    email_frequency: EmailFrequency = strawberry.field(
        description="Immediately, or gathered in a daily or weekly digest; default IMMEDIATE."
    )
    is_default: bool = strawberry.field(
        description="True when nothing is stored for this event type and the defaults apply."
    )

    @classmethod
    def of(cls, preference: Preference) -> NotificationPreference:
        return cls(
            event_type=_event_type(preference.event_type),
            email_enabled=preference.email_enabled,
            in_app_enabled=preference.in_app_enabled,
            slack_enabled=preference.slack_enabled,
            webhook_enabled=preference.webhook_enabled,
            email_frequency=preference.email_frequency,
            is_default=not preference.stored,
        )


@node_type(models.Notification, read=OwnerOrAdmin("user_id"))
@strawberry.type(description="An in-app notification: something that happened that concerns you.")
class Notification(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    title: str = strawberry.field(description="One line saying what happened.")
    body: str = strawberry.field(description="More detail; may be empty.")
    data: JSON = strawberry.field(
        description="The event's details as a JSON object (ids are database ids, e.g. "
        '{"experiment_id": 12, "name": "...", "new_status": "completed"}).'
    )
    read_at: datetime | None = strawberry.field(
        description="When it was marked read; null while unread."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    record: strawberry.Private[models.Notification]

    @strawberry.field(description="The kind of event it tells of.")
    @computed(lambda row, _settings: row.event_type)
    def event_type(self) -> NotificationEventType:
        return _event_type(self.record.event_type)

    @strawberry.field(description="False until it is marked read.")
    @computed(lambda row, _settings: row.read_at.is_not(None))
    def is_read(self) -> bool:
        return self.record.read_at is not None
