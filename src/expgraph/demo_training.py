"""The demo's training part: TRAINING experiments with learning curves, two finished
HPO campaigns (BAYESIAN, and HYPERBAND with pruned trials) and a finished NAS
campaign.

Everything goes through the training services in process (``training.service``
``log_epochs``, ``hpo`` claim / report / finish, ``nas`` claim / finish), one
transaction per call as the API makes them, so the stored rows are what a
worker would have left. Values come from the built-in objective
(``expgraph.worker.objective.noisy_quadratic``), deterministic in the
hyperparameters, the epoch and the seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update

from expgraph.db.claims import Holder
from expgraph.db.engine import Database
from expgraph.domains.experiments import models as xm
from expgraph.domains.training import hpo, nas
from expgraph.domains.training import service as training
from expgraph.domains.training.models import HpoMethod, HpoTrialState, NasTrialStatus
from expgraph.domains.training.nas_space import Decision, Layers, SearchSpace
from expgraph.worker.objective import noisy_quadratic

CURVES = 4
"""Stand-alone TRAINING experiments with a logged learning curve each."""
CURVE_EPOCHS = 20
HPO_TRIALS = 12
HPO_EPOCHS = 9
REPORT_EVERY = 3
"""Without a pruner (BAYESIAN), a trial reports every third epoch's value."""
NAS_TRIALS = 10
NAS_EPOCHS = 8
WORKER = "demo-worker"
HPO_SPACE: list[Mapping[str, Any]] = [
    {"name": "learning_rate", "kind": "float", "low": 1e-4, "high": 1e-1, "log": True},
    {"name": "hidden_units", "kind": "int", "low": 8, "high": 256, "log": True},
    {"name": "optimizer", "kind": "categorical", "choices": ["adam", "sgd", "rmsprop"]},
]
NAS_SPACE = SearchSpace(
    decisions=(Decision("optimizer", ("adam", "sgd")),),
    layers=Layers(
        2,
        5,
        (
            Decision("op", ("conv3x3", "conv5x5", "depthwise", "pool")),
            Decision("width", (16, 32, 64, 128)),
        ),
    ),
)
# Multiply-accumulates per output position of each layer kind, per channel pair.
KERNEL_COST = {"conv3x3": 9, "conv5x5": 25, "depthwise": 3, "pool": 1}


def _epoch_row(params: dict[str, Any], epoch: int, seed: int, learning_rate: float) -> dict:
    values = noisy_quadratic(params, epoch, seed)
    return {
        "epoch": epoch,
        **values,
        "learning_rate": learning_rate * 0.95**epoch,
        "duration_seconds": round(30 + 2 * epoch + 10 * values["val_loss"], 2),
        "checkpoint_path": None,
    }


async def load_training(
    db: Database,
    stale_seconds: int,
    rng: random.Random,
    suffix: str,
    owner: int,
    dataset_id: int,
    counts: Counter[str],
) -> None:
    """Curves, the HPO campaigns and the NAS campaign; names carry ``suffix``."""
    await _curves(db, rng, suffix, owner, dataset_id, counts)
    for method, label in (
        (HpoMethod.BAYESIAN, "learning-rate search"),
        (HpoMethod.HYPERBAND, "early-stopping search"),
    ):
        await _hpo_campaign(
            db, stale_seconds, rng, suffix, owner, dataset_id, method, label, counts
        )
    await _nas_campaign(db, stale_seconds, rng, suffix, dataset_id, counts)


async def _curves(
    db: Database,
    rng: random.Random,
    suffix: str,
    owner: int,
    dataset_id: int,
    counts: Counter[str],
) -> None:
    for i in range(CURVES):
        params: dict[str, Any] = {
            "learning_rate": round(10 ** rng.uniform(-4, -1), 5),
            "hidden_units": rng.choice([16, 32, 64, 128]),
            "optimizer": rng.choice(["adam", "sgd"]),
        }
        seed = rng.randrange(2**31)
        rows = [
            _epoch_row(params, epoch, seed, params["learning_rate"])
            for epoch in range(CURVE_EPOCHS)
        ]
        async with db.transaction() as session:
            experiment = xm.TrainingExperiment(
                name=f"signal classifier training run with curves {i} {suffix}",
                description=(
                    f"A classifier trained for {CURVE_EPOCHS} epochs with learning rate "
                    f"{params['learning_rate']} and {params['hidden_units']} hidden units."
                ),
                status=xm.ExperimentStatus.COMPLETED,
                config={"owner": "demo"},
                metadata_={"team": "ml"},
                created_by=owner,
                dataset_id=dataset_id,
                model_type="mlp",
                hyperparameters=params,
                metrics={k: rows[-1][k] for k in ("val_loss", "val_accuracy")},
                duration_seconds=sum(r["duration_seconds"] for r in rows),
            )
            session.add(experiment)
            await session.flush()
            await training.log_epochs(session, db.dialect, experiment.id, None, rows)
        counts["training_experiments"] += 1
        counts["training_runs"] += len(rows)


