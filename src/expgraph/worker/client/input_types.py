from typing import Any, Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import (
    ApiKeyPreset,
    AuditStatus,
    BucketType,
    DatasetJobKind,
    DatasetJobOutcome,
    DatasetJobStatus,
    DatasetOrderField,
    DocumentStatus,
    DocumentType,
    EmailFrequency,
    EvaluatorKind,
    ExperimentKind,
    ExperimentOrderField,
    ExperimentRunOrderField,
    ExperimentStatus,
    ExplorationStatus,
    HpoMethod,
    HpoParameterKind,
    HpoTrialOutcome,
    NasCampaignStatus,
    NasSearchAlgorithm,
    NasTrialStatus,
    NodeStatus,
    NotificationEventType,
    ObjectiveDirection,
    PolicyVersionStatus,
    ReplayStatus,
    ResearchStatus,
    RunPurpose,
    ScenarioNodeOrderField,
    Scope,
    SimulationRunOrderField,
    SimulationRunStatus,
    SortDirection,
    TagOrderField,
    TrainingMetric,
    TranscriptStatus,
    UnitType,
    UserOrderField,
    UserRole,
    WebhookProvider,
)


class AbTestInput(BaseModel):
    """Changes to an A/B test's fields."""

    end_at: Optional[str] = Field(alias="endAt", default=None)
    "When assignment ends."
    hash_seed: Optional[str] = Field(alias="hashSeed", default=None)
    "The seed units are hashed with (GrowthBook's hashing: give the SDK the same seed to bucket offline); the experiment's name when omitted at creation. Fixed once the experiment has run (CONFLICT). 1-255 characters."
    start_at: Optional[str] = Field(alias="startAt", default=None)
    "When assignment starts."
    unit_type: Optional[UnitType] = Field(alias="unitType", default=None)
    "What is assigned to variants; cannot be null."


class AddDatasetExamplesInput(BaseModel):
    """A batch of examples for one version of a dataset, added all or none."""

    dataset_id: str = Field(alias="datasetId")
    "Global ID of the dataset."
    dataset_version_id: str = Field(alias="datasetVersionId")
    "Global ID of the version to add to; it must be one of the dataset's."
    examples: list["DatasetExampleInput"]
    "The examples; at least one. At most 5,000 items."


class AddEvaluatorConfigInput(BaseModel):
    """Adds one evaluator to an execution config."""

    evaluator_config: "EvaluatorConfigInput" = Field(alias="evaluatorConfig")
    "The evaluator; its name must be new to the config."
    experiment_id: str = Field(alias="experimentId")
    "Global id of the experiment."


class AnalysisRunIdInput(BaseModel):
    """Names one analysis run."""

    id: str
    "The analysis run."


class AnnotationInput(BaseModel):
    """One evaluator result; recording the same run and name again replaces it."""

    error: Optional[str] = None
    "Why the evaluator failed; null on success."
    experiment_run_id: str = Field(alias="experimentRunId")
    "Global id of a run of the claimed experiment."
    explanation: Optional[str] = None
    "The evaluator's reasoning."
    label: Optional[str] = None
    "Categorical verdict, at most 255 characters."
    metadata: Optional[Any] = None
    "Free-form JSON object; {} when omitted."
    name: str
    "The evaluator's name, at most 100 characters."
    score: Optional[float] = None
    "Numeric score."


class AppendTranscriptMessagesInput(BaseModel):
    """Messages to add to the end of one synth's transcript in a round (created on first use)."""

    execution_id: str = Field(alias="executionId")
    "The research execution; it must not be completed or failed."
    messages: list[Any]
    "The messages, from 1 to 1000, each any JSON value. At most 1,000 items."
    synth_id: str = Field(alias="synthId")
    "The synth interviewed."


class AssignUnitInput(BaseModel):
    """A unit to assign in one A/B test."""

    experiment_id: str = Field(alias="experimentId")
    "The A/B test's id."
    unit_id: str = Field(alias="unitId")
    "The unit's identifier (a user id, ...); 1 to 255 characters."
    unit_type: UnitType = Field(alias="unitType")
    "The unit's type; must be the experiment's unit type (BAD_REQUEST otherwise)."


class AssignUnitsInput(BaseModel):
    """A unit to assign in several A/B tests at once."""

    experiment_ids: Optional[list[str]] = Field(alias="experimentIds", default=None)
    "The A/B tests; each must be running inside its window (CONFLICT otherwise). When null: every running A/B test of this unit type inside its window (at most 100). At most 100 items."
    unit_id: str = Field(alias="unitId")
    "The unit's identifier (a user id, ...); 1 to 255 characters."
    unit_type: UnitType = Field(alias="unitType")
    "The unit's type."


class AssignmentFilter(BaseModel):
    """Conditions on an A/B test's assignments; all given must hold."""

    assigned_since: Optional[str] = Field(alias="assignedSince", default=None)
    "Only units assigned at or after this time."
    unit_id: Optional[str] = Field(alias="unitId", default=None)
    "Only this unit."
    unit_type: Optional[UnitType] = Field(alias="unitType", default=None)
    "Only units of this type."
    variant_id: Optional[str] = Field(alias="variantId", default=None)
    "Only the units assigned to this variant."


class CancelDatasetJobInput(BaseModel):
    """Cancel a dataset job."""

    job_id: str = Field(alias="jobId")
    "The DatasetGeneration or DatasetImport."


class CancelNasCampaignInput(BaseModel):
    """A NAS campaign to cancel."""

    campaign_id: str = Field(alias="campaignId")
    "The campaign."


class ClaimDatasetJobInput(BaseModel):
    """Claim the next dataset job."""

    kind: Optional[DatasetJobKind] = None
    "Only jobs of this kind; left out, generations before imports."
    worker_id: str = Field(alias="workerId")
    "Who claims, 1 to 255 characters; send it back with every later call."


class ClaimExecutionInput(BaseModel):
    """Asks for a claim on an execution."""

    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    "Omit to claim the next claimable experiment (oldest first)."
    worker_id: str = Field(alias="workerId")
    "Identifies the claiming worker, 1-255 characters after trimming."


class ClaimHpoTrialInput(BaseModel):
    """Claim the next trial."""

    campaign_id: Optional[str] = Field(alias="campaignId", default=None)
    "Claim in this campaign; omit for the oldest PENDING or RUNNING one with room."
    worker_id: str = Field(alias="workerId")
    "Identifies the worker, 1-255 characters."


class ClaimNasTrialInput(BaseModel):
    """Claim a new trial of a NAS campaign."""

    campaign_id: Optional[str] = Field(alias="campaignId", default=None)
    "The campaign; left out: the oldest PENDING or RUNNING campaign with room."
    worker_id: str = Field(alias="workerId")
    "Who claims: 1 to 255 characters."


class CompleteSimulationRunInput(BaseModel):
    """The results of a simulation run; a run can be completed once (again is a CONFLICT)."""

    aggregated_outcomes: Optional[Any] = Field(alias="aggregatedOutcomes", default=None)
    "Summary of the run's outcomes (a JSON object)."
    execution_time_seconds: Optional[float] = Field(
        alias="executionTimeSeconds", default=None
    )
    "Wall-clock duration in seconds."
    id: str
    "The simulation run."
    total_cost: Optional[str] = Field(alias="totalCost", default=None)
    "Integer cents."
    total_synths: Optional[int] = Field(alias="totalSynths", default=None)
    "Number of synths simulated."


class CreateAbTestInput(BaseModel):
    """Fields of a new A/B test."""

    end_at: Optional[str] = Field(alias="endAt", default=None)
    "When assignment ends."
    hash_seed: Optional[str] = Field(alias="hashSeed", default=None)
    "The seed units are hashed with (GrowthBook's hashing: give the SDK the same seed to bucket offline); the experiment's name when omitted at creation. Fixed once the experiment has run (CONFLICT). 1-255 characters."
    start_at: Optional[str] = Field(alias="startAt", default=None)
    "When assignment starts."
    unit_type: UnitType = Field(alias="unitType")
    "What is assigned to variants (users, households or sessions)."


class CreateAnalysisRunInput(BaseModel):
    """The analysis of a research experiment; an experiment has at most one (a second is a (else CONFLICT)."""

    config: Optional[Any] = None
    "The analysis configuration (a JSON object)."
    experiment_id: str = Field(alias="experimentId")
    "The research experiment to analyse."
    scenario_id: str = Field(alias="scenarioId", default="baseline")
    'The scenario to analyse; "baseline" if omitted.'


class CreateApiKeyInput(BaseModel):
    """A new API key for yourself; its scopes may not exceed your role."""

    expires_at: Optional[str] = Field(alias="expiresAt", default=None)
    "When the key stops working; null for a key that does not expire."
    name: str
    "A label to recognise the key by."
    preset: Optional[ApiKeyPreset] = None
    "A named set of scopes (WORKER for `expgraph worker`); give scopes, a preset, or both."
    rate_limit: int = Field(alias="rateLimit", default=60)
    "Requests per minute."
    scopes: list[Scope] = Field(default_factory=lambda: [])
    "What the key allows; with a preset, added to the preset's scopes. At most 4 items."


class CreateCustomProviderInput(BaseModel):
    """Credentials are stored encrypted and never returned."""

    base_url: Optional[str] = Field(alias="baseUrl", default=None)
    "Endpoint URL, at most 1,000 characters."
    credentials: Optional[Any] = None
    "JSON object of secrets; encrypted, never readable again."
    name: str
    "Unique provider name, at most 255 characters."
    provider_kind: str = Field(alias="providerKind")
    "Which API it speaks, at most 50 characters."


