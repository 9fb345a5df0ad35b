from typing import Optional

from pydantic import Field

from .base_model import BaseModel


class HeartbeatExecution(BaseModel):
    heartbeat_execution: "HeartbeatExecutionHeartbeatExecution" = Field(
        alias="heartbeatExecution"
    )


class HeartbeatExecutionHeartbeatExecution(BaseModel):
    execution_config: "HeartbeatExecutionHeartbeatExecutionExecutionConfig" = Field(
        alias="executionConfig"
    )


class HeartbeatExecutionHeartbeatExecutionExecutionConfig(BaseModel):
    enabled: bool
    claimed_by: Optional[str] = Field(alias="claimedBy")


HeartbeatExecution.model_rebuild()
HeartbeatExecutionHeartbeatExecution.model_rebuild()
