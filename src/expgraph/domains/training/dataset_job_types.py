"""GraphQL types of dataset jobs: the ``DatasetJob`` interface, its two node types
(``DatasetGeneration``, ``DatasetImport``), their enums, filter and inputs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import String, literal_column

from expgraph.domains.catalog.models import Dataset as DatasetRecord
from expgraph.domains.training import models
from expgraph.domains.training.dataset_jobs import (
    COUNTER,
    MAX_SIGNALS,
    STATUSES,
    DatasetJobKind,
    DatasetJobStatus,
    kind_of,
    model_of,
    status_of,
)
from expgraph.graphql.bounds import capped
from expgraph.graphql.enums import described_enum
from expgraph.graphql.filters import Rule
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.prefetch import computed, node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public

if TYPE_CHECKING:
    from expgraph.domains.catalog.types import Dataset

DatasetT = Annotated["Dataset", strawberry.lazy("expgraph.domains.catalog.types")]
RENAMES = {"worker_id": "celery_task_id"}

described_enum(
    DatasetJobKind,
    "Which kind of dataset job: generating a synthetic dataset or importing files.",
    {
        DatasetJobKind.GENERATION: "A dataset generation (createDatasetGeneration).",
        DatasetJobKind.IMPORT: "A dataset import (createDatasetImport).",
    },
)

described_enum(
    DatasetJobStatus,
    "Where a dataset job is in its life.",
    {
        DatasetJobStatus.PENDING: "Created, waiting for a worker to claim it.",
        DatasetJobStatus.RUNNING: (
            "Claimed by a worker (workerId); claimable again once its claim goes stale."
        ),
        DatasetJobStatus.COMPLETED: "Finished; its dataset and signals are written.",
        DatasetJobStatus.FAILED: "Finished without a dataset (errorMessage says why).",
        DatasetJobStatus.CANCELLED: "Cancelled before it finished.",
    },
)


class DatasetJobOutcome(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"


described_enum(
    DatasetJobOutcome,
    "How a worker ends a dataset job.",
    {
        DatasetJobOutcome.COMPLETED: "It succeeded: the job's dataset and signals are written.",
        DatasetJobOutcome.FAILED: "It failed: nothing is written but the job's status and error.",
    },
)


def _kind_sql(row: Any) -> Any:
    """``kind`` in SQL: a constant, told by the counter column only the row's
    table has (``COUNTER``: num_faults for generations, num_files for imports)."""
    kinds = [kind for kind, counter in COUNTER.items() if hasattr(row, counter)]
    if len(kinds) != 1:
        raise TypeError("not a dataset job's columns")
    return literal_column(f"'{kinds[0].value}'", String())


@strawberry.interface(
    description=(
        "A dataset job (a generation or an import): created PENDING, claimed by a worker "
        "(RUNNING), which reports progress and finishes it COMPLETED (writing its dataset and "
        "signals) or FAILED."
    )
)
class DatasetJob(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    name: str = strawberry.field(description="Display name, as given at creation.")
    config: JSON = strawberry.field(
        description="What the worker is to do, a JSON object, as given at creation."
    )
    progress: int = strawberry.field(
        description=(
            "Percent done, 0 to 100, as the holder last reported it (never lower within one "
            "claim; 0 again when a worker claims or takes the job over; 100 once COMPLETED)."
        )
    )
    num_signals: int | None = strawberry.field(
        description="How many signals the finished job wrote; null until it completes."
    )
    output_path: str | None = strawberry.field(
        description="Where the job wrote its files, as the worker reported; null when not."
    )
    duration_seconds: float | None = strawberry.field(
        description="How long the work took in seconds, as the worker reported; null when not."
    )
    error_message: str | None = strawberry.field(
        description="Why it failed, as the worker reported; null otherwise."
    )
    worker_id: str | None = strawberry.field(
        description=(
            "The worker holding the claim (the seed's celery task id); null when no worker "
            "holds it."
        )
    )
    claimed_at: datetime | None = strawberry.field(
        description="The holder's last claim or progress report; null when no worker holds it."
    )
    fencing_token: BigInt = strawberry.field(
        description="Grows by one with every claim; a worker sends its claim's token back."
    )
    finished_at: datetime | None = strawberry.field(
        description="When it was finished or cancelled; null before."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    record: strawberry.Private[Any]
    dataset: DatasetT | None = node_field(
        RowsById(DatasetRecord),
        "dataset_id",
        DatasetT,
        description=(
            "The dataset it writes: the one named at creation, else the one it created on "
            "completion; null before, or when that dataset was deleted."
        ),
    )

    @strawberry.field(description="Which kind of job it is.")
    @computed(lambda row, _settings: _kind_sql(row))
    def kind(self) -> DatasetJobKind:
        return kind_of(self.record)

    @strawberry.field(description="Where the job is in its life.")
    @computed(lambda row, _settings: row.status)
    def status(self) -> DatasetJobStatus:
        return status_of(self.record)


@node_type(models.DatasetGeneration, read=Public, renames=RENAMES)
@strawberry.type(description="A job generating a synthetic dataset of signals.")
class DatasetGeneration(DatasetJob):
    num_faults: int | None = strawberry.field(
        description=(
            "How many distinct fault classes the signals it wrote carry; null until it completes."
        )
    )
    record: strawberry.Private[models.DatasetGeneration]


@node_type(models.DatasetImport, read=Public, renames=RENAMES)
@strawberry.type(description="A job importing files into a dataset of signals.")
class DatasetImport(DatasetJob):
    num_files: int | None = strawberry.field(
        description="How many files it imported, as the worker reported; null until then."
    )
    record: strawberry.Private[models.DatasetImport]


NODE_TYPES: dict[DatasetJobKind, Any] = {
    DatasetJobKind.GENERATION: DatasetGeneration,
    DatasetJobKind.IMPORT: DatasetImport,
}


@strawberry.input(description="Conditions on dataset jobs; all given must hold.")
class DatasetJobFilter:
    statuses: list[DatasetJobStatus] | None = capped(
        len(DatasetJobStatus),
        default=None,
        description="Only jobs in one of these statuses.",
    )


def filter_rules(kind: DatasetJobKind) -> dict[str, Rule]:
    model, status = model_of(kind), STATUSES[kind]

    def statuses(values: list[DatasetJobStatus]) -> Any:
        return model.status.in_([status[value.name] for value in values])

    return {"statuses": statuses}


@strawberry.input(description="A new dataset job.")
class CreateDatasetJobInput:
    name: str = strawberry.field(description="Display name, 1 to 255 characters.")
    config: JSON | None = strawberry.field(
        default=None, description="What the worker is to do, a JSON object ({} when left out)."
    )
    dataset_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "An existing dataset the job updates when it completes; left out, the job creates "
            "the dataset its worker names."
        ),
    )


@strawberry.input(description="Claim the next dataset job.")
class ClaimDatasetJobInput:
    worker_id: str = strawberry.field(
        description="Who claims, 1 to 255 characters; send it back with every later call."
    )
    kind: DatasetJobKind | None = strawberry.field(
        default=None, description="Only jobs of this kind; left out, generations before imports."
    )


@strawberry.input(description="Progress of a claimed dataset job, from its holder.")
class ReportDatasetJobProgressInput:
    job_id: strawberry.ID = strawberry.field(description="The DatasetGeneration or DatasetImport.")
    worker_id: str = strawberry.field(description="The worker holding the claim.")
    fencing_token: BigInt = strawberry.field(description="The token its claim got.")
    progress: int = strawberry.field(
        description="Percent done, 0 to 100; a value below the stored one keeps the stored one."
    )


@strawberry.input(description="A signal a completed dataset job wrote.")
class DatasetJobSignalInput:
    signal_id: str = strawberry.field(
        description=(
            "The signal's identifier, 1 to 255 characters, unique in the call; a signal of this "
            "identifier already in the dataset is updated, else one is added."
        )
    )
    fault_class: str | None = strawberry.field(
        default=None, description="The fault it shows, at most 100 characters."
    )
    severity: str | None = strawberry.field(
        default=None, description="How severe the fault is, at most 50 characters."
    )
    file_path: str | None = strawberry.field(
        default=None, description="Where its recording is stored, at most 500 characters."
    )
    rms: float | None = strawberry.field(default=None, description="Root mean square amplitude.")
    kurtosis: float | None = strawberry.field(default=None, description="Kurtosis.")
    dominant_frequency: float | None = strawberry.field(
        default=None, description="Strongest frequency component, in hertz."
    )


@strawberry.input(description="The dataset a completed job leaves.")
class DatasetJobResultInput:
    name: str | None = strawberry.field(
        default=None,
        description=(
            "The new dataset's name, unique (a name in use is a CONFLICT); required unless the "
            "job names a dataset to update, ignored when it does."
        ),
    )
    description: str | None = strawberry.field(
        default=None, description="The dataset's description; left out, unchanged."
    )
    signals: list[DatasetJobSignalInput] = capped(
        MAX_SIGNALS, default_factory=list, description="Its signals written by the job."
    )


@strawberry.input(description="The end of a claimed dataset job, from its holder.")
class FinishDatasetJobInput:
    job_id: strawberry.ID = strawberry.field(description="The DatasetGeneration or DatasetImport.")
    worker_id: str = strawberry.field(description="The worker holding the claim.")
    fencing_token: BigInt = strawberry.field(description="The token its claim got.")
    status: DatasetJobOutcome = strawberry.field(description="How it ended.")
    error_message: str | None = strawberry.field(
        default=None, description="Why it failed, at most 10,000 characters."
    )
    duration_seconds: float | None = strawberry.field(
        default=None, description="How long the work took in seconds, 0 or more."
    )
    output_path: str | None = strawberry.field(
        default=None,
        description="Where its files are, at most 500 characters (also the dataset's filePath).",
    )
    num_files: int | None = strawberry.field(
        default=None, description="Imports only: how many files were imported, 0 or more."
    )
    dataset: DatasetJobResultInput | None = strawberry.field(
        default=None,
        description=(
            "COMPLETED only: the dataset and signals to write (required unless the job names a "
            "dataset to update)."
        ),
    )


@strawberry.input(description="Cancel a dataset job.")
class CancelDatasetJobInput:
    job_id: strawberry.ID = strawberry.field(description="The DatasetGeneration or DatasetImport.")
