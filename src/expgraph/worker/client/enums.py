from enum import Enum


class AggregationPeriod(str, Enum):
    DAY = "DAY"
    HOUR = "HOUR"


class AnalysisStatus(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"


class ApiKeyPreset(str, Enum):
    WORKER = "WORKER"


class AuditStatus(str, Enum):
    DENIED = "DENIED"
    FAILURE = "FAILURE"
    SUCCESS = "SUCCESS"


class BucketType(str, Enum):
    DAILY = "DAILY"
    HOURLY = "HOURLY"


class DatasetJobKind(str, Enum):
    GENERATION = "GENERATION"
    IMPORT = "IMPORT"


class DatasetJobOutcome(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


class DatasetJobStatus(str, Enum):
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"


class DatasetOrderField(str, Enum):
    CREATED_AT = "CREATED_AT"
    NAME = "NAME"
    UPDATED_AT = "UPDATED_AT"


class DeviceType(str, Enum):
    API = "API"
    DESKTOP = "DESKTOP"
    MOBILE = "MOBILE"


class DocumentStatus(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    GENERATING = "GENERATING"
    PARTIAL = "PARTIAL"
    PENDING = "PENDING"


class DocumentType(str, Enum):
    EXECUTIVE_SUMMARY = "EXECUTIVE_SUMMARY"
    PRFAQ = "PRFAQ"
    SUMMARY = "SUMMARY"


class EmailFrequency(str, Enum):
    DAILY = "DAILY"
    IMMEDIATE = "IMMEDIATE"
    NEVER = "NEVER"
    WEEKLY = "WEEKLY"


class EvaluatorKind(str, Enum):
    CODE = "CODE"
    CONTAINS = "CONTAINS"
    EXACT_MATCH = "EXACT_MATCH"
    LLM_JUDGE = "LLM_JUDGE"


class ExecutionState(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ORPHANED = "ORPHANED"
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class ExecutionStrategy(str, Enum):
    HYBRID = "HYBRID"
    MLFLOW_MODEL = "MLFLOW_MODEL"
    PROMPT_TEMPLATE = "PROMPT_TEMPLATE"


class ExperimentKind(str, Enum):
    AB_TEST = "AB_TEST"
    EVALUATION = "EVALUATION"
    RESEARCH = "RESEARCH"
    SIMULATION = "SIMULATION"
    TRAINING = "TRAINING"


class ExperimentOrderField(str, Enum):
    CREATED_AT = "CREATED_AT"
    NAME = "NAME"
    RELEVANCE = "RELEVANCE"
    UPDATED_AT = "UPDATED_AT"


class ExperimentRunOrderField(str, Enum):
    CREATED_AT = "CREATED_AT"
    DATASET_EXAMPLE = "DATASET_EXAMPLE"
    REPETITION_NUMBER = "REPETITION_NUMBER"
    UPDATED_AT = "UPDATED_AT"


class ExperimentStatus(str, Enum):
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    DRAFT = "DRAFT"
    FAILED = "FAILED"
    PAUSED = "PAUSED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"


class ExplorationStatus(str, Enum):
    COST_LIMIT_REACHED = "COST_LIMIT_REACHED"
    DEPTH_LIMIT_REACHED = "DEPTH_LIMIT_REACHED"
    GOAL_ACHIEVED = "GOAL_ACHIEVED"
    NO_VIABLE_PATHS = "NO_VIABLE_PATHS"
    RUNNING = "RUNNING"


class HpoMethod(str, Enum):
    BAYESIAN = "BAYESIAN"
    GRID_SEARCH = "GRID_SEARCH"
    HYPERBAND = "HYPERBAND"
    RANDOM_SEARCH = "RANDOM_SEARCH"


class HpoParameterKind(str, Enum):
    CATEGORICAL = "CATEGORICAL"
    FLOAT = "FLOAT"
    INT = "INT"


class HpoTrialOutcome(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PRUNED = "PRUNED"


class HpoTrialState(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PRUNED = "PRUNED"
    RUNNING = "RUNNING"


class IncompleteRunStatus(str, Enum):
    FAILED = "FAILED"
    MISSING = "MISSING"


class NasCampaignStatus(str, Enum):
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"


class NasSearchAlgorithm(str, Enum):
    RANDOM = "RANDOM"
    REGULARIZED_EVOLUTION = "REGULARIZED_EVOLUTION"


class NasTrialStatus(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    RUNNING = "RUNNING"


class NodeStatus(str, Enum):
    ACTIVE = "ACTIVE"
    DOMINATED = "DOMINATED"
    EXPANSION_FAILED = "EXPANSION_FAILED"
    WINNER = "WINNER"


class NotificationEventType(str, Enum):
    ABTEST_SAMPLE_RATIO_MISMATCH = "ABTEST_SAMPLE_RATIO_MISMATCH"
    API_KEY_EXPIRING = "API_KEY_EXPIRING"
    DATASET_JOB_COMPLETED = "DATASET_JOB_COMPLETED"
    DATASET_JOB_FAILED = "DATASET_JOB_FAILED"
    EXECUTION_COMPLETED = "EXECUTION_COMPLETED"
    EXECUTION_FAILED = "EXECUTION_FAILED"
    EXPERIMENT_COMPLETED = "EXPERIMENT_COMPLETED"
    EXPERIMENT_FAILED = "EXPERIMENT_FAILED"
    HPO_CAMPAIGN_COMPLETED = "HPO_CAMPAIGN_COMPLETED"
    NAS_CAMPAIGN_COMPLETED = "NAS_CAMPAIGN_COMPLETED"
    WEBHOOK_DEACTIVATED = "WEBHOOK_DEACTIVATED"


class ObjectiveDirection(str, Enum):
    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"


class PolicyVersionStatus(str, Enum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    DEPRECATED = "DEPRECATED"


class ReplayStatus(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"


class ResearchStatus(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    GENERATING_SUMMARY = "GENERATING_SUMMARY"
    PENDING = "PENDING"
    RUNNING = "RUNNING"


class RunPurpose(str, Enum):
    BEST = "BEST"
    BOOTSTRAP = "BOOTSTRAP"
    EVALUATION = "EVALUATION"
    FINAL = "FINAL"
    INITIAL = "INITIAL"
    STANDALONE = "STANDALONE"


class ScenarioNodeOrderField(str, Enum):
    CREATED_AT = "CREATED_AT"
    DEPTH = "DEPTH"


class Scope(str, Enum):
    ADMIN = "ADMIN"
    EXECUTE = "EXECUTE"
    READ = "READ"
    WRITE = "WRITE"


class SimulationRunOrderField(str, Enum):
    CREATED_AT = "CREATED_AT"
    STARTED_AT = "STARTED_AT"


class SimulationRunStatus(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"


class SortDirection(str, Enum):
    ASC = "ASC"
    DESC = "DESC"


class TagOrderField(str, Enum):
    CREATED_AT = "CREATED_AT"
    NAME = "NAME"
    USAGE_COUNT = "USAGE_COUNT"


class TrainingMetric(str, Enum):
    DURATION_SECONDS = "DURATION_SECONDS"
    LEARNING_RATE = "LEARNING_RATE"
    TRAIN_ACCURACY = "TRAIN_ACCURACY"
    TRAIN_LOSS = "TRAIN_LOSS"
    VAL_ACCURACY = "VAL_ACCURACY"
    VAL_LOSS = "VAL_LOSS"


class TranscriptStatus(str, Enum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"


class UnitType(str, Enum):
    HOUSEHOLD = "HOUSEHOLD"
    SESSION = "SESSION"
    USER = "USER"


class UserOrderField(str, Enum):
    CREATED_AT = "CREATED_AT"
    USERNAME = "USERNAME"


class UserRole(str, Enum):
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"


class WebhookProvider(str, Enum):
    DISCORD = "DISCORD"
    GENERIC = "GENERIC"
    SLACK = "SLACK"
    TEAMS = "TEAMS"


class WebhookStatus(str, Enum):
    FAILED = "FAILED"
    SUCCESS = "SUCCESS"
