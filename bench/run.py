"""The benchmark: expgraph against the raw baseline, over HTTP on loopback.

    python -m bench.run --size small            # quick
    python -m bench.run --size full --size small # the recorded run
    python -m bench.run --database sqlite --size small
    python -m bench.run --database postgresql --database sqlite --size full

Starts a throwaway PostgreSQL (pgserver) unless --url names a server, generates
the data once per size (bench/datagen.py), starts expgraph (uvicorn, --workers)
and the baseline (bench/baseline.py), drives each operation at fixed
concurrency for a fixed time, counts SQL statements per request in process,
checks EXPLAIN for sequential scans of big tables, races 32 claimers, and
writes docs/performance.md.

With --database sqlite the same seeded data goes into .bench-sqlite/bench_<size>.db
(generated once, reused; --regenerate redoes it) and expgraph runs on it alone
(--sqlite-workers, default 1): the raw baseline is asyncpg-only.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench import datagen
from bench.datagen import SIZES, generate
from expgraph.db import migrate

ROOT = Path(__file__).resolve().parents[1]
BIG_TABLES = {
    "experiments",
    "experiment_runs",
    "experiment_run_annotations",
    "scenario_nodes",
    "dataset_examples",
}

LIST_PAGE = """query ListPage($after: String, $order: [ExperimentOrder!]) {
  experiments(first: 50, after: $after, orderBy: $order) {
    totalCount
    edges { cursor node {
      id name kind status createdAt
      createdBy { username }
      tags { edges { node { name color } } }
      ... on EvaluationExperiment { repetitions
        executionConfig { state progress { completed expected fraction } } }
      ... on SimulationExperiment { masterSeed }
      ... on TrainingExperiment { modelType }
      ... on ResearchExperiment { hypothesis }
      ... on AbTestExperiment { unitType }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
# The list page with a full-text search, best matches first: index-driven
# (the GIN index on PostgreSQL, FTS5 on SQLite; the seq-scan check covers it).
LIST_SEARCH = LIST_PAGE.replace(
    "query ListPage($after: String, $order: [ExperimentOrder!]) {\n"
    "  experiments(first: 50, after: $after, orderBy: $order) {",
    "query ListSearch($after: String, $order: [ExperimentOrder!], $filter: ExperimentFilter) {\n"
    "  experiments(first: 50, after: $after, orderBy: $order, filter: $filter) {",
)
assert LIST_SEARCH != LIST_PAGE
DETAIL = """query Detail($id: ID!) { node(id: $id) { ... on EvaluationExperiment { id name
  runs(first: 100) { edges { node { id repetitionNumber output latencyMs
    example { id input output } annotations { name score label } } } } } } }"""
_NODE = "id shortAction simulationResults nodeStatus"


def _levels(depth: int) -> str:
    if depth == 0:
        return _NODE
    return f"{_NODE} children(first: 50) {{ edges {{ node {{ {_levels(depth - 1)} }} }} }}"


TREE = (
    "query Tree($id: ID!) { node(id: $id) { ... on Exploration { id root { "
    + _levels(3)
    + " } } } }"
)
CLAIM = """mutation($w: String!) { claimExecution(input: {workerId: $w}) {
  claim { fencingToken experiment { id } } } }"""
HEARTBEAT = """mutation($e: ID!, $w: String!, $t: BigInt!) { heartbeatExecution(input: {
  experimentId: $e, workerId: $w, fencingToken: $t}) { executionConfig { claimedBy } } }"""
RECORD = """mutation($e: ID!, $w: String!, $t: BigInt!, $runs: [RunInput!]!) {
  recordExperimentRuns(input: {experimentId: $e, workerId: $w, fencingToken: $t, runs: $runs}) {
    runs { id } } }"""
RELEASE = """mutation($e: ID!, $w: String!, $t: BigInt!) { releaseExecution(input: {
  experimentId: $e, workerId: $w, fencingToken: $t}) { executionConfig { state } } }"""
EXAMPLES = """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
  incompleteRuns(first: 50) { items { repetitionNumber example { id } } } } } }"""


def gid(type_name: str, pk: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    balance: list[int] = field(default_factory=list)  # connections per server process

    def row(self) -> dict[str, float]:
        lat = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            """Nearest-rank percentile, in milliseconds."""
            rank = max(1, math.ceil(p / 100 * len(lat)))
            return lat[rank - 1] * 1000

        return {
            "requests": len(self.latencies),
            "rps": len(self.latencies) / self.seconds,
            "p50": pct(50),
            "p95": pct(95),
            "p99": pct(99),
            "errors": self.errors,
            "mean": statistics.fmean(lat) * 1000,
            "balance": "/".join(map(str, self.balance)),
        }


async def drive(
    send: Any, concurrency: int, duration: float, server: subprocess.Popen[bytes] | None = None
) -> Stats:
    """``send(client)`` repeatedly from ``concurrency`` clients, one keep-alive
    connection each, for ``duration`` seconds.

    With ``server``, the connections are spread evenly over its worker
    processes first (``balanced_clients``): the kernel hands each new
    connection to whichever worker accepts first, and 8 connections opened at
    once can land 6 on one worker and 2 on the other, which then decides the
    latency percentiles more than the server's own speed does.
    """
    stats = Stats()
    clients = await balanced_clients(send, concurrency, server)
    stats.balance = sorted(Counter(owner for owner, _ in clients).values())
    try:

        async def loop(client: httpx.AsyncClient) -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                ok = await send(client)
                stats.latencies.append(time.perf_counter() - started)
                stats.errors += 0 if ok else 1

        deadline = time.perf_counter() + duration
        started = time.perf_counter()
        await asyncio.gather(*(loop(client) for _, client in clients))
        stats.seconds = time.perf_counter() - started
    finally:
        for _, client in clients:
            await client.aclose()
    return stats


async def balanced_clients(
    send: Any, concurrency: int, server: subprocess.Popen[bytes] | None
) -> list[tuple[int | None, httpx.AsyncClient]]:
    """``concurrency`` clients, each with one warmed-up keep-alive connection
    and the pid of the server process serving it; as evenly spread over the
    server's workers as 20 tries per client allow."""
    workers = worker_pids(server) if server is not None else set()
    share = math.ceil(concurrency / max(1, len(workers)))
    kept: list[tuple[int | None, httpx.AsyncClient]] = []
    per_worker: Counter[int | None] = Counter()
    for _ in range(concurrency * 20):
        if len(kept) == concurrency:
            break
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        client = httpx.AsyncClient(timeout=60, limits=limits)
        hooks: list[Any] = []
        client.event_hooks["response"] = [_remember_port(hooks)]
        await send(client)  # warms up caches and opens the connection
        owner = connection_owner(hooks[-1], workers) if workers and hooks else None
        if owner is not None and per_worker[owner] >= share:
            await client.aclose()
            continue
        per_worker[owner] += 1
        kept.append((owner, client))
    while len(kept) < concurrency:  # could not balance: take what comes
        client = httpx.AsyncClient(timeout=60)
        await send(client)
        kept.append((None, client))
    return kept


def _remember_port(ports: list[Any]) -> Any:
    async def hook(response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        address = stream.get_extra_info("client_addr") if stream is not None else None
        if address:
            ports.append(address[1])

    return hook


def worker_pids(server: subprocess.Popen[bytes]) -> set[int]:
    """The processes that accept ``server``'s connections: those of its children
    that hold a listening TCP socket (uvicorn's workers, not multiprocessing's
    resource tracker), or itself when none do."""
    listening = {
        f"socket:[{fields[9]}]"
        for fields in _tcp_table()
        if fields[3] == "0A"  # LISTEN
    }
    workers = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == server.pid and _holds(
            int(entry.name), listening
        ):
            workers.add(int(entry.name))
    return workers or {server.pid}


def _tcp_table() -> list[list[str]]:
    rows = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows += [line.split() for line in Path(table).read_text().splitlines()[1:]]
        except OSError:
            continue
    return rows


def _holds(pid: int, sockets: set[str]) -> bool:
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) in sockets:
                return True
        except OSError:
            continue
    return False


def connection_owner(client_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the server end of the loopback connection from
    ``client_port`` (Linux: /proc/net/tcp and each process's open sockets)."""
    ends = {
        f"socket:[{fields[9]}]"
        for fields in _tcp_table()
        if int(fields[2].rsplit(":", 1)[1], 16) == client_port  # remote end: the client
    }
    return next((pid for pid in pids if _holds(pid, ends)), None)


def graphql_sender(url: str, query: str, variables: dict[str, Any]) -> Any:
    async def send(client: httpx.AsyncClient) -> bool:
        response = await client.post(url, json={"query": query, "variables": variables})
        return response.status_code == 200 and "errors" not in response.json()

    return send


def get_sender(url: str) -> Any:
    async def send(client: httpx.AsyncClient) -> bool:
        return (await client.get(url)).status_code == 200

    return send


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env={**os.environ, **env}, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{url} died")
        time.sleep(0.3)
    raise RuntimeError(f"{url} never became ready")


async def statements_per_request(
    url: str, operations: dict[str, tuple[str, dict[str, Any]]]
) -> tuple[dict[str, int], list[str]]:
    """SQL statements each operation issues (expgraph in process), and seq scans of
    big tables found by EXPLAIN of those statements."""
    from expgraph.app import create_app
    from expgraph.config import Settings
    from expgraph.db.engine import Database

    settings = Settings(database_url=url, request_log_enabled=False, _env_file=None)  # type: ignore[call-arg]
    db = Database(settings)
    app = create_app(settings, db=db)
    captured: list[tuple[str, Any]] = []

    def on_execute(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("SELECT", "WITH"):
            captured.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
    counts: dict[str, int] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, (query, variables) in operations.items():
            captured.clear()
            body = (
                await client.post("/graphql", json={"query": query, "variables": variables})
            ).json()
            assert "errors" not in body, body
            counts[name] = len(captured)
            plans = await _seq_scans(db, list(captured))
            if plans:
                counts[name + "_seqscans"] = len(plans)
    await db.dispose()
    scans: list[str] = []
    return counts, scans


async def _seq_scans(db: Any, statements: list[tuple[str, Any]]) -> list[str]:
    found = []
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        if db.is_sqlite:
            for statement, parameters in statements:
                found += await _sqlite_full_scans(driver, statement, parameters)
            return found
        for statement, parameters in statements:
            try:
                plan = await driver.fetch("EXPLAIN " + statement, *(parameters or ()))
            except Exception:
                continue
            text = "\n".join(r[0] for r in plan)
            found += [t for t in BIG_TABLES if f"Seq Scan on {t} " in text + " "]
    return found


async def _sqlite_full_scans(driver: Any, statement: str, parameters: Any) -> list[str]:
    """Big tables SQLite reads in full (``SCAN t`` without an index) for ``statement``.
    Its plan names tables by their alias, so aliases are mapped back."""
    try:
        async with driver.execute("EXPLAIN QUERY PLAN " + statement, parameters or ()) as cursor:
            plan = [row[3] for row in await cursor.fetchall()]
    except Exception:
        return []
    aliases = {alias: table for table, alias in re.findall(r"\b(\w+) AS (\w+)\b", statement)}
    found = []
    for step in plan:
        match = re.fullmatch(r"SCAN (\w+)", step)
        if match:
            name = match.group(1)
            table = name if name in BIG_TABLES else aliases.get(name, name)
            if table in BIG_TABLES:
                found.append(table)
    return found


async def claim_race(url: str, workers: int, duration: float) -> dict[str, Any]:
    """32 workers loop claim-next -> heartbeat -> record 50 runs -> release."""
    holders: dict[str, str] = {}
    double = 0
    counts = {"claims": 0, "heartbeats": 0, "batches": 0, "idle": 0}
    deadline = time.perf_counter() + duration

    async def post(
        client: httpx.AsyncClient, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        return (await client.post(url, json={"query": query, "variables": variables})).json()

    async def worker(n: int) -> None:
        nonlocal double
        name = f"bench-{n}"
        async with httpx.AsyncClient(timeout=60) as client:
            while time.perf_counter() < deadline:
                claim = (await post(client, CLAIM, {"w": name}))["data"]["claimExecution"]["claim"]
                if claim is None:
                    counts["idle"] += 1
                    await asyncio.sleep(0.05)
                    continue
                experiment = claim["experiment"]["id"]
                if experiment in holders:
                    double += 1
                holders[experiment] = name
                counts["claims"] += 1
                token = claim["fencingToken"]
                await post(client, HEARTBEAT, {"e": experiment, "w": name, "t": token})
                counts["heartbeats"] += 1
                items = (await post(client, EXAMPLES, {"e": experiment}))["data"]["node"][
                    "incompleteRuns"
                ]["items"]
                runs = [
                    {
                        "datasetExampleId": i["example"]["id"],
                        "repetitionNumber": i["repetitionNumber"],
                        "output": {"a": 1},
                    }
                    for i in items
                ]
                if runs:
                    body = await post(
                        client, RECORD, {"e": experiment, "w": name, "t": token, "runs": runs}
                    )
                    counts["batches"] += 0 if body.get("errors") else 1
                holders.pop(experiment, None)
                await post(client, RELEASE, {"e": experiment, "w": name, "t": token})

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(workers)))
    seconds = time.perf_counter() - started
    return {
        **{f"{k}_per_s": round(v / seconds, 1) for k, v in counts.items()},
        "double_claims": double,
        "workers": workers,
    }


@dataclass
class Prepared:
    """A database filled and reset for a run, and the ids the operations use."""

    database: str  # "postgresql" or "sqlite"
    size: str
    url: str
    generated: dict[str, Any]
    queued: int
    detail_id: int
    exploration_id: int
    deep_name: str
    deep_id: int
    baseline_dsn: str | None = None  # the raw baseline runs on PostgreSQL only


async def prepare_postgresql(size: str, server_url: str, args: argparse.Namespace) -> Prepared:
    database = f"bench_{size}"
    url = make_url(server_url).set(database=database).render_as_string(hide_password=False)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(
        make_url(dsn).set(database="postgres").render_as_string(hide_password=False)
    )
    exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
    if not exists:
        await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        have = await conn.fetchval("SELECT count(*) FROM experiments")
    except asyncpg.UndefinedTableError:
        have = -1
    await conn.close()
    generated: dict[str, Any] = {}
    if have != SIZES[size].experiments or args.regenerate:
        generated = await asyncio.to_thread(lambda: asyncio.run(generate(url, size)))
    else:  # data kept from an earlier run: bring its schema (indexes) up to date
        await asyncio.to_thread(migrate.upgrade, url)
    conn = await asyncpg.connect(dsn)
    # Fresh queue for the worker loop: the queued experiments lose their runs.
    queued_ids = [
        r["id"]
        for r in await conn.fetch(
            "SELECT c.id FROM experiment_execution_configs c WHERE NOT EXISTS "
            "(SELECT 1 FROM experiment_runs r WHERE r.experiment_id = c.id) OR c.claimed_by LIKE 'bench-%'"
        )
    ]
    await conn.execute("DELETE FROM experiment_runs WHERE worker_id LIKE 'bench-%'")
    await conn.execute(
        "UPDATE experiment_execution_configs SET claimed_at = NULL, claimed_by = NULL, last_error = NULL, enabled = true"
    )
    detail_id = await conn.fetchval("SELECT experiment_id FROM experiment_runs ORDER BY id LIMIT 1")
    exploration_id = await conn.fetchval("SELECT min(id) FROM explorations")
    total = await conn.fetchval("SELECT count(*) FROM experiments")
    deep_row = await conn.fetchrow(
        "SELECT name, id FROM experiments ORDER BY name, id OFFSET $1 LIMIT 1", max(0, total - 51)
    )
    await conn.close()
    return Prepared(
        "postgresql",
        size,
        url,
        generated,
        len(queued_ids),
        detail_id,
        exploration_id,
        deep_row["name"],
        deep_row["id"],
        baseline_dsn=dsn,
    )


def sqlite_file(size: str) -> Path:
    """The benchmark's SQLite file for ``size`` (``*.db`` files are gitignored)."""
    return ROOT / ".bench-sqlite" / f"bench_{size}.db"


async def prepare_sqlite(size: str, args: argparse.Namespace) -> Prepared:
    """The same seeded data in a SQLite file, generated once and reused; the same
    reset for the worker loop as on PostgreSQL."""
    path = sqlite_file(size)
    url = f"sqlite+aiosqlite:///{path}"
    have = -1
    if path.exists():
        conn = sqlite3.connect(path)
        try:
            have = conn.execute("SELECT count(*) FROM experiments").fetchone()[0]
        except sqlite3.OperationalError:
            pass
        finally:
            conn.close()
    generated: dict[str, Any] = {}
    if have != SIZES[size].experiments or args.regenerate:
        generated = await asyncio.to_thread(lambda: asyncio.run(generate(url, size)))
    else:
        await asyncio.to_thread(migrate.upgrade, url)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=15000")
        queued = conn.execute(
            "SELECT count(*) FROM experiment_execution_configs c WHERE NOT EXISTS "
            "(SELECT 1 FROM experiment_runs r WHERE r.experiment_id = c.id) OR c.claimed_by LIKE 'bench-%'"
        ).fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("DELETE FROM experiment_runs WHERE worker_id LIKE 'bench-%'")
        conn.execute(
            "UPDATE experiment_execution_configs SET claimed_at = NULL, claimed_by = NULL, last_error = NULL, enabled = 1"
        )
        conn.execute("COMMIT")
        detail_id = conn.execute(
            "SELECT experiment_id FROM experiment_runs ORDER BY id LIMIT 1"
        ).fetchone()[0]
        exploration_id = conn.execute("SELECT min(id) FROM explorations").fetchone()[0]
        total = conn.execute("SELECT count(*) FROM experiments").fetchone()[0]
        deep_name, deep_id = conn.execute(
            "SELECT name, id FROM experiments ORDER BY name, id LIMIT 1 OFFSET ?",
            (max(0, total - 51),),
        ).fetchone()
    finally:
        conn.close()
    return Prepared(
        "sqlite", size, url, generated, queued, detail_id, exploration_id, deep_name, deep_id
    )


async def run_size(
    size: str, server_url: str, args: argparse.Namespace, logs: Path
) -> dict[str, Any]:
    return await measure(await prepare_postgresql(size, server_url, args), args, logs)


async def run_size_sqlite(size: str, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    return await measure(await prepare_sqlite(size, args), args, logs)


async def measure(target: Prepared, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """Statements per request in process, then expgraph (and on PostgreSQL the raw
    baseline) over HTTP, then the claim race."""
    from expgraph.graphql.pagination import SortKey, encode_cursor

    size, url = target.size, target.url

    class Row:
        name = target.deep_name
        id = target.deep_id

    by_name = [{"field": "NAME", "direction": "ASC"}]
    deep_cursor = encode_cursor(Row, (SortKey("name"), SortKey("id")))
    detail_id, exploration_id = target.detail_id, target.exploration_id
    operations: dict[str, tuple[str, dict[str, Any]]] = {
        "a_list": (LIST_PAGE, {}),
        "b_detail": (DETAIL, {"id": gid("EvaluationExperiment", detail_id)}),
        "c_tree": (TREE, {"id": gid("Exploration", exploration_id)}),
        "d_deep_page": (LIST_PAGE, {"after": deep_cursor, "order": by_name}),
        "d_first_page": (LIST_PAGE, {"order": by_name}),
        # One experiment's number: a selective search term.
        "e_search": (
            LIST_SEARCH,
            {
                "filter": {"search": target.deep_name.split()[-1]},
                "order": [{"field": "RELEVANCE", "direction": "DESC"}],
            },
        ),
    }
    statements, _ = await statements_per_request(url, operations)

    sqlite = target.database == "sqlite"
    workers = args.sqlite_workers if sqlite else args.workers
    tag = f"sqlite-{size}" if sqlite else size
    port, base_port = free_port(), free_port()
    env = {
        "EXPGRAPH_DATABASE_URL": url,
        "EXPGRAPH_REQUEST_LOG_ENABLED": "false",
        "EXPGRAPH_DB_POOL_SIZE": "10",
        "EXPGRAPH_LOG_LEVEL": "warning",
    }
    server = start(
        [
            sys.executable,
            "-m",
            "expgraph.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env,
        logs / f"expgraph-{tag}.log",
    )
    processes = [server]
    if target.baseline_dsn is not None:
        processes.append(
            start(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.baseline:app",
                    "--port",
                    str(base_port),
                    "--workers",
                    str(args.workers),
                    "--log-level",
                    "warning",
                ],
                {"BENCH_DSN": target.baseline_dsn},
                logs / f"baseline-{size}.log",
            )
        )
    results: dict[str, Any] = {
        "database": target.database,
        "size": size,
        "generated": target.generated,
        "statements": statements,
        "workers": workers,
    }
    try:
        graphql = f"http://127.0.0.1:{port}/graphql"
        wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        raw: dict[str, str] = {}
        if len(processes) > 1:
            wait_ready(f"http://127.0.0.1:{base_port}/a", processes[1])
            raw = {
                "a_list": f"http://127.0.0.1:{base_port}/a",
                "b_detail": f"http://127.0.0.1:{base_port}/b?id={detail_id}",
                "c_tree": f"http://127.0.0.1:{base_port}/c?id={exploration_id}",
            }
        ops: dict[str, Any] = {}
        for name, (query, variables) in operations.items():
            ops[name] = (
                await drive(
                    graphql_sender(graphql, query, variables),
                    args.concurrency,
                    args.duration,
                    server,
                )
            ).row()
            if name in raw:
                ops[name + "_baseline"] = (
                    await drive(
                        get_sender(raw[name]), args.concurrency, args.duration, processes[1]
                    )
                ).row()
        results["operations"] = ops
        results["claims"] = await claim_race(graphql, 32, args.duration)
        results["queued"] = target.queued
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    return results


RECORD_EVENTS = """mutation($input: RecordEventsInput!) {
  recordEvents(input: $input) { accepted duplicates } }"""
ASSIGN_UNITS = """mutation($input: AssignUnitsInput!) { assignUnits(input: $input) {
  assignments { id unitId variant { id } experiment { id } } } }"""
AB_RESULTS = """query($id: ID!) { node(id: $id) { ... on AbTestExperiment {
  results(metric: "revenue") { srm { pValue flagged }
    variants { variant { id } units unitsWithMetric mean variance pValue chanceToBeatControl
      absoluteLift { estimate lower upper } relativeLift { estimate lower upper } } } } } }"""
AB_DATABASE = "bench_abtest"
AB_BATCH = 1_000
AB_HEADING = "## A/B testing (PostgreSQL)"


async def prepare_abtest(server_url: str, args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The A/B database (its own), generated once (bench/datagen.py ab_batches) and reused."""
    url = make_url(server_url).set(database=AB_DATABASE).render_as_string(hide_password=False)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(
        make_url(dsn).set(database="postgres").render_as_string(hide_password=False)
    )
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", AB_DATABASE):
        await admin.execute(f'CREATE DATABASE "{AB_DATABASE}"')
    await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        have = await conn.fetchval(
            "SELECT count(*) FROM event_experiments WHERE experiment_id = $1",
            datagen.AB_RESULTS_EXPERIMENT,
        )
    except asyncpg.UndefinedTableError:
        have = -1
    await conn.close()
    generated: dict[str, Any] = {}
    if have != datagen.AB_EVENTS or args.regenerate:
        generated = await asyncio.to_thread(
            lambda: asyncio.run(datagen.generate_abtest_postgresql(url))
        )
    else:
        await asyncio.to_thread(migrate.upgrade, url)
    # Fresh start: no units left over from an earlier run's assignUnits and ingestion.
    conn = await asyncpg.connect(dsn)
    await conn.execute("DELETE FROM events WHERE event_id LIKE 'bench-%'")
    await conn.execute("DELETE FROM assignments WHERE unit_id LIKE 'bench-%'")
    await conn.close()
    # The ingestion's events added to their units' metric sums: recomputed without them.
    await datagen.rebuild_abtest_unit_sums(url, list(datagen.AB_RUNNING))
    conn = await asyncpg.connect(dsn)
    await conn.execute("VACUUM ANALYZE events")
    await conn.execute("VACUUM ANALYZE assignments")
    await conn.execute("VACUUM ANALYZE unit_metric_sums")
    await conn.close()
    return url, generated


def ingest_sender(url: str, run: str) -> Any:
    """Posts recordEvents with AB_BATCH new events (fresh event ids every call) of
    experiment 2's pre-assigned units, each naming that unit's variant."""
    from decimal import Decimal

    from expgraph.domains.abtest.hashing import assign_variant

    rng = random.Random(2)
    experiment = datagen.AB_RUNNING[0]
    variants = datagen.ab_variant_ids(experiment)
    half = [Decimal("0.5"), Decimal("0.5")]
    template = []
    for k in range(AB_BATCH):
        unit = f"i{rng.randrange(datagen.AB_INGEST_UNITS)}"
        index = assign_variant(datagen.ab_hash_seed(experiment), unit, half)
        assert index is not None
        template.append(
            {
                "eventType": "purchase",
                "unitType": "USER",
                "unitId": unit,
                "experiments": [
                    {
                        "experimentId": gid("AbTestExperiment", experiment),
                        "variantId": gid("Variant", variants[index]),
                    }
                ],
                "metrics": {"revenue": round(rng.uniform(1, 100), 2), "clicks": 1},
                "context": {"platform": "web"},
                "timestamp": f"2026-01-02T00:{k // 60 % 60:02d}:{k % 60:02d}+00:00",
            }
        )
    calls = iter(range(10**9))

    async def send(client: httpx.AsyncClient) -> bool:
        n = next(calls)
        events = [{**e, "eventId": f"bench-{run}-{n}-{k}"} for k, e in enumerate(template)]
        body = {"query": RECORD_EVENTS, "variables": {"input": {"events": events}}}
        response = await client.post(url, json=body)
        if response.status_code != 200:
            return False
        data = response.json()
        return "errors" not in data and data["data"]["recordEvents"]["accepted"] == AB_BATCH

    return send


def assign_sender(url: str, run: str) -> Any:
    """Posts assignUnits for a new unit every call (20 running experiments: 20 rows)."""
    calls = iter(range(10**9))

    async def send(client: httpx.AsyncClient) -> bool:
        unit = f"bench-{run}-{next(calls)}"
        body = {
            "query": ASSIGN_UNITS,
            "variables": {"input": {"unitType": "USER", "unitId": unit}},
        }
        response = await client.post(url, json=body)
        if response.status_code != 200:
            return False
        data = response.json()
        return "errors" not in data and len(data["data"]["assignUnits"]["assignments"]) > 0

    return send


async def run_abtest(server_url: str, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """(f) event ingestion, (g) assignUnits, (h) results: expgraph and the raw baseline."""
    url, generated = await prepare_abtest(server_url, args)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    results_id = gid("AbTestExperiment", datagen.AB_RESULTS_EXPERIMENT)
    statements, _ = await statements_per_request(
        url, {"h_results": (AB_RESULTS, {"id": results_id})}
    )
    port, base_port = free_port(), free_port()
    env = {
        "EXPGRAPH_DATABASE_URL": url,
        "EXPGRAPH_REQUEST_LOG_ENABLED": "false",
        "EXPGRAPH_DB_POOL_SIZE": "10",
        "EXPGRAPH_LOG_LEVEL": "warning",
    }
    server = start(
        [
            sys.executable,
            "-m",
            "expgraph.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        env,
        logs / "expgraph-abtest.log",
    )
    baseline = start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.baseline:app",
            "--port",
            str(base_port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        {"BENCH_DSN": dsn},
        logs / "baseline-abtest.log",
    )
    ops: dict[str, Any] = {}
    try:
        graphql = f"http://127.0.0.1:{port}/graphql"
        wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        wait_ready(f"http://127.0.0.1:{base_port}/a", baseline)
        run = str(int(time.time()))
        c = args.concurrency
        ops["f_ingest"] = (
            await drive(ingest_sender(graphql, run + "g"), c, args.duration, server)
        ).row()
        ops["f_ingest_baseline"] = (
            await drive(
                ingest_sender(f"http://127.0.0.1:{base_port}/ab/events", run + "b"),
                c,
                args.duration,
                baseline,
            )
        ).row()
        ops["g_assign"] = (
            await drive(assign_sender(graphql, run + "g"), c, args.duration, server)
        ).row()
        ops["g_assign_baseline"] = (
            await drive(
                assign_sender(f"http://127.0.0.1:{base_port}/ab/assign", run + "b"),
                c,
                args.duration,
                baseline,
            )
        ).row()
        # One client: the latency of one results request on an otherwise idle server.
        ops["h_results"] = (
            await drive(
                graphql_sender(graphql, AB_RESULTS, {"id": results_id}), 1, args.duration, server
            )
        ).row()
        ops["h_results_c"] = (
            await drive(
                graphql_sender(graphql, AB_RESULTS, {"id": results_id}), c, args.duration, server
            )
        ).row()
    finally:
        for process in (server, baseline):
            process.terminate()
            process.wait(timeout=30)
    return {"generated": generated, "operations": ops, "statements": statements}


def render_abtest(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """The A/B section: the table, then bench/notes-abtest.md (the analysis, by hand)."""
    ops = result["operations"]
    f, fb = ops["f_ingest"], ops["f_ingest_baseline"]
    g, gb = ops["g_assign"], ops["g_assign_baseline"]
    h, hc = ops["h_results"], ops["h_results_c"]
    events = f["rps"] * AB_BATCH
    base_events = fb["rps"] * AB_BATCH
    lines = [
        AB_HEADING,
        "",
        "Written by `python -m bench.run --section abtest` (bench/run.py `run_abtest`). A",
        f"database of its own ({AB_DATABASE}, bench/datagen.py `ab_batches`): 21 A/B tests",
        f"(two 50/50 variants each), {datagen.AB_UNITS:,} units and {datagen.AB_EVENTS:,} events",
        "of the results experiment, 20 running USER A/B tests (one with "
        f"{datagen.AB_INGEST_UNITS:,} assigned units, the ingestion's units).",
        f"Generated: {result['generated'] or 'reused from an earlier run'}",
        "",
        f"Load: {args.concurrency} clients for {args.duration:.0f}s per operation (results also with",
        f"one client), uvicorn --workers {args.workers} for both servers. The machine's 2 cores are",
        "shared with the load driver, PostgreSQL and other engineers' work: the numbers are noisy.",
        "",
        "| operation | req/s | events/s | p50 ms | p95 ms | p99 ms | errors | vs baseline | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        f"| f: recordEvents, batches of {AB_BATCH:,} | {f['rps']:.1f} | {events:,.0f} | "
        f"{f['p50']:.1f} | {f['p95']:.1f} | {f['p99']:.1f} | {f['errors']} | "
        f"{base_events / events if events else float('inf'):.1f}x slower (events/s) | within 3x |",
        f"| f: raw baseline (unnest insert + COPY) | {fb['rps']:.1f} | {base_events:,.0f} | "
        f"{fb['p50']:.1f} | {fb['p95']:.1f} | {fb['p99']:.1f} | {fb['errors']} | | |",
        f"| g: assignUnits, 20 running experiments, new unit | {g['rps']:.1f} | | "
        f"{g['p50']:.1f} | {g['p95']:.1f} | {g['p99']:.1f} | {g['errors']} | "
        f"{g['p50'] / gb['p50']:.1f}x (p50) | within 4x |",
        f"| g: raw baseline (hash + unnest upsert) | {gb['rps']:.1f} | | {gb['p50']:.1f} | "
        f"{gb['p95']:.1f} | {gb['p99']:.1f} | {gb['errors']} | | |",
        f"| h: results(metric:), 1 client | {h['rps']:.1f} | | {h['p50']:.1f} | {h['p95']:.1f} | "
        f"{h['p99']:.1f} | {h['errors']} | | p50 under 500 ms |",
        f"| h: results(metric:), {args.concurrency} clients | {hc['rps']:.1f} | | "
        f"{hc['p50']:.1f} | {hc['p95']:.1f} | {hc['p99']:.1f} | {hc['errors']} | | |",
        "",
        f"SQL statements of one results request: {result['statements'].get('h_results')}.",
        "",
    ]
    notes = ROOT / "bench" / "notes-abtest.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    return lines


def splice_section(document: str, heading: str, section: list[str]) -> str:
    """``document`` with the section under ``heading`` replaced by ``section`` (up to
    the next heading of level 1 or 2), or ``section`` inserted before the first
    "## " heading after the results when there is none."""
    lines = document.splitlines()
    if heading in lines:
        start = lines.index(heading)
        end = next(
            (i for i in range(start + 1, len(lines)) if re.match(r"#{1,2} ", lines[i])),
            len(lines),
        )
        lines[start:end] = section
    else:
        notes = ROOT / "bench" / "notes.md"
        first_note = notes.read_text().splitlines()[0] if notes.exists() else None
        at = lines.index(first_note) if first_note in lines else len(lines)
        lines[at:at] = section
    return "\n".join(lines) + "\n"


def render(
    results: list[dict[str, Any]],
    args: argparse.Namespace,
    ab_result: dict[str, Any] | None = None,
) -> str:
    versions = {
        p: metadata.version(p)
        for p in (
            "strawberry-graphql",
            "graphql-core",
            "sqlalchemy",
            "asyncpg",
            "starlette",
            "uvicorn",
            "orjson",
        )
    }
    databases = {result.get("database", "postgresql") for result in results}
    if "sqlite" in databases:
        versions["aiosqlite"] = metadata.version("aiosqlite")
        versions["SQLite"] = sqlite3.sqlite_version
    lines = ["# Performance", ""]
    if "postgresql" in databases:
        lines += [
            "Written by `python -m bench.run` (bench/run.py); numbers from one run on the",
            "machine below. expgraph and the raw baseline (hand-written asyncpg + orjson behind",
            "plain Starlette, bench/baseline.py) serve the same JSON over HTTP on loopback,",
            f"each with uvicorn --workers {args.workers}, against the same PostgreSQL.",
        ]
    else:
        lines += [
            "Written by `python -m bench.run` (bench/run.py); numbers from one run on the",
            "machine below.",
        ]
    if "sqlite" in databases:
        lines += [
            "The SQLite sections run expgraph alone (the raw baseline is asyncpg-only, so",
            'their "vs baseline" column is empty) over HTTP on loopback, with uvicorn',
            f"--workers {args.sqlite_workers}, on a SQLite file (WAL) holding the same seeded data.",
        ]
    lines += [
        f"Load: {args.concurrency} concurrent clients for {args.duration:.0f}s per operation,",
        "one keep-alive connection each, spread evenly over the server's worker processes",
        "before the clock starts (the connections column: how many each worker serves).",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
    ]
    for result in results:
        size = result["size"]
        ops = result["operations"]
        sqlite = result.get("database") == "sqlite"
        lines += [
            f"## {'SQLite' if sqlite else 'PostgreSQL'}, size: {size}",
            "",
            f"Generated: {result['generated'] or 'reused from an earlier run'}",
            "",
            "| operation | req/s | p50 ms | p95 ms | p99 ms | errors | SQL statements "
            "| connections | vs baseline (p50) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, row in ops.items():
            if name.endswith("_baseline"):
                continue
            base = ops.get(name + "_baseline")
            ratio = f"{row['p50'] / base['p50']:.1f}x" if base else ""
            statements = result["statements"].get(name, "")
            lines.append(
                f"| {name} | {row['rps']:.1f} | {row['p50']:.1f} | {row['p95']:.1f} | "
                f"{row['p99']:.1f} | {row['errors']} | {statements} | {row.get('balance', '')} "
                f"| {ratio} |"
            )
            if base:
                lines.append(
                    f"| {name} (raw baseline) | {base['rps']:.1f} | {base['p50']:.1f} | "
                    f"{base['p95']:.1f} | {base['p99']:.1f} | {base['errors']} | "
                    f"| {base.get('balance', '')} | |"
                )
        scans = {k: v for k, v in result["statements"].items() if k.endswith("_seqscans")}
        explain = (
            "Full scans of big tables in EXPLAIN QUERY PLAN"
            if sqlite
            else "Sequential scans of big tables in EXPLAIN"
        )
        lines += [
            "",
            f"{explain}: {scans or 'none'}.",
            "",
            f"Claims (32 workers over HTTP, claim-next -> heartbeat -> 50 runs -> release): "
            f"{result['claims']}",
            "",
        ]
    if ab_result is not None:
        lines += render_abtest(ab_result, args)
    notes = ROOT / "bench" / "notes.md"
    if notes.exists():
        lines += ["", notes.read_text()]
    return "\n".join(lines) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", action="append", choices=sorted(SIZES))
    parser.add_argument(
        "--database",
        action="append",
        choices=["postgresql", "sqlite"],
        help="repeat for both (default: postgresql)",
    )
    parser.add_argument(
        "--url", help="postgresql+asyncpg://... of a server we may create databases on"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--sqlite-workers", type=int, default=1, help="uvicorn workers on SQLite (one writer)"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--section",
        action="append",
        choices=["core", "abtest", "training", "postgraphile", "pages", "sqlite-core"],
        help="core: operations (a)-(e); abtest: A/B ingestion, assignUnits, results; "
        "training: logTrainingEpochs throughput, claimHpoTrial latency; postgraphile: (a)-(c) "
        "against PostGraphile 5 and the raw baseline, interleaved (abtest, training and "
        "postgraphile: PostgreSQL only; without core, each rewrites only its section of the "
        "output); pages: one A/B, training and notification list page each, compiled and "
        "not, in process on SQLite; sqlite-core: (a)-(c) compiled and not, in process on a "
        "copy of the full SQLite data. Default: core, abtest and postgraphile",
    )
    parser.add_argument(
        "--page-requests", type=int, default=200, help="requests per page and mode (pages)"
    )
    parser.add_argument(
        "--core-requests",
        type=int,
        default=100,
        help="requests per document and mode (sqlite-core)",
    )
    parser.add_argument(
        "--peer",
        action="append",
        choices=["postgraphile", "raw"],
        help="peers of expgraph in the postgraphile section (repeatable; default: both, "
        "PostGraphile 5 when node and npm are available, said on stderr when not)",
    )
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args()
    databases = list(dict.fromkeys(args.database or ["postgresql"]))
    sizes = args.size or ["small"]
    logs = ROOT / ".bench-logs"
    logs.mkdir(exist_ok=True)
    sections = list(dict.fromkeys(args.section or ["core", "abtest", "postgraphile"]))
    results = []
    if "core" in sections:
        for database in databases:
            if database == "sqlite":
                results += [await run_size_sqlite(size, args, logs) for size in sizes]
            else:
                server_url = _postgresql_server(args)
                results += [await run_size(size, server_url, args, logs) for size in sizes]
    ab_result = None
    if "abtest" in sections and "postgresql" in databases:
        ab_result = await run_abtest(_postgresql_server(args), args, logs)
    training_result = None
    if "training" in sections and "postgresql" in databases:
        from bench import training

        training_result = await training.run(_postgresql_server(args), args, logs)
    peers_result = None
    if "postgraphile" in sections and "postgresql" in databases:
        from bench import peers

        peers_result = await peers.run(_postgresql_server(args), args, logs, sizes)
    pages_result = None
    if "pages" in sections:
        from bench import pages

        pages_result = await pages.run(args)
    sqlite_core_result = None
    if "sqlite-core" in sections:
        from bench import sqlite_core

        sqlite_core_result = await sqlite_core.run(args)
    output = Path(args.output)
    if "core" in sections:
        output.write_text(render(results, args, ab_result))
    elif ab_result is not None:
        current = output.read_text() if output.exists() else "# Performance\n"
        output.write_text(splice_section(current, AB_HEADING, render_abtest(ab_result, args)))
    if training_result is not None:
        current = output.read_text() if output.exists() else "# Performance\n"
        section = training.render(training_result, args)
        output.write_text(splice_section(current, training.HEADING, section))
    if peers_result is not None:
        current = output.read_text() if output.exists() else "# Performance\n"
        section = peers.render(peers_result, args)
        output.write_text(splice_section(current, peers.HEADING, section))
    if pages_result is not None:
        current = output.read_text() if output.exists() else "# Performance\n"
        section = pages.render(pages_result, args)
        output.write_text(splice_section(current, pages.HEADING, section))
    if sqlite_core_result is not None:
        current = output.read_text() if output.exists() else "# Performance\n"
        section = sqlite_core.render(sqlite_core_result, args)
        output.write_text(splice_section(current, sqlite_core.HEADING, section))
    print(output.read_text())


def _postgresql_server(args: argparse.Namespace) -> str:
    server_url: str | None = args.url
    if server_url is None:
        import pgserver

        pg = pgserver.get_server(str(ROOT / ".bench-pg"), cleanup_mode=None)
        server_url = (
            make_url(pg.get_uri())
            .set(drivername="postgresql+asyncpg")
            .render_as_string(hide_password=False)
        )
    return server_url


if __name__ == "__main__":
    asyncio.run(main())
