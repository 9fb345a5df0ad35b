"""HPO GraphQL types: ``HpoCampaign`` and ``HpoTrial`` nodes, the typed search
space, budget, objective, progress and parameter importance, and the enums."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import anyio
import strawberry
from sqlalchemy import case, func, select
from sqlalchemy.ext.hybrid import hybrid_property

from expgraph.domains.catalog.fields import dataset_field
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.models import ExperimentStatus
from expgraph.domains.training import hpo_sampling, models
from expgraph.domains.training.experiment import TrainingExperiment
from expgraph.domains.training.hpo import stored_trials
from expgraph.domains.training.hpo_space import HpoParameterKind, objective_of_campaign
from expgraph.domains.training.models import HpoMethod, HpoTrialState
from expgraph.domains.training.service import ObjectiveDirection, TrainingMetric
from expgraph.graphql.connections import PAGE_ARGUMENT_DESCRIPTIONS, Connection, child_connection
from expgraph.graphql.context import Info
from expgraph.graphql.enums import described_enum
from expgraph.graphql.loaders import ChildLists, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import derived_field, node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public, node_for

T = models.HpoTrial

# The trials' order by the objective, best first and unscored last: two NOT NULL
# sort keys (keyset pagination needs them) as hybrid attributes (a value on a
# record, an expression in SQL; not loaded columns).
T.unscored = hybrid_property(
    lambda trial: int(trial.value is None),
    expr=lambda cls: case((cls.value.is_(None), 1), else_=0),
)
T.score = hybrid_property(
    lambda trial: 0.0 if trial.value is None else trial.value,
    expr=lambda cls: func.coalesce(cls.value, 0.0),
)

described_enum(
    HpoMethod,
    "How an HPO campaign chooses each trial's hyperparameters.",
    {
        HpoMethod.GRID_SEARCH: (
            "Every point of a grid once (Optuna's GridSampler), in an order shuffled by the "
            "seed: the same seed gives the same order. Every parameter must be CATEGORICAL, "
            "INT or a FLOAT with a step; the grid is the product of their values. A failed "
            "trial's point (reported failed, or its worker stopped heartbeating) is offered "
            "again once every point has been handed out. The campaign ends when every point "
            "has a trial that did not fail, or when the budget is spent."
        ),
        HpoMethod.RANDOM_SEARCH: "Independent random draws (Optuna's RandomSampler).",
        HpoMethod.BAYESIAN: "Tree-structured Parzen Estimator (Optuna's TPESampler).",
        HpoMethod.HYPERBAND: (
            "TPE sampling with Hyperband pruning of poor trials (Optuna's HyperbandPruner "
            "over epochs)."
        ),
    },
)
described_enum(
    HpoTrialState,
    "Where an HPO trial stands.",
    {
        HpoTrialState.RUNNING: "Claimed by a worker and being trained.",
        HpoTrialState.COMPLETED: "Finished with an objective value.",
        HpoTrialState.PRUNED: "Stopped early (the pruner's advice, or the worker's choice).",
        HpoTrialState.FAILED: (
            "Reported failed, or its worker stopped heartbeating; its budget slot is offered "
            "again as a new trial."
        ),
    },
)
described_enum(
    HpoParameterKind,
    "The kind of values a hyperparameter takes.",
    {
        HpoParameterKind.FLOAT: "Real numbers from low to high (optionally log scale or stepped).",
        HpoParameterKind.INT: "Whole numbers from low to high (optionally log scale or stepped).",
        HpoParameterKind.CATEGORICAL: "One of a list of choices.",
    },
)


class HpoTrialOutcome(enum.Enum):
    COMPLETED = "completed"
    PRUNED = "pruned"
    FAILED = "failed"


described_enum(
    HpoTrialOutcome,
    "How a trial ended, as its worker reports it.",
    {
        HpoTrialOutcome.COMPLETED: "Trained to the end: its objective value counts for the best.",
        HpoTrialOutcome.PRUNED: "Stopped early; its experiment becomes CANCELLED.",
        HpoTrialOutcome.FAILED: (
            "Could not be trained; its experiment becomes FAILED and its budget slot is "
            "offered again."
        ),
    },
)


@strawberry.type(description="One hyperparameter of a search space.")
class HpoParameter:
    name: str = strawberry.field(
        description="The hyperparameter's name (a key of hyperparameters)."
    )
    kind: HpoParameterKind = strawberry.field(description="The kind of its values.")
    low: float | None = strawberry.field(description="Lowest value (FLOAT, INT); null otherwise.")
    high: float | None = strawberry.field(description="Highest value (FLOAT, INT); null otherwise.")
    log: bool = strawberry.field(description="Whether values are drawn on a log scale.")
    step: float | None = strawberry.field(description="Spacing of the values; null when any value.")
    choices: list[JSON] | None = strawberry.field(
        description="The values of a CATEGORICAL parameter; null otherwise."
    )

    @classmethod
    def of(cls, stored: dict[str, Any]) -> HpoParameter:
        return cls(
            name=stored["name"],
            kind=HpoParameterKind(stored["kind"]),
            low=stored.get("low"),
            high=stored.get("high"),
            log=bool(stored.get("log")),
            step=stored.get("step"),
            choices=stored.get("choices"),
        )


@strawberry.type(description="What an HPO campaign may spend.")
class HpoBudget:
    max_trials: int = strawberry.field(
        description=(
            "Trials that may end other than FAILED (a failed trial's slot is offered again)."
        )
    )
    max_parallel: int = strawberry.field(description="Trials that may run at once.")
    max_duration_seconds: int | None = strawberry.field(
        description="No trial starts this long after the first claim; null: no limit."
    )
    min_epochs: int = strawberry.field(description="Hyperband's smallest resource, in epochs.")
    max_epochs: int = strawberry.field(description="Hyperband's largest resource, in epochs.")


@strawberry.type(description="The metric trials are judged by, and which way is better.")
class HpoObjective:
    metric: TrainingMetric = strawberry.field(description="The metric.")
    direction: ObjectiveDirection = strawberry.field(description="Lower or higher is better.")


@strawberry.type(description="A campaign's trials by state, and the budget left.")
class HpoProgress:
    running: int = strawberry.field(description="Trials being trained now.")
    completed: int = strawberry.field(description="Trials COMPLETED.")
    pruned: int = strawberry.field(description="Trials PRUNED.")
    failed: int = strawberry.field(description="Trials FAILED (their slots are offered again).")
    remaining: int = strawberry.field(
        description="Trials the budget still allows to start (maxTrials less those not failed)."
    )


@strawberry.type(description="How much one hyperparameter explains the objective's variation.")
class ParameterImportance:
    name: str = strawberry.field(description="The hyperparameter.")
    importance: float = strawberry.field(description="Its share, 0 to 1; all shares sum to 1.")


@strawberry.type(description="An objective value reported at one epoch of a trial.")
class IntermediateValue:
    epoch: int = strawberry.field(description="The epoch.")
    value: float = strawberry.field(description="The value reported.")


@dataclass(frozen=True)
class TrialStates:
    """Trials per state of each campaign, in one statement for a page."""

    async def load(self, db: Any, keys: list[int]) -> list[dict[str, int]]:
        counts: dict[int, dict[str, int]] = {key: {} for key in keys}
        async with db.read() as session:
            rows = await session.execute(
                select(T.campaign_id, T.state, func.count())
                .where(T.campaign_id.in_(keys))
                .group_by(T.campaign_id, T.state)
            )
            for pk, state, count in rows.all():
                counts[pk][HpoTrialState(state).value] = int(count)
        return [counts[key] for key in keys]


TRIAL_STATES = TrialStates()
TRIAL_BY_EXPERIMENT = ChildLists(Relation(T, "experiment_id"))


def progress_of(counts: dict[str, int], budget: dict[str, Any]) -> HpoProgress:
    failed = counts.get("failed", 0)
    used = sum(counts.values()) - failed
    return HpoProgress(
        running=counts.get("running", 0),
        completed=counts.get("completed", 0),
        pruned=counts.get("pruned", 0),
        failed=failed,
        remaining=max(budget["max_trials"] - used, 0),
    )


def _progress(counts: dict[str, int], record: Any, _context: Any) -> HpoProgress:
    return progress_of(counts, record.budget)


def _best_trial(rows: list[Any], _record: Any, context: Any) -> Any:
    return node_for(context.principal, rows[0]) if rows else None


def _page_argument(name: str) -> Any:
    return strawberry.argument(description=PAGE_ARGUMENT_DESCRIPTIONS[name])


def trial_order(campaign: models.HpoCampaign) -> tuple[SortKey, ...]:
    maximize = objective_of_campaign(campaign.objective).direction is ObjectiveDirection.MAXIMIZE
    return (SortKey("unscored"), SortKey("score", descending=maximize))


@node_type(T, read=Public, renames={"number": "trial_number"})
@strawberry.type(
    description=(
        "One trial of an HPO campaign: a TRAINING experiment with the sampled "
        "hyperparameters, claimed by the worker training it."
    )
)
class HpoTrial(Node):
    id: strawberry.ID
    number: int = strawberry.field(description="The trial's number in its campaign: 0, 1, 2, ...")
    state: HpoTrialState = strawberry.field(description="Where the trial stands.")
    experiment = node_field(
        RowsById(ExperimentRecord),
        "experiment_id",
        TrainingExperiment,
        nullable=False,
        description="The TRAINING experiment; its hyperparameters are the trial's parameters.",
    )
    campaign = node_field(
        RowsById(models.HpoCampaign),
        "campaign_id",
        Annotated["HpoCampaign", strawberry.lazy("expgraph.domains.training.hpo_types")],
        nullable=False,
        description="The campaign.",
    )
    value: float | None = strawberry.field(
        description=(
            "The objective's value: set when the trial COMPLETED (or PRUNED, its last "
            "reported value); null while running or when FAILED."
        )
    )
    fencing_token: BigInt = strawberry.field(
        description="The token of the trial's latest claim: pass it with workerId on every call."
    )
    claimed_by: str | None = strawberry.field(
        description="The workerId holding the trial; null once it ended."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it ended; null while running."
    )
    created_at: datetime = strawberry.field(description="When it was claimed first.")
    record: strawberry.Private[models.HpoTrial]

    @strawberry.field(
        description="Objective values reported by epoch (reportIntermediate), in order."
    )
    def intermediate_values(self) -> list[IntermediateValue]:
        stored = (self.record.intermediate_values or {}).get("by_epoch") or {}
        return [
            IntermediateValue(epoch=e, value=v)
            for e, v in sorted((int(k), float(v)) for k, v in stored.items())
        ]


@node_type(models.HpoCampaign, read=Public, renames={"best_value": "best_accuracy"})
@strawberry.type(
    description=(
        "A hyperparameter search: its trials are TRAINING experiments whose "
        "hyperparameters a sampler (Optuna) chose from the search space."
    )
)
class HpoCampaign(Node):
    id: strawberry.ID
    name: str = strawberry.field(description="Unique name.")
    method: HpoMethod = strawberry.field(description="How hyperparameters are chosen.")
    status: ExperimentStatus = strawberry.field(
        description=(
            "PENDING until the first claim, RUNNING from it, COMPLETED once the budget is spent "
            "(or the grid done, or maxDurationSeconds passed) and no trial runs."
        )
    )
    base_model_type: str = strawberry.field(description="The model type every trial trains.")
    dataset = dataset_field("The dataset every trial trains on; null when none.")
    seed: BigInt = strawberry.field(
        description="Seeds the sampler: the same seed and reports give the same trials."
    )
    trials_total: int = strawberry.field(description="Trials created, failed ones included.")
    trials_completed: int = strawberry.field(
        description="Trials that ended: COMPLETED, PRUNED or FAILED."
    )
    best_value: float | None = strawberry.field(
        description="The best objective value of a COMPLETED trial; null before one."
    )
    best_accuracy: float | None = strawberry.field(
        description="The same as bestValue (the stored best_accuracy column)."
    )
    best_trial: HpoTrial | None = derived_field(
        TRIAL_BY_EXPERIMENT,
        "best_experiment_id",
        HpoTrial | None,
        _best_trial,
        description="The COMPLETED trial with the best objective value; null before one.",
    )
    progress: HpoProgress = derived_field(
        TRIAL_STATES, "id", HpoProgress, _progress, description="Trials by state."
    )
    created_at: datetime = strawberry.field(description="When the campaign was created.")
    started_at: datetime | None = strawberry.field(description="The first claim; null before.")
    completed_at: datetime | None = strawberry.field(description="When it COMPLETED; null before.")
    record: strawberry.Private[models.HpoCampaign]

    @strawberry.field(description="The hyperparameters searched, in the order given.")
    def search_space(self) -> list[HpoParameter]:
        return [HpoParameter.of(p) for p in self.record.search_space["parameters"]]

    @strawberry.field(description="What the campaign may spend.")
    def budget(self) -> HpoBudget:
        b = self.record.budget
        return HpoBudget(
            max_trials=b["max_trials"],
            max_parallel=b["max_parallel"],
            max_duration_seconds=b.get("max_duration_seconds"),
            min_epochs=b.get("min_epochs") or 1,
            max_epochs=b.get("max_epochs") or 27,
        )

    @strawberry.field(description="The metric trials are judged by.")
    def objective(self) -> HpoObjective:
        objective = objective_of_campaign(self.record.objective)
        return HpoObjective(metric=objective.metric, direction=objective.direction)

    @strawberry.field(
        description=(
            "Its trials by objective value, best first (by the objective's direction); trials "
            "without a value (running, failed) last, by number."
        )
    )
    async def trials(
        self,
        info: Info,
        first: Annotated[int | None, _page_argument("first")] = None,
        after: Annotated[str | None, _page_argument("after")] = None,
        last: Annotated[int | None, _page_argument("last")] = None,
        before: Annotated[str | None, _page_argument("before")] = None,
    ) -> Connection[HpoTrial]:
        return await child_connection(
            info,
            Relation(T, "campaign_id"),
            self.record.id,
            trial_order(self.record),
            first=first,
            after=after,
            last=last,
            before=before,
        )

    @strawberry.field(
        description=(
            "How much each hyperparameter explains the objective over the COMPLETED trials "
            "(Optuna's fANOVA, seeded by the campaign), most important first; empty with "
            "fewer than 2 COMPLETED trials. Costly: ask for it on one campaign at a time."
        )
    )
    async def parameter_importance(self, info: Info) -> list[ParameterImportance]:
        async with info.context.db.read() as session:
            trials = await stored_trials(session, self.record.id)
        found = await anyio.to_thread.run_sync(hpo_sampling.importance, self.record, trials)
        return [ParameterImportance(name=k, importance=v) for k, v in found.items()]
