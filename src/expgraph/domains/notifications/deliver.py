"""The deliverer: outbox events fanned out to their channels, deliveries sent
with retries, and periodic work (digests, key-expiry checks).

One pass (``run_once``) does three things; ``run_forever`` repeats it every
``EXPGRAPH_DELIVERY_POLL_SECONDS`` (at once again while a pass found work).
Any number of deliverers (server processes, ``expgraph deliver``) may run at
the same time: every row is claimed through the kernel's claims mechanism
(``db/claims.py``; SKIP LOCKED on PostgreSQL), so nothing is fanned out or sent
twice, and a crashed deliverer's rows are taken over once its hold is older
than ``EXPGRAPH_DELIVERY_STALE_SECONDS``.

1. **Fan-out.** A batch of unprocessed outbox events is claimed (one
   transaction, committed), then each is fanned out in a transaction of its own
   guarded by ``OUTBOX.hold``, which also marks it processed and releases it.
   A fan-out that raises rolls back, is counted in the event's ``attempts`` with
   its ``last_error``, and is tried again on the next pass; after
   ``EXPGRAPH_DELIVERY_MAX_ATTEMPTS`` failures the event is set aside (marked
   processed with its ``last_error`` kept), so a malformed event cannot be
   claimed on every pass forever.
   The recipient is the event's ``user_id`` (an event without one reaches
   nobody). Per the user's preference for the event type (``preferences.py``;
   defaults when none is stored):

   - in-app on: a ``notifications`` row, announced on the ``notifications``
     broker channel in the same transaction (the ``notifications`` subscription);
   - e-mail on, IMMEDIATE: a ``NotificationDelivery(channel=EMAIL)``;
   - e-mail on, DAILY or WEEKLY: an ``email_digest_queue`` row whose
     ``scheduled_for`` is **the event's time** (the outbox event's
     ``created_at``, UTC). The digest sender groups the queue per user into
     periods by that time (the UTC day, or the ISO week from Monday 00:00 UTC)
     and sends a period's digest once the period is over; NEVER: nothing;
   - webhooks on: a ``NotificationDelivery(channel=WEBHOOK, webhook_config_id=...)``
     for each of the user's active webhook configurations whose
     ``enabled_events`` holds the event type (its stored value,
     ``experiment_completed``, or its GraphQL name, ``EXPERIMENT_COMPLETED``);
     an empty list means every event.

2. **Sending.** A batch of due deliveries (PENDING, ``next_attempt_at`` null or
   past) is claimed and committed; each is handed to its channel's ``send``
   outside any transaction (``channels.py``: the contract), then its
   ``Outcome`` is recorded under ``hold``: SENT; or, on a failure, another
   attempt after ``base * 2^(attempt-1)`` seconds with jitter (half to all of
   it; ``EXPGRAPH_DELIVERY_BACKOFF_BASE_SECONDS``); or FAILED after
   ``EXPGRAPH_DELIVERY_MAX_ATTEMPTS`` attempts or at once when the channel says
   ``retry=False``. A delivery whose channel is not registered (``registry.py``)
   is never claimed: it stays PENDING until a deliverer that has the channel runs.

3. **Periodic work**: each callable of ``periodic`` (e.g. the e-mail digests,
   ``events.api_keys_expiring``), its count added to the pass's work.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.config import Settings
from expgraph.db.claims import Claimable, Holder
from expgraph.db.engine import Database
from expgraph.db.notify import Broker
from expgraph.db.outbox import OUTBOX, EventType, OutboxEvent
from expgraph.db.types import utcnow
from expgraph.domains.notifications.channels import Channel, Outcome
from expgraph.domains.notifications.events import describe
from expgraph.domains.notifications.inapp import NOTIFICATIONS_CHANNEL
from expgraph.domains.notifications.models import (
    DeliveryChannel,
    DeliveryStatus,
    EmailDigestQueue,
    EmailFrequency,
    Notification,
    NotificationDelivery,
    WebhookConfiguration,
)
from expgraph.domains.notifications.preferences import preference_for

logger = logging.getLogger("expgraph.deliver")

Periodic = Callable[[Database, Settings], Awaitable[int]]

D = NotificationDelivery

DELIVERIES = Claimable(
    NotificationDelivery,
    ready=lambda: and_(
        D.status == DeliveryStatus.PENDING,
        or_(D.next_attempt_at.is_(None), D.next_attempt_at <= utcnow()),
    ),
    order_by=("id",),
    noun="notification delivery",
)
"""Due deliveries, oldest first."""


def new_worker_id() -> str:
    """A deliverer's holder id: host, process and a random part."""
    return f"deliverer:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff_seconds(settings: Settings, attempt: int) -> int:
    """Seconds before the attempt after ``attempt`` (1, 2, ...): exponential, with jitter."""
    delay = settings.delivery_backoff_base_seconds * 2 ** max(0, attempt - 1)
    return round(delay * random.uniform(0.5, 1.0))


