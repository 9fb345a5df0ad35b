"""Mutation inputs for experiments: common fields plus one block per kind."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types.unset import UNSET

from expgraph.domains.experiments.models import MAX_REPETITIONS
from expgraph.domains.experiments.types import ExperimentKind, ExperimentStatus, UnitType
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON, BigInt


@strawberry.input(description="Fields of an evaluation experiment.")
class EvaluationInput:
    dataset_id: strawberry.ID | None = UNSET
    dataset_version_id: strawberry.ID | None = UNSET
    repetitions: int | None = strawberry.field(
        default=UNSET,
        description=(
            f"How many times each dataset example runs (1 when null); 0 to {MAX_REPETITIONS:,}."
        ),
    )


@strawberry.input(description="Fields of an A/B test.")
class AbTestInput:
    unit_type: UnitType | None = UNSET
    start_at: datetime | None = UNSET
    end_at: datetime | None = UNSET


@strawberry.input(description="Fields of a simulation experiment; costs in integer cents.")
class SimulationInput:
    master_seed: BigInt | None = strawberry.field(
        default=UNSET, description="Required at creation: runs are reproducible from it."
    )
    simulation_type: str | None = UNSET
    scenario_path: str | None = UNSET
    completed_at: datetime | None = UNSET
    num_iterations: int | None = UNSET
    converged: bool | None = UNSET
    convergence_reason: str | None = UNSET
    final_cost: BigInt | None = UNSET
    best_cost: BigInt | None = UNSET


@strawberry.input(description="Fields of a training experiment.")
class TrainingInput:
    dataset_id: strawberry.ID | None = UNSET
    model_type: str | None = UNSET
    hyperparameters: JSON | None = UNSET
    metrics: JSON | None = UNSET
    best_epoch: int | None = UNSET
    total_epochs: int | None = UNSET
    duration_seconds: float | None = UNSET
    model_path: str | None = UNSET
    onnx_path: str | None = UNSET
    results_dir: str | None = UNSET
    notes: str | None = UNSET


@strawberry.input(description="Fields of a research experiment.")
class ResearchInput:
    hypothesis: str | None = strawberry.field(
        default=UNSET, description="Required at creation; at most 500 characters."
    )
    scorecard_data: JSON | None = UNSET


@strawberry.input
class KindBlocks:
    """The per-kind blocks; at most the one named after the experiment's kind."""

    evaluation: EvaluationInput | None = UNSET
    ab_test: AbTestInput | None = UNSET
    simulation: SimulationInput | None = UNSET
    training: TrainingInput | None = UNSET
    research: ResearchInput | None = UNSET


@strawberry.input(description="A new experiment of one kind.")
class CreateExperimentInput(KindBlocks):
    kind: ExperimentKind
    name: str
    description: str | None = None
    status: ExperimentStatus = ExperimentStatus.DRAFT
    config: JSON | None = None
    metadata: JSON | None = None
    tag_ids: list[strawberry.ID] | None = capped(
        100, default=None, description="Tags to apply at once."
    )


@strawberry.input(description="Changes to an experiment; omitted fields stay as they are.")
class UpdateExperimentInput(KindBlocks):
    id: strawberry.ID
    name: str | None = UNSET
    description: str | None = UNSET
    status: ExperimentStatus | None = UNSET
    config: JSON | None = UNSET
    metadata: JSON | None = UNSET


@strawberry.input
class ExperimentIdInput:
    id: strawberry.ID
