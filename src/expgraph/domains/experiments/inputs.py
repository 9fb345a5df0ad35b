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
    dataset_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Global id of the dataset it runs on; required before execution."
    )
    dataset_version_id: strawberry.ID | None = strawberry.field(
        default=UNSET,
        description="Global id of the dataset version whose examples run; of that dataset.",
    )
    repetitions: int | None = strawberry.field(
        default=UNSET,
        description=(
            f"How many times each dataset example runs (1 when null); 0 to {MAX_REPETITIONS:,}."
        ),
    )


@strawberry.input(description="Changes to an A/B test's fields.")
class AbTestInput:
    unit_type: UnitType | None = strawberry.field(
        default=UNSET, description="What is assigned to variants; cannot be null."
    )
    start_at: datetime | None = strawberry.field(
        default=UNSET, description="When assignment starts."
    )
    end_at: datetime | None = strawberry.field(default=UNSET, description="When assignment ends.")
    hash_seed: str | None = strawberry.field(
        default=UNSET,
        description=(
            "The seed units are hashed with (GrowthBook's hashing: give the SDK the same "
            "seed to bucket offline); the experiment's name when omitted at creation. "
            "Fixed once the experiment has run (CONFLICT). 1-255 characters."
        ),
    )


@strawberry.input(
    description="Changes to a simulation experiment's fields; costs in integer cents."
)
class SimulationInput:
    master_seed: BigInt | None = strawberry.field(
        default=UNSET,
        description="A new master seed (runs are reproducible from it); cannot be null.",
    )
    simulation_type: str | None = strawberry.field(
        default=UNSET, description="Simulation engine or model name, at most 100 characters."
    )
    scenario_path: str | None = strawberry.field(
        default=UNSET, description="Path of the scenario file, at most 500 characters."
    )
    completed_at: datetime | None = strawberry.field(
        default=UNSET, description="When the simulation finished; null while it runs."
    )
    num_iterations: int | None = strawberry.field(
        default=UNSET, description="Iterations run so far."
    )
    converged: bool | None = strawberry.field(
        default=UNSET, description="Whether the optimisation converged; null until known."
    )
    convergence_reason: str | None = strawberry.field(
        default=UNSET, description="Why it stopped, at most 255 characters."
    )
    final_cost: BigInt | None = strawberry.field(
        default=UNSET, description="Cost of the final iteration, integer cents, at least 0."
    )
    best_cost: BigInt | None = strawberry.field(
        default=UNSET, description="Lowest cost of any iteration, integer cents, at least 0."
    )


@strawberry.input(description="Fields of a training experiment.")
class TrainingInput:
    dataset_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Global id of the dataset it trains on."
    )
    model_type: str | None = strawberry.field(
        default=UNSET, description="Model family or architecture, at most 100 characters."
    )
    hyperparameters: JSON | None = strawberry.field(
        default=UNSET, description="Hyperparameters as a JSON object."
    )
    metrics: JSON | None = strawberry.field(
        default=UNSET, description="Resulting metrics as a JSON object."
    )
    best_epoch: int | None = strawberry.field(
        default=UNSET, description="Epoch with the best validation result."
    )
    total_epochs: int | None = strawberry.field(default=UNSET, description="Epochs trained.")
    duration_seconds: float | None = strawberry.field(
        default=UNSET, description="Training wall-clock time in seconds."
    )
    model_path: str | None = strawberry.field(
        default=UNSET, description="Where the trained model is stored, at most 500 characters."
    )
    onnx_path: str | None = strawberry.field(
        default=UNSET, description="Where the ONNX export is stored, at most 500 characters."
    )
    results_dir: str | None = strawberry.field(
        default=UNSET, description="Directory of training outputs, at most 500 characters."
    )
    notes: str | None = strawberry.field(
        default=UNSET, description="Free-text notes; searched by full-text search."
    )


