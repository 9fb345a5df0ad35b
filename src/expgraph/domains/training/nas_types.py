"""NAS GraphQL types: campaigns, trials, the search space, progress, the Pareto front."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import aliased

from expgraph.domains.catalog.fields import dataset_field
from expgraph.domains.catalog.models import Dataset
from expgraph.domains.training import models, nas_space
from expgraph.domains.training.models import NasTrialStatus
from expgraph.domains.training.nas import (
    TALLIES,
    NasCampaignStatus,
    NasSearchAlgorithm,
    Tally,
    on_pareto_front,
)
from expgraph.graphql.bounds import capped
from expgraph.graphql.connections import connection_field
from expgraph.graphql.enums import described_enum
from expgraph.graphql.filters import Rule
from expgraph.graphql.loaders import ChildLists, Narrowing, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import SqlRule, computed, derived_field, list_field, node_field
from expgraph.graphql.relay import Node, model_pk, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public

NasCampaignT = Annotated["NasCampaign", strawberry.lazy(__name__)]

described_enum(
    NasCampaignStatus,
    "Where a NAS campaign is in its life.",
    {
        NasCampaignStatus.PENDING: "Created; no trial claimed yet.",
        NasCampaignStatus.RUNNING: "Trials are being claimed and trained.",
        NasCampaignStatus.COMPLETED: (
            "Done: numTrials trials completed, or every architecture of the search space was "
            "tried, and none is running. No more trials are handed out."
        ),
        NasCampaignStatus.FAILED: "Stopped by an error (see errorMessage).",
        NasCampaignStatus.CANCELLED: "Stopped on purpose; no more trials are handed out.",
    },
)

described_enum(
    NasSearchAlgorithm,
    "How a NAS campaign picks each new architecture.",
    {
        NasSearchAlgorithm.RANDOM: (
            "Every decision (and the number of layers) drawn uniformly at random."
        ),
        NasSearchAlgorithm.REGULARIZED_EVOLUTION: (
            "Regularized evolution (aging evolution): the population is the latest 20 "
            "completed trials with a validation accuracy; each new architecture mutates the "
            "most accurate of 5 of them drawn at random (one decision changed, or one layer "
            "added or removed). Until 5 trials have completed, architectures are drawn at "
            "random."
        ),
    },
)

described_enum(
    NasTrialStatus,
    "Where a NAS trial is.",
    {
        NasTrialStatus.RUNNING: "Claimed by a worker that is training it.",
        NasTrialStatus.COMPLETED: "Trained; its results are recorded.",
        NasTrialStatus.FAILED: (
            "Reported as failed, or its worker stopped sending heartbeats (its budget slot is "
            "offered again; its architecture is not)."
        ),
    },
)


@strawberry.type(description="One decision of a search space and the values it chooses from.")
class NasDecision:
    name: str = strawberry.field(
        description="The decision's name: the key of its choice in an architecture."
    )
    choices: list[JSON] = strawberry.field(description="The values it chooses from, in order.")


@strawberry.type(description="The stack of layers of a search space.")
class NasLayers:
    min_count: int = strawberry.field(description="The fewest layers an architecture has.")
    max_count: int = strawberry.field(description="The most layers an architecture has.")
    decisions: list[NasDecision] = strawberry.field(
        description="The decisions each layer makes, independently of the other layers."
    )


ARCHITECTURE_RULE = (
    "An architecture is a JSON object: each top-level decision's name -> its choice, and, "
    'when the space has layers, "layers": a list of objects (one per layer, from minCount '
    "to maxCount of them), each mapping every layer decision's name to its choice. "
    'Example: {"optimizer": "adam", "layers": [{"op": "conv3x3", "width": 64}]}.'
)


@strawberry.type(description="What a NAS campaign searches over. " + ARCHITECTURE_RULE)
class NasSearchSpace:
    decisions: list[NasDecision] = strawberry.field(
        description="Decisions made once per architecture."
    )
    layers: NasLayers | None = strawberry.field(
        description="The stack of layers, each making its own decisions; null when none."
    )
    size: BigInt | None = strawberry.field(
        description=(
            "How many distinct architectures the space holds; null when more than a BigInt "
            "holds (2^63 - 1)."
        )
    )


def _decisions(items: tuple[nas_space.Decision, ...]) -> list[NasDecision]:
    return [NasDecision(name=d.name, choices=list(d.choices)) for d in items]


def search_space(stored: dict[str, Any]) -> NasSearchSpace:
    space = nas_space.SearchSpace.from_json(stored)
    size = space.size()
    layers = space.layers
    return NasSearchSpace(
        decisions=_decisions(space.decisions),
        layers=None
        if layers is None
        else NasLayers(
            min_count=layers.min_count,
            max_count=layers.max_count,
            decisions=_decisions(layers.decisions),
        ),
        size=BigInt(size) if size < 2**63 else None,
    )


@strawberry.type(description="How far a NAS campaign is, by its trials.")
class NasProgress:
    running: int = strawberry.field(description="Trials being trained now.")
    completed: int = strawberry.field(description="Trials trained to completion.")
    failed: int = strawberry.field(
        description="Trials that failed (reported, or their worker went stale)."
    )
    remaining: int = strawberry.field(
        description=(
            "Budget slots not yet taken: numTrials minus running and completed trials (a "
            "failed trial's slot is offered again), never below 0."
        )
    )


def progress_of(tally: Tally, record: Any) -> NasProgress:
    """A campaign's progress from its trial counts."""
    return NasProgress(
        running=tally.running,
        completed=tally.completed,
        failed=tally.failed,
        remaining=max(0, record.num_trials - tally.running - tally.completed),
    )


