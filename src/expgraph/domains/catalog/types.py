"""GraphQL types for the catalog: datasets, versions, examples, signals, tags."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from expgraph.domains.accounts.models import User as UserRecord
from expgraph.domains.catalog import models
from expgraph.domains.experiments.fields import experiments_field
from expgraph.graphql.bounds import capped
from expgraph.graphql.connections import connection_field
from expgraph.graphql.filters import Ordering, Rule, SortDirection, escape_like
from expgraph.graphql.loaders import Relation, RowsById, Through
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, model_pk, node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public

if TYPE_CHECKING:
    from expgraph.domains.accounts.types import User

UserT = Annotated["User", strawberry.lazy("expgraph.domains.accounts.types")]
# This module's own types, for fields declared before the type they show.
DatasetT = Annotated["Dataset", strawberry.lazy(__name__)]
DatasetVersionT = Annotated["DatasetVersion", strawberry.lazy(__name__)]
META = {"metadata": "metadata_"}
OLDEST_FIRST = (SortKey("created_at"),)


def _created_by() -> Any:
    return node_field(
        RowsById(UserRecord),
        "created_by",
        UserT,
        description="Who created it; null when unknown or not visible to you.",
    )


def _dataset() -> Any:
    return node_field(
        RowsById(models.Dataset),
        "dataset_id",
        DatasetT,
        nullable=False,
        description="The dataset it belongs to.",
    )


VERSIONS = Relation(models.DatasetVersion, "dataset_id")
EXAMPLES = Relation(models.DatasetExample, "dataset_id")
VERSION_EXAMPLES = Relation(models.DatasetExample, "dataset_version_id")
SIGNALS = Relation(models.Signal, "dataset_id")
TAGGED = Through(models.ExperimentTag, "tag_id", "experiment_id")


@node_type(models.DatasetExample, read=Public, renames=META)
@strawberry.type(description="One example of a dataset: input, expected output, metadata.")
class DatasetExample(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    input: JSON = strawberry.field(description="What the experiment is given, a JSON object.")
    output: JSON = strawberry.field(
        description="The expected output, a JSON object ({} when none)."
    )
    metadata: JSON = strawberry.field(description="Free-form JSON object.")
    created_at: datetime = strawberry.field(description="When it was added.")
    record: strawberry.Private[models.DatasetExample]
    dataset: DatasetT = _dataset()
    version: DatasetVersionT = node_field(
        RowsById(models.DatasetVersion),
        "dataset_version_id",
        DatasetVersionT,
        nullable=False,
        description="The version that added it.",
    )


@node_type(models.DatasetVersion, read=Public, renames=META)
@strawberry.type(description="A version of a dataset; examples are added in a version.")
class DatasetVersion(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    description: str | None = strawberry.field(
        description="What changed in this version, when given."
    )
    metadata: JSON = strawberry.field(description="Free-form JSON object.")
    created_at: datetime = strawberry.field(description="When it was created.")
    record: strawberry.Private[models.DatasetVersion]
    dataset: DatasetT = _dataset()

    examples = connection_field(
        VERSION_EXAMPLES,
        DatasetExample,
        OLDEST_FIRST,
        description="Examples added in this version.",
    )


@node_type(models.Signal, read=Public)
@strawberry.type(
    description="A recorded signal of a dataset: its file, fault class, severity and measures."
)
class Signal(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    signal_id: str = strawberry.field(description="The signal's identifier in the source data.")
    fault_class: str | None = strawberry.field(description="The fault it shows, when labelled.")
    severity: str | None = strawberry.field(description="How severe the fault is, when labelled.")
    file_path: str | None = strawberry.field(
        description="Where its recording is stored, when on disk."
    )
    rms: float | None = strawberry.field(
        description="Root mean square amplitude, in the recording's units."
    )
    kurtosis: float | None = strawberry.field(description="Kurtosis of the amplitude distribution.")
    dominant_frequency: float | None = strawberry.field(
        description="Strongest frequency component, in hertz."
    )
    created_at: datetime = strawberry.field(description="When it was recorded here.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    record: strawberry.Private[models.Signal]
    dataset: DatasetT = _dataset()


@node_type(models.Dataset, read=Public, renames=META)
@strawberry.type(
    description="A dataset: versions of examples (for evaluations) and recorded signals."
)
class Dataset(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    name: str = strawberry.field(description="Display name, unique.")
    description: str | None = strawberry.field(description="Free text, when given.")
    metadata: JSON = strawberry.field(description="Free-form JSON object.")
    num_signals: int = strawberry.field(
        description="How many recorded signals it holds, as declared at creation."
    )
    fault_types: JSON | None = strawberry.field(
        description="The fault classes its signals cover, a JSON list, when given."
    )
    severity_levels: JSON | None = strawberry.field(
        description="The severity levels its signals cover, a JSON list, when given."
    )
    file_path: str | None = strawberry.field(
        description="Where its files are stored, when on disk."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    record: strawberry.Private[models.Dataset]
    created_by: UserT | None = _created_by()
    experiments = experiments_field(
        parent_attr="dataset_id", description="Experiments that use this dataset."
    )

    versions = connection_field(
        VERSIONS, DatasetVersion, OLDEST_FIRST, description="Its versions, oldest first."
    )

    examples = connection_field(
        EXAMPLES,
        DatasetExample,
        OLDEST_FIRST,
        description="Its examples across all versions, oldest first.",
    )

    signals = connection_field(
        SIGNALS, Signal, OLDEST_FIRST, description="Its signals, oldest first."
    )


@node_type(models.Tag, read=Public)
@strawberry.type(description="A label for experiments.")
class Tag(Node):
    id: strawberry.ID = strawberry.field(description="Global ID.")
    name: str = strawberry.field(description="Display name, unique.")
    slug: str = strawberry.field(
        description="URL-safe form of the name (lower-case letters, digits, dashes), unique."
    )
    color: str | None = strawberry.field(description="Display color as #rrggbb, when set.")
    usage_count: int = strawberry.field(
        description="How many experiments carry it, deleted experiments not counted."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    record: strawberry.Private[models.Tag]
    created_by: UserT | None = _created_by()
    experiments = experiments_field(through=TAGGED, description="Experiments with this tag.")


# --- filters and orderings -------------------------------------------------------


@strawberry.input(description="Conditions on tags.")
class TagFilter:
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name."
    )
    slugs: list[str] | None = capped(200, default=None, description="Has one of these slugs.")
    and_: list[TagFilter] | None = strawberry.field(
        name="and", default=None, description="Matches every one of these conditions."
    )
    or_: list[TagFilter] | None = strawberry.field(
        name="or", default=None, description="Matches at least one of these conditions."
    )
    not_: TagFilter | None = strawberry.field(
        name="not", default=None, description="Does not match this condition."
    )


@strawberry.enum(description="What tags can be sorted by.")
class TagOrderField(enum.Enum):
    NAME = strawberry.enum_value("name", description="Name, alphabetically.")
    CREATED_AT = strawberry.enum_value("created_at", description="When the tag was created.")
    USAGE_COUNT = strawberry.enum_value(
        "usage_count", description="How many live experiments carry it."
    )


@strawberry.input(description="One sort key for tags; list several to break ties.")
class TagOrder:
    field: TagOrderField = strawberry.field(description="What to sort by.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending unless given."
    )


TAG_RULES: dict[str, Rule] = {
    "name_contains": lambda v: models.Tag.name.ilike(f"%{escape_like(v)}%", escape="\\"),
    "slugs": lambda v: models.Tag.slug.in_(v),
}
TAG_ORDERING = Ordering({f: str(f.value) for f in TagOrderField}, (SortKey("name"),))


@strawberry.input(description="Conditions on datasets.")
class DatasetFilter:
    name_contains: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the name."
    )
    created_by_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global ID of the user who created it."
    )
    and_: list[DatasetFilter] | None = strawberry.field(
        name="and", default=None, description="Matches every one of these conditions."
    )
    or_: list[DatasetFilter] | None = strawberry.field(
        name="or", default=None, description="Matches at least one of these conditions."
    )
    not_: DatasetFilter | None = strawberry.field(
        name="not", default=None, description="Does not match this condition."
    )


@strawberry.enum(description="What datasets can be sorted by.")
class DatasetOrderField(enum.Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="When the dataset was created.")
    UPDATED_AT = strawberry.enum_value(
        "updated_at", description="When the dataset was last changed."
    )
    NAME = strawberry.enum_value("name", description="Name, alphabetically.")


@strawberry.input(description="One sort key for datasets; list several to break ties.")
class DatasetOrder:
    field: DatasetOrderField = strawberry.field(description="What to sort by.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending unless given."
    )


DATASET_RULES: dict[str, Rule] = {
    "name_contains": lambda v: models.Dataset.name.ilike(f"%{escape_like(v)}%", escape="\\"),
    "created_by_id": lambda v: models.Dataset.created_by == model_pk(v, UserRecord),
}
DATASET_ORDERING = Ordering(
    {f: str(f.value) for f in DatasetOrderField}, (SortKey("created_at", descending=True),)
)
