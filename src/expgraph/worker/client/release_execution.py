from pydantic import Field

from .base_model import BaseModel
from .enums import ExecutionState


class ReleaseExecution(BaseModel):
    release_execution: "ReleaseExecutionReleaseExecution" = Field(
        alias="releaseExecution"
    )


class ReleaseExecutionReleaseExecution(BaseModel):
    execution_config: "ReleaseExecutionReleaseExecutionExecutionConfig" = Field(
        alias="executionConfig"
    )


class ReleaseExecutionReleaseExecutionExecutionConfig(BaseModel):
    state: ExecutionState


ReleaseExecution.model_rebuild()
ReleaseExecutionReleaseExecution.model_rebuild()
