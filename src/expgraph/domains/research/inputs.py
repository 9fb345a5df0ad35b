"""Mutation inputs for research (explorations' too)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.research import service, trees
from expgraph.domains.research.explorations import ExplorationStatus, NodeStatus
from expgraph.domains.research.types import DocumentStatus, DocumentType, ResearchStatus
from expgraph.graphql.bounds import capped
from expgraph.graphql.scalars import JSON


@strawberry.input
class CreateSynthGroupInput:
    name: str
    description: str | None = None


@strawberry.input
class SynthInput:
    name: str
    description: str | None = None
    link_photo: str | None = None
    avatar_path: str | None = None
    version: str | None = None
    data: JSON | None = None


@strawberry.input
class ImportSynthsInput:
    synth_group_id: strawberry.ID | None = None
    synths: list[SynthInput] = capped(service.MAX_BATCH)


@strawberry.input
class CreateAnalysisRunInput:
    experiment_id: strawberry.ID
    scenario_id: str = "baseline"
    config: JSON | None = None


@strawberry.input
class AnalysisRunIdInput:
    id: strawberry.ID


@strawberry.input
class SynthOutcomeInput:
    synth_id: strawberry.ID
    did_not_try_rate: float
    failed_rate: float
    success_rate: float
    synth_attributes: JSON | None = None


@strawberry.input
class RecordSynthOutcomesInput:
    analysis_id: strawberry.ID
    outcomes: list[SynthOutcomeInput] = capped(service.MAX_BATCH)


@strawberry.input
class UpsertAnalysisCacheInput:
    analysis_id: strawberry.ID
    cache_key: str
    data: JSON
    params: JSON | None = None


@strawberry.input
class CreateResearchExecutionInput:
    topic_name: str
    experiment_id: strawberry.ID | None = None
    synth_count: int = 0
    model: str = "gpt-4o-mini"
    max_turns: int = 6
    additional_context: str | None = None


@strawberry.input
class SetResearchExecutionStatusInput:
    id: strawberry.ID
    status: ResearchStatus


@strawberry.input
class AppendTranscriptMessagesInput:
    execution_id: strawberry.ID
    synth_id: strawberry.ID
    messages: list[JSON] = capped(service.MAX_MESSAGES)


@strawberry.input
class SetTranscriptStatusInput:
    execution_id: strawberry.ID
    synth_id: strawberry.ID
    status: str = strawberry.field(description="pending, running, completed or failed")


@strawberry.input
class UpsertInterviewGuideInput:
    experiment_id: strawberry.ID
    context_definition: str | None = None
    questions: str | None = None
    context_examples: str | None = None


@strawberry.input
class UpsertExperimentDocumentInput:
    experiment_id: strawberry.ID
    document_type: DocumentType
    markdown_content: str = ""
    metadata: JSON | None = None
    model: str = "gpt-4o-mini"
    status: DocumentStatus = DocumentStatus.COMPLETED
    error_message: str | None = None


@strawberry.input(description="One insight per simulation run and insight type.")
class UpsertChartInsightInput:
    simulation_run_id: strawberry.ID = strawberry.field(
        description="The SimulationRun the insight is about."
    )
    insight_type: str
    response_json: JSON


@strawberry.input
class CreateSensitivityResultInput:
    simulation_run_id: strawberry.ID
    deltas_used: JSON
    baseline_success: float
    most_sensitive_dimension: str
    dimensions: JSON
    analyzed_at: datetime | None = None


@strawberry.input
class CreateRegionAnalysisInput:
    simulation_run_id: strawberry.ID
    rules: JSON
    rule_text: str
    synth_count: int
    synth_percentage: float
    did_not_try_rate: float
    failed_rate: float
    success_rate: float
    failure_delta: float


@strawberry.input(description="A scenario: what changed, why, and how it scored.")
class ScenarioInput:
    scorecard_params: JSON
    action_applied: str | None = None
    action_category: str | None = None
    rationale: str | None = None
    short_action: str | None = None
    simulation_results: JSON | None = None
    execution_time_seconds: float | None = None
    llm_calls: int = 0
    node_status: NodeStatus = NodeStatus.ACTIVE


@strawberry.input
class CreateExplorationInput:
    experiment_id: strawberry.ID
    baseline_analysis_id: strawberry.ID
    goal: JSON
    config: JSON | None = None
    root: ScenarioInput


@strawberry.input
class ExpandNodeInput:
    parent_id: strawberry.ID
    children: list[ScenarioInput] = capped(trees.MAX_CHILDREN)


@strawberry.input
class SetNodeStatusInput:
    node_id: strawberry.ID
    status: NodeStatus


@strawberry.input
class FinishExplorationInput:
    exploration_id: strawberry.ID
    status: ExplorationStatus
