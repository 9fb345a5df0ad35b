"""The training section of the benchmark (``python -m bench.run --section training``).

(i) ``logTrainingEpochs`` throughput: epochs/s with batches of 100 and 1,000 new
epochs per call, each client logging into a TRAINING experiment of its own
(outside any campaign: no fencing token); (j) ``claimHpoTrial`` latency on a
campaign that already has 100 finished trials, one client and a few concurrent
clients, for a RANDOM_SEARCH and a BAYESIAN (TPE) campaign. Only the claim is
timed: each client then finishes its trial (``finishTrial``, untimed), so no
more than one trial per client runs and every claim sees the finished trials
grow from 100 by one per claim made before it (the one-client row first, then
the concurrent row on the same campaign).

Over HTTP to a real ``expgraph serve`` on a database of its own
(``bench_training``: created once, migrated, its experiments and campaigns
emptied every run); the campaigns' first 100 trials are made in process through
the HPO service (claim, then finish with the built-in objective's value), as a
worker would leave them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench.run import ROOT, Stats, balanced_clients, free_port, gid, start, wait_ready
from expgraph.db import migrate

DATABASE = "bench_training"
HEADING = "## Training (PostgreSQL)"
BATCHES = (100, 1_000)
FINISHED = 100
"""Finished trials a campaign has before its claims are timed."""
CLAIM_CLIENTS = 4
CLAIMS = 30
"""Claims timed per row (sampler and client count), spread over the clients."""
SPACE: list[Mapping[str, Any]] = [
    {"name": "learning_rate", "kind": "float", "low": 1e-4, "high": 1e-1, "log": True},
    {"name": "hidden_units", "kind": "int", "low": 8, "high": 256, "log": True},
    {"name": "dropout", "kind": "float", "low": 0.0, "high": 0.5},
    {"name": "optimizer", "kind": "categorical", "choices": ["adam", "sgd", "rmsprop"]},
]
LOG_EPOCHS = """mutation($input: LogTrainingEpochsInput!) {
  logTrainingEpochs(input: $input) { trainingRuns { epoch } } }"""
CLAIM = """mutation($c: ID!, $w: String!) { claimHpoTrial(input: {campaignId: $c, workerId: $w}) {
  trial { fencingToken experiment { id hyperparameters } } } }"""
FINISH = (
    """mutation($input: FinishTrialInput!) { finishTrial(input: $input) { trial { state } } }"""
)
WARM = "{ __typename }"


async def prepare(server_url: str) -> tuple[str, dict[str, Any]]:
    """The ``bench_training`` database, migrated and emptied of experiments and
    campaigns, then filled: TRAINING experiments for the logging clients and one
    campaign per sampler, each with FINISHED finished trials."""
    url = make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = await asyncpg.connect(
        make_url(dsn).set(database="postgres").render_as_string(hide_password=False)
    )
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    await admin.close()
    await asyncio.to_thread(migrate.upgrade, url)
    conn = await asyncpg.connect(dsn)
    await conn.execute("TRUNCATE experiments, hpo_campaigns RESTART IDENTITY CASCADE")
    await conn.close()
    setup = await _fill(url)
    conn = await asyncpg.connect(dsn)
    await conn.execute("VACUUM ANALYZE")
    await conn.close()
    return url, setup


async def _fill(url: str) -> dict[str, Any]:
    import expgraph.models  # noqa: F401  (every table mapped)
    from expgraph.config import Settings
    from expgraph.db.claims import Holder
    from expgraph.db.engine import Database
    from expgraph.domains.experiments import models as xm
    from expgraph.domains.training import hpo
    from expgraph.domains.training.models import HpoMethod, HpoTrialState
    from expgraph.worker.objective import noisy_quadratic

    db = Database(Settings(database_url=url))
    setup: dict[str, Any] = {"experiments": [], "campaigns": {}, "fill": {}}
    try:
        async with db.transaction() as session:
            made = [
                xm.TrainingExperiment(
                    name=f"bench training {i}",
                    status=xm.ExperimentStatus.RUNNING,
                    config={},
                    metadata_={},
                    model_type="mlp",
                    hyperparameters={"learning_rate": 0.01},
                )
                for i in range(64)
            ]
            session.add_all(made)
            await session.flush()
            setup["experiments"] = [e.id for e in made]
        for method in (HpoMethod.RANDOM_SEARCH, HpoMethod.BAYESIAN):
            started = time.perf_counter()
            async with db.transaction() as session:
                campaign = await hpo.create_campaign(
                    session,
                    name=f"bench {method.name}",
                    method=method,
                    base_model_type="mlp",
                    dataset_id=None,
                    parameters=SPACE,
                    objective=None,
                    budget={"max_trials": 10_000, "max_parallel": 16},
                    seed=1,
                    created_by=None,
                )
                campaign_id = campaign.id
            for _ in range(FINISHED):
                async with db.transaction() as session:
                    trial = await hpo.claim(session, db.dialect, campaign_id, "fill", 600)
                    assert trial is not None
                    experiment = await session.get(xm.TrainingExperiment, trial.experiment_id)
                    assert experiment is not None
                    metrics = noisy_quadratic(experiment.hyperparameters or {}, 19, 1)
                    await hpo.finish(
                        session,
                        trial.experiment_id,
                        Holder("fill", trial.fencing_token),
                        HpoTrialState.COMPLETED,
                        metrics,
                        None,
                        600,
                    )
            setup["campaigns"][method.name] = campaign_id
            setup["fill"][method.name] = time.perf_counter() - started
    finally:
        await db.dispose()
    return setup


def _epochs_sender(graphql: str, experiments: list[int], batch: int) -> Any:
    """Posts logTrainingEpochs with ``batch`` new epochs: each client its own
    experiment (taken when the client first sends), its epoch numbers counting on."""
    free = iter(experiments)
    state: dict[int, tuple[int, int]] = {}  # client id -> (experiment, next epoch)

    async def send(client: httpx.AsyncClient) -> bool:
        experiment, first = state.get(id(client)) or (next(free), 0)
        state[id(client)] = (experiment, first + batch)
        epochs = [
            {
                "epoch": first + k,
                "trainLoss": 1 / (first + k + 1),
                "valLoss": 1.1 / (first + k + 1),
                "trainAccuracy": 1 - 1 / (first + k + 2),
                "valAccuracy": 1 - 1.1 / (first + k + 2),
                "learningRate": 0.01,
                "durationSeconds": 12.5,
            }
            for k in range(batch)
        ]
        body = {
            "query": LOG_EPOCHS,
            "variables": {
                "input": {"experimentId": gid("TrainingExperiment", experiment), "epochs": epochs}
            },
        }
        response = await client.post(graphql, json=body)
        if response.status_code != 200:
            return False
        data = response.json()
        return (
            "errors" not in data and len(data["data"]["logTrainingEpochs"]["trainingRuns"]) == batch
        )

    return send


def _warm(graphql: str) -> Any:
    """A request that writes nothing: opens and places the clients' connections."""

    async def send(client: httpx.AsyncClient) -> bool:
        return (await client.post(graphql, json={"query": WARM})).status_code == 200

    return send


