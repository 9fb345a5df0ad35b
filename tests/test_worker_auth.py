"""The worker with authentication on, against the real ASGI app, on SQLite and
PostgreSQL: a key made as the README says runs an experiment to completion; a
key without READ stops the worker with a reason and marks nothing FAILED; rate
limits (HTTP 429) are waited out as Retry-After says; connection errors are
retried with back-off; the claim is released on errors and on cancellation."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts import models, service
from expgraph.worker.executors import Result, Task, echo
from expgraph.worker.runner import Worker, WorkerOptions, WorkerStopped
from tests.auth_helpers import PASSWORD, Caller
from tests.conftest import GraphQLClient
from tests.test_worker import _serve

ROOT = Path(__file__).resolve().parents[1]
URL = "http://test/graphql"
PROGRESS = """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
  progress { expected completed failed } executionConfig { state claimedBy }
  runs { totalCount } annotationSummaries { name count } } } }"""


def readme_key_mutation() -> str:
    """The createApiKey document of the README's worker section, as written there."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Execution and workers") :]
    found = re.search(r"```graphql\n(mutation \{ createApiKey\(.*?)\n```", section, re.S)
    assert found, "the README shows how to make a worker's key"
    return found.group(1)


@pytest.fixture
async def auth_app(settings: Settings, db: Database) -> Any:
    async with db.transaction() as session:
        await service.create_user(
            session,
            username="member",
            email="member@example.com",
            role=models.UserRole.MEMBER,
            password=PASSWORD,
        )
    changes = {"auth_enabled": True, "request_log_enabled": False}
    return create_app(settings.model_copy(update=changes), db=db)


@pytest.fixture
async def member(auth_app: Any) -> AsyncIterator[Caller]:
    caller = Caller(auth_app)
    await caller.login("member")
    yield caller
    await caller.aclose()


