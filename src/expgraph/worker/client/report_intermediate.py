from pydantic import Field

from .base_model import BaseModel


class ReportIntermediate(BaseModel):
    report_intermediate: "ReportIntermediateReportIntermediate" = Field(
        alias="reportIntermediate"
    )


class ReportIntermediateReportIntermediate(BaseModel):
    should_prune: bool = Field(alias="shouldPrune")


ReportIntermediate.model_rebuild()
