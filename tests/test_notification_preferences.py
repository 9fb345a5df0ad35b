"""myNotificationPreferences and setNotificationPreference over HTTP, and the
deliverer honouring what was set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, emit
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service as accounts_service
from expgraph.domains.notifications import deliver
from expgraph.domains.notifications.models import (
    EmailDigestQueue,
    Notification,
    NotificationDelivery,
)
from tests.auth_helpers import PASSWORD, Caller

PREFERENCES = """{ myNotificationPreferences {
  eventType emailEnabled inAppEnabled slackEnabled webhookEnabled emailFrequency isDefault } }"""
SET = """mutation($input: SetNotificationPreferenceInput!) {
  setNotificationPreference(input: $input) { preference {
    eventType emailEnabled inAppEnabled slackEnabled webhookEnabled emailFrequency isDefault } } }"""
DEFAULT = {
    "emailEnabled": True,
    "inAppEnabled": True,
    "slackEnabled": False,
    "webhookEnabled": True,
    "emailFrequency": "IMMEDIATE",
    "isDefault": True,
}


async def _user(db: Database, name: str) -> int:
    async with db.transaction() as session:
        user = await accounts_service.create_user(
            session,
            username=name,
            email=f"{name}@example.com",
            role=accounts.UserRole.VIEWER,
            password=PASSWORD,
        )
        return int(user.id)


@pytest.fixture
async def signed_in(settings: Settings, db: Database) -> AsyncIterator[tuple[Caller, int]]:
    app = create_app(
        settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False}), db=db
    )
    user = await _user(db, "grace")
    caller = Caller(app)
    await caller.login("grace")
    yield caller, user
    await caller.aclose()


async def test_every_event_type_shows_the_defaults_until_set(signed_in):
    caller, _ = signed_in
    shown = (await caller.gql.data(PREFERENCES))["myNotificationPreferences"]
    assert [p["eventType"] for p in shown] == [t.name for t in EventType]
    assert all({k: v for k, v in p.items() if k != "eventType"} == DEFAULT for p in shown)


async def test_set_then_change_one_field_keeps_the_others(signed_in):
    caller, _ = signed_in
    first = await caller.gql.data(
        SET,
        {
            "input": {
                "eventType": "EXPERIMENT_FAILED",
                "emailFrequency": "WEEKLY",
                "slackEnabled": True,
            }
        },
    )
    expected = {
        **DEFAULT,
        "eventType": "EXPERIMENT_FAILED",
        "emailFrequency": "WEEKLY",
        "slackEnabled": True,
        "isDefault": False,
    }
    assert first["setNotificationPreference"]["preference"] == expected
    second = await caller.gql.data(
        SET, {"input": {"eventType": "EXPERIMENT_FAILED", "inAppEnabled": False}}
    )
    expected["inAppEnabled"] = False
    assert second["setNotificationPreference"]["preference"] == expected
    shown = {
        p["eventType"]: p for p in (await caller.gql.data(PREFERENCES))["myNotificationPreferences"]
    }
    assert shown["EXPERIMENT_FAILED"] == expected
    assert shown["EXPERIMENT_COMPLETED"]["isDefault"] is True


async def test_the_deliverer_honours_what_was_set(signed_in, db, settings):
    caller, user = signed_in
    await caller.gql.data(
        SET,
        {
            "input": {
                "eventType": "EXECUTION_FAILED",
                "emailFrequency": "DAILY",
                "inAppEnabled": False,
            }
        },
    )
    await caller.gql.data(
        SET, {"input": {"eventType": "EXECUTION_COMPLETED", "emailEnabled": False}}
    )
    async with db.transaction() as session:
        for kind in (EventType.EXECUTION_FAILED, EventType.EXECUTION_COMPLETED):
            await emit(session, kind, {"name": kind.value}, user_id=user)
    await deliver.run_once(db, settings, {})

    async def rows(model: Any) -> list[str]:
        async with db.read() as session:
            found = (await session.scalars(select(model))).all()
        return [getattr(r, "event_type", None) or r.channel.value for r in found]

    # FAILED: a digest row, no in-app, no immediate e-mail; COMPLETED: in-app only.
    assert await rows(EmailDigestQueue) == ["execution_failed"]
    assert await rows(Notification) == ["execution_completed"]
    async with db.read() as session:
        assert (
            await session.execute(select(func.count()).select_from(NotificationDelivery))
        ).scalar_one() == 0


async def test_anonymous_callers_are_refused(settings, db):
    app = create_app(
        settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False}), db=db
    )
    caller = Caller(app)
    try:
        assert await caller.code(PREFERENCES) == "UNAUTHENTICATED"
        assert (
            await caller.code(SET, {"input": {"eventType": "EXPERIMENT_FAILED"}})
            == "UNAUTHENTICATED"
        )
    finally:
        await caller.aclose()


async def test_with_authentication_off_there_is_no_user_to_set_for(gql):
    shown = (await gql.data(PREFERENCES))["myNotificationPreferences"]
    assert all(p["isDefault"] for p in shown)
    body = await gql.post(SET, {"input": {"eventType": "EXPERIMENT_FAILED", "slackEnabled": True}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