class CreateDatasetInput(BaseModel):
    """A new dataset."""

    description: Optional[str] = None
    "Free text, at most 10,000 characters."
    fault_types: Optional[Any] = Field(alias="faultTypes", default=None)
    "The fault classes its signals cover, as a JSON list."
    file_path: Optional[str] = Field(alias="filePath", default=None)
    "Where the dataset's files are stored, when on disk."
    metadata: Optional[Any] = None
    "Any JSON object; {} when null."
    name: str
    "Display name, unique, at most 255 characters."
    num_signals: int = Field(alias="numSignals", default=0)
    "How many recorded signals the dataset holds."
    severity_levels: Optional[Any] = Field(alias="severityLevels", default=None)
    "The severity levels its signals cover, as a JSON list."


class CreateDatasetJobInput(BaseModel):
    """A new dataset job."""

    config: Optional[Any] = None
    "What the worker is to do, a JSON object ({} when left out)."
    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    "An existing dataset the job updates when it completes; left out, the job creates the dataset its worker names."
    name: str
    "Display name, 1 to 255 characters."


class CreateDatasetVersionInput(BaseModel):
    """A new version of a dataset."""

    dataset_id: str = Field(alias="datasetId")
    "Global ID of the dataset."
    description: Optional[str] = None
    "What changed in this version; at most 10,000 characters."
    metadata: Optional[Any] = None
    "Any JSON object; {} when null."


class CreateExecutionConfigInput(BaseModel):
    """Makes one evaluation experiment executable."""

    evaluator_configs: list["EvaluatorConfigInput"] = Field(
        alias="evaluatorConfigs", default_factory=lambda: []
    )
    "Evaluators to apply to each run. At most 50 items."
    experiment_id: str = Field(alias="experimentId")
    "Global id of an evaluation experiment with a dataset version."
    task_config: "TaskConfigInput" = Field(alias="taskConfig")
    "What each run does; fixed once created."


class CreateExperimentInput(BaseModel):
    """A new experiment of one kind."""

    ab_test: Optional["CreateAbTestInput"] = Field(alias="abTest", default=None)
    "Only for AB_TEST experiments; required to create one."
    config: Optional[Any] = None
    "Free-form JSON object; {} when omitted."
    description: Optional[str] = None
    "Free text."
    evaluation: Optional["EvaluationInput"] = None
    "Only for EVALUATION experiments."
    kind: ExperimentKind
    "Its kind; cannot change later."
    metadata: Optional[Any] = None
    "Free-form JSON object; {} when omitted."
    name: str
    "Display name, 1-255 characters, unique among live experiments."
    research: Optional["CreateResearchInput"] = None
    "Only for RESEARCH experiments; required to create one."
    simulation: Optional["CreateSimulationInput"] = None
    "Only for SIMULATION experiments; required to create one."
    status: ExperimentStatus = ExperimentStatus.DRAFT
    "Starting status; DRAFT unless given."
    tag_ids: Optional[list[str]] = Field(alias="tagIds", default=None)
    "Tags to apply at once. At most 100 items."
    training: Optional["TrainingInput"] = None
    "Only for TRAINING experiments."


class CreateExplanationsInput(BaseModel):
    """Explanations of one TRAINING experiment, stored all or none."""

    experiment_id: str = Field(alias="experimentId")
    "The TRAINING experiment."
    explanations: list["ExplanationInput"]
    "The explanations, 1 to 500. At most 500 items."


class CreateExplorationInput(BaseModel):
    """A new exploration of a research experiment, with its root scenario."""

    baseline_analysis_id: str = Field(alias="baselineAnalysisId")
    "The analysis run to start from; it must belong to the same experiment."
    config: Optional[Any] = None
    "The exploration's settings (a JSON object)."
    experiment_id: str = Field(alias="experimentId")
    "The research experiment to explore."
    goal: Any
    "What the exploration aims for (a JSON object)."
    root: "ScenarioInput"
    "The root scenario (depth 0)."


class CreateHpoCampaignInput(BaseModel):
    """A new HPO campaign."""

    base_model_type: str = Field(alias="baseModelType")
    "The model type every trial trains, 1-100 characters."
    budget: "HpoBudgetInput"
    "What the campaign may spend."
    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    "The dataset every trial trains on; optional."
    method: HpoMethod
    "How hyperparameters are chosen."
    name: str
    "Unique name, 1-255 characters."
    objective: Optional["HpoObjectiveInput"] = None
    "Default: VAL_ACCURACY, MAXIMIZE (the campaign's best value is stored as its best accuracy)."
    search_space: list["HpoParameterInput"] = Field(alias="searchSpace")
    "The hyperparameters searched, 1 to 32. At most 32 items."
    seed: Optional[str] = None
    "Seeds the sampler, 0 to 2^63 - 1: the same seed and reports give the same trials. Null: one is drawn at creation and kept (HpoCampaign.seed)."


class CreateNasCampaignInput(BaseModel):
    """A new NAS campaign (PENDING until its first trial is claimed)."""

    dataset_id: str = Field(alias="datasetId")
    "The dataset trials train on."
    max_epochs_per_trial: int = Field(alias="maxEpochsPerTrial")
    "The most epochs a trial trains for, 1 to 100,000."
    max_parallel: int = Field(alias="maxParallel", default=1)
    "The most trials running at once, 1 to 1,000."
    name: str
    "1 to 255 characters."
    num_trials: int = Field(alias="numTrials")
    "The budget: how many trials complete, 1 to 10,000."
    search_algorithm: NasSearchAlgorithm = Field(
        alias="searchAlgorithm", default=NasSearchAlgorithm.RANDOM
    )
    "How architectures are picked."
    search_space: "NasSearchSpaceInput" = Field(alias="searchSpace")
    "What is searched over."
    seed: Optional[str] = None
    "The sampler's seed, 0 to 2^63 - 1: the same seed and search space draw the same architectures. Left out: one is drawn at random (and shown as the campaign's seed)."


class CreatePolicyInput(BaseModel):
    """A new policy."""

    description: Optional[str] = None
    "Free text, at most 2,000 characters."
    name: str
    "Unique name, 1 to 255 characters."


class CreatePolicyVersionInput(BaseModel):
    """A new version of a policy; its number is the next integer."""

    config_defaults: Optional[Any] = Field(alias="configDefaults", default=None)
    "Default runtime parameters, a JSON object ({} when null)."
    mlflow_model_name: str = Field(alias="mlflowModelName")
    "The model's name in MLflow, 1 to 255 characters."
    mlflow_model_version: str = Field(alias="mlflowModelVersion")
    "The model's version in MLflow, 1 to 50 characters."
    policy_id: str = Field(alias="policyId")
    "The policy's id."


class CreatePromptInput(BaseModel):
    """A new prompt and its version 1."""

    description: Optional[str] = None
    "Free text, at most 10,000 characters."
    invocation_parameters: Optional[Any] = Field(
        alias="invocationParameters", default=None
    )
    "Model call parameters as a JSON object; secrets are refused."
    model_name: str = Field(alias="modelName")
    "Model name, at most 200 characters."
    model_provider: str = Field(alias="modelProvider")
    "Provider of the model, at most 100 characters."
    name: str
    "Unique prompt name, at most 255 characters."
    template: str
    "Template of version 1, at most 100,000 characters."


class CreatePromptVersionInput(BaseModel):
    """The next version of a prompt; it gets the next number."""

    invocation_parameters: Optional[Any] = Field(
        alias="invocationParameters", default=None
    )
    "Model call parameters as a JSON object; secrets are refused."
    model_name: str = Field(alias="modelName")
    "Model name, at most 200 characters."
    model_provider: str = Field(alias="modelProvider")
    "Provider of the model, at most 100 characters."
    prompt_id: str = Field(alias="promptId")
    "Global id of the prompt."
    template: str
    "Template text, at most 100,000 characters."


class CreateRegionAnalysisInput(BaseModel):
    """A region of synths found in a simulation run, with its rates."""

    did_not_try_rate: float = Field(alias="didNotTryRate")
    "Share of the region's attempts not tried, from 0 to 1."
    failed_rate: float = Field(alias="failedRate")
    "Share of the region's attempts that failed, from 0 to 1."
    failure_delta: float = Field(alias="failureDelta")
    "The region's failure rate minus the overall failure rate."
    rule_text: str = Field(alias="ruleText")
    "The same rules in words."
    rules: Any
    "The conditions on synth attributes that define the region (a JSON list)."
    simulation_run_id: str = Field(alias="simulationRunId")
    "The simulation run analysed."
    success_rate: float = Field(alias="successRate")
    "Share of the region's attempts that succeeded, from 0 to 1."
    synth_count: int = Field(alias="synthCount")
    "Number of synths in the region, 0 or more."
    synth_percentage: float = Field(alias="synthPercentage")
    "Share of all synths in the region, in percent (0 to 100)."


class CreateResearchExecutionInput(BaseModel):
    """A new round of interviews, created pending."""

    additional_context: Optional[str] = Field(alias="additionalContext", default=None)
    "Extra context for the interviewer."
    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    "The research experiment it belongs to; omit for none."
    max_turns: int = Field(alias="maxTurns", default=6)
    "Most turns an interview may take, 1 or more; 6 if omitted."
    model: str = "gpt-4o-mini"
    'The LLM to interview with; "gpt-4o-mini" if omitted.'
    synth_count: int = Field(alias="synthCount", default=0)
    "Number of synths meant to be interviewed, 0 or more."
    topic_name: str = Field(alias="topicName")
    "What the interviews are about."


class CreateResearchInput(BaseModel):
    """Fields of a new research experiment."""

    hypothesis: str
    "What the experiment sets out to test; 1-500 characters."
    scorecard_data: Optional[Any] = Field(alias="scorecardData", default=None)
    "The research scorecard as a JSON object."


class CreateSavedSearchInput(BaseModel):
    """A new saved search."""

    filter_: Optional["ExperimentFilter"] = Field(alias="filter", default=None)
    "The conditions, as on the experiments list; none: every one."
    name: str
    "1-255 characters, unique among your saved searches (CONFLICT otherwise)."
    order_by: Optional[list["ExperimentOrder"]] = Field(alias="orderBy", default=None)
    "The ordering, as on the experiments list; none: newest first. At most 3 items."
    pinned: bool = False
    "Show it first."


