"""Process tuning at server startup: the garbage collector (expgraph.runtime)."""

from __future__ import annotations

import subprocess
import sys

# A fresh interpreter per case: the tuning is process-wide and applied once.
STARTUP = """
import gc
from starlette.testclient import TestClient
from expgraph.app import create_app
from expgraph.config import Settings

settings = Settings(database_url="sqlite+aiosqlite:///:memory:", request_log_enabled=False,
                    gc_threshold={threshold}, _env_file=None)
app = create_app(settings)
before = gc.get_threshold()[0], gc.get_freeze_count()
with TestClient(app) as client:
    assert client.get("/healthz").status_code == 200
    print(*before, gc.get_threshold()[0], gc.get_freeze_count())
"""


def started(threshold: int) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", STARTUP.format(threshold=threshold)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return [int(word) for word in result.stdout.split()]


def test_startup_freezes_the_heap_and_raises_the_young_threshold() -> None:
    threshold_before, frozen_before, threshold_after, frozen_after = started(12_345)
    assert (threshold_before, frozen_before) == (700, 0)  # CPython's defaults until startup
    assert threshold_after == 12_345
    assert frozen_after > 10_000  # the schema, mappers and modules leave the collector's sight


def test_zero_leaves_the_collector_alone() -> None:
    assert started(0) == [700, 0, 700, 0]
