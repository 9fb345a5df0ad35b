"""Claims, heartbeats, toggles and run writes: each transition is one
conditional ``UPDATE ... RETURNING`` with every guard in its WHERE clause and
the database's clock; when it matches no row, one read says why.

Fencing: each claim adds one to ``fencing_token``. A holder is the pair
(worker id, token); heartbeats, run writes and release from any other pair are
refused, so a worker whose claim was taken over can write nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.dialect import upsert
from expgraph.db.types import utc_before, utcnow
from expgraph.domains.catalog.models import DatasetExample
from expgraph.domains.execution import models
from expgraph.domains.experiments.models import EvaluationExperiment
from expgraph.errors import BadRequest, Conflict, Cooldown, NotFound

C = models.ExecutionConfig
R = models.ExperimentRun
A = models.ExperimentRunAnnotation
E = EvaluationExperiment
MAX_BATCH = 1000


@dataclass(frozen=True)
class Holder:
    worker_id: str
    fencing_token: int


def expected_runs(experiment: Any = E) -> ColumnElement[int]:
    """Examples in the experiment's dataset version (and earlier ones) x repetitions."""
    examples = (
        select(func.count(DatasetExample.id))
        .where(
            DatasetExample.dataset_id == experiment.dataset_id,
            DatasetExample.dataset_version_id <= experiment.dataset_version_id,
        )
        .scalar_subquery()
    )
    return examples * func.coalesce(experiment.repetitions, 1)


def completed_runs(experiment_id: Any) -> ColumnElement[int]:
    # count(*), not count(id): the partial index of successful runs then answers
    # it alone (an index-only scan).
    return (
        select(func.count())
        .select_from(R)
        .where(R.experiment_id == experiment_id, R.error.is_(None))
        .scalar_subquery()
    )


def _has_missing_runs() -> ColumnElement[bool]:
    expected = select(expected_runs()).where(E.id == C.id).scalar_subquery()
    return completed_runs(C.id) < expected


def _claimable(stale_seconds: int) -> ColumnElement[bool]:
    return and_(
        C.enabled.is_(True),
        C.last_error.is_(None),
        or_(C.claimed_at.is_(None), C.claimed_at < utc_before(stale_seconds)),
        _has_missing_runs(),
    )


def _held_by(holder: Holder) -> ColumnElement[bool]:
    return and_(
        C.claimed_by == holder.worker_id,
        C.fencing_token == holder.fencing_token,
        C.claimed_at.is_not(None),
        C.enabled.is_(True),
    )


async def _why_not(session: AsyncSession, experiment_id: int, stale_seconds: int) -> Exception:
    """The one read after a transition matched no row."""
    row = (
        await session.execute(
            select(C, C.claimed_at < utc_before(stale_seconds), _has_missing_runs()).where(
                C.id == experiment_id
            )
        )
    ).first()
    if row is None:
        return NotFound("this experiment has no execution config", field="experimentId")
    config, stale, missing = row
    if not config.enabled:
        return Conflict("the execution is disabled (toggled off)", reason="DISABLED")
    if config.last_error is not None:
        return Conflict(
            "the execution failed (see lastError); toggle it off and on to retry",
            reason="FAILED",
        )
    if config.claimed_at is not None and not stale:
        return Conflict(
            f"another worker ({config.claimed_by}) holds the claim and its heartbeat is recent",
            reason="CLAIMED",
        )
    if not missing:
        return Conflict("every expected run is recorded", reason="COMPLETED")
    return Conflict("the claim is not available", reason="UNAVAILABLE")


async def claim(
    session: AsyncSession, experiment_id: int, worker_id: str, stale_seconds: int
) -> models.ExecutionConfig:
    stmt = (
        update(C)
        .where(C.id == experiment_id, _claimable(stale_seconds))
        .values(
            claimed_at=utcnow(),
            claimed_by=worker_id,
            fencing_token=C.fencing_token + 1,
            updated_at=utcnow(),
        )
        .returning(C)
        .execution_options(synchronize_session=False)
    )
    config = (await session.scalars(stmt)).first()
    if config is None:
        raise await _why_not(session, experiment_id, stale_seconds)
    return config


async def claim_next(
    session: AsyncSession, dialect: str, worker_id: str, stale_seconds: int
) -> models.ExecutionConfig | None:
    """Claim the oldest claimable config (queued or orphaned), or None.

    PostgreSQL: the candidate is locked with ``FOR UPDATE SKIP LOCKED``, so
    concurrent claimers pass over each other's rows instead of queueing on them;
    the outer UPDATE repeats the guards. SQLite: the write lock serialises it.
    """
    candidate = select(C.id).where(_claimable(stale_seconds)).order_by(C.created_at, C.id).limit(1)
    if dialect == "postgresql":
        candidate = candidate.with_for_update(skip_locked=True)
    stmt = (
        update(C)
        .where(C.id == candidate.scalar_subquery(), _claimable(stale_seconds))
        .values(
            claimed_at=utcnow(),
            claimed_by=worker_id,
            fencing_token=C.fencing_token + 1,
            updated_at=utcnow(),
        )
        .returning(C)
        .execution_options(synchronize_session=False)
    )
    return (await session.scalars(stmt)).first()


