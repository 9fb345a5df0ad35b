from typing import Any, Optional

from pydantic import Field

from .base_model import BaseModel


class ClaimNasTrial(BaseModel):
    claim_nas_trial: "ClaimNasTrialClaimNasTrial" = Field(alias="claimNasTrial")


class ClaimNasTrialClaimNasTrial(BaseModel):
    trial: Optional["ClaimNasTrialClaimNasTrialTrial"]


class ClaimNasTrialClaimNasTrialTrial(BaseModel):
    id: str
    trial_number: int = Field(alias="trialNumber")
    fencing_token: str = Field(alias="fencingToken")
    architecture: Any
    architecture_hash: str = Field(alias="architectureHash")
    campaign: "ClaimNasTrialClaimNasTrialTrialCampaign"


class ClaimNasTrialClaimNasTrialTrialCampaign(BaseModel):
    id: str
    name: str
    max_epochs_per_trial: int = Field(alias="maxEpochsPerTrial")
    seed: Optional[str]


ClaimNasTrial.model_rebuild()
ClaimNasTrialClaimNasTrial.model_rebuild()
ClaimNasTrialClaimNasTrialTrial.model_rebuild()
