from typing import Any, Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import (
    ApiKeyPreset,
    DatasetOrderField,
    DocumentStatus,
    DocumentType,
    ExperimentKind,
    ExperimentOrderField,
    ExperimentRunOrderField,
    ExperimentStatus,
    ExplorationStatus,
    NodeStatus,
    ResearchStatus,
    RunPurpose,
    ScenarioNodeOrderField,
    Scope,
    SimulationRunOrderField,
    SortDirection,
    TagOrderField,
    UnitType,
    UserOrderField,
    UserRole,
)


class AbTestInput(BaseModel):
    """Fields of an A/B test."""

    end_at: Optional[str] = Field(alias="endAt", default=None)
    start_at: Optional[str] = Field(alias="startAt", default=None)
    unit_type: Optional[UnitType] = Field(alias="unitType", default=None)


class AddDatasetExamplesInput(BaseModel):
    dataset_id: str = Field(alias="datasetId")
    dataset_version_id: str = Field(alias="datasetVersionId")
    examples: list["DatasetExampleInput"]
    "At most 5,000 items."


class AddEvaluatorConfigInput(BaseModel):
    evaluator_config: "EvaluatorConfigInput" = Field(alias="evaluatorConfig")
    experiment_id: str = Field(alias="experimentId")


class AnalysisRunIdInput(BaseModel):
    id: str


class AnnotationInput(BaseModel):
    error: Optional[str] = None
    experiment_run_id: str = Field(alias="experimentRunId")
    explanation: Optional[str] = None
    label: Optional[str] = None
    metadata: Optional[Any] = None
    name: str
    score: Optional[float] = None


class AppendTranscriptMessagesInput(BaseModel):
    execution_id: str = Field(alias="executionId")
    messages: list[Any]
    "At most 1,000 items."
    synth_id: str = Field(alias="synthId")


class ClaimExecutionInput(BaseModel):
    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    "Omit to claim the next claimable experiment (oldest first)."
    worker_id: str = Field(alias="workerId")


class CompleteSimulationRunInput(BaseModel):
    aggregated_outcomes: Optional[Any] = Field(alias="aggregatedOutcomes", default=None)
    execution_time_seconds: Optional[float] = Field(
        alias="executionTimeSeconds", default=None
    )
    id: str
    total_cost: Optional[str] = Field(alias="totalCost", default=None)
    "Integer cents."
    total_synths: Optional[int] = Field(alias="totalSynths", default=None)


class CreateAnalysisRunInput(BaseModel):
    config: Optional[Any] = None
    experiment_id: str = Field(alias="experimentId")
    scenario_id: str = Field(alias="scenarioId", default="baseline")


class CreateApiKeyInput(BaseModel):
    expires_at: Optional[str] = Field(alias="expiresAt", default=None)
    name: str
    preset: Optional[ApiKeyPreset] = None
    "A named set of scopes (WORKER for `expgraph worker`); give scopes, a preset, or both."
    rate_limit: int = Field(alias="rateLimit", default=60)
    "Requests per minute."
    scopes: list[Scope] = Field(default_factory=lambda: [])
    "What the key allows; with a preset, added to the preset's scopes. At most 4 items."


class CreateCustomProviderInput(BaseModel):
    """Credentials are stored encrypted and never returned."""

    base_url: Optional[str] = Field(alias="baseUrl", default=None)
    credentials: Optional[Any] = None
    name: str
    provider_kind: str = Field(alias="providerKind")


class CreateDatasetInput(BaseModel):
    description: Optional[str] = None
    fault_types: Optional[Any] = Field(alias="faultTypes", default=None)
    file_path: Optional[str] = Field(alias="filePath", default=None)
    metadata: Optional[Any] = None
    name: str
    num_signals: int = Field(alias="numSignals", default=0)
    severity_levels: Optional[Any] = Field(alias="severityLevels", default=None)


