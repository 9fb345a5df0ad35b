from pydantic import Field

from .base_model import BaseModel


class LogTrainingEpochs(BaseModel):
    log_training_epochs: "LogTrainingEpochsLogTrainingEpochs" = Field(
        alias="logTrainingEpochs"
    )


class LogTrainingEpochsLogTrainingEpochs(BaseModel):
    training_runs: list["LogTrainingEpochsLogTrainingEpochsTrainingRuns"] = Field(
        alias="trainingRuns"
    )


class LogTrainingEpochsLogTrainingEpochsTrainingRuns(BaseModel):
    epoch: int


LogTrainingEpochs.model_rebuild()
LogTrainingEpochsLogTrainingEpochs.model_rebuild()
