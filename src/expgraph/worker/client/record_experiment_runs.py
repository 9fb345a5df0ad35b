from pydantic import Field

from .base_model import BaseModel


class RecordExperimentRuns(BaseModel):
    record_experiment_runs: "RecordExperimentRunsRecordExperimentRuns" = Field(
        alias="recordExperimentRuns"
    )


class RecordExperimentRunsRecordExperimentRuns(BaseModel):
    runs: list["RecordExperimentRunsRecordExperimentRunsRuns"]


class RecordExperimentRunsRecordExperimentRunsRuns(BaseModel):
    id: str
    repetition_number: int = Field(alias="repetitionNumber")
    example: "RecordExperimentRunsRecordExperimentRunsRunsExample"


class RecordExperimentRunsRecordExperimentRunsRunsExample(BaseModel):
    id: str


RecordExperimentRuns.model_rebuild()
RecordExperimentRunsRecordExperimentRuns.model_rebuild()
RecordExperimentRunsRecordExperimentRunsRuns.model_rebuild()
