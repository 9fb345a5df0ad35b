from typing import Any, Literal, Optional

from pydantic import Field

from .base_model import BaseModel


class ClaimExecution(BaseModel):
    claim_execution: "ClaimExecutionClaimExecution" = Field(alias="claimExecution")


class ClaimExecutionClaimExecution(BaseModel):
    claim: Optional["ClaimExecutionClaimExecutionClaim"]


class ClaimExecutionClaimExecutionClaim(BaseModel):
    fencing_token: str = Field(alias="fencingToken")
    experiment: "ClaimExecutionClaimExecutionClaimExperiment"
    config: "ClaimExecutionClaimExecutionClaimConfig"


class ClaimExecutionClaimExecutionClaimExperiment(BaseModel):
    typename__: Literal[
        "AbTestExperiment",
        "EvaluationExperiment",
        "Experiment",
        "ResearchExperiment",
        "SimulationExperiment",
        "TrainingExperiment",
    ] = Field(alias="__typename")
    id: str
    name: str


class ClaimExecutionClaimExecutionClaimConfig(BaseModel):
    task_config: Any = Field(alias="taskConfig")
    evaluator_configs: list[Any] = Field(alias="evaluatorConfigs")


ClaimExecution.model_rebuild()
ClaimExecutionClaimExecution.model_rebuild()
ClaimExecutionClaimExecutionClaim.model_rebuild()
