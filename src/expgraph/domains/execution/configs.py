"""The typed JSON of an execution config (frozen pydantic models).

A custom provider is referenced by id only: its credentials stay encrypted in
``custom_providers`` and are never copied here.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EvaluatorKind(enum.StrEnum):
    """What an evaluator does; the value is the form stored in the config's JSON."""

    LLM_JUDGE = "llm_judge"
    CODE = "code"
    EXACT_MATCH = "exact_match"
    CONTAINS = "contains"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskConfig(_Frozen):
    """What each run does: a prompt version (or a raw template) on a model."""

    prompt_version_id: int | None = None
    template: str | None = Field(default=None, max_length=100_000)
    model_provider: str = Field(min_length=1, max_length=100)
    model_name: str = Field(min_length=1, max_length=200)
    custom_provider_id: int | None = None
    invocation_parameters: dict[str, Any] = Field(default_factory=dict)
    max_concurrency: int = Field(default=4, ge=1, le=256)


class EvaluatorConfig(_Frozen):
    """One evaluator: its name is the annotation name of its results."""

    name: str = Field(min_length=1, max_length=100)
    kind: EvaluatorKind = EvaluatorKind.CODE
    model_provider: str | None = None
    model_name: str | None = None
    prompt_version_id: int | None = None
    custom_provider_id: int | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
