"""Statistics of an A/B test's results, from per-variant sums computable in SQL.

Input, per variant (``VariantSummary``): the number of assigned units ``n``,
the sum of the per-unit values ``S`` and the sum of their squares ``Q`` (a
unit's value is what the results query defines, e.g. the sum of a metric over
its events; units without events count as 0). From these:

- mean ``m = S / n``; sample variance (ddof = 1) ``v = (Q - S^2 / n) / (n - 1)``.

Each non-control variant t is compared with the control c (``compare``):

- absolute lift ``d = m_t - m_c``, standard error ``se = sqrt(v_t/n_t + v_c/n_c)``,
  Welch's ``t = d / se`` with Welch-Satterthwaite degrees of freedom
  ``df = se^4 / ((v_t/n_t)^2/(n_t-1) + (v_c/n_c)^2/(n_c-1))``; two-sided p-value
  ``2 * T_df.sf(|t|)`` (what ``scipy.stats.ttest_ind(t_values, c_values,
  equal_var=False)`` gives on the per-unit values); interval
  ``d +- T_df.ppf(1 - alpha/2) * se``.
- relative lift ``r = (m_t - m_c) / |m_c|`` (``m_t / m_c - 1`` for a positive
  control mean) with the delta-method standard error of the ratio of two
  independent means, ``se_r = sqrt(v_t/(n_t m_c^2) + m_t^2 v_c/(n_c m_c^4))``, and
  the same critical value: ``r +- T_df.ppf(1 - alpha/2) * se_r``. Undefined
  (None) when the control mean is 0.
- chance to beat control: the posterior probability that the lift is positive
  under a flat prior and a normal likelihood, ``Phi(d / se)``.

``sequential=True`` replaces the fixed-horizon critical value with an
always-valid one, so the intervals may be looked at after every new unit
without inflating the error rate: the asymptotic confidence sequence of
Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas, "Time-uniform central limit
theory and asymptotic confidence sequences" (Annals of Statistics, 2024;
arXiv:2103.06476), built on Robbins' normal mixture (the mixture sequential
probability ratio test; Howard, Ramdas, McAuliffe and Sekhon, "Time-uniform,
nonparametric, nonasymptotic confidence sequences", Annals of Statistics 2021),
the method GrowthBook and Eppo use for sequential testing. With ``N = n_t + n_c``
units and mixing variance ``rho^2``, the half-width is

    se * sqrt( 2 (N rho^2 + 1) / (N rho^2) * ln( sqrt(N rho^2 + 1) / alpha ) )

(the paper's ``sigma_hat * sqrt(2 (N rho^2 + 1) / (N^2 rho^2) * ln(...))`` with
``sigma_hat = se * sqrt(N)``). The tuning parameter is ``N*``, the number of
units at which the interval is narrowest; ``rho^2`` is the paper's closed-form
approximation of the optimum at ``N*``:
``rho^2 = (-2 ln alpha + ln(-2 ln alpha + 1)) / N*``. ``N* = 5000`` by default
(``DEFAULT_SEQUENTIAL_TUNING``, GrowthBook's default). In sequential mode the
p-value is the matching always-valid p-value, the inverse of the mixture
likelihood ratio: ``min(1, sqrt(N rho^2 + 1) * exp(-t^2 N rho^2 / (2 (N rho^2 + 1))))``;
it falls below alpha exactly when the interval excludes 0.

Sample-ratio mismatch (``sample_ratio_mismatch``): Pearson's chi-square
goodness of fit of the assigned units against the allocations (normalised to
sum to 1), ``k - 1`` degrees of freedom, flagged when ``p < 0.001``.

Edge cases never raise: a variant without units has no mean (None), fewer than
two units no variance; a comparison without a standard error (fewer than two
units in an arm, or no variance in either) keeps its estimates and has no
interval, p-value or chance to beat control (None). Pure functions: no
database or GraphQL imports.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from types import ModuleType

from expgraph.errors import BadRequest


@cache
def _scipy_stats() -> ModuleType:
    """``scipy.stats``, imported on first use: it takes over a second to import,
    which every server and worker process would otherwise pay at startup."""
    from scipy import stats

    return stats


__all__ = [
    "DEFAULT_SEQUENTIAL_TUNING",
    "SRM_THRESHOLD",
    "Comparison",
    "ExperimentResults",
    "Interval",
    "SrmResult",
    "VariantResult",
    "VariantSummary",
    "analyze",
    "compare",
    "sample_ratio_mismatch",
    "sequential_multiplier",
]

#: A sample-ratio mismatch is flagged when the chi-square p-value is below this.
SRM_THRESHOLD = 0.001
#: N*, the number of units at which sequential intervals are narrowest (GrowthBook's default).
DEFAULT_SEQUENTIAL_TUNING = 5000

Number = float | int | Decimal


@dataclass(frozen=True)
class VariantSummary:
    """One variant's per-unit values, summarised as SQL can: count, sum, sum of squares."""

    units: int
    total: float
    sum_squares: float
    #: Units with at least one value of the metric (reported, not used by the tests).
    units_with_metric: int = 0

    def __post_init__(self) -> None:
        # SQL sums arrive as Decimal (PostgreSQL numeric) or int: compute in floats.
        object.__setattr__(self, "units", int(self.units))
        object.__setattr__(self, "total", float(self.total))
        object.__setattr__(self, "sum_squares", float(self.sum_squares))
        object.__setattr__(self, "units_with_metric", int(self.units_with_metric))

    @classmethod
    def from_values(cls, values: Iterable[Number]) -> VariantSummary:
        """The summary of per-unit values (non-zero values count as units with the metric)."""
        floats = [float(v) for v in values]
        return cls(
            units=len(floats),
            total=math.fsum(floats),
            sum_squares=math.fsum(v * v for v in floats),
            units_with_metric=sum(1 for v in floats if v != 0),
        )

    @property
    def mean(self) -> float | None:
        """The mean per unit; None without units."""
        if self.units <= 0:
            return None
        return self.total / self.units

    @property
    def variance(self) -> float | None:
        """The sample variance (ddof = 1); None with fewer than two units."""
        if self.units < 2:
            return None
        centred = self.sum_squares - self.total * self.total / self.units
        return max(centred, 0.0) / (self.units - 1)


