"""Hardening probes: the abuse cases of the hardening review, re-run against a real server.

Starts a throwaway PostgreSQL (pgserver) unless ``--url`` names a server, migrates
a fresh database, creates an admin, serves expgraph with authentication on
(uvicorn, one worker, loopback only), and sends each probe once while a thread
polls ``/healthz`` every 50 ms. Prints, per probe, the HTTP status, the error
codes and the time taken, and the slowest ``/healthz`` answer seen meanwhile.

    .venv/bin/python -m bench.probes [--url postgresql+asyncpg://...]

Every request goes to 127.0.0.1; every loop is bounded; the server is stopped at
the end.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.run import free_port, wait_ready
from expgraph.db import migrate

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "probe password long enough"


def gid(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def fan_out_document(levels: int = 26, fan: int = 4) -> str:
    """Fragments each spreading the next ``fan`` times: fan**levels paths, ~1.3 KB."""
    parts = ["query { ...F0 }"]
    for i in range(levels - 1):
        spreads = " ".join(f"...F{i + 1}" for _ in range(fan))
        parts.append(f"fragment F{i} on Query {{ {spreads} }}")
    parts.append(f"fragment F{levels - 1} on Query {{ __typename }}")
    return "\n".join(parts)


class HealthWatch:
    """Polls /healthz every 50 ms in a thread; remembers the slowest answer."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.slowest = 0.0
        self.failures = 0
        self.polls = 0
        self._started = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                start = time.perf_counter()
                self._started.set()
                try:
                    ok = client.get(f"{self.base}/healthz").status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.slowest = max(self.slowest, time.perf_counter() - start)
                self.failures += not ok
                self.polls += 1
                self._stop.wait(0.05)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        self._started.wait(5)  # a poll is in flight while the probe runs
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def codes(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "(not JSON)"
    errors = body.get("errors") or []
    found = sorted({str((e.get("extensions") or {}).get("code")) for e in errors})
    answer = ",".join(found) or "none"
    nodes = (body.get("data") or {}).get("nodes")
    if isinstance(nodes, list):
        answer += f" ({sum(n is not None for n in nodes)} of {len(nodes)} visible)"
    return answer


class Caller:
    def __init__(self, base: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=base, headers=headers, timeout=120)

    def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post("/graphql", json={"query": query, "variables": variables or {}})

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables).json()
        if body.get("errors"):
            raise RuntimeError(f"{query[:60]}...: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data


def login(base: str, username: str) -> Caller:
    anonymous = Caller(base)
    data = anonymous.data(
        "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) { token } }",
        {"u": username, "p": PASSWORD},
    )
    return Caller(base, data["login"]["token"])


def setup(admin: Caller) -> dict[str, Any]:
    """A viewer, a tag, a dataset with a few examples and an evaluation experiment."""
    admin.data(
        """mutation($p: String!) { createUser(input: {username: "viewer", email: "v@probe.example",
        role: VIEWER, password: $p}) { user { id } } }""",
        {"p": PASSWORD},
    )
    admin.data('mutation { createTag(input: {name: "probe"}) { tag { id } } }')
    dataset = admin.data(
        'mutation { createDataset(input: {name: "probe set"}) { dataset { id } } }'
    )
    dataset_id = dataset["createDataset"]["dataset"]["id"]
    version = admin.data(
        "mutation($d: ID!) { createDatasetVersion(input: {datasetId: $d}) { datasetVersion { id } } }",
        {"d": dataset_id},
    )["createDatasetVersion"]["datasetVersion"]["id"]
    admin.data(
        """mutation($d: ID!, $v: ID!, $x: [DatasetExampleInput!]!) { addDatasetExamples(input:
        {datasetId: $d, datasetVersionId: $v, examples: $x}) { datasetVersion { id } } }""",
        {"d": dataset_id, "v": version, "x": [{"input": {"q": i}} for i in range(200)]},
    )
    return {"dataset": dataset_id, "version": version}


def probes(
    base: str, admin: Caller, viewer: Caller, made: dict[str, Any]
) -> Iterator[tuple[str, Callable[[], httpx.Response]]]:
    anonymous = Caller(base)
    fan = fan_out_document()
    yield "fragment fan-out, anonymous (1.3 KB, 4^25 paths)", lambda: anonymous.post(fan)
    yield "fragment fan-out, signed in", lambda: viewer.post(fan)
    walk = [gid(t, pk) for t in ("ApiKey", "Session", "SystemLog") for pk in range(1, 40)]
    yield (
        "node walk as a viewer: 117 ids of keys, sessions, audit records",
        lambda: viewer.post("query($i: [ID!]!) { nodes(ids: $i) { id __typename } }", {"i": walk}),
    )
    aliases = " ".join(f"a{i}: nodes(ids: $i) {{ id }}" for i in range(30))
    many = [gid("Tag", pk) for pk in range(1, 501)]
    yield (
        "30 aliases x nodes(ids:) of 500 ids",
        lambda: viewer.post(f"query($i: [ID!]!) {{ {aliases} }}", {"i": many}),
    )
    slugs = [f"slug-{i}" for i in range(200)]
    yield (
        "experiments(filter: {tagSlugs}) with 200 slugs",
        lambda: viewer.post(
            "query($s: [String!]) { experiments(filter: {tagSlugs: $s}) { totalCount } }",
            {"s": slugs},
        ),
    )
    create = """mutation($r: Int, $d: ID!, $v: ID!) { createExperiment(input: {kind: EVALUATION,
      name: "huge", evaluation: {datasetId: $d, datasetVersionId: $v, repetitions: $r}}) {
      experiment { id } } }"""
    yield (
        "evaluation experiment with repetitions 2^31-1",
        lambda: admin.post(create, {"r": 2**31 - 1, "d": made["dataset"], "v": made["version"]}),
    )
    capped = admin.data(create, {"r": 1000, "d": made["dataset"], "v": made["version"]})
    experiment = capped["createExperiment"]["experiment"]["id"]
    admin.data(
        """mutation($e: ID!) { createExecutionConfig(input: {experimentId: $e, taskConfig:
        {modelName: "m", modelProvider: "echo"}}) { executionConfig { id } } }""",
        {"e": experiment},
    )
    yield (
        "incompleteRuns(first: 1) at 1,000 repetitions x 200 examples",
        lambda: viewer.post(
            """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
            incompleteRuns(first: 1) { items { repetitionNumber } } } } }""",
            {"e": experiment},
        ),
    )
    yield (
        "a tag name with NUL",
        lambda: admin.post(
            "mutation($n: String!) { createTag(input: {name: $n}) { tag { id } } }",
            {"n": "a\u0000b"},
        ),
    )
    yield (
        "Float 1e400 literal (completeSimulationRun)",
        lambda: admin.post(
            'mutation { completeSimulationRun(input: {id: "U2ltdWxhdGlvblJ1bjox", '
            "executionTimeSeconds: 1e400}) { __typename } }"
        ),
    )
    yield (
        "JSON integer 2^64 in a dataset example",
        lambda: admin.post(
            """mutation($d: ID!, $v: ID!) { addDatasetExamples(input: {datasetId: $d,
        datasetVersionId: $v, examples: [{input: {n: 18446744073709551616}}]}) {
        datasetVersion { id } } }""",
            {"d": made["dataset"], "v": made["version"]},
        ),
    )
    yield (
        "id Tag:0001 (leading zeros)",
        lambda: viewer.post(
            "query($i: ID!) { node(id: $i) { id } }",
            {"i": base64.urlsafe_b64encode(b"Tag:0001").decode()},
        ),
    )

    def big_body() -> httpx.Response:
        chunk = b" " * (1024 * 1024)

        def body() -> Iterator[bytes]:
            yield b'{"query": "{ __typename }", "padding": "'
            for _ in range(100):
                yield chunk
            yield b'"}'

        return viewer.client.post(
            "/graphql", content=body(), headers={"Content-Type": "application/json"}
        )

    yield "100 MB body", big_body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a PostgreSQL server URL (postgresql+asyncpg://...)")
    args = parser.parse_args()
    server_url = args.url
    if server_url is None:
        import pgserver

        pg = pgserver.get_server(tempfile.mkdtemp(prefix="expgraph-probes-"), cleanup_mode="stop")
        server_url = (
            make_url(pg.get_uri()).set(drivername="postgresql+asyncpg").render_as_string(False)
        )
    import asyncio

    database = f"probes_{os.getpid()}"

    async def create() -> None:
        dsn = make_url(server_url).set(drivername="postgresql", database="postgres")
        connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        await connection.execute(f'CREATE DATABASE "{database}"')
        await connection.close()

    asyncio.run(create())
    url = make_url(server_url).set(database=database).render_as_string(hide_password=False)
    migrate.upgrade(url)
    env = {**os.environ, "EXPGRAPH_DATABASE_URL": url, "EXPGRAPH_AUTH_ENABLED": "true"}
    expgraph = [sys.executable, "-m", "expgraph.cli"]
    subprocess.run(
        [*expgraph, "users", "create-admin", "--username", "admin", "--email",
         "admin@probe.example", "--password", PASSWORD],
        env=env, check=True, cwd=ROOT, capture_output=True,
    )  # fmt: skip
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkdtemp()) / "server.log"
    server = subprocess.Popen(
        [*expgraph, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(f"{base}/healthz", server)
        admin = login(base, "admin")
        made = setup(admin)
        viewer = login(base, "viewer")
        print("| probe | HTTP | codes | seconds | /healthz meanwhile: polls, slowest |")
        print("| --- | ---: | --- | ---: | ---: |")
        for name, send in probes(base, admin, viewer, made):
            with HealthWatch(base) as watch:
                start = time.perf_counter()
                try:
                    response = send()
                    status, found = str(response.status_code), codes(response)
                except httpx.HTTPError as exc:
                    status, found = "-", type(exc).__name__
                elapsed = time.perf_counter() - start
            health = f"{watch.polls}, {watch.slowest:.3f} s, {watch.failures} failed"
            print(f"| {name} | {status} | {found} | {elapsed:.3f} | {health} |")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
