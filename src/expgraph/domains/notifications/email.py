"""The e-mail channel: sends over SMTP with aiosmtplib and logs every attempt
as an ``email_logs`` row.

``EMAIL.send`` is the deliverer's entry point for an IMMEDIATE e-mail (the
``Channel`` contract in channels.py): it renders the event's template
(templates.py), sends it to the user's address (``users.email``) and records
the attempt (provider "smtp", the Message-ID header it set, SENT or FAILED with
the error, ``retry_count`` = attempt - 1). Digests (digests.py) send through
``send_email`` too.

Which failures are worth another attempt (``Outcome.retry``):

- SMTP 4xx answers (a transient refusal: greylisting, a full mailbox, a busy
  server), connection errors, timeouts and disconnections: retried;
- SMTP 5xx answers to the message or its recipient (a permanent refusal by
  RFC 5321: no such mailbox, message refused): not retried, the same message
  would be refused again;
- authentication failures and a server lacking STARTTLS: retried, since they
  are the server's configuration, not the message's, and are fixed by an
  operator while the retries last.

The SMTP password (``EXPGRAPH_SMTP_PASSWORD``) goes to the SMTP server only: it
is never logged, and every stored error text has it masked in case a server
echoes it back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

import aiosmtplib
from sqlalchemy import insert, select

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import OutboxEvent
from expgraph.db.types import utcnow
from expgraph.domains.accounts.models import User
from expgraph.domains.notifications.channels import Outcome
from expgraph.domains.notifications.models import (
    DeliveryChannel,
    EmailLog,
    EmailStatus,
    NotificationDelivery,
)
from expgraph.domains.notifications.templates import Rendered, render_event

logger = logging.getLogger(__name__)

PROVIDER = "smtp"
ERROR_MAX_CHARS = 2_000


def build_message(settings: Settings, recipient: str, rendered: Rendered) -> EmailMessage:
    """A multipart/alternative message (plain text, then HTML) with its own Message-ID."""
    _, sender_address = parseaddr(settings.smtp_sender)
    domain = sender_address.rpartition("@")[2] or "localhost"
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = recipient
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


async def _smtp_send(settings: Settings, message: EmailMessage) -> None:
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username or None,
        password=password if settings.smtp_username else None,
        use_tls=settings.smtp_tls == "tls",
        start_tls=settings.smtp_tls == "starttls",
        timeout=settings.smtp_timeout_seconds,
    )


def _is_retryable(exc: BaseException) -> bool:
    """Whether another attempt may succeed (see the module's docstring)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return any(refused.code < 500 for refused in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError | aiosmtplib.SMTPNotSupported):
        return True
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return not 500 <= exc.code < 600
    return True


def error_text(settings: Settings, exc: BaseException) -> str:
    """What is stored of a failure: its type and message, the SMTP password masked."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if settings.smtp_password is not None:
        secret = settings.smtp_password.get_secret_value()
        if secret:
            text = text.replace(secret, "***")
    return text[:ERROR_MAX_CHARS]


async def send_email(
    db: Database,
    settings: Settings,
    *,
    user_id: int | None,
    recipient: str,
    rendered: Rendered,
    event_type: str,
    event_data: Mapping[str, Any] | None,
    attempt: int,
    delivery_id: int | None = None,
    digest_id: int | None = None,
) -> Outcome:
    """Send one e-mail (no transaction is open meanwhile) and log the attempt."""
    message = build_message(settings, recipient, rendered)
    try:
        await _smtp_send(settings, message)
        outcome = Outcome(sent=True)
    except Exception as exc:  # every failure is an attempt to log and maybe retry
        outcome = Outcome(sent=False, error=error_text(settings, exc), retry=_is_retryable(exc))
    values: dict[str, Any] = {
        "user_id": user_id,
        "recipient_email": recipient,
        "event_type": event_type,
        "subject": rendered.subject[:500],
        "template_name": rendered.template_name,
        "event_data": dict(event_data) if event_data is not None else None,
        "provider": PROVIDER,
        "message_id": str(message["Message-ID"]),
        "status": EmailStatus.SENT if outcome.sent else EmailStatus.FAILED,
        "error_message": outcome.error,
        "retry_count": max(attempt - 1, 0),
        "delivery_id": delivery_id,
        "digest_id": digest_id,
    }
    if outcome.sent:
        values["sent_at"] = utcnow()
    try:
        async with db.transaction() as session:
            await session.execute(insert(EmailLog).values(values))
    except Exception:
        if not outcome.sent:
            raise
        # The e-mail left: failing the attempt now would send it again.
        logger.exception(
            "e-mail %s sent but its email_logs row was not written", values["message_id"]
        )
    return outcome


async def recipient_of(db: Database, user_id: int | None) -> str | None:
    """The user's e-mail address (None without a user or address)."""
    if user_id is None:
        return None
    async with db.read() as session:
        address = await session.scalar(select(User.email).where(User.id == user_id))
    return address or None


class EmailChannel:
    """Immediate e-mails: the deliverer's ``Channel`` for ``DeliveryChannel.EMAIL``."""

    channel = DeliveryChannel.EMAIL

    async def send(
        self,
        db: Database,
        settings: Settings,
        delivery: NotificationDelivery,
        event: OutboxEvent,
        attempt: int,
    ) -> Outcome:
        user_id = delivery.user_id if delivery.user_id is not None else event.user_id
        recipient = await recipient_of(db, user_id)
        if recipient is None:
            return Outcome(sent=False, error="the user has no e-mail address", retry=False)
        return await send_email(
            db,
            settings,
            user_id=user_id,
            recipient=recipient,
            rendered=render_event(event.event_type, event.payload),
            event_type=event.event_type,
            event_data=event.payload,
            attempt=attempt,
            delivery_id=delivery.id,
        )


EMAIL = EmailChannel()
"""The e-mail channel (registry.py lists it for the deliverer)."""
