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
    model_type: str | None
    hyperparameters: JSON | None
    metrics: JSON | None
    best_epoch: int | None
    total_epochs: int | None
    duration_seconds: float | None
    model_path: str | None
    onnx_path: str | None
    results_dir: str | None
    notes: str | None
