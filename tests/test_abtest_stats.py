"""A/B results statistics (issue 15): Welch tests against scipy, delta-method
relative lift, chance to beat control, sequential intervals and the SRM check."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import pytest
from scipy import stats as scipy_stats

from expgraph.domains.abtest.stats import (
    SRM_THRESHOLD,
    VariantSummary,
    analyze,
    compare,
    sample_ratio_mismatch,
    sequential_multiplier,
)
from expgraph.errors import BadRequest


def _values(seed: int, n: int, mean: float, sd: float, zero_share: float = 0.0) -> list[float]:
    rng = random.Random(seed)
    return [0.0 if rng.random() < zero_share else rng.gauss(mean, sd) for _ in range(n)]


SCENARIOS = [
    ("normal, small lift", _values(1, 1000, 10.0, 3.0), _values(2, 1100, 10.3, 3.2)),
    ("unequal sizes and spreads", _values(3, 40, 5.0, 1.0), _values(4, 400, 4.6, 4.0)),
    ("mostly zeros", _values(5, 5000, 2.0, 1.0, 0.9), _values(6, 5000, 2.1, 1.0, 0.88)),
    ("tiny", [1.0, 2.0, 4.0], [3.0, 5.0]),
    ("negative lift", _values(7, 300, 100.0, 20.0), _values(8, 250, 90.0, 25.0)),
]


@pytest.mark.parametrize(("name", "control", "treatment"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_welch_agrees_with_scipy_ttest_ind(
    name: str, control: list[float], treatment: list[float]
) -> None:
    result = compare(VariantSummary.from_values(control), VariantSummary.from_values(treatment))
    expected = scipy_stats.ttest_ind(treatment, control, equal_var=False)
    assert result.t_statistic == pytest.approx(float(expected.statistic), rel=1e-9, abs=1e-12)
    assert result.p_value == pytest.approx(float(expected.pvalue), rel=1e-9, abs=1e-12)
    assert result.degrees_of_freedom == pytest.approx(float(expected.df), rel=1e-9)

    # The interval, computed directly from the per-unit values.
    n_c, n_t = len(control), len(treatment)
    m_c, m_t = sum(control) / n_c, sum(treatment) / n_t
    v_c = sum((x - m_c) ** 2 for x in control) / (n_c - 1)
    v_t = sum((x - m_t) ** 2 for x in treatment) / (n_t - 1)
    se = math.sqrt(v_c / n_c + v_t / n_t)
    df = (v_c / n_c + v_t / n_t) ** 2 / (
        (v_c / n_c) ** 2 / (n_c - 1) + (v_t / n_t) ** 2 / (n_t - 1)
    )
    q = float(scipy_stats.t.ppf(0.975, df))
    lift = result.absolute_lift
    assert lift is not None
    assert lift.estimate == pytest.approx(m_t - m_c, rel=1e-9, abs=1e-12)
    assert lift.lower == pytest.approx(m_t - m_c - q * se, rel=1e-9, abs=1e-12)
    assert lift.upper == pytest.approx(m_t - m_c + q * se, rel=1e-9, abs=1e-12)
    # scipy's own interval for the difference agrees too.
    ci = expected.confidence_interval(0.95)
    assert (lift.lower, lift.upper) == pytest.approx((ci.low, ci.high), rel=1e-9, abs=1e-12)

    # Relative lift by the delta method on the ratio of the means.
    se_rel = math.sqrt(v_t / (n_t * m_c**2) + m_t**2 * v_c / (n_c * m_c**4))
    relative = result.relative_lift
    assert relative is not None
    assert relative.estimate == pytest.approx(m_t / m_c - 1, rel=1e-9, abs=1e-12)
    assert relative.lower == pytest.approx(m_t / m_c - 1 - q * se_rel, rel=1e-9, abs=1e-12)
    assert relative.upper == pytest.approx(m_t / m_c - 1 + q * se_rel, rel=1e-9, abs=1e-12)

    # Chance to beat control: flat prior, normal posterior of the lift.
    assert result.chance_to_beat_control == pytest.approx(
        float(scipy_stats.norm.cdf((m_t - m_c) / se)), rel=1e-9, abs=1e-12
    )


def test_summary_mean_and_sample_variance() -> None:
    values = [3.0, 0.0, 7.5, 2.25]
    summary = VariantSummary.from_values(values)
    assert summary.mean == pytest.approx(sum(values) / 4)
    assert summary.variance == pytest.approx(scipy_stats.tvar(values), rel=1e-12)
    assert summary.units_with_metric == 3
    # SQL sums may arrive as Decimal.
    from_sql = VariantSummary(units=4, total=Decimal("12.75"), sum_squares=Decimal("70.3125"))  # type: ignore[arg-type]
    assert from_sql.mean == summary.mean
    assert from_sql.variance == pytest.approx(summary.variance, rel=1e-12)


def test_alpha_sets_the_interval_level() -> None:
    control = VariantSummary.from_values(_values(11, 500, 1.0, 1.0))
    treatment = VariantSummary.from_values(_values(12, 500, 1.1, 1.0))
    wide = compare(control, treatment, alpha=0.01).absolute_lift
    narrow = compare(control, treatment, alpha=0.2).absolute_lift
    assert wide is not None and narrow is not None
    assert wide.lower is not None and wide.upper is not None
    assert narrow.lower is not None and narrow.upper is not None
    assert wide.upper - wide.lower > narrow.upper - narrow.lower
    with pytest.raises(BadRequest):
        compare(control, treatment, alpha=1.0)
    with pytest.raises(BadRequest):
        compare(control, treatment, alpha=0.0)


def test_analyze_reports_every_variant_against_the_control() -> None:
    summaries = [
        VariantSummary.from_values(_values(21, 800, 10.0, 2.0)),
        VariantSummary.from_values(_values(22, 790, 10.5, 2.0)),
        VariantSummary.from_values(_values(23, 810, 10.0, 2.0)),
    ]
    results = analyze(summaries, [Decimal("0.3333"), Decimal("0.3333"), Decimal("0.3334")])
    assert [v.is_control for v in results.variants] == [True, False, False]
    assert results.variants[0].comparison is None
    significant = results.variants[1].comparison
    assert significant is not None and significant.p_value is not None
    assert significant.p_value < 0.001
    assert significant.chance_to_beat_control is not None
    assert significant.chance_to_beat_control > 0.999
    assert results.variants[1].units == 790
    assert results.variants[1].mean == summaries[1].mean
    assert not results.srm.flagged
    # Another control.
    other = analyze(summaries, [1, 1, 1], control_index=2)
    assert other.variants[2].is_control and other.variants[0].comparison is not None


def test_srm_flags_5000_vs_4600_and_not_5000_vs_4980() -> None:
    halves = [Decimal("0.5"), Decimal("0.5")]
    skewed = sample_ratio_mismatch([5000, 4600], halves)
    fair = sample_ratio_mismatch([5000, 4980], halves)
    assert skewed.flagged and skewed.p_value is not None and skewed.p_value < SRM_THRESHOLD
    assert not fair.flagged and fair.p_value is not None and fair.p_value > 0.5
    expected = scipy_stats.chisquare([5000, 4600], [4800, 4800])
    assert skewed.p_value == pytest.approx(float(expected.pvalue), rel=1e-9)
    assert skewed.statistic == pytest.approx(float(expected.statistic), rel=1e-12)


def test_srm_normalises_allocations() -> None:
    # Allocations of 0.2/0.2 (40 % coverage) expect an even split.
    assert not sample_ratio_mismatch([1000, 1010], [Decimal("0.2"), Decimal("0.2")]).flagged
    # 0.1/0.3: a 1:3 split is fair, an even split is not.
    uneven = [Decimal("0.1"), Decimal("0.3")]
    assert not sample_ratio_mismatch([500, 1500], uneven).flagged
    assert sample_ratio_mismatch([1000, 1000], uneven).flagged
    expected = scipy_stats.chisquare([500, 1480, 1010], [2990 / 6, 2990 / 2, 2990 / 3])
    assert sample_ratio_mismatch([500, 1480, 1010], [1, 3, 2]).p_value == pytest.approx(
        float(expected.pvalue), rel=1e-9
    )


def test_srm_edge_cases() -> None:
    assert sample_ratio_mismatch([0, 0], [0.5, 0.5]).p_value is None
    assert not sample_ratio_mismatch([0, 0], [0.5, 0.5]).flagged
    assert sample_ratio_mismatch([10, 3], [1, 0]).flagged  # units where none are due
    only = sample_ratio_mismatch([10, 0], [1, 0])
    assert only.p_value == 1.0 and not only.flagged


def test_sequential_intervals_are_wider_than_fixed_and_shrink_with_n() -> None:
    widths = []
    for n in (100, 1000, 5000, 20_000, 100_000):
        control = VariantSummary.from_values(_values(31, n, 10.0, 3.0))
        treatment = VariantSummary.from_values(_values(32, n, 10.2, 3.0))
        fixed = compare(control, treatment).absolute_lift
        seq = compare(control, treatment, sequential=True).absolute_lift
        assert fixed is not None and seq is not None
        assert fixed.lower is not None and fixed.upper is not None
        assert seq.lower is not None and seq.upper is not None
        assert seq.estimate == fixed.estimate
        assert seq.lower < fixed.lower and seq.upper > fixed.upper
        fixed_rel = compare(control, treatment).relative_lift
        seq_rel = compare(control, treatment, sequential=True).relative_lift
        assert fixed_rel is not None and seq_rel is not None
        assert fixed_rel.lower is not None and seq_rel.lower is not None
        assert seq_rel.lower < fixed_rel.lower
        widths.append(seq.upper - seq.lower)
    assert widths == sorted(widths, reverse=True)
    assert widths[-1] < widths[0] / 10


def test_sequential_multiplier_formula_and_always_valid_p_value() -> None:
    alpha, n_star, n = 0.05, 5000, 12_345
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / n_star
    expected = math.sqrt(
        2 * (n * rho2 + 1) / (n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha)
    )
    assert sequential_multiplier(n, alpha, n_star) == pytest.approx(expected, rel=1e-12)
    # The critical value is always above the fixed-horizon normal one, and the
    # interval (critical * se, se ~ 1/sqrt(N)) shrinks as N grows.
    for units in (10, 1000, 5000, 10**6):
        assert sequential_multiplier(units, alpha) > scipy_stats.norm.ppf(1 - alpha / 2)
    assert sequential_multiplier(10**6, alpha) / 1000 < sequential_multiplier(10**4, alpha) / 100
    # The sequential p-value crosses alpha exactly when the interval excludes 0.
    control = VariantSummary.from_values(_values(41, 3000, 1.0, 1.0))
    for lift, seed in ((0.0, 42), (0.05, 43), (0.1, 44), (0.2, 45)):
        treatment = VariantSummary.from_values(_values(seed, 3000, 1.0 + lift, 1.0))
        result = compare(control, treatment, sequential=True)
        fixed = compare(control, treatment)
        assert result.absolute_lift is not None and result.absolute_lift.lower is not None
        assert result.absolute_lift.upper is not None
        excludes_zero = result.absolute_lift.lower > 0 or result.absolute_lift.upper < 0
        assert result.p_value is not None and fixed.p_value is not None
        assert (result.p_value < alpha) == excludes_zero
        assert result.p_value >= fixed.p_value


@pytest.mark.filterwarnings("ignore:Precision loss occurred:RuntimeWarning")
def test_edge_cases_do_not_raise() -> None:
    empty = VariantSummary(units=0, total=0, sum_squares=0)
    one = VariantSummary.from_values([5.0])
    some = VariantSummary.from_values([1.0, 2.0, 3.0])
    assert empty.mean is None and empty.variance is None
    assert one.mean == 5.0 and one.variance is None

    nothing = compare(empty, some)
    assert nothing.absolute_lift is None and nothing.relative_lift is None
    assert nothing.p_value is None and nothing.chance_to_beat_control is None
    assert compare(some, empty).absolute_lift is None

    single = compare(one, some)
    assert single.absolute_lift is not None
    assert single.absolute_lift.estimate == -3.0
    assert single.absolute_lift.lower is None and single.p_value is None

    # Zero variance in both arms: estimates, but no interval or p-value.
    flat_c = VariantSummary.from_values([2.0] * 10)
    flat_t = VariantSummary.from_values([3.0] * 10)
    flat = compare(flat_c, flat_t)
    assert flat.absolute_lift is not None and flat.absolute_lift.estimate == 1.0
    assert flat.absolute_lift.lower is None and flat.p_value is None
    assert flat.relative_lift is not None and flat.relative_lift.estimate == 0.5
    assert flat.standard_error == 0.0

    # Zero variance in one arm only: still a Welch test (scipy agrees).
    half = compare(flat_c, some)
    expected = scipy_stats.ttest_ind([1.0, 2.0, 3.0], [2.0] * 10, equal_var=False)
    assert half.p_value == pytest.approx(float(expected.pvalue), rel=1e-9)

    # Control mean 0: the relative lift is undefined.
    zero_c = VariantSummary.from_values([0.0, 0.0, 1.0, -1.0])
    zero = compare(zero_c, some)
    assert zero.relative_lift is None
    assert zero.absolute_lift is not None and zero.absolute_lift.lower is not None

    # Whole experiment with an empty variant.
    results = analyze([empty, empty], [0.5, 0.5], sequential=True)
    assert results.srm.p_value is None and not results.srm.flagged
    assert results.variants[1].comparison is not None
    assert results.variants[1].comparison.absolute_lift is None


def test_analyze_without_variants() -> None:
    results = analyze([], [])
    assert results.variants == [] and results.srm.p_value is None and not results.srm.flagged
