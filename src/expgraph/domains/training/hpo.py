"""HPO campaigns: creating them, and the life of their trials (claim, heartbeat,
intermediate reports with pruning, finish), with Optuna as the sampler and
pruner and the database as the only source of truth.

Every ask and every prune rebuilds an in-memory Optuna study from the
campaign's stored trials (``hpo_sampling``), so any server process can serve
any campaign. A trial's claim is the kernel's (``TRIALS``: ``db/claims``).

Rules, in plain words:

- A claim locks the campaign row (PostgreSQL ``FOR UPDATE``; SQLite serialises
  writes), first fails the campaign's stale trials (no heartbeat for
  ``EXPGRAPH_EXECUTION_STALE_SECONDS``: state FAILED, as Optuna's
  fail_stale_trials), then checks the budget and creates the trial.
- Budget: trials that did not fail count against ``maxTrials`` (a failed trial,
  reported failed or gone stale, gives its slot back and the slot is offered
  as a new trial), but no more than ``2 * maxTrials`` trials are ever created;
  at most ``maxParallel`` run at once; none starts after ``maxDurationSeconds``
  since the first claim. A grid search also ends when every grid point has a
  trial that did not fail.
- ``trials_completed`` counts trials that ended (COMPLETED, PRUNED or FAILED).
- The campaign is RUNNING from its first claim and COMPLETED, by the call that
  ends its last running trial (or by a claim finding it so), once no new trial
  can start.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from expgraph.db.claims import Claimable, Holder
from expgraph.db.outbox import EventType, emit
from expgraph.db.types import utcnow
from expgraph.domains.experiments import service as experiments
from expgraph.domains.experiments.models import (
    ExperimentKind,
    ExperimentStatus,
    TrainingExperiment,
)
from expgraph.domains.training import hpo_sampling
from expgraph.domains.training.hpo_space import (
    check_budget,
    check_space,
    objective_of_campaign,
    objective_stored,
)
from expgraph.domains.training.models import HpoCampaign, HpoMethod, HpoTrial, HpoTrialState
from expgraph.domains.training.service import Objective, ObjectiveDirection
from expgraph.errors import BadRequest, Conflict, NotFound

TRIALS = Claimable(
    HpoTrial,
    key="experiment_id",
    holder="claimed_by",
    ready=lambda: HpoTrial.state == HpoTrialState.RUNNING,
    held=lambda: HpoTrial.state == HpoTrialState.RUNNING,
    noun="trial",
)
"""An HPO trial's claim: keyed by its experiment; only a RUNNING trial is held."""

LIVE = (ExperimentStatus.PENDING, ExperimentStatus.RUNNING)
"""Campaign statuses that still take claims."""
ENDED = (HpoTrialState.COMPLETED, HpoTrialState.PRUNED, HpoTrialState.FAILED)
EXPERIMENT_STATUS = {
    HpoTrialState.COMPLETED: ExperimentStatus.COMPLETED,
    HpoTrialState.PRUNED: ExperimentStatus.CANCELLED,
    HpoTrialState.FAILED: ExperimentStatus.FAILED,
}
"""A finished trial's experiment status: a pruned trial's experiment is CANCELLED."""
CHANNEL = "hpo_campaign_updates"
CANDIDATES = 20
"""Campaigns a claim without campaignId tries, oldest first."""


# -- creating ---------------------------------------------------------------


async def create_campaign(
    session: AsyncSession,
    *,
    name: str,
    method: HpoMethod,
    base_model_type: str,
    dataset_id: int | None,
    parameters: list[Mapping[str, Any]],
    objective: Objective | None,
    budget: Mapping[str, Any],
    seed: int | None,
    created_by: int | None,
) -> HpoCampaign:
    name = name.strip()
    if not name or len(name) > 255:
        raise BadRequest("name must be 1-255 characters", field="name")
    model_type = base_model_type.strip()
    if not model_type or len(model_type) > 100:
        raise BadRequest("baseModelType must be 1-100 characters", field="baseModelType")
    if seed is not None and not 0 <= seed < 2**63:
        raise BadRequest("seed must be 0 to 2^63 - 1", field="seed")
    space = check_space(parameters, method)
    checked_budget = check_budget(budget)
    taken = await session.scalar(select(HpoCampaign.id).where(HpoCampaign.name == name))
    if taken is not None:
        raise Conflict(f"an HPO campaign named {name!r} already exists", field="name")
    campaign = HpoCampaign(
        name=name,
        method=method,
        status=ExperimentStatus.PENDING,
        base_model_type=model_type,
        dataset_id=dataset_id,
        search_space=space,
        budget=checked_budget,
        objective=objective_stored(objective),
        seed=random.SystemRandom().randrange(2**31) if seed is None else seed,
        created_by=created_by,
    )
    session.add(campaign)
    await session.flush()
    return campaign


