"""Workers for training work: HPO trials, NAS trials and dataset jobs.

Each kind runs the same loop as the execution worker (runner.BaseWorker: claim,
heartbeat in the background, work, finish; refusals sorted by ``refusal``:
rate limits waited out, transient failures retried with back-off, an
authorization failure stops the worker) and finishes what it claimed:

- ``hpo``: claimHpoTrial -> one executor call per epoch (``budget.maxEpochs``
  epochs), each logged with logTrainingEpochs and reported with
  reportIntermediate; a ``shouldPrune`` answer ends the trial PRUNED, the last
  epoch COMPLETED, an executor error FAILED (its budget slot is offered again).
- ``nas``: claimNasTrial -> one executor call trains the sampled architecture
  -> finishNasTrial COMPLETED with its accuracy, loss, time, parameters, FLOPs
  and size (FAILED with the error when the executor raises).
- ``datasets``: claimDatasetJob -> one executor call with a progress callback
  (each new value is sent with reportDatasetJobProgress, which also keeps the
  claim alive) -> finishDatasetJob COMPLETED with the dataset and signals
  (FAILED with the error when the executor raises).

On SIGTERM a worker claims nothing more: an HPO trial is given up at the next
epoch (FAILED), a NAS trial or dataset job in hand is finished first.
A claim lost meanwhile (the server answers CONFLICT: taken over, went stale)
stops the work without finishing it. A worker killed outright leaves its claim
to go stale: the server fails a stale trial and offers its slot again, and a
stale dataset job is taken over by the next claimer.

Executors (``--executor builtin``, the default, or ``package.module:function``;
sync functions run in a thread, async ones on the loop):

- hpo: ``f(params: dict, epoch: int, seed: int) -> dict`` for epoch 0, 1, ...:
  the epoch's metrics by snake_case name, any of ``train_loss``,
  ``train_accuracy``, ``val_loss``, ``val_accuracy``, ``learning_rate``,
  ``duration_seconds``; the campaign's objective metric must be among them.
  Built in: ``expgraph.worker.objective.noisy_quadratic``.
- nas: ``f(architecture: dict, epochs: int, seed: int) -> dict`` with any of
  ``validation_accuracy``, ``validation_loss``, ``training_time``,
  ``num_parameters``, ``flops``, ``model_size_mb`` and ``metrics`` (a dict).
  Built in: ``nas_builtin``, deterministic from the architecture.
- datasets: ``f(job: DatasetTask, progress: Callable[[int], None]) -> dict``
  with ``signals`` (a list of dicts: ``signal_id`` and any of ``fault_class``,
  ``severity``, ``rms``, ``kurtosis``, ``dominant_frequency``, ``file_path``)
  and optionally ``name`` and ``description`` (the dataset's), ``output_path``
  and ``num_files``; ``progress(percent)`` may be called at any time (from any
  thread). Built in: ``dataset_builtin``, synthetic signals from the config.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from expgraph.worker.client.enums import DatasetJobOutcome, HpoTrialOutcome, NasTrialStatus
from expgraph.worker.client.exceptions import GraphQLClientGraphQLMultiError
from expgraph.worker.client.input_types import (
    DatasetJobResultInput,
    DatasetJobSignalInput,
    TrainingEpochInput,
    TrainingMetricsInput,
)
from expgraph.worker.runner import (
    BaseWorker,
    ClaimLost,
    WorkerOptions,
    WorkerStopped,
    _Interrupted,
    claim_lost,
)

logger = logging.getLogger("expgraph.worker")

WORK_KINDS = ("hpo", "nas", "datasets")


async def call_executor(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``: awaited when async, else run in a thread (a long
    training call must not stop the heartbeat)."""
    if inspect.iscoroutinefunction(function):
        return await function(*args)
    value = await asyncio.to_thread(function, *args)
    return await value if inspect.isawaitable(value) else value


def load_training_executor(work: str, spec: str) -> Callable[..., Any]:
    """The executor for ``work``: ``builtin`` or ``package.module:function``."""
    if spec == "builtin":
        return BUILTINS[work]()
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError("an executor is `builtin` or `package.module:function`")
    function: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    return function


