"""E-mail digests: the events of users with DAILY or WEEKLY e-mail preferences,
one e-mail per user, frequency and period.

The deliverer queues such an event as an ``email_digest_queue`` row whose
``scheduled_for`` is the event's time. ``send_due_digests`` (one of the
deliverer's periodic tasks) then:

1. groups the queue rows not yet in a digest by user, by the user's CURRENT
   e-mail frequency for the row's event type (a user who switched a type from
   DAILY to WEEKLY gets its queued events weekly; one who switched to IMMEDIATE,
   or has no preference any more, in the next daily digest; NEVER, or e-mail
   turned off for the type: the rows are dropped, marked included with no
   digest) and by the period containing ``scheduled_for``: the UTC day (DAILY)
   or the ISO week, Monday 00:00 UTC to the next Monday (WEEKLY);
2. for each group whose period has ended, creates the ``email_digests`` row
   (INSERT ... ON CONFLICT DO NOTHING on UNIQUE(user_id, frequency,
   period_start): one row per user and period whoever creates it) and attaches
   the rows to it, under the digest's row lock. A digest already sent, or being
   sent, takes no more rows: events that arrive late for it go to the same
   user's digest of the following period (as do rows a digest was sent
   without, should its sender have lost its hold meanwhile);
3. claims due digests (``DIGESTS``: the kernel's claims mechanism, SKIP LOCKED
   on PostgreSQL), sends each as one e-mail listing its events grouped by type
   (templates.py), outside any transaction, then, under its hold, marks it SENT
   and its rows included. A failed attempt is retried after
   ``EXPGRAPH_DELIVERY_BACKOFF_BASE_SECONDS`` * 2^(attempts - 1), up to
   ``EXPGRAPH_DELIVERY_MAX_ATTEMPTS`` attempts (then FAILED); a permanent refusal
   (SMTP 5xx, see email.py) or a user without an address fails it at once.

A digest is claimed by one deliverer at a time and leaves the claimable set
once SENT, so it is never sent twice, also with several deliverers running at
once. (A deliverer that dies between the SMTP server's acceptance and the SENT
mark leaves a hold that goes stale after ``EXPGRAPH_DELIVERY_STALE_SECONDS``;
the digest is then sent again: at-least-once for crashes at that instant.)
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from expgraph.config import Settings
from expgraph.db.claims import Claimable, Holder
from expgraph.db.dialect import insert_ignoring_conflicts
from expgraph.db.engine import Database
from expgraph.db.types import utc_after, utcnow
from expgraph.domains.notifications.email import recipient_of, send_email
from expgraph.domains.notifications.models import (
    DeliveryStatus,
    EmailDigest,
    EmailDigestQueue,
    EmailFrequency,
    NotificationPreference,
)
from expgraph.domains.notifications.templates import digest_items, render_digest

logger = logging.getLogger(__name__)

BATCH = 500
"""Queue rows grouped, and digests sent, at most per call."""

DIGESTS = Claimable(
    EmailDigest,
    holder="claimed_by",
    ready=lambda: and_(
        EmailDigest.status == DeliveryStatus.PENDING, EmailDigest.next_attempt_at <= utcnow()
    ),
    order_by=("next_attempt_at", "id"),
    noun="e-mail digest",
)
"""Digests due to be sent: PENDING, and their period has ended (or their retry
is due): ``next_attempt_at`` is the period's end when created, then the next
retry's time."""


def period_of(frequency: EmailFrequency, when: datetime) -> tuple[datetime, datetime]:
    """The period containing ``when``: [start, end) of its UTC day (DAILY) or of
    its ISO week, Monday 00:00 UTC (WEEKLY)."""
    day = when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if frequency is EmailFrequency.DAILY:
        return day, day + timedelta(days=1)
    if frequency is EmailFrequency.WEEKLY:
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    raise ValueError(f"no digest period for {frequency}")


