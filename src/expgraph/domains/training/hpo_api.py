"""HPO GraphQL operations: campaigns (create, list), the trial lifecycle for
workers (claim, heartbeat, report, finish) and ``hpoCampaignUpdates``.

Workers need the EXECUTE permission (as claimExecution); creating a campaign
needs WRITE. Every trial write tells ``hpoCampaignUpdates`` subscribers in its
own transaction (PostgreSQL NOTIFY, heard on commit; in process on SQLite).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.claims import Holder
from expgraph.db.notify import changes
from expgraph.domains.catalog.models import Dataset
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.models import ExperimentStatus
from expgraph.domains.training import hpo, models
from expgraph.domains.training.hpo_inputs import (
    CAMPAIGN_RULES,
    ClaimHpoTrialInput,
    CreateHpoCampaignInput,
    FinishTrialInput,
    HpoCampaignFilter,
    HpoTrialHolderInput,
    ReportIntermediateInput,
)
from expgraph.domains.training.hpo_types import (
    TRIAL_STATES,
    HpoCampaign,
    HpoProgress,
    HpoTrial,
    progress_of,
)
from expgraph.domains.training.models import HpoTrialState
from expgraph.domains.training.service import Objective
from expgraph.errors import NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Context, Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import mutation, query_field, requires
from expgraph.graphql.relay import model_pk, to_node

CHANNEL = hpo.CHANNEL


async def _announce(context: Context, session: AsyncSession, campaign_id: int) -> None:
    if context.broker is not None:
        await context.broker.publish_in(session, CHANNEL, str(campaign_id))


def _holder(data: HpoTrialHolderInput) -> tuple[int, Holder]:
    return (
        model_pk(data.experiment_id, ExperimentRecord),
        Holder(worker_id=data.worker_id, fencing_token=int(data.fencing_token)),
    )


@strawberry.type(description="The result of createHpoCampaign.")
class CreateHpoCampaignPayload:
    campaign: HpoCampaign = strawberry.field(description="The new campaign, PENDING.")


@strawberry.type(description="The result of claimHpoTrial.")
class ClaimHpoTrialPayload:
    trial: HpoTrial | None = strawberry.field(
        description=(
            "The new trial, claimed (use its fencingToken and experiment id); null when no "
            "trial may start now: no PENDING or RUNNING campaign, budget or grid spent, or "
            "maxParallel trials running."
        )
    )


@strawberry.type(description="The result of heartbeatTrial.")
class HeartbeatTrialPayload:
    trial: HpoTrial = strawberry.field(description="The trial, its claim refreshed.")


@strawberry.type(description="The result of reportIntermediate.")
class ReportIntermediatePayload:
    should_prune: bool = strawberry.field(
        description=(
            "True when the pruner advises stopping the trial now (HYPERBAND campaigns only): "
            "finish it as PRUNED."
        )
    )
    trial: HpoTrial = strawberry.field(description="The trial with the value stored.")


@strawberry.type(description="The result of finishTrial.")
class FinishTrialPayload:
    trial: HpoTrial = strawberry.field(description="The ended trial, its claim released.")
    campaign: HpoCampaign = strawberry.field(description="Its campaign, counters and best updated.")


@strawberry.type
class Query:
    @query_field(description="HPO campaigns, oldest first.")
    @paged(
        HpoCampaign,
        models.HpoCampaign,
        (SortKey("id"),),
        filter=HpoCampaignFilter,
        rules=CAMPAIGN_RULES,
    )
    def hpo_campaigns(self, info: Info) -> Select[Any]:
        return select(models.HpoCampaign)


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.WRITE,
        description=(
            "Create an HPO campaign (PENDING until a worker claims its first trial). Invalid "
            "search spaces or budgets are a BAD_REQUEST; a name in use is a CONFLICT."
        ),
    )
    async def create_hpo_campaign(
        self, info: Info, input: CreateHpoCampaignInput
    ) -> CreateHpoCampaignPayload:
        ctx = info.context
        dataset_id = None if input.dataset_id is None else model_pk(input.dataset_id, Dataset)
        objective = (
            None
            if input.objective is None
            else Objective(input.objective.metric, input.objective.direction)
        )
        async with ctx.db.transaction() as session:
            if dataset_id is not None and await session.get(Dataset, dataset_id) is None:
                raise NotFound("no Dataset with that id", field="datasetId")
            campaign = await hpo.create_campaign(
                session,
                name=input.name,
                method=input.method,
                base_model_type=input.base_model_type,
                dataset_id=dataset_id,
                parameters=[{**values_given(p), "kind": p.kind.value} for p in input.search_space],
                objective=objective,
                budget=values_given(input.budget),
                seed=None if input.seed is None else int(input.seed),
                created_by=ctx.principal.user_id,
            )
        return CreateHpoCampaignPayload(campaign=to_node(campaign))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Start the next trial: in one transaction, fail the campaign's stale trials, check "
            "the budget, ask the sampler for hyperparameters, create the TRAINING experiment "
            "and claim it for workerId (fencingToken 1). Null when no trial may start now."
        ),
    )
    async def claim_hpo_trial(self, info: Info, input: ClaimHpoTrialInput) -> ClaimHpoTrialPayload:
        ctx = info.context
        campaign_id = (
            None if input.campaign_id is None else model_pk(input.campaign_id, models.HpoCampaign)
        )
        stale = ctx.settings.execution_stale_seconds
        async with ctx.db.transaction() as session:
            trial = await hpo.claim(session, ctx.db.dialect, campaign_id, input.worker_id, stale)
            if trial is not None:
                await _announce(ctx, session, trial.campaign_id)
            elif campaign_id is not None:
                await _announce(ctx, session, campaign_id)
        return ClaimHpoTrialPayload(trial=None if trial is None else to_node(trial))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Refresh a trial's claim. A claim without a heartbeat for the stale period "
            "(EXPGRAPH_EXECUTION_STALE_SECONDS) is failed by the next claim in its campaign. "
            "Refusals are CONFLICT errors with extensions.reason."
        ),
    )
    async def heartbeat_trial(
        self, info: Info, input: HpoTrialHolderInput
    ) -> HeartbeatTrialPayload:
        ctx = info.context
        experiment_id, holder = _holder(input)
        async with ctx.db.transaction() as session:
            trial = await hpo.heartbeat(
                session, experiment_id, holder, ctx.settings.execution_stale_seconds
            )
        return HeartbeatTrialPayload(trial=to_node(trial))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Store the objective's value at an epoch of a running trial (a resent epoch "
            "replaces it) and ask the campaign's pruner whether to stop; also refreshes the "
            "claim. Only the holder (CONFLICT otherwise)."
        ),
    )
    async def report_intermediate(
        self, info: Info, input: ReportIntermediateInput
    ) -> ReportIntermediatePayload:
        ctx = info.context
        experiment_id, holder = _holder(input)
        async with ctx.db.transaction() as session:
            prune, trial = await hpo.report(
                session,
                experiment_id,
                holder,
                input.epoch,
                input.value,
                ctx.settings.execution_stale_seconds,
            )
            await _announce(ctx, session, trial.campaign_id)
        return ReportIntermediatePayload(should_prune=prune, trial=to_node(trial))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "End a trial: release its claim, store its value and metrics, set its experiment "
            "COMPLETED, CANCELLED (pruned) or FAILED, update the campaign's trialsCompleted "
            "and best trial, and complete the campaign when its budget is spent and nothing "
            "runs. Only the holder (CONFLICT otherwise)."
        ),
    )
    async def finish_trial(self, info: Info, input: FinishTrialInput) -> FinishTrialPayload:
        ctx = info.context
        experiment_id, holder = _holder(input)
        metrics = {} if input.metrics is None else values_given(input.metrics)
        metrics = {k: v for k, v in metrics.items() if v is not None}
        async with ctx.db.transaction() as session:
            trial, campaign = await hpo.finish(
                session,
                experiment_id,
                holder,
                HpoTrialState(input.status.value),
                metrics,
                input.value,
                ctx.settings.execution_stale_seconds,
            )
            await _announce(ctx, session, campaign.id)
        return FinishTrialPayload(trial=to_node(trial), campaign=to_node(campaign))


@strawberry.type(description="An HPO campaign's state at one moment.")
class HpoCampaignUpdate:
    campaign_id: strawberry.ID = strawberry.field(description="Global id of the campaign.")
    status: ExperimentStatus = strawberry.field(description="The campaign's status.")
    trials_total: int = strawberry.field(description="Trials created.")
    trials_completed: int = strawberry.field(description="Trials ended.")
    best_value: float | None = strawberry.field(description="The best objective value so far.")
    progress: HpoProgress = strawberry.field(description="Trials by state.")


async def _snapshot(context: Context, campaign_id: int, global_id: str) -> HpoCampaignUpdate:
    async with context.db.read() as session:
        campaign = await session.get(models.HpoCampaign, campaign_id)
        if campaign is None:
            raise NotFound("no HPO campaign with that id")
    counts = (await TRIAL_STATES.load(context.db, [campaign_id]))[0]
    return HpoCampaignUpdate(
        campaign_id=strawberry.ID(global_id),
        status=campaign.status,
        trials_total=campaign.trials_total,
        trials_completed=campaign.trials_completed,
        best_value=campaign.best_accuracy,
        progress=progress_of(counts, campaign.budget),
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[requires(Permission.READ)],
        description=(
            "An HPO campaign's status and progress: sent once when subscribing, then after "
            "each claim, intermediate report and finish of its trials (a periodic re-read "
            "also sends changes made otherwise, e.g. by an administrator)."
        ),
    )
    async def hpo_campaign_updates(
        self,
        info: Info,
        campaign_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of an HPO campaign.")
        ],
    ) -> AsyncGenerator[HpoCampaignUpdate, None]:
        pk = model_pk(campaign_id, models.HpoCampaign)
        context = info.context
        assert context.broker is not None
        poll = context.settings.abtest_updates_poll_seconds
        mine = str(pk)
        async for update in changes(
            context.broker,
            CHANNEL,
            mine.__eq__,
            lambda: _snapshot(context, pk, str(campaign_id)),
            lambda update: (
                update.status,
                update.trials_total,
                update.trials_completed,
                update.best_value,
                tuple(vars(update.progress).values()),
            ),
            poll=poll,
            every_message=True,
        ):
            yield update
