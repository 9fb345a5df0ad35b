"""Roll request logs up into ``api_metrics_summary``, one row per period.

Percentiles are nearest-rank (the smallest value with at least p% of the values
at or below it), computed in Python from the period's response times so both
databases agree. A request succeeded when its status is below 400 and it
carried no GraphQL error. Re-running a period replaces its row.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import delete, func, select

from expgraph.db.engine import Database
from expgraph.db.types import utc_before
from expgraph.domains.accounts import models

Period = Literal["hour", "day"]
LENGTH = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
L = models.ApiRequestLog
S = models.ApiMetricsSummary


def nearest_rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def period_start(moment: datetime, period: Period) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if period == "day" else moment


def summarize(rows: list[tuple[str, int, float, str | None]], seconds: float) -> dict[str, Any]:
    """Figures of one period from (endpoint, status, response ms, error) rows."""
    times = [r[2] for r in rows]
    ok = [r for r in rows if r[1] < 400 and r[3] is None]
    by_endpoint: dict[str, list[tuple[str, int, float, str | None]]] = defaultdict(list)
    for row in rows:
        by_endpoint[row[0]].append(row)
    total = len(rows)
    return {
        "total_requests": total,
        "successful_requests": len(ok),
        "failed_requests": total - len(ok),
        "avg_response_time_ms": sum(times) / total if total else None,
        "p50_response_time_ms": nearest_rank(times, 50),
        "p95_response_time_ms": nearest_rank(times, 95),
        "p99_response_time_ms": nearest_rank(times, 99),
        "requests_per_second": total / seconds,
        "error_rate": (total - len(ok)) / total if total else 0.0,
        "endpoint_metrics": {
            endpoint: {
                "count": len(items),
                "failed": sum(1 for i in items if i[1] >= 400 or i[3] is not None),
                "avg_ms": sum(i[2] for i in items) / len(items),
                "p95_ms": nearest_rank([i[2] for i in items], 95),
            }
            for endpoint, items in sorted(by_endpoint.items())
        },
    }


async def rollup(
    db: Database, period: Period, *, start: datetime | None = None
) -> list[models.ApiMetricsSummary]:
    """Summarize one period (``start``) or every complete period not yet summarized."""
    length = LENGTH[period]
    async with db.read() as session:
        if start is not None:
            starts = [period_start(start, period)]
        else:
            now = await session.scalar(select(utc_before(0)))
            assert now is not None
            last_done = await session.scalar(
                select(func.max(S.period_start)).where(S.aggregation_type == period)
            )
            first_log = await session.scalar(select(func.min(L.request_time)))
            if first_log is None:
                return []
            cursor = last_done + length if last_done else period_start(first_log, period)
            end = period_start(now, period)  # the current period is not complete
            starts = []
            while cursor < end:
                starts.append(cursor)
                cursor += length
    written = []
    for begin in starts:
        finish = begin + length
        async with db.transaction() as session:
            rows = (
                await session.execute(
                    select(L.endpoint, L.status_code, L.response_time_ms, L.error_message).where(
                        L.request_time >= begin, L.request_time < finish
                    )
                )
            ).all()
            await session.execute(
                delete(S).where(S.period_start == begin, S.aggregation_type == period)
            )
            summary = S(
                period_start=begin,
                period_end=finish,
                aggregation_type=period,
                **summarize([tuple(r) for r in rows], length.total_seconds()),  # type: ignore[misc]
            )
            session.add(summary)
            await session.execute(
                delete(models.ApiRateWindow).where(
                    models.ApiRateWindow.window_start < utc_before(86_400)
                )
            )
        written.append(summary)
    return written