class CreateSensitivityResultInput(BaseModel):
    """A sensitivity analysis of a simulation run."""

    analyzed_at: Optional[str] = Field(alias="analyzedAt", default=None)
    "When the analysis was made; now if omitted."
    baseline_success: float = Field(alias="baselineSuccess")
    "The success rate without perturbation, from 0 to 1."
    deltas_used: Any = Field(alias="deltasUsed")
    "The perturbations applied to each dimension (a JSON list)."
    dimensions: Any
    "Per-dimension results (a JSON list)."
    most_sensitive_dimension: str = Field(alias="mostSensitiveDimension")
    "The dimension whose change moves success the most."
    simulation_run_id: str = Field(alias="simulationRunId")
    "The simulation run analysed."


class CreateSimulationInput(BaseModel):
    """Fields of a new simulation experiment; costs in integer cents."""

    best_cost: Optional[str] = Field(alias="bestCost", default=None)
    "Lowest cost of any iteration, integer cents, at least 0."
    completed_at: Optional[str] = Field(alias="completedAt", default=None)
    "When the simulation finished; null while it runs."
    converged: Optional[bool] = None
    "Whether the optimisation converged; null until known."
    convergence_reason: Optional[str] = Field(alias="convergenceReason", default=None)
    "Why it stopped, at most 255 characters."
    final_cost: Optional[str] = Field(alias="finalCost", default=None)
    "Cost of the final iteration, integer cents, at least 0."
    master_seed: str = Field(alias="masterSeed")
    "Seed every run derives its randomness from, so runs are reproducible."
    num_iterations: Optional[int] = Field(alias="numIterations", default=None)
    "Iterations run so far."
    scenario_path: Optional[str] = Field(alias="scenarioPath", default=None)
    "Path of the scenario file, at most 500 characters."
    simulation_type: Optional[str] = Field(alias="simulationType", default=None)
    "Simulation engine or model name, at most 100 characters."


class CreateSimulationRunInput(BaseModel):
    """A new simulation run, standalone or part of a simulation experiment."""

    config: Optional[Any] = None
    "The run's configuration (a JSON object)."
    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    "The simulation experiment it belongs to; omit for a standalone run."
    iteration: Optional[int] = None
    "The experiment iteration it belongs to, 0 or more."
    run_purpose: RunPurpose = Field(alias="runPurpose", default=RunPurpose.STANDALONE)
    "Why it runs; standalone if omitted."
    sample_index: Optional[int] = Field(alias="sampleIndex", default=None)
    "Its bootstrap sample number within the iteration, 0 or more."
    scenario_id: Optional[str] = Field(alias="scenarioId", default=None)
    "The scenario simulated."
    seed: Optional[str] = None
    "The run's random seed, stored so the run can be reproduced."
    status: SimulationRunStatus = SimulationRunStatus.RUNNING
    "Its initial status; RUNNING if omitted."


class CreateSynthGroupInput(BaseModel):
    """A new group of synths."""

    description: Optional[str] = None
    "What the group is for."
    name: str
    "The group's display name."


class CreateTagInput(BaseModel):
    """A new tag."""

    color: Optional[str] = None
    "#rrggbb"
    name: str
    "Display name, unique, at most 50 characters; the slug is made from it."


class CreateUserInput(BaseModel):
    """A new user; admins only."""

    email: str
    "Email address, unique; stored lower-cased."
    password: Optional[str] = None
    "At least 12 characters; stored only as an argon2id hash."
    role: UserRole = UserRole.MEMBER
    "What the user may do; MEMBER unless given."
    username: str
    "Sign-in name, unique; surrounding spaces are trimmed."


class CreateVariantInput(BaseModel):
    """A variant to add to an A/B test, after its existing variants."""

    allocation: Any
    'Share of units, from 0 to 1 with at most four decimal places ("0.25"); the experiment\'s variants may total at most 1.'
    config: Optional[Any] = None
    'What the arm runs, a JSON object in seed 001\'s format: {} for a plain arm; {"execution_strategy": "mlflow_model", "mlflow_model": {"policy_version_id", "model_name"}}; "prompt_template" with "prompt_config" {"prompt_version_id", "model_provider", "model_name"} and an optional "flow_config" {"flow_id", "initial_state"}; "hybrid" with both; "params" (an object) with any of them. The legacy format (no execution_strategy, policy_version_id at the root) reads as mlflow_model. Keys may also be given in camelCase; they are stored in snake_case. Ids are global ids of a PolicyVersion and a PromptVersion, which must exist.'
    description: Optional[str] = None
    "Free text, at most 2,000 characters."
    experiment_id: str = Field(alias="experimentId")
    "The A/B test's id."
    is_control: Optional[bool] = Field(alias="isControl", default=None)
    "Make it the control (the current control stops being one; only before the experiment first runs). When null: true for the first variant, else false."
    name: str
    "Unique within the experiment; 1 to 255 characters."


class CreateWebhookInput(BaseModel):
    """A new webhook for yourself."""

    description: Optional[str] = None
    "Free text."
    enabled_events: list[NotificationEventType] = Field(
        alias="enabledEvents", default_factory=lambda: []
    )
    "The events to receive; empty (the default): every event. At most 11 items."
    name: str
    "A label to recognise it by, at most 255 characters."
    provider_type: WebhookProvider = Field(
        alias="providerType", default=WebhookProvider.GENERIC
    )
    "The payload shape to send; GENERIC unless given."
    settings: Optional[Any] = None
    "Provider options, a JSON object (see WebhookProvider)."
    url: str
    "An http:// or https:// URL, unique among your webhooks, without a user name or password. Refused when its host resolves to a loopback, private, link-local, multicast or reserved address (unless the server allows them)."


class DatasetExampleInput(BaseModel):
    """One example to add."""

    input: Any
    "What the experiment is given, a JSON object."
    metadata: Optional[Any] = None
    "Any JSON object; {} when null."
    output: Optional[Any] = None
    "The expected output, a JSON object; {} when null."


class DatasetFilter(BaseModel):
    """Conditions on datasets."""

    and_: Optional[list["DatasetFilter"]] = Field(alias="and", default=None)
    "Matches every one of these conditions. At most 20 items."
    created_by_id: Optional[str] = Field(alias="createdById", default=None)
    "Global ID of the user who created it."
    name_contains: Optional[str] = Field(alias="nameContains", default=None)
    "Case-insensitive substring of the name."
    not_: Optional["DatasetFilter"] = Field(alias="not", default=None)
    "Does not match this condition."
    or_: Optional[list["DatasetFilter"]] = Field(alias="or", default=None)
    "Matches at least one of these conditions. At most 20 items."


class DatasetJobFilter(BaseModel):
    """Conditions on dataset jobs; all given must hold."""

    statuses: Optional[list[DatasetJobStatus]] = None
    "Only jobs in one of these statuses. At most 5 items."


class DatasetJobResultInput(BaseModel):
    """The dataset a completed job leaves."""

    description: Optional[str] = None
    "The dataset's description; left out, unchanged."
    name: Optional[str] = None
    "The new dataset's name, unique (a name in use is a CONFLICT); required unless the job names a dataset to update, ignored when it does."
    signals: list["DatasetJobSignalInput"] = Field(default_factory=lambda: [])
    "Its signals written by the job. At most 1,000 items."


class DatasetJobSignalInput(BaseModel):
    """A signal a completed dataset job wrote."""

    dominant_frequency: Optional[float] = Field(alias="dominantFrequency", default=None)
    "Strongest frequency component, in hertz."
    fault_class: Optional[str] = Field(alias="faultClass", default=None)
    "The fault it shows, at most 100 characters."
    file_path: Optional[str] = Field(alias="filePath", default=None)
    "Where its recording is stored, at most 500 characters."
    kurtosis: Optional[float] = None
    "Kurtosis."
    rms: Optional[float] = None
    "Root mean square amplitude."
    severity: Optional[str] = None
    "How severe the fault is, at most 50 characters."
    signal_id: str = Field(alias="signalId")
    "The signal's identifier, 1 to 255 characters, unique in the call; a signal of this identifier already in the dataset is updated, else one is added."


class DatasetOrder(BaseModel):
    """One sort key for datasets; list several to break ties."""

    direction: SortDirection = SortDirection.ASC
    "Ascending unless given."
    field: DatasetOrderField
    "What to sort by."


class DeleteCustomProviderInput(BaseModel):
    """Names the custom provider to delete."""

    id: str
    "Global id of the custom provider."


class DeletePolicyInput(BaseModel):
    """The policy to delete."""

    id: str
    "The policy's id; a policy with versions cannot be deleted."


class DeleteVariantInput(BaseModel):
    """The variant to delete."""

    id: str
    "The variant's id; only before its experiment first runs."


class EvaluationInput(BaseModel):
    """Fields of an evaluation experiment."""

    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    "Global id of the dataset it runs on; required before execution."
    dataset_version_id: Optional[str] = Field(alias="datasetVersionId", default=None)
    "Global id of the dataset version whose examples run; of that dataset."
    repetitions: Optional[int] = None
    "How many times each dataset example runs (1 when null); 0 to 1,000."


class EvaluatorConfigInput(BaseModel):
    """One evaluator; its name names its annotations."""

    custom_provider_id: Optional[str] = Field(alias="customProviderId", default=None)
    "Custom provider for the judge model."
    kind: EvaluatorKind = EvaluatorKind.CODE
    "What the evaluator does; CODE when omitted."
    model_name: Optional[str] = Field(alias="modelName", default=None)
    "Judge model name (LLM_JUDGE only)."
    model_provider: Optional[str] = Field(alias="modelProvider", default=None)
    "Judge model provider (LLM_JUDGE only)."
    name: str
    "1-100 characters, unique in the config; names its annotations."
    parameters: Optional[Any] = None
    "Evaluator settings as a JSON object; secrets are refused."
    prompt_version_id: Optional[str] = Field(alias="promptVersionId", default=None)
    "Judge prompt version (LLM_JUDGE only)."


