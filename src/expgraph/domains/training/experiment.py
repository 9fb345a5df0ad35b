"""``TrainingExperiment``: the ML-training kind of experiment, and the check of
its dataset reference on every write."""

from __future__ import annotations

import strawberry

from expgraph.domains.catalog.fields import dataset_field
from expgraph.domains.catalog.service import check_dataset_references
from expgraph.domains.experiments import hooks
from expgraph.domains.experiments import models as experiments
from expgraph.domains.experiments.types import EXPERIMENT_RENAMES, Experiment
from expgraph.graphql.relay import node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public

hooks.check_kind(experiments.ExperimentKind.TRAINING, check_dataset_references)


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
    best_epoch: int | None = strawberry.field(
        description="Epoch with the best validation result; null until known."
    )
    total_epochs: int | None = strawberry.field(description="Epochs trained; null until reported.")
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
