"""Dataset jobs (seed 003 ``dataset_generations`` and ``dataset_imports``): one
service for both tables.

A job is created PENDING; a worker claims it (``claim``: the kernel's
``Claimable``, holder ``celery_task_id``), which makes it RUNNING with a new
fencing token and its progress back at 0 (a worker taking over a stale job starts
it over); the holder reports progress (0..100, never lower than the stored value
within one claim: a lower report keeps the stored one) and finishes it COMPLETED
or FAILED, which releases the claim. A COMPLETED job creates its dataset (or
updates the dataset the job names) and that dataset's signals in the same
transaction. A RUNNING job whose holder stopped refreshing for the execution
stale time is claimable again (taken over). Cancelling ends a PENDING or RUNNING
job and drops its claim.

Every transition is written once for both kinds: the two tables differ only in
their model, status enum and one counter (``num_faults`` / ``num_files``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.claims import Claimable, Holder
from expgraph.db.outbox import EventType, emit
from expgraph.db.types import utcnow
from expgraph.db.values import check_rows
from expgraph.domains.catalog import models as catalog
from expgraph.domains.catalog import service as catalog_service
from expgraph.domains.training import models
from expgraph.errors import BadRequest, Conflict, NotFound

MAX_SIGNALS = 1000
NAME_MAX, PATH_MAX, WORKER_MAX = 255, 500, 255
ERROR_MAX = 10_000


class DatasetJobKind(enum.Enum):
    GENERATION = "generation"
    IMPORT = "import"


class DatasetJobStatus(enum.Enum):
    """Both tables' status values (DatasetGenerationStatus and DatasetImportStatus
    of the seed: the same five)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


def _open(model: Any, status: Any) -> Callable[[], ColumnElement[bool]]:
    """Claimable rows: PENDING ones, and RUNNING ones (whose hold the kernel
    lets go only when stale)."""
    return lambda: model.status.in_((status.PENDING, status.RUNNING))


def _running(model: Any, status: Any) -> Callable[[], ColumnElement[bool]]:
    """A hold lasts while the job is RUNNING (a cancelled job has none)."""
    return lambda: model.status == status.RUNNING


GEN, IMP = models.DatasetGeneration, models.DatasetImport
GEN_STATUS, IMP_STATUS = models.DatasetGenerationStatus, models.DatasetImportStatus
CLAIMS: dict[DatasetJobKind, Claimable] = {
    DatasetJobKind.GENERATION: Claimable(
        GEN,
        holder="celery_task_id",
        ready=_open(GEN, GEN_STATUS),
        held=_running(GEN, GEN_STATUS),
        noun="dataset job",
    ),
    DatasetJobKind.IMPORT: Claimable(
        IMP,
        holder="celery_task_id",
        ready=_open(IMP, IMP_STATUS),
        held=_running(IMP, IMP_STATUS),
        noun="dataset job",
    ),
}
STATUSES: dict[DatasetJobKind, Any] = {
    DatasetJobKind.GENERATION: GEN_STATUS,
    DatasetJobKind.IMPORT: IMP_STATUS,
}
# The counter each kind keeps besides num_signals: distinct fault classes generated
# (computed from the signals), files imported (reported by the worker).
COUNTER = {DatasetJobKind.GENERATION: "num_faults", DatasetJobKind.IMPORT: "num_files"}


def model_of(kind: DatasetJobKind) -> Any:
    return CLAIMS[kind].table


def kind_of(row: Any) -> DatasetJobKind:
    return DatasetJobKind.GENERATION if isinstance(row, GEN) else DatasetJobKind.IMPORT


def status_of(row: Any) -> DatasetJobStatus:
    return DatasetJobStatus(row.status.value)


def _status(kind: DatasetJobKind, status: DatasetJobStatus) -> Any:
    return STATUSES[kind][status.name]