class EventExperimentInput(BaseModel):
    """An experiment an event belongs to, and the unit's variant in it."""

    experiment_id: str = Field(alias="experimentId")
    "The A/B test's id."
    variant_id: str = Field(alias="variantId")
    "The variant the unit saw: must be its stored assignment or, for a unit not yet assigned, the one GrowthBook's bucketing gives it (BAD_REQUEST otherwise)."


class EventFilter(BaseModel):
    """Conditions on an A/B test's events; all given must hold."""

    event_type: Optional[str] = Field(alias="eventType", default=None)
    "Only events of this type."
    since: Optional[str] = None
    "Only events that happened at or after this time."
    unit_id: Optional[str] = Field(alias="unitId", default=None)
    "Only this unit's events."
    until: Optional[str] = None
    "Only events that happened before this time."


class EventInput(BaseModel):
    """An in-product action of a unit."""

    context: Optional[Any] = None
    "Context (app version, ...), a JSON object; {} when null."
    event_id: Optional[str] = Field(alias="eventId", default=None)
    "Your unique id of the event (1 to 255 characters): an event sent again with the same id is counted as a duplicate and not stored twice. When null, the server makes one (retries are then not recognised)."
    event_type: str = Field(alias="eventType")
    "What happened, such as plan_generated; 1 to 100 characters."
    experiments: list["EventExperimentInput"]
    "The A/B tests it counts for, each once; at least one. At most 50 items."
    metrics: Optional[Any] = None
    'Numbers measured, a JSON object of metric name to number ({"latency_ms": 120}); {} when null.'
    payload: Optional[Any] = None
    "Event-specific data, a JSON object; may be null."
    timestamp: str
    "When it happened, with a UTC offset; it chooses the aggregates' bucket."
    unit_id: str = Field(alias="unitId")
    "The unit's identifier; 1 to 255 characters."
    unit_type: UnitType = Field(alias="unitType")
    "The unit's type: the experiments' one."


class ExpandNodeInput(BaseModel):
    """Children to add under a node of a running exploration."""

    children: list["ScenarioInput"]
    "The new scenarios, from 1 to 100; their depth is the parent's plus one. At most 100 items."
    parent_id: str = Field(alias="parentId")
    "The node to expand."


class ExperimentEventFilter(BaseModel):
    """Conditions on a simulation experiment's events; all given conditions must hold."""

    and_: Optional[list["ExperimentEventFilter"]] = Field(alias="and", default=None)
    "Every one of these filters must match. At most 20 items."
    event_types: Optional[list[str]] = Field(alias="eventTypes", default=None)
    "Only events of one of these types (at most 100). At most 100 items."
    iteration: Optional[int] = None
    "Only events of this iteration."
    not_: Optional["ExperimentEventFilter"] = Field(alias="not", default=None)
    "This filter must not match."
    or_: Optional[list["ExperimentEventFilter"]] = Field(alias="or", default=None)
    "At least one of these filters must match. At most 20 items."


class ExperimentEventInput(BaseModel):
    """One event of a simulation experiment."""

    event_data: Optional[Any] = Field(alias="eventData", default=None)
    "The event's details, a JSON object; empty if omitted."
    event_type: str = Field(alias="eventType")
    "The event's kind, a non-empty free-form label."
    iteration: int
    "The iteration during which it happened."
    timestamp: Optional[str] = None
    "When it happened; the recording time if omitted."


class ExperimentFilter(BaseModel):
    """Conditions on experiments; all given conditions must hold."""

    and_: Optional[list["ExperimentFilter"]] = Field(alias="and", default=None)
    "Every one of these filters holds. At most 20 items."
    created_after: Optional[str] = Field(alias="createdAfter", default=None)
    "Created at or after this instant."
    created_before: Optional[str] = Field(alias="createdBefore", default=None)
    "Created strictly before this instant."
    created_by_id: Optional[str] = Field(alias="createdById", default=None)
    "Created by this user (global id)."
    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    "Uses this dataset (global id); evaluation and training only."
    kinds: Optional[list[ExperimentKind]] = None
    "Is of one of these kinds. At most 5 items."
    name_contains: Optional[str] = Field(alias="nameContains", default=None)
    "Case-insensitive substring of the name."
    not_: Optional["ExperimentFilter"] = Field(alias="not", default=None)
    "This filter does not hold."
    or_: Optional[list["ExperimentFilter"]] = Field(alias="or", default=None)
    "At least one of these filters holds. At most 20 items."
    search: Optional[str] = None
    'Full-text search over the name, description, hypothesis, notes and tag names: experiments holding every word (case-insensitive, whole words). On PostgreSQL web-search syntax also applies: "quoted phrase", `or`, `-word` to exclude. Punctuation is never an operator; a text without any letter or digit matches nothing. At most 1000 characters. Order by RELEVANCE to see best matches first.'
    statuses: Optional[list[ExperimentStatus]] = None
    "Has one of these statuses. At most 7 items."
    tag_slugs: Optional[list[str]] = Field(alias="tagSlugs", default=None)
    "Has every one of these tags. At most 200 items."


class ExperimentIdInput(BaseModel):
    """Names one experiment."""

    id: str
    "Global id of the experiment."


class ExperimentMetricFilter(BaseModel):
    """Conditions on experiment metrics; all given must hold."""

    bucket_type: Optional[BucketType] = Field(alias="bucketType", default=None)
    "Only hourly or only daily aggregates."
    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    "Only this experiment's metrics."
    metric_name: Optional[str] = Field(alias="metricName", default=None)
    "Only this metric."
    since: Optional[str] = None
    "Only buckets starting at or after this time."
    variant_id: Optional[str] = Field(alias="variantId", default=None)
    "Only this variant's metrics."


class ExperimentOrder(BaseModel):
    """A sort order for experiments."""

    direction: SortDirection = SortDirection.ASC
    "Ascending unless told otherwise."
    field: ExperimentOrderField
    "What to sort by."


class ExperimentRunFilter(BaseModel):
    """Conditions on runs."""

    and_: Optional[list["ExperimentRunFilter"]] = Field(alias="and", default=None)
    "Every one of these filters holds. At most 20 items."
    dataset_example_id: Optional[str] = Field(alias="datasetExampleId", default=None)
    "Only runs of this dataset example (global id)."
    has_error: Optional[bool] = Field(alias="hasError", default=None)
    "True: only failed runs; false: only successful ones."
    not_: Optional["ExperimentRunFilter"] = Field(alias="not", default=None)
    "This filter does not hold."
    or_: Optional[list["ExperimentRunFilter"]] = Field(alias="or", default=None)
    "At least one of these filters holds. At most 20 items."
    repetition: Optional[int] = None
    "Only this repetition number."


class ExperimentRunOrder(BaseModel):
    """A sort order for runs."""

    direction: SortDirection = SortDirection.ASC
    "Ascending unless told otherwise."
    field: ExperimentRunOrderField
    "What to sort by."


class ExperimentTagInput(BaseModel):
    """An experiment and a tag to link or unlink."""

    experiment_id: str = Field(alias="experimentId")
    "Global ID of the experiment."
    tag_id: str = Field(alias="tagId")
    "Global ID of the tag."


class ExplanationInput(BaseModel):
    """One explanation to store."""

    data: Any
    "The explanation, a JSON object."
    file_path: Optional[str] = Field(alias="filePath", default=None)
    "Where a rendering or the full data is stored, at most 500 characters."
    method: str
    "The explanation method (e.g. shap, lime), 1 to 50 characters."
    signal_id: Optional[str] = Field(alias="signalId", default=None)
    "The name (Signal.signalId) of the signal explained, at most 255 characters; it need not exist (Explanation.signal is then null)."


class FinishDatasetJobInput(BaseModel):
    """The end of a claimed dataset job, from its holder."""

    dataset: Optional["DatasetJobResultInput"] = None
    "COMPLETED only: the dataset and signals to write (required unless the job names a dataset to update)."
    duration_seconds: Optional[float] = Field(alias="durationSeconds", default=None)
    "How long the work took in seconds, 0 or more."
    error_message: Optional[str] = Field(alias="errorMessage", default=None)
    "Why it failed, at most 10,000 characters."
    fencing_token: str = Field(alias="fencingToken")
    "The token its claim got."
    job_id: str = Field(alias="jobId")
    "The DatasetGeneration or DatasetImport."
    num_files: Optional[int] = Field(alias="numFiles", default=None)
    "Imports only: how many files were imported, 0 or more."
    output_path: Optional[str] = Field(alias="outputPath", default=None)
    "Where its files are, at most 500 characters (also the dataset's filePath)."
    status: DatasetJobOutcome
    "How it ended."
    worker_id: str = Field(alias="workerId")
    "The worker holding the claim."


class FinishExplorationInput(BaseModel):
    """How a running exploration ended; it can be finished once."""

    exploration_id: str = Field(alias="explorationId")
    "The exploration."
    status: ExplorationStatus
    "How it ended: any status but running."


class FinishNasTrialInput(BaseModel):
    """A trial's results, which end its claim."""

    fencing_token: str = Field(alias="fencingToken")
    "The trial's fencingToken from the claim."
    flops: Optional[str] = None
    "Floating-point operations of one forward pass, 0 or more."
    metrics: Optional[Any] = None
    "Any other results, as a JSON object."
    model_size_mb: Optional[float] = Field(alias="modelSizeMb", default=None)
    "The model's size in megabytes, 0 or more."
    num_parameters: Optional[int] = Field(alias="numParameters", default=None)
    "The model's parameter count, 0 or more."
    status: NasTrialStatus
    "COMPLETED (trained; its results count) or FAILED (RUNNING is refused)."
    training_time: Optional[float] = Field(alias="trainingTime", default=None)
    "Training time in seconds, 0 or more."
    trial_id: str = Field(alias="trialId")
    "The claimed trial."
    validation_accuracy: Optional[float] = Field(
        alias="validationAccuracy", default=None
    )
    "Validation accuracy, higher is better."
    validation_loss: Optional[float] = Field(alias="validationLoss", default=None)
    "Validation loss."
    worker_id: str = Field(alias="workerId")
    "The worker that claimed it."


