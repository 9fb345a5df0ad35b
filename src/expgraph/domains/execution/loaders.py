"""Execution-specific batch loads: progress (and the database clock) per experiment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, func, select

from expgraph.db.dialect import in_keys
from expgraph.db.direct import reusable
from expgraph.db.engine import Database
from expgraph.db.records import read_rows
from expgraph.db.types import utcnow
from expgraph.domains.execution import models
from expgraph.domains.execution.service import E, R, completed_runs, expected_runs


@dataclass(frozen=True)
class Counts:
    expected: int
    completed: int
    failed: int
    now: datetime

    @property
    def missing(self) -> int:
        return max(0, self.expected - self.completed - self.failed)


def failed_runs(experiment_id: Any) -> Any:
    # count(*): the partial index of failed runs answers it alone.
    return (
        select(func.count())
        .select_from(R)
        .where(R.experiment_id == experiment_id, R.error.is_not(None))
        .scalar_subquery()
    )


@cache
def _progress_statement() -> Select[Any]:
    """Built once: the experiments come as one ``keys`` parameter."""
    counts = select(E.id, expected_runs(), completed_runs(E.id), failed_runs(E.id), utcnow())
    return reusable(counts.where(in_keys(E.id, "keys")))


@dataclass(frozen=True)
class ProgressById:
    """Expected, completed and failed runs of evaluation experiments, one statement."""

    async def load(self, db: Database, keys: list[Any]) -> list[Counts | None]:
        async with db.read() as session:
            found = await read_rows(session, _progress_statement(), {"keys": keys})
        rows = {row[0]: Counts(*row[1:]) for row in found}
        return [rows.get(key) for key in keys]


@dataclass(frozen=True)
class Summary:
    name: str
    count: int
    error_count: int
    mean_score: float | None
    labels: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class AnnotationSummariesById:
    """Per evaluator name: count, errors, mean score and label counts (two statements)."""

    async def load(self, db: Database, keys: list[Any]) -> list[list[Summary]]:
        A = models.ExperimentRunAnnotation
        joined = select().select_from(A).join(R, R.id == A.experiment_run_id)
        totals = (
            joined.add_columns(
                R.experiment_id,
                A.name,
                func.count(A.id),
                func.count(A.error),
                func.avg(A.score),
            )
            .where(R.experiment_id.in_(keys))
            .group_by(R.experiment_id, A.name)
        )
        labels = (
            joined.add_columns(R.experiment_id, A.name, A.label, func.count(A.id))
            .where(R.experiment_id.in_(keys), A.label.is_not(None))
            .group_by(R.experiment_id, A.name, A.label)
        )
        async with db.read() as session:
            total_rows = (await session.execute(totals)).all()
            label_rows = (await session.execute(labels)).all()
        label_map: dict[tuple[Any, str], list[tuple[str, int]]] = {}
        for experiment_id, name, label, count in label_rows:
            label_map.setdefault((experiment_id, name), []).append((label, int(count)))
        result: dict[Any, list[Summary]] = {}
        for experiment_id, name, count, errors, mean in total_rows:
            result.setdefault(experiment_id, []).append(
                Summary(
                    name=name,
                    count=int(count),
                    error_count=int(errors),
                    mean_score=float(mean) if mean is not None else None,
                    labels=tuple(sorted(label_map.get((experiment_id, name), []))),
                )
            )
        return [sorted(result.get(key, []), key=lambda s: s.name) for key in keys]
