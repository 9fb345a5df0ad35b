from pydantic import Field

from .base_model import BaseModel
from .enums import NasTrialStatus


class HeartbeatNasTrial(BaseModel):
    heartbeat_nas_trial: "HeartbeatNasTrialHeartbeatNasTrial" = Field(
        alias="heartbeatNasTrial"
    )


class HeartbeatNasTrialHeartbeatNasTrial(BaseModel):
    trial: "HeartbeatNasTrialHeartbeatNasTrialTrial"


class HeartbeatNasTrialHeartbeatNasTrialTrial(BaseModel):
    status: NasTrialStatus


HeartbeatNasTrial.model_rebuild()
HeartbeatNasTrialHeartbeatNasTrial.model_rebuild()