class CreateDatasetVersionInput(BaseModel):
    dataset_id: str = Field(alias="datasetId")
    description: Optional[str] = None
    metadata: Optional[Any] = None


class CreateExecutionConfigInput(BaseModel):
    evaluator_configs: list["EvaluatorConfigInput"] = Field(
        alias="evaluatorConfigs", default_factory=lambda: []
    )
    "At most 50 items."
    experiment_id: str = Field(alias="experimentId")
    task_config: "TaskConfigInput" = Field(alias="taskConfig")


class CreateExperimentInput(BaseModel):
    """A new experiment of one kind."""

    ab_test: Optional["AbTestInput"] = Field(alias="abTest", default=None)
    config: Optional[Any] = None
    description: Optional[str] = None
    evaluation: Optional["EvaluationInput"] = None
    kind: ExperimentKind
    metadata: Optional[Any] = None
    name: str
    research: Optional["ResearchInput"] = None
    simulation: Optional["SimulationInput"] = None
    status: ExperimentStatus = ExperimentStatus.DRAFT
    tag_ids: Optional[list[str]] = Field(alias="tagIds", default=None)
    "Tags to apply at once. At most 100 items."
    training: Optional["TrainingInput"] = None


class CreateExplorationInput(BaseModel):
    baseline_analysis_id: str = Field(alias="baselineAnalysisId")
    config: Optional[Any] = None
    experiment_id: str = Field(alias="experimentId")
    goal: Any
    root: "ScenarioInput"


class CreatePromptInput(BaseModel):
    description: Optional[str] = None
    invocation_parameters: Optional[Any] = Field(
        alias="invocationParameters", default=None
    )
    model_name: str = Field(alias="modelName")
    model_provider: str = Field(alias="modelProvider")
    name: str
    template: str


class CreatePromptVersionInput(BaseModel):
    invocation_parameters: Optional[Any] = Field(
        alias="invocationParameters", default=None
    )
    model_name: str = Field(alias="modelName")
    model_provider: str = Field(alias="modelProvider")
    prompt_id: str = Field(alias="promptId")
    template: str


class CreateRegionAnalysisInput(BaseModel):
    did_not_try_rate: float = Field(alias="didNotTryRate")
    failed_rate: float = Field(alias="failedRate")
    failure_delta: float = Field(alias="failureDelta")
    rule_text: str = Field(alias="ruleText")
    rules: Any
    simulation_run_id: str = Field(alias="simulationRunId")
    success_rate: float = Field(alias="successRate")
    synth_count: int = Field(alias="synthCount")
    synth_percentage: float = Field(alias="synthPercentage")


class CreateResearchExecutionInput(BaseModel):
    additional_context: Optional[str] = Field(alias="additionalContext", default=None)
    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    max_turns: int = Field(alias="maxTurns", default=6)
    model: str = "gpt-4o-mini"
    synth_count: int = Field(alias="synthCount", default=0)
    topic_name: str = Field(alias="topicName")


class CreateSensitivityResultInput(BaseModel):
    analyzed_at: Optional[str] = Field(alias="analyzedAt", default=None)
    baseline_success: float = Field(alias="baselineSuccess")
    deltas_used: Any = Field(alias="deltasUsed")
    dimensions: Any
    most_sensitive_dimension: str = Field(alias="mostSensitiveDimension")
    simulation_run_id: str = Field(alias="simulationRunId")


class CreateSimulationRunInput(BaseModel):
    config: Optional[Any] = None
    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    iteration: Optional[int] = None
    run_purpose: RunPurpose = Field(alias="runPurpose", default=RunPurpose.STANDALONE)
    sample_index: Optional[int] = Field(alias="sampleIndex", default=None)
    scenario_id: Optional[str] = Field(alias="scenarioId", default=None)
    seed: Optional[str] = None
    "The run's random seed, stored so the run can be reproduced."
    status: str = "running"


class CreateSynthGroupInput(BaseModel):
    description: Optional[str] = None
    name: str


