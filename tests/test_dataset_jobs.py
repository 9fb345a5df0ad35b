"""Dataset jobs (issue 16): generations and imports created PENDING, claimed
through the kernel's claims (16 concurrent claimers on 5 jobs: 5 claims, each job
once), progress from the holder only (a stale token is a CONFLICT with its reason,
progress never goes down within a claim), a stale job taken over, finishing writes
the dataset and its signals (or updates the dataset the job names) and releases
the claim, cancel, listings with a status filter, bad input refused, and
datasetJobProgress over a WebSocket to a real server (both databases)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text

from expgraph.app import create_app
from tests.conftest import GraphQLClient
from tests.helpers import create_dataset
from tests.test_worker import _serve

JOB = """id kind status progress workerId fencingToken claimedAt numSignals outputPath
  durationSeconds errorMessage finishedAt name config
  dataset { id name numSignals faultTypes severityLevels filePath description
    signals { edges { node { signalId faultClass severity rms } } } }
  ... on DatasetGeneration { numFaults } ... on DatasetImport { numFiles }"""
CREATE_GEN = f"""mutation($input: CreateDatasetJobInput!) {{
  createDatasetGeneration(input: $input) {{ job {{ {JOB} }} }} }}"""
CREATE_IMP = f"""mutation($input: CreateDatasetJobInput!) {{
  createDatasetImport(input: $input) {{ job {{ {JOB} }} }} }}"""
CLAIM = f"""mutation($input: ClaimDatasetJobInput!) {{
  claimDatasetJob(input: $input) {{ job {{ {JOB} }} }} }}"""
PROGRESS = f"""mutation($input: ReportDatasetJobProgressInput!) {{
  reportDatasetJobProgress(input: $input) {{ job {{ {JOB} }} }} }}"""
FINISH = f"""mutation($input: FinishDatasetJobInput!) {{
  finishDatasetJob(input: $input) {{ job {{ {JOB} }} }} }}"""
CANCEL = f"""mutation($input: CancelDatasetJobInput!) {{
  cancelDatasetJob(input: $input) {{ job {{ {JOB} }} }} }}"""
LISTS = """query($statuses: [DatasetJobStatus!]) {
  gens: datasetGenerations(filter: {statuses: $statuses}) { totalCount edges { node { name status } } }
  imps: datasetImports(filter: {statuses: $statuses}) { totalCount edges { node { name status } } } }"""


async def make(gql, name: str, kind: str = "GENERATION", **extra: Any) -> dict[str, Any]:
    query = CREATE_GEN if kind == "GENERATION" else CREATE_IMP
    data = await gql.data(query, {"input": {"name": name, **extra}})
    return data["createDatasetGeneration" if kind == "GENERATION" else "createDatasetImport"]["job"]


async def claim(gql, worker: str, kind: str | None = None) -> dict[str, Any] | None:
    data = await gql.data(CLAIM, {"input": {"workerId": worker, "kind": kind}})
    job: dict[str, Any] | None = data["claimDatasetJob"]["job"]
    return job


def held(job: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "jobId": job["id"],
        "workerId": job["workerId"],
        "fencingToken": job["fencingToken"],
        **extra,
    }


async def make_stale(db) -> None:
    """Every dataset job's hold is an hour old by the database clock."""
    for table in ("dataset_generations", "dataset_imports"):
        async with db.transaction() as session:
            if db.dialect == "postgresql":
                await session.execute(
                    text(f"UPDATE {table} SET claimed_at = claimed_at - interval '1 hour'")
                )
            else:
                await session.execute(
                    text(
                        f"UPDATE {table} SET claimed_at = strftime('%Y-%m-%d %H:%M:%f000', "
                        "'now', '-1 hour') WHERE claimed_at IS NOT NULL"
                    )
                )