class TrainingWorker(BaseWorker):
    """Claim one piece of work, keep it alive, work it, finish it."""

    what = "work"

    def __init__(
        self,
        options: WorkerOptions,
        executor: Callable[..., Any],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(options, transport)
        self.executor = executor

    async def _beat(self, claim: Any) -> Any:
        """One heartbeat call for ``claim``."""
        raise NotImplementedError

    async def _run(self, claim: Any, lost: asyncio.Event) -> bool:
        """Work ``claim`` and finish it; False when it was given up (finished
        FAILED because the worker is stopping); ClaimLost when the claim is lost."""
        raise NotImplementedError

    async def _fail(self, claim: Any, error: str) -> None:
        """Finish ``claim`` as failed with ``error``."""
        raise NotImplementedError

    async def _work(self, claim: Any) -> None:
        lost = asyncio.Event()
        self._abort = None
        heart = asyncio.create_task(
            self._keep_alive(f"heartbeat ({self.what})", lambda: self._beat(claim), lost)
        )
        logger.info("claimed %s %s (token %s)", self.what, claim.id, claim.fencing_token)
        try:
            if await self._run(claim, lost):
                self.completed += 1
        except ClaimLost:
            logger.warning("claim on %s %s lost; stopping it", self.what, claim.id)
        except (WorkerStopped, _Interrupted):
            raise  # the server cannot be worked with: the claim is left to go stale
        except Exception as exc:
            if claim_lost(exc):
                logger.warning("claim on %s %s lost while writing: %s", self.what, claim.id, exc)
                return
            logger.exception("%s %s failed", self.what, claim.id)
            heart.cancel()
            await self._finish_failed(claim, f"{type(exc).__name__}: {exc}")
        finally:
            heart.cancel()

    async def _finish_failed(self, claim: Any, error: str) -> None:
        """Report the failure; never raises (a failed report leaves the claim to go stale)."""
        try:
            async with asyncio.timeout(self.options.release_timeout_seconds):
                await self._fail(claim, error[:10_000])
        except Exception as exc:
            logger.warning("could not report %s %s failed: %s", self.what, claim.id, exc)


# -- HPO ----------------------------------------------------------------------

EPOCH_FIELDS = {
    "train_loss": "trainLoss",
    "train_accuracy": "trainAccuracy",
    "val_loss": "valLoss",
    "val_accuracy": "valAccuracy",
    "learning_rate": "learningRate",
    "duration_seconds": "durationSeconds",
    "checkpoint_path": "checkpointPath",
}
FINAL_FIELDS = ("train_loss", "train_accuracy", "val_loss", "val_accuracy")


class HpoWorker(TrainingWorker):
    what = "HPO trial"

    async def _claim(self) -> tuple[Any, str]:
        claimed = await self._call(
            "claimHpoTrial",
            lambda: self.client.claim_hpo_trial(self.options.worker_id, self.options.campaign_id),
        )
        return claimed.claim_hpo_trial.trial, "no HPO trial to claim"

    async def _beat(self, claim: Any) -> Any:
        return await self.client.heartbeat_trial(
            claim.experiment.id, self.options.worker_id, claim.fencing_token
        )

    async def _run(self, claim: Any, lost: asyncio.Event) -> bool:
        experiment_id, token = claim.experiment.id, claim.fencing_token
        params = dict(claim.experiment.hyperparameters or {})
        seed = int(claim.campaign.seed or 0)
        metric = claim.campaign.objective.metric.value.lower()
        last: dict[str, Any] = {}
        for epoch in range(claim.campaign.budget.max_epochs):
            self._check(lost)
            if self.stopping.is_set():
                logger.info("stopping: trial %s given up at epoch %d", claim.id, epoch)
                await self._finish_failed(claim, "the worker stopped")
                return False
            started = time.perf_counter()
            values = dict(await call_executor(self.executor, params, epoch, seed))
            values.setdefault("duration_seconds", time.perf_counter() - started)
            if metric not in values:
                raise ValueError(f"the executor returned no {metric} (the campaign's objective)")
            row = TrainingEpochInput(
                epoch=epoch, **{EPOCH_FIELDS[k]: v for k, v in values.items() if k in EPOCH_FIELDS}
            )
            self._check(lost)
            await self._call(
                "logTrainingEpochs",
                lambda row=row: self.client.log_training_epochs(  # type: ignore[misc]
                    experiment_id, [row], fencing_token=token
                ),
                interruptible=False,
            )
            answer = await self._call(
                "reportIntermediate",
                lambda epoch=epoch, value=float(values[metric]): (  # type: ignore[misc]
                    self.client.report_intermediate(
                        experiment_id, self.options.worker_id, token, epoch, value
                    )
                ),
                interruptible=False,
            )
            last = values
            if answer.report_intermediate.should_prune:
                logger.info("trial %s pruned after epoch %d", claim.id, epoch)
                await self._finish(claim, HpoTrialOutcome.PRUNED, last, float(last[metric]))
                return True
        value = float(last[metric]) if last else None
        await self._finish(claim, HpoTrialOutcome.COMPLETED, last, value)
        return True

    async def _finish(
        self, claim: Any, status: HpoTrialOutcome, last: Mapping[str, Any], value: float | None
    ) -> None:
        metrics = TrainingMetricsInput(
            **{EPOCH_FIELDS[k]: last[k] for k in FINAL_FIELDS if last.get(k) is not None}
        )
        await self._call(
            "finishTrial",
            lambda: self.client.finish_trial(
                claim.experiment.id,
                self.options.worker_id,
                claim.fencing_token,
                status,
                value=value,
                metrics=metrics,
            ),
            interruptible=False,
        )

    async def _fail(self, claim: Any, error: str) -> None:
        logger.warning("trial %s failed: %s", claim.id, error)
        await self._call(
            "finishTrial",
            lambda: self.client.finish_trial(
                claim.experiment.id,
                self.options.worker_id,
                claim.fencing_token,
                HpoTrialOutcome.FAILED,
            ),
            interruptible=False,
        )


def _objective() -> Callable[..., Any]:
    from expgraph.worker.objective import noisy_quadratic

    return noisy_quadratic


# -- NAS ----------------------------------------------------------------------


class NasWorker(TrainingWorker):
    what = "NAS trial"

    async def _claim(self) -> tuple[Any, str]:
        claimed = await self._call(
            "claimNasTrial",
            lambda: self.client.claim_nas_trial(self.options.worker_id, self.options.campaign_id),
        )
        return claimed.claim_nas_trial.trial, "no NAS trial to claim"

    async def _beat(self, claim: Any) -> Any:
        return await self.client.heartbeat_nas_trial(
            claim.id, self.options.worker_id, claim.fencing_token
        )

    async def _run(self, claim: Any, lost: asyncio.Event) -> bool:
        started = time.perf_counter()
        result = dict(
            await call_executor(
                self.executor,
                claim.architecture,
                claim.campaign.max_epochs_per_trial,
                int(claim.campaign.seed or 0),
            )
        )
        self._check(lost)
        flops = result.get("flops")
        await self._call(
            "finishNasTrial",
            lambda: self.client.finish_nas_trial(
                claim.id,
                self.options.worker_id,
                claim.fencing_token,
                NasTrialStatus.COMPLETED,
                validation_accuracy=result.get("validation_accuracy"),
                validation_loss=result.get("validation_loss"),
                training_time=result.get("training_time", time.perf_counter() - started),
                num_parameters=result.get("num_parameters"),
                flops=None if flops is None else str(int(flops)),
                model_size_mb=result.get("model_size_mb"),
                metrics=result.get("metrics"),
            ),
            interruptible=False,
        )
        return True

    async def _fail(self, claim: Any, error: str) -> None:
        await self._call(
            "finishNasTrial",
            lambda: self.client.finish_nas_trial(
                claim.id,
                self.options.worker_id,
                claim.fencing_token,
                NasTrialStatus.FAILED,
                metrics={"error": error},
            ),
            interruptible=False,
        )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _unit(*parts: Any) -> float:
    """A number in [0, 1) from a hash of ``parts``."""
    digest = hashlib.sha256(_canonical(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _width(layer: Any) -> int:
    """A layer's width: the sum of its whole-number choices (16 when none)."""
    values = layer.values() if isinstance(layer, Mapping) else [layer]
    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    return sum(numbers) or 16


def nas_builtin(architecture: Mapping[str, Any], epochs: int, seed: int = 0) -> dict[str, Any]:
    """A deterministic stand-in for training ``architecture`` for ``epochs``.

    Layers (``architecture["layers"]``, else the architecture as one layer) are
    dense layers as wide as the sum of their whole-number choices (16 when none),
    fed 32 inputs: parameters are the weights and biases, FLOPs two per weight
    for a 1,024-step input, size 4 bytes per parameter. Accuracy grows with the
    parameters (with diminishing returns) and the epochs, plus a fixed amount
    from the architecture's hash; the same call always returns the same numbers.
    """
    layers = architecture.get("layers")
    if not isinstance(layers, list) or not layers:
        layers = [architecture]
    fan_in, parameters = 32, 0
    for layer in layers:
        width = _width(layer)
        parameters += fan_in * width + width
        fan_in = width
    parameters += fan_in + 1  # the output unit
    capacity = 1 - math.exp(-parameters / 20_000)
    training = 1 - 0.5 ** max(epochs, 1)
    accuracy = 0.5 + 0.4 * capacity * training + 0.05 * _unit(dict(architecture), seed)
    loss = -math.log(max(accuracy, 1e-9))
    return {
        "validation_accuracy": round(accuracy, 6),
        "validation_loss": round(loss, 6),
        "training_time": round(epochs * parameters / 1e7, 6),
        "num_parameters": parameters,
        "flops": 2 * parameters * 1024,
        "model_size_mb": round(parameters * 4 / 1e6, 6),
        "metrics": {"layers": len(layers), "epochs": epochs},
    }


# -- dataset jobs --------------------------------------------------------------


@dataclass(frozen=True)
class DatasetTask:
    """A claimed dataset job, as a dataset executor gets it."""

    id: str
    kind: str  # "GENERATION" or "IMPORT"
    name: str
    config: dict[str, Any]
    dataset_id: str | None  # the dataset it updates; None: it creates one


FAULTS = ("normal", "inner_race", "outer_race", "ball")
SEVERITIES = ("low", "medium", "high")


def dataset_builtin(job: DatasetTask, progress: Callable[[int], None]) -> dict[str, Any]:
    """Synthetic signals: ``config["num_signals"]`` of them (default 10, at most
    1,000), named ``<prefix>-0001``, ... (``config["prefix"]``, default the
    job's name), fault classes and severities cycled from ``config["fault_classes"]``
    and ``config["severities"]`` (defaults: normal/inner_race/outer_race/ball and
    low/medium/high), features drawn from a hash of (``config["seed"]``, the
    signal's name). The dataset is named ``config["dataset_name"]`` (default the
    job's name). Progress is reported every tenth of the signals."""
    config = job.config or {}
    count = max(0, min(int(config.get("num_signals", 10)), 1000))
    prefix = str(config.get("prefix") or job.name)
    faults = list(config.get("fault_classes") or FAULTS)
    severities = list(config.get("severities") or SEVERITIES)
    seed = config.get("seed", 0)
    signals = []
    step = max(1, count // 10)
    for i in range(count):
        signal_id = f"{prefix}-{i + 1:04d}"
        fault = str(faults[i % len(faults)])
        signals.append(
            {
                "signal_id": signal_id,
                "fault_class": fault,
                "severity": None if fault == "normal" else str(severities[i % len(severities)]),
                "rms": round(0.1 + _unit(seed, signal_id, "rms"), 6),
                "kurtosis": round(3 + 5 * _unit(seed, signal_id, "kurtosis"), 6),
                "dominant_frequency": round(50 + 950 * _unit(seed, signal_id, "f"), 3),
                "file_path": f"{prefix}/{signal_id}.npy",
            }
        )
        if (i + 1) % step == 0:
            progress(int(100 * (i + 1) / count))
    result: dict[str, Any] = {
        "name": str(config.get("dataset_name") or job.name),
        "description": f"{count} synthetic signals ({job.kind.lower()} {job.name})",
        "signals": signals,
        "output_path": prefix,
    }
    if job.kind == "IMPORT":
        result["num_files"] = count
    return result


SIGNAL_FIELDS = {
    "signal_id": "signalId",
    "fault_class": "faultClass",
    "severity": "severity",
    "rms": "rms",
    "kurtosis": "kurtosis",
    "dominant_frequency": "dominantFrequency",
    "file_path": "filePath",
}


def _signal(value: Mapping[str, Any]) -> DatasetJobSignalInput:
    return DatasetJobSignalInput(
        **{SIGNAL_FIELDS[k]: v for k, v in value.items() if k in SIGNAL_FIELDS}
    )


class DatasetWorker(TrainingWorker):
    what = "dataset job"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._progress = 0  # the claim's last progress reported

    async def _claim(self) -> tuple[Any, str]:
        claimed = await self._call(
            "claimDatasetJob",
            lambda: self.client.claim_dataset_job(self.options.worker_id),
        )
        self._progress = 0
        return claimed.claim_dataset_job.job, "no dataset job to claim"

    async def _beat(self, claim: Any) -> Any:
        """reportDatasetJobProgress keeps the claim alive: the last value again."""
        return await self.client.report_dataset_job_progress(
            claim.id, self.options.worker_id, claim.fencing_token, self._progress
        )

    async def _run(self, claim: Any, lost: asyncio.Event) -> bool:
        loop = asyncio.get_running_loop()
        wanted = asyncio.Queue[int]()

        def progress(percent: int) -> None:  # any thread
            loop.call_soon_threadsafe(wanted.put_nowait, max(0, min(100, int(percent))))

        async def reporter() -> None:
            while True:
                value = await wanted.get()
                try:
                    if value > self._progress and not lost.is_set():
                        await self._call(
                            "reportDatasetJobProgress",
                            lambda value=value: self.client.report_dataset_job_progress(  # type: ignore[misc]
                                claim.id, self.options.worker_id, claim.fencing_token, value
                            ),
                            interruptible=False,
                        )
                        self._progress = value
                except GraphQLClientGraphQLMultiError as exc:
                    if not claim_lost(exc):
                        raise
                    lost.set()
                except WorkerStopped as exc:
                    self._abort = exc
                finally:
                    wanted.task_done()

        task = DatasetTask(
            id=claim.id,
            kind=claim.kind.value,
            name=claim.name,
            config=dict(claim.config or {}),
            dataset_id=claim.dataset.id if claim.dataset else None,
        )
        started = time.perf_counter()
        reporting = asyncio.create_task(reporter())
        try:
            result = dict(await call_executor(self.executor, task, progress))
            # The progress calls made before the executor returned are queued
            # by now: wait until they are sent (or the reporter failed).
            joined = asyncio.ensure_future(wanted.join())
            await asyncio.wait({joined, reporting}, return_when=asyncio.FIRST_COMPLETED)
            joined.cancel()
            if reporting.done():
                reporting.result()  # its error, if it failed
        finally:
            reporting.cancel()
        self._check(lost)
        dataset = DatasetJobResultInput(
            name=None if task.dataset_id else result.get("name") or task.name,
            description=result.get("description"),
            signals=[_signal(s) for s in result.get("signals") or []],
        )
        await self._call(
            "finishDatasetJob",
            lambda: self.client.finish_dataset_job(
                claim.id,
                self.options.worker_id,
                claim.fencing_token,
                DatasetJobOutcome.COMPLETED,
                dataset=dataset,
                duration_seconds=time.perf_counter() - started,
                num_files=result.get("num_files"),
                output_path=result.get("output_path"),
            ),
            interruptible=False,
        )
        return True

    async def _fail(self, claim: Any, error: str) -> None:
        await self._call(
            "finishDatasetJob",
            lambda: self.client.finish_dataset_job(
                claim.id,
                self.options.worker_id,
                claim.fencing_token,
                DatasetJobOutcome.FAILED,
                error_message=error,
            ),
            interruptible=False,
        )


BUILTINS: dict[str, Callable[[], Callable[..., Any]]] = {
    "hpo": _objective,
    "nas": lambda: nas_builtin,
    "datasets": lambda: dataset_builtin,
}

WORKERS: dict[str, type[TrainingWorker]] = {
    "hpo": HpoWorker,
    "nas": NasWorker,
    "datasets": DatasetWorker,
}


def make_worker(
    work: str,
    options: WorkerOptions,
    executor: Callable[..., Any],
    transport: httpx.AsyncBaseTransport | None = None,
) -> TrainingWorker:
    return WORKERS[work](options, executor, transport)