class CreateTagInput(BaseModel):
    color: Optional[str] = None
    "#rrggbb"
    name: str


class CreateUserInput(BaseModel):
    email: str
    password: Optional[str] = None
    "At least 12 characters; stored only as an argon2id hash."
    role: UserRole = UserRole.MEMBER
    username: str


class DatasetExampleInput(BaseModel):
    input: Any
    metadata: Optional[Any] = None
    output: Optional[Any] = None


class DatasetFilter(BaseModel):
    """Conditions on datasets."""

    and_: Optional[list["DatasetFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    created_by_id: Optional[str] = Field(alias="createdById", default=None)
    name_contains: Optional[str] = Field(alias="nameContains", default=None)
    not_: Optional["DatasetFilter"] = Field(alias="not", default=None)
    or_: Optional[list["DatasetFilter"]] = Field(alias="or", default=None)
    "At most 20 items."


class DatasetOrder(BaseModel):
    direction: SortDirection = SortDirection.ASC
    field: DatasetOrderField


class DeleteCustomProviderInput(BaseModel):
    id: str


class EvaluationInput(BaseModel):
    """Fields of an evaluation experiment."""

    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    dataset_version_id: Optional[str] = Field(alias="datasetVersionId", default=None)
    repetitions: Optional[int] = None
    "How many times each dataset example runs (1 when null); 0 to 1,000."


class EvaluatorConfigInput(BaseModel):
    """One evaluator; its name names its annotations."""

    custom_provider_id: Optional[str] = Field(alias="customProviderId", default=None)
    kind: str = "code"
    "llm_judge, code, exact_match, contains"
    model_name: Optional[str] = Field(alias="modelName", default=None)
    model_provider: Optional[str] = Field(alias="modelProvider", default=None)
    name: str
    parameters: Optional[Any] = None
    prompt_version_id: Optional[str] = Field(alias="promptVersionId", default=None)


class ExpandNodeInput(BaseModel):
    children: list["ScenarioInput"]
    "At most 100 items."
    parent_id: str = Field(alias="parentId")


class ExperimentEventFilter(BaseModel):
    and_: Optional[list["ExperimentEventFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    event_types: Optional[list[str]] = Field(alias="eventTypes", default=None)
    "At most 100 items."
    iteration: Optional[int] = None
    not_: Optional["ExperimentEventFilter"] = Field(alias="not", default=None)
    or_: Optional[list["ExperimentEventFilter"]] = Field(alias="or", default=None)
    "At most 20 items."


class ExperimentEventInput(BaseModel):
    event_data: Optional[Any] = Field(alias="eventData", default=None)
    event_type: str = Field(alias="eventType")
    iteration: int
    timestamp: Optional[str] = None


class ExperimentFilter(BaseModel):
    """Conditions on experiments; all given conditions must hold."""

    and_: Optional[list["ExperimentFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    created_after: Optional[str] = Field(alias="createdAfter", default=None)
    created_before: Optional[str] = Field(alias="createdBefore", default=None)
    created_by_id: Optional[str] = Field(alias="createdById", default=None)
    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    kinds: Optional[list[ExperimentKind]] = None
    "At most 5 items."
    name_contains: Optional[str] = Field(alias="nameContains", default=None)
    "Case-insensitive substring of the name."
    not_: Optional["ExperimentFilter"] = Field(alias="not", default=None)
    or_: Optional[list["ExperimentFilter"]] = Field(alias="or", default=None)
    "At most 20 items."
    statuses: Optional[list[ExperimentStatus]] = None
    "At most 7 items."
    tag_slugs: Optional[list[str]] = Field(alias="tagSlugs", default=None)
    "Has every one of these tags. At most 200 items."


class ExperimentIdInput(BaseModel):
    id: str


class ExperimentOrder(BaseModel):
    direction: SortDirection = SortDirection.ASC
    field: ExperimentOrderField


class ExperimentRunFilter(BaseModel):
    """Conditions on runs."""

    and_: Optional[list["ExperimentRunFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    dataset_example_id: Optional[str] = Field(alias="datasetExampleId", default=None)
    has_error: Optional[bool] = Field(alias="hasError", default=None)
    not_: Optional["ExperimentRunFilter"] = Field(alias="not", default=None)
    or_: Optional[list["ExperimentRunFilter"]] = Field(alias="or", default=None)
    "At most 20 items."
    repetition: Optional[int] = None


class ExperimentRunOrder(BaseModel):
    direction: SortDirection = SortDirection.ASC
    field: ExperimentRunOrderField


class ExperimentTagInput(BaseModel):
    experiment_id: str = Field(alias="experimentId")
    tag_id: str = Field(alias="tagId")


class FinishExplorationInput(BaseModel):
    exploration_id: str = Field(alias="explorationId")
    status: ExplorationStatus


class HolderInput(BaseModel):
    experiment_id: str = Field(alias="experimentId")
    fencing_token: str = Field(alias="fencingToken")
    worker_id: str = Field(alias="workerId")


class IdInput(BaseModel):
    id: str


class ImportSynthsInput(BaseModel):
    synth_group_id: Optional[str] = Field(alias="synthGroupId", default=None)
    synths: list["SynthInput"]
    "At most 5,000 items."


class LoginInput(BaseModel):
    """Sign in with a username or an email, and a password."""

    backup_code: Optional[str] = Field(alias="backupCode", default=None)
    "Or one of the backup codes; each works once."
    email: Optional[str] = None
    password: str
    totp_code: Optional[str] = Field(alias="totpCode", default=None)
    "The current 6-digit code, when two-factor sign-in is on."
    username: Optional[str] = None


class RecordExperimentEventsInput(BaseModel):
    events: list["ExperimentEventInput"]
    "At most 5,000 items."
    experiment_id: str = Field(alias="experimentId")


class RecordExperimentRunsInput(BaseModel):
    experiment_id: str = Field(alias="experimentId")
    fencing_token: str = Field(alias="fencingToken")
    runs: list["RunInput"]
    "At most 1,000 items."
    worker_id: str = Field(alias="workerId")


class RecordIterationInput(BaseModel):
    accepted_changes: Optional[Any] = Field(alias="acceptedChanges", default=None)
    costs_per_agent: Any = Field(alias="costsPerAgent")
    "Agent id -> integer cents."
    evaluation_simulation_run_id: Optional[str] = Field(
        alias="evaluationSimulationRunId", default=None
    )
    experiment_id: str = Field(alias="experimentId")
    iteration: int
    policies: Optional[Any] = None


class RecordRunAnnotationsInput(BaseModel):
    annotations: list["AnnotationInput"]
    "At most 1,000 items."
    experiment_id: str = Field(alias="experimentId")
    fencing_token: str = Field(alias="fencingToken")
    worker_id: str = Field(alias="workerId")


class RecordSynthOutcomesInput(BaseModel):
    analysis_id: str = Field(alias="analysisId")
    outcomes: list["SynthOutcomeInput"]
    "At most 5,000 items."


class ReleaseExecutionInput(BaseModel):
    error: Optional[str] = None
    "Recorded as lastError."
    experiment_id: str = Field(alias="experimentId")
    fencing_token: str = Field(alias="fencingToken")
    worker_id: str = Field(alias="workerId")


class ResearchExecutionFilter(BaseModel):
    and_: Optional[list["ResearchExecutionFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    not_: Optional["ResearchExecutionFilter"] = Field(alias="not", default=None)
    or_: Optional[list["ResearchExecutionFilter"]] = Field(alias="or", default=None)
    "At most 20 items."
    statuses: Optional[list[ResearchStatus]] = None
    "At most 5 items."
    topic_contains: Optional[str] = Field(alias="topicContains", default=None)


class ResearchInput(BaseModel):
    """Fields of a research experiment."""

    hypothesis: Optional[str] = None
    "Required at creation; at most 500 characters."
    scorecard_data: Optional[Any] = Field(alias="scorecardData", default=None)


class RunInput(BaseModel):
    completion_tokens: Optional[int] = Field(alias="completionTokens", default=None)
    cost_micros: Optional[str] = Field(alias="costMicros", default=None)
    dataset_example_id: str = Field(alias="datasetExampleId")
    end_time: Optional[str] = Field(alias="endTime", default=None)
    error: Optional[str] = None
    latency_ms: Optional[float] = Field(alias="latencyMs", default=None)
    output: Optional[Any] = None
    prompt_tokens: Optional[int] = Field(alias="promptTokens", default=None)
    repetition_number: int = Field(alias="repetitionNumber")
    start_time: Optional[str] = Field(alias="startTime", default=None)


class ScenarioInput(BaseModel):
    """A scenario: what changed, why, and how it scored."""

    action_applied: Optional[str] = Field(alias="actionApplied", default=None)
    action_category: Optional[str] = Field(alias="actionCategory", default=None)
    execution_time_seconds: Optional[float] = Field(
        alias="executionTimeSeconds", default=None
    )
    llm_calls: int = Field(alias="llmCalls", default=0)
    node_status: NodeStatus = Field(alias="nodeStatus", default=NodeStatus.ACTIVE)
    rationale: Optional[str] = None
    scorecard_params: Any = Field(alias="scorecardParams")
    short_action: Optional[str] = Field(alias="shortAction", default=None)
    simulation_results: Optional[Any] = Field(alias="simulationResults", default=None)


class ScenarioNodeFilter(BaseModel):
    """Conditions on scenario nodes."""

    and_: Optional[list["ScenarioNodeFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    depth: Optional[int] = None
    max_depth: Optional[int] = Field(alias="maxDepth", default=None)
    min_depth: Optional[int] = Field(alias="minDepth", default=None)
    not_: Optional["ScenarioNodeFilter"] = Field(alias="not", default=None)
    or_: Optional[list["ScenarioNodeFilter"]] = Field(alias="or", default=None)
    "At most 20 items."
    statuses: Optional[list[NodeStatus]] = None
    "At most 4 items."


class ScenarioNodeOrder(BaseModel):
    direction: SortDirection = SortDirection.ASC
    field: ScenarioNodeOrderField


class SetNodeStatusInput(BaseModel):
    node_id: str = Field(alias="nodeId")
    status: NodeStatus


class SetResearchExecutionStatusInput(BaseModel):
    id: str
    status: ResearchStatus


class SetTranscriptStatusInput(BaseModel):
    execution_id: str = Field(alias="executionId")
    status: str
    "pending, running, completed or failed"
    synth_id: str = Field(alias="synthId")


class SimulationInput(BaseModel):
    """Fields of a simulation experiment; costs in integer cents."""

    best_cost: Optional[str] = Field(alias="bestCost", default=None)
    completed_at: Optional[str] = Field(alias="completedAt", default=None)
    converged: Optional[bool] = None
    convergence_reason: Optional[str] = Field(alias="convergenceReason", default=None)
    final_cost: Optional[str] = Field(alias="finalCost", default=None)
    master_seed: Optional[str] = Field(alias="masterSeed", default=None)
    "Required at creation: runs are reproducible from it."
    num_iterations: Optional[int] = Field(alias="numIterations", default=None)
    scenario_path: Optional[str] = Field(alias="scenarioPath", default=None)
    simulation_type: Optional[str] = Field(alias="simulationType", default=None)


class SimulationRunFilter(BaseModel):
    and_: Optional[list["SimulationRunFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    iteration: Optional[int] = None
    not_: Optional["SimulationRunFilter"] = Field(alias="not", default=None)
    or_: Optional[list["SimulationRunFilter"]] = Field(alias="or", default=None)
    "At most 20 items."
    run_purposes: Optional[list[RunPurpose]] = Field(alias="runPurposes", default=None)
    "At most 6 items."
    sample_index: Optional[int] = Field(alias="sampleIndex", default=None)


class SimulationRunOrder(BaseModel):
    direction: SortDirection = SortDirection.ASC
    field: SimulationRunOrderField


class SynthFilter(BaseModel):
    and_: Optional[list["SynthFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    group_id: Optional[str] = Field(alias="groupId", default=None)
    name_contains: Optional[str] = Field(alias="nameContains", default=None)
    not_: Optional["SynthFilter"] = Field(alias="not", default=None)
    or_: Optional[list["SynthFilter"]] = Field(alias="or", default=None)
    "At most 20 items."


class SynthInput(BaseModel):
    avatar_path: Optional[str] = Field(alias="avatarPath", default=None)
    data: Optional[Any] = None
    description: Optional[str] = None
    link_photo: Optional[str] = Field(alias="linkPhoto", default=None)
    name: str
    version: Optional[str] = None


class SynthOutcomeInput(BaseModel):
    did_not_try_rate: float = Field(alias="didNotTryRate")
    failed_rate: float = Field(alias="failedRate")
    success_rate: float = Field(alias="successRate")
    synth_attributes: Optional[Any] = Field(alias="synthAttributes", default=None)
    synth_id: str = Field(alias="synthId")


class SystemLogFilter(BaseModel):
    """Conditions on audit records."""

    actions: Optional[list[str]] = None
    "At most 100 items."
    and_: Optional[list["SystemLogFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    created_after: Optional[str] = Field(alias="createdAfter", default=None)
    created_before: Optional[str] = Field(alias="createdBefore", default=None)
    not_: Optional["SystemLogFilter"] = Field(alias="not", default=None)
    or_: Optional[list["SystemLogFilter"]] = Field(alias="or", default=None)
    "At most 20 items."
    statuses: Optional[list[str]] = None
    "success, failure, denied At most 100 items."
    user_id: Optional[str] = Field(alias="userId", default=None)


class TagFilter(BaseModel):
    """Conditions on tags."""

    and_: Optional[list["TagFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    name_contains: Optional[str] = Field(alias="nameContains", default=None)
    not_: Optional["TagFilter"] = Field(alias="not", default=None)
    or_: Optional[list["TagFilter"]] = Field(alias="or", default=None)
    "At most 20 items."
    slugs: Optional[list[str]] = None
    "At most 200 items."


class TagIdInput(BaseModel):
    id: str


class TagOrder(BaseModel):
    direction: SortDirection = SortDirection.ASC
    field: TagOrderField


class TaskConfigInput(BaseModel):
    """What each run does. Ids are global ids."""

    custom_provider_id: Optional[str] = Field(alias="customProviderId", default=None)
    invocation_parameters: Optional[Any] = Field(
        alias="invocationParameters", default=None
    )
    max_concurrency: int = Field(alias="maxConcurrency", default=4)
    model_name: str = Field(alias="modelName")
    model_provider: str = Field(alias="modelProvider")
    prompt_version_id: Optional[str] = Field(alias="promptVersionId", default=None)
    template: Optional[str] = None


class ToggleExecutionInput(BaseModel):
    enabled: bool
    experiment_id: str = Field(alias="experimentId")


class TotpCodeInput(BaseModel):
    code: str


class TrainingInput(BaseModel):
    """Fields of a training experiment."""

    best_epoch: Optional[int] = Field(alias="bestEpoch", default=None)
    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    duration_seconds: Optional[float] = Field(alias="durationSeconds", default=None)
    hyperparameters: Optional[Any] = None
    metrics: Optional[Any] = None
    model_path: Optional[str] = Field(alias="modelPath", default=None)
    model_type: Optional[str] = Field(alias="modelType", default=None)
    notes: Optional[str] = None
    onnx_path: Optional[str] = Field(alias="onnxPath", default=None)
    results_dir: Optional[str] = Field(alias="resultsDir", default=None)
    total_epochs: Optional[int] = Field(alias="totalEpochs", default=None)


class UpdateExperimentInput(BaseModel):
    """Changes to an experiment; omitted fields stay as they are."""

    ab_test: Optional["AbTestInput"] = Field(alias="abTest", default=None)
    config: Optional[Any] = None
    description: Optional[str] = None
    evaluation: Optional["EvaluationInput"] = None
    id: str
    metadata: Optional[Any] = None
    name: Optional[str] = None
    research: Optional["ResearchInput"] = None
    simulation: Optional["SimulationInput"] = None
    status: Optional[ExperimentStatus] = None
    training: Optional["TrainingInput"] = None


class UpdateTagInput(BaseModel):
    color: Optional[str] = None
    id: str
    name: Optional[str] = None


class UpdateUserInput(BaseModel):
    """Admins change a user's role or deactivate them."""

    id: str
    is_active: Optional[bool] = Field(alias="isActive", default=None)
    role: Optional[UserRole] = None


class UpsertAnalysisCacheInput(BaseModel):
    analysis_id: str = Field(alias="analysisId")
    cache_key: str = Field(alias="cacheKey")
    data: Any
    params: Optional[Any] = None


class UpsertChartInsightInput(BaseModel):
    """One insight per simulation run and insight type."""

    insight_type: str = Field(alias="insightType")
    response_json: Any = Field(alias="responseJson")
    simulation_run_id: str = Field(alias="simulationRunId")
    "The SimulationRun the insight is about."


class UpsertExperimentDocumentInput(BaseModel):
    document_type: DocumentType = Field(alias="documentType")
    error_message: Optional[str] = Field(alias="errorMessage", default=None)
    experiment_id: str = Field(alias="experimentId")
    markdown_content: str = Field(alias="markdownContent", default="")
    metadata: Optional[Any] = None
    model: str = "gpt-4o-mini"
    status: DocumentStatus = DocumentStatus.COMPLETED


class UpsertInterviewGuideInput(BaseModel):
    context_definition: Optional[str] = Field(alias="contextDefinition", default=None)
    context_examples: Optional[str] = Field(alias="contextExamples", default=None)
    experiment_id: str = Field(alias="experimentId")
    questions: Optional[str] = None


class UserFilter(BaseModel):
    """Conditions on users."""

    and_: Optional[list["UserFilter"]] = Field(alias="and", default=None)
    "At most 20 items."
    is_active: Optional[bool] = Field(alias="isActive", default=None)
    not_: Optional["UserFilter"] = Field(alias="not", default=None)
    or_: Optional[list["UserFilter"]] = Field(alias="or", default=None)
    "At most 20 items."
    roles: Optional[list[UserRole]] = None
    "At most 3 items."
    search: Optional[str] = None
    "Case-insensitive substring of username or email."


class UserOrder(BaseModel):
    direction: SortDirection = SortDirection.ASC
    field: UserOrderField


AddDatasetExamplesInput.model_rebuild()
AddEvaluatorConfigInput.model_rebuild()
CreateExecutionConfigInput.model_rebuild()
CreateExperimentInput.model_rebuild()
CreateExplorationInput.model_rebuild()
DatasetFilter.model_rebuild()
ExpandNodeInput.model_rebuild()
ExperimentEventFilter.model_rebuild()
ExperimentFilter.model_rebuild()
ExperimentRunFilter.model_rebuild()
ImportSynthsInput.model_rebuild()
RecordExperimentEventsInput.model_rebuild()
RecordExperimentRunsInput.model_rebuild()
RecordRunAnnotationsInput.model_rebuild()
RecordSynthOutcomesInput.model_rebuild()
ResearchExecutionFilter.model_rebuild()
ScenarioNodeFilter.model_rebuild()
SimulationRunFilter.model_rebuild()
SynthFilter.model_rebuild()
SystemLogFilter.model_rebuild()
TagFilter.model_rebuild()
UpdateExperimentInput.model_rebuild()
UserFilter.model_rebuild()