async def test_16_concurrent_claimers_get_5_jobs_each_once(gql, db, settings):
    created = [await make(gql, f"gen-{n}") for n in range(3)]
    created += [await make(gql, f"imp-{n}", "IMPORT") for n in range(2)]
    app = create_app(settings, db=db)

    async def claimer(n: int) -> dict[str, Any] | None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://w") as http:
            return await claim(GraphQLClient(http), f"w{n}")

    results = await asyncio.gather(*(claimer(n) for n in range(16)))
    claimed = [job for job in results if job is not None]
    assert len(claimed) == 5
    assert sorted(job["id"] for job in claimed) == sorted(job["id"] for job in created)
    assert all(job["status"] == "RUNNING" and job["fencingToken"] == "1" for job in claimed)
    assert len({job["workerId"] for job in claimed}) == 5
    assert await claim(gql, "late") is None
    # Generations come before imports when no kind is asked for; a kind narrows.
    more = await make(gql, "imp-late", "IMPORT")
    assert await claim(gql, "picky", "GENERATION") is None
    assert (await claim(gql, "any"))["id"] == more["id"]


async def test_progress_only_from_the_holder_and_never_lower(gql):
    job = await make(gql, "progressing")
    assert job["status"] == "PENDING" and job["progress"] == 0 and job["workerId"] is None
    mine = await claim(gql, "holder")
    assert mine["id"] == job["id"] and mine["claimedAt"] is not None
    body = await gql.data(PROGRESS, {"input": held(mine, progress=40)})
    assert body["reportDatasetJobProgress"]["job"]["progress"] == 40
    body = await gql.data(PROGRESS, {"input": held(mine, progress=25)})
    assert body["reportDatasetJobProgress"]["job"]["progress"] == 40  # never lower
    for wrong, reason in (
        ({"workerId": "intruder"}, "TAKEN_OVER"),
        ({"fencingToken": "7"}, "UNKNOWN_TOKEN"),
    ):
        body = await gql.post(PROGRESS, {"input": held(mine, progress=50, **wrong)})
        error = body["errors"][0]["extensions"]
        assert (error["code"], error["reason"]) == ("CONFLICT", reason), body
    for bad in (-1, 101):
        body = await gql.post(PROGRESS, {"input": held(mine, progress=bad)})
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    # Another kind's id, or an id of no job, is refused.
    body = await gql.post(PROGRESS, {"input": {**held(mine, progress=1), "jobId": "bm9wZTox"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_stale_job_is_taken_over_and_its_old_holder_fenced_out(gql, db):
    await make(gql, "orphan", "IMPORT")
    old = await claim(gql, "old")
    await gql.data(PROGRESS, {"input": held(old, progress=60)})
    assert await claim(gql, "eager") is None  # its hold is fresh
    await make_stale(db)
    new = await claim(gql, "new")
    assert new["id"] == old["id"] and new["workerId"] == "new"
    assert new["fencingToken"] == "2" and new["progress"] == 0 and new["status"] == "RUNNING"
    body = await gql.post(PROGRESS, {"input": held(old, progress=70)})
    assert body["errors"][0]["extensions"]["reason"] == "TAKEN_OVER"
    body = await gql.post(FINISH, {"input": held(old, status="FAILED")})
    assert body["errors"][0]["extensions"]["reason"] == "TAKEN_OVER"
    # The same worker with its old token after claiming again: STALE_TOKEN.
    await make_stale(db)
    again = await claim(gql, "old")
    assert again["fencingToken"] == "3"
    body = await gql.post(PROGRESS, {"input": held(old, progress=70)})
    assert body["errors"][0]["extensions"]["reason"] == "STALE_TOKEN"


async def test_finishing_creates_the_dataset_and_its_signals(gql):
    await make(gql, "synth", config={"faults": ["inner", "outer"], "n": 3})
    job = await claim(gql, "gen-worker", "GENERATION")
    assert job["config"] == {"faults": ["inner", "outer"], "n": 3}
    signals = [
        {"signalId": "s-1", "faultClass": "inner", "severity": "low", "rms": 0.5},
        {"signalId": "s-2", "faultClass": "outer", "severity": "high", "rms": 0.7},
        {"signalId": "s-3", "faultClass": "inner", "severity": "high"},
    ]
    done = await gql.data(
        FINISH,
        {
            "input": held(
                job,
                status="COMPLETED",
                durationSeconds=12.5,
                outputPath="/data/synth",
                dataset={
                    "name": "synthetic bearings",
                    "description": "3 signals",
                    "signals": signals,
                },
            )
        },
    )
    finished = done["finishDatasetJob"]["job"]
    assert finished["status"] == "COMPLETED" and finished["progress"] == 100
    assert finished["workerId"] is None and finished["claimedAt"] is None  # released
    assert finished["finishedAt"] is not None and finished["durationSeconds"] == 12.5
    assert finished["numSignals"] == 3 and finished["numFaults"] == 2
    assert finished["outputPath"] == "/data/synth"
    dataset = finished["dataset"]
    assert dataset["name"] == "synthetic bearings" and dataset["numSignals"] == 3
    assert dataset["faultTypes"] == ["inner", "outer"]
    assert dataset["severityLevels"] == ["high", "low"]
    assert dataset["filePath"] == "/data/synth" and dataset["description"] == "3 signals"
    stored = [e["node"] for e in dataset["signals"]["edges"]]
    assert [(s["signalId"], s["faultClass"], s["rms"]) for s in stored] == [
        ("s-1", "inner", 0.5),
        ("s-2", "outer", 0.7),
        ("s-3", "inner", None),
    ]
    # Finished: no more reports, no second finish, not claimable, not cancellable.
    body = await gql.post(PROGRESS, {"input": held(job, progress=5)})
    assert body["errors"][0]["extensions"]["reason"] == "FINISHED"
    assert await claim(gql, "again") is None
    body = await gql.post(CANCEL, {"input": {"jobId": job["id"]}})
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_an_import_updates_the_dataset_it_names(gql, db):
    dataset_id, _ = await create_dataset(gql, "field recordings")
    await make(gql, "first import", "IMPORT", datasetId=dataset_id)
    job = await claim(gql, "importer")
    first = [{"signalId": "a", "faultClass": "ball"}, {"signalId": "b"}]
    await gql.data(
        FINISH,
        {"input": held(job, status="COMPLETED", numFiles=2, dataset={"signals": first})},
    )
    await make(gql, "second import", "IMPORT", datasetId=dataset_id)
    job = await claim(gql, "importer")
    second = [{"signalId": "b", "faultClass": "cage", "rms": 1.5}, {"signalId": "c"}]
    done = await gql.data(
        FINISH,
        {
            "input": held(
                job, status="COMPLETED", numFiles=7, dataset={"name": "ignored", "signals": second}
            )
        },
    )
    finished = done["finishDatasetJob"]["job"]
    assert finished["numFiles"] == 7 and finished["numSignals"] == 2
    dataset = finished["dataset"]
    assert dataset["id"] == dataset_id and dataset["name"] == "field recordings"
    assert dataset["numSignals"] == 3 and dataset["faultTypes"] == ["ball", "cage"]
    stored = {e["node"]["signalId"]: e["node"] for e in dataset["signals"]["edges"]}
    assert sorted(stored) == ["a", "b", "c"]
    assert stored["b"]["faultClass"] == "cage" and stored["b"]["rms"] == 1.5  # updated, not added


async def test_bad_input_is_refused_and_nothing_is_written(gql, db):
    for bad in ({"name": " "}, {"name": "x" * 256}, {"name": "n", "config": [1]}):
        body = await gql.post(CREATE_GEN, {"input": bad})
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", bad
    body = await gql.post(CLAIM, {"input": {"workerId": " "}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    taken = await make(gql, "taken")
    await make(gql, "named-dataset-clash")
    await create_dataset(gql, "in use")
    job = await claim(gql, "w")
    refusals = [
        ({"status": "COMPLETED"}, "BAD_REQUEST"),  # no dataset to write
        ({"status": "FAILED", "dataset": {"name": "d"}}, "BAD_REQUEST"),
        ({"status": "COMPLETED", "numFiles": 3, "dataset": {"name": "d"}}, "BAD_REQUEST"),
        (
            {"status": "COMPLETED", "dataset": {"name": "d", "signals": [{"signalId": "x"}] * 2}},
            "BAD_REQUEST",
        ),
        (
            {
                "status": "COMPLETED",
                "dataset": {"name": "d", "signals": [{"signalId": "x"}] * 1001},
            },
            "BAD_REQUEST",
        ),
        ({"status": "COMPLETED", "durationSeconds": -1, "dataset": {"name": "d"}}, "BAD_REQUEST"),
        (
            {"status": "COMPLETED", "dataset": {"name": "in use", "signals": [{"signalId": "x"}]}},
            "CONFLICT",
        ),
    ]
    for extra, code in refusals:
        body = await gql.post(FINISH, {"input": held(job, **extra)})
        assert body["errors"][0]["extensions"]["code"] == code, (extra, body)
    # Nothing was written: still RUNNING and held, no dataset "d", no signal.
    data = await gql.data(LISTS, {"statuses": ["RUNNING"]})
    assert [n["node"]["name"] for n in data["gens"]["edges"]] == [taken["name"]]
    names = await gql.data("{ datasets { edges { node { name numSignals } } } }")
    assert {n["node"]["name"] for n in names["datasets"]["edges"]} == {"in use"}
    # A FAILED finish records why and writes no dataset.
    failed = await gql.data(FINISH, {"input": held(job, status="FAILED", errorMessage="disk full")})
    assert failed["finishDatasetJob"]["job"]["status"] == "FAILED"
    assert failed["finishDatasetJob"]["job"]["errorMessage"] == "disk full"
    assert failed["finishDatasetJob"]["job"]["dataset"] is None


async def test_cancel_and_the_listings_status_filter(gql):
    pending = await make(gql, "to cancel")
    running = await make(gql, "running")
    await make(gql, "an import", "IMPORT")
    cancelled = await gql.data(CANCEL, {"input": {"jobId": pending["id"]}})
    assert cancelled["cancelDatasetJob"]["job"]["status"] == "CANCELLED"
    job = await claim(gql, "w", "GENERATION")
    assert job["id"] == running["id"]  # a cancelled job is never claimed
    await gql.data(CANCEL, {"input": {"jobId": running["id"]}})
    body = await gql.post(PROGRESS, {"input": held(job, progress=10)})
    assert body["errors"][0]["extensions"]["reason"] == "FINISHED"
    everything = await gql.data(LISTS, {"statuses": None})
    assert everything["gens"]["totalCount"] == 2 and everything["imps"]["totalCount"] == 1
    some = await gql.data(LISTS, {"statuses": ["CANCELLED"]})
    assert [e["node"]["name"] for e in some["gens"]["edges"]] == ["to cancel", "running"]
    assert some["imps"]["totalCount"] == 0
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on DatasetJob { name kind } } }", {"id": job["id"]}
    )
    assert node["node"] == {"name": "running", "kind": "GENERATION"}


PROGRESS_SUB = """subscription($id: ID!) { datasetJobProgress(jobId: $id) {
  id status progress workerId } }"""


@pytest.fixture
async def server_gql(database_url: str, tmp_path: Path):
    process, url = _serve(database_url, tmp_path / "server.log")
    try:
        async with httpx.AsyncClient(base_url=url.removesuffix("/graphql"), timeout=60) as http:
            yield url, GraphQLClient(http)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_the_subscription_receives_progress_until_the_job_ends(server_gql):
    url, gql = server_gql
    job = await make(gql, "watched")
    messages: list[dict[str, Any]] = []

    async def watch() -> None:
        ws_url = url.replace("http://", "ws://")
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            payload = {"query": PROGRESS_SUB, "variables": {"id": job["id"]}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            async for raw in ws:
                messages.append(json.loads(raw))
                if messages[-1]["type"] in ("complete", "error"):
                    return

    async def next_update(count: int) -> dict[str, Any]:
        deadline = time.monotonic() + 10
        while len(messages) < count:
            assert time.monotonic() < deadline, messages
            assert not task.done() or len(messages) >= count, messages
            await asyncio.sleep(0.05)
        message = messages[count - 1]
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        update: dict[str, Any] = message["payload"]["data"]["datasetJobProgress"]
        return update

    task = asyncio.create_task(watch())
    try:
        assert (await next_update(1)) == {
            "id": job["id"],
            "status": "PENDING",
            "progress": 0,
            "workerId": None,
        }
        mine = await claim(gql, "sub-worker")
        assert (await next_update(2))["status"] == "RUNNING"
        await gql.data(PROGRESS, {"input": held(mine, progress=35)})
        assert (await next_update(3))["progress"] == 35
        await gql.data(PROGRESS, {"input": held(mine, progress=80)})
        assert (await next_update(4))["progress"] == 80
        await gql.data(FINISH, {"input": held(mine, status="FAILED", errorMessage="boom")})
        last = await next_update(5)
        assert last["status"] == "FAILED" and last["workerId"] is None
        await asyncio.wait_for(task, 10)
        assert messages[-1]["type"] == "complete" and len(messages) == 6
    finally:
        task.cancel()
