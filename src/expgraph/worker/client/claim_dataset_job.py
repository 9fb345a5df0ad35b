from typing import Any, Literal, Optional

from pydantic import Field

from .base_model import BaseModel
from .enums import DatasetJobKind


class ClaimDatasetJob(BaseModel):
    claim_dataset_job: "ClaimDatasetJobClaimDatasetJob" = Field(alias="claimDatasetJob")


class ClaimDatasetJobClaimDatasetJob(BaseModel):
    job: Optional["ClaimDatasetJobClaimDatasetJobJob"]


class ClaimDatasetJobClaimDatasetJobJob(BaseModel):
    typename__: Literal["DatasetGeneration", "DatasetImport", "DatasetJob"] = Field(
        alias="__typename"
    )
    id: str
    kind: DatasetJobKind
    name: str
    config: Any
    fencing_token: str = Field(alias="fencingToken")
    dataset: Optional["ClaimDatasetJobClaimDatasetJobJobDataset"]


class ClaimDatasetJobClaimDatasetJobJobDataset(BaseModel):
    id: str
    name: str


ClaimDatasetJob.model_rebuild()
ClaimDatasetJobClaimDatasetJob.model_rebuild()
ClaimDatasetJobClaimDatasetJobJob.model_rebuild()