# --- 1. fan-out -------------------------------------------------------------------


def _wants(config: WebhookConfiguration, event_type: str) -> bool:
    events = [str(e) for e in (config.enabled_events or [])]
    if not events:
        return True
    try:
        name = EventType(event_type).name
    except ValueError:
        name = event_type
    return event_type in events or name in events


async def _fan_out(session: AsyncSession, event: OutboxEvent, broker: Broker | None) -> int:
    """The rows one event makes for its recipient; returns how many."""
    user_id = event.user_id
    if user_id is None:
        return 0
    preference = await preference_for(session, user_id, event.event_type)
    made = 0
    if preference.in_app_enabled:
        title, body = describe(event.event_type, event.payload or {})
        notification_id = (
            await session.execute(
                insert(Notification)
                .values(
                    user_id=user_id,
                    event_type=event.event_type,
                    title=title[:500],
                    body=body,
                    data=event.payload or {},
                    outbox_event_id=event.id,
                )
                .returning(Notification.id)
            )
        ).scalar_one()
        made += 1
        if broker is not None:
            message = orjson.dumps({"user": user_id, "id": notification_id}).decode()
            await broker.publish_in(session, NOTIFICATIONS_CHANNEL, message)
    if preference.email_enabled:
        frequency = preference.email_frequency
        if frequency is EmailFrequency.IMMEDIATE:
            session.add(D(outbox_event_id=event.id, channel=DeliveryChannel.EMAIL, user_id=user_id))
            made += 1
        elif frequency in (EmailFrequency.DAILY, EmailFrequency.WEEKLY):
            session.add(
                EmailDigestQueue(
                    user_id=user_id,
                    event_type=event.event_type,
                    event_data=event.payload or {},
                    scheduled_for=event.created_at,
                )
            )
            made += 1
    if preference.webhook_enabled:
        configs = (
            await session.scalars(
                select(WebhookConfiguration).where(
                    WebhookConfiguration.user_id == user_id,
                    WebhookConfiguration.is_active.is_(True),
                )
            )
        ).all()
        for config in configs:
            if _wants(config, event.event_type):
                session.add(
                    D(
                        outbox_event_id=event.id,
                        channel=DeliveryChannel.WEBHOOK,
                        user_id=user_id,
                        webhook_config_id=config.id,
                    )
                )
                made += 1
    await session.flush()
    return made


async def _claim_batch(
    db: Database, claimable: Claimable, worker_id: str, settings: Settings, where: Any = None
) -> list[Any]:
    claimed: list[Any] = []
    async with db.transaction() as session:
        for _ in range(settings.delivery_batch_size):
            row = await claimable.claim_next(
                session, db.dialect, worker_id, settings.delivery_stale_seconds, where=where
            )
            if row is None:
                break
            claimed.append(row)
    return claimed


async def fan_out(
    db: Database, settings: Settings, broker: Broker | None = None, worker_id: str | None = None
) -> int:
    """Fan out one batch of unprocessed outbox events; returns how many were processed."""
    worker_id = worker_id or new_worker_id()
    done = 0
    for event in await _claim_batch(db, OUTBOX, worker_id, settings):
        holder = Holder(worker_id, event.fencing_token)
        try:
            async with db.transaction() as session:
                if not await OUTBOX.hold(session, event.id, holder):
                    continue  # taken over (our hold went stale): the new holder does it
                await _fan_out(session, event, broker)
                await OUTBOX.release(
                    session, event.id, holder, processed_at=utcnow(), attempts=event.attempts + 1
                )
            done += 1
        except Exception as exc:  # one bad event must not stop the others
            attempts = event.attempts + 1
            given_up = attempts >= settings.delivery_max_attempts
            logger.exception(
                "fanning out outbox event %s failed (attempt %s%s)",
                event.id,
                attempts,
                ", giving up" if given_up else "",
            )
            values: dict[str, Any] = {
                "attempts": attempts,
                "last_error": f"{type(exc).__name__}: {exc}"[:2000],
            }
            if given_up:  # else an event that always fails is claimed on every pass
                values["processed_at"] = utcnow()
            async with db.transaction() as session:
                await OUTBOX.release(session, event.id, holder, **values)
    return done


# --- 2. sending -------------------------------------------------------------------


