"""Mutation inputs for research (explorations' too)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.research import service, trees
from expgraph.domains.research.explorations import ExplorationStatus, NodeStatus
from expgraph.domains.research.types import (
    DocumentStatus,
    DocumentType,
    ResearchStatus,
    TranscriptStatus,
)
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON


@strawberry.input(description="A new group of synths.")
class CreateSynthGroupInput:
    name: str = strawberry.field(description="The group's display name.")
    description: str | None = strawberry.field(default=None, description="What the group is for.")


@strawberry.input(description="One synth to import.")
class SynthInput:
    name: str = strawberry.field(description="The synth's display name.")
    description: str | None = strawberry.field(
        default=None, description=("A short portrait of the synth in prose.")
    )
    link_photo: str | None = strawberry.field(default=None, description="URL of the synth's photo.")
    avatar_path: str | None = strawberry.field(
        default=None, description=("Path of the synth's avatar image on the server.")
    )
    version: str | None = strawberry.field(
        default=None,
        description=('Version of the synth format its data follows; "2.0.0" if omitted.'),
    )
    data: JSON | None = strawberry.field(
        default=None, description=("All of the synth's attributes (a JSON object).")
    )


@strawberry.input(description="A batch of synths to import, all or none.")
class ImportSynthsInput:
    synth_group_id: strawberry.ID | None = strawberry.field(
        default=None, description=("The group to put them in; omit to leave them ungrouped.")
    )
    synths: list[SynthInput] = capped(service.MAX_BATCH, description="The synths, from 1 to 5000.")


@strawberry.input(
    description=(
        "The analysis of a research experiment; an experiment has at most one (a second is a "
        "(else CONFLICT)."
    )
)
class CreateAnalysisRunInput:
    experiment_id: strawberry.ID = strawberry.field(
        description=("The research experiment to analyse.")
    )
    scenario_id: str = strawberry.field(
        default="baseline", description=('The scenario to analyse; "baseline" if omitted.')
    )
    config: JSON | None = strawberry.field(
        default=None, description=("The analysis configuration (a JSON object).")
    )


@strawberry.input(description="Names one analysis run.")
class AnalysisRunIdInput:
    id: strawberry.ID = strawberry.field(description="The analysis run.")


@strawberry.input(
    description=("How one synth fared; the three rates are each from 0 to 1 and sum to 1.")
)
class SynthOutcomeInput:
    synth_id: strawberry.ID = strawberry.field(description="The synth, at most once per batch.")
    did_not_try_rate: float = strawberry.field(
        description=("Share of attempts the synth did not try, from 0 to 1.")
    )
    failed_rate: float = strawberry.field(description="Share of attempts that failed, from 0 to 1.")
    success_rate: float = strawberry.field(
        description=("Share of attempts that succeeded, from 0 to 1.")
    )
    synth_attributes: JSON | None = strawberry.field(
        default=None, description=("The synth attributes used for this outcome (a JSON object).")
    )


@strawberry.input(
    description=(
        "Synth outcomes for an analysis run, recorded all or none; a synth's earlier outcome is "
        "replaced."
    )
)
class RecordSynthOutcomesInput:
    analysis_id: strawberry.ID = strawberry.field(
        description=("The analysis run; it must not be completed or failed.")
    )
    outcomes: list[SynthOutcomeInput] = capped(
        service.MAX_BATCH, description=("The outcomes, from 1 to 5000.")
    )


@strawberry.input(
    description=("A computation to cache for an analysis; an entry with the same key is replaced.")
)
class UpsertAnalysisCacheInput:
    analysis_id: strawberry.ID = strawberry.field(description="The analysis run.")
    cache_key: str = strawberry.field(description="The key to store it under.")
    data: JSON = strawberry.field(description="The computed result.")
    params: JSON | None = strawberry.field(
        default=None, description=("The parameters it was computed with.")
    )


@strawberry.input(description="A new round of interviews, created pending.")
class CreateResearchExecutionInput:
    topic_name: str = strawberry.field(description="What the interviews are about.")
    experiment_id: strawberry.ID | None = strawberry.field(
        default=None, description=("The research experiment it belongs to; omit for none.")
    )
    synth_count: int = strawberry.field(
        default=0, description=("Number of synths meant to be interviewed, 0 or more.")
    )
    model: str = strawberry.field(
        default="gpt-4o-mini", description=('The LLM to interview with; "gpt-4o-mini" if omitted.')
    )
    max_turns: int = strawberry.field(
        default=6, description=("Most turns an interview may take, 1 or more; 6 if omitted.")
    )
    additional_context: str | None = strawberry.field(
        default=None, description=("Extra context for the interviewer.")
    )


@strawberry.input(
    description=(
        "A research execution's next status; only forward moves of its lifecycle are accepted "
        "(else CONFLICT)."
    )
)
class SetResearchExecutionStatusInput:
    id: strawberry.ID = strawberry.field(description="The research execution.")
    status: ResearchStatus = strawberry.field(description="The status to move to.")


@strawberry.input(
    description=(
        "Messages to add to the end of one synth's transcript in a round (created on first use)."
    )
)
class AppendTranscriptMessagesInput:
    execution_id: strawberry.ID = strawberry.field(
        description=("The research execution; it must not be completed or failed.")
    )
    synth_id: strawberry.ID = strawberry.field(description="The synth interviewed.")
    messages: list[JSON] = capped(
        service.MAX_MESSAGES, description=("The messages, from 1 to 1000, each any JSON value.")
    )


@strawberry.input(
    description=("A transcript's new status; the execution's successful and failed counts follow.")
)
class SetTranscriptStatusInput:
    execution_id: strawberry.ID = strawberry.field(description="The research execution.")
    synth_id: strawberry.ID = strawberry.field(description="The synth interviewed.")
    status: TranscriptStatus = strawberry.field(
        description="Its new status; any status may follow any other."
    )


@strawberry.input(
    description=(
        "An experiment's interview guide, created or replaced; fields left out keep their value."
    )
)
class UpsertInterviewGuideInput:
    experiment_id: strawberry.ID = strawberry.field(description="The experiment (not deleted).")
    context_definition: str | None = strawberry.field(
        default=None, description=("The context the interviewer sets for the synths.")
    )
    questions: str | None = strawberry.field(
        default=None, description=("The questions to ask, as text.")
    )
    context_examples: str | None = strawberry.field(
        default=None, description=("Examples of the context, as text.")
    )


@strawberry.input(description="An experiment's document of one type, created or replaced.")
class UpsertExperimentDocumentInput:
    experiment_id: strawberry.ID = strawberry.field(description="The experiment (not deleted).")
    document_type: DocumentType = strawberry.field(
        description=("Which document; one per experiment and type.")
    )
    markdown_content: str = strawberry.field(
        default="", description=("The document, as Markdown; empty if omitted.")
    )
    metadata: JSON | None = strawberry.field(
        default=None, description=("Generation details (a JSON object).")
    )
    model: str = strawberry.field(
        default="gpt-4o-mini", description=('The LLM that generated it; "gpt-4o-mini" if omitted.')
    )
    status: DocumentStatus = strawberry.field(
        default=DocumentStatus.COMPLETED, description=("Generation status; completed if omitted.")
    )
    error_message: str | None = strawberry.field(
        default=None, description=("Why generation failed, when it did.")
    )


@strawberry.input(description="One insight per simulation run and insight type.")
class UpsertChartInsightInput:
    simulation_run_id: strawberry.ID = strawberry.field(
        description="The SimulationRun the insight is about."
    )
    insight_type: str = strawberry.field(
        description=("Which chart the insight is about, at most 100 characters.")
    )
    response_json: JSON = strawberry.field(description="The LLM's insight (a JSON object).")


@strawberry.input(description="A sensitivity analysis of a simulation run.")
class CreateSensitivityResultInput:
    simulation_run_id: strawberry.ID = strawberry.field(description="The simulation run analysed.")
    deltas_used: JSON = strawberry.field(
        description=("The perturbations applied to each dimension (a JSON list).")
    )
    baseline_success: float = strawberry.field(
        description=("The success rate without perturbation, from 0 to 1.")
    )
    most_sensitive_dimension: str = strawberry.field(
        description=("The dimension whose change moves success the most.")
    )
    dimensions: JSON = strawberry.field(description="Per-dimension results (a JSON list).")
    analyzed_at: datetime | None = strawberry.field(
        default=None, description=("When the analysis was made; now if omitted.")
    )


@strawberry.input(description="A region of synths found in a simulation run, with its rates.")
class CreateRegionAnalysisInput:
    simulation_run_id: strawberry.ID = strawberry.field(description="The simulation run analysed.")
    rules: JSON = strawberry.field(
        description=("The conditions on synth attributes that define the region (a JSON list).")
    )
    rule_text: str = strawberry.field(description="The same rules in words.")
    synth_count: int = strawberry.field(description="Number of synths in the region, 0 or more.")
    synth_percentage: float = strawberry.field(
        description=("Share of all synths in the region, in percent (0 to 100).")
    )
    did_not_try_rate: float = strawberry.field(
        description=("Share of the region's attempts not tried, from 0 to 1.")
    )
    failed_rate: float = strawberry.field(
        description=("Share of the region's attempts that failed, from 0 to 1.")
    )
    success_rate: float = strawberry.field(
        description=("Share of the region's attempts that succeeded, from 0 to 1.")
    )
    failure_delta: float = strawberry.field(
        description=("The region's failure rate minus the overall failure rate.")
    )


@strawberry.input(description="A scenario: what changed, why, and how it scored.")
class ScenarioInput:
    scorecard_params: JSON = strawberry.field(
        description=("The scorecard parameters this scenario simulates (a JSON object).")
    )
    action_applied: str | None = strawberry.field(
        default=None, description=("The change this scenario applies to its parent's, in words.")
    )
    action_category: str | None = strawberry.field(
        default=None, description=("The kind of change, at most 100 characters.")
    )
    rationale: str | None = strawberry.field(default=None, description="Why the change is tried.")
    short_action: str | None = strawberry.field(
        default=None, description=("A short label for the change, at most 255 characters.")
    )
    simulation_results: JSON | None = strawberry.field(
        default=None,
        description=(
            "What its simulation gave (a JSON object; successRate, if present, from 0 to 1, "
            "ranks nodes; a success_rate key is refused)."
        ),
    )
    execution_time_seconds: float | None = strawberry.field(
        default=None, description=("Seconds spent simulating it, 0 or more.")
    )
    llm_calls: int = strawberry.field(
        default=0, description=("LLM calls made to produce it, 0 or more.")
    )
    node_status: NodeStatus = strawberry.field(
        default=NodeStatus.ACTIVE, description=("Its standing; active if omitted.")
    )


@strawberry.input(description="A new exploration of a research experiment, with its root scenario.")
class CreateExplorationInput:
    experiment_id: strawberry.ID = strawberry.field(
        description=("The research experiment to explore.")
    )
    baseline_analysis_id: strawberry.ID = strawberry.field(
        description=("The analysis run to start from; it must belong to the same experiment.")
    )
    goal: JSON = strawberry.field(description="What the exploration aims for (a JSON object).")
    config: JSON | None = strawberry.field(
        default=None, description=("The exploration's settings (a JSON object).")
    )
    root: ScenarioInput = strawberry.field(description="The root scenario (depth 0).")


@strawberry.input(description="Children to add under a node of a running exploration.")
class ExpandNodeInput:
    parent_id: strawberry.ID = strawberry.field(description="The node to expand.")
    children: list[ScenarioInput] = capped(
        trees.MAX_CHILDREN,
        description=("The new scenarios, from 1 to 100; their depth is the parent's plus one."),
    )


@strawberry.input(
    description=(
        "A node's new standing; an exploration has at most one winner (demote it first, else "
        "(else CONFLICT)."
    )
)
class SetNodeStatusInput:
    node_id: strawberry.ID = strawberry.field(description="The scenario node.")
    status: NodeStatus = strawberry.field(description="The standing to give it.")


@strawberry.input(description="How a running exploration ended; it can be finished once.")
class FinishExplorationInput:
    exploration_id: strawberry.ID = strawberry.field(description="The exploration.")
    status: ExplorationStatus = strawberry.field(
        description=("How it ended: any status but running.")
    )
