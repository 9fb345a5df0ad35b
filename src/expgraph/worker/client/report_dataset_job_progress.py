from typing import Literal

from pydantic import Field

from .base_model import BaseModel
from .enums import DatasetJobStatus


class ReportDatasetJobProgress(BaseModel):
    report_dataset_job_progress: "ReportDatasetJobProgressReportDatasetJobProgress" = (
        Field(alias="reportDatasetJobProgress")
    )


class ReportDatasetJobProgressReportDatasetJobProgress(BaseModel):
    job: "ReportDatasetJobProgressReportDatasetJobProgressJob"


class ReportDatasetJobProgressReportDatasetJobProgressJob(BaseModel):
    typename__: Literal["DatasetGeneration", "DatasetImport", "DatasetJob"] = Field(
        alias="__typename"
    )
    status: DatasetJobStatus
    progress: int


ReportDatasetJobProgress.model_rebuild()
ReportDatasetJobProgressReportDatasetJobProgress.model_rebuild()
