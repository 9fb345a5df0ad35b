"""NAS campaigns: create, claim a trial (sample an architecture), heartbeat, finish.

Trials are claimable work through the kernel's one mechanism
(``expgraph.db.claims``, ``NAS_TRIALS`` below; holder ``claimed_by``). A claim
runs in one transaction under the campaign's row lock (``FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers): it fails the
campaign's stale trials (the kernel's stale rule: their budget slots are
offered again), checks the budget (never more than ``num_trials`` trials that
have not failed, never more than ``max_parallel`` running), draws an
architecture whose hash the campaign has not used (``nas_space.draw``), inserts
the trial and claims it for the worker. A finish releases the claim with the
results, under the same campaign lock, and moves the campaign's best trial and
its completion with it. So two claimers never number or hash two trials alike.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from expgraph.db.claims import Claimable, Holder
from expgraph.db.dialect import in_keys
from expgraph.db.direct import reusable
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, emit
from expgraph.db.records import read_rows
from expgraph.db.types import utcnow
from expgraph.domains.catalog.models import Dataset
from expgraph.domains.training import nas_space
from expgraph.domains.training.models import NasCampaign, NasTrial, NasTrialStatus
from expgraph.errors import BadRequest, Conflict, ExpgraphError, NotFound

T = NasTrial
PARENT_KEYS = "parent_keys"
MAX_TRIALS = 10_000
MAX_PARALLEL = 1_000
MAX_EPOCHS = 100_000
CANDIDATES = 100
"""claimNasTrial without a campaign tries at most this many open campaigns, oldest first."""


class NasCampaignStatus(enum.Enum):
    """Stored as the seed's strings in ``nas_campaigns.status``."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


OPEN = (NasCampaignStatus.PENDING.value, NasCampaignStatus.RUNNING.value)


class NasSearchAlgorithm(enum.Enum):
    """Stored as these strings in ``nas_campaigns.search_algorithm``."""

    RANDOM = "random"
    REGULARIZED_EVOLUTION = "regularized_evolution"


NAS_TRIALS = Claimable(
    T,
    ready=lambda: T.status == NasTrialStatus.RUNNING,
    held=lambda: T.status == NasTrialStatus.RUNNING,
    order_by=("campaign_id", "trial_number"),
    noun="trial",
)
"""NAS trials as claimable work: a trial is inserted and claimed in the same
transaction, and a hold lasts while the trial runs. A stale hold is not taken
over: the next claim in its campaign fails the trial and re-offers its slot."""


def campaign_status(campaign: NasCampaign) -> NasCampaignStatus:
    return NasCampaignStatus(campaign.status)


def algorithm_of(campaign: NasCampaign) -> NasSearchAlgorithm:
    return NasSearchAlgorithm(campaign.search_algorithm)


def space_of(campaign: NasCampaign) -> nas_space.SearchSpace:
    return nas_space.SearchSpace.from_json(campaign.search_space_config)


# -- create ----------------------------------------------------------------


def check_budget(num_trials: int, max_parallel: int, max_epochs: int) -> None:
    if not 1 <= num_trials <= MAX_TRIALS:
        raise BadRequest(f"numTrials must be 1 to {MAX_TRIALS}", field="numTrials")
    if not 1 <= max_parallel <= MAX_PARALLEL:
        raise BadRequest(f"maxParallel must be 1 to {MAX_PARALLEL}", field="maxParallel")
    if not 1 <= max_epochs <= MAX_EPOCHS:
        raise BadRequest(f"maxEpochsPerTrial must be 1 to {MAX_EPOCHS}", field="maxEpochsPerTrial")


async def create_campaign(
    session: AsyncSession, values: dict[str, Any], *, created_by: int | None = None
) -> NasCampaign:
    """A PENDING campaign of ``created_by`` (told when it completes); NOT_FOUND
    when its dataset does not exist."""
    if await session.get(Dataset, values["dataset_id"]) is None:
        raise NotFound("no dataset with that id", field="datasetId")
    campaign = NasCampaign(status=NasCampaignStatus.PENDING.value, created_by=created_by, **values)
    session.add(campaign)
    await session.flush()
    return campaign


# -- claim -----------------------------------------------------------------


