"""AbTestExperiment.results over HTTP on both databases (issue 15): per-unit
values built through assignUnit and recordEvents give the means, variances and
p-value of scipy's Welch test on the same values (to 1e-9); the control has no
lifts; sequential intervals are wider than fixed ones; the sample-ratio check
fires on a skewed split (rows inserted in bulk) and not on a fair one; bad
arguments are BAD_REQUEST."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from scipy import stats as scipy_stats
from sqlalchemy import insert

from expgraph.app import create_app
from expgraph.domains.abtest import hashing, models
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service
from expgraph.domains.experiments.models import UnitType
from expgraph.graphql.relay import decode_id
from tests.abtest_helpers import AbTest, ab_test, assign, event, record
from tests.auth_helpers import PASSWORD, Caller

RESULTS = """query($id: ID!, $metric: String!, $alpha: Float, $sequential: Boolean) {
  node(id: $id) { ... on AbTestExperiment {
    results(metric: $metric, alpha: $alpha, sequential: $sequential) {
      metric alpha sequential
      srm { pValue flagged }
      variants {
        variant { id name } isControl units unitsWithMetric mean variance pValue
        chanceToBeatControl
        absoluteLift { estimate lower upper }
        relativeLift { estimate lower upper }
      } } } } }"""

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


async def results(gql: Any, test: AbTest, metric: str = "revenue", **arguments: Any) -> Any:
    data = await gql.data(RESULTS, {"id": test.id, "metric": metric, **arguments})
    return data["node"]["results"]


def _variant_of(test: AbTest, unit: str) -> int:
    index = hashing.assign_variant(test.name, unit, [Decimal(a) for a in test.allocations])
    assert index is not None  # full coverage
    return index


async def _populated(gql: Any) -> tuple[AbTest, list[list[float]], list[int]]:
    """An A/B test whose units have known values of "revenue" (per variant)."""
    test = await ab_test(gql, "welch-checkout", ("0.5", "0.5"))
    rng = random.Random(15)
    values: list[list[float]] = [[], []]
    with_metric = [0, 0]
    batch: list[dict[str, Any]] = []
    for u in range(240):
        unit = f"user-{u}"
        index = _variant_of(test, unit)
        if u % 9 == 0:  # assigned, never seen again: counts as 0
            await assign(gql, test.id, unit)
            values[index].append(0.0)
            continue
        total = 0.0
        for k in range(rng.choice([1, 2, 3])):
            amount = round(rng.gauss(20.0 + 3.0 * index, 6.0), 2)
            total += amount
            at = (T0 + timedelta(minutes=u, seconds=k)).isoformat()
            batch.append(
                event(
                    test,
                    unit,
                    test.variants[index],
                    event_id=f"{unit}-{k}",
                    metrics={"revenue": amount, "clicks": 1},
                    timestamp=at,
                )
            )
        if u % 5 == 0:  # an event without the metric: not a unit "with the metric"
            at = (T0 + timedelta(minutes=u, seconds=30)).isoformat()
            batch.append(
                event(test, unit, test.variants[index], event_id=f"{unit}-c", metrics={"clicks": 2})
            )
            batch[-1]["timestamp"] = at
        values[index].append(total)
        with_metric[index] += 1
    body = await record(gql, batch)
    assert not body.get("errors"), body
    assert body["data"]["recordEvents"]["accepted"] == len(batch)
    return test, values, with_metric


async def test_results_equal_scipy_welch_on_the_per_unit_values(gql):
    test, values, with_metric = await _populated(gql)
    control, treatment = values
    assert min(len(control), len(treatment)) > 80

    found = await results(gql, test)
    assert found["metric"] == "revenue" and found["alpha"] == 0.05 and not found["sequential"]
    first, second = found["variants"]
    assert first["variant"]["id"] == test.variants[0] and first["isControl"]
    assert second["variant"]["id"] == test.variants[1] and not second["isControl"]
    for result, per_unit, counted in zip(found["variants"], values, with_metric, strict=True):
        assert result["units"] == len(per_unit)
        assert result["unitsWithMetric"] == counted
        assert result["mean"] == pytest.approx(statistics.fmean(per_unit), abs=1e-9)
        assert result["variance"] == pytest.approx(statistics.variance(per_unit), abs=1e-9)

    # The control is compared with nothing.
    assert first["absoluteLift"] is None and first["relativeLift"] is None
    assert first["pValue"] is None and first["chanceToBeatControl"] is None

    welch = scipy_stats.ttest_ind(treatment, control, equal_var=False)
    assert second["pValue"] == pytest.approx(float(welch.pvalue), abs=1e-9)
    assert second["pValue"] < 0.05  # a real 3.0 difference in means
    interval = welch.confidence_interval(0.95)
    lift = second["absoluteLift"]
    difference = statistics.fmean(treatment) - statistics.fmean(control)
    assert lift["estimate"] == pytest.approx(difference, abs=1e-9)
    assert lift["lower"] == pytest.approx(float(interval.low), abs=1e-9)
    assert lift["upper"] == pytest.approx(float(interval.high), abs=1e-9)
    relative = second["relativeLift"]
    assert relative["estimate"] == pytest.approx(difference / statistics.fmean(control), abs=1e-9)
    assert relative["lower"] < relative["estimate"] < relative["upper"]
    # Normal posterior of the lift, flat prior: Phi(t).
    assert second["chanceToBeatControl"] == pytest.approx(
        float(scipy_stats.norm.cdf(welch.statistic)), abs=1e-9
    )
    assert not found["srm"]["flagged"] and 0 < found["srm"]["pValue"] <= 1

    # alpha chooses the interval's level.
    wide = (await results(gql, test, alpha=0.01))["variants"][1]["absoluteLift"]
    assert wide["lower"] == pytest.approx(float(welch.confidence_interval(0.99).low), abs=1e-9)

    # Always-valid intervals are wider than fixed-horizon ones, around the same estimate.
    sequential = await results(gql, test, sequential=True)
    assert sequential["sequential"]
    peeked = sequential["variants"][1]
    for name in ("absoluteLift", "relativeLift"):
        fixed, safe = second[name], peeked[name]
        assert safe["estimate"] == pytest.approx(fixed["estimate"], abs=1e-12)
        assert safe["upper"] - safe["lower"] > fixed["upper"] - fixed["lower"]
        assert safe["lower"] < fixed["lower"] and safe["upper"] > fixed["upper"]
    assert sequential["variants"][0]["absoluteLift"] is None

    # Another metric: the "clicks" of the same units.
    clicks = await results(gql, test, metric="clicks")
    assert [v["units"] for v in clicks["variants"]] == [len(v) for v in values]


async def _bulk_assign(db: Any, test: AbTest, counts: tuple[int, int]) -> None:
    experiment_id = decode_id(test.id)[1]
    rows = [
        {
            "experiment_id": experiment_id,
            "unit_type": UnitType.USER,
            "unit_id": f"bulk-{index}-{n}",
            "variant_id": decode_id(variant)[1],
            "assigned_at": T0,
        }
        for index, (variant, count) in enumerate(zip(test.variants, counts, strict=True))
        for n in range(count)
    ]
    async with db.transaction() as session:
        await session.execute(insert(models.Assignment), rows)


async def test_sample_ratio_mismatch_flags_a_skewed_split_only(gql, db):
    skewed = await ab_test(gql, "skewed", ("0.5", "0.5"))
    await _bulk_assign(db, skewed, (5000, 4600))
    fair = await ab_test(gql, "fair", ("0.5", "0.5"))
    await _bulk_assign(db, fair, (5000, 4950))
    uneven = await ab_test(gql, "uneven-but-fair", ("0.2", "0.6"))
    await _bulk_assign(db, uneven, (2500, 7500))

    found = await results(gql, skewed, metric="anything")
    expected = scipy_stats.chisquare([5000, 4600], [4800, 4800])
    assert found["srm"]["flagged"]
    assert found["srm"]["pValue"] == pytest.approx(float(expected.pvalue), rel=1e-9)
    assert [v["units"] for v in found["variants"]] == [5000, 4600]
    assert [v["mean"] for v in found["variants"]] == [0.0, 0.0]  # no events: all units 0

    fair_found = await results(gql, fair, metric="anything")
    assert not fair_found["srm"]["flagged"] and fair_found["srm"]["pValue"] > 0.001
    uneven_found = await results(gql, uneven, metric="anything")
    assert not uneven_found["srm"]["flagged"]
    assert uneven_found["srm"]["pValue"] == pytest.approx(1.0)


async def test_results_without_units(gql):
    test = await ab_test(gql, "empty", ("0.5", "0.5"))
    found = await results(gql, test)
    assert found["srm"] == {"pValue": None, "flagged": False}
    for variant in found["variants"]:
        assert variant["units"] == 0 and variant["mean"] is None and variant["variance"] is None
        assert variant["absoluteLift"] is None and variant["pValue"] is None


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.0}, "alpha"),
        ({"alpha": -0.5}, "alpha"),
        ({"metric": ""}, "metric"),
        ({"metric": "m" * 101}, "metric"),
    ],
)
async def test_bad_arguments_are_bad_requests(gql, arguments, field):
    test = await ab_test(gql, "arguments", ("0.5", "0.5"), status=None)
    variables = {"id": test.id, "metric": "revenue", **arguments}
    body = await gql.post(RESULTS, variables)
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["extensions"].get("field") == field
    assert field in error["message"]


@pytest.fixture
async def auth_app(settings: Any, db: Any) -> Any:
    async with db.transaction() as session:
        await service.create_user(
            session,
            username="member",
            email="member@example.com",
            role=accounts.UserRole.MEMBER,
            password=PASSWORD,
        )
    changes = {"auth_enabled": True, "request_log_enabled": False}
    return create_app(settings.model_copy(update=changes), db=db)


UPDATE_WITH_RESULTS = """mutation($id: ID!) {
  updateExperiment(input: {id: $id, description: "seen"}) { experiment {
    ... on AbTestExperiment { results(metric: "revenue") { variants { units } } } } } }"""


async def test_results_need_the_read_permission(auth_app):
    member, writer, reader = Caller(auth_app), Caller(auth_app), Caller(auth_app)
    try:
        await member.login("member")
        test = await ab_test(member.gql, "guarded", ("0.5", "0.5"))
        writer.bearer((await member.create_key("writes", ["WRITE"]))["key"])
        reader.bearer((await member.create_key("reads", ["READ"]))["key"])
        # A WRITE-only key may update the experiment but not read its results.
        body = await writer.gql.post(UPDATE_WITH_RESULTS, {"id": test.id})
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
        assert body["errors"][0]["path"][-1] == "results"
        found = await results(reader.gql, test)
        assert [v["units"] for v in found["variants"]] == [0, 0]
    finally:
        for caller in (member, writer, reader):
            await caller.aclose()
