"""Mutation inputs for training."""

from __future__ import annotations

import strawberry

from expgraph.domains.training.service import MAX_EPOCHS
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import BigInt


@strawberry.input(description="One epoch's values; every value left out is stored as null.")
class TrainingEpochInput:
    epoch: int = strawberry.field(
        description="The epoch number, 0 or more; logging it again replaces its values."
    )
    train_loss: float | None = strawberry.field(default=None, description="Training loss.")
    val_loss: float | None = strawberry.field(default=None, description="Validation loss.")
    train_accuracy: float | None = strawberry.field(default=None, description="Training accuracy.")
    val_accuracy: float | None = strawberry.field(default=None, description="Validation accuracy.")
    learning_rate: float | None = strawberry.field(
        default=None, description="Learning rate used in the epoch."
    )
    duration_seconds: float | None = strawberry.field(
        default=None, description="Wall-clock time of the epoch in seconds."
    )
    checkpoint_path: str | None = strawberry.field(
        default=None, description="Where the epoch's checkpoint is stored, at most 500 characters."
    )


@strawberry.input(
    description=(
        "Epochs of one TRAINING experiment, stored all or none. Idempotent per epoch: an epoch "
        "already logged is updated (all its values replaced), never duplicated."
    )
)
class LogTrainingEpochsInput:
    experiment_id: strawberry.ID = strawberry.field(description="The TRAINING experiment.")
    fencing_token: BigInt | None = strawberry.field(
        default=None,
        description=(
            "Required when the experiment is a trial of an HPO campaign (its hpoCampaign is "
            "set): the fencing token of the caller's claim on the trial. Must be left out "
            "for an experiment outside any campaign. Either mistake is a CONFLICT."
        ),
    )
    epochs: list[TrainingEpochInput] = capped(
        MAX_EPOCHS, description="The epochs, from 1 to 1,000, each epoch number at most once."
    )
