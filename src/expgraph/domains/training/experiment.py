"""``TrainingExperiment``: the ML-training kind of experiment, and the check of
its dataset reference on every write."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from expgraph.domains.catalog.fields import dataset_field
from expgraph.domains.catalog.service import check_dataset_references
from expgraph.domains.experiments import hooks
from expgraph.domains.experiments import models as experiments
from expgraph.domains.experiments.types import EXPERIMENT_RENAMES, Experiment
from expgraph.domains.training import models
from expgraph.domains.training.explanations import EXPLANATIONS, Explanation
from expgraph.domains.training.service import TrainingMetric, best, objective_of
from expgraph.domains.training.types import RUNS, LearningCurve, TrainingRun, curve
from expgraph.graphql.connections import connection_field
from expgraph.graphql.context import Info
from expgraph.graphql.loaders import Relation
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import derived_field
from expgraph.graphql.relay import node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public

hooks.check_kind(experiments.ExperimentKind.TRAINING, check_dataset_references)

OBJECTIVE_RULE = (
    "The objective is the experiment's config key objective, e.g. "
    '{"objective": {"metric": "valAccuracy", "direction": "MAXIMIZE"}} (metric: a '
    "TrainingMetric, camelCase or as the enum names it; direction: MINIMIZE or MAXIMIZE). "
    "Without it, validation loss minimized; without a direction, accuracies are maximized "
    "and other metrics minimized. Ties go to the earliest epoch."
)


def _best_epoch(runs: list[Any], record: Any, _context: Any) -> int | None:
    if not runs:  # nothing logged: what the client set (training.bestEpoch), if anything
        return record.best_epoch
    found = best(runs, objective_of(record.config))
    return None if found is None else found[0]


def _best_value(runs: list[Any], record: Any, _context: Any) -> float | None:
    found = best(runs, objective_of(record.config))
    return None if found is None else found[1]


def _total_epochs(runs: list[Any], record: Any, _context: Any) -> int:
    # Nothing logged: what the client set (training.totalEpochs), else 0.
    return len(runs) if runs else (record.total_epochs or 0)


@node_type(experiments.TrainingExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="An ML training run over a dataset.")
class TrainingExperiment(Experiment):
    dataset = dataset_field("The dataset it trains on.")
    model_type: str | None = strawberry.field(
        description="Model family or architecture; null until set."
    )
    hyperparameters: JSON | None = strawberry.field(
        description="Hyperparameters as a JSON object; null until set."
    )
    metrics: JSON | None = strawberry.field(
        description="Resulting metrics as a JSON object; null until reported."
    )
    best_epoch: int | None = derived_field(
        RUNS,
        "id",
        int | None,
        _best_epoch,
        description=(
            "The logged epoch with the best value of the objective (null when no logged "
            "epoch has a value for it); before any epoch is logged, the value set with "
            "updateExperiment's training.bestEpoch, if any. " + OBJECTIVE_RULE
        ),
    )
    best_value: float | None = derived_field(
        RUNS,
        "id",
        float | None,
        _best_value,
        description="The objective's value at bestEpoch; null when bestEpoch is null.",
    )
    total_epochs: int = derived_field(
        RUNS,
        "id",
        int,
        _total_epochs,
        description=(
            "How many epochs are logged (trainingRuns); before the first is logged, the "
            "value set with training.totalEpochs, else 0."
        ),
    )
    training_runs = connection_field(
        Relation(models.TrainingRun, "experiment_id"),
        TrainingRun,
        (SortKey("epoch"),),
        description="Its logged epochs, by epoch number (logTrainingEpochs).",
    )
    explanations = connection_field(
        EXPLANATIONS,
        Explanation,
        (SortKey("id"),),
        description="Explanations of its model (createExplanations), oldest first.",
    )

    @strawberry.field(
        description=(
            "One learning curve per metric asked for, in the order asked: each logged epoch "
            "with a value for the metric, by epoch. A page of experiments reads its curves "
            "in one statement."
        )
    )
    async def learning_curve(
        self,
        info: Info,
        metrics: Annotated[
            list[TrainingMetric],
            strawberry.argument(description="The metrics to plot, one curve each."),
        ],
    ) -> list[LearningCurve]:
        runs = await info.context.loader(RUNS).load(self.record.id)
        return [curve(runs, metric) for metric in dict.fromkeys(metrics)]

    duration_seconds: float | None = strawberry.field(
        description="Training wall-clock time in seconds; null until it finishes."
    )
    model_path: str | None = strawberry.field(
        description="Where the trained model is stored; null until saved."
    )
    onnx_path: str | None = strawberry.field(
        description="Where the ONNX export is stored; null when there is none."
    )
    results_dir: str | None = strawberry.field(
        description="Directory of training outputs; null when not set."
    )
    notes: str | None = strawberry.field(
        description="Free-text notes; searched by full-text search."
    )
