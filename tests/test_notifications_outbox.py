"""The outbox and the deliverer (domains/notifications/deliver.py): events are
delivered only when their transaction commits, fanned out per the recipient's
preferences, sent once even with concurrent deliverers, taken over from a dead
one, retried with backoff and given up at the limit."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import OUTBOX, EventType, OutboxEvent, emit
from expgraph.db.types import utcnow
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service as accounts_service
from expgraph.domains.notifications import deliver
from expgraph.domains.notifications.channels import Outcome
from expgraph.domains.notifications.models import (
    DeliveryChannel,
    DeliveryStatus,
    EmailDigestQueue,
    EmailFrequency,
    Notification,
    NotificationDelivery,
    WebhookConfiguration,
)
from expgraph.domains.notifications.preferences import set_preference
from tests.helpers import create_experiment
from tests.test_cli import expgraph


@dataclass
class Recorder:
    """A real channel that records what it sends (and fails when told to)."""

    channel: DeliveryChannel
    outcome: Outcome = field(default_factory=lambda: Outcome(sent=True))
    sent: list[tuple[int, int]] = field(default_factory=list)  # (delivery id, attempt)

    async def send(
        self,
        db: Database,
        settings: Settings,
        delivery: NotificationDelivery,
        event: OutboxEvent,
        attempt: int,
    ) -> Outcome:
        await asyncio.sleep(0)  # let a concurrent deliverer run in between
        self.sent.append((delivery.id, attempt))
        return self.outcome


def _channels(*recorders: Recorder) -> dict[DeliveryChannel, Any]:
    return {r.channel: r for r in recorders}


@pytest.fixture
def quick(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"delivery_backoff_base_seconds": 0, "delivery_max_attempts": 3}
    )


async def _user(db: Database, name: str = "ada") -> int:
    async with db.transaction() as session:
        user = await accounts_service.create_user(
            session,
            username=name,
            email=f"{name}@example.com",
            role=accounts.UserRole.MEMBER,
            password=None,
        )
        return int(user.id)


async def _webhook(db: Database, user_id: int, url: str, events: list[str]) -> int:
    async with db.transaction() as session:
        config = WebhookConfiguration(
            user_id=user_id,
            webhook_url=url,
            name=url,
            enabled_events=events,
            secret_encrypted="x",
        )
        session.add(config)
        await session.flush()
        return int(config.id)


async def _emit(db: Database, user_id: int | None, n: int = 1, **payload: Any) -> None:
    async with db.transaction() as session:
        for i in range(n):
            await emit(
                session,
                EventType.EXPERIMENT_COMPLETED,
                {"experiment_id": i, "name": f"exp-{i}", "old_status": "running", **payload},
                user_id=user_id,
            )


async def _count(db: Database, model: Any, *where: Any) -> int:
    async with db.read() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


async def _deliveries(db: Database) -> list[NotificationDelivery]:
    async with db.read() as session:
        return list(
            (
                await session.scalars(
                    select(NotificationDelivery).order_by(NotificationDelivery.id)
                )
            ).all()
        )


async def test_an_event_of_a_rolled_back_transaction_is_never_delivered(db, settings):
    user = await _user(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await emit(session, EventType.EXPERIMENT_FAILED, {"name": "x"}, user_id=user)
            raise RuntimeError("the change fails")
    email = Recorder(DeliveryChannel.EMAIL)
    assert await deliver.run_once(db, settings, _channels(email)) == 0
    assert await _count(db, OutboxEvent) == 0
    assert await _count(db, Notification) == 0
    assert email.sent == []


async def test_an_experiment_completing_emits_exactly_one_event(db, gql):
    experiment = await create_experiment(gql, "finishing")
    mutation = """mutation($id: ID!, $s: ExperimentStatus!) {
      updateExperiment(input: {id: $id, status: $s}) { experiment { status } } }"""
    await gql.data(mutation, {"id": experiment["id"], "s": "RUNNING"})
    assert await _count(db, OutboxEvent) == 0
    await gql.data(mutation, {"id": experiment["id"], "s": "COMPLETED"})
    await gql.data(mutation, {"id": experiment["id"], "s": "COMPLETED"})  # no change: no event
    async with db.read() as session:
        events = (await session.scalars(select(OutboxEvent))).all()
    assert [(e.event_type, e.payload["name"], e.payload["old_status"]) for e in events] == [
        ("experiment_completed", "finishing", "running")
    ]


async def test_fan_out_follows_the_preferences(db, settings):
    user = await _user(db)
    all_events = await _webhook(db, user, "https://a.example/hook", [])
    await _webhook(db, user, "https://b.example/hook", ["EXPERIMENT_FAILED"])
    matching = await _webhook(db, user, "https://c.example/hook", ["experiment_completed"])
    email = Recorder(DeliveryChannel.EMAIL)
    hooks = Recorder(DeliveryChannel.WEBHOOK)

    # Defaults: in-app, one immediate e-mail, the two webhooks that take the event.
    await _emit(db, user)
    assert await deliver.run_once(db, settings, _channels(email, hooks)) == 1 + 3
    assert await _count(db, Notification, Notification.user_id == user) == 1
    made = await _deliveries(db)
    assert sorted((d.channel.value, d.webhook_config_id) for d in made) == sorted(
        [("email", None), ("webhook", all_events), ("webhook", matching)]
    )
    assert all(d.status is DeliveryStatus.SENT and d.attempts == 1 for d in made)

    # In-app off, e-mail DAILY, webhooks off: a digest queue row only.
    async with db.transaction() as session:
        await set_preference(
            session,
            user,
            EventType.EXPERIMENT_COMPLETED,
            {
                "in_app_enabled": False,
                "email_frequency": EmailFrequency.DAILY,
                "webhook_enabled": False,
            },
        )
    await _emit(db, user, name="daily")
    assert await deliver.run_once(db, settings, _channels(email, hooks)) == 1
    assert await _count(db, Notification) == 1
    assert len(await _deliveries(db)) == 3
    async with db.read() as session:
        queued = (await session.scalars(select(EmailDigestQueue))).all()
        event = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id.desc()))).first()
    assert [(q.user_id, q.event_type, q.event_data["name"]) for q in queued] == [
        (user, "experiment_completed", "daily")
    ]
    assert event is not None and queued[0].scheduled_for == event.created_at

    # E-mail off: nothing at all; an event without a user reaches nobody.
    async with db.transaction() as session:
        await set_preference(
            session, user, EventType.EXPERIMENT_COMPLETED, {"email_enabled": False}
        )
    await _emit(db, user)
    await _emit(db, None)
    assert await deliver.run_once(db, settings, _channels(email, hooks)) == 2
    assert await _count(db, EmailDigestQueue) == 1 and len(await _deliveries(db)) == 3
    assert await _count(db, OutboxEvent, OutboxEvent.processed_at.is_(None)) == 0


async def _race(databases: list[Database], settings: Settings, channels: Any) -> None:
    """Deliverers running passes concurrently until there is nothing left."""
    while True:
        done = await asyncio.gather(
            *(deliver.run_once(d, settings, channels) for d in databases for _ in range(2))
        )
        if not any(done):
            return


async def test_concurrent_deliverers_fan_out_and_send_everything_once(db, settings, dialect):
    settings = settings.model_copy(update={"delivery_batch_size": 3})
    user = await _user(db)
    await _webhook(db, user, "https://a.example/hook", [])
    await _emit(db, user, n=12)
    email, hooks = Recorder(DeliveryChannel.EMAIL), Recorder(DeliveryChannel.WEBHOOK)
    databases = [db]
    if dialect == "postgresql":  # separate connection pools, as separate processes have
        databases.append(Database(settings))
    try:
        await _race(databases, settings, _channels(email, hooks))
    finally:
        for other in databases[1:]:
            await other.dispose()
    assert await _count(db, Notification) == 12
    made = await _deliveries(db)
    assert len(made) == 24 and all(d.status is DeliveryStatus.SENT for d in made)
    sent = [delivery for delivery, _ in email.sent + hooks.sent]
    assert sorted(sent) == sorted(d.id for d in made)  # each once


async def test_a_dead_deliverers_claims_are_taken_over(db, settings):
    user = await _user(db)
    await _emit(db, user, n=2)
    # A deliverer claims both events and dies before fanning them out.
    async with db.transaction() as session:
        for _ in range(2):
            assert await OUTBOX.claim_next(session, db.dialect, "dead", 300) is not None
    email = Recorder(DeliveryChannel.EMAIL)
    assert await deliver.run_once(db, settings, _channels(email)) == 0  # its hold is fresh
    async with db.transaction() as session:
        await session.execute(text("UPDATE outbox_events SET claimed_at = '2000-01-01 00:00:00'"))
    assert await deliver.fan_out(db, settings) == 2
    assert await _count(db, Notification) == 2

    # Same for deliveries claimed and never sent.
    async with db.transaction() as session:
        claimed = await deliver.DELIVERIES.claim_next(session, db.dialect, "dead", 300)
        assert claimed is not None
    assert await deliver.send_due(db, settings, _channels(email)) == 1  # the other one
    async with db.transaction() as session:
        await session.execute(
            text("UPDATE notification_deliveries SET claimed_at = '2000-01-01 00:00:00'")
        )
    assert await deliver.send_due(db, settings, _channels(email)) == 1
    assert sorted(d for d, _ in email.sent) == sorted(d.id for d in await _deliveries(db))
    assert all(d.status is DeliveryStatus.SENT for d in await _deliveries(db))


async def test_failures_are_retried_with_backoff_then_failed_at_the_limit(db, quick):
    user = await _user(db)
    await _emit(db, user)
    failing = Recorder(DeliveryChannel.EMAIL, Outcome(sent=False, error="mailbox full"))
    for _ in range(5):
        await deliver.run_once(db, quick, _channels(failing))
    [delivery] = await _deliveries(db)
    assert failing.sent == [(delivery.id, 1), (delivery.id, 2), (delivery.id, 3)]
    assert delivery.status is DeliveryStatus.FAILED
    assert (delivery.attempts, delivery.last_error) == (3, "mailbox full")

    # A backoff in the future holds the next attempt back.
    slow = quick.model_copy(update={"delivery_backoff_base_seconds": 3600})
    await _emit(db, user)
    await deliver.run_once(db, slow, _channels(failing))
    assert await deliver.run_once(db, slow, _channels(failing)) == 0
    later = (await _deliveries(db))[-1]
    assert later.status is DeliveryStatus.PENDING and later.attempts == 1
    assert later.next_attempt_at is not None
    async with db.read() as session:
        at, now = (
            await session.execute(
                select(NotificationDelivery.next_attempt_at, utcnow()).where(
                    NotificationDelivery.id == later.id
                )
            )
        ).one()
    seconds = (at - now).total_seconds()
    assert 1700 < seconds <= 3600  # half to all of the base, for the first retry

    # retry=False fails at once.
    refused = Recorder(DeliveryChannel.EMAIL, Outcome(sent=False, error="refused", retry=False))
    async with db.transaction() as session:
        await session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == later.id)
            .values(next_attempt_at=None)
        )
    await deliver.run_once(db, slow, _channels(refused))
    last = (await _deliveries(db))[-1]
    assert (last.status, last.attempts, last.last_error) == (DeliveryStatus.FAILED, 2, "refused")


async def test_a_channel_that_raises_counts_as_a_failed_attempt(db, quick):
    user = await _user(db)
    await _emit(db, user)

    class Broken(Recorder):
        async def send(self, *args: Any) -> Outcome:
            raise ConnectionError("no route")

    await deliver.run_once(db, quick, _channels(Broken(DeliveryChannel.EMAIL)))
    [delivery] = await _deliveries(db)
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.last_error == "ConnectionError: no route"


async def test_deliveries_of_a_missing_channel_wait(db, settings):
    user = await _user(db)
    await _webhook(db, user, "https://a.example/hook", [])
    await _emit(db, user)
    email = Recorder(DeliveryChannel.EMAIL)
    await deliver.run_once(db, settings, _channels(email))
    await deliver.run_once(db, settings, _channels(email))
    by_channel = {d.channel: d for d in await _deliveries(db)}
    assert by_channel[DeliveryChannel.EMAIL].status is DeliveryStatus.SENT
    webhook = by_channel[DeliveryChannel.WEBHOOK]
    assert (webhook.status, webhook.attempts, webhook.claimed_at) == (
        DeliveryStatus.PENDING,
        0,
        None,
    )


async def test_periodic_work_runs_with_each_pass(db, settings):
    calls: list[int] = []

    async def job(database: Database, given: Settings) -> int:
        calls.append(1)
        return 2

    assert await deliver.run_once(db, settings, {}, [job]) == 2
    assert calls == [1]


def test_deliver_command_help(tmp_path):
    result = expgraph("deliver", "--help", database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db")
    assert result.returncode == 0, result.stderr
    assert "Deliver notifications" in result.stdout and "--once" in result.stdout


async def test_an_expiring_api_key_is_announced_once(db, settings):
    from datetime import UTC, datetime, timedelta

    from expgraph.domains.notifications.events import api_keys_expiring

    user = await _user(db)
    soon = datetime.now(UTC) + timedelta(days=3)
    async with db.transaction() as session:
        for name, expires in (
            ("soon", soon),
            ("later", soon + timedelta(days=30)),
            ("never", None),
        ):
            session.add(
                accounts.ApiKey(
                    user_id=user, key_hash=name * 8, name=name, prefix=name, expires_at=expires
                )
            )
    assert await api_keys_expiring(db, settings) == 1
    assert await api_keys_expiring(db, settings) == 0  # once per key
    await deliver.run_once(db, settings, {})
    async with db.read() as session:
        [event] = (await session.scalars(select(OutboxEvent))).all()
        [notification] = (await session.scalars(select(Notification))).all()
    assert (event.event_type, event.user_id, event.payload["name"]) == (
        "api_key_expiring",
        user,
        "soon",
    )
    assert notification.title == "API key soon expires soon"


async def test_an_execution_emits_once_when_it_completes_or_fails(db, gql):
    from tests.test_execution import CLAIM, RECORD, RELEASE, runs_for, setup_evaluation

    async def events() -> list[tuple[str, str | None, int]]:
        async with db.read() as session:
            found = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
        return [(e.event_type, e.payload["error"], e.payload["completed_runs"]) for e in found]

    experiment_id, example_ids = await setup_evaluation(gql, examples=2, repetitions=1)
    token = (await gql.data(CLAIM, {"w": "w1", "e": experiment_id}))["claimExecution"]["claim"][
        "fencingToken"
    ]
    first = runs_for(example_ids[:1], 1)
    await gql.data(RECORD, {"e": experiment_id, "w": "w1", "t": token, "runs": first})
    await gql.data(RELEASE, {"e": experiment_id, "w": "w1", "t": token})
    assert await events() == []  # released with a run missing: not finished
    token = (await gql.data(CLAIM, {"w": "w2", "e": experiment_id}))["claimExecution"]["claim"][
        "fencingToken"
    ]
    rest = runs_for(example_ids[1:], 1)
    await gql.data(RECORD, {"e": experiment_id, "w": "w2", "t": token, "runs": rest})
    await gql.data(RELEASE, {"e": experiment_id, "w": "w2", "t": token})
    assert await events() == [("execution_completed", None, 2)]

    other_id, _ = await setup_evaluation(gql, "other", examples=1, repetitions=1)
    token = (await gql.data(CLAIM, {"w": "w3", "e": other_id}))["claimExecution"]["claim"][
        "fencingToken"
    ]
    await gql.data(RELEASE, {"e": other_id, "w": "w3", "t": token, "err": "model down"})
    assert (await events())[1:] == [("execution_failed", "model down", 0)]


async def test_a_sample_ratio_mismatch_is_announced_once(db, gql, settings):
    from expgraph.domains.abtest.models import Assignment, UnitType
    from expgraph.domains.abtest.service import sample_ratio_alerts
    from expgraph.graphql.relay import decode_id
    from tests.abtest_helpers import ab_test

    skewed = await ab_test(gql, "skewed")
    fair = await ab_test(gql, "fair")
    assert await sample_ratio_alerts(db, settings) == 0  # no units yet

    async def units(test: Any, counts: tuple[int, int]) -> None:
        async with db.transaction() as session:
            for variant, n in zip(test.variants, counts, strict=True):
                for i in range(n):
                    session.add(
                        Assignment(
                            experiment_id=decode_id(test.id)[1],
                            unit_type=UnitType.USER,
                            unit_id=f"{variant}-{i}-{n}",
                            variant_id=decode_id(variant)[1],
                        )
                    )

    await units(skewed, (90, 30))
    await units(fair, (60, 60))
    assert await sample_ratio_alerts(db, settings) == 1
    await units(skewed, (5, 1))
    assert await sample_ratio_alerts(db, settings) == 0  # once per experiment
    async with db.read() as session:
        [event] = (await session.scalars(select(OutboxEvent))).all()
    assert event.event_type == "abtest_sample_ratio_mismatch"
    assert event.payload["name"] == "skewed" and event.payload["observed"] == {"v0": 90, "v1": 30}
    assert event.payload["expected"] == {"v0": 0.5, "v1": 0.5} and event.payload["p_value"] < 0.001


async def test_an_event_whose_fan_out_always_fails_is_set_aside_at_the_limit(db, quick):
    """A malformed event (its payload is not an object) fails every fan-out: it is
    retried, then set aside after the limit with its error, and never blocks others."""
    user = await _user(db)
    async with db.transaction() as session:
        bad = OutboxEvent(
            event_type=EventType.EXPERIMENT_COMPLETED.value,
            payload=["not", "an", "object"],
            user_id=user,
        )
        session.add(bad)
        await session.flush()
        bad_id = int(bad.id)
    await _emit(db, user)
    email = Recorder(DeliveryChannel.EMAIL)
    for _ in range(quick.delivery_max_attempts + 2):
        await deliver.run_once(db, quick, _channels(email))
    assert len(email.sent) == 1  # the good event went out on the first pass
    async with db.read() as session:
        event = await session.get(OutboxEvent, bad_id)
    assert event is not None
    assert event.attempts == quick.delivery_max_attempts  # not claimed after the limit
    assert event.processed_at is not None and event.claimed_by is None
    assert event.last_error is not None and event.last_error.startswith("AttributeError")
    assert await _count(db, Notification, Notification.outbox_event_id == bad_id) == 0
