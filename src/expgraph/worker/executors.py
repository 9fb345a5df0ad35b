"""Executors run one example; evaluators judge one run.

An executor is ``async def execute(task: Task) -> Result`` (or a sync function):
it gets the task config (model, prompt template, parameters: credentials are
not in it; fetch them from your secret store at run time), the example's input
and the repetition number, and returns the output and what it cost. Raising
records the run as failed (it will be retried on resume). Point the worker at
one with ``--executor package.module:function``.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Task:
    task_config: dict[str, Any]
    input: dict[str, Any]
    expected: dict[str, Any]
    repetition: int


@dataclass
class Result:
    output: dict[str, Any]
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_micros: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


Executor = Callable[[Task], Awaitable[Result] | Result]


async def echo(task: Task) -> Result:
    """Deterministic: answers with the example's expected output (or its input).
    ``task_config.invocation_parameters.delay_ms`` slows it down for demos and tests."""
    delay = task.task_config.get("invocation_parameters", {}).get("delay_ms", 0)
    if delay:
        await asyncio.sleep(delay / 1000)
    output = dict(task.expected) if task.expected else {"echo": task.input}
    words = len(str(task.input).split())
    return Result(
        output=output,
        prompt_tokens=words,
        completion_tokens=len(str(output).split()),
        cost_micros=words * 2,
    )


def load_executor(spec: str) -> Executor:
    """``echo`` or ``package.module:function``."""
    if spec == "echo":
        return echo
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError("an executor is `echo` or `package.module:function`")
    function: Executor = getattr(importlib.import_module(module_name), attr)
    return function


async def run_one(executor: Executor, task: Task) -> tuple[Result | None, str | None, float]:
    """The executor's result or error message, and the latency in milliseconds."""
    started = time.perf_counter()
    try:
        value = executor(task)
        result = await value if inspect.isawaitable(value) else value
        assert isinstance(result, Result), "an executor returns a Result"
        return result, None, (time.perf_counter() - started) * 1000
    except Exception as exc:  # the run failed; it is recorded, and retried on resume
        return None, f"{type(exc).__name__}: {exc}", (time.perf_counter() - started) * 1000


def evaluate(
    evaluator: dict[str, Any], output: dict[str, Any], expected: dict[str, Any]
) -> dict[str, Any]:
    """A built-in evaluator's annotation for one run. ``evaluator["kind"]`` is an
    EvaluatorKind name (EXACT_MATCH, CONTAINS, CODE, LLM_JUDGE), in any case."""
    kind = str(evaluator.get("kind") or "CODE").upper()
    if kind == "EXACT_MATCH":
        match = output == expected
        return {"score": 1.0 if match else 0.0, "label": "match" if match else "mismatch"}
    if kind == "CONTAINS":
        needle = str((evaluator.get("parameters") or {}).get("text", ""))
        found = needle in str(output)
        return {"score": 1.0 if found else 0.0, "label": "found" if found else "absent"}
    # CODE (and judges without a model here): a stable, explainable pseudo-score.
    digest = hashlib.sha256(repr((output, expected)).encode()).digest()
    score = digest[0] / 255
    return {
        "score": round(score, 4),
        "label": "pass" if score >= 0.5 else "fail",
        "explanation": "deterministic checksum score",
    }
