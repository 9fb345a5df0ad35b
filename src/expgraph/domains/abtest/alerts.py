"""A/B alerts for notifications: an ABTEST_SAMPLE_RATIO_MISMATCH domain event
(the kernel outbox) the first time a RUNNING A/B test's sample-ratio check fires."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from expgraph.config import Settings
from expgraph.db.dialect import try_transaction_lock
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, OutboxEvent, emit
from expgraph.domains.abtest import models
from expgraph.domains.abtest.stats import sample_ratio_mismatch
from expgraph.domains.experiments.models import AbTestExperiment, ExperimentStatus

SRM_CHECK_LOCK = 0x6E6F7469_73726D00  # "notisrm": one sample-ratio check at a time


async def sample_ratio_alerts(db: Database, settings: Settings) -> int:
    """Periodic (run by the notifications deliverer): one ABTEST_SAMPLE_RATIO_MISMATCH event per
    RUNNING A/B test whose sample-ratio check (abtest's ``sample_ratio_mismatch``
    over its assignments per variant) fires, the first time it does (an earlier
    event for the experiment in the outbox). Returns how many were emitted."""
    A, V, X = models.Assignment, models.Variant, AbTestExperiment
    running = select(X.id).where(X.status == ExperimentStatus.RUNNING, X.deleted_at.is_(None))
    counts = (
        select(A.variant_id, func.count().label("units"))
        .where(A.experiment_id.in_(running))
        .group_by(A.variant_id)
        .subquery("counts")
    )
    statement = (
        select(X.id, X.name, X.created_by, V.name, V.allocation, func.coalesce(counts.c.units, 0))
        .join(V, V.experiment_id == X.id)
        .outerjoin(counts, counts.c.variant_id == V.id)
        .where(X.id.in_(running))
        .order_by(X.id, V.position)
    )
    async with db.transaction() as session:
        if not await try_transaction_lock(session, db.dialect, SRM_CHECK_LOCK):
            return 0
        rows = (await session.execute(statement)).all()
        if not rows:
            return 0
        tests: dict[int, list[Any]] = {}
        for row in rows:
            tests.setdefault(row[0], []).append(row)
        warned = {
            (payload or {}).get("experiment_id")
            for payload in (
                await session.scalars(
                    select(OutboxEvent.payload).where(
                        OutboxEvent.event_type == EventType.ABTEST_SAMPLE_RATIO_MISMATCH.value
                    )
                )
            )
        }
        emitted = 0
        for experiment_id, variants in tests.items():
            if experiment_id in warned:
                continue
            check = sample_ratio_mismatch([int(v[5]) for v in variants], [v[4] for v in variants])
            if not check.flagged:
                continue
            total = sum(float(v[4]) for v in variants) or 1.0
            await emit(
                session,
                EventType.ABTEST_SAMPLE_RATIO_MISMATCH,
                {
                    "experiment_id": experiment_id,
                    "name": variants[0][1],
                    "p_value": check.p_value,
                    "observed": {v[3]: int(v[5]) for v in variants},
                    "expected": {v[3]: float(v[4]) / total for v in variants},
                },
                user_id=variants[0][2],
            )
            emitted += 1
    return emitted
