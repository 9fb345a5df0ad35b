"""JSON columns validated by frozen pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy.engine import Dialect
from sqlalchemy.types import JSON, TypeDecorator

from expgraph.db.types import JSONType


class PydanticJSON(TypeDecorator[Any]):
    """Stores ``model`` (or ``list[model]``) as JSON; loads it back validated."""

    impl = JSON
    cache_ok = True

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model
        self.adapter: TypeAdapter[Any] = TypeAdapter(model)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(JSONType)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.adapter.dump_python(self.adapter.validate_python(value), mode="json")

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.adapter.validate_python(value)

    def __repr__(self) -> str:
        return "JSON()"


__all__ = ["BaseModel", "PydanticJSON"]
