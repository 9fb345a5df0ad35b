"""The core operations on SQLite, compiled and not (``python -m bench.run
--section sqlite-core``).

Issue 18's SQLite target: each of the benchmark's core operations at least 2x
faster than before the read-query compiler, that is than the executor (what
the app runs with ``compile_queries`` off). The four documents: (a) the
experiment list page with execution state and progress (bench/run.py
``LIST_PAGE``) and without them (bench/peers.py ``LIST_LITE``), (b) the detail
page (``DETAIL``) and (c) the exploration tree (``TREE``, root and three levels),
with the ids bench/run.py's SQLite run picks. On the benchmark's FULL data: a
copy of ``.bench-sqlite/bench_full.db`` (made by ``python -m bench.run
--database sqlite --size full``, never regenerated here) in
``.bench-sqlite/core.db``, made again every run and migrated, so the original
stays as it is. Measured by bench/inprocess.py (two apps on the copy, one
request at a time, interleaved).
"""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any

from bench import inprocess
from bench.peers import LIST_LITE
from bench.run import DETAIL, LIST_PAGE, TREE, gid, sqlite_file
from expgraph.db import migrate

HEADING = "## Core operations on SQLite, compiled and not (in process, full data)"
SIZE = "full"
WARMUP = 10


def _copy() -> tuple[str, int, int, int]:
    """A fresh migrated copy of the full data, its url, and the ids the documents
    use (as ``bench.run.prepare_sqlite`` picks them) and the experiment count."""
    source = sqlite_file(SIZE)
    if not source.exists():
        raise SystemExit(
            f"{source} is missing: make it once with "
            f"`python -m bench.run --database sqlite --size {SIZE} --section core`"
        )
    path = source.parent / "core.db"
    for stale in source.parent.glob("core.db*"):
        stale.unlink()
    with sqlite3.connect(source) as original, sqlite3.connect(path) as copy:
        original.backup(copy)  # consistent even with a WAL beside the original
    original.close()
    copy.close()
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url)
    conn = sqlite3.connect(path)
    try:
        detail = conn.execute("SELECT experiment_id FROM experiment_runs ORDER BY id LIMIT 1")
        detail_id = detail.fetchone()[0]
        exploration_id = conn.execute("SELECT min(id) FROM explorations").fetchone()[0]
        experiments = conn.execute("SELECT count(*) FROM experiments").fetchone()[0]
    finally:
        conn.close()
    return url, detail_id, exploration_id, experiments


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from expgraph.config import Settings
    from expgraph.db.engine import Database

    url, detail_id, exploration_id, experiments = _copy()
    settings = Settings(
        database_url=url,
        request_log_enabled=False,
        delivery_enabled=False,
        log_level="warning",
        _env_file=None,  # type: ignore[call-arg]
    )
    documents = {
        "(a) list page, with state and progress (`LIST_PAGE`)": (LIST_PAGE, {}),
        "(a) list page, without (`LIST_LITE`)": (LIST_LITE, {}),
        "(b) detail page (`DETAIL`)": (DETAIL, {"id": gid("EvaluationExperiment", detail_id)}),
        "(c) exploration tree, root + 3 levels (`TREE`)": (
            TREE,
            {"id": gid("Exploration", exploration_id)},
        ),
    }
    db = Database(settings)
    rows: dict[str, Any] = {}
    try:
        async with inprocess.two_apps(settings, db) as apps:
            for name, (query, variables) in documents.items():
                rows[name] = await inprocess.compare(
                    apps, query, variables, args.core_requests, WARMUP
                )
    finally:
        await db.dispose()
    return {"rows": rows, "experiments": experiments, "load": inprocess.load()}


def render(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    return [
        HEADING,
        "",
        "Written by `python -m bench.run --section sqlite-core` (bench/sqlite_core.py, measured",
        "by bench/inprocess.py). Issue 18's SQLite target (each core operation at least 2x",
        "faster than before the compiler, i.e. than the executor): the documents of operations",
        "(a), (b) and (c) on a copy of the benchmark's full SQLite data "
        f"({result['experiments']:,} experiments),",
        "answered in process over ASGI by two apps on that copy, the read-query compiler on",
        "and off, one request at a time, interleaved (compiled, executor, compiled, ...);",
        f"{args.core_requests} requests per document and mode after {WARMUP} warm-up requests",
        "each, no authentication. Each document is the same request every time, so past the",
        "first the compiled app answers it from its remembered statements (graphql/compiled/",
        "answers.py: no parse, validation or execution, the statement still runs), as it would",
        "a client repeating a request. The machine is shared with other work: the numbers are noisy",
        "(compare the two columns of a row, measured side by side, rather than across runs);",
        f"load average (1 / 5 / 15 min) at the end of this run: {result['load']}.",
        "",
        *inprocess.table(result["rows"], what="document"),
        "",
    ]
