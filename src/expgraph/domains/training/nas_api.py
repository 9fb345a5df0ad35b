"""NAS queries, mutations and ``nasCampaignUpdates``: campaigns listed,
created and cancelled; trials claimed, kept alive and finished by workers
(EXECUTE permission). Every claim, finish and cancel tells the campaign's
subscribers in its own transaction (PostgreSQL NOTIFY, heard on commit; in
process on SQLite)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.claims import Holder
from expgraph.db.notify import changes
from expgraph.domains.catalog.models import Dataset
from expgraph.domains.training import models, nas, nas_space
from expgraph.domains.training.nas_inputs import (
    CancelNasCampaignInput,
    ClaimNasTrialInput,
    CreateNasCampaignInput,
    FinishNasTrialInput,
    NasTrialHolderInput,
)
from expgraph.domains.training.nas_types import (
    CAMPAIGN_RULES,
    NasCampaign,
    NasCampaignFilter,
    NasCampaignStatus,
    NasProgress,
    NasTrial,
    progress_of,
)
from expgraph.errors import BadRequest, NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Context, Info
from expgraph.graphql.inputs import json_object, text
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import mutation, query_field, requires
from expgraph.graphql.relay import encode_id, model_pk, to_node

CHANNEL = "nas_campaign_updates"


async def _announce(context: Context, session: AsyncSession, campaign_id: int) -> None:
    if context.broker is not None:
        await context.broker.publish_in(session, CHANNEL, str(campaign_id))


STALE_RULE = (
    "A trial whose last heartbeat is older than the server's stale threshold "
    "(EXPGRAPH_EXECUTION_STALE_SECONDS, 600 by default) is failed at the campaign's next "
    "claim, and its worker's later calls are refused (CONFLICT)."
)
LOST_RULE = (
    "CONFLICT (extensions.reason) when the caller does not hold the trial's claim: "
    "FINISHED (it completed or failed already, a stale one included), TAKEN_OVER, "
    "STALE_TOKEN, UNKNOWN_TOKEN or RELEASED."
)


@strawberry.type(description="The result of createNasCampaign or cancelNasCampaign.")
class NasCampaignPayload:
    campaign: NasCampaign = strawberry.field(description="The campaign as it is now.")


@strawberry.type(description="The result of claimNasTrial.")
class ClaimNasTrialPayload:
    trial: NasTrial | None = strawberry.field(
        description=(
            "The new trial, claimed by the caller (its architecture to train and its "
            "fencingToken for later calls); null when there is nothing to claim now."
        )
    )


@strawberry.type(description="The result of heartbeatNasTrial.")
class NasTrialPayload:
    trial: NasTrial = strawberry.field(description="The trial as it is now.")


@strawberry.type(description="The result of finishNasTrial.")
class FinishNasTrialPayload:
    trial: NasTrial = strawberry.field(description="The finished trial.")
    campaign: NasCampaign = strawberry.field(
        description="Its campaign, with its best trial and status updated."
    )


def _worker_id(value: str) -> str:
    return text(value, "workerId", max_length=255)


def _holder(trial_id: str, worker_id: str, fencing_token: int) -> tuple[int, Holder]:
    return model_pk(trial_id, models.NasTrial), Holder(
        worker_id=_worker_id(worker_id), fencing_token=int(fencing_token)
    )


def _campaign_values(input: CreateNasCampaignInput) -> dict[str, Any]:
    space = input.search_space
    validated = nas_space.validated(space.decisions, space.layers)
    nas.check_budget(input.num_trials, input.max_parallel, input.max_epochs_per_trial)
    seed = input.seed
    if seed is not None and not 0 <= int(seed) < 2**63:
        raise BadRequest("seed must be 0 to 2^63 - 1", field="seed")
    return {
        "name": text(input.name, "name", max_length=255),
        "dataset_id": model_pk(input.dataset_id, Dataset),
        "search_algorithm": input.search_algorithm.value,
        "search_space_config": validated.to_json(),
        "num_trials": input.num_trials,
        "max_parallel": input.max_parallel,
        "max_epochs_per_trial": input.max_epochs_per_trial,
        "seed": secrets.randbelow(2**63) if seed is None else int(seed),
    }


@strawberry.type
class Query:
    @query_field(description="NAS campaigns, oldest first.")
    @paged(
        NasCampaign,
        models.NasCampaign,
        (SortKey("id"),),
        filter=NasCampaignFilter,
        rules=CAMPAIGN_RULES,
    )
    def nas_campaigns(self, info: Info) -> Select[Any]:
        return select(models.NasCampaign)


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.WRITE,
        description=(
            "Create a NAS campaign over a dataset (NOT_FOUND when it does not exist; a bad "
            "search space, budget or seed is a BAD_REQUEST naming the field)."
        ),
    )
    async def create_nas_campaign(
        self, info: Info, input: CreateNasCampaignInput
    ) -> NasCampaignPayload:
        values = _campaign_values(input)
        async with info.context.db.transaction() as session:
            campaign = await nas.create_campaign(
                session, values, created_by=info.context.principal.user_id
            )
        return NasCampaignPayload(campaign=to_node(campaign))

    @mutation(
        permission=Permission.WRITE,
        description=(
            "Cancel a PENDING or RUNNING NAS campaign: no more trials are handed out; trials "
            "running now may still be finished and their results count. Cancelling a "
            "cancelled campaign changes nothing; a COMPLETED or FAILED one is a CONFLICT."
        ),
    )
    async def cancel_nas_campaign(
        self, info: Info, input: CancelNasCampaignInput
    ) -> NasCampaignPayload:
        pk = model_pk(input.campaign_id, models.NasCampaign)
        async with info.context.db.transaction() as session:
            campaign = await nas.cancel(session, pk)
            await _announce(info.context, session, pk)
        return NasCampaignPayload(campaign=to_node(campaign))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Claim a new trial: an architecture the campaign has not tried, drawn from its "
            "search space (reproducibly from its seed and the trial number), claimed by the "
            "caller. Null when the campaign is over (COMPLETED, FAILED, CANCELLED), its "
            "budget is taken (numTrials trials running or completed), maxParallel trials are "
            "running, or every architecture was tried (the campaign then completes once none "
            "runs). A failed trial's budget slot is offered again. " + STALE_RULE
        ),
    )
    async def claim_nas_trial(self, info: Info, input: ClaimNasTrialInput) -> ClaimNasTrialPayload:
        ctx = info.context
        worker = _worker_id(input.worker_id)
        campaign_id = (
            None if input.campaign_id is None else model_pk(input.campaign_id, models.NasCampaign)
        )
        async with ctx.db.transaction() as session:
            trial = await nas.claim(
                session, campaign_id, worker, ctx.settings.execution_stale_seconds
            )
            announced = campaign_id if trial is None else trial.campaign_id
            if announced is not None:
                await _announce(ctx, session, announced)
        return ClaimNasTrialPayload(trial=to_node(trial))

    @mutation(
        permission=Permission.EXECUTE,
        description="Keep a trial's claim alive. " + STALE_RULE + " " + LOST_RULE,
    )
    async def heartbeat_nas_trial(self, info: Info, input: NasTrialHolderInput) -> NasTrialPayload:
        trial_id, holder = _holder(input.trial_id, input.worker_id, input.fencing_token)
        async with info.context.db.transaction() as session:
            trial = await nas.heartbeat(session, trial_id, holder)
        return NasTrialPayload(trial=to_node(trial))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Finish a claimed trial with its results, ending the claim. A COMPLETED trial "
            "with a higher validation accuracy than the campaign's best becomes its best "
            "trial; the campaign completes once numTrials trials have completed (or every "
            "architecture was tried) and none runs. " + LOST_RULE
        ),
    )
    async def finish_nas_trial(
        self, info: Info, input: FinishNasTrialInput
    ) -> FinishNasTrialPayload:
        trial_id, holder = _holder(input.trial_id, input.worker_id, input.fencing_token)
        results = {
            "validation_accuracy": input.validation_accuracy,
            "validation_loss": input.validation_loss,
            "training_time": input.training_time,
            "num_parameters": input.num_parameters,
            "flops": None if input.flops is None else int(input.flops),
            "model_size_mb": input.model_size_mb,
            "metrics": None if input.metrics is None else json_object(input.metrics, "metrics"),
        }
        async with info.context.db.transaction() as session:
            trial, campaign = await nas.finish(session, trial_id, holder, input.status, results)
            await _announce(info.context, session, campaign.id)
        return FinishNasTrialPayload(trial=to_node(trial), campaign=to_node(campaign))


@strawberry.type(description="A NAS campaign's state at one moment.")
class NasCampaignUpdate:
    campaign_id: strawberry.ID = strawberry.field(description="Global id of the campaign.")
    status: NasCampaignStatus = strawberry.field(description="The campaign's status.")
    best_accuracy: float | None = strawberry.field(
        description="Its best trial's validation accuracy; null until one completes with one."
    )
    best_trial_id: strawberry.ID | None = strawberry.field(
        description="Global id of its best trial (a NasTrial); null until there is one."
    )
    progress: NasProgress = strawberry.field(description="Its trials by state.")


async def _snapshot(context: Context, campaign_id: int, global_id: str) -> NasCampaignUpdate:
    async with context.db.read() as session:
        campaign = await session.get(models.NasCampaign, campaign_id)
        if campaign is None:
            raise NotFound("no NAS campaign with that id", field="campaignId")
    tally = (await nas.TALLIES.load(context.db, [campaign_id]))[0]
    best = campaign.best_trial_id
    return NasCampaignUpdate(
        campaign_id=strawberry.ID(global_id),
        status=nas.campaign_status(campaign),
        best_accuracy=campaign.best_accuracy,
        best_trial_id=None if best is None else strawberry.ID(encode_id("NasTrial", best)),
        progress=progress_of(tally, campaign),
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[requires(Permission.READ)],
        description=(
            "A NAS campaign's status, best trial and progress: sent once when subscribing, "
            "then after each claim and finish of its trials and when it is cancelled (a "
            "periodic re-read also sends changes made otherwise, such as a stale trial "
            "failed). NOT_FOUND when there is no such campaign."
        ),
    )
    async def nas_campaign_updates(
        self,
        info: Info,
        campaign_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of a NAS campaign.")
        ],
    ) -> AsyncGenerator[NasCampaignUpdate, None]:
        pk = model_pk(campaign_id, models.NasCampaign)
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
                update.best_trial_id,
                update.best_accuracy,
                tuple(vars(update.progress).values()),
            ),
            poll=poll,
            every_message=True,
        ):
            yield update
