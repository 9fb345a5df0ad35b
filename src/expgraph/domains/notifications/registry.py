"""Which channel sends which deliveries: ``channels()`` maps each
``DeliveryChannel`` to the object implementing ``channels.Channel``.

The e-mail channel (``email.py``'s ``EMAIL``) and the webhook channel
(``webhooks.py``'s ``WEBHOOK``) are imported lazily, each only if its module
exists; a channel that is missing here is simply not sent: its deliveries stay
PENDING (the deliverer never claims them) until a deliverer that has it runs.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Awaitable, Callable

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.notifications.channels import Channel
from expgraph.domains.notifications.models import DeliveryChannel

Periodic = Callable[[Database, Settings], Awaitable[int]]

_MODULES = (
    ("expgraph.domains.notifications.email", "EMAIL"),
    ("expgraph.domains.notifications.webhooks", "WEBHOOK"),
)


def channels() -> dict[DeliveryChannel, Channel]:
    found: dict[DeliveryChannel, Channel] = {}
    for module_name, attribute in _MODULES:
        if importlib.util.find_spec(module_name) is None:
            continue
        channel = getattr(importlib.import_module(module_name), attribute, None)
        if channel is not None:
            found[channel.channel] = channel
    return found


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
    checks (once a minute), and the e-mail digests when their module is there."""
    from expgraph.domains.notifications.events import (
        abtest_sample_ratio_mismatches,
        api_keys_expiring,
    )

    jobs: list[Periodic] = [
        throttled(PERIODIC_CHECK_SECONDS, api_keys_expiring),
        throttled(PERIODIC_CHECK_SECONDS, abtest_sample_ratio_mismatches),
    ]
    if importlib.util.find_spec("expgraph.domains.notifications.digests") is not None:
        digests = importlib.import_module("expgraph.domains.notifications.digests")
        jobs.append(digests.send_due_digests)
    return jobs
