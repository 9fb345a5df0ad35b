"""Inputs of the A/B testing mutations."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry import UNSET

from expgraph.domains.abtest.models import PolicyVersionStatus, ReplayStatus
from expgraph.graphql.scalars import JSON

CONFIG_DESCRIPTION = (
    "What the arm runs, a JSON object in seed 001's format: {} for a plain arm; "
    '{"execution_strategy": "mlflow_model", "mlflow_model": {"policy_version_id", '
    '"model_name"}}; "prompt_template" with "prompt_config" {"prompt_version_id", '
    '"model_provider", "model_name"} and an optional "flow_config" {"flow_id", '
    '"initial_state"}; "hybrid" with both; "params" (an object) with any of them. The '
    "legacy format (no execution_strategy, policy_version_id at the root) reads as "
    "mlflow_model. Keys may also be given in camelCase; they are stored in snake_case. "
    "Ids are global ids of a PolicyVersion and a PromptVersion, which must exist."
)


@strawberry.input(description="A variant to add to an A/B test, after its existing variants.")
class CreateVariantInput:
    experiment_id: strawberry.ID = strawberry.field(description="The A/B test's id.")
    name: str = strawberry.field(description="Unique within the experiment; 1 to 255 characters.")
    allocation: Decimal = strawberry.field(
        description=(
            'Share of units, from 0 to 1 with at most four decimal places ("0.25"); the '
            "experiment's variants may total at most 1."
        )
    )
    config: JSON | None = strawberry.field(default=None, description=CONFIG_DESCRIPTION)
    is_control: bool | None = strawberry.field(
        default=None,
        description=(
            "Make it the control (the current control stops being one; only before the "
            "experiment first runs). When null: true for the first variant, else false."
        ),
    )
    description: str | None = strawberry.field(
        default=None, description="Free text, at most 2,000 characters."
    )


@strawberry.input(description="Changes to a variant; fields left out keep their value.")
class UpdateVariantInput:
    id: strawberry.ID = strawberry.field(description="The variant's id.")
    name: str | None = strawberry.field(
        default=UNSET, description="Unique within the experiment; 1 to 255 characters."
    )
    allocation: Decimal | None = strawberry.field(
        default=UNSET,
        description=(
            "Share of units, from 0 to 1 with at most four places; the experiment's variants "
            "may total at most 1. Once the experiment has run it may only grow, unless force."
        ),
    )
    config: JSON | None = strawberry.field(default=UNSET, description=CONFIG_DESCRIPTION)
    is_control: bool | None = strawberry.field(
        default=UNSET,
        description=(
            "true makes it the control instead of the current one (only before the experiment "
            "first runs); false on the control is refused: mark another variant instead."
        ),
    )
    description: str | None = strawberry.field(
        default=UNSET, description="Free text, at most 2,000 characters; null clears it."
    )
    force: bool = strawberry.field(
        default=False,
        description=(
            "Allow shrinking the allocation of a variant of an experiment that has run "
            "(units already assigned keep their variant; new units split differently)."
        ),
    )


@strawberry.input(description="The variant to delete.")
class DeleteVariantInput:
    id: strawberry.ID = strawberry.field(
        description="The variant's id; only before its experiment first runs."
    )


@strawberry.input(description="A new policy.")
class CreatePolicyInput:
    name: str = strawberry.field(description="Unique name, 1 to 255 characters.")
    description: str | None = strawberry.field(
        default=None, description="Free text, at most 2,000 characters."
    )


@strawberry.input(description="Changes to a policy; fields left out keep their value.")
class UpdatePolicyInput:
    id: strawberry.ID = strawberry.field(description="The policy's id.")
    name: str | None = strawberry.field(
        default=UNSET, description="Unique name, 1 to 255 characters."
    )
    description: str | None = strawberry.field(
        default=UNSET, description="Free text, at most 2,000 characters; null clears it."
    )


@strawberry.input(description="The policy to delete.")
class DeletePolicyInput:
    id: strawberry.ID = strawberry.field(
        description="The policy's id; a policy with versions cannot be deleted."
    )


@strawberry.input(description="A new version of a policy; its number is the next integer.")
class CreatePolicyVersionInput:
    policy_id: strawberry.ID = strawberry.field(description="The policy's id.")
    mlflow_model_name: str = strawberry.field(
        description="The model's name in MLflow, 1 to 255 characters."
    )
    mlflow_model_version: str = strawberry.field(
        description="The model's version in MLflow, 1 to 50 characters."
    )
    config_defaults: JSON | None = strawberry.field(
        default=None, description="Default runtime parameters, a JSON object ({} when null)."
    )


@strawberry.input(description="Changes to a policy version; fields left out keep their value.")
class UpdatePolicyVersionInput:
    id: strawberry.ID = strawberry.field(description="The policy version's id.")
    status: PolicyVersionStatus | None = strawberry.field(
        default=UNSET,
        description=(
            "ACTIVE and DEPRECATED move to each other or to ARCHIVED, which is final; a version "
            "a running experiment's variant uses cannot be archived (CONFLICT)."
        ),
    )
    config_defaults: JSON | None = strawberry.field(
        default=UNSET, description="Default runtime parameters, a JSON object."
    )


SCORE = (
    "An exact decimal below 10,000 in absolute value, at most six places; null when not measured."
)


@strawberry.input(description="The result of replaying a policy version offline.")
class RecordOfflineReplayResultInput:
    policy_version_id: strawberry.ID = strawberry.field(description="The version replayed.")
    dataset_version: str = strawberry.field(
        description="The dataset version replayed, 1 to 255 characters."
    )
    mlflow_run_id: str | None = strawberry.field(
        default=None, description="The MLflow run that produced it."
    )
    plan_alignment_score: Decimal | None = strawberry.field(default=None, description=SCORE)
    constraint_respect_score: Decimal | None = strawberry.field(default=None, description=SCORE)
    edit_distance_score: Decimal | None = strawberry.field(default=None, description=SCORE)
    diversity_score: Decimal | None = strawberry.field(default=None, description=SCORE)
    leftovers_score: Decimal | None = strawberry.field(default=None, description=SCORE)
    baseline_version_id: strawberry.ID | None = strawberry.field(
        default=None, description="The policy version it was compared with (another one)."
    )
    is_better_than_baseline: bool | None = strawberry.field(
        default=None, description="Whether it beat the baseline."
    )
    status: ReplayStatus | None = strawberry.field(
        default=None, description="COMPLETED when null; FAILED needs errorMessage."
    )
    error_message: str | None = strawberry.field(
        default=None, description="Why it failed, at most 10,000 characters."
    )
