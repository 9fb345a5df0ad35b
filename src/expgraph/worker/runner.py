"""The worker loop.

claim -> (heartbeat in the background) -> page through incomplete runs ->
execute with bounded concurrency -> record runs and annotations in batches ->
release. A lost claim (taken over, disabled) stops the work within one
heartbeat; a fatal error releases with the error; SIGTERM finishes the batch in
hand, releases, and exits.

What the server refuses is sorted once (``refusal``): a rate limit (HTTP 429 /
RATE_LIMITED) is waited out as its Retry-After says; a transient failure
(UNAVAILABLE, TIMEOUT, 502-504, a connection error) is retried with bounded
exponential back-off; an authorization failure (UNAUTHENTICATED, FORBIDDEN)
stops the worker with ``WorkerStopped`` saying what key it needs. None of them
marks an execution FAILED: the claim is released without an error, so the
experiment goes back to the queue. The claim is released on every way out of
``_work`` (errors, cancellation, KeyboardInterrupt) unless it was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from expgraph.worker.client import Client
from expgraph.worker.client.exceptions import (
    GraphQLClientGraphQLMultiError,
    GraphQLClientHttpError,
)
from expgraph.worker.client.input_types import AnnotationInput, RunInput
from expgraph.worker.executors import Executor, Task, evaluate, run_one

logger = logging.getLogger("expgraph.worker")
T = TypeVar("T")

# What a worker's key needs, as the README says.
KEY_HINT = (
    "a worker needs an API key with the READ and EXECUTE scopes: "
    'createApiKey(input: {name: "worker", preset: WORKER}), '
    "given as --api-key or EXPGRAPH_WORKER_API_KEY"
)


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
    # hpo / nas: work on this campaign only (else the oldest with room).
    campaign_id: str | None = None
    # Transient failures (server unavailable, connection errors): retried this
    # many times in a row, waiting backoff_seconds, doubling up to backoff_max_seconds.
    retries: int = 8
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    # The longest a release at exit may take (retries included) before the
    # claim is left to go stale.
    release_timeout_seconds: float = 30.0


class ClaimLost(Exception):
    """The server says this worker no longer holds the claim."""


class WorkerStopped(Exception):
    """The worker cannot go on (its key is refused, the server stays unreachable);
    the message says why and what to do."""


class _Interrupted(Exception):
    """A stop was asked for while the worker waited to retry."""


@dataclass(frozen=True)
class Refusal:
    """A failure that is not the work's fault."""

    kind: str  # "auth", "rate" or "transient"
    message: str
    retry_after: float | None = None


AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}
TRANSIENT_CODES = {"UNAVAILABLE", "TIMEOUT"}
TRANSIENT_STATUS = {502, 503, 504}


def _codes(error: BaseException) -> set[str]:
    if isinstance(error, GraphQLClientGraphQLMultiError):
        return {str((e.extensions or {}).get("code")) for e in error.errors}
    return set()


def _seconds(value: Any) -> float | None:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def refusal(error: BaseException) -> Refusal | None:
    """What kind of refusal ``error`` is, or None for an error of the work itself."""
    if isinstance(error, httpx.TransportError):
        return Refusal("transient", f"cannot reach the server ({type(error).__name__}: {error})")
    status: int | None = None
    errors: list[dict[str, Any]] = []
    retry_after: float | None = None
    if isinstance(error, GraphQLClientHttpError):
        status = error.status_code
        response = error.response
        headers = getattr(response, "headers", {})
        retry_after = _seconds(headers.get("retry-after"))
        with contextlib.suppress(Exception):
            errors = list(response.json().get("errors") or [])
    elif isinstance(error, GraphQLClientGraphQLMultiError):
        errors = [{"message": e.message, "extensions": e.extensions or {}} for e in error.errors]
    else:
        return None
    codes = {str((e.get("extensions") or {}).get("code")) for e in errors}
    message = "; ".join(str(e.get("message")) for e in errors) or f"HTTP {status}"
    if status == 429 or "RATE_LIMITED" in codes:
        for e in errors:
            retry_after = retry_after or _seconds((e.get("extensions") or {}).get("retryAfter"))
        return Refusal("rate", message, retry_after)
    if status in (401, 403) or codes & AUTH_CODES:
        return Refusal("auth", message)
    if status in TRANSIENT_STATUS or codes & TRANSIENT_CODES:
        return Refusal("transient", message)
    return None