@dataclass(frozen=True)
class SignalValues:
    signal_id: str
    fault_class: str | None = None
    severity: str | None = None
    file_path: str | None = None
    rms: float | None = None
    kurtosis: float | None = None
    dominant_frequency: float | None = None


@dataclass(frozen=True)
class DatasetValues:
    """The dataset a COMPLETED job leaves: created under ``name``, or, for a job
    that names a dataset, that dataset updated (``name`` then ignored)."""

    name: str | None
    description: str | None
    signals: Sequence[SignalValues]


@dataclass(frozen=True)
class Outcome:
    status: DatasetJobStatus
    error_message: str | None = None
    duration_seconds: float | None = None
    output_path: str | None = None
    num_files: int | None = None
    dataset: DatasetValues | None = None


def _text(value: str | None, field: str, max_length: int, *, required: bool = False) -> Any:
    if value is None or not value.strip():
        if required:
            raise BadRequest(f"{field} must not be empty", field=field)
        return None
    stripped = value.strip()
    if "\x00" in stripped or len(stripped) > max_length:
        raise BadRequest(
            f"{field} must be at most {max_length} characters without NUL", field=field
        )
    return stripped


def worker_id(value: str) -> str:
    text: str = _text(value, "workerId", WORKER_MAX, required=True)
    return text


async def create(
    session: AsyncSession,
    kind: DatasetJobKind,
    name: str,
    config: Any,
    dataset_id: int | None,
    created_by: int | None = None,
) -> Any:
    """A PENDING job of ``created_by`` (told when it ends); ``dataset_id``: the
    dataset it will update when it completes."""
    if config is not None and not isinstance(config, dict):
        raise BadRequest("config must be a JSON object", field="config")
    if dataset_id is not None:
        await catalog_service.get_dataset(session, dataset_id)
    values = {
        "name": _text(name, "name", NAME_MAX, required=True),
        "config": config or {},
        "dataset_id": dataset_id,
        "created_by": created_by,
    }
    check_rows(model_of(kind), values)
    row = model_of(kind)(**values)
    session.add(row)
    await session.flush()
    return row


async def claim(
    session: AsyncSession,
    dialect: str,
    kinds: Sequence[DatasetJobKind],
    worker: str,
    stale_seconds: int,
) -> Any:
    """The first claimable job of the first kind in ``kinds`` that has one, now
    RUNNING and held by ``worker`` (progress back at 0); None when there is none."""
    for kind in kinds:
        row = await CLAIMS[kind].claim_next(
            session,
            dialect,
            worker,
            stale_seconds,
            status=_status(kind, DatasetJobStatus.RUNNING),
            progress=0,
            updated_at=utcnow(),
        )
        if row is not None:
            return row
    return None


async def _refusal(
    session: AsyncSession, kind: DatasetJobKind, pk: int, holder: Holder, stale_seconds: int
) -> Exception:
    claims = CLAIMS[kind]
    row = await session.get(model_of(kind), pk, populate_existing=True)
    if row is None:
        return NotFound("no such dataset job", field="jobId")
    if row.status.value not in ("pending", "running"):
        return Conflict(
            f"this dataset job is {row.status.name} already: it takes no more reports",
            reason="FINISHED",
        )
    return await claims.refusal(session, pk, holder, stale_seconds)


async def report_progress(
    session: AsyncSession,
    kind: DatasetJobKind,
    pk: int,
    holder: Holder,
    progress: int,
    stale_seconds: int,
) -> Any:
    """The holder's progress (0..100; a value below the stored one keeps the
    stored one), refreshing its hold."""
    if not 0 <= progress <= 100:
        raise BadRequest("progress must be 0 to 100", field="progress")
    model = model_of(kind)
    row = await CLAIMS[kind].heartbeat(
        session,
        pk,
        holder,
        progress=case((model.progress < progress, progress), else_=model.progress),
        updated_at=utcnow(),
    )
    if row is None:
        raise await _refusal(session, kind, pk, holder, stale_seconds)
    return row


