"""Compiled against executor, in process: the measuring both in-process sections
use (``--section pages``, bench/pages.py, and ``--section sqlite-core``,
bench/sqlite_core.py).

Two apps on the same ``Database``, the read-query compiler on and off, over
httpx's ASGITransport (no sockets, no concurrency): one request at a time,
interleaved (compiled, executor, compiled, executor...) so that a change of the
machine's load falls on both alike. For each document: the mean and median time
per request, the SQL statements one request sends (a SQLAlchemy event counter on
the database's engines, transaction control left out), whether the compiler
answered it (``expgraph.graphql.compiled.execution.answered`` grew) and whether
both answers are equal (parsed JSON).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from sqlalchemy import event

MODES = ("compiled", "executor")


@dataclass
class Apps:
    """The two clients (by mode) and the statements sent since the last clear."""

    clients: dict[str, httpx.AsyncClient]
    sent: list[str] = field(default_factory=list)


@asynccontextmanager
async def two_apps(settings: Any, db: Any) -> AsyncIterator[Apps]:
    """An app with the compiler on and one with it off, both on ``db``, and a
    counter of the statements sent to ``db``'s engines (reader and, on SQLite,
    writer)."""
    from expgraph.app import create_app

    apps = Apps(
        {
            mode: httpx.AsyncClient(
                transport=httpx.ASGITransport(
                    app=create_app(settings.model_copy(update={"compile_queries": on}), db=db)
                ),
                base_url="http://bench",
            )
            for mode, on in zip(MODES, (True, False), strict=True)
        }
    )

    def on_execute(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            apps.sent.append(statement)

    engines = list(dict.fromkeys([db.engine.sync_engine, db.write_engine.sync_engine]))
    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield apps
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_execute)
        for client in apps.clients.values():
            await client.aclose()


async def compare(
    apps: Apps, query: str, variables: dict[str, Any], requests: int, warmup: int
) -> dict[str, Any]:
    """One document measured in both modes (see the module's docstring)."""
    from expgraph.graphql.compiled import execution as compiled_execution

    payload = {"query": query, "variables": variables}
    row: dict[str, Any] = {}
    answers = []
    for mode, client in apps.clients.items():
        before = compiled_execution.answered
        apps.sent.clear()
        response = await client.post("/graphql", json=payload)
        row[f"{mode}_statements"] = len(apps.sent)
        row[f"{mode}_answered"] = compiled_execution.answered > before
        body = orjson.loads(response.content)
        row[f"{mode}_status"] = response.status_code
        row[f"{mode}_bytes"] = len(response.content)
        answers.append(body)
    row["same"] = answers[0] == answers[1]
    row["errors"] = any("errors" in answer for answer in answers)
    for _ in range(warmup):
        for client in apps.clients.values():
            await client.post("/graphql", json=payload)
    times: dict[str, list[float]] = {mode: [] for mode in apps.clients}
    for _ in range(requests):
        for mode, client in apps.clients.items():
            started = time.perf_counter()
            await client.post("/graphql", json=payload)
            times[mode].append((time.perf_counter() - started) * 1000)
    for mode, taken in times.items():
        row[f"{mode}_mean"] = statistics.fmean(taken)
        row[f"{mode}_p50"] = statistics.median(taken)
    return row


TABLE_HEAD = [
    "| {what} | compiled | statements (compiled / executor) | compiled ms mean / p50 | "
    "executor ms mean / p50 | executor / compiled (mean) | same answer | answer KB |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |",
]


def table(result: dict[str, dict[str, Any]], what: str = "page") -> list[str]:
    """The rows ``compare`` measured, by name, as a Markdown table."""
    lines = [TABLE_HEAD[0].format(what=what), TABLE_HEAD[1]]
    for name, row in result.items():
        lines.append(
            f"| {name} | {'yes' if row['compiled_answered'] else 'no (executor)'} | "
            f"{row['compiled_statements']} / {row['executor_statements']} | "
            f"{row['compiled_mean']:.1f} / {row['compiled_p50']:.1f} | "
            f"{row['executor_mean']:.1f} / {row['executor_p50']:.1f} | "
            f"{row['executor_mean'] / row['compiled_mean']:.2f}x | "
            f"{'yes' if row['same'] and not row['errors'] else 'NO'} | "
            f"{row['compiled_bytes'] / 1024:.1f} |"
        )
    return lines


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes) from /proc/loadavg."""
    try:
        with open("/proc/loadavg") as f:
            return " / ".join(f.read().split()[:3])
    except OSError:
        return "unknown"