def current_frequency(
    frequency: EmailFrequency | None, email_enabled: bool | None
) -> EmailFrequency | None:
    """The digest a queued event goes to by its user's preference now (None: dropped)."""
    if email_enabled is False or frequency is EmailFrequency.NEVER:
        return None
    if frequency is EmailFrequency.WEEKLY:
        return EmailFrequency.WEEKLY
    return EmailFrequency.DAILY  # DAILY, or IMMEDIATE / no preference: the soonest digest


def backoff_seconds(settings: Settings, attempts: int) -> int:
    """Seconds before the attempt after ``attempts`` failed ones."""
    return int(settings.delivery_backoff_base_seconds * 2 ** max(attempts - 1, 0))


async def send_due_digests(db: Database, settings: Settings) -> int:
    """Assemble the digests of ended periods, send the due ones; how many were sent."""
    await assemble_digests(db, settings)
    return await _send_claimed(db, settings)


def _waiting() -> ColumnElement[bool]:
    """Queue rows waiting for a digest: in none yet, or left attached to one that
    was sent without them (its sender lost its hold while another took it over)."""
    Q, D = EmailDigestQueue, EmailDigest
    sent = select(D.id).where(D.status == DeliveryStatus.SENT)
    return and_(Q.included_in_digest.is_(False), or_(Q.digest_id.is_(None), Q.digest_id.in_(sent)))


async def assemble_digests(db: Database, settings: Settings) -> None:
    """Steps 1 and 2 of the module's docstring."""
    Q, P = EmailDigestQueue, NotificationPreference
    async with db.read() as session:
        now = await session.scalar(select(utcnow()))
        rows = (
            await session.execute(
                select(Q.id, Q.user_id, Q.scheduled_for, P.email_frequency, P.email_enabled)
                .outerjoin(P, and_(P.user_id == Q.user_id, P.event_type == Q.event_type))
                .where(_waiting())
                .order_by(Q.id)
                .limit(BATCH)
            )
        ).all()
    assert now is not None
    groups: dict[tuple[int, EmailFrequency, datetime, datetime], list[int]] = defaultdict(list)
    dropped: list[int] = []
    for row in rows:
        frequency = current_frequency(row.email_frequency, row.email_enabled)
        if frequency is None:
            dropped.append(row.id)
            continue
        start, end = period_of(frequency, row.scheduled_for)
        if end <= now:
            groups[(row.user_id, frequency, start, end)].append(row.id)
    if dropped:
        async with db.transaction() as session:
            await session.execute(
                update(Q)
                .where(Q.id.in_(dropped), _waiting())
                .values(included_in_digest=True, digest_id=None)
            )
    for (user_id, frequency, start, end), ids in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1].value, item[0][2])
    ):
        await _attach(db, settings, user_id, frequency, start, end, ids)


async def _attach(
    db: Database,
    settings: Settings,
    user_id: int,
    frequency: EmailFrequency,
    start: datetime,
    end: datetime,
    ids: list[int],
) -> None:
    """Create (once) the digest of ``start``'s period and attach the rows ``ids``
    to it, or to a later period's digest when that one is sent or being sent."""
    Q, D = EmailDigestQueue, EmailDigest
    stale_seconds = settings.delivery_stale_seconds
    async with db.transaction() as session:
        while True:
            await session.execute(
                insert_ignoring_conflicts(
                    db.dialect,
                    D.__table__,  # type: ignore[arg-type]
                    {
                        "user_id": user_id,
                        "frequency": frequency,
                        "period_start": start,
                        "status": DeliveryStatus.PENDING,
                        "attempts": 0,
                        "next_attempt_at": end,
                    },
                    ["user_id", "frequency", "period_start"],
                )
            )
            digest = (
                await session.execute(
                    select(
                        D.id, D.status, D.claimed_at, DIGESTS.stale(stale_seconds).label("stale")
                    )
                    .where(D.user_id == user_id, D.frequency == frequency, D.period_start == start)
                    .with_for_update()
                )
            ).one()
            if digest.status is DeliveryStatus.PENDING and (
                digest.claimed_at is None or digest.stale
            ):
                break
            # Closed (sent, or being sent): a later period's digest, but only for rows
            # still waiting. Another deliverer may have grouped the same rows and sent
            # them meanwhile; then no later digest is made (it would stay empty).
            still_waiting = await session.scalar(
                select(Q.id).where(Q.id.in_(ids), _waiting()).limit(1)
            )
            if still_waiting is None:
                return
            start, end = end, period_of(frequency, end)[1]
        await session.execute(
            update(Q).where(Q.id.in_(ids), _waiting()).values(digest_id=digest.id)
        )