# -- reading the campaign's trials ------------------------------------------


@dataclass
class StoredTrial:
    """A trial as the sampler and the pruner see it."""

    number: int
    state: HpoTrialState
    value: float | None
    params: dict[str, Any]
    intermediate: dict[int, float]
    pruner_attrs: dict[str, Any]
    experiment_id: int
    grid_id: int | None = None
    """A grid search trial's point (Optuna GridSampler's grid id), stored when asked."""


def intermediate_of(stored: Mapping[str, Any] | None) -> dict[int, float]:
    return {int(k): float(v) for k, v in ((stored or {}).get("by_epoch") or {}).items()}


async def stored_trials(session: AsyncSession, campaign_id: int) -> list[StoredTrial]:
    rows = await session.execute(
        select(HpoTrial, TrainingExperiment.hyperparameters)
        .join(TrainingExperiment, TrainingExperiment.id == HpoTrial.experiment_id)
        .where(HpoTrial.campaign_id == campaign_id)
        .order_by(HpoTrial.trial_number)
    )
    return [
        StoredTrial(
            number=trial.trial_number,
            state=trial.state,
            value=trial.value,
            params=dict(params or {}),
            intermediate=intermediate_of(trial.intermediate_values),
            pruner_attrs=dict((trial.intermediate_values or {}).get("pruner") or {}),
            experiment_id=trial.experiment_id,
            grid_id=((trial.intermediate_values or {}).get("sampler") or {}).get("grid_id"),
        )
        for trial, params in rows.all()
    ]


