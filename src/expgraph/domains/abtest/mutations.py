"""A/B testing mutations: variants."""

from __future__ import annotations

import strawberry

from expgraph.domains.abtest import models, service
from expgraph.domains.abtest.inputs import (
    CreateVariantInput,
    DeleteVariantInput,
    UpdateVariantInput,
)
from expgraph.domains.abtest.types import Variant
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import encode_id, model_pk, to_node


@strawberry.type(description="The result of createVariant or updateVariant.")
class VariantPayload:
    variant: Variant = strawberry.field(description="The variant as it is now.")


@strawberry.type(description="The result of deleteVariant.")
class DeleteVariantPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The id of the variant deleted.")


@strawberry.type
class Mutation:
    @mutation(
        permission=Permission.WRITE,
        description=(
            "Add a variant to an A/B test, after its existing ones. Refused when the "
            "allocations would total more than 1 (BAD_REQUEST), the config is invalid or names "
            "a policy or prompt version that does not exist (BAD_REQUEST naming the field), "
            "or the name is taken (CONFLICT)."
        ),
    )
    async def create_variant(self, info: Info, input: CreateVariantInput) -> VariantPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        values = values_given(input)
        async with info.context.db.transaction() as session:
            variant = await service.create_variant(session, experiment_id, values)
        return VariantPayload(variant=to_node(variant))

    @mutation(
        permission=Permission.WRITE,
        description=(
            "Change a variant. The same rules as createVariant; once its experiment has run, "
            "its allocation may only grow (CONFLICT unless force) and the control may not move."
        ),
    )
    async def update_variant(self, info: Info, input: UpdateVariantInput) -> VariantPayload:
        pk = model_pk(input.id, models.Variant)
        values = {k: v for k, v in values_given(input).items() if k not in ("id", "force")}
        async with info.context.db.transaction() as session:
            variant = await service.update_variant(session, pk, values, force=input.force)
        return VariantPayload(variant=to_node(variant))

    @mutation(
        permission=Permission.WRITE,
        description=(
            "Delete a variant, only before its experiment first runs (CONFLICT after). "
            "Deleting the control makes the first remaining variant the control."
        ),
    )
    async def delete_variant(self, info: Info, input: DeleteVariantInput) -> DeleteVariantPayload:
        pk = model_pk(input.id, models.Variant)
        async with info.context.db.transaction() as session:
            await service.delete_variant(session, pk)
        return DeleteVariantPayload(deleted_id=strawberry.ID(encode_id("Variant", pk)))
