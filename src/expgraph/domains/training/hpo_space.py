"""HPO search spaces, budgets and objectives: validated from input, stored as
JSON on ``hpo_campaigns``, and turned into Optuna distributions and grid
search spaces.

Stored shapes (snake_case keys)::

    search_space = {"parameters": [{"name", "kind", "low", "high", "log", "step", "choices"}]}
    budget = {"max_trials", "max_parallel", "max_duration_seconds", "min_epochs", "max_epochs"}
    objective = {"metric": "val_accuracy", "direction": "maximize"}
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from expgraph.domains.training.models import HpoMethod
from expgraph.domains.training.service import Objective, ObjectiveDirection, TrainingMetric
from expgraph.errors import BadRequest

MAX_PARAMETERS = 32
"""Parameters one search space may have."""
MAX_CHOICES = 100
"""Choices one categorical parameter may have."""
MAX_GRID_POINTS = 10_000
"""Points a grid search may have (the product of every parameter's values)."""
MAX_TRIALS = 10_000
"""maxTrials at most."""
DEFAULT_MIN_EPOCHS = 1
DEFAULT_MAX_EPOCHS = 27
"""Hyperband's resource (epochs) range when the budget gives none."""
DEFAULT_OBJECTIVE = Objective(TrainingMetric.VAL_ACCURACY, ObjectiveDirection.MAXIMIZE)


class HpoParameterKind(enum.Enum):
    FLOAT = "float"
    INT = "int"
    CATEGORICAL = "categorical"


def _finite(value: Any, where: str) -> float:
    if value is None or isinstance(value, bool) or not math.isfinite(float(value)):
        raise BadRequest(f"{where} must be a finite number", field="searchSpace")
    return float(value)


def check_parameter(i: int, given: Mapping[str, Any], method: HpoMethod) -> dict[str, Any]:
    """One parameter checked, as stored."""
    where = f"searchSpace[{i}]"
    name = str(given.get("name") or "").strip()
    if not name or len(name) > 100:
        raise BadRequest(f"{where}.name must be 1-100 characters", field="searchSpace")
    kind = HpoParameterKind(given["kind"])
    step, log = given.get("step"), bool(given.get("log"))
    if kind is HpoParameterKind.CATEGORICAL:
        choices = given.get("choices")
        if not choices:
            raise BadRequest(f"{where}: a CATEGORICAL parameter needs choices", field="searchSpace")
        if len(choices) > MAX_CHOICES:
            raise BadRequest(f"{where}: at most {MAX_CHOICES} choices", field="searchSpace")
        for choice in choices:
            if not (choice is None or isinstance(choice, str | int | float | bool)):
                raise BadRequest(
                    f"{where}: choices are strings, numbers, booleans or null",
                    field="searchSpace",
                )
        if len({repr(c) for c in choices}) != len(choices):
            raise BadRequest(f"{where}: a choice is given twice", field="searchSpace")
        return {"name": name, "kind": kind.value, "choices": list(choices)}
    low, high = (
        _finite(given.get("low"), f"{where}.low"),
        _finite(given.get("high"), f"{where}.high"),
    )
    if not low < high:
        raise BadRequest(f"{where}: low must be less than high", field="searchSpace")
    if log and low <= 0:
        raise BadRequest(f"{where}: a log scale needs low > 0", field="searchSpace")
    if step is not None:
        step = _finite(step, f"{where}.step")
        if step <= 0:
            raise BadRequest(f"{where}.step must be positive", field="searchSpace")
        if log:
            raise BadRequest(f"{where}: step and log cannot be combined", field="searchSpace")
    if kind is HpoParameterKind.INT:
        if low != int(low) or high != int(high) or (step is not None and step != int(step)):
            raise BadRequest(
                f"{where}: an INT parameter has whole bounds and step", field="searchSpace"
            )
        low, high = int(low), int(high)
        step = None if step is None else int(step)
    elif method is HpoMethod.GRID_SEARCH and step is None:
        raise BadRequest(
            f"{where}: grid search needs every FLOAT parameter to have a step",
            field="searchSpace",
        )
    return {"name": name, "kind": kind.value, "low": low, "high": high, "log": log, "step": step}


def check_space(parameters: Sequence[Mapping[str, Any]], method: HpoMethod) -> dict[str, Any]:
    if not parameters:
        raise BadRequest("searchSpace must have at least one parameter", field="searchSpace")
    if len(parameters) > MAX_PARAMETERS:
        raise BadRequest(f"at most {MAX_PARAMETERS} parameters", field="searchSpace")
    checked = [check_parameter(i, p, method) for i, p in enumerate(parameters)]
    names = [p["name"] for p in checked]
    if len(set(names)) != len(names):
        raise BadRequest("parameter names must be unique", field="searchSpace")
    space = {"parameters": checked}
    if method is HpoMethod.GRID_SEARCH:
        size = grid_size(space)
        if size > MAX_GRID_POINTS:
            raise BadRequest(
                f"the grid has more than {MAX_GRID_POINTS:,} points (the product of every "
                "parameter's number of values)",
                field="searchSpace",
            )
    return space


def check_budget(given: Mapping[str, Any]) -> dict[str, Any]:
    max_trials, max_parallel = given["max_trials"], given["max_parallel"]
    if not 1 <= max_trials <= MAX_TRIALS:
        raise BadRequest(f"budget.maxTrials must be 1 to {MAX_TRIALS:,}", field="budget")
    if not 1 <= max_parallel <= max_trials:
        raise BadRequest("budget.maxParallel must be 1 to maxTrials", field="budget")
    duration = given.get("max_duration_seconds")
    if duration is not None and duration < 1:
        raise BadRequest("budget.maxDurationSeconds must be positive", field="budget")
    low = given.get("min_epochs") or DEFAULT_MIN_EPOCHS
    high = given.get("max_epochs") or DEFAULT_MAX_EPOCHS
    if not 1 <= low < high:
        raise BadRequest("budget needs 1 <= minEpochs < maxEpochs", field="budget")
    return {
        "max_trials": max_trials,
        "max_parallel": max_parallel,
        "max_duration_seconds": duration,
        "min_epochs": low,
        "max_epochs": high,
    }


def objective_stored(objective: Objective | None) -> dict[str, str]:
    objective = objective or DEFAULT_OBJECTIVE
    return {"metric": objective.metric.value, "direction": objective.direction.value}


def objective_of_campaign(stored: Mapping[str, Any]) -> Objective:
    if not stored:
        return DEFAULT_OBJECTIVE
    return Objective(TrainingMetric(stored["metric"]), ObjectiveDirection(stored["direction"]))


def distribution(parameter: Mapping[str, Any]) -> BaseDistribution:
    kind = HpoParameterKind(parameter["kind"])
    if kind is HpoParameterKind.CATEGORICAL:
        return CategoricalDistribution(parameter["choices"])
    if kind is HpoParameterKind.INT:
        return IntDistribution(
            parameter["low"], parameter["high"], log=parameter["log"], step=parameter["step"] or 1
        )
    return FloatDistribution(
        parameter["low"], parameter["high"], log=parameter["log"], step=parameter["step"]
    )


def distributions(space: Mapping[str, Any]) -> dict[str, BaseDistribution]:
    return {p["name"]: distribution(p) for p in space["parameters"]}


def _grid_count(parameter: Mapping[str, Any]) -> int:
    """How many values the parameter has on a grid (without listing them)."""
    if HpoParameterKind(parameter["kind"]) is HpoParameterKind.CATEGORICAL:
        return len(parameter["choices"])
    step = parameter["step"] or 1
    span = (parameter["high"] - parameter["low"]) / step
    if not span < MAX_GRID_POINTS:  # also an overflow to infinity: more than any grid may have
        return MAX_GRID_POINTS + 1
    return math.floor(span + 1e-9) + 1


def _grid_values(parameter: Mapping[str, Any]) -> list[Any]:
    kind = HpoParameterKind(parameter["kind"])
    if kind is HpoParameterKind.CATEGORICAL:
        return list(parameter["choices"])
    low, step = parameter["low"], parameter["step"] or 1
    values = [low + k * step for k in range(_grid_count(parameter))]
    if kind is HpoParameterKind.INT:
        return [int(v) for v in values]
    return [round(v, 12) for v in values]


def grid_space(space: Mapping[str, Any]) -> dict[str, list[Any]]:
    """A grid search's values per parameter: the search space Optuna's
    ``GridSampler`` is given (it visits their product in an order shuffled by
    the campaign's seed)."""
    return {p["name"]: _grid_values(p) for p in space["parameters"]}


def grid_size(space: Mapping[str, Any]) -> int:
    """How many points the grid has (the product of every parameter's values)."""
    return math.prod(_grid_count(p) for p in space["parameters"])