def _check_outcome(kind: DatasetJobKind, outcome: Outcome) -> None:
    if outcome.status not in (DatasetJobStatus.COMPLETED, DatasetJobStatus.FAILED):
        raise BadRequest("status must be COMPLETED or FAILED", field="status")
    if outcome.status is DatasetJobStatus.FAILED and outcome.dataset is not None:
        raise BadRequest("a FAILED job leaves no dataset: omit dataset", field="dataset")
    if outcome.num_files is not None and kind is not DatasetJobKind.IMPORT:
        raise BadRequest("numFiles is reported by import jobs only", field="numFiles")
    for value, field in (
        (outcome.num_files, "numFiles"),
        (outcome.duration_seconds, "durationSeconds"),
    ):
        if value is not None and value < 0:
            raise BadRequest(f"{field} must be 0 or more", field=field)
    if outcome.dataset is not None and len(outcome.dataset.signals) > MAX_SIGNALS:
        raise BadRequest(f"at most {MAX_SIGNALS} signals per job", field="dataset.signals")


async def finish(
    session: AsyncSession,
    kind: DatasetJobKind,
    pk: int,
    holder: Holder,
    outcome: Outcome,
    stale_seconds: int,
    created_by: int | None,
) -> Any:
    """End the holder's job as ``outcome`` says, releasing the claim; a COMPLETED
    job's dataset and signals, and the DATASET_JOB_COMPLETED / DATASET_JOB_FAILED
    event for the job's creator, are written in the same transaction."""
    _check_outcome(kind, outcome)
    claims = CLAIMS[kind]
    if not await claims.hold(session, pk, holder):  # the guard; locks the row (PostgreSQL)
        raise await _refusal(session, kind, pk, holder, stale_seconds)
    model = model_of(kind)  # (the row itself is read by release's RETURNING, once written)
    named = await session.scalar(select(model.dataset_id).where(model.id == pk))
    values: dict[str, Any] = {
        "status": _status(kind, outcome.status),
        "finished_at": utcnow(),
        "updated_at": utcnow(),
        "error_message": _text(outcome.error_message, "errorMessage", ERROR_MAX),
        "duration_seconds": outcome.duration_seconds,
        "output_path": _text(outcome.output_path, "outputPath", PATH_MAX),
    }
    if outcome.num_files is not None:
        values["num_files"] = outcome.num_files
    if outcome.status is DatasetJobStatus.COMPLETED:
        if outcome.dataset is None and named is None:
            raise BadRequest(
                "a COMPLETED job gives its dataset (this job names none to update)",
                field="dataset",
            )
        values["progress"] = 100
        if outcome.dataset is not None:
            dataset = await _write_dataset(session, named, outcome, created_by)
            values["dataset_id"] = dataset.id
            values["num_signals"] = len(outcome.dataset.signals)
            if kind is DatasetJobKind.GENERATION:
                classes = {s.fault_class for s in outcome.dataset.signals if s.fault_class}
                values["num_faults"] = len(classes)
    check_rows(model, {k: v for k, v in values.items() if k != "status"})
    row = await claims.release(session, pk, holder, **values)
    assert row is not None  # held just above, in this transaction
    completed = outcome.status is DatasetJobStatus.COMPLETED
    await emit(  # once: only the holder's release moves a RUNNING job
        session,
        EventType.DATASET_JOB_COMPLETED if completed else EventType.DATASET_JOB_FAILED,
        {
            "job_id": row.id,
            "kind": kind.name,
            "name": row.name,
            "status": outcome.status.name,
            "dataset_id": row.dataset_id,
            "error": row.error_message,
        },
        user_id=row.created_by,
    )
    return row


