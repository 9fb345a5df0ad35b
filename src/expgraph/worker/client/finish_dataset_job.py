from typing import Literal, Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import DatasetJobStatus


class FinishDatasetJob(BaseModel):
    finish_dataset_job: "FinishDatasetJobFinishDatasetJob" = Field(
        alias="finishDatasetJob"
    )


class FinishDatasetJobFinishDatasetJob(BaseModel):
    job: "FinishDatasetJobFinishDatasetJobJob"


class FinishDatasetJobFinishDatasetJobJob(BaseModel):
    typename__: Literal["DatasetGeneration", "DatasetImport", "DatasetJob"] = Field(
        alias="__typename"
    )
    status: DatasetJobStatus
    dataset: Optional["FinishDatasetJobFinishDatasetJobJobDataset"]


class FinishDatasetJobFinishDatasetJobJobDataset(BaseModel):
    id: str


FinishDatasetJob.model_rebuild()
FinishDatasetJobFinishDatasetJob.model_rebuild()
FinishDatasetJobFinishDatasetJobJob.model_rebuild()
