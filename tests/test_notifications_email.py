"""E-mail (issue 17): immediate e-mails through the channel the deliverer calls,
digests (one per user and period, never twice), retries and the SMTP password,
against a real SMTP server on loopback (aiosmtpd) whose received messages the
tests read, on both databases."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr
from sqlalchemy import insert, select, update

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, OutboxEvent
from expgraph.domains.accounts.models import User
from expgraph.domains.notifications.digests import _attach, period_of, send_due_digests
from expgraph.domains.notifications.email import EMAIL
from expgraph.domains.notifications.models import (
    DeliveryChannel,
    DeliveryStatus,
    EmailDigest,
    EmailDigestQueue,
    EmailFrequency,
    EmailLog,
    EmailStatus,
    NotificationDelivery,
    NotificationPreference,
)

USERNAME = "mailer"
PASSWORD = "pw-Zq81!smtp-secret"
SENDER = "expgraph <notify@expgraph.test>"


class Inbox:
    """aiosmtpd handler: keeps every message, or answers ``reply`` instead."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply is not None:
            return self.reply
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = _free_port()
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=_authenticate,
            auth_require_tls=False,
        )
        self.running = False

    def start(self) -> None:
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_tls": "none",
            "smtp_username": USERNAME,
            "smtp_password": SecretStr(PASSWORD),
            "smtp_sender": SENDER,
            # Generous: a loaded CI machine once took over 5 s for one exchange (a
            # digest then counted as a failed attempt); no test waits on a timeout.
            "smtp_timeout_seconds": 30,
            "delivery_backoff_base_seconds": 60,
        }
    )


@pytest.fixture
async def mail_db(mail_settings: Settings) -> AsyncIterator[Database]:
    database = Database(mail_settings)
    yield database
    await database.dispose()


async def _user(db: Database, name: str) -> int:
    async with db.transaction() as session:
        user_id = await session.scalar(
            insert(User).values(username=name, email=f"{name}@example.test").returning(User.id)
        )
    assert user_id is not None
    return user_id


async def _immediate(
    db: Database, user_id: int, event_type: EventType, payload: dict[str, Any]
) -> tuple[NotificationDelivery, OutboxEvent]:
    """An outbox event and the e-mail delivery the deliverer would make of it."""
    async with db.transaction() as session:
        event = await session.scalar(
            insert(OutboxEvent)
            .values(event_type=event_type.value, payload=payload, user_id=user_id)
            .returning(OutboxEvent)
        )
        assert event is not None
        delivery = await session.scalar(
            insert(NotificationDelivery)
            .values(outbox_event_id=event.id, channel=DeliveryChannel.EMAIL, user_id=user_id)
            .returning(NotificationDelivery)
        )
        assert delivery is not None
    return delivery, event


async def _logs(db: Database) -> list[EmailLog]:
    async with db.read() as session:
        return list((await session.scalars(select(EmailLog).order_by(EmailLog.id))).all())


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    page = message.get_body(preferencelist=("html",))
    assert text is not None and page is not None
    return str(text.get_content()), str(page.get_content())


# --- immediate e-mails ------------------------------------------------------------


async def test_immediate_email_arrives_with_both_parts_and_is_logged(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer
) -> None:
    user_id = await _user(mail_db, "ada")
    payload = {"name": "A&B <tuned>", "experiment_id": "42"}
    delivery, event = await _immediate(mail_db, user_id, EventType.EXPERIMENT_COMPLETED, payload)

    outcome = await EMAIL.send(mail_db, mail_settings, delivery, event, 1)

    assert outcome.sent and outcome.error is None
    assert EMAIL.channel is DeliveryChannel.EMAIL
    [message] = smtp.inbox.messages
    assert message["Subject"] == "Experiment A&B <tuned> completed"
    assert message["From"] == SENDER
    assert message["To"] == "ada@example.test"
    text, page = _parts(message)
    assert "Experiment A&B <tuned> (id 42) has completed." in text
    assert "Experiment A&amp;B &lt;tuned&gt; (id 42) has completed." in page
    assert "<tuned>" not in page  # every payload value is escaped in HTML

    [log] = await _logs(mail_db)
    assert log.status is EmailStatus.SENT
    assert log.provider == "smtp"
    assert log.message_id == message["Message-ID"]
    assert str(log.message_id).endswith("@expgraph.test>")
    assert (log.user_id, log.recipient_email) == (user_id, "ada@example.test")
    assert (log.event_type, log.subject) == ("experiment_completed", message["Subject"])
    assert log.event_data == payload
    assert (log.retry_count, log.delivery_id, log.error_message) == (0, delivery.id, None)
    assert log.sent_at is not None