class FinishTrialInput(BaseModel):
    """How a trial ended."""

    experiment_id: str = Field(alias="experimentId")
    "The trial's experiment."
    fencing_token: str = Field(alias="fencingToken")
    "The claim's fencingToken; a stale one is a CONFLICT (extensions.reason)."
    metrics: Optional["TrainingMetricsInput"] = None
    "Its final metrics, merged into the experiment's metrics."
    status: HpoTrialOutcome
    "How it ended."
    value: Optional[float] = None
    "The objective's value; default: the objective's metric in metrics, else (PRUNED) the last reported intermediate value. COMPLETED needs one; FAILED keeps none."
    worker_id: str = Field(alias="workerId")
    "The workerId the trial was claimed with."


class HolderInput(BaseModel):
    """Proves the caller still holds the claim it was given."""

    experiment_id: str = Field(alias="experimentId")
    "Global id of the claimed experiment."
    fencing_token: str = Field(alias="fencingToken")
    "The claim's fencingToken; a stale token gets a CONFLICT error."
    worker_id: str = Field(alias="workerId")
    "The workerId the claim was made with."


class HpoBudgetInput(BaseModel):
    """What a campaign may spend."""

    max_duration_seconds: Optional[int] = Field(
        alias="maxDurationSeconds", default=None
    )
    "No trial starts this many seconds after the first claim; null: no limit."
    max_epochs: Optional[int] = Field(alias="maxEpochs", default=None)
    "HYPERBAND: the largest resource in epochs, above minEpochs (default 27)."
    max_parallel: int = Field(alias="maxParallel")
    "1 to maxTrials: trials running at once."
    max_trials: int = Field(alias="maxTrials")
    "1 to 10,000: trials that may end other than FAILED (a failed trial's slot is offered again; at most twice this many trials are ever created)."
    min_epochs: Optional[int] = Field(alias="minEpochs", default=None)
    "HYPERBAND: the smallest resource in epochs (default 1)."


class HpoCampaignFilter(BaseModel):
    """Conditions on HPO campaigns (all must hold)."""

    method: Optional[HpoMethod] = None
    "This method."
    status: Optional[ExperimentStatus] = None
    "This status."


class HpoObjectiveInput(BaseModel):
    """The metric trials are judged by."""

    direction: ObjectiveDirection
    "Lower or higher is better."
    metric: TrainingMetric
    "The metric."


class HpoParameterInput(BaseModel):
    """One hyperparameter to search."""

    choices: Optional[list[Any]] = None
    "CATEGORICAL: 1 to 100 distinct values (strings, numbers, booleans or null). At most 100 items."
    high: Optional[float] = None
    "FLOAT and INT: the highest value, more than low."
    kind: HpoParameterKind
    "The kind of its values."
    log: bool = False
    "FLOAT and INT: draw on a log scale (needs low > 0, no step)."
    low: Optional[float] = None
    "FLOAT and INT: the lowest value (INT: a whole number)."
    name: str
    "Its name, 1-100 characters, unique in the space: the key in hyperparameters."
    step: Optional[float] = None
    "FLOAT and INT: only values low, low + step, ... up to high. GRID_SEARCH needs it on every FLOAT parameter (INT defaults to 1)."


class HpoTrialHolderInput(BaseModel):
    """Proves the caller holds a trial's claim."""

    experiment_id: str = Field(alias="experimentId")
    "The trial's experiment."
    fencing_token: str = Field(alias="fencingToken")
    "The claim's fencingToken; a stale one is a CONFLICT (extensions.reason)."
    worker_id: str = Field(alias="workerId")
    "The workerId the trial was claimed with."


class IdInput(BaseModel):
    """Names one record by its global ID."""

    id: str
    "Global ID of the session or API key to act on."


class ImportSynthsInput(BaseModel):
    """A batch of synths to import, all or none."""

    synth_group_id: Optional[str] = Field(alias="synthGroupId", default=None)
    "The group to put them in; omit to leave them ungrouped."
    synths: list["SynthInput"]
    "The synths, from 1 to 5000. At most 5,000 items."


class LogTrainingEpochsInput(BaseModel):
    """Epochs of one TRAINING experiment, stored all or none. Idempotent per epoch: an epoch already logged is updated (all its values replaced), never duplicated."""

    epochs: list["TrainingEpochInput"]
    "The epochs, from 1 to 1,000, each epoch number at most once. At most 1,000 items."
    experiment_id: str = Field(alias="experimentId")
    "The TRAINING experiment."
    fencing_token: Optional[str] = Field(alias="fencingToken", default=None)
    "Required when the experiment is a trial of an HPO campaign (its hpoCampaign is set): the fencing token of the caller's claim on the trial. Must be left out for an experiment outside any campaign. Either mistake is a CONFLICT."


class LoginInput(BaseModel):
    """Sign in with a username or an email, and a password."""

    backup_code: Optional[str] = Field(alias="backupCode", default=None)
    "Or one of the backup codes; each works once."
    email: Optional[str] = None
    "The email address; give it or username, not both."
    password: str
    "The user's password."
    totp_code: Optional[str] = Field(alias="totpCode", default=None)
    "The current 6-digit code, when two-factor sign-in is on."
    username: Optional[str] = None
    "The username; give it or email, not both."


class MarkNotificationsReadInput(BaseModel):
    """Which of your notifications to mark read: the given ids, or all of them."""

    all: bool = False
    "True: every unread notification of yours (ids then ignored)."
    ids: Optional[list[str]] = None
    "Global ids of your notifications; others' and unknown ids are ignored. At most 500 items."


class NasCampaignFilter(BaseModel):
    """Conditions on NAS campaigns; all given ones must hold."""

    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    "Only campaigns over this dataset."
    statuses: Optional[list[NasCampaignStatus]] = None
    "Only campaigns in one of these states. At most 5 items."


class NasDecisionInput(BaseModel):
    """One decision of a search space and the values it chooses from."""

    choices: list[Any]
    "The values to choose from: 1 to 100 distinct JSON values, none null. At most 100 items."
    name: str
    '1 to 100 characters, unique among its siblings: the key of its choice in an architecture ("layers" is reserved at the top level when the space has layers).'


class NasLayersInput(BaseModel):
    """A stack of layers, each making its own decisions."""

    decisions: list["NasDecisionInput"]
    "What each layer decides (e.g. op, width, activation): 1 to 50 decisions. At most 50 items."
    max_count: int = Field(alias="maxCount")
    "The most layers: minCount to 50."
    min_count: int = Field(alias="minCount")
    "The fewest layers: 0 to 50."


class NasSearchSpaceInput(BaseModel):
    """What a NAS campaign searches over: decisions made once per architecture, a stack of layers each making its own decisions, or both. For example decisions [{name: "optimizer", choices: ["adam", "sgd"]}] and layers {minCount: 2, maxCount: 6, decisions: [{name: "op", choices: ["conv3x3", "conv5x5", "maxpool"]}, {name: "width", choices: [32, 64, 128]}]} give architectures such as {"optimizer": "adam", "layers": [{"op": "conv3x3", "width": 64}, {"op": "maxpool", "width": 32}]}."""

    decisions: list["NasDecisionInput"] = Field(default_factory=lambda: [])
    "Decisions made once per architecture: 0 to 50 (default none). At most 50 items."
    layers: Optional["NasLayersInput"] = None
    "The stack of layers; none when left out."


class NasTrialHolderInput(BaseModel):
    """A worker's claim on a NAS trial."""

    fencing_token: str = Field(alias="fencingToken")
    "The trial's fencingToken from the claim."
    trial_id: str = Field(alias="trialId")
    "The claimed trial."
    worker_id: str = Field(alias="workerId")
    "The worker that claimed it."


class RecordEventsInput(BaseModel):
    """A batch of events, recorded all or none."""

    events: list["EventInput"]
    "The events, at least one. At most 1,000 items."


class RecordExperimentEventsInput(BaseModel):
    """A batch of events for one simulation experiment, recorded all or none."""

    events: list["ExperimentEventInput"]
    "The events, from 1 to 5000. At most 5,000 items."
    experiment_id: str = Field(alias="experimentId")
    "The simulation experiment."


class RecordExperimentRunsInput(BaseModel):
    """A batch of run results from the claim holder."""

    experiment_id: str = Field(alias="experimentId")
    "Global id of the claimed experiment."
    fencing_token: str = Field(alias="fencingToken")
    "The claim's fencingToken; a stale token gets a CONFLICT error."
    runs: list["RunInput"]
    "At least one run; each example and repetition at most once. At most 1,000 items."
    worker_id: str = Field(alias="workerId")
    "The workerId the claim was made with."


class RecordIterationInput(BaseModel):
    """One iteration of a simulation experiment; each iteration number is recorded once."""

    accepted_changes: Optional[Any] = Field(alias="acceptedChanges", default=None)
    "The policy changes accepted in this iteration, a JSON list; empty if omitted."
    costs_per_agent: Any = Field(alias="costsPerAgent")
    "Agent id -> integer cents."
    evaluation_simulation_run_id: Optional[str] = Field(
        alias="evaluationSimulationRunId", default=None
    )
    "The simulation run that evaluated this iteration; it must belong to the same experiment."
    experiment_id: str = Field(alias="experimentId")
    "The simulation experiment."
    iteration: int
    "The iteration number, 0 or more; recording the same number twice is a CONFLICT."
    policies: Optional[Any] = None
    "The agents' policies after this iteration, a JSON object; empty if omitted."