@dataclass(frozen=True)
class Interval:
    """An estimate and its confidence interval (bounds None when there is no standard error)."""

    estimate: float
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class Comparison:
    """A variant against the control."""

    absolute_lift: Interval | None
    relative_lift: Interval | None
    p_value: float | None
    chance_to_beat_control: float | None
    t_statistic: float | None
    degrees_of_freedom: float | None
    standard_error: float | None


@dataclass(frozen=True)
class SrmResult:
    """Sample-ratio mismatch: chi-square p-value (None without units) and the flag."""

    p_value: float | None
    statistic: float | None
    flagged: bool


@dataclass(frozen=True)
class VariantResult:
    """One variant's result; ``comparison`` is None for the control."""

    index: int
    is_control: bool
    units: int
    units_with_metric: int
    mean: float | None
    variance: float | None
    comparison: Comparison | None


@dataclass(frozen=True)
class ExperimentResults:
    variants: list[VariantResult]
    srm: SrmResult
    alpha: float
    sequential: bool


_EMPTY = Comparison(None, None, None, None, None, None, None)


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise BadRequest(f"alpha must be strictly between 0 and 1, got {alpha!r}")


def sequential_multiplier(
    units: int, alpha: float, tuning: float = DEFAULT_SEQUENTIAL_TUNING
) -> float:
    """The always-valid critical value for ``units`` total units (see the module docstring)."""
    _check_alpha(alpha)
    if tuning <= 0:
        raise BadRequest(f"the sequential tuning parameter must be positive, got {tuning!r}")
    if units <= 0:
        return math.inf
    log_alpha = -2 * math.log(alpha)
    rho2 = (log_alpha + math.log(log_alpha + 1)) / tuning
    a = units * rho2
    return math.sqrt(2 * (a + 1) / a * math.log(math.sqrt(a + 1) / alpha))


def _sequential_p_value(t: float, units: int, alpha: float, tuning: float) -> float:
    log_alpha = -2 * math.log(alpha)
    rho2 = (log_alpha + math.log(log_alpha + 1)) / tuning
    a = units * rho2
    log_p = 0.5 * math.log(a + 1) - t * t * a / (2 * (a + 1))
    return min(1.0, math.exp(log_p))


def _estimates_only(
    diff: float, relative_estimate: float | None, standard_error: float | None
) -> Comparison:
    """The point estimates without an interval or a test: too few units, or no
    variance in either arm."""
    return Comparison(
        absolute_lift=Interval(diff, None, None),
        relative_lift=None
        if relative_estimate is None
        else Interval(relative_estimate, None, None),
        p_value=None,
        chance_to_beat_control=None,
        t_statistic=None,
        degrees_of_freedom=None,
        standard_error=standard_error,
    )


