"""Execution fields carried by experiment types: ``executionConfig`` on every
experiment (added to the interface with ``extends``), and the runs, progress and
incomplete runs of ``EvaluationExperiment`` (execution/experiment.py)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, and_, case, func, or_, select, true
from sqlalchemy.orm import aliased

from expgraph.db.dialect import integer_series
from expgraph.domains.catalog.models import DatasetExample
from expgraph.domains.execution import models
from expgraph.domains.execution.loaders import AnnotationSummariesById, ProgressById
from expgraph.domains.execution.types import (
    RUN_ORDERING,
    RUN_RULES,
    AnnotationSummary,
    ExecutionConfig,
    ExperimentRun,
    ExperimentRunFilter,
    ExperimentRunOrder,
    IncompleteRun,
    IncompleteRunPage,
    IncompleteRunStatus,
    LabelCount,
    Progress,
    progress_shown,
)
from expgraph.domains.experiments.types import Experiment
from expgraph.errors import BadRequest
from expgraph.graphql.connections import connection_field
from expgraph.graphql.context import Info
from expgraph.graphql.extend import extends
from expgraph.graphql.loaders import Relation, RowsById
from expgraph.graphql.prefetch import derived_field, node_field

R = models.ExperimentRun


@extends(Experiment)
class ExperimentExecution:
    # Null for kinds that do not execute, and before a config is created.
    execution_config = node_field(
        RowsById(models.ExecutionConfig),
        "id",
        ExecutionConfig,
        description="How it executes (evaluation experiments; null otherwise).",
    )


runs = connection_field(
    Relation(R, "experiment_id"),
    ExperimentRun,
    RUN_ORDERING,
    filter=ExperimentRunFilter,
    rules=RUN_RULES,
    order=ExperimentRunOrder,
    description="Its recorded runs.",
)


progress = derived_field(
    ProgressById(),
    "id",
    Progress,
    progress_shown,
    description="Runs recorded against those expected.",
)


def _encode(example_id: int, repetition: int) -> str:
    return base64.urlsafe_b64encode(f"{example_id}:{repetition}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        example_id, repetition = raw.split(":")
        return int(example_id), int(repetition)
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise BadRequest(
            "after is not a cursor this field returned (pass an endCursor or item cursor)",
            field="after",
        ) from exc


def _incomplete_statement(
    dialect: str, experiment: Any, repetitions: int, position: tuple[int, int], first: int
) -> Select[Any]:
    """The first ``first + 1`` missing or failed (example, repetition) pairs after
    ``position``, in that order, computed by the database.

    1. Candidate examples: from the cursor's example on, those with fewer
       successful runs after the cursor than pairs after it (an index-only count
       per example), in id order, at most ``first + 1`` of them (each holds at
       least one pair).
    2. Only as many of those as the page needs: a running sum of their missing
       pairs stops once ``first + 1`` are covered.
    3. Those examples x repetitions 1..N, minus successful runs, from the cursor.
    Nothing here grows with the dataset or with the repetitions beyond one page.
    """
    example_after, repetition_after = position
    X = DatasetExample
    successes = (
        select(func.count())
        .select_from(R)
        .where(
            R.experiment_id == experiment.id,
            R.dataset_example_id == X.id,
            R.error.is_(None),
            R.repetition_number.between(1, repetitions),
            or_(X.id > example_after, R.repetition_number > repetition_after),
        )
        .scalar_subquery()
    )
    pairs_after = case(
        (X.id == example_after, max(0, repetitions - repetition_after)), else_=repetitions
    )
    missing = (pairs_after - successes).label("missing")
    counted = (
        select(X.id.label("example_id"), missing)
        .where(
            X.dataset_id == experiment.dataset_id,
            X.dataset_version_id <= experiment.dataset_version_id,
            X.id >= example_after,
        )
        .subquery("counted")
    )
    candidates = (
        select(counted.c.example_id, counted.c.missing)
        .where(counted.c.missing > 0)
        .order_by(counted.c.example_id)
        .limit(first + 1)
        .subquery("candidates")
    )
    covered = (
        select(
            candidates.c.example_id,
            (
                func.sum(candidates.c.missing).over(order_by=candidates.c.example_id)
                - candidates.c.missing
            ).label("before"),
        )
    ).subquery("covered")
    chosen = select(covered.c.example_id).where(covered.c.before <= first).subquery("chosen")
    series = integer_series(dialect, repetitions, "repetition")
    run = aliased(R)
    return (
        select(chosen.c.example_id, series.c.repetition, run.error.is_not(None))
        .select_from(chosen)
        .join(series, true())
        .outerjoin(
            run,
            and_(
                run.experiment_id == experiment.id,
                run.dataset_example_id == chosen.c.example_id,
                run.repetition_number == series.c.repetition,
            ),
        )
        .where(
            or_(chosen.c.example_id > example_after, series.c.repetition > repetition_after),
            or_(run.id.is_(None), run.error.is_not(None)),
        )
        .order_by(chosen.c.example_id, series.c.repetition)
        .limit(first + 1)
    )


async def incomplete_runs(
    root: Any,
    info: Info,
    first: Annotated[
        int, strawberry.argument(description="Page size, 0 to the server's page size limit.")
    ] = 100,
    after: Annotated[
        str | None,
        strawberry.argument(description="endCursor of the previous page; omit to start."),
    ] = None,
) -> IncompleteRunPage:
    """Missing and failed example x repetition pairs in (example, repetition)
    order, paged by a keyset cursor: what a worker resumes with. One statement
    computes the page from the cursor (see ``_incomplete_statement``)."""
    limit = info.context.settings.page_size_max
    if not 0 <= first <= limit:
        raise BadRequest(f"first must be between 0 and {limit}", field="first")
    experiment = root.record
    repetitions = experiment.repetitions or 1
    position = _decode(after) if after else (0, 0)
    if first == 0 or experiment.dataset_id is None or experiment.dataset_version_id is None:
        return IncompleteRunPage(items=[], has_next_page=False, end_cursor=None)
    db = info.context.db
    statement = _incomplete_statement(db.dialect, experiment, repetitions, position, first)
    async with db.read() as session:
        rows = (await session.execute(statement)).all()
    found = [
        IncompleteRun(
            repetition_number=repetition,
            status=IncompleteRunStatus.FAILED if failed else IncompleteRunStatus.MISSING,
            cursor=_encode(example_id, repetition),
            record=example_id,
        )
        for example_id, repetition, failed in rows
    ]
    page = found[:first]
    return IncompleteRunPage(
        items=page,
        has_next_page=len(found) > first,
        end_cursor=page[-1].cursor if page else None,
    )


async def annotation_summaries(root: Any, info: Info) -> list[AnnotationSummary]:
    summaries = await info.context.loader(AnnotationSummariesById()).load(root.record.id)
    return [
        AnnotationSummary(
            name=s.name,
            count=s.count,
            error_count=s.error_count,
            mean_score=s.mean_score,
            labels=[LabelCount(label=label, count=count) for label, count in s.labels],
        )
        for s in summaries
    ]