async def _drive_epochs(
    graphql: str, experiments: list[int], batch: int, clients: int, duration: float, server: Any
) -> Stats:
    send = _epochs_sender(graphql, experiments, batch)
    stats = Stats()
    kept = await balanced_clients(_warm(graphql), clients, server)
    stats.balance = sorted(Counter(owner for owner, _ in kept).values())
    try:

        async def loop(client: httpx.AsyncClient) -> None:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                ok = await send(client)
                stats.latencies.append(time.perf_counter() - began)
                stats.errors += 0 if ok else 1

        deadline = time.perf_counter() + duration
        began = time.perf_counter()
        await asyncio.gather(*(loop(client) for _, client in kept))
        stats.seconds = time.perf_counter() - began
    finally:
        for _, client in kept:
            await client.aclose()
    return stats


async def _drive_claims(graphql: str, campaign: int, clients: int, server: Any) -> Stats:
    """CLAIMS claims spread over ``clients`` clients; each claim timed, then its
    trial finished (untimed) with a value from the built-in objective."""
    from expgraph.worker.objective import noisy_quadratic

    stats = Stats()
    kept = await balanced_clients(_warm(graphql), clients, server)
    stats.balance = sorted(Counter(owner for owner, _ in kept).values())
    campaign_id = gid("HpoCampaign", campaign)
    left = iter(range(CLAIMS))

    async def loop(n: int, client: httpx.AsyncClient) -> None:
        worker = f"bench-{n}"
        for _ in left:
            began = time.perf_counter()
            response = await client.post(
                graphql, json={"query": CLAIM, "variables": {"c": campaign_id, "w": worker}}
            )
            stats.latencies.append(time.perf_counter() - began)
            body = response.json() if response.status_code == 200 else {}
            trial = (body.get("data") or {}).get("claimHpoTrial", {}).get("trial")
            if body.get("errors") or trial is None:
                stats.errors += 1
                continue
            experiment = trial["experiment"]
            value = noisy_quadratic(experiment["hyperparameters"], 19, 0)["val_accuracy"]
            finish = {
                "experimentId": experiment["id"],
                "workerId": worker,
                "fencingToken": trial["fencingToken"],
                "status": "COMPLETED",
                "value": value,
            }
            done = await client.post(
                graphql, json={"query": FINISH, "variables": {"input": finish}}
            )
            if done.status_code != 200 or "errors" in done.json():
                stats.errors += 1

    began = time.perf_counter()
    try:
        await asyncio.gather(*(loop(n, client) for n, (_, client) in enumerate(kept)))
    finally:
        for _, client in kept:
            await client.aclose()
    stats.seconds = time.perf_counter() - began
    return stats