def compare(
    control: VariantSummary,
    treatment: VariantSummary,
    alpha: float = 0.05,
    sequential: bool = False,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
) -> Comparison:
    """``treatment`` against ``control``: lifts with intervals, Welch p-value, chance to beat."""
    _check_alpha(alpha)
    m_c, m_t = control.mean, treatment.mean
    if m_c is None or m_t is None:
        return _EMPTY
    diff = m_t - m_c
    v_c, v_t = control.variance, treatment.variance
    relative_estimate = None if m_c == 0 else diff / abs(m_c)
    if v_c is None or v_t is None:
        return _estimates_only(diff, relative_estimate, standard_error=None)
    n_c, n_t = control.units, treatment.units
    w_c, w_t = v_c / n_c, v_t / n_t
    se2 = w_c + w_t
    se = math.sqrt(se2)
    se_rel = (
        None if m_c == 0 else math.sqrt(v_t / (n_t * m_c * m_c) + m_t * m_t * v_c / (n_c * m_c**4))
    )
    if se == 0:
        return _estimates_only(diff, relative_estimate, standard_error=0.0)
    df = se2 * se2 / (w_c * w_c / (n_c - 1) + w_t * w_t / (n_t - 1))
    t = diff / se
    if sequential:
        critical = sequential_multiplier(n_c + n_t, alpha, tuning)
        p_value = _sequential_p_value(t, n_c + n_t, alpha, tuning)
    else:
        critical = float(_scipy_stats().t.ppf(1 - alpha / 2, df))
        p_value = float(2 * _scipy_stats().t.sf(abs(t), df))
    relative: Interval | None = None
    if relative_estimate is not None and se_rel is not None:
        relative = Interval(
            relative_estimate,
            relative_estimate - critical * se_rel,
            relative_estimate + critical * se_rel,
        )
    return Comparison(
        absolute_lift=Interval(diff, diff - critical * se, diff + critical * se),
        relative_lift=relative,
        p_value=p_value,
        chance_to_beat_control=float(_scipy_stats().norm.cdf(t)),
        t_statistic=t,
        degrees_of_freedom=df,
        standard_error=se,
    )


def sample_ratio_mismatch(units: Sequence[int], allocations: Sequence[Number]) -> SrmResult:
    """Chi-square goodness of fit of assigned ``units`` against ``allocations`` (normalised)."""
    if len(units) != len(allocations):
        raise ValueError("one allocation per variant is needed")
    total_units = sum(units)
    total_allocation = math.fsum(float(a) for a in allocations)
    if total_units <= 0 or total_allocation <= 0:
        return SrmResult(p_value=None, statistic=None, flagged=False)
    statistic = 0.0
    cells = 0
    for observed, allocation in zip(units, allocations, strict=True):
        expected = total_units * float(allocation) / total_allocation
        if expected <= 0:
            if observed > 0:  # units in a variant that should get none
                return SrmResult(p_value=0.0, statistic=math.inf, flagged=True)
            continue
        statistic += (observed - expected) ** 2 / expected
        cells += 1
    if cells < 2:
        return SrmResult(p_value=1.0, statistic=0.0, flagged=False)
    p_value = float(_scipy_stats().chi2.sf(statistic, cells - 1))
    return SrmResult(p_value=p_value, statistic=statistic, flagged=p_value < SRM_THRESHOLD)


def analyze(
    summaries: Sequence[VariantSummary],
    allocations: Sequence[Number],
    control_index: int = 0,
    alpha: float = 0.05,
    sequential: bool = False,
    tuning: float = DEFAULT_SEQUENTIAL_TUNING,
) -> ExperimentResults:
    """Every variant's result (in the given order) against the control, and the SRM check."""
    _check_alpha(alpha)
    if not summaries:
        return ExperimentResults(
            variants=[],
            srm=SrmResult(p_value=None, statistic=None, flagged=False),
            alpha=alpha,
            sequential=sequential,
        )
    if not 0 <= control_index < len(summaries):
        raise ValueError("control_index must name one of the summaries")
    control = summaries[control_index]
    variants = [
        VariantResult(
            index=i,
            is_control=i == control_index,
            units=summary.units,
            units_with_metric=summary.units_with_metric,
            mean=summary.mean,
            variance=summary.variance,
            comparison=None
            if i == control_index
            else compare(control, summary, alpha, sequential, tuning),
        )
        for i, summary in enumerate(summaries)
    ]
    srm = sample_ratio_mismatch([s.units for s in summaries], allocations)
    return ExperimentResults(variants=variants, srm=srm, alpha=alpha, sequential=sequential)
