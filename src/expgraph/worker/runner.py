"""The worker loop.

claim -> (heartbeat in the background) -> page through incomplete runs ->
execute with bounded concurrency -> record runs and annotations in batches ->
release. A lost claim (taken over, disabled) stops the work within one
heartbeat; a fatal error releases with the error; SIGTERM finishes the batch in
hand, releases, and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from expgraph.worker.client import Client
from expgraph.worker.client.exceptions import GraphQLClientGraphQLMultiError
from expgraph.worker.client.input_types import AnnotationInput, RunInput
from expgraph.worker.executors import Executor, Task, evaluate, run_one

logger = logging.getLogger("expgraph.worker")


@dataclass
class WorkerOptions:
    url: str
    worker_id: str
    api_key: str | None = None
    concurrency: int = 4
    batch_size: int = 50
    heartbeat_seconds: float = 150.0  # a quarter of the server's 10-minute stale threshold
    idle_seconds: float = 5.0
    exit_when_idle: bool = False
    experiment_id: str | None = None


class ClaimLost(Exception):
    """The server says this worker no longer holds the claim."""


def _codes(error: Exception) -> set[str]:
    if isinstance(error, GraphQLClientGraphQLMultiError):
        return {str((e.extensions or {}).get("code")) for e in error.errors}
    return set()


class Worker:
    def __init__(self, options: WorkerOptions, executor: Executor) -> None:
        self.options = options
        self.executor = executor
        self.stopping = asyncio.Event()
        headers = {"authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        self.http = httpx.AsyncClient(headers=headers, timeout=60)
        self.client = Client(url=options.url, http_client=self.http)
        self.completed_experiments = 0

    def stop(self) -> None:
        """Ask the worker to finish the batch in hand, release and exit."""
        self.stopping.set()

    async def run(self) -> None:
        try:
            while not self.stopping.is_set():
                claim = await self._claim()
                if claim is None:
                    if self.options.exit_when_idle:
                        return
                    await self._sleep(self.options.idle_seconds)
                    continue
                await self._work(claim)
        finally:
            await self.http.aclose()

    async def _claim(self) -> Any:
        """A claim, or None when nothing is claimable (a named experiment that is
        held, disabled or complete counts as nothing claimable)."""
        try:
            claimed = await self.client.claim_execution(
                self.options.worker_id, self.options.experiment_id
            )
        except GraphQLClientGraphQLMultiError as exc:
            if self.options.experiment_id is not None and "CONFLICT" in _codes(exc):
                return None
            raise
        return claimed.claim_execution.claim

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def _work(self, claim: Any) -> None:
        experiment_id = claim.experiment.id
        token = claim.fencing_token
        lost = asyncio.Event()
        heart = asyncio.create_task(self._heartbeat(experiment_id, token, lost))
        logger.info("claimed %s (token %s)", claim.experiment.name, token)
        error: str | None = None
        try:
            await self._execute_all(claim, lost)
        except ClaimLost:
            logger.warning("claim on %s lost; stopping it", claim.experiment.name)
            return
        except Exception as exc:
            if "CONFLICT" in _codes(exc):
                logger.warning("claim on %s lost while writing", claim.experiment.name)
                return
            logger.exception("execution of %s failed", claim.experiment.name)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            heart.cancel()
        if lost.is_set():
            return
        try:
            await self.client.release_execution(experiment_id, self.options.worker_id, token, error)
            if error is None and not self.stopping.is_set():
                self.completed_experiments += 1
        except GraphQLClientGraphQLMultiError as exc:
            logger.warning("release refused: %s", exc)

    async def _heartbeat(self, experiment_id: str, token: str, lost: asyncio.Event) -> None:
        while True:
            await asyncio.sleep(self.options.heartbeat_seconds)
            try:
                await self.client.heartbeat_execution(experiment_id, self.options.worker_id, token)
            except GraphQLClientGraphQLMultiError as exc:
                if "CONFLICT" in _codes(exc) or "NOT_FOUND" in _codes(exc):
                    lost.set()
                    return
                logger.warning("heartbeat failed: %s", exc)
            except httpx.HTTPError as exc:
                logger.warning("heartbeat failed: %s", exc)

    async def _execute_all(self, claim: Any, lost: asyncio.Event) -> None:
        experiment_id = claim.experiment.id
        task_config = claim.config.task_config or {}
        evaluators = claim.config.evaluator_configs or []
        limit = asyncio.Semaphore(self.options.concurrency)
        after: str | None = None
        while True:
            if lost.is_set():
                raise ClaimLost
            page = await self.client.incomplete_runs(experiment_id, self.options.batch_size, after)
            node = page.node
            runs_page = getattr(node, "incomplete_runs", None)
            if runs_page is None or not runs_page.items:
                return
            items = runs_page.items

            async def one(item: Any) -> tuple[Any, Any]:
                async with limit:
                    task = Task(
                        task_config=task_config,
                        input=item.example.input or {},
                        expected=item.example.output or {},
                        repetition=item.repetition_number,
                    )
                    return item, await run_one(self.executor, task)

            results = await asyncio.gather(*(one(i) for i in items))
            if lost.is_set():
                raise ClaimLost
            await self._record(experiment_id, claim.fencing_token, results, evaluators)
            if self.stopping.is_set() or not runs_page.has_next_page:
                return
            # Recorded pairs leave the incomplete list; failed ones stay, so move on.
            after = runs_page.end_cursor

    async def _record(
        self, experiment_id: str, token: str, results: list[Any], evaluators: list[Any]
    ) -> None:
        runs = [
            RunInput(
                datasetExampleId=item.example.id,
                repetitionNumber=item.repetition_number,
                output=result.output if result else None,
                error=error,
                latencyMs=latency,
                promptTokens=result.prompt_tokens if result else None,
                completionTokens=result.completion_tokens if result else None,
                costMicros=str(result.cost_micros)
                if result and result.cost_micros is not None
                else None,
            )
            for item, (result, error, latency) in results
        ]
        recorded = await self.client.record_experiment_runs(
            experiment_id, self.options.worker_id, token, runs
        )
        if not evaluators:
            return
        by_pair = {
            (r.example.id, r.repetition_number): r.id for r in recorded.record_experiment_runs.runs
        }
        annotations = []
        for item, (result, _error, _latency) in results:
            if result is None:
                continue
            run_id = by_pair[(item.example.id, item.repetition_number)]
            for evaluator in evaluators:
                judged = evaluate(evaluator, result.output, item.example.output or {})
                annotations.append(
                    AnnotationInput(experimentRunId=run_id, name=evaluator["name"], **judged)
                )
        if annotations:
            await self.client.record_run_annotations(
                experiment_id, self.options.worker_id, token, annotations
            )
