"""GraphQL of preferences and in-app notifications: ``myNotificationPreferences``,
``setNotificationPreference``, ``myNotifications``, ``unreadNotificationCount``,
``markNotificationsRead`` and the ``notifications`` subscription.

They concern the signed-in user. With authentication on, an anonymous caller
is refused (UNAUTHENTICATED). With authentication off (the local mode, where
every caller acts as an admin without being a user, as ``me`` is null there)
nobody's notifications are shown: the lists are empty, the count is 0, the
preferences are the defaults, ``setNotificationPreference`` is refused
(BAD_REQUEST) and the subscription ends without sending anything.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import orjson
import strawberry
from sqlalchemy import Select

from expgraph.db.outbox import EventType
from expgraph.domains.notifications import inapp, preferences
from expgraph.domains.notifications.inputs import (
    MarkNotificationsReadInput,
    SetNotificationPreferenceInput,
)
from expgraph.domains.notifications.models import Notification as NotificationRecord
from expgraph.domains.notifications.types import Notification, NotificationPreference
from expgraph.errors import BadRequest
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Info
from expgraph.graphql.permissions import mutation, query_field, requires
from expgraph.graphql.relay import model_pk
from expgraph.graphql.visibility import node_for


@strawberry.type(description="Result of markNotificationsRead.")
class MarkNotificationsReadPayload:
    updated: int = strawberry.field(
        description="How many notifications became read (already read ones do not count)."
    )


@strawberry.type(description="Result of setNotificationPreference.")
class NotificationPreferencePayload:
    preference: NotificationPreference = strawberry.field(description="The preference as stored.")


def _signed_in(info: Info) -> int:
    user_id = info.context.principal.user_id
    if user_id is None:
        raise BadRequest(
            "there is no signed-in user (authentication is off): preferences belong to a user"
        )
    return user_id


@strawberry.type
class Query:
    @query_field(
        description="Your notification preferences: one per event type, in a fixed order; "
        "an event type you never set shows the defaults (isDefault true)."
    )
    async def my_notification_preferences(self, info: Info) -> list[NotificationPreference]:
        async with info.context.db.read() as session:
            found = await preferences.preferences_of(session, info.context.principal.user_id)
        return [NotificationPreference.of(p) for p in found]

    @query_field(description="Your in-app notifications: unread ones first, then newest first.")
    @paged(Notification, NotificationRecord, inapp.ORDER)
    def my_notifications(
        self,
        info: Info,
        unread_only: Annotated[
            bool, strawberry.argument(description="True: only notifications not yet read.")
        ] = False,
    ) -> Select[Any]:
        return inapp.listing(info.context.principal.user_id, unread_only)

    @query_field(description="How many of your in-app notifications are unread.")
    async def unread_notification_count(self, info: Info) -> int:
        async with info.context.db.read() as session:
            return await inapp.count(session, info.context.principal.user_id, True)


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.READ,
        description="Choose how you are told about one kind of event (creates or updates "
        "your preference for it; fields left out keep their value).",
    )
    async def set_notification_preference(
        self, info: Info, input: SetNotificationPreferenceInput
    ) -> NotificationPreferencePayload:
        user_id = _signed_in(info)
        values = {
            name: getattr(input, name)
            for name in preferences.FIELDS
            if getattr(input, name) is not None
        }
        async with info.context.db.transaction() as session:
            stored = await preferences.set_preference(
                session, user_id, EventType(input.event_type.value), values
            )
        return NotificationPreferencePayload(preference=NotificationPreference.of(stored))

    @mutation(
        permission=Permission.READ,
        description="Mark some of your in-app notifications read, or all of them.",
    )
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        if not input.all and not input.ids:
            raise BadRequest("give ids or all: true", field="ids")
        ids = None if input.all else [model_pk(i, NotificationRecord) for i in input.ids or ()]
        async with info.context.db.transaction() as session:
            updated = await inapp.mark_read(session, info.context.principal.user_id, ids, input.all)
        return MarkNotificationsReadPayload(updated=updated)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[requires(Permission.READ)],
        description="Your new in-app notifications, each sent as it is created (from any "
        "server process). Signed-in users only: with authentication off it ends at once.",
    )
    async def notifications(self, info: Info) -> AsyncGenerator[Notification, None]:
        context = info.context
        user_id = context.principal.user_id
        if user_id is None or context.broker is None:
            return
        async with context.broker.subscribe(inapp.NOTIFICATIONS_CHANNEL) as queue:
            while True:
                message = orjson.loads(await queue.get())
                if message.get("user") != user_id:
                    continue
                async with context.db.read() as session:
                    row = await session.get(NotificationRecord, int(message["id"]))
                node = node_for(context.principal, row)
                if node is not None:
                    yield node