@strawberry.input(description="Changes to a research experiment's fields.")
class ResearchInput:
    hypothesis: str | None = strawberry.field(
        default=UNSET, description="A new hypothesis, at most 500 characters; cannot be null."
    )
    scorecard_data: JSON | None = strawberry.field(
        default=UNSET, description="The research scorecard as a JSON object."
    )


@strawberry.input(description="Fields of a new simulation experiment; costs in integer cents.")
class CreateSimulationInput(SimulationInput):
    master_seed: BigInt = strawberry.field(
        description="Seed every run derives its randomness from, so runs are reproducible."
    )


@strawberry.input(description="Fields of a new A/B test.")
class CreateAbTestInput(AbTestInput):
    unit_type: UnitType = strawberry.field(
        description="What is assigned to variants (users, households or sessions)."
    )


@strawberry.input(description="Fields of a new research experiment.")
class CreateResearchInput(ResearchInput):
    hypothesis: str = strawberry.field(
        description="What the experiment sets out to test; 1-500 characters."
    )


@strawberry.input
class KindBlocks:
    """The per-kind blocks; at most the one named after the experiment's kind."""

    evaluation: EvaluationInput | None = strawberry.field(
        default=UNSET, description="Only for EVALUATION experiments."
    )
    training: TrainingInput | None = strawberry.field(
        default=UNSET, description="Only for TRAINING experiments."
    )


@strawberry.input(description="A new experiment of one kind.")
class CreateExperimentInput(KindBlocks):
    ab_test: CreateAbTestInput | None = strawberry.field(
        default=UNSET, description="Only for AB_TEST experiments; required to create one."
    )
    simulation: CreateSimulationInput | None = strawberry.field(
        default=UNSET, description="Only for SIMULATION experiments; required to create one."
    )
    research: CreateResearchInput | None = strawberry.field(
        default=UNSET, description="Only for RESEARCH experiments; required to create one."
    )
    kind: ExperimentKind = strawberry.field(description="Its kind; cannot change later.")
    name: str = strawberry.field(
        description="Display name, 1-255 characters, unique among live experiments."
    )
    description: str | None = strawberry.field(default=None, description="Free text.")
    status: ExperimentStatus = strawberry.field(
        default=ExperimentStatus.DRAFT, description="Starting status; DRAFT unless given."
    )
    config: JSON | None = strawberry.field(
        default=None, description="Free-form JSON object; {} when omitted."
    )
    metadata: JSON | None = strawberry.field(
        default=None, description="Free-form JSON object; {} when omitted."
    )
    tag_ids: list[strawberry.ID] | None = capped(
        100, default=None, description="Tags to apply at once."
    )


@strawberry.input(description="Changes to an experiment; omitted fields stay as they are.")
class UpdateExperimentInput(KindBlocks):
    ab_test: AbTestInput | None = strawberry.field(
        default=UNSET, description="Only for AB_TEST experiments."
    )
    simulation: SimulationInput | None = strawberry.field(
        default=UNSET, description="Only for SIMULATION experiments."
    )
    research: ResearchInput | None = strawberry.field(
        default=UNSET, description="Only for RESEARCH experiments."
    )
    id: strawberry.ID = strawberry.field(description="Global id of the experiment to change.")
    name: str | None = strawberry.field(
        default=UNSET, description="New name, unique among live experiments; cannot be null."
    )
    description: str | None = strawberry.field(
        default=UNSET, description="New description; null clears it."
    )
    status: ExperimentStatus | None = strawberry.field(
        default=UNSET, description="New status; cannot be null."
    )
    config: JSON | None = strawberry.field(
        default=UNSET, description="Replaces the whole config object."
    )
    metadata: JSON | None = strawberry.field(
        default=UNSET, description="Replaces the whole metadata object."
    )


@strawberry.input(description="Names one experiment.")
class ExperimentIdInput:
    id: strawberry.ID = strawberry.field(description="Global id of the experiment.")