async def heartbeat(
    session: AsyncSession, experiment_id: int, holder: Holder, stale_seconds: int
) -> models.ExecutionConfig:
    stmt = (
        update(C)
        .where(C.id == experiment_id, _held_by(holder))
        .values(claimed_at=utcnow())
        .returning(C)
        .execution_options(synchronize_session=False)
    )
    config = (await session.scalars(stmt)).first()
    if config is None:
        raise await _lost(session, experiment_id, holder)
    return config


async def _lost(session: AsyncSession, experiment_id: int, holder: Holder) -> Exception:
    """Why ``holder`` (worker id, fencing token) holds no claim, read after a
    guarded write matched no row. ``extensions.reason``: DISABLED, UNKNOWN_TOKEN
    (no claim ever had this token), RELEASED (no worker holds it now), TAKEN_OVER
    (another worker does), STALE_TOKEN (this worker holds it under a newer token)."""
    config = await session.get(C, experiment_id)
    if config is None:
        return NotFound("this experiment has no execution config", field="experimentId")
    token, current = holder.fencing_token, config.fencing_token
    if not config.enabled:
        return Conflict(
            "the claim was lost: the execution was disabled (toggled off)", reason="DISABLED"
        )
    if not 1 <= token <= current:  # claims issue 1, 2, 3, ...
        return Conflict(
            f"fencingToken {token} was never issued for this experiment (the latest is "
            f"{current}); claim it to get one",
            reason="UNKNOWN_TOKEN",
        )
    if config.claimed_at is None:
        return Conflict(
            "the claim was already released: no worker holds it; claim it again",
            reason="RELEASED",
        )
    if config.claimed_by != holder.worker_id:
        return Conflict(
            f"the claim was lost: another worker ({config.claimed_by}) holds it now",
            reason="TAKEN_OVER",
        )
    return Conflict(
        f"the fencing token is stale: this worker holds the claim under fencingToken "
        f"{current} now, not {token}",
        reason="STALE_TOKEN",
    )


async def release(
    session: AsyncSession, experiment_id: int, holder: Holder, error: str | None
) -> models.ExecutionConfig:
    stmt = (
        update(C)
        .where(C.id == experiment_id, _held_by(holder))
        .values(claimed_at=None, claimed_by=None, last_error=error, updated_at=utcnow())
        .returning(C)
        .execution_options(synchronize_session=False)
    )
    config = (await session.scalars(stmt)).first()
    if config is None:
        raise await _lost(session, experiment_id, holder)
    return config


async def toggle(
    session: AsyncSession, experiment_id: int, enabled: bool, cooldown_seconds: int
) -> models.ExecutionConfig:
    """Enable or disable. Asking for the state it is in changes nothing; a change
    within the cooldown of the last one is refused (COOLDOWN). Disabling clears
    the claim (the holder's next heartbeat fails); enabling clears last_error."""
    values: dict[str, Any] = {"enabled": enabled, "toggled_at": utcnow(), "updated_at": utcnow()}
    if enabled:
        values["last_error"] = None
    else:
        values.update(claimed_at=None, claimed_by=None)
    stmt = (
        update(C)
        .where(
            C.id == experiment_id,
            C.enabled.is_not(enabled),
            or_(C.toggled_at.is_(None), C.toggled_at < utc_before(cooldown_seconds)),
        )
        .values(**values)
        .returning(C)
        .execution_options(synchronize_session=False)
    )
    config = (await session.scalars(stmt)).first()
    if config is not None:
        return config
    current = await session.get(C, experiment_id)
    if current is None:
        raise NotFound("this experiment has no execution config", field="experimentId")
    if current.enabled == enabled:
        return current
    raise Cooldown(
        f"toggled less than {cooldown_seconds}s ago; try again shortly",
        retryAfter=cooldown_seconds,
    )


async def _guard(session: AsyncSession, experiment_id: int, holder: Holder) -> None:
    """Refresh the claim as part of a write; fails (and the write with it) unless
    the holder is current. On PostgreSQL it also row-locks the config until
    commit, so no takeover can slip between this check and the write."""
    stmt = (
        update(C)
        .where(C.id == experiment_id, _held_by(holder))
        .values(claimed_at=utcnow())
        .returning(C.id)
    )
    if (await session.execute(stmt)).first() is None:
        raise await _lost(session, experiment_id, holder)


