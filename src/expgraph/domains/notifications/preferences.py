"""Notification preferences: one row per user and event type (UNIQUE(user_id,
event_type)); a user without a row for an event type gets the defaults:
e-mail on at IMMEDIATE frequency, in-app on, webhooks on, Slack off."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.dialect import upsert
from expgraph.db.outbox import EventType
from expgraph.domains.notifications.models import EmailFrequency, NotificationPreference

P = NotificationPreference


@dataclass(frozen=True)
class Preference:
    """One user's channels for one event type, stored or defaulted."""

    event_type: str
    email_enabled: bool = True
    in_app_enabled: bool = True
    slack_enabled: bool = False
    webhook_enabled: bool = True
    email_frequency: EmailFrequency = EmailFrequency.IMMEDIATE
    stored: bool = False

    @classmethod
    def of(cls, row: NotificationPreference) -> Preference:
        return cls(
            event_type=row.event_type,
            email_enabled=row.email_enabled,
            in_app_enabled=row.in_app_enabled,
            slack_enabled=row.slack_enabled,
            webhook_enabled=row.webhook_enabled,
            email_frequency=row.email_frequency,
            stored=True,
        )


FIELDS = ("email_enabled", "in_app_enabled", "slack_enabled", "webhook_enabled", "email_frequency")


async def preference_for(session: AsyncSession, user_id: int, event_type: str) -> Preference:
    row = (
        await session.scalars(select(P).where(P.user_id == user_id, P.event_type == event_type))
    ).first()
    return Preference.of(row) if row is not None else Preference(event_type)


async def preferences_of(session: AsyncSession, user_id: int | None) -> list[Preference]:
    """One preference per event type (in ``EventType``'s order)."""
    stored: dict[str, Preference] = {}
    if user_id is not None:
        rows = (await session.scalars(select(P).where(P.user_id == user_id))).all()
        stored = {row.event_type: Preference.of(row) for row in rows}
    return [stored.get(t.value) or Preference(t.value) for t in EventType]


async def set_preference(
    session: AsyncSession, user_id: int, event_type: EventType, values: dict[str, Any]
) -> Preference:
    """Upsert the user's row for ``event_type``: the given ``values`` over the
    stored row, or over the defaults when there is none."""
    current = await preference_for(session, user_id, event_type.value)
    merged = {name: values.get(name, getattr(current, name)) for name in FIELDS}
    merged = {k: (v if v is not None else getattr(current, k)) for k, v in merged.items()}
    row = {"user_id": user_id, "event_type": event_type.value, **merged}
    dialect = session.get_bind().dialect.name
    table: Any = P.__table__
    await session.execute(upsert(dialect, table, [row], ("user_id", "event_type"), FIELDS))
    return Preference(event_type.value, **merged, stored=True)
