"""The outbox: domain events written in the transaction of the change that
caused them, delivered later by the notifications domain.

A domain calls ``emit(session, EventType.X, payload, user_id=...)`` inside its
write transaction: the event is stored if and only if the change commits, so no
event is lost and none is sent for a change that rolled back. Deliverers claim
outbox rows through the kernel's claims mechanism (``OUTBOX`` below), so any
number of server processes deliver each event once; a crashed deliverer's rows
are taken over when its hold goes stale.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.base import Base, CreatedAtMixin, IdMixin
from expgraph.db.claims import Claimable, ClaimColumns
from expgraph.db.types import BigIntId


class EventType(enum.Enum):
    """Every kind of domain event users may be notified of (the value is what
    ``event_type`` columns store)."""

    EXPERIMENT_COMPLETED = "experiment_completed"
    EXPERIMENT_FAILED = "experiment_failed"
    EXECUTION_COMPLETED = "execution_completed"
    EXECUTION_FAILED = "execution_failed"
    HPO_CAMPAIGN_COMPLETED = "hpo_campaign_completed"
    NAS_CAMPAIGN_COMPLETED = "nas_campaign_completed"
    DATASET_JOB_COMPLETED = "dataset_job_completed"
    DATASET_JOB_FAILED = "dataset_job_failed"
    ABTEST_SAMPLE_RATIO_MISMATCH = "abtest_sample_ratio_mismatch"
    API_KEY_EXPIRING = "api_key_expiring"
    WEBHOOK_DEACTIVATED = "webhook_deactivated"


class OutboxEvent(IdMixin, CreatedAtMixin, ClaimColumns, Base):
    """One domain event waiting for (or done with) delivery. ``user_id``: the user
    it concerns (an experiment's creator, a key's owner), SET NULL with the user;
    ``processed_at``: when a deliverer fanned it out to its channels."""

    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_events_processed_id", "processed_at", "id"),)

    event_type: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    processed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


OUTBOX = Claimable(
    OutboxEvent,
    ready=lambda: OutboxEvent.processed_at.is_(None),
    order_by=("id",),
    noun="outbox event",
)
"""Unprocessed events, oldest first, claimed by deliverers."""


async def emit(
    session: AsyncSession,
    event_type: EventType,
    payload: dict[str, Any],
    *,
    user_id: int | None,
) -> None:
    """Store a domain event in ``session``'s transaction (delivered only if it commits)."""
    await session.execute(
        insert(OutboxEvent).values(event_type=event_type.value, payload=payload, user_id=user_id)
    )
