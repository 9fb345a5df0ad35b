"""Training writes and the rules of its reads: logging epochs (one bulk upsert),
the objective an experiment is judged by, learning curves and the best epoch."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.dialect import upsert_many
from expgraph.db.values import check_rows
from expgraph.domains.experiments.models import Experiment, ExperimentKind
from expgraph.domains.training import models
from expgraph.errors import BadRequest, Conflict, NotFound

MAX_EPOCHS = 1000
"""Epochs one logTrainingEpochs call may carry."""
MAX_COMPARED = 20
"""Experiments one compareTrainingExperiments call may compare."""


class TrainingMetric(enum.Enum):
    """A per-epoch value of training_runs; the value is its column."""

    TRAIN_LOSS = "train_loss"
    VAL_LOSS = "val_loss"
    TRAIN_ACCURACY = "train_accuracy"
    VAL_ACCURACY = "val_accuracy"
    LEARNING_RATE = "learning_rate"
    DURATION_SECONDS = "duration_seconds"


class ObjectiveDirection(enum.Enum):
    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"


EPOCH_COLUMNS = (*(m.value for m in TrainingMetric), "checkpoint_path")


@dataclass(frozen=True)
class Objective:
    metric: TrainingMetric
    direction: ObjectiveDirection


DEFAULT_OBJECTIVE = Objective(TrainingMetric.VAL_LOSS, ObjectiveDirection.MINIMIZE)


def _metric_named(name: Any) -> TrainingMetric | None:
    """``valLoss``, ``val_loss`` or ``VAL_LOSS``: the metric, else None."""
    if not isinstance(name, str):
        return None
    snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    for metric in TrainingMetric:
        if snake in (metric.value, metric.name.lower()) or name == metric.name:
            return metric
    return None


def objective_of(config: Mapping[str, Any] | None) -> Objective:
    """The objective in ``config["objective"]`` ({"metric": "valAccuracy",
    "direction": "MAXIMIZE"}); an unknown or missing metric is validation loss;
    a missing direction maximizes accuracies and minimizes everything else."""
    spec = (config or {}).get("objective")
    if not isinstance(spec, Mapping):
        return DEFAULT_OBJECTIVE
    metric = _metric_named(spec.get("metric")) or TrainingMetric.VAL_LOSS
    direction_name = spec.get("direction")
    direction = None
    if isinstance(direction_name, str):
        direction = ObjectiveDirection.__members__.get(direction_name.upper())
    if direction is None:
        maximize = metric in (TrainingMetric.TRAIN_ACCURACY, TrainingMetric.VAL_ACCURACY)
        direction = ObjectiveDirection.MAXIMIZE if maximize else ObjectiveDirection.MINIMIZE
    return Objective(metric, direction)


def points(runs: Sequence[models.TrainingRun], metric: TrainingMetric) -> list[tuple[int, float]]:
    """(epoch, value) of ``runs`` (in epoch order) that have a value for ``metric``."""
    return [(run.epoch, value) for run in runs if (value := getattr(run, metric.value)) is not None]


def best(runs: Sequence[models.TrainingRun], objective: Objective) -> tuple[int, float] | None:
    """The (epoch, value) best by ``objective``; the earliest epoch on a tie."""
    found: tuple[int, float] | None = None
    maximize = objective.direction is ObjectiveDirection.MAXIMIZE
    for epoch, value in points(runs, objective.metric):
        if found is None or (value > found[1] if maximize else value < found[1]):
            found = (epoch, value)
    return found


async def training_experiment(session: AsyncSession, experiment_id: int) -> Experiment:
    """A live TRAINING experiment, locked for the write (PostgreSQL)."""
    experiment = (
        await session.scalars(
            select(Experiment).where(Experiment.id == experiment_id).with_for_update()
        )
    ).one_or_none()
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("no experiment with that id", field="experimentId")
    if experiment.kind is not ExperimentKind.TRAINING:
        raise BadRequest("epochs are logged only for TRAINING experiments", field="experimentId")
    return experiment


def check_fencing(experiment: Experiment, fencing_token: int | None) -> None:
    """An experiment of an HPO campaign takes epochs only with a fencing token;
    one outside any campaign takes none. The token is then checked against the
    trial's claim (``hpo.check_epochs_holder``)."""
    in_campaign = getattr(experiment, "hpo_campaign_id", None) is not None
    if in_campaign and fencing_token is None:
        raise Conflict(
            "this experiment is a trial of an HPO campaign: send the fencing token of its claim",
            field="fencingToken",
        )
    if not in_campaign and fencing_token is not None:
        raise Conflict(
            "this experiment belongs to no HPO campaign: there is no claim to fence; "
            "omit fencingToken",
            field="fencingToken",
        )


async def log_epochs(
    session: AsyncSession,
    dialect: str,
    experiment_id: int,
    fencing_token: int | None,
    epochs: Sequence[Mapping[str, Any]],
) -> list[models.TrainingRun]:
    """Insert or update one training_runs row per epoch, in one statement; the
    stored rows of those epochs, in epoch order."""
    if not epochs:
        raise BadRequest("epochs must not be empty", field="epochs")
    if len(epochs) > MAX_EPOCHS:
        raise BadRequest(f"at most {MAX_EPOCHS} epochs per call", field="epochs")
    experiment = await training_experiment(session, experiment_id)
    check_fencing(experiment, fencing_token)
    if fencing_token is not None:
        from expgraph.domains.training.hpo import check_epochs_holder  # (hpo imports this module)

        await check_epochs_holder(session, experiment_id, fencing_token)
    by_epoch: dict[int, dict[str, Any]] = {}
    for i, given in enumerate(epochs):
        epoch = given["epoch"]
        if epoch < 0:
            raise BadRequest(f"epochs[{i}].epoch must be 0 or more", field="epochs")
        if epoch in by_epoch:
            raise BadRequest(f"epochs[{i}]: epoch {epoch} is given twice", field="epochs")
        row = {"experiment_id": experiment_id, "epoch": epoch}
        for column in EPOCH_COLUMNS:
            value = given.get(column)
            if isinstance(value, float) and not math.isfinite(value):
                raise BadRequest(f"epochs[{i}]: {column} must be a finite number", field="epochs")
            row[column] = value
        by_epoch[epoch] = row
    rows = [by_epoch[e] for e in sorted(by_epoch)]
    check_rows(models.TrainingRun, rows)  # Core statements skip the ORM's value checks
    table = models.TrainingRun.__table__
    statement = upsert_many(dialect, table, ("experiment_id", "epoch"), EPOCH_COLUMNS)  # type: ignore[arg-type]
    await session.execute(statement, rows)
    stored = await session.scalars(
        select(models.TrainingRun)
        .where(
            models.TrainingRun.experiment_id == experiment_id,
            models.TrainingRun.epoch.in_(list(by_epoch)),
        )
        .order_by(models.TrainingRun.epoch)
        .execution_options(populate_existing=True)
    )
    return list(stored.all())