class BaseWorker:
    """What every kind of worker shares: the HTTP client, the claim loop (claim,
    work, again until stopped or idle), ``_call`` (rate limits waited out,
    transient failures retried with back-off, authorization failures stop the
    worker), the background heartbeat and the stop on SIGTERM. A kind says how
    to claim (``_claim``) and how to work a claim (``_work``)."""

    def __init__(
        self, options: WorkerOptions, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.options = options
        self.stopping = asyncio.Event()
        headers = {"authorization": f"Bearer {options.api_key}"} if options.api_key else {}
        self.http = httpx.AsyncClient(headers=headers, timeout=60, transport=transport)
        self.client = Client(url=options.url, http_client=self.http)
        self.completed = 0  # claims worked to the end
        self._abort: WorkerStopped | None = None  # set by the heartbeat

    def stop(self) -> None:
        """Ask the worker to finish the work in hand, release and exit."""
        self.stopping.set()

    async def run(self) -> str:
        """Work until stopped or idle (with exit_when_idle); returns why it stopped.
        Raises WorkerStopped when it cannot go on."""
        try:
            while not self.stopping.is_set():
                try:
                    claim, reason = await self._claim()
                    if claim is None:
                        if self.options.exit_when_idle:
                            return reason
                        await self._sleep(self.options.idle_seconds)
                        continue
                    await self._work(claim)
                except _Interrupted:  # a stop asked for while waiting to retry
                    break
            return "asked to stop (SIGTERM or Ctrl-C)"
        finally:
            await self.http.aclose()

    async def _claim(self) -> tuple[Any, str]:
        """A claim, or None and why there is none."""
        raise NotImplementedError

    async def _work(self, claim: Any) -> None:
        raise NotImplementedError

    async def _call(
        self, what: str, call: Callable[[], Awaitable[T]], *, interruptible: bool = True
    ) -> T:
        """``call()``, waiting out rate limits and retrying transient failures;
        WorkerStopped on an authorization failure or too many failures in a row."""
        failures = 0
        while True:
            try:
                return await call()
            except Exception as exc:
                refused = refusal(exc)
                if refused is None:
                    raise
                if refused.kind == "auth":
                    raise WorkerStopped(
                        f"the server refused {what}: {refused.message}; {KEY_HINT}"
                    ) from exc
                if refused.kind == "rate":
                    wait = refused.retry_after if refused.retry_after is not None else 1.0
                    logger.warning(
                        "%s: rate limited (%s); retrying in %.0f s", what, refused.message, wait
                    )
                else:
                    failures += 1
                    if failures > self.options.retries:
                        raise WorkerStopped(
                            f"{what} failed {failures} times in a row: {refused.message}"
                        ) from exc
                    wait = min(
                        self.options.backoff_max_seconds,
                        self.options.backoff_seconds * 2 ** (failures - 1),
                    ) * random.uniform(1.0, 1.25)
                    logger.warning(
                        "%s failed (%s); retry %d of %d in %.1f s",
                        what,
                        refused.message,
                        failures,
                        self.options.retries,
                        wait,
                    )
                await self._pause(wait, interruptible=interruptible)

    async def _pause(self, seconds: float, *, interruptible: bool) -> None:
        """Wait before a retry; _Interrupted when a stop is asked for meanwhile."""
        if not interruptible:
            await asyncio.sleep(seconds)
            return
        await self._sleep(seconds)
        if self.stopping.is_set():
            raise _Interrupted

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def _keep_alive(
        self, what: str, beat: Callable[[], Awaitable[Any]], lost: asyncio.Event
    ) -> None:
        """Call ``beat`` every heartbeat_seconds until cancelled; a CONFLICT or
        NOT_FOUND sets ``lost``, an authorization failure aborts the work."""
        while True:
            await asyncio.sleep(self.options.heartbeat_seconds)
            try:
                await self._call(what, beat, interruptible=False)
            except GraphQLClientGraphQLMultiError as exc:
                if claim_lost(exc):
                    lost.set()
                    return
                logger.warning("heartbeat failed: %s", exc)
            except WorkerStopped as exc:
                self._abort = exc
                return

    def _check(self, lost: asyncio.Event) -> None:
        if self._abort is not None:
            raise self._abort
        if lost.is_set():
            raise ClaimLost


def claim_lost(error: BaseException) -> bool:
    """The server says the caller no longer holds the claim (CONFLICT, NOT_FOUND)."""
    return bool({"CONFLICT", "NOT_FOUND"} & _codes(error))


class Worker(BaseWorker):
    """The execution worker: evaluation experiments' runs."""

    def __init__(
        self,
        options: WorkerOptions,
        executor: Executor,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(options, transport)
        self.executor = executor

    @property
    def completed_experiments(self) -> int:
        return self.completed

    async def _claim(self) -> tuple[Any, str]:
        """A claim, or None and why there is none (a named experiment that is
        held, disabled, failed or complete counts as nothing claimable)."""
        try:
            claimed = await self._call(
                "claimExecution",
                lambda: self.client.claim_execution(
                    self.options.worker_id, self.options.experiment_id
                ),
            )
        except GraphQLClientGraphQLMultiError as exc:
            if self.options.experiment_id is not None and "CONFLICT" in _codes(exc):
                return None, f"experiment {self.options.experiment_id} cannot be claimed: {exc}"
            raise
        claim = claimed.claim_execution.claim
        return claim, "nothing left to claim"

    async def _work(self, claim: Any) -> None:
        experiment_id = claim.experiment.id
        name = claim.experiment.name
        token = claim.fencing_token
        lost = asyncio.Event()
        self._abort = None
        heart = asyncio.create_task(self._heartbeat(experiment_id, token, lost))
        logger.info("claimed %s (token %s)", name, token)
        error: str | None = None
        holding = True
        finished = False
        try:
            try:
                await self._execute_all(claim, lost)
                finished = not self.stopping.is_set()
            except ClaimLost:
                holding = False
                logger.warning("claim on %s lost; stopping it", name)
                return
            except (WorkerStopped, _Interrupted):
                raise  # not the experiment's fault: released without an error below
            except Exception as exc:
                if "CONFLICT" in _codes(exc):
                    holding = False
                    logger.warning("claim on %s lost while writing", name)
                    return
                logger.exception("execution of %s failed", name)
                error = f"{type(exc).__name__}: {exc}"
        finally:
            heart.cancel()
            if holding and not lost.is_set():
                released = await self._release(experiment_id, token, error)
                if released and finished:
                    self.completed += 1

    async def _release(self, experiment_id: str, token: str, error: str | None) -> bool:
        """Give the claim back; never raises (it runs on every way out of _work)."""
        try:
            async with asyncio.timeout(self.options.release_timeout_seconds):
                await self._call(
                    "releaseExecution",
                    lambda: self.client.release_execution(
                        experiment_id, self.options.worker_id, token, error
                    ),
                    interruptible=False,
                )
            return True
        except Exception as exc:  # logged; the claim goes stale instead
            logger.warning("release of %s failed: %s", experiment_id, exc)
            return False

    async def _heartbeat(self, experiment_id: str, token: str, lost: asyncio.Event) -> None:
        await self._keep_alive(
            "heartbeatExecution",
            lambda: self.client.heartbeat_execution(experiment_id, self.options.worker_id, token),
            lost,
        )

    async def _execute_all(self, claim: Any, lost: asyncio.Event) -> None:
        experiment_id = claim.experiment.id
        # Executors and evaluators get plain dicts with Python (snake_case) keys;
        # the free-form invocationParameters and parameters come as stored.
        task_config = claim.config.task_config.model_dump(mode="json")
        evaluators = [e.model_dump(mode="json") for e in claim.config.evaluator_configs]
        limit = asyncio.Semaphore(self.options.concurrency)
        after: str | None = None
        while True:
            self._check(lost)
            page = await self._call(
                "incompleteRuns",
                lambda after=after: self.client.incomplete_runs(  # type: ignore[misc]
                    experiment_id, self.options.batch_size, after
                ),
            )
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
            self._check(lost)
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
        recorded = await self._call(
            "recordExperimentRuns",
            lambda: self.client.record_experiment_runs(
                experiment_id, self.options.worker_id, token, runs
            ),
            interruptible=False,
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
            await self._call(
                "recordRunAnnotations",
                lambda: self.client.record_run_annotations(
                    experiment_id, self.options.worker_id, token, annotations
                ),
                interruptible=False,
            )