async def _locked(session: AsyncSession, campaign_id: int) -> NasCampaign | None:
    stmt = (
        select(NasCampaign)
        .where(NasCampaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


@dataclass(frozen=True)
class Tally:
    """A campaign's trials by state (``total`` counts every trial ever created)."""

    running: int = 0
    completed: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.running + self.completed + self.failed


def _tally_columns() -> list[Any]:
    def count(status: NasTrialStatus) -> Any:
        return func.coalesce(func.sum(case((T.status == status, 1), else_=0)), 0)

    return [
        count(NasTrialStatus.RUNNING),
        count(NasTrialStatus.COMPLETED),
        count(NasTrialStatus.FAILED),
    ]


async def _tally(session: AsyncSession, campaign_id: int) -> Tally:
    row = (
        await session.execute(select(*_tally_columns()).where(T.campaign_id == campaign_id))
    ).one()
    return Tally(int(row[0]), int(row[1]), int(row[2]))


async def _fail_stale(session: AsyncSession, campaign_id: int, stale_seconds: int) -> None:
    """Fail the campaign's running trials whose holder went stale (the kernel's rule)."""
    await session.execute(
        update(T)
        .where(
            T.campaign_id == campaign_id,
            T.status == NasTrialStatus.RUNNING,
            NAS_TRIALS.stale(stale_seconds),
        )
        .values(
            status=NasTrialStatus.FAILED,
            finished_at=utcnow(),
            updated_at=utcnow(),
            **NAS_TRIALS.released(),
        )
        .execution_options(synchronize_session=False)
    )


def _finished(campaign: NasCampaign, tally: Tally) -> bool:
    """Budget spent (numTrials trials completed) or space exhausted, none running."""
    if tally.running:
        return False
    return tally.completed >= campaign.num_trials or tally.total >= space_of(campaign).size()


async def _complete(session: AsyncSession, campaign: NasCampaign, tally: Tally) -> None:
    """COMPLETED, once: only an open campaign moves, and that move writes its
    NAS_CAMPAIGN_COMPLETED event for the creator in the same transaction."""
    moved = (
        await session.execute(
            update(NasCampaign)
            .where(NasCampaign.id == campaign.id, NasCampaign.status.in_(OPEN))
            .values(
                status=NasCampaignStatus.COMPLETED.value,
                completed_at=utcnow(),
                updated_at=utcnow(),
            )
            .returning(NasCampaign.completed_at, NasCampaign.updated_at)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if moved is None:
        return
    set_committed_value(campaign, "status", NasCampaignStatus.COMPLETED.value)
    set_committed_value(campaign, "completed_at", moved[0])
    set_committed_value(campaign, "updated_at", moved[1])
    await emit(
        session,
        EventType.NAS_CAMPAIGN_COMPLETED,
        {
            "campaign_id": campaign.id,
            "name": campaign.name,
            "best_accuracy": campaign.best_accuracy,
            "best_trial_id": campaign.best_trial_id,
            "trials": tally.total,
        },
        user_id=campaign.created_by,
    )


async def _parents(
    session: AsyncSession, campaign: NasCampaign
) -> list[tuple[dict[str, Any], float]]:
    """Regularized evolution's population: the latest completed trials with an
    accuracy (aging: older ones drop out), oldest first; empty while fewer than a
    tournament's worth have completed (the first trials are sampled at random)."""
    if algorithm_of(campaign) is not NasSearchAlgorithm.REGULARIZED_EVOLUTION:
        return []
    rows = (
        await session.execute(
            select(T.architecture, T.validation_accuracy)
            .where(
                T.campaign_id == campaign.id,
                T.status == NasTrialStatus.COMPLETED,
                T.validation_accuracy.is_not(None),
            )
            .order_by(T.trial_number.desc())
            .limit(nas_space.POPULATION_SIZE)
        )
    ).all()
    if len(rows) < nas_space.TOURNAMENT_SIZE:
        return []
    return [(row[0], float(row[1])) for row in reversed(rows)]


async def _claim_in(
    session: AsyncSession, campaign: NasCampaign, worker_id: str, stale_seconds: int
) -> NasTrial | None:
    """A new trial of the (locked) campaign claimed by ``worker_id``, or None."""
    if campaign.status not in OPEN:
        return None
    await _fail_stale(session, campaign.id, stale_seconds)
    tally = await _tally(session, campaign.id)
    if _finished(campaign, tally):
        await _complete(session, campaign, tally)
        return None
    if tally.running >= campaign.max_parallel:
        return None
    if tally.running + tally.completed >= campaign.num_trials:
        return None  # the running trials may still fail and free their slots
    used = set(
        await session.scalars(select(T.architecture_hash).where(T.campaign_id == campaign.id))
    )
    drawn = nas_space.draw(
        space_of(campaign),
        campaign.seed or 0,
        tally.total + 1,
        used,
        await _parents(session, campaign),
    )
    if drawn is None:
        return None
    architecture, digest = drawn
    trial_id = await session.scalar(
        insert(T)
        .values(
            campaign_id=campaign.id,
            trial_number=tally.total + 1,
            architecture=architecture,
            architecture_hash=digest,
            status=NasTrialStatus.RUNNING,
            fencing_token=0,
        )
        .returning(T.id)
    )
    trial = await NAS_TRIALS.claim(session, trial_id, worker_id, stale_seconds, updated_at=utcnow())
    if campaign.status == NasCampaignStatus.PENDING.value:
        campaign.status = NasCampaignStatus.RUNNING.value
        campaign.updated_at = utcnow()
    return trial


async def claim(
    session: AsyncSession, campaign_id: int | None, worker_id: str, stale_seconds: int
) -> NasTrial | None:
    """A new trial claimed by ``worker_id``: of the campaign given (NOT_FOUND
    when there is none), or of the oldest open campaign with room; None when
    none has room (budget or parallelism full, space exhausted, campaign over)."""
    if campaign_id is not None:
        campaign = await _locked(session, campaign_id)
        if campaign is None:
            raise NotFound("no NAS campaign with that id", field="campaignId")
        return await _claim_in(session, campaign, worker_id, stale_seconds)
    candidates = (
        await session.scalars(
            select(NasCampaign.id)
            .where(NasCampaign.status.in_(OPEN))
            .order_by(NasCampaign.id)
            .limit(CANDIDATES)
        )
    ).all()
    for pk in candidates:  # locked in id order: concurrent claimers never deadlock
        campaign = await _locked(session, pk)
        if campaign is not None:
            trial = await _claim_in(session, campaign, worker_id, stale_seconds)
            if trial is not None:
                return trial
    return None


async def cancel(session: AsyncSession, campaign_id: int) -> NasCampaign:
    """Stop handing out trials (running ones may still finish and count); a
    cancelled campaign stays so, a completed or failed one is a CONFLICT."""
    campaign = await _locked(session, campaign_id)
    if campaign is None:
        raise NotFound("no NAS campaign with that id", field="campaignId")
    if campaign.status in OPEN:
        campaign.status = NasCampaignStatus.CANCELLED.value
        campaign.updated_at = utcnow()
        await session.flush()
        await session.refresh(campaign)
    elif campaign.status != NasCampaignStatus.CANCELLED.value:
        raise Conflict(
            f"the campaign is {campaign_status(campaign).name} already", reason="FINISHED"
        )
    return campaign


# -- heartbeat and finish --------------------------------------------------------


async def _lost(session: AsyncSession, trial_id: int, holder: Holder) -> ExpgraphError:
    """Why ``holder`` holds no claim on the trial: FINISHED (it completed or
    failed, its stale hold included), else the kernel's reasons."""
    trial = (
        await session.scalars(
            select(T).where(T.id == trial_id).execution_options(populate_existing=True)
        )
    ).one_or_none()
    if trial is None:
        return NotFound("no NAS trial with that id", field="trialId")
    if trial.status is not NasTrialStatus.RUNNING and 1 <= holder.fencing_token <= (
        trial.fencing_token
    ):
        return Conflict(
            f"the trial is {trial.status.name} already (a trial whose heartbeat went stale "
            "is failed and its slot offered again): claim a new trial",
            reason="FINISHED",
        )
    return NAS_TRIALS.why_lost(trial, holder)


async def heartbeat(session: AsyncSession, trial_id: int, holder: Holder) -> NasTrial:
    trial = await NAS_TRIALS.heartbeat(session, trial_id, holder, updated_at=utcnow())
    if trial is None:
        raise await _lost(session, trial_id, holder)
    return trial


RESULT_FIELDS = (
    "validation_accuracy",
    "validation_loss",
    "training_time",
    "num_parameters",
    "flops",
    "model_size_mb",
    "metrics",
)


def check_results(values: dict[str, Any]) -> None:
    for name, field in (
        ("training_time", "trainingTime"),
        ("num_parameters", "numParameters"),
        ("flops", "flops"),
        ("model_size_mb", "modelSizeMb"),
    ):
        value = values.get(name)
        if value is not None and value < 0:
            raise BadRequest(f"{field} must be >= 0", field=field)


async def finish(
    session: AsyncSession,
    trial_id: int,
    holder: Holder,
    status: NasTrialStatus,
    results: dict[str, Any],
) -> tuple[NasTrial, NasCampaign]:
    """Release the holder's claim with the results; under the campaign's lock,
    move its best trial (highest validation accuracy of a completed trial; the
    earlier on a tie) and complete it when its budget is spent."""
    if status is NasTrialStatus.RUNNING:
        raise BadRequest("status must be COMPLETED or FAILED", field="status")
    check_results(results)
    campaign_id = await session.scalar(select(T.campaign_id).where(T.id == trial_id))
    if campaign_id is None:
        raise NotFound("no NAS trial with that id", field="trialId")
    campaign = await _locked(session, campaign_id)  # first, as a claim does: no deadlock
    assert campaign is not None
    trial = await NAS_TRIALS.release(
        session,
        trial_id,
        holder,
        status=status,
        finished_at=utcnow(),
        updated_at=utcnow(),
        **results,
    )
    if trial is None:
        raise await _lost(session, trial_id, holder)
    accuracy = trial.validation_accuracy
    better = campaign.best_accuracy is None or (
        accuracy is not None and accuracy > campaign.best_accuracy
    )
    if status is NasTrialStatus.COMPLETED and accuracy is not None and better:
        campaign.best_trial_id = trial.id
        campaign.best_accuracy = accuracy
        campaign.updated_at = utcnow()
    if campaign.status in OPEN:
        tally = await _tally(session, campaign.id)
        if _finished(campaign, tally):
            await _complete(session, campaign, tally)
    await session.flush()
    await session.refresh(campaign)  # its database-clock times, as stored
    return trial, campaign


# -- reads -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrialTallies:
    """Each campaign's trials by state, for a page of campaigns in one statement."""

    async def load(self, db: Database, keys: list[Any]) -> list[Tally]:
        async with db.read() as session:
            rows = await read_rows(session, _tallies_statement(), {PARENT_KEYS: keys})
        found = {row[0]: Tally(int(row[1]), int(row[2]), int(row[3])) for row in rows}
        return [found.get(key, Tally()) for key in keys]


_TALLIES: list[Any] = []


def _tallies_statement() -> Any:
    if not _TALLIES:
        _TALLIES.append(
            reusable(
                select(T.campaign_id, *_tally_columns())
                .where(in_keys(T.campaign_id, PARENT_KEYS))
                .group_by(T.campaign_id)
            )
        )
    return _TALLIES[0]


TALLIES = TrialTallies()


def on_pareto_front() -> ColumnElement[bool]:
    """A trial on its campaign's Pareto front of accuracy against FLOPs: completed,
    with both values, and no other such trial of the campaign dominates it (at
    least as accurate with at most as many FLOPs, and better in one of them).
    Trials equal in both are on the front together."""
    other = aliased(T)
    dominating = (
        select(other.id)
        .where(
            other.campaign_id == T.campaign_id,
            other.status == NasTrialStatus.COMPLETED,
            other.validation_accuracy >= T.validation_accuracy,
            other.flops <= T.flops,
            or_(other.validation_accuracy > T.validation_accuracy, other.flops < T.flops),
        )
        .correlate(T)
    )
    return and_(
        T.status == NasTrialStatus.COMPLETED,
        T.validation_accuracy.is_not(None),
        T.flops.is_not(None),
        ~dominating.exists(),
    )
