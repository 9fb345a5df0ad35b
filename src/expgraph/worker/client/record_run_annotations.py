from pydantic import Field

from .base_model import BaseModel


class RecordRunAnnotations(BaseModel):
    record_run_annotations: "RecordRunAnnotationsRecordRunAnnotations" = Field(
        alias="recordRunAnnotations"
    )


class RecordRunAnnotationsRecordRunAnnotations(BaseModel):
    annotations: list["RecordRunAnnotationsRecordRunAnnotationsAnnotations"]


class RecordRunAnnotationsRecordRunAnnotationsAnnotations(BaseModel):
    id: str


RecordRunAnnotations.model_rebuild()
RecordRunAnnotationsRecordRunAnnotations.model_rebuild()
