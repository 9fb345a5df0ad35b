"""The per-unit sums of an A/B test's results are computed in SQL (issue 15), on
both databases, and the statistics on them equal scipy's Welch test on the
per-unit values computed here in Python. The events are written directly and the
per-unit sums (unit_metric_sums) recomputed from them by the rebuild, so the
comparison also proves the rebuild's SQL equals the definition of a unit's value
(events before the assignment, of another metric or another experiment excluded)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from scipy import stats as scipy_stats

from expgraph.db.engine import Database
from expgraph.domains.abtest.aggregate import rebuild_unit_sums
from expgraph.domains.abtest.models import Assignment, Event, EventExperiment, Variant
from expgraph.domains.abtest.results import experiment_results, variant_summaries
from expgraph.domains.experiments.models import AbTestExperiment, ExperimentStatus, UnitType

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def _experiment(db: Database, name: str) -> tuple[int, list[int]]:
    async with db.transaction() as session:
        experiment = AbTestExperiment(
            name=name,
            status=ExperimentStatus.RUNNING,
            unit_type=UnitType.USER,
            start_at=T0,
            end_at=T0 + timedelta(days=30),
            hash_seed=name,
        )
        session.add(experiment)
        await session.flush()
        variants = [
            Variant(
                experiment_id=experiment.id,
                name=f"v{i}",
                allocation=Decimal("0.5"),
                config={},
                position=i,
                is_control=i == 0,
            )
            for i in range(2)
        ]
        session.add_all(variants)
        await session.flush()
        return experiment.id, [v.id for v in variants]


async def test_results_sums_per_unit_in_sql_and_match_scipy(db: Database) -> None:
    experiment_id, variant_ids = await _experiment(db, "checkout")
    other_id, other_variants = await _experiment(db, "other")
    rng = random.Random(7)
    expected: dict[int, list[float]] = {v: [] for v in variant_ids}
    with_metric = dict.fromkeys(variant_ids, 0)
    event_number = 0
    pending: list[tuple[Event, bool, int]] = []
    async with db.transaction() as session:
        assignments = []
        for u in range(300):
            variant_id = variant_ids[u % 2]
            assigned_at = T0 + timedelta(minutes=u)
            assignments.append(
                Assignment(
                    experiment_id=experiment_id,
                    unit_type=UnitType.USER,
                    unit_id=f"user-{u}",
                    variant_id=variant_id,
                    assigned_at=assigned_at,
                )
            )
            events: list[tuple[datetime, dict[str, float], bool]] = []
            value = 0.0
            counted = False
            # Some units have no events at all: they count as 0.
            for _ in range(rng.choice([0, 0, 1, 2, 3])):
                amount = round(rng.gauss(20.0 + 2.0 * (u % 2), 5.0), 2)
                events.append((assigned_at + timedelta(hours=1), {"revenue": amount}, True))
                value += amount
                counted = True
            # Not counted: before the assignment, another metric, another experiment.
            events.append((assigned_at - timedelta(hours=1), {"revenue": 1000.0}, True))
            events.append((assigned_at + timedelta(hours=2), {"clicks": 3.0}, True))
            events.append((assigned_at + timedelta(hours=3), {"revenue": 500.0}, False))
            expected[variant_id].append(value)
            with_metric[variant_id] += counted
            for timestamp, metrics, ours in events:
                event_number += 1
                event = Event(
                    event_id=f"e{event_number}",
                    event_type="purchase",
                    unit_type=UnitType.USER,
                    unit_id=f"user-{u}",
                    experiments=[],
                    context={},
                    metrics=metrics,
                    timestamp=timestamp,
                )
                pending.append((event, ours, variant_id))
        session.add_all(assignments)
        session.add_all([event for event, _, _ in pending])
        await session.flush()
        session.add_all(
            EventExperiment(
                event_id=event.id,
                experiment_id=experiment_id if ours else other_id,
                variant_id=variant_id if ours else other_variants[0],
            )
            for event, ours, variant_id in pending
        )
    async with db.transaction() as session:
        # Events written directly, not through recordEvents: the per-unit sums
        # results read are computed from them (what `abtest aggregate --rebuild` does).
        await rebuild_unit_sums(session, db.dialect)

    async with db.read() as session:
        summaries = await variant_summaries(session, experiment_id, "revenue")
        variants, results = await experiment_results(session, experiment_id, "revenue")
        other_variants_loaded, nothing = await experiment_results(session, other_id, "revenue")

    for variant_id in variant_ids:
        values = expected[variant_id]
        summary = summaries[variant_id]
        assert summary.units == len(values) == 150
        assert summary.units_with_metric == with_metric[variant_id]
        assert summary.total == pytest.approx(sum(values), rel=1e-12)
        assert summary.sum_squares == pytest.approx(sum(v * v for v in values), rel=1e-12)

    assert [v.id for v in variants] == variant_ids
    control, treatment = results.variants
    assert control.is_control and control.comparison is None
    assert treatment.units == 150
    assert treatment.mean == pytest.approx(sum(expected[variant_ids[1]]) / 150, rel=1e-12)
    comparison = treatment.comparison
    assert comparison is not None
    welch = scipy_stats.ttest_ind(
        expected[variant_ids[1]], expected[variant_ids[0]], equal_var=False
    )
    assert comparison.t_statistic == pytest.approx(float(welch.statistic), rel=1e-9)
    assert comparison.p_value == pytest.approx(float(welch.pvalue), rel=1e-9)
    assert not results.srm.flagged

    # The other experiment has variants but no assignments: empty results, no error.
    assert len(other_variants_loaded) == 2
    assert [v.units for v in nothing.variants] == [0, 0]
    assert nothing.srm.p_value is None
    assert nothing.variants[1].comparison is not None
    assert nothing.variants[1].comparison.absolute_lift is None


async def test_results_of_an_experiment_without_variants(db: Database) -> None:
    async with db.transaction() as session:
        experiment = AbTestExperiment(name="bare", unit_type=UnitType.USER)
        session.add(experiment)
        await session.flush()
        experiment_id = experiment.id
    async with db.read() as session:
        variants, results = await experiment_results(session, experiment_id, "revenue")
    assert variants == [] and results.variants == [] and not results.srm.flagged
