"""Mutation inputs for NAS campaigns and trials."""

from __future__ import annotations

import strawberry

from expgraph.domains.training.models import NasTrialStatus
from expgraph.domains.training.nas import MAX_EPOCHS, MAX_PARALLEL, MAX_TRIALS
from expgraph.domains.training.nas_space import MAX_CHOICES, MAX_DECISIONS, MAX_LAYERS
from expgraph.domains.training.nas_types import NasSearchAlgorithm
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON, BigInt


@strawberry.input(description="One decision of a search space and the values it chooses from.")
class NasDecisionInput:
    name: str = strawberry.field(
        description=(
            "1 to 100 characters, unique among its siblings: the key of its choice in an "
            'architecture ("layers" is reserved at the top level when the space has layers).'
        )
    )
    choices: list[JSON] = capped(
        MAX_CHOICES,
        description="The values to choose from: 1 to 100 distinct JSON values, none null.",
    )


@strawberry.input(description="A stack of layers, each making its own decisions.")
class NasLayersInput:
    min_count: int = strawberry.field(description=f"The fewest layers: 0 to {MAX_LAYERS}.")
    max_count: int = strawberry.field(description=f"The most layers: minCount to {MAX_LAYERS}.")
    decisions: list[NasDecisionInput] = capped(
        MAX_DECISIONS,
        description="What each layer decides (e.g. op, width, activation): 1 to 50 decisions.",
    )


@strawberry.input(
    description=(
        "What a NAS campaign searches over: decisions made once per architecture, a stack "
        "of layers each making its own decisions, or both. For example decisions "
        '[{name: "optimizer", choices: ["adam", "sgd"]}] and layers {minCount: 2, maxCount: '
        '6, decisions: [{name: "op", choices: ["conv3x3", "conv5x5", "maxpool"]}, {name: '
        '"width", choices: [32, 64, 128]}]} give architectures such as {"optimizer": '
        '"adam", "layers": [{"op": "conv3x3", "width": 64}, {"op": "maxpool", "width": 32}]}.'
    )
)
class NasSearchSpaceInput:
    decisions: list[NasDecisionInput] = capped(
        MAX_DECISIONS,
        default_factory=list,
        description="Decisions made once per architecture: 0 to 50 (default none).",
    )
    layers: NasLayersInput | None = strawberry.field(
        default=None, description="The stack of layers; none when left out."
    )


@strawberry.input(description="A new NAS campaign (PENDING until its first trial is claimed).")
class CreateNasCampaignInput:
    name: str = strawberry.field(description="1 to 255 characters.")
    dataset_id: strawberry.ID = strawberry.field(description="The dataset trials train on.")
    search_algorithm: NasSearchAlgorithm = strawberry.field(
        default=NasSearchAlgorithm.RANDOM, description="How architectures are picked."
    )
    search_space: NasSearchSpaceInput = strawberry.field(description="What is searched over.")
    num_trials: int = strawberry.field(
        description=f"The budget: how many trials complete, 1 to {MAX_TRIALS:,}."
    )
    max_parallel: int = strawberry.field(
        default=1, description=f"The most trials running at once, 1 to {MAX_PARALLEL:,}."
    )
    max_epochs_per_trial: int = strawberry.field(
        description=f"The most epochs a trial trains for, 1 to {MAX_EPOCHS:,}."
    )
    seed: BigInt | None = strawberry.field(
        default=None,
        description=(
            "The sampler's seed, 0 to 2^63 - 1: the same seed and search space draw the same "
            "architectures. Left out: one is drawn at random (and shown as the campaign's seed)."
        ),
    )


@strawberry.input(description="A NAS campaign to cancel.")
class CancelNasCampaignInput:
    campaign_id: strawberry.ID = strawberry.field(description="The campaign.")


@strawberry.input(description="Claim a new trial of a NAS campaign.")
class ClaimNasTrialInput:
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The campaign; left out: the oldest PENDING or RUNNING campaign with room.",
    )
    worker_id: str = strawberry.field(description="Who claims: 1 to 255 characters.")


@strawberry.input(description="A worker's claim on a NAS trial.")
class NasTrialHolderInput:
    trial_id: strawberry.ID = strawberry.field(description="The claimed trial.")
    worker_id: str = strawberry.field(description="The worker that claimed it.")
    fencing_token: BigInt = strawberry.field(description="The trial's fencingToken from the claim.")


@strawberry.input(description="A trial's results, which end its claim.")
class FinishNasTrialInput:
    trial_id: strawberry.ID = strawberry.field(description="The claimed trial.")
    worker_id: str = strawberry.field(description="The worker that claimed it.")
    fencing_token: BigInt = strawberry.field(description="The trial's fencingToken from the claim.")
    status: NasTrialStatus = strawberry.field(
        description="COMPLETED (trained; its results count) or FAILED (RUNNING is refused)."
    )
    validation_accuracy: float | None = strawberry.field(
        default=None, description="Validation accuracy, higher is better."
    )
    validation_loss: float | None = strawberry.field(default=None, description="Validation loss.")
    training_time: float | None = strawberry.field(
        default=None, description="Training time in seconds, 0 or more."
    )
    num_parameters: int | None = strawberry.field(
        default=None, description="The model's parameter count, 0 or more."
    )
    flops: BigInt | None = strawberry.field(
        default=None, description="Floating-point operations of one forward pass, 0 or more."
    )
    model_size_mb: float | None = strawberry.field(
        default=None, description="The model's size in megabytes, 0 or more."
    )
    metrics: JSON | None = strawberry.field(
        default=None, description="Any other results, as a JSON object."
    )
