"""Execution fields carried by experiment types (``Experiment.executionConfig``,
``EvaluationExperiment.runs`` ...): defined here, attached there."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import select

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
    LabelCount,
    Progress,
    progress_shown,
)
from expgraph.graphql.connections import Connection, child_connection
from expgraph.graphql.context import Info
from expgraph.graphql.errors import BadRequest
from expgraph.graphql.filters import compile_filter, filter_key
from expgraph.graphql.loaders import Relation, RowsById
from expgraph.graphql.prefetch import derived_field, node_field

R = models.ExperimentRun
SCAN_CHUNK = 1000


# Null for kinds that do not execute, and before a config is created.
execution_config = node_field(
    RowsById(models.ExecutionConfig),
    "id",
    ExecutionConfig,
    description="How it executes (evaluation experiments; null otherwise).",
)


async def runs(
    root: Any,
    info: Info,
    filter: ExperimentRunFilter | None = None,
    order_by: list[ExperimentRunOrder] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[ExperimentRun]:
    condition = compile_filter(filter, RUN_RULES)
    relation = Relation(
        R,
        "experiment_id",
        where_key=filter_key(filter),
        where=(lambda: condition) if condition is not None else None,
    )
    return await child_connection(
        info,
        relation,
        root.record.id,
        RUN_ORDERING.keys(order_by),
        first=first,
        after=after,
        last=last,
        before=before,
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
        raise BadRequest("malformed cursor") from exc


async def incomplete_runs(
    root: Any, info: Info, first: int = 100, after: str | None = None
) -> IncompleteRunPage:
    """Missing and failed example x repetition pairs in (example, repetition)
    order, paged by a keyset cursor: what a worker resumes with."""
    limit = info.context.settings.page_size_max
    if not 0 <= first <= limit:
        raise BadRequest(f"first must be between 0 and {limit}")
    experiment = root.record
    repetitions = experiment.repetitions or 1
    position = _decode(after) if after else (0, repetitions)
    found: list[IncompleteRun] = []
    async with info.context.db.read() as session:
        while len(found) <= first:
            examples = list(
                (
                    await session.scalars(
                        select(DatasetExample.id)
                        .where(
                            DatasetExample.dataset_id == experiment.dataset_id,
                            DatasetExample.dataset_version_id <= experiment.dataset_version_id,
                            DatasetExample.id >= position[0],
                        )
                        .order_by(DatasetExample.id)
                        .limit(SCAN_CHUNK)
                    )
                ).all()
            )
            if not examples:
                break
            done = {
                (example_id, repetition): error is not None
                for example_id, repetition, error in (
                    await session.execute(
                        select(R.dataset_example_id, R.repetition_number, R.error).where(
                            R.experiment_id == experiment.id,
                            R.dataset_example_id.in_(examples),
                        )
                    )
                ).all()
            }
            for example_id in examples:
                for repetition in range(1, repetitions + 1):
                    if (example_id, repetition) <= position:
                        continue
                    failed = done.get((example_id, repetition))
                    if failed is False:
                        continue
                    found.append(
                        IncompleteRun(
                            repetition_number=repetition,
                            status="FAILED" if failed else "MISSING",
                            cursor=_encode(example_id, repetition),
                            record=example_id,
                        )
                    )
            position = (examples[-1], repetitions)
            if len(examples) < SCAN_CHUNK:
                break
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