async def _hpo_campaign(
    db: Database,
    stale_seconds: int,
    rng: random.Random,
    suffix: str,
    owner: int,
    dataset_id: int,
    method: HpoMethod,
    label: str,
    counts: Counter[str],
) -> None:
    """A campaign driven to COMPLETED by one worker: every trial logs its epochs and
    reports its validation accuracy epoch by epoch; HYPERBAND stops the bad ones."""
    seed = rng.randrange(2**31)
    async with db.transaction() as session:
        campaign = await hpo.create_campaign(
            session,
            name=f"signal classifier {label} {suffix}",
            method=method,
            base_model_type="mlp",
            dataset_id=dataset_id,
            parameters=HPO_SPACE,
            objective=None,  # validation accuracy, maximized
            budget={"max_trials": HPO_TRIALS, "max_parallel": 1, "max_epochs": HPO_EPOCHS},
            seed=seed,
            created_by=owner,
        )
        campaign_id = campaign.id
    counts["hpo_campaigns"] += 1
    while True:
        async with db.transaction() as session:
            trial = await hpo.claim(session, db.dialect, campaign_id, WORKER, stale_seconds)
            if trial is None:
                break
            experiment_id, holder = trial.experiment_id, Holder(WORKER, trial.fencing_token)
            experiment = await session.get(xm.TrainingExperiment, experiment_id)
            assert experiment is not None
            params = dict(experiment.hyperparameters or {})
        counts["hpo_trials"] += 1
        outcome, rows = HpoTrialState.COMPLETED, []
        # One transaction per trial (the demo is one worker; a real one sends each
        # epoch as it ends): report epoch by epoch until pruned, log the epochs
        # trained in one batch, finish.
        async with db.transaction() as session:
            for epoch in range(HPO_EPOCHS):
                rows.append(_epoch_row(params, epoch, seed, float(params["learning_rate"])))
                if method is not HpoMethod.HYPERBAND and epoch % REPORT_EVERY != REPORT_EVERY - 1:
                    continue  # no pruner to ask: a few intermediate values are enough
                prune, _ = await hpo.report(
                    session, experiment_id, holder, epoch, rows[-1]["val_accuracy"], stale_seconds
                )
                if prune:
                    outcome = HpoTrialState.PRUNED
                    break
            await training.log_epochs(
                session, db.dialect, experiment_id, holder.fencing_token, rows
            )
            counts["training_runs"] += len(rows)
            metrics = {k: rows[-1][k] for k in ("val_loss", "val_accuracy", "train_loss")}
            await hpo.finish(session, experiment_id, holder, outcome, metrics, None, stale_seconds)
    async with db.transaction() as session:  # the trials' experiments, described in prose
        await session.execute(
            update(xm.TrainingExperiment)
            .where(xm.TrainingExperiment.hpo_campaign_id == campaign_id)
            .values(description=f"One trial of the {label} over a signal classifier.")
            .execution_options(synchronize_session=False)
        )


def _nas_results(architecture: dict[str, Any], seed: int) -> dict[str, Any]:
    """What training the architecture gives: accuracy from the built-in objective
    (depth and width against their optimum), cost from the layers."""
    layers = architecture["layers"]
    widths = [layer["width"] for layer in layers]
    params = {
        "depth": len(layers),
        "width": sum(widths) / len(widths),
        "optimizer": architecture["optimizer"],
    }
    values = noisy_quadratic(params, NAS_EPOCHS - 1, seed)
    weights = sum(KERNEL_COST[layer["op"]] * layer["width"] ** 2 for layer in layers)
    return {
        "validation_accuracy": values["val_accuracy"],
        "validation_loss": values["val_loss"],
        "training_time": round(20.0 * len(layers) + weights / 2000, 1),
        "num_parameters": weights,
        "flops": weights * 32 * 32,
        "model_size_mb": round(weights * 4 / 2**20, 4),
        "metrics": {"train_loss": values["train_loss"]},
    }


async def _nas_campaign(
    db: Database,
    stale_seconds: int,
    rng: random.Random,
    suffix: str,
    dataset_id: int,
    counts: Counter[str],
) -> None:
    seed = rng.randrange(2**31)
    async with db.transaction() as session:
        campaign = await nas.create_campaign(
            session,
            {
                "name": f"signal classifier architecture search {suffix}",
                "dataset_id": dataset_id,
                "search_algorithm": nas.NasSearchAlgorithm.RANDOM.value,
                "search_space_config": NAS_SPACE.to_json(),
                "num_trials": NAS_TRIALS,
                "max_parallel": 1,
                "max_epochs_per_trial": NAS_EPOCHS,
                "seed": seed,
            },
        )
        campaign_id = campaign.id
    counts["nas_campaigns"] += 1
    while True:
        async with db.transaction() as session:
            trial = await nas.claim(session, campaign_id, WORKER, stale_seconds)
            if trial is None:
                break
            trial_id, holder = trial.id, Holder(WORKER, trial.fencing_token)
            architecture = dict(trial.architecture)
        async with db.transaction() as session:
            await nas.finish(
                session,
                trial_id,
                holder,
                NasTrialStatus.COMPLETED,
                _nas_results(architecture, seed),
            )
        counts["nas_trials"] += 1