class RecordOfflineReplayResultInput(BaseModel):
    """The result of replaying a policy version offline."""

    baseline_version_id: Optional[str] = Field(alias="baselineVersionId", default=None)
    "The policy version it was compared with (another one)."
    constraint_respect_score: Optional[Any] = Field(
        alias="constraintRespectScore", default=None
    )
    "An exact decimal below 10,000 in absolute value, at most six places; null when not measured."
    dataset_version: str = Field(alias="datasetVersion")
    "The dataset version replayed, 1 to 255 characters."
    diversity_score: Optional[Any] = Field(alias="diversityScore", default=None)
    "An exact decimal below 10,000 in absolute value, at most six places; null when not measured."
    edit_distance_score: Optional[Any] = Field(alias="editDistanceScore", default=None)
    "An exact decimal below 10,000 in absolute value, at most six places; null when not measured."
    error_message: Optional[str] = Field(alias="errorMessage", default=None)
    "Why it failed, at most 10,000 characters."
    is_better_than_baseline: Optional[bool] = Field(
        alias="isBetterThanBaseline", default=None
    )
    "Whether it beat the baseline."
    leftovers_score: Optional[Any] = Field(alias="leftoversScore", default=None)
    "An exact decimal below 10,000 in absolute value, at most six places; null when not measured."
    mlflow_run_id: Optional[str] = Field(alias="mlflowRunId", default=None)
    "The MLflow run that produced it."
    plan_alignment_score: Optional[Any] = Field(
        alias="planAlignmentScore", default=None
    )
    "An exact decimal below 10,000 in absolute value, at most six places; null when not measured."
    policy_version_id: str = Field(alias="policyVersionId")
    "The version replayed."
    status: Optional[ReplayStatus] = None
    "COMPLETED when null; FAILED needs errorMessage."


class RecordRunAnnotationsInput(BaseModel):
    """A batch of evaluator results from the claim holder."""

    annotations: list["AnnotationInput"]
    "At least one; each run and name at most once. At most 1,000 items."
    experiment_id: str = Field(alias="experimentId")
    "Global id of the claimed experiment."
    fencing_token: str = Field(alias="fencingToken")
    "The claim's fencingToken; a stale token gets a CONFLICT error."
    worker_id: str = Field(alias="workerId")
    "The workerId the claim was made with."


class RecordSynthOutcomesInput(BaseModel):
    """Synth outcomes for an analysis run, recorded all or none; a synth's earlier outcome is replaced."""

    analysis_id: str = Field(alias="analysisId")
    "The analysis run; it must not be completed or failed."
    outcomes: list["SynthOutcomeInput"]
    "The outcomes, from 1 to 5000. At most 5,000 items."


class ReleaseExecutionInput(BaseModel):
    """Gives a claim back."""

    error: Optional[str] = None
    "Recorded as lastError."
    experiment_id: str = Field(alias="experimentId")
    "Global id of the claimed experiment."
    fencing_token: str = Field(alias="fencingToken")
    "The claim's fencingToken; a stale token gets a CONFLICT error."
    worker_id: str = Field(alias="workerId")
    "The workerId the claim was made with."


class ReportDatasetJobProgressInput(BaseModel):
    """Progress of a claimed dataset job, from its holder."""

    fencing_token: str = Field(alias="fencingToken")
    "The token its claim got."
    job_id: str = Field(alias="jobId")
    "The DatasetGeneration or DatasetImport."
    progress: int
    "Percent done, 0 to 100; a value below the stored one keeps the stored one."
    worker_id: str = Field(alias="workerId")
    "The worker holding the claim."


class ReportIntermediateInput(BaseModel):
    """An objective value at one epoch of a running trial."""

    epoch: int
    "The epoch, 0 or more; resent, it replaces the value."
    experiment_id: str = Field(alias="experimentId")
    "The trial's experiment."
    fencing_token: str = Field(alias="fencingToken")
    "The claim's fencingToken; a stale one is a CONFLICT (extensions.reason)."
    value: float
    "The objective's value at that epoch."
    worker_id: str = Field(alias="workerId")
    "The workerId the trial was claimed with."


class ResearchExecutionFilter(BaseModel):
    """Conditions on research executions; all given conditions must hold."""

    and_: Optional[list["ResearchExecutionFilter"]] = Field(alias="and", default=None)
    "Every one of these filters must match. At most 20 items."
    experiment_id: Optional[str] = Field(alias="experimentId", default=None)
    "Only executions of this experiment."
    not_: Optional["ResearchExecutionFilter"] = Field(alias="not", default=None)
    "This filter must not match."
    or_: Optional[list["ResearchExecutionFilter"]] = Field(alias="or", default=None)
    "At least one of these filters must match. At most 20 items."
    statuses: Optional[list[ResearchStatus]] = None
    "Only executions in one of these statuses. At most 5 items."
    topic_contains: Optional[str] = Field(alias="topicContains", default=None)
    "Only executions whose topic contains this text, ignoring case."


class ResearchInput(BaseModel):
    """Changes to a research experiment's fields."""

    hypothesis: Optional[str] = None
    "A new hypothesis, at most 500 characters; cannot be null."
    scorecard_data: Optional[Any] = Field(alias="scorecardData", default=None)
    "The research scorecard as a JSON object."


class RunInput(BaseModel):
    """One run result; recording the same example and repetition again replaces it."""

    completion_tokens: Optional[int] = Field(alias="completionTokens", default=None)
    "Output tokens used, at least 0."
    cost_micros: Optional[str] = Field(alias="costMicros", default=None)
    "Cost in millionths of a dollar, at least 0."
    dataset_example_id: str = Field(alias="datasetExampleId")
    "Global id of an example in the experiment's dataset version."
    end_time: Optional[str] = Field(alias="endTime", default=None)
    "When the run ended."
    error: Optional[str] = None
    "Why the run failed; null for a success."
    latency_ms: Optional[float] = Field(alias="latencyMs", default=None)
    "Model call latency in milliseconds, at least 0."
    output: Optional[Any] = None
    "The task's output; a non-object is stored as {value: ...}."
    prompt_tokens: Optional[int] = Field(alias="promptTokens", default=None)
    "Input tokens used, at least 0."
    repetition_number: int = Field(alias="repetitionNumber")
    "From 1 to the experiment's repetitions."
    start_time: Optional[str] = Field(alias="startTime", default=None)
    "When the run started."


class SavedSearchIdInput(BaseModel):
    """Names one saved search."""

    id: str
    "Global ID of your saved search."


class ScenarioInput(BaseModel):
    """A scenario: what changed, why, and how it scored."""

    action_applied: Optional[str] = Field(alias="actionApplied", default=None)
    "The change this scenario applies to its parent's, in words."
    action_category: Optional[str] = Field(alias="actionCategory", default=None)
    "The kind of change, at most 100 characters."
    execution_time_seconds: Optional[float] = Field(
        alias="executionTimeSeconds", default=None
    )
    "Seconds spent simulating it, 0 or more."
    llm_calls: int = Field(alias="llmCalls", default=0)
    "LLM calls made to produce it, 0 or more."
    node_status: NodeStatus = Field(alias="nodeStatus", default=NodeStatus.ACTIVE)
    "Its standing; active if omitted."
    rationale: Optional[str] = None
    "Why the change is tried."
    scorecard_params: Any = Field(alias="scorecardParams")
    "The scorecard parameters this scenario simulates (a JSON object)."
    short_action: Optional[str] = Field(alias="shortAction", default=None)
    "A short label for the change, at most 255 characters."
    simulation_results: Optional[Any] = Field(alias="simulationResults", default=None)
    "What its simulation gave (a JSON object; successRate, if present, from 0 to 1, ranks nodes; a success_rate key is refused)."


class ScenarioNodeFilter(BaseModel):
    """Conditions on scenario nodes."""

    and_: Optional[list["ScenarioNodeFilter"]] = Field(alias="and", default=None)
    "Every one of these filters must match. At most 20 items."
    depth: Optional[int] = None
    "Only nodes at exactly this depth (the root is 0)."
    max_depth: Optional[int] = Field(alias="maxDepth", default=None)
    "Only nodes at this depth or shallower."
    min_depth: Optional[int] = Field(alias="minDepth", default=None)
    "Only nodes at this depth or deeper."
    not_: Optional["ScenarioNodeFilter"] = Field(alias="not", default=None)
    "This filter must not match."
    or_: Optional[list["ScenarioNodeFilter"]] = Field(alias="or", default=None)
    "At least one of these filters must match. At most 20 items."
    statuses: Optional[list[NodeStatus]] = None
    "Only nodes in one of these statuses. At most 4 items."


class ScenarioNodeOrder(BaseModel):
    """How to sort scenario nodes."""

    direction: SortDirection = SortDirection.ASC
    "Ascending (the default) or descending."
    field: ScenarioNodeOrderField
    "The value to sort by."


class SetNodeStatusInput(BaseModel):
    """A node's new standing; an exploration has at most one winner (demote it first, else (else CONFLICT)."""

    node_id: str = Field(alias="nodeId")
    "The scenario node."
    status: NodeStatus
    "The standing to give it."


class SetNotificationPreferenceInput(BaseModel):
    """Your channels for one kind of event. A field left out (or null) keeps its current value: the stored one, else the default."""

    email_enabled: Optional[bool] = Field(alias="emailEnabled", default=None)
    "E-mail about it."
    email_frequency: Optional[EmailFrequency] = Field(
        alias="emailFrequency", default=None
    )
    "How often e-mail is sent."
    event_type: NotificationEventType = Field(alias="eventType")
    "The kind of event."
    in_app_enabled: Optional[bool] = Field(alias="inAppEnabled", default=None)
    "In-app notifications about it."
    slack_enabled: Optional[bool] = Field(alias="slackEnabled", default=None)
    "Slack messages."
    webhook_enabled: Optional[bool] = Field(alias="webhookEnabled", default=None)
    "Calls to your webhooks."


class SetResearchExecutionStatusInput(BaseModel):
    """A research execution's next status; only forward moves of its lifecycle are accepted (else CONFLICT)."""

    id: str
    "The research execution."
    status: ResearchStatus
    "The status to move to."


