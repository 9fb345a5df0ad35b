"""GraphQL types of webhooks. No field reads a webhook's signing secret: it is
shown once, in createWebhook's and rotateWebhookSecret's payloads."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.db.outbox import EventType
from expgraph.domains.notifications import models
from expgraph.graphql.connections import Relation, connection_field
from expgraph.graphql.enums import described_enum
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import OwnerOrAdmin

# The deliverer's domain events, as GraphQL sees them (the one registration of
# db.outbox.EventType: other notification types use this enum too).
NotificationEventType = EventType
described_enum(
    NotificationEventType,
    "Something that happened which users can be notified of.",
    {
        EventType.EXPERIMENT_COMPLETED: "An experiment finished successfully.",
        EventType.EXPERIMENT_FAILED: "An experiment failed.",
        EventType.EXECUTION_COMPLETED: "An execution of an experiment completed.",
        EventType.EXECUTION_FAILED: "An execution of an experiment failed.",
        EventType.HPO_CAMPAIGN_COMPLETED: "A hyperparameter search campaign finished.",
        EventType.NAS_CAMPAIGN_COMPLETED: "A neural architecture search campaign finished.",
        EventType.DATASET_JOB_COMPLETED: "A dataset job (import, generation) completed.",
        EventType.DATASET_JOB_FAILED: "A dataset job failed.",
        EventType.ABTEST_SAMPLE_RATIO_MISMATCH: "An A/B test's sample-ratio check found "
        "assignment proportions far from the configured split.",
        EventType.API_KEY_EXPIRING: "One of your API keys expires soon.",
        EventType.WEBHOOK_DEACTIVATED: "One of your webhooks was deactivated after too many "
        "failed deliveries in a row.",
    },
    name="NotificationEventType",
)

WebhookProvider = models.WebhookProvider
described_enum(
    WebhookProvider,
    "Who receives a webhook: decides the shape of the JSON body sent.",
    {
        WebhookProvider.GENERIC: 'Any HTTP endpoint: {"event", "occurredAt", "data"}.',
        WebhookProvider.SLACK: 'A Slack incoming webhook: {"text", "blocks"}; the settings '
        'may give "channel", "username" and "icon_emoji".',
        WebhookProvider.DISCORD: 'A Discord webhook: {"content", "embeds"}; the settings may '
        'give "username".',
        WebhookProvider.TEAMS: "A Microsoft Teams incoming webhook: a MessageCard.",
    },
)

WebhookStatus = models.WebhookStatus
described_enum(
    WebhookStatus,
    "How one delivery attempt to a webhook ended.",
    {
        WebhookStatus.SUCCESS: "The receiver answered with a 2xx status.",
        WebhookStatus.FAILED: "No 2xx answer: an error status, a timeout, a connection "
        "failure, or an address webhooks may not call.",
    },
)


@node_type(models.WebhookLog, read=OwnerOrAdmin("user_id"))
@strawberry.type(description="One attempt to deliver one event to a webhook.")
class WebhookLog(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    event_type: str = strawberry.field(
        description="The event sent, as its lower-case name (e.g. experiment_completed; "
        "webhook_test for testWebhook)."
    )
    provider_type: WebhookProvider = strawberry.field(description="The payload shape used.")
    webhook_url: str = strawberry.field(description="The URL called.")
    payload: JSON = strawberry.field(description="The JSON body sent.")
    status: WebhookStatus = strawberry.field(description="How the attempt ended.")
    http_status_code: int | None = strawberry.field(
        description="The receiver's HTTP status; null when it gave none (timeout, refused "
        "connection or address)."
    )
    response_body: str | None = strawberry.field(
        description="The start of the receiver's answer (at most "
        "EXPGRAPH_WEBHOOK_RESPONSE_BODY_MAX_BYTES bytes); null without an answer."
    )
    error_message: str | None = strawberry.field(
        description="Why the attempt failed; null on success."
    )
    retry_count: int = strawberry.field(
        description="0 for a delivery's first attempt, 1 for its first retry, and so on."
    )
    sent_at: datetime | None = strawberry.field(description="When the attempt was made.")
    created_at: datetime = strawberry.field(description="When it was logged.")
    record: strawberry.Private[models.WebhookLog]


LOGS = Relation(models.WebhookLog, "webhook_config_id")


@node_type(
    models.WebhookConfiguration, read=OwnerOrAdmin("user_id"), renames={"url": "webhook_url"}
)
@strawberry.type(
    description="A URL that receives your notifications as signed HTTP POSTs. Its signing "
    "secret is shown only when created or rotated."
)
class Webhook(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    name: str = strawberry.field(description="A label to recognise it by.")
    description: str | None = strawberry.field(description="Free text, when given.")
    url: str = strawberry.field(description="Where the events are POSTed.")
    provider_type: WebhookProvider = strawberry.field(description="The payload shape sent.")
    is_active: bool = strawberry.field(
        description="False once deactivated (by you, or automatically after "
        "EXPGRAPH_WEBHOOK_MAX_CONSECUTIVE_FAILURES failed deliveries in a row): nothing "
        "is sent to it."
    )
    settings: JSON = strawberry.field(
        description="Provider options, a JSON object (see WebhookProvider)."
    )
    consecutive_failures: int = strawberry.field(
        description="Failed deliveries since the last successful one."
    )
    last_error: str | None = strawberry.field(
        description="Why the last failed delivery failed; null after a success."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When a delivery last succeeded; null if none has."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    record: strawberry.Private[models.WebhookConfiguration]

    @strawberry.field(
        description="The events it receives; empty: every event (also ones added later)."
    )
    def enabled_events(self) -> list[NotificationEventType]:
        known = {member.value for member in EventType}
        return [EventType(value) for value in self.record.enabled_events if value in known]

    logs = connection_field(
        LOGS,
        WebhookLog,
        (SortKey("created_at", descending=True),),
        description="Its delivery attempts, newest first.",
    )