async def test_template_fallbacks_for_missing_payload_keys(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer
) -> None:
    user_id = await _user(mail_db, "bo")
    delivery, event = await _immediate(mail_db, user_id, EventType.EXECUTION_FAILED, {})

    assert (await EMAIL.send(mail_db, mail_settings, delivery, event, 1)).sent

    [message] = smtp.inbox.messages
    assert message["Subject"] == "Execution of (unnamed) failed"
    text, _ = _parts(message)
    assert "runs: no error message was given." in text


@pytest.mark.parametrize(
    ("reply", "retry"),
    [("451 4.3.0 mailbox busy, try later", True), ("550 5.1.1 no such mailbox", False)],
)
async def test_refused_email_is_logged_failed(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer, reply: str, retry: bool
) -> None:
    """4xx: transient, the deliverer tries again; 5xx: permanent, it does not."""
    user_id = await _user(mail_db, "cy")
    delivery, event = await _immediate(mail_db, user_id, EventType.EXPERIMENT_FAILED, {})
    smtp.inbox.reply = reply

    outcome = await EMAIL.send(mail_db, mail_settings, delivery, event, 3)

    assert (outcome.sent, outcome.retry) == (False, retry)
    assert outcome.error is not None and reply.split()[0] in outcome.error
    [log] = await _logs(mail_db)
    assert log.status is EmailStatus.FAILED
    assert log.error_message == outcome.error
    assert (log.retry_count, log.sent_at, log.delivery_id) == (2, None, delivery.id)
    assert log.message_id  # the Message-ID the attempt carried
    assert smtp.inbox.messages == []


async def test_unreachable_server_is_retryable(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer
) -> None:
    user_id = await _user(mail_db, "di")
    delivery, event = await _immediate(mail_db, user_id, EventType.EXPERIMENT_FAILED, {})
    smtp.stop()

    outcome = await EMAIL.send(mail_db, mail_settings, delivery, event, 1)

    assert (outcome.sent, outcome.retry) == (False, True)
    [log] = await _logs(mail_db)
    assert log.status is EmailStatus.FAILED and log.error_message


async def test_smtp_password_is_never_stored_or_served(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer
) -> None:
    """Not in email_logs (even when the server echoes it in its answer, or the
    login fails), not in the settings' repr, not in the GraphQL schema."""
    user_id = await _user(mail_db, "ed")
    delivery, event = await _immediate(mail_db, user_id, EventType.EXPERIMENT_FAILED, {})
    smtp.inbox.reply = f"451 rejected for {PASSWORD}"
    echoed = await EMAIL.send(mail_db, mail_settings, delivery, event, 1)
    smtp.inbox.reply = None
    wrong = mail_settings.model_copy(update={"smtp_password": SecretStr("not-" + PASSWORD)})
    refused = await EMAIL.send(mail_db, wrong, delivery, event, 2)
    sent = await EMAIL.send(mail_db, mail_settings, delivery, event, 3)

    assert (echoed.sent, refused.sent, sent.sent) == (False, False, True)
    assert refused.retry  # a login failure is the server's configuration: retried
    assert echoed.error is not None and "***" in echoed.error
    logs = await _logs(mail_db)
    assert [log.status for log in logs] == [
        EmailStatus.FAILED,
        EmailStatus.FAILED,
        EmailStatus.SENT,
    ]
    for log in logs:
        stored = " ".join(str(getattr(log, column.key)) for column in EmailLog.__table__.columns)
        assert PASSWORD not in stored
    assert PASSWORD not in repr(mail_settings) and PASSWORD not in str(mail_settings.model_dump())
    sdl = (Path(__file__).parents[1] / "schema.graphql").read_text()
    assert "smtp" not in sdl.lower() and PASSWORD not in sdl