class SetTranscriptStatusInput(BaseModel):
    """A transcript's new status; the execution's successful and failed counts follow."""

    execution_id: str = Field(alias="executionId")
    "The research execution."
    status: TranscriptStatus
    "Its new status; any status may follow any other."
    synth_id: str = Field(alias="synthId")
    "The synth interviewed."


class SimulationInput(BaseModel):
    """Changes to a simulation experiment's fields; costs in integer cents."""

    best_cost: Optional[str] = Field(alias="bestCost", default=None)
    "Lowest cost of any iteration, integer cents, at least 0."
    completed_at: Optional[str] = Field(alias="completedAt", default=None)
    "When the simulation finished; null while it runs."
    converged: Optional[bool] = None
    "Whether the optimisation converged; null until known."
    convergence_reason: Optional[str] = Field(alias="convergenceReason", default=None)
    "Why it stopped, at most 255 characters."
    final_cost: Optional[str] = Field(alias="finalCost", default=None)
    "Cost of the final iteration, integer cents, at least 0."
    master_seed: Optional[str] = Field(alias="masterSeed", default=None)
    "A new master seed (runs are reproducible from it); cannot be null."
    num_iterations: Optional[int] = Field(alias="numIterations", default=None)
    "Iterations run so far."
    scenario_path: Optional[str] = Field(alias="scenarioPath", default=None)
    "Path of the scenario file, at most 500 characters."
    simulation_type: Optional[str] = Field(alias="simulationType", default=None)
    "Simulation engine or model name, at most 100 characters."


class SimulationRunFilter(BaseModel):
    """Conditions on simulation runs; all given conditions must hold."""

    and_: Optional[list["SimulationRunFilter"]] = Field(alias="and", default=None)
    "Every one of these filters must match. At most 20 items."
    iteration: Optional[int] = None
    "Only runs of this iteration."
    not_: Optional["SimulationRunFilter"] = Field(alias="not", default=None)
    "This filter must not match."
    or_: Optional[list["SimulationRunFilter"]] = Field(alias="or", default=None)
    "At least one of these filters must match. At most 20 items."
    run_purposes: Optional[list[RunPurpose]] = Field(alias="runPurposes", default=None)
    "Only runs made for one of these purposes. At most 6 items."
    sample_index: Optional[int] = Field(alias="sampleIndex", default=None)
    "Only runs with this bootstrap sample number."


class SimulationRunOrder(BaseModel):
    """How to sort simulation runs."""

    direction: SortDirection = SortDirection.ASC
    "Ascending (the default) or descending."
    field: SimulationRunOrderField
    "The value to sort by."


class SynthFilter(BaseModel):
    """Conditions on synths; all given conditions must hold."""

    and_: Optional[list["SynthFilter"]] = Field(alias="and", default=None)
    "Every one of these filters must match. At most 20 items."
    group_id: Optional[str] = Field(alias="groupId", default=None)
    "Only synths of this group."
    name_contains: Optional[str] = Field(alias="nameContains", default=None)
    "Only synths whose name contains this text, ignoring case."
    not_: Optional["SynthFilter"] = Field(alias="not", default=None)
    "This filter must not match."
    or_: Optional[list["SynthFilter"]] = Field(alias="or", default=None)
    "At least one of these filters must match. At most 20 items."


class SynthInput(BaseModel):
    """One synth to import."""

    avatar_path: Optional[str] = Field(alias="avatarPath", default=None)
    "Path of the synth's avatar image on the server."
    data: Optional[Any] = None
    "All of the synth's attributes (a JSON object)."
    description: Optional[str] = None
    "A short portrait of the synth in prose."
    link_photo: Optional[str] = Field(alias="linkPhoto", default=None)
    "URL of the synth's photo."
    name: str
    "The synth's display name."
    version: Optional[str] = None
    'Version of the synth format its data follows; "2.0.0" if omitted.'


class SynthOutcomeInput(BaseModel):
    """How one synth fared; the three rates are each from 0 to 1 and sum to 1."""

    did_not_try_rate: float = Field(alias="didNotTryRate")
    "Share of attempts the synth did not try, from 0 to 1."
    failed_rate: float = Field(alias="failedRate")
    "Share of attempts that failed, from 0 to 1."
    success_rate: float = Field(alias="successRate")
    "Share of attempts that succeeded, from 0 to 1."
    synth_attributes: Optional[Any] = Field(alias="synthAttributes", default=None)
    "The synth attributes used for this outcome (a JSON object)."
    synth_id: str = Field(alias="synthId")
    "The synth, at most once per batch."


class SystemLogFilter(BaseModel):
    """Conditions on audit records."""

    actions: Optional[list[str]] = None
    "Mutation field names, e.g. login. At most 100 items."
    and_: Optional[list["SystemLogFilter"]] = Field(alias="and", default=None)
    "Matches every one of these conditions. At most 20 items."
    created_after: Optional[str] = Field(alias="createdAfter", default=None)
    "At or after this time."
    created_before: Optional[str] = Field(alias="createdBefore", default=None)
    "Strictly before this time."
    not_: Optional["SystemLogFilter"] = Field(alias="not", default=None)
    "Does not match this condition."
    or_: Optional[list["SystemLogFilter"]] = Field(alias="or", default=None)
    "Matches at least one of these conditions. At most 20 items."
    statuses: Optional[list[AuditStatus]] = None
    "Records that ended in one of these ways. At most 100 items."
    user_id: Optional[str] = Field(alias="userId", default=None)
    "Global ID of the user who acted."


class TagFilter(BaseModel):
    """Conditions on tags."""

    and_: Optional[list["TagFilter"]] = Field(alias="and", default=None)
    "Matches every one of these conditions. At most 20 items."
    name_contains: Optional[str] = Field(alias="nameContains", default=None)
    "Case-insensitive substring of the name."
    not_: Optional["TagFilter"] = Field(alias="not", default=None)
    "Does not match this condition."
    or_: Optional[list["TagFilter"]] = Field(alias="or", default=None)
    "Matches at least one of these conditions. At most 20 items."
    slugs: Optional[list[str]] = None
    "Has one of these slugs. At most 200 items."


class TagIdInput(BaseModel):
    """Names a tag."""

    id: str
    "Global ID of the tag."


class TagOrder(BaseModel):
    """One sort key for tags; list several to break ties."""

    direction: SortDirection = SortDirection.ASC
    "Ascending unless given."
    field: TagOrderField
    "What to sort by."


class TaskConfigInput(BaseModel):
    """What each run does. Ids are global ids."""

    custom_provider_id: Optional[str] = Field(alias="customProviderId", default=None)
    "Custom provider to call instead of the built-in one."
    invocation_parameters: Optional[Any] = Field(
        alias="invocationParameters", default=None
    )
    "Model call parameters as a JSON object; secrets are refused."
    max_concurrency: int = Field(alias="maxConcurrency", default=4)
    "Runs a worker may have in flight at once, 1-256."
    model_name: str = Field(alias="modelName")
    "Model name as the provider spells it, 1-200 characters."
    model_provider: str = Field(alias="modelProvider")
    "Provider of the model, 1-100 characters."
    prompt_version_id: Optional[str] = Field(alias="promptVersionId", default=None)
    "Prompt version to run; or give template instead."
    template: Optional[str] = None
    "Raw prompt template, at most 100,000 characters."


class ToggleExecutionInput(BaseModel):
    """Enables or disables an execution."""

    enabled: bool
    "True to let workers claim it, false to stop them."
    experiment_id: str = Field(alias="experimentId")
    "Global id of the experiment."


class TotpCodeInput(BaseModel):
    """A code from your authenticator app."""

    code: str
    "The current 6-digit code from the authenticator app."


class TrainingEpochInput(BaseModel):
    """One epoch's values; every value left out is stored as null."""

    checkpoint_path: Optional[str] = Field(alias="checkpointPath", default=None)
    "Where the epoch's checkpoint is stored, at most 500 characters."
    duration_seconds: Optional[float] = Field(alias="durationSeconds", default=None)
    "Wall-clock time of the epoch in seconds."
    epoch: int
    "The epoch number, 0 or more; logging it again replaces its values."
    learning_rate: Optional[float] = Field(alias="learningRate", default=None)
    "Learning rate used in the epoch."
    train_accuracy: Optional[float] = Field(alias="trainAccuracy", default=None)
    "Training accuracy."
    train_loss: Optional[float] = Field(alias="trainLoss", default=None)
    "Training loss."
    val_accuracy: Optional[float] = Field(alias="valAccuracy", default=None)
    "Validation accuracy."
    val_loss: Optional[float] = Field(alias="valLoss", default=None)
    "Validation loss."


class TrainingInput(BaseModel):
    """Fields of a training experiment."""

    best_epoch: Optional[int] = Field(alias="bestEpoch", default=None)
    "Epoch with the best validation result."
    dataset_id: Optional[str] = Field(alias="datasetId", default=None)
    "Global id of the dataset it trains on."
    duration_seconds: Optional[float] = Field(alias="durationSeconds", default=None)
    "Training wall-clock time in seconds."
    hyperparameters: Optional[Any] = None
    "Hyperparameters as a JSON object."
    metrics: Optional[Any] = None
    "Resulting metrics as a JSON object."
    model_path: Optional[str] = Field(alias="modelPath", default=None)
    "Where the trained model is stored, at most 500 characters."
    model_type: Optional[str] = Field(alias="modelType", default=None)
    "Model family or architecture, at most 100 characters."
    notes: Optional[str] = None
    "Free-text notes; searched by full-text search."
    onnx_path: Optional[str] = Field(alias="onnxPath", default=None)
    "Where the ONNX export is stored, at most 500 characters."
    results_dir: Optional[str] = Field(alias="resultsDir", default=None)
    "Directory of training outputs, at most 500 characters."
    total_epochs: Optional[int] = Field(alias="totalEpochs", default=None)
    "Epochs trained."