async def run(server_url: str, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    """(i) logTrainingEpochs throughput, (j) claimHpoTrial latency."""
    began = time.perf_counter()
    url, setup = await prepare(server_url)
    port = free_port()
    env = {
        "EXPGRAPH_DATABASE_URL": url,
        "EXPGRAPH_REQUEST_LOG_ENABLED": "false",
        "EXPGRAPH_DB_POOL_SIZE": "10",
        "EXPGRAPH_LOG_LEVEL": "warning",
        "EXPGRAPH_DELIVERY_ENABLED": "false",
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
        logs / "expgraph-training.log",
    )
    ops: dict[str, Any] = {}
    try:
        graphql = f"http://127.0.0.1:{port}/graphql"
        wait_ready(f"http://127.0.0.1:{port}/readyz", server)
        experiments = list(setup.pop("experiments"))
        for batch in BATCHES:
            share, experiments = experiments[: args.concurrency], experiments[args.concurrency :]
            ops[f"i_epochs_{batch}"] = (
                await _drive_epochs(graphql, share, batch, args.concurrency, args.duration, server)
            ).row()
        for method, campaign in setup.pop("campaigns").items():
            for clients in (1, CLAIM_CLIENTS):  # the same campaign: 100, then 100 + CLAIMS
                ops[f"j_claim_{method}_{clients}"] = (
                    await _drive_claims(graphql, campaign, clients, server)
                ).row()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"setup": setup, "operations": ops, "seconds": time.perf_counter() - began}


def render(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """The training section: the tables, then bench/notes-training.md (by hand)."""
    ops = result["operations"]
    fill = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in result["setup"]["fill"].items())
    lines = [
        HEADING,
        "",
        "Written by `python -m bench.run --section training` (bench/training.py). A database",
        f"of its own ({DATABASE}), emptied every run; each campaign's first {FINISHED} trials made",
        "in process through the HPO service (claim, then finish with the built-in objective's",
        f"value: {fill}). The whole section took {result['seconds']:.0f}s.",
        f"expgraph serve --workers {args.workers}. The machine's 2 cores are shared with the",
        "load driver, PostgreSQL and other engineers' work: the numbers are noisy.",
        "",
        f"(i) logTrainingEpochs, {args.concurrency} clients for {args.duration:.0f}s, each logging new",
        "epochs (all metrics set) into a TRAINING experiment of its own, no campaign:",
        "",
        "| batch | calls/s | epochs/s | p50 ms | p95 ms | p99 ms | errors | connections |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for batch in BATCHES:
        row = ops[f"i_epochs_{batch}"]
        lines.append(
            f"| {batch:,} | {row['rps']:.1f} | {row['rps'] * batch:,.0f} | {row['p50']:.1f} | "
            f"{row['p95']:.1f} | {row['p99']:.1f} | {row['errors']} | {row['balance']} |"
        )
    lines += [
        "",
        f"(j) claimHpoTrial on a campaign with {FINISHED} finished trials (four parameters: two",
        f"log-scaled, a float, a categorical), {CLAIMS} claims per row. Only the claim is timed;",
        "each claimed trial is then finished (finishTrial, untimed), so the one-client row",
        f"sees {FINISHED} to {FINISHED + CLAIMS - 1} finished trials and the concurrent row, on "
        f"the same campaign, {FINISHED + CLAIMS} to {FINISHED + 2 * CLAIMS - 1}:",
        "",
        "| sampler | clients | claims/s | p50 ms | p95 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, row in ops.items():
        if not name.startswith("j_claim_"):
            continue
        method, clients = name.removeprefix("j_claim_").rsplit("_", 1)
        lines.append(
            f"| {method} | {clients} | {row['rps']:.1f} | {row['p50']:.1f} | {row['p95']:.1f} | "
            f"{row['p99']:.1f} | {row['errors']} |"
        )
    lines.append("")
    notes = ROOT / "bench" / "notes-training.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    return lines