async def _write_dataset(
    session: AsyncSession, named: int | None, outcome: Outcome, created_by: int | None
) -> catalog.Dataset:
    given = outcome.dataset
    assert given is not None
    signals = [_signal_row(i, s) for i, s in enumerate(given.signals)]
    description = _text(given.description, "dataset.description", ERROR_MAX)
    if named is not None:
        dataset = await session.get(catalog.Dataset, named, with_for_update=True)
        if dataset is None:  # deleted since the job was created
            raise Conflict(
                "the dataset this job was to update was deleted", reason="DATASET_DELETED"
            )
        if description is not None:
            dataset.description = description
    else:
        name = _text(given.name, "dataset.name", NAME_MAX, required=True)
        dataset = await catalog_service.create_dataset(
            session, {"name": name, "description": description}, created_by
        )
    output_path = _text(outcome.output_path, "outputPath", PATH_MAX)
    if output_path is not None:
        dataset.file_path = output_path
    await _upsert_signals(session, dataset.id, signals)
    labels = (
        await session.execute(
            select(catalog.Signal.fault_class, catalog.Signal.severity)
            .where(catalog.Signal.dataset_id == dataset.id)
            .distinct()
        )
    ).all()
    count = (
        await session.scalars(
            select(catalog.Signal.id).where(catalog.Signal.dataset_id == dataset.id)
        )
    ).all()
    dataset.num_signals = len(count)
    dataset.fault_types = sorted({f for f, _ in labels if f is not None})
    dataset.severity_levels = sorted({s for _, s in labels if s is not None})
    await session.flush()
    return dataset


def _signal_row(i: int, given: SignalValues) -> dict[str, Any]:
    where = f"dataset.signals[{i}]"
    return {
        "signal_id": _text(given.signal_id, f"{where}.signalId", NAME_MAX, required=True),
        "fault_class": _text(given.fault_class, f"{where}.faultClass", 100),
        "severity": _text(given.severity, f"{where}.severity", 50),
        "file_path": _text(given.file_path, f"{where}.filePath", PATH_MAX),
        "rms": given.rms,
        "kurtosis": given.kurtosis,
        "dominant_frequency": given.dominant_frequency,
    }


async def _upsert_signals(
    session: AsyncSession, dataset_id: int, rows: list[dict[str, Any]]
) -> None:
    """A signal whose signalId the dataset holds already is updated (the oldest of
    that name); the others are added. A signalId given twice is refused."""
    names = [row["signal_id"] for row in rows]
    if len(set(names)) != len(names):
        raise BadRequest("a signalId is given twice", field="dataset.signals")
    check_rows(catalog.Signal, rows)
    existing: dict[str, catalog.Signal] = {}
    if names:
        found = await session.scalars(
            select(catalog.Signal)
            .where(catalog.Signal.dataset_id == dataset_id, catalog.Signal.signal_id.in_(names))
            .order_by(catalog.Signal.id.desc())
        )
        existing = {signal.signal_id: signal for signal in found}
    for row in rows:
        signal = existing.get(row["signal_id"])
        if signal is None:
            session.add(catalog.Signal(dataset_id=dataset_id, **row))
        else:
            for key, value in row.items():
                setattr(signal, key, value)
    await session.flush()


async def cancel(session: AsyncSession, kind: DatasetJobKind, pk: int) -> Any:
    """CANCELLED, from PENDING or RUNNING (its holder's claim dropped: its next
    report is refused); CONFLICT once finished."""
    model = model_of(kind)
    status = STATUSES[kind]
    row = (
        await session.scalars(
            update(model)
            .where(model.id == pk, model.status.in_((status.PENDING, status.RUNNING)))
            .values(
                status=status.CANCELLED,
                finished_at=utcnow(),
                updated_at=utcnow(),
                **CLAIMS[kind].released(),
            )
            .returning(model)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if row is not None:
        return row
    current = await session.get(model, pk)
    if current is None:
        raise NotFound("no such dataset job", field="jobId")
    raise Conflict(f"this dataset job is {current.status.name} already", reason="FINISHED")
