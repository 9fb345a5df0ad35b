from typing import Any, Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import ObjectiveDirection, TrainingMetric


class ClaimHpoTrial(BaseModel):
    claim_hpo_trial: "ClaimHpoTrialClaimHpoTrial" = Field(alias="claimHpoTrial")


class ClaimHpoTrialClaimHpoTrial(BaseModel):
    trial: Optional["ClaimHpoTrialClaimHpoTrialTrial"]


class ClaimHpoTrialClaimHpoTrialTrial(BaseModel):
    id: str
    number: int
    fencing_token: str = Field(alias="fencingToken")
    experiment: "ClaimHpoTrialClaimHpoTrialTrialExperiment"
    campaign: "ClaimHpoTrialClaimHpoTrialTrialCampaign"


class ClaimHpoTrialClaimHpoTrialTrialExperiment(BaseModel):
    id: str
    name: str
    hyperparameters: Optional[Any]


class ClaimHpoTrialClaimHpoTrialTrialCampaign(BaseModel):
    id: str
    name: str
    seed: str
    objective: "ClaimHpoTrialClaimHpoTrialTrialCampaignObjective"
    budget: "ClaimHpoTrialClaimHpoTrialTrialCampaignBudget"


class ClaimHpoTrialClaimHpoTrialTrialCampaignObjective(BaseModel):
    metric: TrainingMetric
    direction: ObjectiveDirection


class ClaimHpoTrialClaimHpoTrialTrialCampaignBudget(BaseModel):
    max_epochs: int = Field(alias="maxEpochs")


ClaimHpoTrial.model_rebuild()
ClaimHpoTrialClaimHpoTrial.model_rebuild()
ClaimHpoTrialClaimHpoTrialTrial.model_rebuild()
ClaimHpoTrialClaimHpoTrialTrialCampaign.model_rebuild()