async def make_experiment(caller: Caller, examples: int, name: str = "e2e") -> str:
    data = caller.gql.data
    dataset_id = (
        await data(
            "mutation($n: String!) { createDataset(input: {name: $n}) { dataset { id } } }",
            {"n": f"{name}-data"},
        )
    )["createDataset"]["dataset"]["id"]
    version_id = (
        await data(
            "mutation($d: ID!) { createDatasetVersion(input: {datasetId: $d}) "
            "{ datasetVersion { id } } }",
            {"d": dataset_id},
        )
    )["createDatasetVersion"]["datasetVersion"]["id"]
    await data(
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
    experiment_id = (
        await data(
            """mutation($d: ID!, $v: ID!, $n: String!) { createExperiment(input: {
            kind: EVALUATION, name: $n, evaluation: {datasetId: $d, datasetVersionId: $v,
            repetitions: 1}}) { experiment { id } } }""",
            {"d": dataset_id, "v": version_id, "n": name},
        )
    )["createExperiment"]["experiment"]["id"]
    await data(
        """mutation($e: ID!) { createExecutionConfig(input: {experimentId: $e,
        taskConfig: {modelProvider: "echo", modelName: "echo"},
        evaluatorConfigs: [{name: "exact", kind: EXACT_MATCH}]}) {
        executionConfig { id } } }""",
        {"e": experiment_id},
    )
    return experiment_id


async def progress(caller: Caller, experiment_id: str) -> dict[str, Any]:
    node: dict[str, Any] = (await caller.gql.data(PROGRESS, {"e": experiment_id}))["node"]
    return node


async def worker_key(caller: Caller, document: str | None = None) -> str:
    """A key made with the README's own mutation (or ``document``)."""
    data = await caller.gql.data(document or readme_key_mutation())
    key: str = data["createApiKey"]["key"]
    return key


class RecordingWorker(Worker):
    """A worker whose waits before retrying are recorded; ``on_pause`` stands
    for the time passing (e.g. the rate-limit minute ending)."""

    def __init__(self, *args: Any, on_pause: Callable[[], Any] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.pauses: list[float] = []
        self.on_pause = on_pause

    async def _pause(self, seconds: float, *, interruptible: bool) -> None:
        self.pauses.append(seconds)
        if self.on_pause is not None:
            await self.on_pause()


def worker(
    app: Any,
    key: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    cls: type[Worker] = Worker,
    executor: Any = echo,
    on_pause: Callable[[], Any] | None = None,
    **options: Any,
) -> Any:
    settings = {"heartbeat_seconds": 0.5, "exit_when_idle": True, "batch_size": 5, **options}
    extra = {"on_pause": on_pause} if cls is RecordingWorker else {}
    return cls(
        WorkerOptions(url=URL, worker_id="w1", api_key=key, **settings),
        executor,
        transport=transport or httpx.ASGITransport(app=app),
        **extra,
    )


async def test_a_key_made_as_the_readme_says_runs_an_experiment_to_completion(auth_app, member):
    experiment_id = await make_experiment(member, examples=12)
    key = await worker_key(member)
    scopes = await member.gql.data("{ apiKeys { edges { node { scopes rateLimit } } } }")
    assert scopes["apiKeys"]["edges"][0]["node"]["scopes"] == ["EXECUTE", "READ"]
    runner = worker(auth_app, key)
    reason = await runner.run()
    assert reason == "nothing left to claim"
    assert runner.completed_experiments == 1
    node = await progress(member, experiment_id)
    assert node["progress"] == {"expected": "12", "completed": 12, "failed": 0}
    assert node["executionConfig"] == {"state": "COMPLETED", "claimedBy": None}
    assert node["annotationSummaries"] == [{"name": "exact", "count": 12}]


async def test_a_preset_and_scopes_add_up_and_a_viewer_cannot_have_the_preset(auth_app, member, db):
    made = await member.gql.data(
        'mutation { createApiKey(input: {name: "w", preset: WORKER, scopes: [WRITE]}) '
        "{ apiKey { scopes } } }"
    )
    assert made["createApiKey"]["apiKey"]["scopes"] == ["EXECUTE", "READ", "WRITE"]
    body = await member.gql.post('mutation { createApiKey(input: {name: "none"}) { key } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    async with db.transaction() as session:
        await service.create_user(
            session,
            username="viewer",
            email="viewer@example.com",
            role=models.UserRole.VIEWER,
            password=PASSWORD,
        )
    viewer = Caller(auth_app)
    await viewer.login("viewer")
    body = await viewer.gql.post(
        'mutation { createApiKey(input: {name: "w", preset: WORKER}) { key } }'
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "execute" in body["errors"][0]["message"]
    await viewer.aclose()


async def test_a_key_without_read_stops_the_worker_and_fails_nothing(auth_app, member):
    """The issue: an EXECUTE-only key used to mark every config FAILED, one after
    the other. Now the first refusal stops the worker, says why, and the claimed
    experiment goes back to the queue."""
    first = await make_experiment(member, examples=3, name="first")
    second = await make_experiment(member, examples=3, name="second")
    key = await worker_key(
        member, 'mutation { createApiKey(input: {name: "x", scopes: [EXECUTE]}) { key } }'
    )
    runner = worker(auth_app, key)
    with pytest.raises(WorkerStopped) as stopped:
        await runner.run()
    assert runner.completed_experiments == 0
    message = str(stopped.value)
    assert "needs the read permission" in message
    assert "preset: WORKER" in message
    for experiment_id in (first, second):
        node = await progress(member, experiment_id)
        assert node["executionConfig"] == {"state": "QUEUED", "claimedBy": None}
        assert node["progress"]["failed"] == 0


async def test_a_revoked_key_stops_the_worker_with_a_reason(auth_app, member):
    await make_experiment(member, examples=2)
    key = await worker_key(member)
    made = await member.gql.data("{ apiKeys { edges { node { id } } } }")
    key_id = made["apiKeys"]["edges"][0]["node"]["id"]
    await member.gql.data(
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }", {"id": key_id}
    )
    with pytest.raises(WorkerStopped, match="unknown, revoked or expired"):
        await worker(auth_app, key).run()


async def test_rate_limits_are_waited_out_as_retry_after_says(auth_app, member, db):
    """A key allowed 3 requests a minute: the worker gets HTTP 429s, waits the
    Retry-After the server sends (here the minute 'passes' when it waits) and
    completes; nothing is FAILED."""
    experiment_id = await make_experiment(member, examples=12)
    key = await worker_key(
        member,
        'mutation { createApiKey(input: {name: "slow", preset: WORKER, rateLimit: 3}) { key } }',
    )

    async def minute_passes() -> None:
        async with db.transaction() as session:
            await session.execute(delete(models.ApiRateWindow))

    runner = worker(auth_app, key, cls=RecordingWorker, on_pause=minute_passes)
    assert await runner.run() == "nothing left to claim"
    assert len(runner.pauses) >= 2
    assert all(1 <= p <= 60 and p == int(p) for p in runner.pauses), runner.pauses
    node = await progress(member, experiment_id)
    assert node["executionConfig"]["state"] == "COMPLETED"
    assert node["progress"] == {"expected": "12", "completed": 12, "failed": 0}


async def test_a_stop_while_waiting_out_a_rate_limit_releases_and_exits(auth_app, member, db):
    """SIGTERM (stop) during a Retry-After wait: the worker does not wait the
    minute out; it releases its claim and returns why it stopped."""
    experiment_id = await make_experiment(member, examples=6)
    key = await worker_key(
        member,
        'mutation { createApiKey(input: {name: "slow", preset: WORKER, rateLimit: 1}) { key } }',
    )

    class Stopped(Worker):
        async def _pause(self, seconds: float, *, interruptible: bool) -> None:
            self.stop()
            async with db.transaction() as session:  # the release is not refused
                await session.execute(delete(models.ApiRateWindow))
            await super()._pause(0.01, interruptible=interruptible)

    runner = worker(auth_app, key, cls=Stopped)
    assert await runner.run() == "asked to stop (SIGTERM or Ctrl-C)"
    node = await progress(member, experiment_id)
    assert node["executionConfig"] == {"state": "QUEUED", "claimedBy": None}
    assert node["progress"]["completed"] == 0


class Flaky(httpx.AsyncBaseTransport):
    """The app behind a network that refuses the first ``failures`` connections."""

    def __init__(self, app: Any, failures: int) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.failures = failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_connection_errors_are_retried_with_exponential_back_off(auth_app, member):
    experiment_id = await make_experiment(member, examples=4)
    key = await worker_key(member)
    runner = worker(auth_app, key, cls=RecordingWorker, transport=Flaky(auth_app, 3))
    assert await runner.run() == "nothing left to claim"
    assert len(runner.pauses) == 3
    for pause, base in zip(runner.pauses, (0.5, 1.0, 2.0), strict=True):
        assert base <= pause <= base * 1.25
    assert (await progress(member, experiment_id))["executionConfig"]["state"] == "COMPLETED"


async def test_a_server_that_stays_unreachable_stops_the_worker_with_a_reason(auth_app, member):
    key = await worker_key(member)
    runner = worker(auth_app, key, cls=RecordingWorker, transport=Flaky(auth_app, 100), retries=3)
    with pytest.raises(WorkerStopped, match="claimExecution failed 4 times in a row: cannot reach"):
        await runner.run()
    assert len(runner.pauses) == 3
    assert runner.pauses[-1] <= 2.0 * 1.25


async def test_a_cancelled_worker_releases_its_claim(auth_app, member):
    experiment_id = await make_experiment(member, examples=40)
    key = await worker_key(member)
    started = asyncio.Event()

    async def slow(task: Task) -> Result:
        started.set()
        await asyncio.sleep(0.05)
        return await echo(task)

    runner = worker(auth_app, key, executor=slow, concurrency=1)
    running = asyncio.create_task(runner.run())
    await started.wait()
    node = await progress(member, experiment_id)
    assert node["executionConfig"] == {"state": "RUNNING", "claimedBy": "w1"}
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    node = await progress(member, experiment_id)
    assert node["executionConfig"] == {"state": "QUEUED", "claimedBy": None}
    assert node["progress"]["completed"] < 40


async def test_an_error_of_the_work_releases_the_claim_with_the_error(auth_app, member):
    """An output the server refuses (BAD_REQUEST: over the JSON size limit) is the
    work's fault: the claim is released with the error (FAILED), not left held."""
    experiment_id = await make_experiment(member, examples=2)
    key = await worker_key(member)

    async def huge(task: Task) -> Result:
        return Result(output={"text": "x" * 1_000_000})

    runner = worker(auth_app, key, executor=huge)
    assert await runner.run() == "nothing left to claim"
    assert runner.completed_experiments == 0
    node = await progress(member, experiment_id)
    assert node["executionConfig"] == {"state": "FAILED", "claimedBy": None}


# --- the README's own commands: `expgraph serve` with auth on, `expgraph worker` ----------


@pytest.fixture
def auth_server(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """`expgraph serve` with authentication on (as processes, like tests/test_worker.py)."""
    monkeypatch.setenv("EXPGRAPH_AUTH_ENABLED", "true")
    process, url = _serve(database_url, tmp_path / "server.log")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def cli_worker(url: str, key: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-m", "expgraph.cli", "worker", "--url", url, "--api-key", key),
            *("--worker-id", "cli", "--exit-when-idle", "--heartbeat-seconds", "0.5", *extra),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )


async def test_the_readmes_commands_run_an_experiment_with_auth_on(auth_server, db):
    async with db.transaction() as session:
        await service.create_user(
            session,
            username="member",
            email="member@example.com",
            role=models.UserRole.MEMBER,
            password=PASSWORD,
        )
    async with httpx.AsyncClient(base_url=auth_server.removesuffix("/graphql")) as http:
        caller = Caller.__new__(Caller)
        caller.http = http
        caller.gql = GraphQLClient(http)
        caller.reference = None  # a real server over the network: nothing to compare with
        await caller.login("member")
        experiment_id = await make_experiment(caller, examples=10)
        refused = await worker_key(
            caller, 'mutation { createApiKey(input: {name: "x", scopes: [EXECUTE]}) { key } }'
        )
        done = await asyncio.to_thread(cli_worker, auth_server, refused)
        assert done.returncode == 1, done.stdout + done.stderr
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith(
            "worker cli stopped (0 completed): the server refused incompleteRuns"
        )
        assert "preset: WORKER" in done.stderr
        node = await progress(caller, experiment_id)
        assert node["executionConfig"] == {"state": "QUEUED", "claimedBy": None}

        done = await asyncio.to_thread(cli_worker, auth_server, await worker_key(caller))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "worker cli stopped (1 completed): nothing left to claim" in done.stdout
        node = await progress(caller, experiment_id)
        assert node["executionConfig"] == {"state": "COMPLETED", "claimedBy": None}
        assert node["progress"] == {"expected": "10", "completed": 10, "failed": 0}

        done = await asyncio.to_thread(
            cli_worker, auth_server, await worker_key(caller), "--experiment-id", experiment_id
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"experiment {experiment_id} cannot be claimed: every expected run is recorded" in (
            done.stdout
        )
