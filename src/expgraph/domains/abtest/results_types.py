"""GraphQL side of an A/B test's results: ``AbTestExperiment.results``.

The per-unit sums come from SQL (``results.experiment_results``) and the
statistics from ``stats.analyze``; this module only checks the arguments and
shapes the answer.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from expgraph.domains.abtest import events, results, stats
from expgraph.domains.abtest.types import Variant
from expgraph.errors import BadRequest
from expgraph.graphql.context import Info
from expgraph.graphql.visibility import node_for

METRIC_NAME_MAX = events.METRIC_NAME_MAX


@strawberry.type(
    name="LiftEstimate",
    description="A lift of an A/B variant over the control, with its confidence interval.",
)
class Interval:
    estimate: float = strawberry.field(description="The point estimate.")
    lower: float | None = strawberry.field(
        description=(
            "Lower bound of the confidence interval (level 1 - alpha); null when there is no "
            "standard error (fewer than two units in this variant or the control, or no "
            "variance in either)."
        )
    )
    upper: float | None = strawberry.field(
        description="Upper bound of the confidence interval; null when lower is null."
    )

    @classmethod
    def of(cls, interval: stats.Interval | None) -> Interval | None:
        if interval is None:
            return None
        return cls(estimate=interval.estimate, lower=interval.lower, upper=interval.upper)


@strawberry.type(
    description=(
        "Sample-ratio mismatch check: a chi-square goodness-of-fit test of the units assigned "
        "to each variant against the variants' allocations."
    )
)
class SampleRatioCheck:
    p_value: float | None = strawberry.field(
        description="The chi-square p-value; null while no unit is assigned."
    )
    flagged: bool = strawberry.field(
        description=(
            "True when the p-value is below 0.001: the split of units does not match the "
            "allocations, so assignment or event collection is likely broken and the results "
            "should not be trusted."
        )
    )

    @classmethod
    def of(cls, srm: stats.SrmResult) -> SampleRatioCheck:
        return cls(p_value=srm.p_value, flagged=srm.flagged)


@strawberry.type(description="One variant's result for a metric, compared with the control.")
class VariantResult:
    variant: Variant = strawberry.field(description="The variant.")
    is_control: bool = strawberry.field(description="Whether it is the control variant.")
    units: int = strawberry.field(description="Units assigned to it.")
    units_with_metric: int = strawberry.field(
        description="Assigned units with at least one event carrying the metric."
    )
    mean: float | None = strawberry.field(
        description=(
            "Mean value per assigned unit (a unit's value is the sum of the metric over its "
            "events since its assignment; units without such events count as 0); null "
            "without units."
        )
    )
    variance: float | None = strawberry.field(
        description="Sample variance of the per-unit values; null with fewer than two units."
    )
    absolute_lift: Interval | None = strawberry.field(
        description=(
            "Its mean minus the control's, with a confidence interval (Welch). Null for the "
            "control and when either has no units."
        )
    )
    relative_lift: Interval | None = strawberry.field(
        description=(
            "The absolute lift over the control's mean (its absolute value), with a "
            "delta-method confidence interval. Null for the control, when either has no "
            "units, and when the control's mean is 0."
        )
    )
    p_value: float | None = strawberry.field(
        description=(
            "Two-sided p-value of Welch's t-test against the control (an always-valid p-value "
            "when sequential). Null for the control and when there is no standard error."
        )
    )
    chance_to_beat_control: float | None = strawberry.field(
        description=(
            "Probability (0 to 1) that its true mean is above the control's: a normal "
            "posterior of the lift with a flat prior. Null for the control and when there is "
            "no standard error."
        )
    )


@strawberry.type(description="An A/B test's results for one metric.")
class AbTestResults:
    metric: str = strawberry.field(description="The metric these results are about.")
    alpha: float = strawberry.field(description="The significance level used for intervals.")
    sequential: bool = strawberry.field(
        description="Whether the intervals and p-values are always valid (sequential)."
    )
    variants: list[VariantResult] = strawberry.field(
        description="Every variant, in position order, the control included."
    )
    srm: SampleRatioCheck = strawberry.field(description="The sample-ratio mismatch check.")


def check_metric(metric: str) -> str:
    if not metric or len(metric) > METRIC_NAME_MAX or "\x00" in metric:
        raise BadRequest(
            f"metric is a name of 1 to {METRIC_NAME_MAX} characters (no NUL)", field="metric"
        )
    return metric


def check_alpha(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise BadRequest(f"alpha must be strictly between 0 and 1, got {alpha}", field="alpha")
    return alpha


async def resolve_results(
    root: Any,
    info: Info,
    metric: Annotated[
        str,
        strawberry.argument(
            description=(
                f"The metric's name, as sent in events' metrics (1 to {METRIC_NAME_MAX} "
                "characters)."
            )
        ),
    ],
    alpha: Annotated[
        float,
        strawberry.argument(
            description=(
                "Significance level, strictly between 0 and 1 (BAD_REQUEST otherwise): "
                "intervals have confidence 1 - alpha."
            )
        ),
    ] = 0.05,
    sequential: Annotated[
        bool,
        strawberry.argument(
            description=(
                "True for always-valid confidence intervals and p-values (a confidence "
                "sequence), safe to look at as often as you like while the test runs; they are "
                "wider than the fixed-horizon ones."
            )
        ),
    ] = False,
) -> AbTestResults:
    check_metric(metric)
    check_alpha(alpha)
    context = info.context
    async with context.db.read() as session:
        variants, found = await results.experiment_results(
            session, root.record.id, metric, alpha, sequential
        )
    shown = []
    for record, result in zip(variants, found.variants, strict=True):
        comparison = result.comparison
        shown.append(
            VariantResult(
                variant=node_for(context.principal, record),  # variants are public
                is_control=result.is_control,
                units=result.units,
                units_with_metric=result.units_with_metric,
                mean=result.mean,
                variance=result.variance,
                absolute_lift=None if comparison is None else Interval.of(comparison.absolute_lift),
                relative_lift=None if comparison is None else Interval.of(comparison.relative_lift),
                p_value=None if comparison is None else comparison.p_value,
                chance_to_beat_control=None
                if comparison is None
                else comparison.chance_to_beat_control,
            )
        )
    return AbTestResults(
        metric=metric,
        alpha=alpha,
        sequential=sequential,
        variants=shown,
        srm=SampleRatioCheck.of(found.srm),
    )
