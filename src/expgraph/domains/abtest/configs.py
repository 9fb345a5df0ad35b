"""A variant's config (seed 001's unified config): what the arm runs.

Four shapes, read from the stored JSON:

- ``{}`` (or only ``params``): a plain arm that changes nothing (no strategy);
- ``execution_strategy: "mlflow_model"``: ``mlflow_model`` is required
  (``policy_version_id``, optional ``model_name``);
- ``"prompt_template"``: ``prompt_config`` is required (``prompt_version_id``,
  ``model_provider``, ``model_name``), ``flow_config`` optional
  (``flow_id``, ``initial_state``);
- ``"hybrid"``: both ``mlflow_model`` and ``prompt_config``, ``flow_config`` optional;
- the legacy format: no ``execution_strategy``, ``policy_version_id`` at the
  root: read as ``mlflow_model`` (stored as given, so old rows keep working).

``params`` (free-form) goes with any of them. Keys are the seed's snake_case;
the API also accepts the same keys in camelCase (``executionStrategy``,
``policyVersionId``...) and stores them in snake_case. Ids inside a config
are GraphQL global ids (a ``PolicyVersion``'s, a ``PromptVersion``'s).
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from expgraph.errors import BadRequest
from expgraph.graphql.relay import decode_id


class ExecutionStrategy(enum.Enum):
    MLFLOW_MODEL = "mlflow_model"
    PROMPT_TEMPLATE = "prompt_template"
    HYBRID = "hybrid"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Id = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class MlflowModel(_Strict):
    policy_version_id: Id
    model_name: Name | None = None


class PromptConfig(_Strict):
    prompt_version_id: Id
    model_provider: Name
    model_name: Name


class FlowConfig(_Strict):
    flow_id: Name
    initial_state: Name | None = None


class PlainConfig(_Strict):
    """No strategy: an arm that changes nothing."""

    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def execution_strategy(self) -> None:
        return None


class MlflowModelConfig(_Strict):
    execution_strategy: Literal["mlflow_model"]
    mlflow_model: MlflowModel
    params: dict[str, Any] = Field(default_factory=dict)


class PromptTemplateConfig(_Strict):
    execution_strategy: Literal["prompt_template"]
    prompt_config: PromptConfig
    flow_config: FlowConfig | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class HybridConfig(_Strict):
    execution_strategy: Literal["hybrid"]
    mlflow_model: MlflowModel
    prompt_config: PromptConfig
    flow_config: FlowConfig | None = None
    params: dict[str, Any] = Field(default_factory=dict)


StrategyConfig = Annotated[
    MlflowModelConfig | PromptTemplateConfig | HybridConfig,
    Field(discriminator="execution_strategy"),
]
VariantConfig = PlainConfig | MlflowModelConfig | PromptTemplateConfig | HybridConfig
_STRATEGIES: TypeAdapter[Any] = TypeAdapter(StrategyConfig)

# camelCase keys accepted in the API, stored as the seed's snake_case.
_SNAKE = {
    "executionStrategy": "execution_strategy",
    "mlflowModel": "mlflow_model",
    "policyVersionId": "policy_version_id",
    "modelName": "model_name",
    "promptConfig": "prompt_config",
    "promptVersionId": "prompt_version_id",
    "modelProvider": "model_provider",
    "flowConfig": "flow_config",
    "flowId": "flow_id",
    "initialState": "initial_state",
}
_NESTED = ("mlflow_model", "prompt_config", "flow_config")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def normalized(raw: Any) -> dict[str, Any]:
    """The config with camelCase keys turned into snake_case (``params`` untouched)."""
    if not isinstance(raw, dict):
        raise BadRequest("config must be a JSON object", field="config")
    out: dict[str, Any] = {_SNAKE.get(str(k), str(k)): v for k, v in raw.items()}
    for key in _NESTED:
        if isinstance(out.get(key), dict):
            out[key] = {_SNAKE.get(str(k), str(k)): v for k, v in out[key].items()}
    return out


def parse(raw: dict[str, Any]) -> VariantConfig:
    """The typed config of stored (snake_case) JSON; pydantic's ValidationError when invalid."""
    data = dict(raw)
    if "execution_strategy" not in data:
        if "policy_version_id" in data:  # legacy: read as mlflow_model
            legacy = {"policy_version_id": data.pop("policy_version_id")}
            data = {"execution_strategy": "mlflow_model", "mlflow_model": legacy, **data}
        elif "mlflow_model" in data:
            data["execution_strategy"] = "mlflow_model"
        else:
            return PlainConfig.model_validate(data)
    result: VariantConfig = _STRATEGIES.validate_python(data)
    return result


def checked(raw: Any) -> tuple[dict[str, Any], VariantConfig]:
    """The config to store (snake_case) and its typed form; BAD_REQUEST naming the
    first wrong field (e.g. ``config.promptConfig.modelName``)."""
    data = normalized(raw)
    try:
        return data, parse(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"].startswith("union_tag"):
            field = "config.executionStrategy"
            raise BadRequest(
                f"{field} must be one of mlflow_model, prompt_template, hybrid", field=field
            ) from exc
        loc = [str(p) for p in error["loc"] if isinstance(p, str)]
        if loc and loc[0] in {s.value for s in ExecutionStrategy}:
            loc = loc[1:]  # the union's tag
        field = ".".join(["config", *(_camel(p) for p in loc)])
        raise BadRequest(f"{field}: {error['msg']}", field=field) from exc


def read(raw: dict[str, Any] | None) -> VariantConfig | None:
    """The typed form of a stored config; None when it fits no shape (shown raw only)."""
    try:
        return parse(raw or {})
    except ValidationError:
        return None


def policy_version_gid(config: VariantConfig | None) -> str | None:
    mlflow = getattr(config, "mlflow_model", None)
    return mlflow.policy_version_id if mlflow is not None else None


def prompt_version_gid(config: VariantConfig | None) -> str | None:
    prompt = getattr(config, "prompt_config", None)
    return prompt.prompt_version_id if prompt is not None else None


def pk_of(global_id: str | None, type_name: str) -> int | None:
    """The key a config's id names when it is a ``type_name`` id, else None."""
    if global_id is None:
        return None
    try:
        named, pk = decode_id(global_id)
    except BadRequest:
        return None
    return pk if named == type_name else None
