"""Experiment mutations."""

from __future__ import annotations

import strawberry

from expgraph.domains.catalog import service as catalog_service
from expgraph.domains.catalog.models import Tag as TagRecord
from expgraph.domains.catalog.types import Tag
from expgraph.domains.experiments import models, service
from expgraph.domains.experiments.inputs import (
    CreateExperimentInput,
    ExperimentIdInput,
    ExperimentTagInput,
    UpdateExperimentInput,
)
from expgraph.domains.experiments.types import Experiment
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import model_pk, to_node


@strawberry.type
class ExperimentPayload:
    experiment: Experiment


@strawberry.type
class ExperimentTagPayload:
    experiment: Experiment
    tag: Tag
    changed: bool = strawberry.field(description="False when the link already was as asked.")


COMMON_FIELDS = ("name", "description", "status", "config", "metadata")
RENAMES = {"metadata": "metadata_"}


def _common(data: object) -> dict[str, object]:
    sent = values_given(data, RENAMES)
    return {k: v for k, v in sent.items() if k in {RENAMES.get(f, f) for f in COMMON_FIELDS}}


@strawberry.type
class Mutation:
    @mutation(permission=Permission.WRITE, description="Create an experiment of any kind.")
    async def create_experiment(
        self, info: Info, input: CreateExperimentInput
    ) -> ExperimentPayload:
        ctx = info.context
        tag_ids = [model_pk(t, TagRecord) for t in input.tag_ids or []]
        async with ctx.db.transaction() as session:
            experiment = await service.create(
                session,
                ctx.db.dialect,
                kind=input.kind,
                common=_common(input),
                blocks=input,
                created_by=ctx.principal.user_id,
            )
            for tag_id in dict.fromkeys(tag_ids):
                await catalog_service.link_tag(
                    session, ctx.db.dialect, experiment.id, tag_id, ctx.principal.user_id
                )
        return ExperimentPayload(experiment=to_node(experiment))

    @mutation(permission=Permission.WRITE, description="Change an experiment's fields.")
    async def update_experiment(
        self, info: Info, input: UpdateExperimentInput
    ) -> ExperimentPayload:
        pk = model_pk(input.id, models.Experiment)
        async with info.context.db.transaction() as session:
            experiment = await service.update_experiment(
                session, info.context.db.dialect, pk, _common(input), input
            )
        return ExperimentPayload(experiment=to_node(experiment))

    @mutation(permission=Permission.WRITE, description="Soft-delete: hide it from lists.")
    async def delete_experiment(self, info: Info, input: ExperimentIdInput) -> ExperimentPayload:
        pk = model_pk(input.id, models.Experiment)
        async with info.context.db.transaction() as session:
            experiment = await service.set_deleted(session, pk, deleted=True)
        return ExperimentPayload(experiment=to_node(experiment))

    @mutation(permission=Permission.WRITE, description="Undo a soft delete.")
    async def restore_experiment(self, info: Info, input: ExperimentIdInput) -> ExperimentPayload:
        pk = model_pk(input.id, models.Experiment)
        async with info.context.db.transaction() as session:
            experiment = await service.set_deleted(session, pk, deleted=False)
        return ExperimentPayload(experiment=to_node(experiment))

    @mutation(permission=Permission.WRITE, description="Put a tag on an experiment.")
    async def tag_experiment(self, info: Info, input: ExperimentTagInput) -> ExperimentTagPayload:
        return await _set_link(info, input, linked=True)

    @mutation(permission=Permission.WRITE, description="Take a tag off an experiment.")
    async def untag_experiment(self, info: Info, input: ExperimentTagInput) -> ExperimentTagPayload:
        return await _set_link(info, input, linked=False)


async def _set_link(info: Info, input: ExperimentTagInput, *, linked: bool) -> ExperimentTagPayload:
    ctx = info.context
    experiment_id = model_pk(input.experiment_id, models.Experiment)
    tag_id = model_pk(input.tag_id, TagRecord)
    async with ctx.db.transaction() as session:
        # Locked: a concurrent delete or restore recounts this experiment's tags.
        experiment = await service.get_live(session, experiment_id, for_update=True)
        counted = experiment.deleted_at is None  # usageCount counts live experiments
        if linked:
            changed = await catalog_service.link_tag(
                session,
                ctx.db.dialect,
                experiment_id,
                tag_id,
                ctx.principal.user_id,
                counted=counted,
            )
        else:
            changed = await catalog_service.unlink_tag(
                session, experiment_id, tag_id, counted=counted
            )
        tag = await catalog_service.get_tag(session, tag_id)
    return ExperimentTagPayload(experiment=to_node(experiment), tag=to_node(tag), changed=changed)
