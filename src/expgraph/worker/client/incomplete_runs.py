from typing import Annotated, Any, Literal, Optional, Union

from pydantic import Field

from .base_model import BaseModel


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
        "AnalysisRun",
        "ApiKey",
        "ApiMetricsSummary",
        "ChartInsight",
        "CustomProvider",
        "Dataset",
        "DatasetExample",
        "DatasetVersion",
        "ExecutionConfig",
        "ExperimentDocument",
        "ExperimentEvent",
        "ExperimentIteration",
        "ExperimentRun",
        "ExperimentRunAnnotation",
        "Exploration",
        "InterviewGuide",
        "Node",
        "Prompt",
        "PromptVersion",
        "RegionAnalysis",
        "ResearchExecution",
        "ResearchExperiment",
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
        "Transcript",
        "User",
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
    status: str
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
