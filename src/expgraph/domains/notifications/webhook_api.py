"""Webhook queries and mutations: your webhooks, their secrets (shown once), a
test delivery."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy import Select, delete, select

from expgraph.domains.notifications import webhooks
from expgraph.domains.notifications.models import WebhookConfiguration, WebhookLog
from expgraph.domains.notifications.webhook_inputs import (
    CreateWebhookInput,
    UpdateWebhookInput,
    WebhookIdInput,
)
from expgraph.domains.notifications.webhook_security import check_url
from expgraph.domains.notifications.webhook_types import (
    NotificationEventType,
    Webhook,
)
from expgraph.domains.notifications.webhook_types import (
    WebhookLog as WebhookLogNode,
)
from expgraph.errors import BadRequest, Forbidden, NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Context, Info
from expgraph.graphql.inputs import given, json_object, optional_text, text
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import mutation, query_field
from expgraph.graphql.relay import encode_id, model_pk, to_node
from expgraph.graphql.visibility import owned_by

W = WebhookConfiguration
NEWEST_FIRST = (SortKey("created_at", descending=True),)
TEST_EVENT = "webhook_test"


@strawberry.type(description="A new webhook and its signing secret.")
class CreateWebhookPayload:
    webhook: Webhook = strawberry.field(description="The new webhook, without its secret.")
    signing_secret: str = strawberry.field(
        description="The secret that signs every delivery (see X-Expgraph-Signature), shown "
        "this once: store it with the receiver. rotateWebhookSecret makes a new one."
    )


@strawberry.type(description="A webhook's new signing secret.")
class RotateWebhookSecretPayload:
    webhook: Webhook = strawberry.field(description="The webhook.")
    signing_secret: str = strawberry.field(
        description="The new secret, shown this once; the old one no longer signs anything."
    )


@strawberry.type(description="Result of a change to a webhook.")
class WebhookPayload:
    webhook: Webhook = strawberry.field(description="The webhook as it now is.")


@strawberry.type(description="Result of deleting a webhook.")
class DeleteWebhookPayload:
    id: strawberry.ID = strawberry.field(description="Global ID of the deleted webhook.")


@strawberry.type(description="How a test delivery went.")
class TestWebhookPayload:
    sent: bool = strawberry.field(description="True when the receiver answered with a 2xx status.")
    log: WebhookLogNode = strawberry.field(
        description="The attempt as logged: status, HTTP status, answer and error."
    )
    webhook: Webhook = strawberry.field(
        description="The webhook after the attempt (a test counts like any delivery: a "
        "failure adds to its consecutive failures, a success resets them)."
    )


def _owner(ctx: Context) -> int:
    if ctx.principal.user_id is None:
        raise Forbidden("webhooks belong to a user: sign in to manage them")
    return ctx.principal.user_id


async def _own_webhook(ctx: Context, global_id: str) -> WebhookConfiguration:
    """The webhook, if the caller owns it (admins: any); else NOT_FOUND."""
    pk = model_pk(global_id, W)
    async with ctx.db.read() as session:
        config = await session.get(W, pk)
    if config is None or (
        config.user_id != ctx.principal.user_id and not ctx.principal.has(Permission.ADMIN)
    ):
        raise NotFound(f"no webhook {global_id}")
    return config


def _events(values: list[NotificationEventType]) -> list[str]:
    return list(dict.fromkeys(event.value for event in values))


@strawberry.type
class Query:
    @query_field(description="Your webhooks, newest first (their secrets are never shown).")
    @paged(Webhook, W, NEWEST_FIRST)
    def my_webhooks(self, info: Info) -> Select[Any]:
        return select(W).where(owned_by(W.user_id, info.context.principal.user_id))


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.WRITE,
        description="Create a webhook for yourself; its signing secret is in the payload, "
        "shown this once.",
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookPayload:
        ctx = info.context
        user_id = _owner(ctx)
        name = text(input.name, "name", max_length=255)
        url = await check_url(ctx.settings, input.url)
        secret = webhooks.new_secret()
        sealed = webhooks.seal(ctx.settings, secret)
        async with ctx.db.transaction() as session:
            config = W(
                user_id=user_id,
                name=name,
                webhook_url=url,
                provider_type=input.provider_type,
                enabled_events=_events(input.enabled_events),
                description=optional_text(input.description, "description", max_length=2_000),
                settings=json_object(input.settings, "settings"),
                secret_encrypted=sealed,
                is_active=True,
                consecutive_failures=0,
            )
            session.add(config)
            await session.flush()
            await session.refresh(config)
        return CreateWebhookPayload(webhook=to_node(config), signing_secret=secret)

    @mutation(
        permission=Permission.WRITE, description="Change one of your webhooks or (re)activate it."
    )
    async def update_webhook(self, info: Info, input: UpdateWebhookInput) -> WebhookPayload:
        ctx = info.context
        current = await _own_webhook(ctx, input.id)
        values: dict[str, Any] = {}
        for field in ("name", "url", "provider_type", "enabled_events", "is_active"):
            if given(getattr(input, field)) and getattr(input, field) is None:
                raise BadRequest(f"{field} cannot be null", field=field)
        if given(input.name) and input.name is not None:
            values["name"] = text(input.name, "name", max_length=255)
        if given(input.url) and input.url is not None:
            values["webhook_url"] = await check_url(ctx.settings, input.url)
        if given(input.provider_type):
            values["provider_type"] = input.provider_type
        if given(input.enabled_events) and input.enabled_events is not None:
            values["enabled_events"] = _events(input.enabled_events)
        if given(input.description):
            values["description"] = optional_text(
                input.description, "description", max_length=2_000
            )
        if given(input.settings):
            values["settings"] = json_object(input.settings, "settings")
        if given(input.is_active):
            values["is_active"] = input.is_active
            if input.is_active and not current.is_active:
                values["consecutive_failures"] = 0
        async with ctx.db.transaction() as session:
            config = await session.get(W, current.id, with_for_update=True)
            if config is None:
                raise NotFound(f"no webhook {input.id}")
            for key, value in values.items():
                setattr(config, key, value)
            await session.flush()
            await session.refresh(config)
        return WebhookPayload(webhook=to_node(config))

    @mutation(permission=Permission.WRITE, description="Delete one of your webhooks and its logs.")
    async def delete_webhook(self, info: Info, input: WebhookIdInput) -> DeleteWebhookPayload:
        ctx = info.context
        config = await _own_webhook(ctx, input.id)
        async with ctx.db.transaction() as session:
            await session.execute(
                delete(WebhookLog).where(WebhookLog.webhook_config_id == config.id)
            )
            await session.execute(delete(W).where(W.id == config.id))
        return DeleteWebhookPayload(id=strawberry.ID(encode_id("Webhook", config.id)))

    @mutation(
        permission=Permission.WRITE,
        description="Replace a webhook's signing secret; the new one is shown this once.",
    )
    async def rotate_webhook_secret(
        self, info: Info, input: WebhookIdInput
    ) -> RotateWebhookSecretPayload:
        ctx = info.context
        current = await _own_webhook(ctx, input.id)
        secret = webhooks.new_secret()
        sealed = webhooks.seal(ctx.settings, secret)
        async with ctx.db.transaction() as session:
            config = await session.get(W, current.id, with_for_update=True)
            if config is None:
                raise NotFound(f"no webhook {input.id}")
            config.secret_encrypted = sealed
            await session.flush()
            await session.refresh(config)
        return RotateWebhookSecretPayload(webhook=to_node(config), signing_secret=secret)

    @mutation(
        permission=Permission.WRITE,
        description="Send a sample event (webhook_test) to one of your active webhooks now, "
        "signed and logged like any delivery, and say how it went.",
    )
    async def test_webhook(self, info: Info, input: WebhookIdInput) -> TestWebhookPayload:
        ctx = info.context
        config = await _own_webhook(ctx, input.id)
        if not config.is_active:
            raise BadRequest("the webhook is deactivated: reactivate it with updateWebhook first")
        made = await webhooks.make_attempt(
            ctx.db,
            ctx.settings,
            config.id,
            event_type=TEST_EVENT,
            occurred_at=datetime.now(UTC),
            data={
                "webhookId": input.id,
                "name": config.name,
                "message": "A test delivery from expgraph: your receiver is reachable.",
            },
            delivery_key=f"test-{secrets.token_hex(8)}",
        )
        if made.log_id is None:
            raise BadRequest(made.outcome.error or "the webhook cannot be tested")
        async with ctx.db.read() as session:
            log = await session.get(WebhookLog, made.log_id)
            fresh = await session.get(W, config.id, populate_existing=True)
        if log is None or fresh is None:
            raise NotFound(f"no webhook {input.id}")
        return TestWebhookPayload(sent=made.outcome.sent, log=to_node(log), webhook=to_node(fresh))