# --- digests ---------------------------------------------------------------------


def _at(day: int, hour: int = 12) -> datetime:
    """A time in March 2025 (the 3rd and the 10th are Mondays)."""
    return datetime(2025, 3, day, hour, tzinfo=UTC)


async def _prefer(
    db: Database, user_id: int, event_type: EventType, frequency: EmailFrequency
) -> None:
    async with db.transaction() as session:
        await session.execute(
            insert(NotificationPreference).values(
                user_id=user_id, event_type=event_type.value, email_frequency=frequency
            )
        )


async def _queue(
    db: Database, user_id: int, event_type: EventType, at: datetime, **data: Any
) -> int:
    async with db.transaction() as session:
        row_id = await session.scalar(
            insert(EmailDigestQueue)
            .values(user_id=user_id, event_type=event_type.value, event_data=data, scheduled_for=at)
            .returning(EmailDigestQueue.id)
        )
    assert row_id is not None
    return row_id


async def _digest_scenario(db: Database) -> tuple[int, int]:
    """Two users, DAILY and WEEKLY preferences, events over two weeks."""
    ada, bo = await _user(db, "ada"), await _user(db, "bo")
    done, failed = EventType.EXPERIMENT_COMPLETED, EventType.EXECUTION_FAILED
    await _prefer(db, ada, done, EmailFrequency.DAILY)
    await _prefer(db, ada, failed, EmailFrequency.WEEKLY)
    await _prefer(db, bo, done, EmailFrequency.WEEKLY)
    await _prefer(db, bo, EventType.DATASET_JOB_FAILED, EmailFrequency.NEVER)
    # ada, daily: Mar 3 (two events), Mar 4 (one)
    await _queue(db, ada, done, _at(3, 9), name="alpha")
    await _queue(db, ada, done, _at(3, 23), name="beta")
    await _queue(db, ada, done, _at(4, 1), name="gamma")
    # ada, weekly: Tuesday and Sunday of the week of Mar 3
    await _queue(db, ada, failed, _at(4), name="delta", error="OOM")
    await _queue(db, ada, failed, _at(9, 23), name="epsilon", error="NaN loss")
    # bo, weekly: the weeks of Mar 3 and Mar 10; NEVER now for dataset jobs
    await _queue(db, bo, done, _at(5), name="zeta")
    await _queue(db, bo, done, _at(10, 0), name="eta")
    await _queue(db, bo, EventType.DATASET_JOB_FAILED, _at(5), job_id="7")
    return ada, bo


