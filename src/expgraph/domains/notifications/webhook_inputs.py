"""Mutation inputs of webhooks."""

from __future__ import annotations

import strawberry
from strawberry.types.unset import UNSET

from expgraph.domains.notifications.webhook_types import NotificationEventType, WebhookProvider
from expgraph.graphql.scalars import JSON


@strawberry.input(description="A new webhook for yourself.")
class CreateWebhookInput:
    name: str = strawberry.field(description="A label to recognise it by, at most 255 characters.")
    url: str = strawberry.field(
        description="An http:// or https:// URL, unique among your webhooks, without a user "
        "name or password. Refused when its host resolves to a loopback, private, "
        "link-local, multicast or reserved address (unless the server allows them)."
    )
    provider_type: WebhookProvider = strawberry.field(
        default=WebhookProvider.GENERIC,
        description="The payload shape to send; GENERIC unless given.",
    )
    enabled_events: list[NotificationEventType] = strawberry.field(
        default_factory=list,
        description="The events to receive; empty (the default): every event.",
    )
    description: str | None = strawberry.field(default=None, description="Free text.")
    settings: JSON | None = strawberry.field(
        default=None, description="Provider options, a JSON object (see WebhookProvider)."
    )


@strawberry.input(description="Changes to one of your webhooks; only the fields given change.")
class UpdateWebhookInput:
    id: strawberry.ID = strawberry.field(description="Global ID of the webhook.")
    name: str | None = strawberry.field(
        default=UNSET, description="New label; leave out to keep, null is refused."
    )
    url: str | None = strawberry.field(
        default=UNSET,
        description="New URL, checked as in createWebhook; leave out to keep, null is refused.",
    )
    provider_type: WebhookProvider | None = strawberry.field(
        default=UNSET, description="New payload shape; leave out to keep, null is refused."
    )
    enabled_events: list[NotificationEventType] | None = strawberry.field(
        default=UNSET,
        description="New events to receive (empty: every event); leave out to keep, "
        "null is refused.",
    )
    description: str | None = strawberry.field(
        default=UNSET, description="New description; null clears it, leave out to keep."
    )
    settings: JSON | None = strawberry.field(
        default=UNSET, description="New provider options; null clears them, leave out to keep."
    )
    is_active: bool | None = strawberry.field(
        default=UNSET,
        description="True reactivates a deactivated webhook (its failure count starts "
        "again at 0); false stops deliveries to it. Leave out to keep, null is refused.",
    )


@strawberry.input(description="Names one of your webhooks.")
class WebhookIdInput:
    id: strawberry.ID = strawberry.field(description="Global ID of the webhook.")
