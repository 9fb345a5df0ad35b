"""Event ingestion: a batch of up to ``MAX_EVENTS`` events, validated whole and
written all or none, in a bounded number of statements whatever its size.

Each event names a known A/B experiment and one of its variants, its unit type
is the experiment's, its metrics are a JSON object of numbers, and its variant
is the unit's assignment. A unit not yet assigned (bucketed client-side with the
GrowthBook SDK) is assigned by its first event when the event's variant is the
deterministic assignment, at the earliest timestamp of its events in the batch;
any other variant is refused. The client's ``event_id`` makes retries
idempotent: an event whose id is stored already is counted as a duplicate and
not written again. Each stored event adds its metrics to its units' running sums
(``unit_metric_sums``, one upsert per batch, in the same transaction) when it
happened at or after the unit's assignment; a duplicate adds nothing. Errors
name the GraphQL path of the faulty value (``events[3].experiments[0].variantId``).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.dialect import (
    column_params,
    insert_columns,
    insert_columns_ignoring_conflicts,
    upsert_columns_adding,
)
from expgraph.domains.abtest import assignment, models
from expgraph.domains.experiments.models import AbTestExperiment, UnitType
from expgraph.errors import BadRequest
from expgraph.graphql.relay import encode_id, model_pk

MAX_EVENTS = 1000
MAX_EXPERIMENTS_PER_EVENT = 50
EVENT_ID_MAX, EVENT_TYPE_MAX, METRIC_NAME_MAX = 255, 100, 100
EVENT_COLUMNS = (
    "event_id",
    "event_type",
    "unit_type",
    "unit_id",
    "experiments",
    "context",
    "metrics",
    "payload",
    "timestamp",
)


@dataclass
class EventIn:
    """One event as the client sent it (ids still global)."""

    event_type: str
    unit_type: UnitType
    unit_id: str
    timestamp: datetime
    experiments: list[tuple[str, str]]
    event_id: str | None = None
    context: Any = None
    metrics: Any = None
    payload: Any = None


@dataclass(frozen=True)
class Recorded:
    accepted: int
    duplicates: int


def _text(value: str | None, field: str, limit: int) -> str:
    if value is None or not value.strip():
        raise BadRequest(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise BadRequest(f"{field} is at most {limit} characters", field=field)
    return value


def _object(value: Any, field: str, default: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return default
    if not isinstance(value, dict):
        raise BadRequest(f"{field} must be a JSON object", field=field)
    return value


def _metrics(value: Any, field: str) -> dict[str, Any]:
    metrics = _object(value, field, {}) or {}
    for name, number in metrics.items():
        if not name or len(name) > METRIC_NAME_MAX:
            raise BadRequest(
                f"{field}: a metric name has 1 to {METRIC_NAME_MAX} characters", field=field
            )
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or not math.isfinite(number)
        ):
            raise BadRequest(f"{field}.{name} must be a finite number", field=f"{field}.{name}")
    return metrics


@dataclass
class _Row:
    index: int
    values: dict[str, Any]
    links: list[tuple[int, int]]  # (experiment pk, variant pk)


def _parse(events: Sequence[EventIn]) -> list[_Row]:
    rows = []
    # A batch names few experiments and variants: each id is decoded once (an id
    # that does not decode raises at its first use, naming that place).
    pks: dict[tuple[str, Any], int] = {}
    for i, event in enumerate(events):
        at = f"events[{i}]"
        if event.timestamp.tzinfo is None:
            raise BadRequest(f"{at}.timestamp needs a UTC offset", field=f"{at}.timestamp")
        if not event.experiments:
            raise BadRequest(
                f"{at}.experiments must name at least one experiment", field=f"{at}.experiments"
            )
        if len(event.experiments) > MAX_EXPERIMENTS_PER_EVENT:
            raise BadRequest(
                f"{at}.experiments holds at most {MAX_EXPERIMENTS_PER_EVENT} items",
                field=f"{at}.experiments",
            )
        links: list[tuple[int, int]] = []
        for j, (experiment_gid, variant_gid) in enumerate(event.experiments):
            experiment_pk = pks.get((experiment_gid, AbTestExperiment))
            if experiment_pk is None:
                experiment_pk = pks[(experiment_gid, AbTestExperiment)] = _pk(
                    experiment_gid, AbTestExperiment, f"{at}.experiments[{j}].experimentId"
                )
            variant_pk = pks.get((variant_gid, models.Variant))
            if variant_pk is None:
                variant_pk = pks[(variant_gid, models.Variant)] = _pk(
                    variant_gid, models.Variant, f"{at}.experiments[{j}].variantId"
                )
            if links and any(e == experiment_pk for e, _ in links):
                path = f"{at}.experiments[{j}]"
                raise BadRequest(
                    f"{path}.experimentId: an event names an experiment once",
                    field=f"{path}.experimentId",
                )
            links.append((experiment_pk, variant_pk))
        event_id = (
            _text(event.event_id, f"{at}.eventId", EVENT_ID_MAX)
            if event.event_id is not None
            else str(uuid.uuid4())
        )
        values = {
            "event_id": event_id,
            "event_type": _text(event.event_type, f"{at}.eventType", EVENT_TYPE_MAX),
            "unit_type": event.unit_type,
            "unit_id": _text(event.unit_id, f"{at}.unitId", assignment.UNIT_ID_MAX),
            "experiments": [
                {"experiment_id": experiment_gid, "variant_id": variant_gid}
                for experiment_gid, variant_gid in event.experiments
            ],
            "context": _object(event.context, f"{at}.context", {}),
            "metrics": _metrics(event.metrics, f"{at}.metrics"),
            "payload": _object(event.payload, f"{at}.payload", None),
            "timestamp": event.timestamp,
        }
        rows.append(_Row(i, values, links))
    return rows


def _pk(global_id: str, model: Any, field: str) -> int:
    try:
        return model_pk(global_id, model)
    except BadRequest as exc:
        raise BadRequest(f"{field}: {exc.message}", field=field) from exc


async def record_events(session: AsyncSession, dialect: str, events: Sequence[EventIn]) -> Recorded:
    """Validate and write a batch (all or none), adding the accepted events' metrics
    to their units' sums (``unit_metric_sums``); at most eight statements."""
    if not events:
        raise BadRequest("events must not be empty", field="events")
    if len(events) > MAX_EVENTS:
        raise BadRequest(f"at most {MAX_EVENTS} events per call", field="events")
    rows = _parse(events)
    experiment_ids = sorted({e for row in rows for e, _ in row.links})
    experiments, now = await assignment.load_experiments(session, experiment_ids)
    arms = await assignment.load_arms(session, list(experiments))
    unit_ids = sorted({row.values["unit_id"] for row in rows})
    have = await assignment.stored(session, list(experiments), unit_ids)
    new: dict[tuple[int, str], dict[str, Any]] = {}
    for row in rows:
        at = f"events[{row.index}]"
        unit_id = row.values["unit_id"]
        for j, (experiment_pk, variant_pk) in enumerate(row.links):
            path = f"{at}.experiments[{j}]"
            experiment = experiments.get(experiment_pk)
            if experiment is None:
                raise BadRequest(
                    f"{path}.experimentId: no A/B experiment with that id",
                    field=f"{path}.experimentId",
                )
            if experiment.unit_type is not row.values["unit_type"]:
                wanted = experiment.unit_type.name if experiment.unit_type else "none"
                raise BadRequest(
                    f"{at}.unitType: experiment {experiment.name!r} assigns {wanted} units",
                    field=f"{at}.unitType",
                )
            if variant_pk not in {arm.id for arm in arms[experiment_pk]}:
                raise BadRequest(
                    f"{path}.variantId: not a variant of experiment {experiment.name!r}",
                    field=f"{path}.variantId",
                )
            key = (experiment_pk, unit_id)
            stored = have.get(key)
            if stored is not None:
                expected: int | None = stored.variant_id
            elif key in new:
                expected = new[key]["variant_id"]
            else:
                reason = assignment.why_not_assigning(experiment, now)
                if reason is not None:
                    raise BadRequest(
                        f"{path}.variantId: unit {unit_id!r} has no assignment and experiment "
                        f"{experiment.name!r} does not assign units now ({reason.value})",
                        field=f"{path}.variantId",
                    )
                expected = assignment.bucket(experiment, arms[experiment_pk], unit_id)
            if expected != variant_pk:
                which = (
                    "is not in the experiment"
                    if expected is None
                    else f"is assigned variant {encode_id('Variant', expected)}"
                )
                raise BadRequest(
                    f"{path}.variantId: unit {unit_id!r} {which}, not this variant",
                    field=f"{path}.variantId",
                )
            if stored is None:
                first = new.get(key)
                timestamp = row.values["timestamp"]
                if first is None or timestamp < first["assigned_at"]:
                    new[key] = {
                        "experiment_id": experiment_pk,
                        "unit_type": row.values["unit_type"],
                        "unit_id": unit_id,
                        "variant_id": variant_pk,
                        "assigned_at": min(timestamp, now),
                    }
    assigned_at = {key: stored.assigned_at for key, stored in have.items()}
    if new:
        # In key order, as the sums below: concurrent batches lock rows in one order.
        written = await assignment.store(session, dialect, [new[key] for key in sorted(new)])
        for key, values in new.items():
            if written[key].variant_id != values["variant_id"]:  # a racing call chose otherwise
                raise BadRequest(
                    f"unit {key[1]!r} was meanwhile assigned another variant",
                    field="events",
                )
            assigned_at[key] = written[key].assigned_at
    unique = list({row.values["event_id"]: row for row in rows}.values())
    table = cast(Table, models.Event.__table__)
    # One statement, the rows as a parameter per column (PostgreSQL's unnest;
    # executemany elsewhere): cached, nothing rendered or processed per row.
    stmt = insert_columns_ignoring_conflicts(
        dialect, table, EVENT_COLUMNS, ("event_id",)
    ).returning(table.c.id, table.c.event_id)
    result = await session.execute(
        stmt, column_params(dialect, table, EVENT_COLUMNS, [row.values for row in unique])
    )
    inserted = {event_id: pk for pk, event_id in result.all()}
    links = [
        {"event_id": inserted[row.values["event_id"]], "experiment_id": e, "variant_id": v}
        for row in unique
        if row.values["event_id"] in inserted
        for e, v in row.links
    ]
    if links:
        link_columns = ("event_id", "experiment_id", "variant_id")
        links_table = cast(Table, models.EventExperiment.__table__)
        await session.execute(
            insert_columns(dialect, links_table, link_columns),
            column_params(dialect, links_table, link_columns, links),
        )
    sums = _unit_sums([row for row in unique if row.values["event_id"] in inserted], assigned_at)
    if sums:
        columns = ("experiment_id", "metric_name", "unit_id", "total", "events")
        sums_table = cast(Table, models.UnitMetricSum.__table__)
        await session.execute(
            upsert_columns_adding(
                dialect,
                sums_table,
                columns,
                ("experiment_id", "metric_name", "unit_id"),
                ("total", "events"),
            ),
            column_params(dialect, sums_table, columns, sums),
        )
    return Recorded(accepted=len(inserted), duplicates=len(rows) - len(inserted))


