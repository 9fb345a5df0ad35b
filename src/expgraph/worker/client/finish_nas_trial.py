from pydantic import Field

from .base_model import BaseModel
from .enums import NasCampaignStatus, NasTrialStatus


class FinishNasTrial(BaseModel):
    finish_nas_trial: "FinishNasTrialFinishNasTrial" = Field(alias="finishNasTrial")


class FinishNasTrialFinishNasTrial(BaseModel):
    trial: "FinishNasTrialFinishNasTrialTrial"
    campaign: "FinishNasTrialFinishNasTrialCampaign"


class FinishNasTrialFinishNasTrialTrial(BaseModel):
    status: NasTrialStatus


class FinishNasTrialFinishNasTrialCampaign(BaseModel):
    status: NasCampaignStatus


FinishNasTrial.model_rebuild()
FinishNasTrialFinishNasTrial.model_rebuild()
