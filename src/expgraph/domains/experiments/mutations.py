"""Experiment mutations."""

from __future__ import annotations

import strawberry

from expgraph.domains.experiments import models, service
from expgraph.domains.experiments.inputs import (
    CreateExperimentInput,
    ExperimentIdInput,
    UpdateExperimentInput,
)
from expgraph.domains.experiments.types import Experiment
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import model_pk, to_node


@strawberry.type(description="The result of an experiment mutation.")
class ExperimentPayload:
    experiment: Experiment = strawberry.field(description="The experiment as it is now.")


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
        async with ctx.db.transaction() as session:
            experiment = await service.create(
                session,
                ctx.db.dialect,
                kind=input.kind,
                common=_common(input),
                blocks=input,
                created_by=ctx.principal.user_id,
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
