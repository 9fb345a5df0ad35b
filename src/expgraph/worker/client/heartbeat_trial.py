from pydantic import Field

from .base_model import BaseModel
from .enums import HpoTrialState


class HeartbeatTrial(BaseModel):
    heartbeat_trial: "HeartbeatTrialHeartbeatTrial" = Field(alias="heartbeatTrial")


class HeartbeatTrialHeartbeatTrial(BaseModel):
    trial: "HeartbeatTrialHeartbeatTrialTrial"


class HeartbeatTrialHeartbeatTrialTrial(BaseModel):
    state: HpoTrialState


HeartbeatTrial.model_rebuild()
HeartbeatTrialHeartbeatTrial.model_rebuild()
