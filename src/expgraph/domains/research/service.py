"""Research writes: synths, analysis lifecycle and outcomes, interviews, documents."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.dialect import insert_ignoring_conflicts, upsert
from expgraph.db.types import utcnow
from expgraph.db.values import check_rows
from expgraph.domains.experiments.models import Experiment, ResearchExperiment
from expgraph.domains.research import models
from expgraph.domains.simulation.models import SimulationRun
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import article, graphql_name, json_object, optional_text, text

A, Out, X, T = models.AnalysisRun, models.SynthOutcome, models.ResearchExecution, models.Transcript
S = models.AnalysisStatus
RS = models.ResearchStatus
MAX_BATCH = 5000
MAX_MESSAGES = 1000  # transcript messages appended per call
RATE_TOLERANCE = 1e-6
# Research execution lifecycle: allowed next states.
NEXT: dict[RS, set[RS]] = {
    RS.PENDING: {RS.RUNNING, RS.FAILED},
    RS.RUNNING: {RS.GENERATING_SUMMARY, RS.COMPLETED, RS.FAILED},
    RS.GENERATING_SUMMARY: {RS.COMPLETED, RS.FAILED},
    RS.COMPLETED: set(),
    RS.FAILED: set(),
}


async def research_experiment(session: AsyncSession, pk: int) -> ResearchExperiment:
    experiment = await session.get(ResearchExperiment, pk)
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("no research experiment with that id", field="experimentId")
    return experiment


async def live_experiment(session: AsyncSession, pk: int) -> Experiment:
    experiment = await session.get(Experiment, pk)
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("no experiment with that id", field="experimentId")
    return experiment


async def import_synths(
    session: AsyncSession, group_id: int | None, synths: Sequence[dict[str, Any]]
) -> list[int]:
    if not synths:
        raise BadRequest("synths must not be empty", field="synths")
    if len(synths) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} synths per call", field="synths")
    if group_id is not None and await session.get(models.SynthGroup, group_id) is None:
        raise NotFound("no synth group with that id", field="synthGroupId")
    rows = []
    for i, s in enumerate(synths):
        rows.append(
            {
                "synth_group_id": group_id,
                "nome": text(s["name"], f"synths[{i}].name", max_length=255),
                "descricao": optional_text(s.get("description"), "description", max_length=10_000),
                "link_photo": optional_text(s.get("link_photo"), "linkPhoto", max_length=1000),
                "avatar_path": optional_text(s.get("avatar_path"), "avatarPath", max_length=1000),
                "version": s.get("version") or "2.0.0",
                "data": json_object(s.get("data"), f"synths[{i}].data") if s.get("data") else None,
            }
        )
    check_rows(models.Synth, rows)  # Core inserts skip the ORM's value checks
    return list(
        (await session.scalars(insert(models.Synth).returning(models.Synth.id), rows)).all()
    )


async def create_analysis(
    session: AsyncSession, experiment_id: int, scenario_id: str, config: Any
) -> models.AnalysisRun:
    await research_experiment(session, experiment_id)
    if await session.scalar(select(A.id).where(A.experiment_id == experiment_id)):
        raise Conflict("the experiment already has its analysis run")
    run = A(
        experiment_id=experiment_id,
        scenario_id=text(scenario_id, "scenarioId", max_length=100),
        config=json_object(config, "config"),
    )
    session.add(run)
    await session.flush()
    await session.refresh(run)
    return run


async def _transition(
    session: AsyncSession, pk: int, allowed: set[S], values: dict[str, Any]
) -> models.AnalysisRun:
    """One guarded UPDATE; on no match, one read says why."""
    done = (
        await session.scalars(
            update(A)
            .where(A.id == pk, A.status.in_(allowed))
            .values(**values)
            .returning(A)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if done is not None:
        return done
    current = await session.get(A, pk)
    if current is None:
        raise NotFound("no analysis run with that id")
    raise Conflict(
        f"the analysis run is {current.status.value}; cannot become {values['status'].value}"
    )


async def start_analysis(session: AsyncSession, pk: int) -> models.AnalysisRun:
    return await _transition(
        session, pk, {S.PENDING}, {"status": S.RUNNING, "started_at": utcnow()}
    )


async def fail_analysis(session: AsyncSession, pk: int) -> models.AnalysisRun:
    return await _transition(
        session, pk, {S.PENDING, S.RUNNING}, {"status": S.FAILED, "completed_at": utcnow()}
    )


async def complete_analysis(session: AsyncSession, pk: int) -> models.AnalysisRun:
    """running -> completed, with the outcomes aggregated in the same transaction."""
    of_run = Out.analysis_id == pk
    count, dnt, failed, success = (
        await session.execute(
            select(
                func.count(Out.id),
                func.avg(Out.did_not_try_rate),
                func.avg(Out.failed_rate),
                func.avg(Out.success_rate),
            ).where(of_run)
        )
    ).one()
    started = await session.scalar(select(A.started_at).where(A.id == pk))
    now = await session.scalar(select(utcnow()))
    aggregated = {
        "count": int(count),
        "mean_did_not_try_rate": dnt,
        "mean_failed_rate": failed,
        "mean_success_rate": success,
    }
    elapsed = (now - started).total_seconds() if started and now else None
    return await _transition(
        session,
        pk,
        {S.RUNNING},
        {
            "status": S.COMPLETED,
            "completed_at": utcnow(),
            "aggregated_outcomes": aggregated,
            "total_synths": int(count),
            "execution_time_seconds": elapsed,
        },
    )


def _check_rates(i: int, outcome: dict[str, Any]) -> None:
    rates = [outcome["did_not_try_rate"], outcome["failed_rate"], outcome["success_rate"]]
    if any(not (isinstance(r, int | float) and math.isfinite(r) and 0 <= r <= 1) for r in rates):
        raise BadRequest(f"outcomes[{i}]: every rate must be in [0, 1]", field="outcomes")
    if abs(sum(rates) - 1) > RATE_TOLERANCE:
        raise BadRequest(f"outcomes[{i}]: the three rates must sum to 1", field="outcomes")


async def record_outcomes(
    session: AsyncSession, dialect: str, analysis_id: int, outcomes: Sequence[dict[str, Any]]
) -> int:
    if not outcomes:
        raise BadRequest("outcomes must not be empty", field="outcomes")
    if len(outcomes) > MAX_BATCH:
        raise BadRequest(f"at most {MAX_BATCH} outcomes per call", field="outcomes")
    run = await session.get(A, analysis_id)
    if run is None:
        raise NotFound("no analysis run with that id", field="analysisId")
    if run.status in (S.COMPLETED, S.FAILED):
        raise Conflict(f"the analysis run is already {run.status.name}")
    synth_ids = [o["synth_id"] for o in outcomes]
    if len(set(synth_ids)) != len(synth_ids):
        raise BadRequest("a synth appears twice in one batch", field="outcomes")
    for i, outcome in enumerate(outcomes):
        _check_rates(i, outcome)
    known = set(
        (await session.scalars(select(models.Synth.id).where(models.Synth.id.in_(synth_ids)))).all()
    )
    if len(known) != len(set(synth_ids)):
        raise NotFound("a synth of the batch does not exist", field="outcomes")
    rows = [{"analysis_id": analysis_id, **o} for o in outcomes]
    fields = ("did_not_try_rate", "failed_rate", "success_rate", "synth_attributes")
    await session.execute(upsert(dialect, Out.__table__, rows, ("analysis_id", "synth_id"), fields))  # type: ignore[arg-type]
    return len(rows)


async def upsert_cache(
    session: AsyncSession, dialect: str, analysis_id: int, key: str, data: Any, params: Any
) -> models.AnalysisCache:
    if await session.get(A, analysis_id) is None:
        raise NotFound("no analysis run with that id", field="analysisId")
    row = {
        "analysis_id": analysis_id,
        "cache_key": text(key, "cacheKey", max_length=255),
        "data": json_object(data, "data"),
        "params": json_object(params, "params") if params is not None else None,
        "computed_at": utcnow(),
    }
    await session.execute(
        upsert(
            dialect,
            models.AnalysisCache.__table__,  # type: ignore[arg-type]
            [row],
            ("analysis_id", "cache_key"),
            ("data", "params", "computed_at"),
        )
    )
    entry = await session.get(
        models.AnalysisCache, (analysis_id, row["cache_key"]), populate_existing=True
    )
    assert entry is not None
    return entry


async def set_execution_status(
    session: AsyncSession, pk: int, status: RS
) -> models.ResearchExecution:
    current = await session.get(X, pk, with_for_update=True)
    if current is None:
        raise NotFound("no research execution with that id")
    if status not in NEXT[current.status]:
        was = current.status.name
        raise Conflict(f"{article(was)} {was} execution cannot become {status.name}")
    allowed = [s for s, nxt in NEXT.items() if status in nxt]
    values: dict[str, Any] = {"status": status}
    if status in (RS.COMPLETED, RS.FAILED):
        values["completed_at"] = utcnow()
    done = (
        await session.scalars(
            update(X)
            .where(X.id == pk, X.status.in_(allowed))
            .values(**values)
            .returning(X)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if done is None:
        raise Conflict("the execution changed meanwhile; read it again")
    return done


async def _transcript(
    session: AsyncSession, dialect: str, execution_id: int, synth_id: int
) -> models.Transcript:
    """The (execution, synth) transcript, created on first use, locked for this write."""
    synth = await session.get(models.Synth, synth_id)
    if synth is None:
        raise NotFound("no synth with that id", field="synthId")
    await session.execute(
        insert_ignoring_conflicts(
            dialect,
            T.__table__,  # type: ignore[arg-type]
            {
                "exec_id": execution_id,
                "synth_id": synth_id,
                "synth_name": synth.nome,
                "messages": [],
                "turn_count": 0,
                "status": "pending",
            },
            ("exec_id", "synth_id"),
        )
    )
    return (
        await session.scalars(
            select(T)
            .where(T.exec_id == execution_id, T.synth_id == synth_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).one()


async def append_messages(
    session: AsyncSession, dialect: str, execution_id: int, synth_id: int, messages: list[Any]
) -> models.Transcript:
    """Append to a transcript; ``turn_count`` is the number of messages."""
    if not messages:
        raise BadRequest("messages must not be empty", field="messages")
    for i, message in enumerate(messages):
        json_object(message, f"messages[{i}]")
    execution = await session.get(X, execution_id)
    if execution is None:
        raise NotFound("no research execution with that id", field="executionId")
    if execution.status in (RS.COMPLETED, RS.FAILED):
        raise Conflict(f"the execution is already {execution.status.name}")
    transcript = await _transcript(session, dialect, execution_id, synth_id)
    transcript.messages = [*transcript.messages, *messages]
    transcript.turn_count = len(transcript.messages)
    await session.flush()
    return transcript


async def set_transcript_status(
    session: AsyncSession,
    dialect: str,
    execution_id: int,
    synth_id: int,
    status: models.TranscriptStatus,
) -> models.Transcript:
    """Set a transcript's status and recount the execution's successes and failures."""
    execution = await session.get(X, execution_id, with_for_update=True)
    if execution is None:
        raise NotFound("no research execution with that id", field="executionId")
    transcript = await _transcript(session, dialect, execution_id, synth_id)
    transcript.status = status.value
    await session.flush()
    of_exec = T.exec_id == execution_id
    await session.execute(
        update(X)
        .where(X.id == execution_id)
        .values(
            successful_count=select(func.count(T.id))
            .where(of_exec, T.status == models.TranscriptStatus.COMPLETED.value)
            .scalar_subquery(),
            failed_count=select(func.count(T.id))
            .where(of_exec, T.status == models.TranscriptStatus.FAILED.value)
            .scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )
    return transcript


async def upsert_row(
    session: AsyncSession,
    dialect: str,
    model: type[Any],
    values: dict[str, Any],
    keys: tuple[str, ...],
) -> Any:
    """Insert or update one row identified by ``keys`` (guides, documents, insights)."""
    columns = tuple(k for k in values if k not in keys)
    await session.execute(upsert(dialect, model.__table__, [values], keys, columns))
    where = [getattr(model, k) == values[k] for k in keys]
    return (
        await session.scalars(select(model).where(*where).execution_options(populate_existing=True))
    ).one()


async def _add(session: AsyncSession, row: Any) -> Any:
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def create_synth_group(
    session: AsyncSession, name: str, description: str | None
) -> models.SynthGroup:
    group = models.SynthGroup(
        name=text(name, "name", max_length=255),
        description=optional_text(description, "description", max_length=10_000),
    )
    return await _add(session, group)


async def create_execution(
    session: AsyncSession, values: dict[str, Any]
) -> models.ResearchExecution:
    """A round of interviews, of a live experiment when it names one."""
    if values.get("experiment_id") is not None:
        await live_experiment(session, values["experiment_id"])
    values["topic_name"] = text(values["topic_name"], "topicName", max_length=255)
    if values.get("max_turns", 6) < 1 or values.get("synth_count", 0) < 0:
        raise BadRequest("maxTurns must be >= 1 and synthCount >= 0")
    return await _add(session, models.ResearchExecution(**values))


def unit(value: float, field: str) -> float:
    """``value``, a rate: BAD_REQUEST unless it is in [0, 1]."""
    if not 0 <= value <= 1:
        name = graphql_name(field)
        raise BadRequest(f"{name} must be in [0, 1]", field=name)
    return value


async def simulation_run(session: AsyncSession, pk: int) -> SimulationRun:
    run = await session.get(SimulationRun, pk)
    if run is None:
        raise NotFound("no simulation run with that id", field="simulationRunId")
    return run


async def upsert_chart_insight(
    session: AsyncSession, dialect: str, values: dict[str, Any]
) -> models.ChartInsight:
    """One insight per simulation run and insight type, replaced when it exists."""
    await simulation_run(session, values["simulation_id"])
    return await upsert_row(
        session, dialect, models.ChartInsight, values, ("simulation_id", "insight_type")
    )


async def create_sensitivity_result(
    session: AsyncSession, run_id: int, values: dict[str, Any]
) -> models.SensitivityResult:
    unit(values["baseline_success"], "baselineSuccess")
    await simulation_run(session, run_id)
    return await _add(session, models.SensitivityResult(simulation_id=run_id, **values))


async def create_region_analysis(
    session: AsyncSession, run_id: int, values: dict[str, Any]
) -> models.RegionAnalysis:
    for field in ("did_not_try_rate", "failed_rate", "success_rate"):
        unit(values[field], field)
    if values["synth_count"] < 0 or not 0 <= values["synth_percentage"] <= 100:
        raise BadRequest("synthCount must be >= 0 and synthPercentage in [0, 100]")
    values["rule_text"] = text(values["rule_text"], "ruleText", max_length=100_000)
    await simulation_run(session, run_id)
    row = models.RegionAnalysis(simulation_id=run_id, **values)
    session.add(row)
    await session.flush()
    return row
