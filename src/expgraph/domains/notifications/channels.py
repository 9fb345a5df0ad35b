"""What a delivery channel is: how the deliverer hands one e-mail or webhook
delivery to the code that sends it.

The deliverer (``deliver.py``) claims a due ``NotificationDelivery`` (the kernel's
claims mechanism), commits, calls its channel's ``send`` outside any
transaction (network I/O never holds a database transaction open), then records
the ``Outcome`` under its hold: SENT, or another attempt after a backoff, or
FAILED after the last one. A channel logs each attempt itself (``email_logs``,
``webhook_logs``) and keeps its own bookkeeping (a webhook's consecutive
failures); it never changes the delivery row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import OutboxEvent
from expgraph.domains.notifications.models import DeliveryChannel, NotificationDelivery


@dataclass(frozen=True)
class Outcome:
    """How one attempt went. ``retry=False``: a permanent failure (no further
    attempt, e.g. the webhook was deactivated or the address is refused)."""

    sent: bool
    error: str | None = None
    retry: bool = True


class Channel(Protocol):
    """Sends deliveries of one ``DeliveryChannel``."""

    channel: DeliveryChannel

    async def send(
        self,
        db: Database,
        settings: Settings,
        delivery: NotificationDelivery,
        event: OutboxEvent,
        attempt: int,
    ) -> Outcome:
        """Make attempt number ``attempt`` (1, 2, ...) of ``delivery`` for ``event``
        and log it; exceptions are the channel's to catch (an escaping one counts
        as a failed attempt with its message)."""
        ...
