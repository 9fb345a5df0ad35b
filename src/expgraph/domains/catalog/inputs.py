"""Mutation inputs for the catalog."""

from __future__ import annotations

import strawberry
from strawberry.types.unset import UNSET

from expgraph.domains.catalog.service import MAX_EXAMPLES_PER_CALL
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON


@strawberry.input
class CreateTagInput:
    name: str
    color: str | None = strawberry.field(default=None, description="#rrggbb")


@strawberry.input
class UpdateTagInput:
    id: strawberry.ID
    name: str | None = UNSET
    color: str | None = UNSET


@strawberry.input
class TagIdInput:
    id: strawberry.ID


@strawberry.input
class CreateDatasetInput:
    name: str
    description: str | None = None
    metadata: JSON | None = None
    num_signals: int = 0
    fault_types: JSON | None = None
    severity_levels: JSON | None = None
    file_path: str | None = None


@strawberry.input
class CreateDatasetVersionInput:
    dataset_id: strawberry.ID
    description: str | None = None
    metadata: JSON | None = None


@strawberry.input
class DatasetExampleInput:
    input: JSON
    output: JSON | None = None
    metadata: JSON | None = None


@strawberry.input
class AddDatasetExamplesInput:
    dataset_id: strawberry.ID
    dataset_version_id: strawberry.ID
    examples: list[DatasetExampleInput] = capped(MAX_EXAMPLES_PER_CALL)


@strawberry.input
class ExperimentTagInput:
    experiment_id: strawberry.ID
    tag_id: strawberry.ID
