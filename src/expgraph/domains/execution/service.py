"""Claims, heartbeats, toggles and run writes. Claims go through the kernel's
one mechanism (``expgraph.db.claims``: guarded ``UPDATE ... RETURNING`` with the
database's clock, fencing tokens, claim-next, stale takeover); this module adds
only execution's own rules (enabled, ``last_error``, missing runs) and messages.
When a transition matches no row, one read says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.claims import Claimable, Holder
from expgraph.db.dialect import upsert
from expgraph.db.outbox import EventType, emit
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


CLAIMS = Claimable(
    C,
    ready=lambda: and_(C.enabled.is_(True), C.last_error.is_(None), _has_missing_runs()),
    held=lambda: C.enabled.is_(True),
    order_by=("created_at", "id"),
    noun="experiment",
)
"""Execution configs as claimable work (db/claims.py has the mechanism): ready
while enabled, without ``last_error`` and with some expected run missing; a hold
lasts only while enabled."""


async def _why_not(session: AsyncSession, experiment_id: int, stale_seconds: int) -> Exception:
    """The one read after a claim matched no row."""
    row = (
        await session.execute(
            select(C, CLAIMS.stale(stale_seconds), _has_missing_runs()).where(C.id == experiment_id)
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
    held = CLAIMS.why_held(config, bool(stale))
    if held is not None:
        return held
    if not missing:
        return Conflict("every expected run is recorded", reason="COMPLETED")
    return Conflict("the claim is not available", reason="UNAVAILABLE")


async def claim(
    session: AsyncSession, experiment_id: int, worker_id: str, stale_seconds: int
) -> models.ExecutionConfig:
    config = await CLAIMS.claim(
        session, experiment_id, worker_id, stale_seconds, updated_at=utcnow()
    )
    if config is None:
        raise await _why_not(session, experiment_id, stale_seconds)
    return config


async def claim_next(
    session: AsyncSession, dialect: str, worker_id: str, stale_seconds: int
) -> models.ExecutionConfig | None:
    """Claim the oldest claimable config (queued or orphaned), or None."""
    return await CLAIMS.claim_next(session, dialect, worker_id, stale_seconds, updated_at=utcnow())


async def heartbeat(
    session: AsyncSession, experiment_id: int, holder: Holder, stale_seconds: int
) -> models.ExecutionConfig:
    config = await CLAIMS.heartbeat(session, experiment_id, holder)
    if config is None:
        raise await _lost(session, experiment_id, holder)
    return config


async def _lost(session: AsyncSession, experiment_id: int, holder: Holder) -> Exception:
    """Why ``holder`` holds no claim: DISABLED, else the kernel's reasons
    (UNKNOWN_TOKEN, RELEASED, TAKEN_OVER, STALE_TOKEN)."""
    config = await session.get(C, experiment_id)
    if config is None:
        return NotFound("this experiment has no execution config", field="experimentId")
    if not config.enabled:
        return Conflict(
            "the claim was lost: the execution was disabled (toggled off)", reason="DISABLED"
        )
    return CLAIMS.why_lost(config, holder)


async def release(
    session: AsyncSession, experiment_id: int, holder: Holder, error: str | None
) -> models.ExecutionConfig:
    config = await CLAIMS.release(
        session, experiment_id, holder, last_error=error, updated_at=utcnow()
    )
    if config is None:
        raise await _lost(session, experiment_id, holder)
    await _emit_finished(session, experiment_id, error)
    return config


async def _emit_finished(session: AsyncSession, experiment_id: int, error: str | None) -> None:
    """EXECUTION_FAILED (released with an error) or EXECUTION_COMPLETED (released
    with every expected run recorded) in the release's transaction; a release
    with runs still missing is no event. Payload: domains/notifications/events.py."""
    row = (
        await session.execute(
            select(E.name, E.created_by, expected_runs(), completed_runs(experiment_id)).where(
                E.id == experiment_id
            )
        )
    ).first()
    if row is None:
        return
    name, created_by, expected, completed = row
    if error is None and not (expected and completed >= expected):
        return
    await emit(
        session,
        EventType.EXECUTION_FAILED if error is not None else EventType.EXECUTION_COMPLETED,
        {
            "experiment_id": experiment_id,
            "name": name,
            "completed_runs": int(completed or 0),
            "expected_runs": int(expected or 0),
            "error": error,
        },
        user_id=created_by,
    )


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
        values.update(CLAIMS.released())
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
    if not await CLAIMS.hold(session, experiment_id, holder):
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
