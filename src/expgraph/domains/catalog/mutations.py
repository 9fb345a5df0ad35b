"""Catalog mutations: tags, datasets, versions, examples."""

from __future__ import annotations

import strawberry

from expgraph.domains.catalog import models, service
from expgraph.domains.catalog.inputs import (
    AddDatasetExamplesInput,
    CreateDatasetInput,
    CreateDatasetVersionInput,
    CreateTagInput,
    ExperimentTagInput,
    TagIdInput,
    UpdateTagInput,
)
from expgraph.domains.catalog.types import Dataset, DatasetExample, DatasetVersion, Tag
from expgraph.domains.experiments import service as experiments_service
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import model_pk, to_node


@strawberry.type(description="Result of a change to a tag.")
class TagPayload:
    tag: Tag = strawberry.field(description="The tag as it now is (or was, when deleted).")


@strawberry.type(description="Result of creating a dataset.")
class DatasetPayload:
    dataset: Dataset = strawberry.field(description="The new dataset.")


@strawberry.type(description="Result of creating a dataset version.")
class DatasetVersionPayload:
    dataset_version: DatasetVersion = strawberry.field(description="The new version.")


@strawberry.type(description="Result of adding examples to a dataset version.")
class AddDatasetExamplesPayload:
    dataset: Dataset = strawberry.field(description="The dataset the examples were added to.")
    dataset_version: DatasetVersion = strawberry.field(
        description="The version the examples were added to."
    )
    examples: list[DatasetExample] = strawberry.field(
        description="The new examples, in the order given."
    )


@strawberry.type(description="Result of putting a tag on, or taking it off, an experiment.")
class ExperimentTagPayload:
    experiment: Experiment = strawberry.field(description="The experiment.")
    tag: Tag = strawberry.field(description="The tag, its usage count updated.")
    changed: bool = strawberry.field(description="False when the link already was as asked.")


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.WRITE, description="Create a tag; its slug comes from the name."
    )
    async def create_tag(self, info: Info, input: CreateTagInput) -> TagPayload:
        async with info.context.db.transaction() as session:
            tag = await service.create_tag(
                session, input.name, input.color, info.context.principal.user_id
            )
        return TagPayload(tag=to_node(tag))

    @mutation(permission=Permission.WRITE, description="Rename or recolor a tag.")
    async def update_tag(self, info: Info, input: UpdateTagInput) -> TagPayload:
        pk = model_pk(input.id, models.Tag)
        async with info.context.db.transaction() as session:
            tag = await service.update_tag(session, pk, values_given(input))
        return TagPayload(tag=to_node(tag))

    @mutation(permission=Permission.WRITE, description="Delete a tag and its links.")
    async def delete_tag(self, info: Info, input: TagIdInput) -> TagPayload:
        pk = model_pk(input.id, models.Tag)
        async with info.context.db.transaction() as session:
            tag = await service.delete_tag(session, pk)
        return TagPayload(tag=to_node(tag))

    @mutation(permission=Permission.WRITE, description="Create a dataset.")
    async def create_dataset(self, info: Info, input: CreateDatasetInput) -> DatasetPayload:
        values = values_given(input, {"metadata": "metadata_"})
        async with info.context.db.transaction() as session:
            dataset = await service.create_dataset(session, values, info.context.principal.user_id)
        return DatasetPayload(dataset=to_node(dataset))

    @mutation(permission=Permission.WRITE, description="Start a new version of a dataset.")
    async def create_dataset_version(
        self, info: Info, input: CreateDatasetVersionInput
    ) -> DatasetVersionPayload:
        dataset_id = model_pk(input.dataset_id, models.Dataset)
        async with info.context.db.transaction() as session:
            version = await service.create_version(
                session, dataset_id, input.description, input.metadata
            )
        return DatasetVersionPayload(dataset_version=to_node(version))

    @mutation(permission=Permission.WRITE, description="Add a batch of examples, all or none.")
    async def add_dataset_examples(
        self, info: Info, input: AddDatasetExamplesInput
    ) -> AddDatasetExamplesPayload:
        dataset_id = model_pk(input.dataset_id, models.Dataset)
        version_id = model_pk(input.dataset_version_id, models.DatasetVersion)
        examples = [
            {"input": e.input, "output": e.output, "metadata": e.metadata} for e in input.examples
        ]
        async with info.context.db.transaction() as session:
            rows = await service.add_examples(session, dataset_id, version_id, examples)
            dataset = await service.get_dataset(session, dataset_id)
            version = await session.get(models.DatasetVersion, version_id)
        return AddDatasetExamplesPayload(
            dataset=to_node(dataset),
            dataset_version=to_node(version),
            examples=[to_node(r) for r in rows],
        )

    @mutation(permission=Permission.WRITE, description="Put a tag on an experiment.")
    async def tag_experiment(self, info: Info, input: ExperimentTagInput) -> ExperimentTagPayload:
        return await _set_link(info, input, linked=True)

    @mutation(permission=Permission.WRITE, description="Take a tag off an experiment.")
    async def untag_experiment(self, info: Info, input: ExperimentTagInput) -> ExperimentTagPayload:
        return await _set_link(info, input, linked=False)


async def _set_link(info: Info, input: ExperimentTagInput, *, linked: bool) -> ExperimentTagPayload:
    ctx = info.context
    experiment_id = model_pk(input.experiment_id, ExperimentRecord)
    tag_id = model_pk(input.tag_id, models.Tag)
    async with ctx.db.transaction() as session:
        # Locked: a concurrent delete or restore recounts this experiment's tags.
        experiment = await experiments_service.get_live(session, experiment_id, for_update=True)
        counted = experiment.deleted_at is None  # usageCount counts live experiments
        if linked:
            changed = await service.link_tag(
                session,
                ctx.db.dialect,
                experiment_id,
                tag_id,
                ctx.principal.user_id,
                counted=counted,
            )
        else:
            changed = await service.unlink_tag(session, experiment_id, tag_id, counted=counted)
        tag = await service.get_tag(session, tag_id)
    return ExperimentTagPayload(experiment=to_node(experiment), tag=to_node(tag), changed=changed)
