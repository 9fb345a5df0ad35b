"""What the deliverer runs: ``channels()`` maps each ``DeliveryChannel`` to the
object implementing ``channels.Channel`` (e-mail, webhooks), ``periodic()`` lists
its periodic work (the API-key expiry and A/B sample-ratio checks, e-mail digests).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.abtest.service import sample_ratio_alerts
from expgraph.domains.notifications.channels import Channel
from expgraph.domains.notifications.digests import send_due_digests
from expgraph.domains.notifications.email import EMAIL
from expgraph.domains.notifications.events import api_keys_expiring
from expgraph.domains.notifications.models import DeliveryChannel
from expgraph.domains.notifications.webhooks import WEBHOOK

Periodic = Callable[[Database, Settings], Awaitable[int]]


def channels() -> dict[DeliveryChannel, Channel]:
    """Every delivery channel, by the channel it sends."""
    return {channel.channel: channel for channel in (EMAIL, WEBHOOK)}


# The key-expiry and sample-ratio checks read whole tables: at most this often per
# deliverer (seconds), not at every poll.
PERIODIC_CHECK_SECONDS = 60.0


def throttled(seconds: float, job: Periodic) -> Periodic:
    """``job``, run at most once per ``seconds`` (monotonic clock; 0 otherwise)."""
    last: list[float] = []

    async def run(db: Database, settings: Settings) -> int:
        now = time.monotonic()
        if last and now - last[0] < seconds:
            return 0
        last[:] = [now]
        return await job(db, settings)

    run.__name__ = getattr(job, "__name__", "periodic")
    return run


def periodic() -> list[Periodic]:
    """The deliverer's periodic work: the API-key expiry and A/B sample-ratio
    checks (once a minute) and the e-mail digests (every poll)."""
    return [
        throttled(PERIODIC_CHECK_SECONDS, api_keys_expiring),
        throttled(PERIODIC_CHECK_SECONDS, sample_ratio_alerts),
        send_due_digests,
    ]