async def _locked_campaign(session: AsyncSession, campaign_id: int) -> HpoCampaign | None:
    return (
        await session.scalars(
            select(HpoCampaign)
            .where(HpoCampaign.id == campaign_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one_or_none()


async def _fail_stale(session: AsyncSession, campaign_id: int, stale_seconds: int) -> int:
    """Fail the campaign's RUNNING trials whose holder went stale (the kernel's
    stale rule); their experiments become FAILED. How many. Experiments are
    locked before trials, the order every trial write takes."""
    stale = HpoTrial.state == HpoTrialState.RUNNING, TRIALS.stale(stale_seconds)
    candidates = select(HpoTrial.experiment_id).where(HpoTrial.campaign_id == campaign_id, *stale)
    if not (await session.scalars(candidates)).first():
        return 0
    await session.execute(
        select(TrainingExperiment.id)
        .where(TrainingExperiment.id.in_(candidates))
        .order_by(TrainingExperiment.id)
        .with_for_update()
    )
    failed = (
        await session.execute(
            update(HpoTrial)
            .where(HpoTrial.campaign_id == campaign_id, *stale)
            .values(state=HpoTrialState.FAILED, finished_at=utcnow(), **TRIALS.released())
            .returning(HpoTrial.experiment_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    ids = [row[0] for row in failed]
    if ids:
        await session.execute(
            update(TrainingExperiment)
            .where(TrainingExperiment.id.in_(ids))
            .values(status=ExperimentStatus.FAILED, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(HpoCampaign)
            .where(HpoCampaign.id == campaign_id)
            .values(trials_completed=HpoCampaign.trials_completed + len(ids))
            .execution_options(synchronize_session=False)
        )
    return len(ids)


def _duration_over(campaign: HpoCampaign, now: datetime) -> bool:
    limit = campaign.budget.get("max_duration_seconds")
    if limit is None or campaign.started_at is None:
        return False
    return _naive_utc(now) - _naive_utc(campaign.started_at) > timedelta(seconds=limit)


def _naive_utc(moment: datetime) -> datetime:
    """``moment`` in UTC without a zone (drivers differ in whether they give one)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _exhausted(campaign: HpoCampaign, trials: list[StoredTrial], now: datetime) -> bool:
    """No new trial may start (whatever runs now)."""
    budget = campaign.budget
    used = sum(t.state is not HpoTrialState.FAILED for t in trials)
    if used >= budget["max_trials"] or len(trials) >= 2 * budget["max_trials"]:
        return True
    if _duration_over(campaign, now):
        return True
    return campaign.method is HpoMethod.GRID_SEARCH and hpo_sampling.grid_done(campaign, trials)


async def _now(session: AsyncSession) -> datetime:
    value = await session.scalar(select(utcnow()))
    assert isinstance(value, datetime)
    return value


async def _complete(
    session: AsyncSession, campaign: HpoCampaign, now: datetime, trials: list[StoredTrial]
) -> None:
    """COMPLETED, once: only a live campaign moves, and that move writes its
    HPO_CAMPAIGN_COMPLETED event for the creator in the same transaction."""
    moved = (
        await session.execute(
            update(HpoCampaign)
            .where(HpoCampaign.id == campaign.id, HpoCampaign.status.in_(LIVE))
            .values(status=ExperimentStatus.COMPLETED, completed_at=now)
            .returning(HpoCampaign.id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if moved is None:
        return
    set_committed_value(campaign, "status", ExperimentStatus.COMPLETED)
    set_committed_value(campaign, "completed_at", now)
    await emit(
        session,
        EventType.HPO_CAMPAIGN_COMPLETED,
        {
            "campaign_id": campaign.id,
            "name": campaign.name,
            "best_value": campaign.best_accuracy,
            "best_experiment_id": campaign.best_experiment_id,
            "trials": len(trials),
        },
        user_id=campaign.created_by,
    )


# -- claiming -----------------------------------------------------------------


async def claim(
    session: AsyncSession,
    dialect: str,
    campaign_id: int | None,
    worker_id: str,
    stale_seconds: int,
) -> HpoTrial | None:
    """Create and claim the next trial of the campaign (or of the oldest live
    campaign with room); None when nothing may start now."""
    worker_id = worker_id.strip()
    if not worker_id or len(worker_id) > 255:
        raise BadRequest("workerId must be 1-255 characters", field="workerId")
    if campaign_id is not None:
        campaign = await _locked_campaign(session, campaign_id)
        if campaign is None:
            raise NotFound("no HPO campaign with that id", field="campaignId")
        return await _claim_in(session, dialect, campaign, worker_id, stale_seconds)
    ids = (
        await session.scalars(
            select(HpoCampaign.id)
            .where(HpoCampaign.status.in_(LIVE))
            .order_by(HpoCampaign.id)
            .limit(CANDIDATES)
        )
    ).all()
    for candidate in ids:
        campaign = await _locked_campaign(session, candidate)
        if campaign is not None:
            trial = await _claim_in(session, dialect, campaign, worker_id, stale_seconds)
            if trial is not None:
                return trial
    return None


async def _claim_in(
    session: AsyncSession, dialect: str, campaign: HpoCampaign, worker_id: str, stale_seconds: int
) -> HpoTrial | None:
    if campaign.status not in LIVE:
        return None
    await _fail_stale(session, campaign.id, stale_seconds)
    trials = await stored_trials(session, campaign.id)
    now = await _now(session)
    running = sum(t.state is HpoTrialState.RUNNING for t in trials)
    if _exhausted(campaign, trials, now):
        if running == 0:
            await _complete(session, campaign, now, trials)
        return None
    if running >= campaign.budget["max_parallel"]:
        return None
    number = len(trials)
    params, sampler_attrs = hpo_sampling.ask(campaign, trials, number)
    experiment = await experiments.create(
        session,
        dialect,
        kind=ExperimentKind.TRAINING,
        common={
            "name": f"{campaign.name} #{number}",
            "status": ExperimentStatus.RUNNING,
            "config": {"objective": campaign.objective, "hpo_trial_number": number},
        },
        blocks=_training_block(
            model_type=campaign.base_model_type,
            hyperparameters=params,
            hpo_campaign_id=campaign.id,
        ),
        created_by=campaign.created_by,
    )
    experiment.dataset_id = campaign.dataset_id  # checked when the campaign was created
    session.add(
        HpoTrial(
            campaign_id=campaign.id,
            experiment_id=experiment.id,
            trial_number=number,
            state=HpoTrialState.RUNNING,
            intermediate_values={"sampler": sampler_attrs} if sampler_attrs else {},
            fencing_token=0,
        )
    )
    await session.flush()
    trial = await TRIALS.claim(session, experiment.id, worker_id, stale_seconds)
    assert trial is not None  # just created, under the campaign's lock
    await session.execute(
        update(HpoCampaign)
        .where(HpoCampaign.id == campaign.id)
        .values(
            trials_total=HpoCampaign.trials_total + 1,
            status=ExperimentStatus.RUNNING,
            started_at=func.coalesce(HpoCampaign.started_at, utcnow()),
        )
        .execution_options(synchronize_session=False)
    )
    return trial


def _training_block(**values: Any) -> SimpleNamespace:
    """The experiments service's input blocks: only the TRAINING one given."""
    blocks: dict[str, Any] = dict.fromkeys(experiments.BLOCK_OF_KIND.values())
    blocks[experiments.BLOCK_OF_KIND[ExperimentKind.TRAINING]] = SimpleNamespace(**values)
    return SimpleNamespace(**blocks)


# -- holding ------------------------------------------------------------------


async def _refused(
    session: AsyncSession, experiment_id: int, holder: Holder, stale_seconds: int
) -> Exception:
    """Why ``holder`` holds no claim on the trial: NOT_FOUND, FINISHED, or the kernel's reasons."""
    state = await session.scalar(
        select(HpoTrial.state).where(HpoTrial.experiment_id == experiment_id)
    )
    if state is not None and state is not HpoTrialState.RUNNING:
        return Conflict(
            f"the trial has ended ({state.name}): it takes no more calls", reason="FINISHED"
        )
    error = await TRIALS.refusal(session, experiment_id, holder, stale_seconds)
    if isinstance(error, NotFound):
        return NotFound("no HPO trial for that experiment", field="experimentId")
    return error


async def heartbeat(
    session: AsyncSession, experiment_id: int, holder: Holder, stale_seconds: int
) -> HpoTrial:
    trial = await TRIALS.heartbeat(session, experiment_id, holder)
    if trial is None:
        raise await _refused(session, experiment_id, holder, stale_seconds)
    return trial


async def hold(
    session: AsyncSession, experiment_id: int, holder: Holder, stale_seconds: int
) -> None:
    """Refresh the claim as the guard of a holder's write; CONFLICT when not held."""
    if not await TRIALS.hold(session, experiment_id, holder):
        raise await _refused(session, experiment_id, holder, stale_seconds)


async def check_epochs_holder(
    session: AsyncSession, experiment_id: int, fencing_token: int
) -> None:
    """logTrainingEpochs of a campaign's trial: ``fencing_token`` must be the
    token of the trial's current claim (the kernel's ``hold``: CONFLICT with
    the kernel's reasons, or FINISHED). An experiment attached to a campaign
    without a trial was never claimed, so no token can be current: CONFLICT."""
    row = (
        await session.execute(
            select(HpoTrial.claimed_by).where(HpoTrial.experiment_id == experiment_id)
        )
    ).first()
    if row is None:
        raise Conflict(
            "this experiment belongs to an HPO campaign but is not one of its claimed "
            "trials: only the holder of a claimHpoTrial claim may log its epochs",
            reason="NOT_CLAIMED",
        )
    await hold(session, experiment_id, Holder(row[0] or "", fencing_token), 0)


async def report(
    session: AsyncSession,
    experiment_id: int,
    holder: Holder,
    epoch: int,
    value: float,
    stale_seconds: int,
) -> tuple[bool, HpoTrial]:
    """Store an intermediate value (idempotent per epoch) and ask the pruner."""
    if epoch < 0:
        raise BadRequest("epoch must be 0 or more", field="epoch")
    if value != value or value in (float("inf"), float("-inf")):
        raise BadRequest("value must be a finite number", field="value")
    await hold(session, experiment_id, holder, stale_seconds)
    trial = (
        await session.scalars(
            select(HpoTrial)
            .where(HpoTrial.experiment_id == experiment_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    campaign = await session.get(HpoCampaign, trial.campaign_id)
    assert campaign is not None
    stored = dict(trial.intermediate_values or {})
    by_epoch = dict(stored.get("by_epoch") or {})
    by_epoch[str(epoch)] = value
    stored["by_epoch"] = by_epoch
    trials = await stored_trials(session, campaign.id)
    current = next(t for t in trials if t.number == trial.trial_number)
    current.intermediate = intermediate_of(stored)
    prune, attrs = hpo_sampling.should_prune(campaign, trials, current)
    stored["pruner"] = attrs
    trial.intermediate_values = stored
    await session.flush()
    return prune, trial


async def finish(
    session: AsyncSession,
    experiment_id: int,
    holder: Holder,
    outcome: HpoTrialState,
    metrics: Mapping[str, float],
    value: float | None,
    stale_seconds: int,
) -> tuple[HpoTrial, HpoCampaign]:
    """End a trial: release its claim, record its value and metrics, update
    the campaign's counters and best trial under the campaign's lock, and
    complete the campaign when nothing can start or runs any more."""
    if outcome is HpoTrialState.RUNNING:
        raise BadRequest("status must be COMPLETED, PRUNED or FAILED", field="status")
    campaign_id = await session.scalar(
        select(HpoTrial.campaign_id).where(HpoTrial.experiment_id == experiment_id)
    )
    if campaign_id is None:
        raise NotFound("no HPO trial for that experiment", field="experimentId")
    campaign = await _locked_campaign(session, campaign_id)
    assert campaign is not None
    objective = objective_of_campaign(campaign.objective)
    # The experiment before the trial: the order logTrainingEpochs locks them in.
    await session.execute(
        select(TrainingExperiment.id)
        .where(TrainingExperiment.id == experiment_id)
        .with_for_update()
    )
    row = (
        await session.scalars(select(HpoTrial).where(HpoTrial.experiment_id == experiment_id))
    ).one()
    if value is None and outcome is not HpoTrialState.FAILED:
        value = metrics.get(objective.metric.value)
        if value is None and outcome is HpoTrialState.PRUNED:
            last = intermediate_of(row.intermediate_values)
            value = last[max(last)] if last else None
    if outcome is HpoTrialState.COMPLETED and value is None:
        raise BadRequest(
            f"a COMPLETED trial needs value, or metrics with {objective.metric.name}",
            field="value",
        )
    if outcome is HpoTrialState.FAILED:
        value = None
    trial = await TRIALS.release(
        session, experiment_id, holder, state=outcome, value=value, finished_at=utcnow()
    )
    if trial is None:
        raise await _refused(session, experiment_id, holder, stale_seconds)
    await session.refresh(trial)  # RETURNING does not overwrite the row read above
    experiment = await session.get(TrainingExperiment, experiment_id, populate_existing=True)
    assert experiment is not None
    experiment.status = EXPERIMENT_STATUS[outcome]
    if metrics:
        experiment.metrics = {**(experiment.metrics or {}), **metrics}
    campaign.trials_completed += 1
    if (
        outcome is HpoTrialState.COMPLETED
        and value is not None
        and _better(value, campaign.best_accuracy, objective)
    ):
        campaign.best_accuracy = value
        campaign.best_experiment_id = experiment_id
    await session.flush()
    trials = await stored_trials(session, campaign.id)
    now = await _now(session)
    if not any(t.state is HpoTrialState.RUNNING for t in trials) and _exhausted(
        campaign, trials, now
    ):
        await _complete(session, campaign, now, trials)
    return trial, campaign


def _better(value: float, best: float | None, objective: Objective) -> bool:
    if best is None:
        return True
    if objective.direction is ObjectiveDirection.MAXIMIZE:
        return value > best
    return value < best


async def progress_counts(
    session: AsyncSession, campaign_ids: list[int]
) -> dict[int, dict[str, int]]:
    """Trials per state of each campaign."""
    rows = await session.execute(
        select(HpoTrial.campaign_id, HpoTrial.state, func.count())
        .where(HpoTrial.campaign_id.in_(campaign_ids))
        .group_by(HpoTrial.campaign_id, HpoTrial.state)
    )
    counts: dict[int, dict[str, int]] = {pk: {} for pk in campaign_ids}
    for pk, state, count in rows.all():
        counts[pk][state.value] = int(count)
    return counts
