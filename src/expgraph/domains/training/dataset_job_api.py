"""Dataset jobs over GraphQL: the two listings, the job lifecycle mutations and
``datasetJobProgress``.

Creating and cancelling need WRITE; claiming, reporting and finishing are a
worker's and need EXECUTE (like claimExecution). Every change of a job is
announced on the ``dataset_jobs`` channel inside its write transaction
(``Broker.publish_in``: heard when it commits, never for a rolled-back write);
each ``datasetJobProgress`` subscriber re-reads its job and sends it when its
status, progress or claim changed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.claims import Holder
from expgraph.db.notify import changes
from expgraph.domains.catalog.models import Dataset as DatasetRecord
from expgraph.domains.training import dataset_jobs as jobs
from expgraph.domains.training.dataset_job_types import (
    CancelDatasetJobInput,
    ClaimDatasetJobInput,
    CreateDatasetJobInput,
    DatasetGeneration,
    DatasetImport,
    DatasetJob,
    DatasetJobFilter,
    DatasetJobResultInput,
    FinishDatasetJobInput,
    ReportDatasetJobProgressInput,
    filter_rules,
)
from expgraph.domains.training.dataset_jobs import DatasetJobKind, DatasetJobStatus
from expgraph.errors import BadRequest, NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.connections import paged
from expgraph.graphql.context import Context, Info
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import mutation, query_field, requires
from expgraph.graphql.relay import decode_id, model_pk, to_node

CHANNEL = "dataset_jobs"
KIND_OF_TYPE = {
    "DatasetGeneration": DatasetJobKind.GENERATION,
    "DatasetImport": DatasetJobKind.IMPORT,
}
FINISHED = {DatasetJobStatus.COMPLETED, DatasetJobStatus.FAILED, DatasetJobStatus.CANCELLED}


def job_key(global_id: str) -> tuple[DatasetJobKind, int]:
    """The kind and primary key a DatasetGeneration or DatasetImport id names."""
    type_name, _ = decode_id(global_id)
    kind = KIND_OF_TYPE.get(type_name)
    if kind is None:
        raise BadRequest(
            f"id {global_id!r} is not a DatasetGeneration or DatasetImport id", field="jobId"
        )
    return kind, model_pk(global_id, jobs.model_of(kind))


def _message(kind: DatasetJobKind, pk: int) -> str:
    return f"{kind.value}:{pk}"


async def announce(context: Context, session: AsyncSession, row: Any) -> None:
    """Tell datasetJobProgress subscribers that ``row`` changed, when ``session``
    commits."""
    if context.broker is not None:
        await context.broker.publish_in(session, CHANNEL, _message(jobs.kind_of(row), row.id))


def _holder(worker_id: str, fencing_token: Any) -> Holder:
    return Holder(worker_id=jobs.worker_id(worker_id), fencing_token=int(fencing_token))


def _dataset(given: DatasetJobResultInput | None) -> jobs.DatasetValues | None:
    if given is None:
        return None
    signals = [
        jobs.SignalValues(
            signal_id=s.signal_id,
            fault_class=s.fault_class,
            severity=s.severity,
            file_path=s.file_path,
            rms=s.rms,
            kurtosis=s.kurtosis,
            dominant_frequency=s.dominant_frequency,
        )
        for s in given.signals
    ]
    return jobs.DatasetValues(name=given.name, description=given.description, signals=signals)


@strawberry.type(description="The result of a dataset job mutation.")
class DatasetJobPayload:
    job: DatasetJob = strawberry.field(description="The job as it is now.")


@strawberry.type(description="The result of claimDatasetJob.")
class ClaimDatasetJobPayload:
    job: DatasetJob | None = strawberry.field(
        description=(
            "The claimed job, RUNNING and held by the caller (send its fencingToken with every "
            "later call); null when no job is claimable."
        )
    )


async def _create(info: Info, kind: DatasetJobKind, input: CreateDatasetJobInput) -> Any:
    dataset_id = None if input.dataset_id is None else model_pk(input.dataset_id, DatasetRecord)
    async with info.context.db.transaction() as session:
        row = await jobs.create(
            session, kind, input.name, input.config, dataset_id, info.context.principal.user_id
        )
        await announce(info.context, session, row)
    return row


@strawberry.type
class Query:
    @query_field(description="Dataset generation jobs, oldest first.")
    @paged(
        DatasetGeneration,
        jobs.GEN,
        (SortKey("id"),),
        filter=DatasetJobFilter,
        rules=filter_rules(DatasetJobKind.GENERATION),
    )
    def dataset_generations(self, info: Info) -> Select[Any]:
        return select(jobs.GEN)

    @query_field(description="Dataset import jobs, oldest first.")
    @paged(
        DatasetImport,
        jobs.IMP,
        (SortKey("id"),),
        filter=DatasetJobFilter,
        rules=filter_rules(DatasetJobKind.IMPORT),
    )
    def dataset_imports(self, info: Info) -> Select[Any]:
        return select(jobs.IMP)


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.WRITE,
        description="Create a PENDING job generating a synthetic dataset, for a worker to claim.",
    )
    async def create_dataset_generation(
        self, info: Info, input: CreateDatasetJobInput
    ) -> DatasetJobPayload:
        row = await _create(info, DatasetJobKind.GENERATION, input)
        return DatasetJobPayload(job=to_node(row))

    @mutation(
        permission=Permission.WRITE,
        description="Create a PENDING job importing files into a dataset, for a worker to claim.",
    )
    async def create_dataset_import(
        self, info: Info, input: CreateDatasetJobInput
    ) -> DatasetJobPayload:
        row = await _create(info, DatasetJobKind.IMPORT, input)
        return DatasetJobPayload(job=to_node(row))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Claim the oldest claimable dataset job (of the kind given; left out, generations "
            "before imports): a PENDING one, or a RUNNING one whose holder has not reported for "
            "the execution stale time (taken over: its old holder's token stops working). The "
            "job becomes RUNNING with progress 0 and a new fencingToken. Concurrent claimers "
            "never get the same job; null when none is claimable."
        ),
    )
    async def claim_dataset_job(
        self, info: Info, input: ClaimDatasetJobInput
    ) -> ClaimDatasetJobPayload:
        ctx = info.context
        worker = jobs.worker_id(input.worker_id)
        kinds = [input.kind] if input.kind is not None else list(DatasetJobKind)
        async with ctx.db.transaction() as session:
            row = await jobs.claim(
                session, ctx.db.dialect, kinds, worker, ctx.settings.execution_stale_seconds
            )
            if row is not None:
                await announce(ctx, session, row)
        return ClaimDatasetJobPayload(job=None if row is None else to_node(row))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Report a held job's progress (0 to 100, else BAD_REQUEST), refreshing the claim. "
            "Only the holder with its current fencingToken: anyone else is a CONFLICT whose "
            "extensions.reason says why (TAKEN_OVER, STALE_TOKEN, RELEASED, UNKNOWN_TOKEN, or "
            "FINISHED for a job that ended)."
        ),
    )
    async def report_dataset_job_progress(
        self, info: Info, input: ReportDatasetJobProgressInput
    ) -> DatasetJobPayload:
        ctx = info.context
        kind, pk = job_key(input.job_id)
        holder = _holder(input.worker_id, input.fencing_token)
        async with ctx.db.transaction() as session:
            row = await jobs.report_progress(
                session, kind, pk, holder, input.progress, ctx.settings.execution_stale_seconds
            )
            await announce(ctx, session, row)
        return DatasetJobPayload(job=to_node(row))

    @mutation(
        permission=Permission.EXECUTE,
        description=(
            "Finish a held job COMPLETED or FAILED, releasing the claim (only its holder, as "
            "for reportDatasetJobProgress). COMPLETED writes, in the same transaction, the "
            "job's dataset (created under dataset.name, or the dataset the job names updated) "
            "and its signals, and sets the dataset's numSignals, faultTypes and severityLevels "
            "from all its signals; nothing is written when the call answers an error."
        ),
    )
    async def finish_dataset_job(
        self, info: Info, input: FinishDatasetJobInput
    ) -> DatasetJobPayload:
        ctx = info.context
        kind, pk = job_key(input.job_id)
        holder = _holder(input.worker_id, input.fencing_token)
        outcome = jobs.Outcome(
            status=DatasetJobStatus[input.status.name],
            error_message=input.error_message,
            duration_seconds=input.duration_seconds,
            output_path=input.output_path,
            num_files=input.num_files,
            dataset=_dataset(input.dataset),
        )
        async with ctx.db.transaction() as session:
            row = await jobs.finish(
                session,
                kind,
                pk,
                holder,
                outcome,
                ctx.settings.execution_stale_seconds,
                ctx.principal.user_id,
            )
            await announce(ctx, session, row)
        return DatasetJobPayload(job=to_node(row))

    @mutation(
        permission=Permission.WRITE,
        description=(
            "Cancel a PENDING or RUNNING job (its holder's next call is a CONFLICT); a job "
            "that already ended is a CONFLICT."
        ),
    )
    async def cancel_dataset_job(
        self, info: Info, input: CancelDatasetJobInput
    ) -> DatasetJobPayload:
        kind, pk = job_key(input.job_id)
        async with info.context.db.transaction() as session:
            row = await jobs.cancel(session, kind, pk)
            await announce(info.context, session, row)
        return DatasetJobPayload(job=to_node(row))


async def _read(context: Context, kind: DatasetJobKind, pk: int) -> Any:
    async with context.db.read() as session:
        return await session.get(jobs.model_of(kind), pk, populate_existing=True)


def _state(row: Any) -> tuple[Any, ...]:
    return (row.status, row.progress, row.celery_task_id, row.fencing_token, row.updated_at)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[requires(Permission.READ)],
        description=(
            "A dataset job as it runs: sent once when subscribing, then each time its status, "
            "progress or claim changes; the stream ends after the job is COMPLETED, FAILED or "
            "CANCELLED. An unknown job is NOT_FOUND."
        ),
    )
    async def dataset_job_progress(
        self,
        info: Info,
        job_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A DatasetGeneration or DatasetImport id."),
        ],
    ) -> AsyncGenerator[DatasetJob, None]:
        kind, pk = job_key(job_id)
        context = info.context
        assert context.broker is not None

        async def read() -> Any:
            row = await _read(context, kind, pk)
            if row is None:
                raise NotFound("no such dataset job", field="jobId")
            return row

        async for row in changes(
            context.broker,
            CHANNEL,
            _message(kind, pk).__eq__,
            read,
            _state,
            done=lambda row: jobs.status_of(row) in FINISHED,
        ):
            yield to_node(row)