def _unit_sums(
    rows: Sequence[_Row], assigned_at: dict[tuple[int, str], datetime]
) -> list[dict[str, Any]]:
    """What the newly stored events add to ``unit_metric_sums``: per experiment,
    metric and unit, the sum and count of the metric over the events at or after
    the unit's assignment, one row per key, in key order (the order rows are
    locked in, the same for every batch: no deadlock between concurrent ones)."""
    totals: dict[tuple[int, str, str], list[float]] = {}
    for row in rows:
        unit_id, timestamp = row.values["unit_id"], row.values["timestamp"]
        for experiment_pk, _ in row.links:
            if timestamp < assigned_at[(experiment_pk, unit_id)]:
                continue  # before the unit's assignment: not part of its value
            for name, number in row.values["metrics"].items():
                entry = totals.setdefault((experiment_pk, name, unit_id), [0.0, 0])
                entry[0] += float(number)
                entry[1] += 1
    return [
        {"experiment_id": e, "metric_name": m, "unit_id": u, "total": t, "events": n}
        for (e, m, u), (t, n) in sorted(totals.items())
    ]


async def events_of(session: AsyncSession, experiment_id: int) -> list[models.Event]:
    """An experiment's events (tests, tools)."""
    stmt = (
        select(models.Event)
        .join(models.EventExperiment, models.EventExperiment.event_id == models.Event.id)
        .where(models.EventExperiment.experiment_id == experiment_id)
        .order_by(models.Event.id)
    )
    return list((await session.scalars(stmt)).all())
