from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel
from .enums import IncompleteRunStatus


class IncompleteRuns(BaseModel):
    node: Optional[
        Annotated[
            Union["IncompleteRunsNodeNode", "IncompleteRunsNodeEvaluationExperiment"],
            Field(discriminator="typename__"),
        ]
    ]


class IncompleteRunsNodeNode(BaseModel):
    typename__: Literal[
        "AbTestExperiment",
        "ActiveAbTest",
        "AnalysisRun",
        "ApiKey",
        "ApiMetricsSummary",
        "Assignment",
        "ChartInsight",
        "CustomProvider",
        "Dataset",
        "DatasetExample",
        "DatasetGeneration",
        "DatasetImport",
        "DatasetVersion",
        "Event",
        "ExecutionConfig",
        "ExperimentDocument",
        "ExperimentEvent",
        "ExperimentIteration",
        "ExperimentMetric",
        "ExperimentRun",
        "ExperimentRunAnnotation",
        "Explanation",
        "Exploration",
        "HpoCampaign",
        "HpoTrial",
        "InterviewGuide",
        "NasCampaign",
        "NasTrial",
        "Node",
        "Notification",
        "OfflineReplayResult",
        "Policy",
        "PolicyVersion",
        "Prompt",
        "PromptVersion",
        "RegionAnalysis",
        "ResearchExecution",
        "ResearchExperiment",
        "SavedSearch",
        "ScenarioNode",
        "SensitivityResult",
        "Session",
        "Signal",
        "SimulationExperiment",
        "SimulationRun",
        "Synth",
        "SynthGroup",
        "SynthOutcome",
        "SystemLog",
        "Tag",
        "TrainingExperiment",
        "TrainingRun",
        "Transcript",
        "User",
        "Variant",
        "Webhook",
        "WebhookLog",
    ] = Field(alias="__typename")


class IncompleteRunsNodeEvaluationExperiment(BaseModel):
    typename__: Literal["EvaluationExperiment"] = Field(alias="__typename")
    incomplete_runs: "IncompleteRunsNodeEvaluationExperimentIncompleteRuns" = Field(
        alias="incompleteRuns"
    )


class IncompleteRunsNodeEvaluationExperimentIncompleteRuns(BaseModel):
    items: list["IncompleteRunsNodeEvaluationExperimentIncompleteRunsItems"]
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: Optional[str] = Field(alias="endCursor")


class IncompleteRunsNodeEvaluationExperimentIncompleteRunsItems(BaseModel):
    repetition_number: int = Field(alias="repetitionNumber")
    status: IncompleteRunStatus
    cursor: str
    example: "IncompleteRunsNodeEvaluationExperimentIncompleteRunsItemsExample"


class IncompleteRunsNodeEvaluationExperimentIncompleteRunsItemsExample(BaseModel):
    id: str
    input: Any
    output: Any


IncompleteRuns.model_rebuild()
IncompleteRunsNodeEvaluationExperiment.model_rebuild()
IncompleteRunsNodeEvaluationExperimentIncompleteRuns.model_rebuild()
IncompleteRunsNodeEvaluationExperimentIncompleteRunsItems.model_rebuild()