class TrainingMetricsInput(BaseModel):
    """A trial's final metrics; each optional."""

    train_accuracy: Optional[float] = Field(alias="trainAccuracy", default=None)
    "Training accuracy."
    train_loss: Optional[float] = Field(alias="trainLoss", default=None)
    "Training loss."
    val_accuracy: Optional[float] = Field(alias="valAccuracy", default=None)
    "Validation accuracy."
    val_loss: Optional[float] = Field(alias="valLoss", default=None)
    "Validation loss."


class UpdateExperimentInput(BaseModel):
    """Changes to an experiment; omitted fields stay as they are."""

    ab_test: Optional["AbTestInput"] = Field(alias="abTest", default=None)
    "Only for AB_TEST experiments."
    config: Optional[Any] = None
    "Replaces the whole config object."
    description: Optional[str] = None
    "New description; null clears it."
    evaluation: Optional["EvaluationInput"] = None
    "Only for EVALUATION experiments."
    id: str
    "Global id of the experiment to change."
    metadata: Optional[Any] = None
    "Replaces the whole metadata object."
    name: Optional[str] = None
    "New name, unique among live experiments; cannot be null."
    research: Optional["ResearchInput"] = None
    "Only for RESEARCH experiments."
    simulation: Optional["SimulationInput"] = None
    "Only for SIMULATION experiments."
    status: Optional[ExperimentStatus] = None
    "New status; cannot be null."
    training: Optional["TrainingInput"] = None
    "Only for TRAINING experiments."


class UpdatePolicyInput(BaseModel):
    """Changes to a policy; fields left out keep their value."""

    description: Optional[str] = None
    "Free text, at most 2,000 characters; null clears it."
    id: str
    "The policy's id."
    name: Optional[str] = None
    "Unique name, 1 to 255 characters."


class UpdatePolicyVersionInput(BaseModel):
    """Changes to a policy version; fields left out keep their value."""

    config_defaults: Optional[Any] = Field(alias="configDefaults", default=None)
    "Default runtime parameters, a JSON object."
    id: str
    "The policy version's id."
    status: Optional[PolicyVersionStatus] = None
    "ACTIVE and DEPRECATED move to each other or to ARCHIVED, which is final; a version a running experiment's variant uses cannot be archived (CONFLICT)."


class UpdateSavedSearchInput(BaseModel):
    """Changes to a saved search; omitted fields stay as they are."""

    filter_: Optional["ExperimentFilter"] = Field(alias="filter", default=None)
    "A new filter; null: no conditions."
    id: str
    "Global ID of your saved search."
    name: Optional[str] = None
    "A new name; cannot be null."
    order_by: Optional[list["ExperimentOrder"]] = Field(alias="orderBy", default=None)
    "A new ordering; null or empty: newest first. At most 3 items."
    pinned: Optional[bool] = None
    "Pin or unpin it."


class UpdateTagInput(BaseModel):
    """Changes to a tag; only the fields given change."""

    color: Optional[str] = None
    "New color as #rrggbb; null clears it, leave out to keep."
    id: str
    "Global ID of the tag."
    name: Optional[str] = None
    "New name (the slug follows); leave out to keep, null is refused."


class UpdateUserInput(BaseModel):
    """Admins change a user's role or deactivate them."""

    id: str
    "Global ID of the user to change."
    is_active: Optional[bool] = Field(alias="isActive", default=None)
    "False deactivates the user (they can no longer sign in); leave out to keep."
    role: Optional[UserRole] = None
    "The new role; leave out to keep the current one."


class UpdateVariantInput(BaseModel):
    """Changes to a variant; fields left out keep their value."""

    allocation: Optional[Any] = None
    "Share of units, from 0 to 1 with at most four places; the experiment's variants may total at most 1. Once the experiment has run it may only grow, unless force."
    config: Optional[Any] = None
    'What the arm runs, a JSON object in seed 001\'s format: {} for a plain arm; {"execution_strategy": "mlflow_model", "mlflow_model": {"policy_version_id", "model_name"}}; "prompt_template" with "prompt_config" {"prompt_version_id", "model_provider", "model_name"} and an optional "flow_config" {"flow_id", "initial_state"}; "hybrid" with both; "params" (an object) with any of them. The legacy format (no execution_strategy, policy_version_id at the root) reads as mlflow_model. Keys may also be given in camelCase; they are stored in snake_case. Ids are global ids of a PolicyVersion and a PromptVersion, which must exist.'
    description: Optional[str] = None
    "Free text, at most 2,000 characters; null clears it."
    force: bool = False
    "Allow shrinking the allocation of a variant of an experiment that has run (units already assigned keep their variant; new units split differently)."
    id: str
    "The variant's id."
    is_control: Optional[bool] = Field(alias="isControl", default=None)
    "true makes it the control instead of the current one (only before the experiment first runs); false on the control is refused: mark another variant instead."
    name: Optional[str] = None
    "Unique within the experiment; 1 to 255 characters."


class UpdateWebhookInput(BaseModel):
    """Changes to one of your webhooks; only the fields given change."""

    description: Optional[str] = None
    "New description; null clears it, leave out to keep."
    enabled_events: Optional[list[NotificationEventType]] = Field(
        alias="enabledEvents", default=None
    )
    "New events to receive (empty: every event); leave out to keep, null is refused. At most 11 items."
    id: str
    "Global ID of the webhook."
    is_active: Optional[bool] = Field(alias="isActive", default=None)
    "True reactivates a deactivated webhook (its failure count starts again at 0); false stops deliveries to it. Leave out to keep, null is refused."
    name: Optional[str] = None
    "New label; leave out to keep, null is refused."
    provider_type: Optional[WebhookProvider] = Field(alias="providerType", default=None)
    "New payload shape; leave out to keep, null is refused."
    settings: Optional[Any] = None
    "New provider options; null clears them, leave out to keep."
    url: Optional[str] = None
    "New URL, checked as in createWebhook; leave out to keep, null is refused."


class UpsertAnalysisCacheInput(BaseModel):
    """A computation to cache for an analysis; an entry with the same key is replaced."""

    analysis_id: str = Field(alias="analysisId")
    "The analysis run."
    cache_key: str = Field(alias="cacheKey")
    "The key to store it under."
    data: Any
    "The computed result."
    params: Optional[Any] = None
    "The parameters it was computed with."


class UpsertChartInsightInput(BaseModel):
    """One insight per simulation run and insight type."""

    insight_type: str = Field(alias="insightType")
    "Which chart the insight is about, at most 100 characters."
    response_json: Any = Field(alias="responseJson")
    "The LLM's insight (a JSON object)."
    simulation_run_id: str = Field(alias="simulationRunId")
    "The SimulationRun the insight is about."


class UpsertExperimentDocumentInput(BaseModel):
    """An experiment's document of one type, created or replaced."""

    document_type: DocumentType = Field(alias="documentType")
    "Which document; one per experiment and type."
    error_message: Optional[str] = Field(alias="errorMessage", default=None)
    "Why generation failed, when it did."
    experiment_id: str = Field(alias="experimentId")
    "The experiment (not deleted)."
    markdown_content: str = Field(alias="markdownContent", default="")
    "The document, as Markdown; empty if omitted."
    metadata: Optional[Any] = None
    "Generation details (a JSON object)."
    model: str = "gpt-4o-mini"
    'The LLM that generated it; "gpt-4o-mini" if omitted.'
    status: DocumentStatus = DocumentStatus.COMPLETED
    "Generation status; completed if omitted."


class UpsertInterviewGuideInput(BaseModel):
    """An experiment's interview guide, created or replaced; fields left out keep their value."""

    context_definition: Optional[str] = Field(alias="contextDefinition", default=None)
    "The context the interviewer sets for the synths."
    context_examples: Optional[str] = Field(alias="contextExamples", default=None)
    "Examples of the context, as text."
    experiment_id: str = Field(alias="experimentId")
    "The experiment (not deleted)."
    questions: Optional[str] = None
    "The questions to ask, as text."


class UserFilter(BaseModel):
    """Conditions on users."""

    and_: Optional[list["UserFilter"]] = Field(alias="and", default=None)
    "Matches every one of these conditions. At most 20 items."
    is_active: Optional[bool] = Field(alias="isActive", default=None)
    "Active (true) or deactivated (false) users only."
    not_: Optional["UserFilter"] = Field(alias="not", default=None)
    "Does not match this condition."
    or_: Optional[list["UserFilter"]] = Field(alias="or", default=None)
    "Matches at least one of these conditions. At most 20 items."
    roles: Optional[list[UserRole]] = None
    "Has one of these roles. At most 3 items."
    search: Optional[str] = None
    "Case-insensitive substring of username or email."


class UserOrder(BaseModel):
    """One sort key for users; list several to break ties."""

    direction: SortDirection = SortDirection.ASC
    "Ascending unless given."
    field: UserOrderField
    "What to sort by."


class WebhookIdInput(BaseModel):
    """Names one of your webhooks."""

    id: str
    "Global ID of the webhook."


AddDatasetExamplesInput.model_rebuild()
AddEvaluatorConfigInput.model_rebuild()
CreateExecutionConfigInput.model_rebuild()
CreateExperimentInput.model_rebuild()
CreateExplanationsInput.model_rebuild()
CreateExplorationInput.model_rebuild()
CreateHpoCampaignInput.model_rebuild()
CreateNasCampaignInput.model_rebuild()
CreateSavedSearchInput.model_rebuild()
DatasetFilter.model_rebuild()
DatasetJobResultInput.model_rebuild()
EventInput.model_rebuild()
ExpandNodeInput.model_rebuild()
ExperimentEventFilter.model_rebuild()
ExperimentFilter.model_rebuild()
ExperimentRunFilter.model_rebuild()
FinishDatasetJobInput.model_rebuild()
FinishTrialInput.model_rebuild()
ImportSynthsInput.model_rebuild()
LogTrainingEpochsInput.model_rebuild()
NasLayersInput.model_rebuild()
NasSearchSpaceInput.model_rebuild()
RecordEventsInput.model_rebuild()
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
UpdateSavedSearchInput.model_rebuild()
UserFilter.model_rebuild()