RUN_FIELDS = (
    "output",
    "error",
    "start_time",
    "end_time",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_micros",
)
# Measures of a run that cannot be negative: column -> input field.
NON_NEGATIVE_RUN_FIELDS = {
    "latency_ms": "latencyMs",
    "prompt_tokens": "promptTokens",
    "completion_tokens": "completionTokens",
    "cost_micros": "costMicros",
}


async def record_runs(
    session: AsyncSession,
    dialect: str,
    experiment_id: int,
    holder: Holder,
    runs: Sequence[dict[str, Any]],
) -> list[models.ExperimentRun]:
    """Insert or update a batch of runs (idempotent on example x repetition)."""
    if not runs:
        raise BadRequest("runs must not be empty", field="runs")
    if len(runs) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} runs per call", field="runs")
    for run in runs:
        for column, name in NON_NEGATIVE_RUN_FIELDS.items():
            if (run.get(column) or 0) < 0:
                raise BadRequest(f"runs: {name} must be at least 0", field=name)
    await _guard(session, experiment_id, holder)
    experiment = await session.get(E, experiment_id)
    assert experiment is not None
    example_ids = {r["dataset_example_id"] for r in runs}
    valid = set(
        (
            await session.scalars(
                select(DatasetExample.id).where(
                    DatasetExample.id.in_(example_ids),
                    DatasetExample.dataset_id == experiment.dataset_id,
                    DatasetExample.dataset_version_id <= experiment.dataset_version_id,
                )
            )
        ).all()
    )
    if example_ids - valid:
        raise BadRequest(
            "runs: a datasetExampleId names an example outside this experiment's dataset version",
            field="datasetExampleId",
        )
    repetitions = experiment.repetitions or 1
    seen: set[tuple[int, int]] = set()
    rows = []
    for run in runs:
        key = (run["dataset_example_id"], run["repetition_number"])
        if not 1 <= key[1] <= repetitions:
            raise BadRequest(
                f"runs: repetitionNumber must be between 1 and {repetitions} (the "
                f"experiment's repetitions), not {key[1]}",
                field="repetitionNumber",
            )
        if key in seen:
            raise BadRequest(
                "runs: the same datasetExampleId and repetitionNumber appear twice in one batch",
                field="runs",
            )
        seen.add(key)
        rows.append(
            {
                "experiment_id": experiment_id,
                "dataset_example_id": key[0],
                "repetition_number": key[1],
                "worker_id": holder.worker_id,
                **{f: run.get(f) for f in RUN_FIELDS},
            }
        )
    stmt = upsert(
        dialect,
        R.__table__,  # type: ignore[arg-type]
        rows,
        ("experiment_id", "dataset_example_id", "repetition_number"),
        (*RUN_FIELDS, "worker_id"),
    ).returning(R.id)
    ids = list((await session.scalars(stmt)).all())
    return list((await session.scalars(select(R).where(R.id.in_(ids)).order_by(R.id))).all())


ANNOTATION_FIELDS = ("label", "score", "explanation", "error", "metadata")


async def record_annotations(
    session: AsyncSession,
    dialect: str,
    experiment_id: int,
    holder: Holder,
    annotations: Sequence[dict[str, Any]],
) -> list[models.ExperimentRunAnnotation]:
    """Insert or update evaluator results (idempotent on run x evaluator name)."""
    if not annotations:
        raise BadRequest("annotations must not be empty", field="annotations")
    if len(annotations) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} annotations per call", field="annotations")
    await _guard(session, experiment_id, holder)
    run_ids = {a["experiment_run_id"] for a in annotations}
    owned = set(
        (
            await session.scalars(
                select(R.id).where(R.id.in_(run_ids), R.experiment_id == experiment_id)
            )
        ).all()
    )
    if run_ids - owned:
        raise BadRequest(
            "annotations: an experimentRunId names a run of another experiment",
            field="experimentRunId",
        )
    keys = [(a["experiment_run_id"], a["name"]) for a in annotations]
    if len(set(keys)) != len(keys):
        raise BadRequest(
            "annotations: the same experimentRunId and name appear twice in one batch",
            field="annotations",
        )
    rows = [
        {
            "experiment_run_id": a["experiment_run_id"],
            "name": a["name"],
            **{f: a.get(f) for f in ANNOTATION_FIELDS},
        }
        for a in annotations
    ]
    for row in rows:
        row["metadata"] = row["metadata"] or {}
    stmt = upsert(
        dialect,
        A.__table__,  # type: ignore[arg-type]
        rows,
        ("experiment_run_id", "name"),
        ANNOTATION_FIELDS,
    ).returning(A.id)
    ids = list((await session.scalars(stmt)).all())
    return list((await session.scalars(select(A).where(A.id.in_(ids)).order_by(A.id))).all())