def _by_subject(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {str(message["Subject"]): message for message in messages}


async def test_digests_one_per_user_and_period_with_all_their_events(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer
) -> None:
    ada, bo = await _digest_scenario(mail_db)

    assert await send_due_digests(mail_db, mail_settings) == 5

    received = _by_subject(smtp.inbox.messages)
    assert len(smtp.inbox.messages) == 5
    assert sorted((str(m["To"]), str(m["Subject"])) for m in smtp.inbox.messages) == [
        ("ada@example.test", "Daily digest for 2025-03-03: 2 notifications"),
        ("ada@example.test", "Daily digest for 2025-03-04: 1 notification"),
        ("ada@example.test", "Weekly digest for 2025-03-03 to 2025-03-09: 2 notifications"),
        ("bo@example.test", "Weekly digest for 2025-03-03 to 2025-03-09: 1 notification"),
        ("bo@example.test", "Weekly digest for 2025-03-10 to 2025-03-16: 1 notification"),
    ]
    text, page = _parts(received["Daily digest for 2025-03-03: 2 notifications"])
    assert "Experiment completed (2)" in text
    assert text.index("alpha") < text.index("beta") and "gamma" not in text
    assert "<h2>Experiment completed (2)</h2>" in page
    weekly = [
        m for m in smtp.inbox.messages if m["To"] == "ada@example.test" and "Weekly" in m["Subject"]
    ]
    text, _ = _parts(weekly[0])
    assert "Execution failed (2)" in text and "OOM" in text and "NaN loss" in text
    assert all(str(m["From"]) == SENDER for m in smtp.inbox.messages)

    async with mail_db.read() as session:
        digests = (await session.scalars(select(EmailDigest))).all()
        queue = (await session.scalars(select(EmailDigestQueue))).all()
        logs = (await session.scalars(select(EmailLog))).all()
    assert len(digests) == 5
    assert {(d.status, d.attempts) for d in digests} == {(DeliveryStatus.SENT, 1)}
    assert all(d.sent_at is not None and d.claimed_at is None for d in digests)
    assert {(d.user_id, d.frequency) for d in digests} == {
        (ada, EmailFrequency.DAILY),
        (ada, EmailFrequency.WEEKLY),
        (bo, EmailFrequency.WEEKLY),
    }
    assert all(row.included_in_digest for row in queue)
    dropped = [row for row in queue if row.digest_id is None]
    assert [row.event_type for row in dropped] == ["dataset_job_failed"]  # NEVER now
    assert sorted(log.digest_id or 0 for log in logs) == sorted(d.id for d in digests)
    assert {log.status for log in logs} == {EmailStatus.SENT}

    # Nothing left: a second run sends nothing.
    assert await send_due_digests(mail_db, mail_settings) == 0
    assert len(smtp.inbox.messages) == 5


async def test_open_period_waits_and_late_events_go_to_a_later_digest(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer
) -> None:
    ada = await _user(mail_db, "ada")
    done = EventType.EXPERIMENT_COMPLETED
    await _prefer(mail_db, ada, done, EmailFrequency.DAILY)
    await _queue(mail_db, ada, done, _at(3), name="alpha")
    today = await _queue(mail_db, ada, done, datetime.now(UTC), name="today")
    assert await send_due_digests(mail_db, mail_settings) == 1
    # An event of Mar 3 queued after that digest left: in the next day's digest;
    # so is one left attached to it unsent (its sender lost its hold meanwhile).
    await _queue(mail_db, ada, done, _at(3, 13), name="late")
    orphan = await _queue(mail_db, ada, done, _at(3, 14), name="orphan")
    async with mail_db.transaction() as session:
        sent_id = await session.scalar(select(EmailDigest.id))
        await session.execute(
            update(EmailDigestQueue).where(EmailDigestQueue.id == orphan).values(digest_id=sent_id)
        )

    assert await send_due_digests(mail_db, mail_settings) == 1

    subjects = [str(m["Subject"]) for m in smtp.inbox.messages]
    assert subjects == [
        "Daily digest for 2025-03-03: 1 notification",
        "Daily digest for 2025-03-04: 2 notifications",
    ]
    text, _ = _parts(smtp.inbox.messages[1])
    assert "late" in text and "orphan" in text
    async with mail_db.read() as session:
        pending = await session.get(EmailDigestQueue, today)
    assert pending is not None and not pending.included_in_digest  # today is not over


async def test_rows_another_deliverer_sent_meanwhile_make_no_later_digest(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer
) -> None:
    """The race two deliverers can run into: the second grouped a row before the
    first sent it in its digest; attaching it afterwards finds the digest closed
    and the row no longer waiting, and makes no (empty) next day's digest."""
    ada = await _user(mail_db, "ada")
    done = EventType.EXPERIMENT_COMPLETED
    await _prefer(mail_db, ada, done, EmailFrequency.DAILY)
    row = await _queue(mail_db, ada, done, _at(3), name="alpha")
    assert await send_due_digests(mail_db, mail_settings) == 1
    start, end = period_of(EmailFrequency.DAILY, _at(3))

    await _attach(mail_db, mail_settings, ada, EmailFrequency.DAILY, start, end, [row])

    async with mail_db.read() as session:
        digests = (await session.scalars(select(EmailDigest))).all()
        queued = await session.get(EmailDigestQueue, row)
    assert [(d.period_start.replace(tzinfo=None), d.status) for d in digests] == [
        (start.replace(tzinfo=None), DeliveryStatus.SENT)
    ]
    assert queued is not None and queued.included_in_digest
    assert await send_due_digests(mail_db, mail_settings) == 0
    assert len(smtp.inbox.messages) == 1


async def test_concurrent_digest_senders_send_each_digest_once(
    mail_settings: Settings, smtp: SmtpServer
) -> None:
    first, second = Database(mail_settings), Database(mail_settings)
    try:
        await _digest_scenario(first)
        counts = await asyncio.gather(
            send_due_digests(first, mail_settings), send_due_digests(second, mail_settings)
        )
        assert sum(counts) == 5
        assert len(smtp.inbox.messages) == 5
        assert len({(str(m["To"]), str(m["Subject"])) for m in smtp.inbox.messages}) == 5
        async with first.read() as session:
            digests = (await session.scalars(select(EmailDigest))).all()
        assert len(digests) == 5 and {d.status for d in digests} == {DeliveryStatus.SENT}
    finally:
        await first.dispose()
        await second.dispose()


async def test_failed_digest_is_retried_with_backoff_then_given_up(
    mail_db: Database, mail_settings: Settings, smtp: SmtpServer
) -> None:
    ada = await _user(mail_db, "ada")
    await _prefer(mail_db, ada, EventType.EXPERIMENT_COMPLETED, EmailFrequency.DAILY)
    await _queue(mail_db, ada, EventType.EXPERIMENT_COMPLETED, _at(3), name="alpha")
    smtp.inbox.reply = "451 4.7.1 greylisted"

    assert await send_due_digests(mail_db, mail_settings) == 0
    async with mail_db.read() as session:
        digest = (await session.scalars(select(EmailDigest))).one()
        now = await session.scalar(select(EmailDigest.updated_at))
    assert (digest.status, digest.attempts, digest.claimed_at) == (DeliveryStatus.PENDING, 1, None)
    assert digest.next_attempt_at is not None and now is not None
    assert 55 <= (digest.next_attempt_at - now).total_seconds() <= 65  # base * 2^0
    # Not due yet: nothing is attempted.
    assert await send_due_digests(mail_db, mail_settings) == 0
    assert len(await _logs(mail_db)) == 1

    # Due again; the last allowed attempt fails too: FAILED, no further attempt.
    async with mail_db.transaction() as session:
        await session.execute(update(EmailDigest).values(next_attempt_at=_at(4)))
    last = mail_settings.model_copy(update={"delivery_max_attempts": 2})
    assert await send_due_digests(mail_db, last) == 0
    async with mail_db.read() as session:
        digest = (await session.scalars(select(EmailDigest))).one()
        queued = (await session.scalars(select(EmailDigestQueue))).one()
    assert (digest.status, digest.attempts) == (DeliveryStatus.FAILED, 2)
    assert not queued.included_in_digest
    logs = await _logs(mail_db)
    assert [(log.status, log.retry_count, log.digest_id) for log in logs] == [
        (EmailStatus.FAILED, 0, digest.id),
        (EmailStatus.FAILED, 1, digest.id),
    ]
    assert smtp.inbox.messages == []
