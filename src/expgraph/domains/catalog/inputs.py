"""Mutation inputs for the catalog."""

from __future__ import annotations

import strawberry
from strawberry.types.unset import UNSET

from expgraph.domains.catalog.service import MAX_EXAMPLES_PER_CALL
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON


@strawberry.input(description="A new tag.")
class CreateTagInput:
    name: str = strawberry.field(
        description="Display name, unique, at most 50 characters; the slug is made from it."
    )
    color: str | None = strawberry.field(default=None, description="#rrggbb")


@strawberry.input(description="Changes to a tag; only the fields given change.")
class UpdateTagInput:
    id: strawberry.ID = strawberry.field(description="Global ID of the tag.")
    name: str | None = strawberry.field(
        default=UNSET,
        description="New name (the slug follows); leave out to keep, null is refused.",
    )
    color: str | None = strawberry.field(
        default=UNSET, description="New color as #rrggbb; null clears it, leave out to keep."
    )


@strawberry.input(description="Names a tag.")
class TagIdInput:
    id: strawberry.ID = strawberry.field(description="Global ID of the tag.")


@strawberry.input(description="A new dataset.")
class CreateDatasetInput:
    name: str = strawberry.field(description="Display name, unique, at most 255 characters.")
    description: str | None = strawberry.field(
        default=None, description="Free text, at most 10,000 characters."
    )
    metadata: JSON | None = strawberry.field(
        default=None, description="Any JSON object; {} when null."
    )
    num_signals: int = strawberry.field(
        default=0, description="How many recorded signals the dataset holds."
    )
    fault_types: JSON | None = strawberry.field(
        default=None, description="The fault classes its signals cover, as a JSON list."
    )
    severity_levels: JSON | None = strawberry.field(
        default=None, description="The severity levels its signals cover, as a JSON list."
    )
    file_path: str | None = strawberry.field(
        default=None, description="Where the dataset's files are stored, when on disk."
    )


@strawberry.input(description="A new version of a dataset.")
class CreateDatasetVersionInput:
    dataset_id: strawberry.ID = strawberry.field(description="Global ID of the dataset.")
    description: str | None = strawberry.field(
        default=None, description="What changed in this version; at most 10,000 characters."
    )
    metadata: JSON | None = strawberry.field(
        default=None, description="Any JSON object; {} when null."
    )


@strawberry.input(description="One example to add.")
class DatasetExampleInput:
    input: JSON = strawberry.field(description="What the experiment is given, a JSON object.")
    output: JSON | None = strawberry.field(
        default=None, description="The expected output, a JSON object; {} when null."
    )
    metadata: JSON | None = strawberry.field(
        default=None, description="Any JSON object; {} when null."
    )


@strawberry.input(
    description="A batch of examples for one version of a dataset, added all or none."
)
class AddDatasetExamplesInput:
    dataset_id: strawberry.ID = strawberry.field(description="Global ID of the dataset.")
    dataset_version_id: strawberry.ID = strawberry.field(
        description="Global ID of the version to add to; it must be one of the dataset's."
    )
    examples: list[DatasetExampleInput] = capped(
        MAX_EXAMPLES_PER_CALL, description="The examples; at least one."
    )


@strawberry.input(description="An experiment and a tag to link or unlink.")
class ExperimentTagInput:
    experiment_id: strawberry.ID = strawberry.field(description="Global ID of the experiment.")
    tag_id: strawberry.ID = strawberry.field(description="Global ID of the tag.")