def _progress(tally: Tally, record: Any, _context: Any) -> NasProgress:
    return progress_of(tally, record)


def _trial_counts_sql(row: Any) -> dict[str, Any]:
    """The campaign's trials counted by state, in SQL (computed once per row)."""

    def count(status: NasTrialStatus) -> Any:
        trial = aliased(models.NasTrial)
        return (
            select(func.count())
            .select_from(trial)
            .where(trial.campaign_id == row.id, trial.status == status)
            .scalar_subquery()
        )

    return {
        "running": count(NasTrialStatus.RUNNING),
        "completed": count(NasTrialStatus.COMPLETED),
        "failed": count(NasTrialStatus.FAILED),
    }


def _progress_sql(row: Any, _settings: Any, counts: Mapping[str, Any]) -> dict[str, Any]:
    """``progress_of`` in SQL."""
    left = row.num_trials - counts["running"] - counts["completed"]
    return {**counts, "remaining": case((left > 0, left), else_=literal(0))}


@node_type(models.NasTrial, read=Public)
@strawberry.type(
    description=(
        "One architecture of a NAS campaign, trained by the worker that claimed it "
        "(claimNasTrial) and finished with its results (finishNasTrial)."
    )
)
class NasTrial(Node):
    id: strawberry.ID
    campaign: NasCampaignT = node_field(
        RowsById(models.NasCampaign),
        "campaign_id",
        NasCampaignT,
        nullable=False,
        description="The campaign it belongs to.",
    )
    trial_number: int = strawberry.field(
        description="Its number in the campaign: 1, 2, 3... in the order trials were claimed."
    )
    architecture: JSON = strawberry.field(
        description="The sampled architecture. " + ARCHITECTURE_RULE
    )
    architecture_hash: str = strawberry.field(
        description=(
            "SHA-256 (64 hex digits) of the architecture's canonical JSON: keys sorted, no "
            'spaces, non-ASCII escaped (Python: json.dumps(a, sort_keys=True, separators=(",", '
            '":"))). Unique within the campaign: an architecture is trained at most once.'
        )
    )
    status: NasTrialStatus = strawberry.field(description="Running, completed or failed.")
    validation_accuracy: float | None = strawberry.field(
        description="Validation accuracy (higher is better); null until reported."
    )
    validation_loss: float | None = strawberry.field(
        description="Validation loss; null until reported."
    )
    training_time: float | None = strawberry.field(
        description="Training time in seconds; null until reported."
    )
    num_parameters: int | None = strawberry.field(
        description="The model's parameter count; null until reported."
    )
    flops: BigInt | None = strawberry.field(
        description="Floating-point operations of one forward pass; null until reported."
    )
    model_size_mb: float | None = strawberry.field(
        description="The trained model's size in megabytes; null until reported."
    )
    metrics: JSON | None = strawberry.field(
        description="Any other results, as a JSON object; null when none were reported."
    )
    claimed_by: str | None = strawberry.field(
        description="The worker holding the trial's claim; null once it finished."
    )
    claimed_at: datetime | None = strawberry.field(
        description="The claim's last heartbeat (or the claim); null once it finished."
    )
    fencing_token: BigInt = strawberry.field(
        description="The token of the trial's claim: its worker passes it to every later call."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it completed or failed; null while running."
    )
    created_at: datetime = strawberry.field(description="When it was claimed.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    record: strawberry.Private[models.NasTrial]


TRIALS = Relation(models.NasTrial, "campaign_id")


def _front_condition() -> Any:
    return on_pareto_front()


PARETO_FRONT = ChildLists(TRIALS.narrowed(Narrowing.fixed(_front_condition)), order_attr="flops")
"""Each campaign's Pareto front, for a page of campaigns in one statement."""


def _status(record: Any) -> NasCampaignStatus:
    return NasCampaignStatus(record.status)


@node_type(models.NasCampaign, read=Public)
@strawberry.type(
    description=(
        "A neural architecture search over a dataset: workers claim trials (each a new "
        "architecture drawn from the search space, never one the campaign tried before), "
        "train them and report their results. Deleted with its dataset, trials included."
    )
)
class NasCampaign(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="The campaign's name.")
    dataset = dataset_field("The dataset its trials train on.")
    num_trials: int = strawberry.field(
        description="The budget: how many trials complete before the campaign does."
    )
    max_parallel: int = strawberry.field(description="The most trials running at once.")
    max_epochs_per_trial: int = strawberry.field(
        description="The most epochs a trial should train for (workers read it)."
    )
    seed: BigInt | None = strawberry.field(
        description=(
            "The sampler's seed: the same seed and space give the same architectures (null: "
            "a campaign stored without one, sampled as with seed 0)."
        )
    )
    best_accuracy: float | None = strawberry.field(
        description="bestTrial's validation accuracy; null until a trial completes with one."
    )
    best_trial: NasTrial | None = node_field(
        RowsById(models.NasTrial),
        "best_trial_id",
        NasTrial,
        description=(
            "The completed trial with the highest validation accuracy (the earliest finished "
            "on a tie); null until one completes with an accuracy."
        ),
    )
    task_id: str | None = strawberry.field(
        description="An external task id (e.g. a Celery task's); null when none."
    )
    error_message: str | None = strawberry.field(
        description="Why the campaign failed; null unless it did."
    )
    completed_at: datetime | None = strawberry.field(
        description="When it completed; null until it does."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    record: strawberry.Private[models.NasCampaign]

    @strawberry.field(description="Where the campaign is in its life.")
    @computed(lambda row, _settings: row.status)
    def status(self) -> NasCampaignStatus:
        return _status(self.record)

    @strawberry.field(description="How each new architecture is picked.")
    @computed(lambda row, _settings: row.search_algorithm)
    def search_algorithm(self) -> NasSearchAlgorithm:
        return NasSearchAlgorithm(self.record.search_algorithm)

    @strawberry.field(description="What the campaign searches over.")
    def search_space(self) -> NasSearchSpace:
        return search_space(self.record.search_space_config)

    progress: NasProgress = derived_field(
        TALLIES,
        "id",
        NasProgress,
        _progress,
        sql=SqlRule(_progress_sql, once=_trial_counts_sql),
        description="Its trials by state; a page of campaigns reads them in one statement.",
    )
    trials = connection_field(
        TRIALS,
        NasTrial,
        (SortKey("trial_number"),),
        description="Its trials, by trial number.",
    )
    pareto_front: list[NasTrial] = list_field(
        PARETO_FRONT,
        NasTrial,
        description=(
            "The completed trials no other completed trial dominates in accuracy against "
            "cost: none is at least as accurate with at most as many FLOPs and better in "
            "one of the two. Trials without a validation accuracy or FLOPs are left out; "
            "ordered by FLOPs, fewest first. A page of campaigns reads its fronts in one "
            "statement."
        ),
    )


@strawberry.input(description="Conditions on NAS campaigns; all given ones must hold.")
class NasCampaignFilter:
    statuses: list[NasCampaignStatus] | None = capped(
        5, default=None, description="Only campaigns in one of these states."
    )
    dataset_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only campaigns over this dataset."
    )


C = models.NasCampaign
CAMPAIGN_RULES: dict[str, Rule] = {
    "statuses": lambda v: C.status.in_([s.value for s in v]),
    "dataset_id": lambda v: C.dataset_id == model_pk(v, Dataset),
}