async def _attempt(
    channel: Channel,
    db: Database,
    settings: Settings,
    delivery: NotificationDelivery,
    event: OutboxEvent,
) -> Outcome:
    try:
        return await channel.send(db, settings, delivery, event, delivery.attempts + 1)
    except Exception as exc:  # the contract: an escaping exception is a failed attempt
        logger.warning("%s delivery %s raised: %s", delivery.channel.value, delivery.id, exc)
        return Outcome(sent=False, error=f"{type(exc).__name__}: {exc}")


def _recorded(
    settings: Settings, delivery: NotificationDelivery, outcome: Outcome, now: datetime
) -> dict[str, Any]:
    attempts = delivery.attempts + 1
    if outcome.sent:
        return {
            "status": DeliveryStatus.SENT,
            "attempts": attempts,
            "delivered_at": utcnow(),
            "last_error": None,
        }
    values: dict[str, Any] = {"attempts": attempts, "last_error": (outcome.error or "")[:2000]}
    if not outcome.retry or attempts >= settings.delivery_max_attempts:
        values["status"] = DeliveryStatus.FAILED
    else:
        values["next_attempt_at"] = now + timedelta(seconds=backoff_seconds(settings, attempts))
    return values


async def send_due(
    db: Database,
    settings: Settings,
    channels: Mapping[DeliveryChannel, Channel],
    worker_id: str | None = None,
) -> int:
    """Send one batch of due deliveries of the given channels; returns how many
    attempts were recorded."""
    if not channels:
        return 0
    worker_id = worker_id or new_worker_id()
    claimed = await _claim_batch(
        db, DELIVERIES, worker_id, settings, where=D.channel.in_(list(channels))
    )
    if not claimed:
        return 0
    async with db.read() as session:
        ids = {d.outbox_event_id for d in claimed}
        events = {
            e.id: e
            for e in (await session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(ids))))
        }
    done = 0
    for delivery in claimed:
        holder = Holder(worker_id, delivery.fencing_token)
        outcome = await _attempt(
            channels[delivery.channel], db, settings, delivery, events[delivery.outbox_event_id]
        )
        async with db.transaction() as session:
            if not await DELIVERIES.hold(session, delivery.id, holder):
                logger.warning("delivery %s was taken over while it was sent", delivery.id)
                continue
            # The retry time from the database's clock, read here (utc_after's
            # seconds are not part of SQLAlchemy's statement cache key: varying
            # backoffs would reuse the first one compiled).
            now = (await session.execute(select(utcnow()))).scalar_one()
            await DELIVERIES.release(
                session, delivery.id, holder, **_recorded(settings, delivery, outcome, now)
            )
        done += 1
    return done


# --- the loop ---------------------------------------------------------------------


async def run_once(
    db: Database,
    settings: Settings,
    channels: Mapping[DeliveryChannel, Channel],
    periodic: Sequence[Periodic] = (),
    *,
    broker: Broker | None = None,
    worker_id: str | None = None,
) -> int:
    """One pass: fan out a batch, send a batch, run the periodic work. Returns
    the work done (events processed + attempts recorded + periodic counts).
    ``broker`` announces new in-app notifications (the app's, in ``serve``)."""
    worker_id = worker_id or new_worker_id()
    work = await fan_out(db, settings, broker, worker_id)
    work += await send_due(db, settings, channels, worker_id)
    for job in periodic:
        try:
            work += await job(db, settings)
        except Exception:
            logger.exception("periodic delivery work %s failed", getattr(job, "__name__", job))
    return work


async def run_forever(
    db: Database,
    settings: Settings,
    channels: Mapping[DeliveryChannel, Channel],
    periodic: Sequence[Periodic] = (),
    *,
    broker: Broker | None = None,
) -> None:
    """``run_once`` until cancelled: again at once while a pass found work, else
    after ``EXPGRAPH_DELIVERY_POLL_SECONDS``. Errors (the database away) are
    logged and retried after the poll interval."""
    worker_id = new_worker_id()
    while True:
        try:
            work = await run_once(
                db, settings, channels, periodic, broker=broker, worker_id=worker_id
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("delivery pass failed")
            work = 0
        if work == 0:
            await asyncio.sleep(settings.delivery_poll_seconds)


def start(db: Database, settings: Settings, broker: Broker | None) -> asyncio.Task[None]:
    """``run_forever`` as a background task with the registered channels and
    periodic work (``registry.py``): what ``expgraph serve`` runs."""
    from expgraph.domains.notifications import registry

    return asyncio.create_task(
        run_forever(db, settings, registry.channels(), registry.periodic(), broker=broker),
        name="notifications-deliverer",
    )


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel a ``run_forever`` task and wait for it."""
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


__all__ = [
    "DELIVERIES",
    "NOTIFICATIONS_CHANNEL",
    "backoff_seconds",
    "fan_out",
    "run_forever",
    "run_once",
    "send_due",
    "start",
    "stop",
]
