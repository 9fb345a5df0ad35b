from typing import Any, Literal, Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import EvaluatorKind


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
    task_config: "ClaimExecutionClaimExecutionClaimConfigTaskConfig" = Field(
        alias="taskConfig"
    )
    evaluator_configs: list[
        "ClaimExecutionClaimExecutionClaimConfigEvaluatorConfigs"
    ] = Field(alias="evaluatorConfigs")


class ClaimExecutionClaimExecutionClaimConfigTaskConfig(BaseModel):
    model_provider: str = Field(alias="modelProvider")
    model_name: str = Field(alias="modelName")
    prompt_version_id: Optional[str] = Field(alias="promptVersionId")
    template: Optional[str]
    custom_provider_id: Optional[str] = Field(alias="customProviderId")
    invocation_parameters: Any = Field(alias="invocationParameters")
    max_concurrency: int = Field(alias="maxConcurrency")


class ClaimExecutionClaimExecutionClaimConfigEvaluatorConfigs(BaseModel):
    name: str
    kind: EvaluatorKind
    model_provider: Optional[str] = Field(alias="modelProvider")
    model_name: Optional[str] = Field(alias="modelName")
    prompt_version_id: Optional[str] = Field(alias="promptVersionId")
    custom_provider_id: Optional[str] = Field(alias="customProviderId")
    parameters: Any


ClaimExecution.model_rebuild()
ClaimExecutionClaimExecution.model_rebuild()
ClaimExecutionClaimExecutionClaim.model_rebuild()
ClaimExecutionClaimExecutionClaimConfig.model_rebuild()
