"""HPO mutation inputs and the campaigns' list filter."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.sql.elements import ColumnElement

from expgraph.domains.experiments.models import ExperimentStatus
from expgraph.domains.training.hpo_space import MAX_CHOICES, MAX_PARAMETERS, HpoParameterKind
from expgraph.domains.training.hpo_types import HpoTrialOutcome
from expgraph.domains.training.models import HpoCampaign, HpoMethod
from expgraph.domains.training.service import ObjectiveDirection, TrainingMetric
from expgraph.graphql.bounds import capped
from expgraph.graphql.filters import Rule
from expgraph.graphql.scalars import JSON, BigInt


@strawberry.input(description="One hyperparameter to search.")
class HpoParameterInput:
    name: str = strawberry.field(
        description="Its name, 1-100 characters, unique in the space: the key in hyperparameters."
    )
    kind: HpoParameterKind = strawberry.field(description="The kind of its values.")
    low: float | None = strawberry.field(
        default=None, description="FLOAT and INT: the lowest value (INT: a whole number)."
    )
    high: float | None = strawberry.field(
        default=None, description="FLOAT and INT: the highest value, more than low."
    )
    log: bool = strawberry.field(
        default=False, description="FLOAT and INT: draw on a log scale (needs low > 0, no step)."
    )
    step: float | None = strawberry.field(
        default=None,
        description=(
            "FLOAT and INT: only values low, low + step, ... up to high. GRID_SEARCH needs it "
            "on every FLOAT parameter (INT defaults to 1)."
        ),
    )
    choices: list[JSON] | None = capped(
        MAX_CHOICES,
        default=None,
        description=("CATEGORICAL: 1 to 100 distinct values (strings, numbers, booleans or null)."),
    )


@strawberry.input(description="The metric trials are judged by.")
class HpoObjectiveInput:
    metric: TrainingMetric = strawberry.field(description="The metric.")
    direction: ObjectiveDirection = strawberry.field(description="Lower or higher is better.")


@strawberry.input(description="What a campaign may spend.")
class HpoBudgetInput:
    max_trials: int = strawberry.field(
        description=(
            "1 to 10,000: trials that may end other than FAILED (a failed trial's slot is "
            "offered again; at most twice this many trials are ever created)."
        )
    )
    max_parallel: int = strawberry.field(description="1 to maxTrials: trials running at once.")
    max_duration_seconds: int | None = strawberry.field(
        default=None,
        description="No trial starts this many seconds after the first claim; null: no limit.",
    )
    min_epochs: int | None = strawberry.field(
        default=None, description="HYPERBAND: the smallest resource in epochs (default 1)."
    )
    max_epochs: int | None = strawberry.field(
        default=None,
        description="HYPERBAND: the largest resource in epochs, above minEpochs (default 27).",
    )


@strawberry.input(description="A new HPO campaign.")
class CreateHpoCampaignInput:
    name: str = strawberry.field(description="Unique name, 1-255 characters.")
    method: HpoMethod = strawberry.field(description="How hyperparameters are chosen.")
    base_model_type: str = strawberry.field(
        description="The model type every trial trains, 1-100 characters."
    )
    dataset_id: strawberry.ID | None = strawberry.field(
        default=None, description="The dataset every trial trains on; optional."
    )
    search_space: list[HpoParameterInput] = capped(
        MAX_PARAMETERS, description="The hyperparameters searched, 1 to 32."
    )
    objective: HpoObjectiveInput | None = strawberry.field(
        default=None,
        description=(
            "Default: VAL_ACCURACY, MAXIMIZE (the campaign's best value is stored as its "
            "best accuracy)."
        ),
    )
    budget: HpoBudgetInput = strawberry.field(description="What the campaign may spend.")
    seed: BigInt | None = strawberry.field(
        default=None,
        description=(
            "Seeds the sampler, 0 to 2^63 - 1: the same seed and reports give the same "
            "trials. Null: one is drawn at creation and kept (HpoCampaign.seed)."
        ),
    )


@strawberry.input(description="Claim the next trial.")
class ClaimHpoTrialInput:
    worker_id: str = strawberry.field(description="Identifies the worker, 1-255 characters.")
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Claim in this campaign; omit for the oldest PENDING or RUNNING one with room.",
    )


@strawberry.input(description="Proves the caller holds a trial's claim.")
class HpoTrialHolderInput:
    experiment_id: strawberry.ID = strawberry.field(description="The trial's experiment.")
    worker_id: str = strawberry.field(description="The workerId the trial was claimed with.")
    fencing_token: BigInt = strawberry.field(
        description="The claim's fencingToken; a stale one is a CONFLICT (extensions.reason)."
    )


@strawberry.input(description="An objective value at one epoch of a running trial.")
class ReportIntermediateInput(HpoTrialHolderInput):
    epoch: int = strawberry.field(
        description="The epoch, 0 or more; resent, it replaces the value."
    )
    value: float = strawberry.field(description="The objective's value at that epoch.")


@strawberry.input(description="A trial's final metrics; each optional.")
class TrainingMetricsInput:
    val_loss: float | None = strawberry.field(default=None, description="Validation loss.")
    val_accuracy: float | None = strawberry.field(default=None, description="Validation accuracy.")
    train_loss: float | None = strawberry.field(default=None, description="Training loss.")
    train_accuracy: float | None = strawberry.field(default=None, description="Training accuracy.")


@strawberry.input(description="How a trial ended.")
class FinishTrialInput(HpoTrialHolderInput):
    status: HpoTrialOutcome = strawberry.field(description="How it ended.")
    metrics: TrainingMetricsInput | None = strawberry.field(
        default=None, description="Its final metrics, merged into the experiment's metrics."
    )
    value: float | None = strawberry.field(
        default=None,
        description=(
            "The objective's value; default: the objective's metric in metrics, else (PRUNED) "
            "the last reported intermediate value. COMPLETED needs one; FAILED keeps none."
        ),
    )


@strawberry.input(description="Conditions on HPO campaigns (all must hold).")
class HpoCampaignFilter:
    status: ExperimentStatus | None = strawberry.field(default=None, description="This status.")
    method: HpoMethod | None = strawberry.field(default=None, description="This method.")


def _status(value: Any) -> ColumnElement[bool]:
    return HpoCampaign.status == value


def _method(value: Any) -> ColumnElement[bool]:
    return HpoCampaign.method == value


CAMPAIGN_RULES: dict[str, Rule] = {"status": _status, "method": _method}
