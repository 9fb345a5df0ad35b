"""Training workers (expgraph worker --work hpo|nas|datasets): the real worker
loop with the built-in executors against the app over HTTP (in process), and a
killed worker process against a real server (both dialects)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from expgraph.worker import objective, training
from expgraph.worker.runner import WorkerOptions
from tests.conftest import GraphQLClient
from tests.helpers import create_dataset
from tests.test_worker import ROOT, STALE, _serve
from tests.test_worker import gql as post

URL = "http://test/graphql"


def worker(app: Any, work: str, name: str = "w1", **options: Any) -> training.TrainingWorker:
    settings = {"heartbeat_seconds": 0.2, "exit_when_idle": True, **options}
    return training.make_worker(
        work,
        WorkerOptions(url=URL, worker_id=name, **settings),
        training.load_training_executor(work, "builtin"),
        transport=httpx.ASGITransport(app=app),
    )


# -- NAS ----------------------------------------------------------------------

NAS_SPACE = {
    "decisions": [{"name": "optimizer", "choices": ["adam", "sgd"]}],
    "layers": {
        "minCount": 1,
        "maxCount": 3,
        "decisions": [
            {"name": "op", "choices": ["conv3x3", "maxpool"]},
            {"name": "width", "choices": [16, 64]},
        ],
    },
}
CREATE_NAS = """mutation($input: CreateNasCampaignInput!) { createNasCampaign(input: $input) {
  campaign { id } } }"""
NAS_CAMPAIGN = """query($id: ID!) { node(id: $id) { ... on NasCampaign {
  status bestAccuracy bestTrial { id validationAccuracy }
  progress { running completed failed remaining }
  paretoFront { id }
  trials(first: 50) { totalCount edges { node { status claimedBy validationAccuracy
    validationLoss flops numParameters modelSizeMb trainingTime architecture } } } } } }"""


async def test_nas_worker_completes_a_campaign(app: Any, gql: GraphQLClient) -> None:
    dataset_id, _ = await create_dataset(gql, "nas-data")
    created = await gql.data(
        CREATE_NAS,
        {
            "input": {
                "name": "nas",
                "datasetId": dataset_id,
                "searchSpace": NAS_SPACE,
                "numTrials": 5,
                "maxParallel": 2,
                "maxEpochsPerTrial": 4,
                "seed": "3",
            }
        },
    )
    campaign_id = created["createNasCampaign"]["campaign"]["id"]
    runner = worker(app, "nas", campaign_id=campaign_id)
    assert await runner.run() == "no NAS trial to claim"
    assert runner.completed == 5
    node = (await gql.data(NAS_CAMPAIGN, {"id": campaign_id}))["node"]
    assert node["status"] == "COMPLETED"
    assert node["progress"] == {"running": 0, "completed": 5, "failed": 0, "remaining": 0}
    trials = [e["node"] for e in node["trials"]["edges"]]
    assert len(trials) == 5
    for trial in trials:
        assert trial["status"] == "COMPLETED"
        assert trial["claimedBy"] is None
        # the built-in executor's numbers, reported as they are computed
        expected = training.nas_builtin(trial["architecture"], 4, 3)
        assert trial["validationAccuracy"] == expected["validation_accuracy"]
        assert trial["validationLoss"] == expected["validation_loss"]
        assert trial["flops"] == str(expected["flops"])
        assert trial["numParameters"] == expected["num_parameters"]
        assert trial["modelSizeMb"] == expected["model_size_mb"]
    best = max(trials, key=lambda t: t["validationAccuracy"])
    assert node["bestAccuracy"] == best["validationAccuracy"]
    assert node["bestTrial"]["validationAccuracy"] == best["validationAccuracy"]
    assert node["paretoFront"]


async def test_nas_worker_fails_a_trial_its_executor_cannot_train(
    app: Any, gql: GraphQLClient
) -> None:
    dataset_id, _ = await create_dataset(gql, "nas-data")
    created = await gql.data(
        CREATE_NAS,
        {
            "input": {
                "name": "broken",
                "datasetId": dataset_id,
                "searchSpace": NAS_SPACE,
                "numTrials": 1,
                "maxEpochsPerTrial": 2,
                "seed": "1",
            }
        },
    )
    campaign_id = created["createNasCampaign"]["campaign"]["id"]
    attempts = 0

    def broken(architecture: dict, epochs: int, seed: int) -> dict:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("out of memory")
        return training.nas_builtin(architecture, epochs, seed)

    runner = training.make_worker(
        "nas",
        WorkerOptions(url=URL, worker_id="w1", heartbeat_seconds=0.2, exit_when_idle=True),
        broken,
        transport=httpx.ASGITransport(app=app),
    )
    await runner.run()
    node = (await gql.data(NAS_CAMPAIGN, {"id": campaign_id}))["node"]
    # the failed trial's slot was offered again and trained by the same worker
    assert node["progress"] == {"running": 0, "completed": 1, "failed": 1, "remaining": 0}
    assert node["status"] == "COMPLETED"
    assert attempts == 2


# -- dataset jobs -------------------------------------------------------------

CREATE_GENERATION = """mutation($input: CreateDatasetJobInput!) {
  createDatasetGeneration(input: $input) { job { id } } }"""
CREATE_IMPORT = """mutation($input: CreateDatasetJobInput!) {
  createDatasetImport(input: $input) { job { id } } }"""
JOB = """query($id: ID!) { node(id: $id) { ... on DatasetJob {
  status progress workerId durationSeconds outputPath errorMessage numSignals
  dataset { name description numSignals faultTypes
    signals(first: 100) { totalCount edges { node { signalId faultClass severity } } } } }
  ... on DatasetImport { numFiles } } }"""


async def test_dataset_worker_finishes_jobs_and_their_datasets_exist(
    app: Any, gql: GraphQLClient
) -> None:
    generation = (
        await gql.data(
            CREATE_GENERATION,
            {
                "input": {
                    "name": "bearings",
                    "config": {"num_signals": 12, "prefix": "brg", "seed": 5},
                }
            },
        )
    )["createDatasetGeneration"]["job"]["id"]
    imported = (
        await gql.data(
            CREATE_IMPORT,
            {"input": {"name": "imported", "config": {"num_signals": 3, "dataset_name": "imp"}}},
        )
    )["createDatasetImport"]["job"]["id"]
    seen: dict[str, list[int]] = {}
    runner = worker(app, "datasets")
    original = runner.client.report_dataset_job_progress

    async def report(job_id: str, worker_id: str, token: str, progress: int) -> Any:
        seen.setdefault(job_id, []).append(progress)
        return await original(job_id, worker_id, token, progress)

    runner.client.report_dataset_job_progress = report  # type: ignore[method-assign]
    assert await runner.run() == "no dataset job to claim"
    assert runner.completed == 2
    job = (await gql.data(JOB, {"id": generation}))["node"]
    assert job["status"] == "COMPLETED"
    assert job["progress"] == 100
    assert job["workerId"] is None
    assert job["numSignals"] == 12
    assert job["outputPath"] == "brg"
    assert job["durationSeconds"] is not None
    dataset = job["dataset"]
    assert dataset["name"] == "bearings"
    assert dataset["numSignals"] == 12
    signals = [e["node"] for e in dataset["signals"]["edges"]]
    assert [s["signalId"] for s in signals] == [f"brg-{i:04d}" for i in range(1, 13)]
    assert {s["faultClass"] for s in signals} == set(training.FAULTS)
    job = (await gql.data(JOB, {"id": imported}))["node"]
    assert job["status"] == "COMPLETED"
    assert job["numFiles"] == 3
    assert job["dataset"]["name"] == "imp"
    assert job["dataset"]["signals"]["totalCount"] == 3
    # progress was reported as the executor made it (heartbeats resend the last
    # value acknowledged), up to 100 before the finish
    for reported in seen.values():
        assert max(reported) == 100 and any(0 < p < 100 for p in reported)
    assert set(seen) == {generation, imported}


async def test_dataset_worker_reports_an_executor_error_as_the_job_failing(
    app: Any, gql: GraphQLClient
) -> None:
    job_id = (await gql.data(CREATE_GENERATION, {"input": {"name": "bad", "config": {}}}))[
        "createDatasetGeneration"
    ]["job"]["id"]

    def broken(job: training.DatasetTask, progress: Any) -> dict:
        progress(40)
        raise ValueError(f"no such source for {job.name}")

    runner = training.make_worker(
        "datasets",
        WorkerOptions(url=URL, worker_id="w1", heartbeat_seconds=0.2, exit_when_idle=True),
        broken,
        transport=httpx.ASGITransport(app=app),
    )
    await runner.run()
    job = (await gql.data(JOB, {"id": job_id}))["node"]
    assert job["status"] == "FAILED"
    assert job["errorMessage"] == "ValueError: no such source for bad"
    assert job["dataset"] is None


# -- HPO ----------------------------------------------------------------------

CREATE_HPO = """mutation($input: CreateHpoCampaignInput!) { createHpoCampaign(input: $input) {
  campaign { id } } }"""
HPO_CAMPAIGN = """query($id: ID!) { node(id: $id) { ... on HpoCampaign {
  status trialsTotal trialsCompleted bestValue
  bestTrial { number value experiment { status totalEpochs } }
  progress { running completed pruned failed remaining }
  trials(first: 50) { edges { node { number state value claimedBy
    experiment { status totalEpochs hyperparameters
      trainingRuns(first: 50) { edges { node { epoch valAccuracy } } } } } } } } } }"""
HPO_SPACE = [
    {"name": "lr", "kind": "FLOAT", "low": 1e-4, "high": 0.5, "log": True},
    {"name": "units", "kind": "INT", "low": 1, "high": 100},
]


def hpo_input(name: str, **budget: Any) -> dict[str, Any]:
    return {
        "name": name,
        "method": "RANDOM_SEARCH",
        "baseModelType": "mlp",
        "searchSpace": HPO_SPACE,
        "budget": {"maxTrials": 4, "maxParallel": 2, "maxEpochs": 3, **budget},
        "seed": "11",
    }


async def test_hpo_worker_completes_a_campaign_with_a_best_trial(
    app: Any, gql: GraphQLClient
) -> None:
    created = await gql.data(CREATE_HPO, {"input": hpo_input("search")})
    campaign_id = created["createHpoCampaign"]["campaign"]["id"]
    runner = worker(app, "hpo", campaign_id=campaign_id)
    assert await runner.run() == "no HPO trial to claim"
    assert runner.completed == 4
    node = (await gql.data(HPO_CAMPAIGN, {"id": campaign_id}))["node"]
    assert node["status"] == "COMPLETED"
    assert node["trialsTotal"] == 4
    assert node["trialsCompleted"] == 4
    assert node["progress"] == {
        "running": 0,
        "completed": 4,
        "pruned": 0,
        "failed": 0,
        "remaining": 0,
    }
    trials = [e["node"] for e in node["trials"]["edges"]]
    for trial in trials:
        assert trial["state"] == "COMPLETED"
        assert trial["claimedBy"] is None
        experiment = trial["experiment"]
        assert experiment["status"] == "COMPLETED"
        assert experiment["totalEpochs"] == 3
        # every epoch logged with the objective's values, the last one the trial's value
        runs = [e["node"] for e in experiment["trainingRuns"]["edges"]]
        expected = [
            objective.noisy_quadratic(experiment["hyperparameters"], epoch, 11)["val_accuracy"]
            for epoch in range(3)
        ]
        assert [r["epoch"] for r in runs] == [0, 1, 2]
        assert [r["valAccuracy"] for r in runs] == pytest.approx(expected)
        assert trial["value"] == pytest.approx(expected[-1])
    best = max(t["value"] for t in trials)  # VAL_ACCURACY, MAXIMIZE by default
    assert node["bestValue"] == pytest.approx(best)
    assert node["bestTrial"]["value"] == pytest.approx(best)


def slow_objective(params: dict[str, Any], epoch: int, seed: int) -> dict[str, float]:
    """The built-in objective, a quarter of a second per epoch: time to kill a worker mid-trial."""
    time.sleep(0.25)
    return objective.noisy_quadratic(params, epoch, seed)


def start_worker(url: str, name: str, campaign_id: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "expgraph.cli",
            "worker",
            "--work",
            "hpo",
            "--url",
            url,
            "--worker-id",
            name,
            "--campaign-id",
            campaign_id,
            "--heartbeat-seconds",
            "0.5",
            "--executor",
            "tests.test_worker_training:slow_objective",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def test_a_sigkilled_hpo_worker_trial_goes_stale_and_its_slot_is_rerun(
    database_url: str, tmp_path: Path
) -> None:
    server, url = _serve(database_url, tmp_path / "server.log")
    try:
        created = post(url, CREATE_HPO, {"input": hpo_input("crash", maxTrials=2, maxParallel=1)})
        campaign_id = created["createHpoCampaign"]["campaign"]["id"]
        doomed = start_worker(url, "doomed", campaign_id)
        deadline = time.monotonic() + 60
        while True:  # the first trial is running and has logged an epoch
            trials = post(url, HPO_CAMPAIGN, {"id": campaign_id})["node"]["trials"]["edges"]
            if trials and trials[0]["node"]["experiment"]["totalEpochs"] >= 1:
                break
            assert doomed.poll() is None, doomed.communicate()[0]
            assert time.monotonic() < deadline, "the first worker made no progress"
            await asyncio.sleep(0.1)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        node = post(url, HPO_CAMPAIGN, {"id": campaign_id})["node"]
        assert node["progress"]["running"] == 1
        assert node["trials"]["edges"][0]["node"]["claimedBy"] == "doomed"
        await asyncio.sleep(STALE + 0.5)  # its claim goes stale
        rescuer = start_worker(url, "rescuer", campaign_id, "--exit-when-idle")
        output, _ = await asyncio.to_thread(rescuer.communicate, timeout=120)
        assert rescuer.returncode == 0, output
        assert "stopped (2 completed)" in output, output
        node = post(url, HPO_CAMPAIGN, {"id": campaign_id})["node"]
        assert node["status"] == "COMPLETED"
        # maxTrials trials completed, and the killed one failed: its slot was run again
        assert node["trialsTotal"] == 3
        assert node["progress"] == {
            "running": 0,
            "completed": 2,
            "pruned": 0,
            "failed": 1,
            "remaining": 0,
        }
        by_number = {e["node"]["number"]: e["node"] for e in node["trials"]["edges"]}
        assert by_number[0]["state"] == "FAILED"
        assert by_number[0]["claimedBy"] is None
        assert by_number[0]["experiment"]["status"] == "FAILED"
        assert [by_number[n]["state"] for n in (1, 2)] == ["COMPLETED", "COMPLETED"]
        assert node["bestTrial"]["number"] in (1, 2)
    finally:
        server.terminate()
        server.wait(timeout=20)


async def test_hpo_worker_stops_a_trial_hyperband_prunes(app: Any, gql: GraphQLClient) -> None:
    given = hpo_input("hyperband", maxTrials=10, maxParallel=1, minEpochs=1, maxEpochs=9)
    created = await gql.data(CREATE_HPO, {"input": {**given, "method": "HYPERBAND"}})
    campaign_id = created["createHpoCampaign"]["campaign"]["id"]
    runner = worker(app, "hpo", campaign_id=campaign_id)
    assert await runner.run() == "no HPO trial to claim"
    node = (await gql.data(HPO_CAMPAIGN, {"id": campaign_id}))["node"]
    assert node["status"] == "COMPLETED"
    trials = [e["node"] for e in node["trials"]["edges"]]
    pruned = [t for t in trials if t["state"] == "PRUNED"]
    assert pruned, [(t["state"], t["experiment"]["totalEpochs"]) for t in trials]
    for trial in pruned:  # stopped early, valued at the last epoch it reported
        runs = [e["node"] for e in trial["experiment"]["trainingRuns"]["edges"]]
        assert len(runs) < 9
        assert trial["experiment"]["status"] == "CANCELLED"
        assert trial["value"] == pytest.approx(runs[-1]["valAccuracy"])
    assert {t["state"] for t in trials} <= {"COMPLETED", "PRUNED"}
    assert node["progress"]["completed"] + node["progress"]["pruned"] == 10


def test_an_unknown_kind_of_work_is_refused_with_the_kinds() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "expgraph.cli", "worker", "--work", "hpo-trials"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "--work is one of execution, hpo, nas, datasets" in result.stderr
