"""The worker as processes: a real server, real workers over HTTP, a crash.

Both dialects; the server runs with a short stale threshold so a takeover after
a crash happens within seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

ROOT = Path(__file__).resolve().parents[1]
STALE = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(database_url: str, log_path: Path, stale: int = STALE) -> tuple[subprocess.Popen, str]:
    """Start `expgraph serve` on a free port; returns (process, /graphql URL) once ready."""
    port = _free_port()
    env = {
        **os.environ,
        "EXPGRAPH_DATABASE_URL": database_url,
        "EXPGRAPH_EXECUTION_STALE_SECONDS": str(stale),
        "EXPGRAPH_EXECUTION_TOGGLE_COOLDOWN_SECONDS": "0",
        "EXPGRAPH_REQUEST_LOG_ENABLED": "false",
    }
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "expgraph.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return process, f"{base}/graphql"


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    process, url = _serve(database_url, tmp_path / "server.log")
    yield url
    process.terminate()
    process.wait(timeout=20)


def gql(url: str, query: str, variables: dict | None = None) -> dict:
    body = httpx.post(url, json={"query": query, "variables": variables or {}}, timeout=60).json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def make_experiment(url: str, examples: int, repetitions: int, delay_ms: int = 0) -> str:
    dataset = gql(url, 'mutation { createDataset(input: {name: "qa"}) { dataset { id } } }')
    dataset_id = dataset["createDataset"]["dataset"]["id"]
    version = gql(
        url,
        "mutation($d: ID!) { createDatasetVersion(input: {datasetId: $d}) "
        "{ datasetVersion { id } } }",
        {"d": dataset_id},
    )
    version_id = version["createDatasetVersion"]["datasetVersion"]["id"]
    gql(
        url,
        """mutation($d: ID!, $v: ID!, $ex: [DatasetExampleInput!]!) {
        addDatasetExamples(input: {datasetId: $d, datasetVersionId: $v, examples: $ex}) {
        dataset { id } } }""",
        {
            "d": dataset_id,
            "v": version_id,
            "ex": [
                {"input": {"question": f"q{i}"}, "output": {"answer": f"a{i}"}}
                for i in range(examples)
            ],
        },
    )
    created = gql(
        url,
        """mutation($d: ID!, $v: ID!, $r: Int!) { createExperiment(input: {
        kind: EVALUATION, name: "e2e", evaluation: {datasetId: $d, datasetVersionId: $v,
        repetitions: $r}}) { experiment { id } } }""",
        {"d": dataset_id, "v": version_id, "r": repetitions},
    )
    experiment_id = created["createExperiment"]["experiment"]["id"]
    gql(
        url,
        """mutation($e: ID!, $p: JSON) { createExecutionConfig(input: {experimentId: $e,
        taskConfig: {modelProvider: "echo", modelName: "echo", invocationParameters: $p},
        evaluatorConfigs: [{name: "exact", kind: EXACT_MATCH}, {name: "checksum"}]}) {
        executionConfig { id } } }""",
        {"e": experiment_id, "p": {"delay_ms": delay_ms}},
    )
    return experiment_id


def start_worker(url: str, name: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "expgraph.cli",
            "worker",
            "--url",
            url,
            "--worker-id",
            name,
            "--heartbeat-seconds",
            "0.5",
            "--concurrency",
            "8",
            "--exit-when-idle",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


PROGRESS = """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
  progress { expected completed failed missing fraction } executionConfig { state }
  runs { totalCount } annotationSummaries { name count } } } }"""


async def _watch(url: str, experiment_id: str, seen: list[dict], done: asyncio.Event) -> None:
    ws_url = url.replace("http://", "ws://")
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": "subscription($e: ID!) { executionUpdates(experimentId: $e) "
                        "{ state progress { completed fraction } } }",
                        "variables": {"e": experiment_id},
                    },
                }
            )
        )
        while not done.is_set():
            try:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=0.5))
            except TimeoutError:
                continue
            if message["type"] == "next":
                seen.append(message["payload"]["data"]["executionUpdates"])


async def test_two_workers_complete_an_experiment_and_a_subscriber_sees_it(server):
    experiment_id = make_experiment(server, examples=200, repetitions=3)
    seen: list[dict] = []
    done = asyncio.Event()
    watcher = asyncio.create_task(_watch(server, experiment_id, seen, done))
    await asyncio.sleep(1)
    workers = [start_worker(server, f"w{i}") for i in range(2)]
    for worker in workers:
        output, _ = await asyncio.to_thread(worker.communicate, timeout=240)
        assert worker.returncode == 0, output
    await asyncio.sleep(1.5)
    done.set()
    await watcher
    node = gql(server, PROGRESS, {"e": experiment_id})["node"]
    assert node["progress"] == {
        "expected": "600",
        "completed": 600,
        "failed": 0,
        "missing": "0",
        "fraction": 1.0,
    }
    assert node["executionConfig"]["state"] == "COMPLETED"
    assert node["runs"]["totalCount"] == 600  # every pair exactly once
    assert node["annotationSummaries"] == [
        {"name": "checksum", "count": 600},
        {"name": "exact", "count": 600},
    ]
    assert seen and seen[0]["progress"]["completed"] < 600
    assert seen[-1] == {"state": "COMPLETED", "progress": {"completed": 600, "fraction": 1.0}}


async def test_a_killed_worker_is_taken_over_and_nothing_is_duplicated(server):
    experiment_id = make_experiment(server, examples=60, repetitions=2, delay_ms=30)
    first = start_worker(server, "doomed", "--batch-size", "10", "--concurrency", "2")
    deadline = time.monotonic() + 60
    while True:
        progress = gql(server, PROGRESS, {"e": experiment_id})["node"]["progress"]
        if progress["completed"] >= 20:
            break
        assert time.monotonic() < deadline, "the first worker made no progress"
        await asyncio.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert gql(server, PROGRESS, {"e": experiment_id})["node"]["progress"]["completed"] < 120
    await asyncio.sleep(STALE + 0.5)  # the claim goes stale: ORPHANED
    state = gql(server, PROGRESS, {"e": experiment_id})["node"]["executionConfig"]["state"]
    assert state == "ORPHANED"
    second = start_worker(server, "rescuer")
    output, _ = await asyncio.to_thread(second.communicate, timeout=120)
    assert second.returncode == 0, output
    node = gql(server, PROGRESS, {"e": experiment_id})["node"]
    assert node["progress"]["completed"] == 120
    assert node["runs"]["totalCount"] == 120
    assert node["executionConfig"]["state"] == "COMPLETED"


async def test_sigterm_releases_and_exits_cleanly(server):
    experiment_id = make_experiment(server, examples=100, repetitions=1, delay_ms=50)
    worker = start_worker(server, "polite", "--batch-size", "5", "--concurrency", "1")
    deadline = time.monotonic() + 60
    while gql(server, PROGRESS, {"e": experiment_id})["node"]["progress"]["completed"] == 0:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    worker.send_signal(signal.SIGTERM)
    output, _ = await asyncio.to_thread(worker.communicate, timeout=30)
    assert worker.returncode == 0, output
    node = gql(server, PROGRESS, {"e": experiment_id})["node"]
    assert node["executionConfig"]["state"] == "QUEUED"  # released, not orphaned
    assert 0 < node["progress"]["completed"] < 100


@pytest.mark.parametrize("dialect", ["postgresql"], indirect=True)
async def test_updates_cross_server_processes_through_postgres(database_url, tmp_path):
    """A subscriber on one server process hears, within seconds, a change made
    through another: NOTIFY, not the 30 s safety re-read (stale threshold 600 s)."""
    first, server = _serve(database_url, tmp_path / "first.log", stale=600)
    other, other_url = _serve(database_url, tmp_path / "other.log", stale=600)
    experiment_id = make_experiment(server, examples=3, repetitions=1)
    try:
        seen: list[dict] = []
        done = asyncio.Event()
        watcher = asyncio.create_task(_watch(server, experiment_id, seen, done))
        deadline = time.monotonic() + 10
        while not seen:
            assert time.monotonic() < deadline, "no first update"
            await asyncio.sleep(0.1)
        assert seen[0]["state"] == "QUEUED"
        gql(
            other_url,
            """mutation($e: ID!) { toggleExecution(input: {experimentId: $e,
            enabled: false}) { executionConfig { state } } }""",
            {"e": experiment_id},
        )
        while len(seen) < 2:
            assert time.monotonic() < deadline, f"no update from the other process: {seen}"
            await asyncio.sleep(0.1)
        done.set()
        await watcher
        assert seen[-1]["state"] == "STOPPED"
    finally:
        for process in (first, other):
            process.terminate()
            process.wait(timeout=20)
