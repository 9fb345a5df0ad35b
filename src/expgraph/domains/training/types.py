"""Training GraphQL types: an epoch's row, the metric enum and chart-ready curves."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.training import models
from expgraph.domains.training.service import ObjectiveDirection, TrainingMetric, points
from expgraph.graphql.enums import described_enum
from expgraph.graphql.loaders import ChildLists, Relation
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.visibility import Public

RUNS = ChildLists(Relation(models.TrainingRun, "experiment_id"), order_attr="epoch")
"""Every epoch of each experiment of a page, in epoch order: one statement for
the learning curves, best epochs and epoch counts of the whole page."""

described_enum(
    TrainingMetric,
    "A value recorded per epoch of a training experiment.",
    {
        TrainingMetric.TRAIN_LOSS: "Loss on the training set.",
        TrainingMetric.VAL_LOSS: "Loss on the validation set.",
        TrainingMetric.TRAIN_ACCURACY: "Accuracy on the training set.",
        TrainingMetric.VAL_ACCURACY: "Accuracy on the validation set.",
        TrainingMetric.LEARNING_RATE: "The learning rate used in the epoch.",
        TrainingMetric.DURATION_SECONDS: "How long the epoch took, in seconds.",
    },
)

described_enum(
    ObjectiveDirection,
    "Whether lower or higher values of a metric are better.",
    {
        ObjectiveDirection.MINIMIZE: "Lower is better (losses).",
        ObjectiveDirection.MAXIMIZE: "Higher is better (accuracies).",
    },
)


@node_type(models.TrainingRun, read=Public)
@strawberry.type(description="One epoch of a training experiment, as last logged.")
class TrainingRun(Node):
    id: strawberry.ID
    epoch: int = strawberry.field(description="The epoch number, 0 or more; one row per epoch.")
    train_loss: float | None = strawberry.field(description="Training loss; null if not logged.")
    val_loss: float | None = strawberry.field(description="Validation loss; null if not logged.")
    train_accuracy: float | None = strawberry.field(
        description="Training accuracy; null if not logged."
    )
    val_accuracy: float | None = strawberry.field(
        description="Validation accuracy; null if not logged."
    )
    learning_rate: float | None = strawberry.field(
        description="Learning rate of the epoch; null if not logged."
    )
    duration_seconds: float | None = strawberry.field(
        description="Wall-clock time of the epoch in seconds; null if not logged."
    )
    checkpoint_path: str | None = strawberry.field(
        description="Where the epoch's checkpoint is stored; null if none."
    )
    created_at: datetime = strawberry.field(description="When the epoch was first logged.")
    updated_at: datetime = strawberry.field(description="When the epoch was last logged.")
    record: strawberry.Private[models.TrainingRun]


@strawberry.type(description="One point of a learning curve.")
class CurvePoint:
    epoch: int = strawberry.field(description="The epoch.")
    value: float = strawberry.field(description="The metric's value at that epoch.")


@strawberry.type(
    description=(
        "A metric over epochs, ready for a chart: one point per logged epoch that has a "
        "value for the metric, in epoch order."
    )
)
class LearningCurve:
    metric: TrainingMetric = strawberry.field(description="The metric plotted.")
    points: list[CurvePoint] = strawberry.field(description="The points, by epoch.")


def curve(runs: list[models.TrainingRun], metric: TrainingMetric) -> LearningCurve:
    """``metric``'s curve over ``runs`` (in epoch order)."""
    return LearningCurve(
        metric=metric, points=[CurvePoint(epoch=e, value=v) for e, v in points(runs, metric)]
    )
