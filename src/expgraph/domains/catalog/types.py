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
    return node_field(RowsById(UserRecord), "created_by", UserT)


def _dataset() -> Any:
    return node_field(RowsById(models.Dataset), "dataset_id", DatasetT, nullable=False)


VERSIONS = Relation(models.DatasetVersion, "dataset_id")
EXAMPLES = Relation(models.DatasetExample, "dataset_id")
VERSION_EXAMPLES = Relation(models.DatasetExample, "dataset_version_id")
SIGNALS = Relation(models.Signal, "dataset_id")
TAGGED = Through(models.ExperimentTag, "tag_id", "experiment_id")


@node_type(models.DatasetExample, read=Public, renames=META)
@strawberry.type(description="One example of a dataset: input, expected output, metadata.")
class DatasetExample(Node):
    id: strawberry.ID
    input: JSON
    output: JSON
    metadata: JSON
    created_at: datetime
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
    id: strawberry.ID
    description: str | None
    metadata: JSON
    created_at: datetime
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
    id: strawberry.ID
    signal_id: str
    fault_class: str | None
    severity: str | None
    file_path: str | None
    rms: float | None
    kurtosis: float | None
    dominant_frequency: float | None
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.Signal]
    dataset: DatasetT = _dataset()


@node_type(models.Dataset, read=Public, renames=META)
@strawberry.type(
    description="A dataset: versions of examples (for evaluations) and recorded signals."
)
class Dataset(Node):
    id: strawberry.ID
    name: str
    description: str | None
    metadata: JSON
    num_signals: int
    fault_types: JSON | None
    severity_levels: JSON | None
    file_path: str | None
    created_at: datetime
    updated_at: datetime
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
    id: strawberry.ID
    name: str
    slug: str
    color: str | None
    usage_count: int = strawberry.field(
        description="How many experiments carry it, deleted experiments not counted."
    )
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.Tag]
    created_by: UserT | None = _created_by()
    experiments = experiments_field(through=TAGGED, description="Experiments with this tag.")


# --- filters and orderings -------------------------------------------------------


@strawberry.input(description="Conditions on tags.")
class TagFilter:
    name_contains: str | None = None
    slugs: list[str] | None = capped(200, default=None)
    and_: list[TagFilter] | None = strawberry.field(name="and", default=None)
    or_: list[TagFilter] | None = strawberry.field(name="or", default=None)
    not_: TagFilter | None = strawberry.field(name="not", default=None)


@strawberry.enum
class TagOrderField(enum.Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    USAGE_COUNT = "usage_count"


@strawberry.input
class TagOrder:
    field: TagOrderField
    direction: SortDirection = SortDirection.ASC


TAG_RULES: dict[str, Rule] = {
    "name_contains": lambda v: models.Tag.name.ilike(f"%{escape_like(v)}%", escape="\\"),
    "slugs": lambda v: models.Tag.slug.in_(v),
}
TAG_ORDERING = Ordering({f: f.value for f in TagOrderField}, (SortKey("name"),))


@strawberry.input(description="Conditions on datasets.")
class DatasetFilter:
    name_contains: str | None = None
    created_by_id: strawberry.ID | None = None
    and_: list[DatasetFilter] | None = strawberry.field(name="and", default=None)
    or_: list[DatasetFilter] | None = strawberry.field(name="or", default=None)
    not_: DatasetFilter | None = strawberry.field(name="not", default=None)


@strawberry.enum
class DatasetOrderField(enum.Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"


@strawberry.input
class DatasetOrder:
    field: DatasetOrderField
    direction: SortDirection = SortDirection.ASC


DATASET_RULES: dict[str, Rule] = {
    "name_contains": lambda v: models.Dataset.name.ilike(f"%{escape_like(v)}%", escape="\\"),
    "created_by_id": lambda v: models.Dataset.created_by == model_pk(v, UserRecord),
}
DATASET_ORDERING = Ordering(
    {f: f.value for f in DatasetOrderField}, (SortKey("created_at", descending=True),)
)