def _holder_id() -> str:
    return f"digests:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


async def _send_claimed(db: Database, settings: Settings) -> int:
    """Step 3: claim due digests one by one and send them."""
    holder_id = _holder_id()
    stale_seconds = settings.delivery_stale_seconds
    sent = 0
    for _ in range(BATCH):
        async with db.transaction() as session:
            digest = await DIGESTS.claim_next(
                session,
                db.dialect,
                holder_id,
                stale_seconds,
                attempts=EmailDigest.attempts + 1,
                updated_at=utcnow(),
            )
        if digest is None:
            break
        if await _send_one(db, settings, digest, Holder(holder_id, digest.fencing_token)):
            sent += 1
    return sent


async def _send_one(db: Database, settings: Settings, digest: EmailDigest, holder: Holder) -> bool:
    Q = EmailDigestQueue
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Q.id, Q.event_type, Q.event_data, Q.scheduled_for)
                .where(Q.digest_id == digest.id, Q.included_in_digest.is_(False))
                .order_by(Q.scheduled_for, Q.id)
            )
        ).all()
    if not rows:  # its events are gone (dropped or deleted): nothing to send
        await _finish(db, digest, holder, status=DeliveryStatus.SENT)
        return False
    recipient = await recipient_of(db, digest.user_id)
    if recipient is None:
        await _finish(db, digest, holder, status=DeliveryStatus.FAILED, next_attempt_at=None)
        return False
    frequency = digest.frequency
    start = digest.period_start
    end = period_of(frequency, start)[1]
    rendered = render_digest(
        frequency,
        start,
        end,
        digest_items([(r.event_type, r.event_data, r.scheduled_for) for r in rows]),
    )
    outcome = await send_email(
        db,
        settings,
        user_id=digest.user_id,
        recipient=recipient,
        rendered=rendered,
        event_type=f"{frequency.value}_digest",
        event_data={"events": len(rows), "period_start": start.isoformat()},
        attempt=digest.attempts,
        digest_id=digest.id,
    )
    if outcome.sent:
        ids = [row.id for row in rows]
        if not await _finish(
            db, digest, holder, status=DeliveryStatus.SENT, sent_at=utcnow(), included=ids
        ):
            logger.warning("digest %s was sent after its claim was taken over", digest.id)
        return True
    if outcome.retry and digest.attempts < settings.delivery_max_attempts:
        await _finish(
            db,
            digest,
            holder,
            next_attempt_at=utc_after(backoff_seconds(settings, digest.attempts)),
        )
    else:
        await _finish(db, digest, holder, status=DeliveryStatus.FAILED, next_attempt_at=None)
    return False


async def _finish(
    db: Database,
    digest: EmailDigest,
    holder: Holder,
    included: list[int] | None = None,
    **values: Any,
) -> bool:
    """Release the hold with ``values`` (and mark ``included`` rows), if still held."""
    async with db.transaction() as session:
        released = await DIGESTS.release(session, digest.id, holder, updated_at=utcnow(), **values)
        if released is not None and included:
            Q = EmailDigestQueue
            await session.execute(
                update(Q)
                .where(Q.id.in_(included), Q.digest_id == digest.id)
                .values(included_in_digest=True)
            )
    return released is not None
