"""A/B testing mutations: variants, policies and policy versions."""

from __future__ import annotations

import strawberry

from expgraph.domains.abtest import models, policies, service
from expgraph.domains.abtest.inputs import (
    CreatePolicyInput,
    CreatePolicyVersionInput,
    CreateVariantInput,
    DeletePolicyInput,
    DeleteVariantInput,
    RecordOfflineReplayResultInput,
    UpdatePolicyInput,
    UpdatePolicyVersionInput,
    UpdateVariantInput,
)
from expgraph.domains.abtest.types import OfflineReplayResult, Policy, PolicyVersion, Variant
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.errors import BadRequest
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


@strawberry.type(description="The result of createPolicy or updatePolicy.")
class PolicyPayload:
    policy: Policy = strawberry.field(description="The policy as it is now.")


@strawberry.type(description="The result of deletePolicy.")
class DeletePolicyPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The id of the policy deleted.")


@strawberry.type(description="The result of createPolicyVersion or updatePolicyVersion.")
class PolicyVersionPayload:
    policy_version: PolicyVersion = strawberry.field(description="The version as it is now.")


@strawberry.type(description="The result of recordOfflineReplayResult.")
class OfflineReplayResultPayload:
    offline_replay_result: OfflineReplayResult = strawberry.field(
        description="The result just recorded."
    )


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

    @mutation(
        permission=Permission.WRITE,
        description="Create a policy. A name already taken is refused (CONFLICT).",
    )
    async def create_policy(self, info: Info, input: CreatePolicyInput) -> PolicyPayload:
        async with info.context.db.transaction() as session:
            policy = await policies.create_policy(session, values_given(input))
        return PolicyPayload(policy=to_node(policy))

    @mutation(permission=Permission.WRITE, description="Rename a policy or change its description.")
    async def update_policy(self, info: Info, input: UpdatePolicyInput) -> PolicyPayload:
        pk = model_pk(input.id, models.Policy)
        values = {k: v for k, v in values_given(input).items() if k != "id"}
        async with info.context.db.transaction() as session:
            policy = await policies.update_policy(session, pk, values)
        return PolicyPayload(policy=to_node(policy))

    @mutation(
        permission=Permission.WRITE,
        description="Delete a policy without versions (CONFLICT when it has any).",
    )
    async def delete_policy(self, info: Info, input: DeletePolicyInput) -> DeletePolicyPayload:
        pk = model_pk(input.id, models.Policy)
        async with info.context.db.transaction() as session:
            await policies.delete_policy(session, pk)
        return DeletePolicyPayload(deleted_id=strawberry.ID(encode_id("Policy", pk)))

    @mutation(
        permission=Permission.WRITE,
        description=(
            "Add a version to a policy, numbered with the policy's next integer (1, 2, 3...; "
            "concurrent calls get distinct numbers), ACTIVE."
        ),
    )
    async def create_policy_version(
        self, info: Info, input: CreatePolicyVersionInput
    ) -> PolicyVersionPayload:
        policy_id = model_pk(input.policy_id, models.Policy)
        values = values_given(input)
        async with info.context.db.transaction() as session:
            version = await policies.create_version(session, policy_id, values)
        return PolicyVersionPayload(policy_version=to_node(version))

    @mutation(
        permission=Permission.WRITE,
        description=(
            "Change a policy version's status or default parameters. ARCHIVED is final and "
            "refused while a running experiment's variant uses the version (CONFLICT)."
        ),
    )
    async def update_policy_version(
        self, info: Info, input: UpdatePolicyVersionInput
    ) -> PolicyVersionPayload:
        pk = model_pk(input.id, models.PolicyVersion)
        values = {k: v for k, v in values_given(input).items() if k != "id"}
        if "status" in values and values["status"] is None:
            raise BadRequest("status cannot be null", field="status")
        async with info.context.db.transaction() as session:
            version = await policies.update_version(session, pk, values)
        return PolicyVersionPayload(policy_version=to_node(version))

    @mutation(
        permission=Permission.WRITE,
        description=(
            "Record the scores of a policy version replayed offline (NOT_FOUND for an unknown "
            "version or baseline; BAD_REQUEST for a score out of range)."
        ),
    )
    async def record_offline_replay_result(
        self, info: Info, input: RecordOfflineReplayResultInput
    ) -> OfflineReplayResultPayload:
        values = values_given(input)
        version_id = model_pk(values.pop("policy_version_id"), models.PolicyVersion)
        baseline = values.pop("baseline_version_id", None)
        baseline_id = model_pk(baseline, models.PolicyVersion) if baseline else None
        async with info.context.db.transaction() as session:
            result = await policies.record_replay(session, version_id, baseline_id, values)
        return OfflineReplayResultPayload(offline_replay_result=to_node(result))
