from typing import Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import ExperimentStatus, HpoTrialState


class FinishTrial(BaseModel):
    finish_trial: "FinishTrialFinishTrial" = Field(alias="finishTrial")


class FinishTrialFinishTrial(BaseModel):
    trial: "FinishTrialFinishTrialTrial"
    campaign: "FinishTrialFinishTrialCampaign"


class FinishTrialFinishTrialTrial(BaseModel):
    state: HpoTrialState
    value: Optional[float]


class FinishTrialFinishTrialCampaign(BaseModel):
    status: ExperimentStatus


FinishTrial.model_rebuild()
FinishTrialFinishTrial.model_rebuild()
