"""``abTestUpdates``: an A/B test's assignment counts and sample-ratio check,
pushed when they change.

Writers call ``announce`` in (or after) a transaction that may have stored
assignments (assignUnit, assignUnits, recordEvents); every server process hears it
(PostgreSQL NOTIFY on the ``abtest_updates`` channel, or in process on SQLite),
each subscriber re-reads its experiment's counts (one statement) and sends an
update only when they changed. A periodic re-read
(``EXPGRAPH_ABTEST_UPDATES_POLL_SECONDS``) also catches assignments written
outside the API.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Annotated

import strawberry
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.notify import changes
from expgraph.domains.abtest import models, stats
from expgraph.domains.abtest.results_types import SampleRatioCheck
from expgraph.domains.abtest.types import Variant
from expgraph.domains.experiments.models import AbTestExperiment as AbTestRecord
from expgraph.errors import NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Context, Info
from expgraph.graphql.permissions import requires
from expgraph.graphql.relay import model_pk
from expgraph.graphql.visibility import node_for

CHANNEL = "abtest_updates"
# PostgreSQL's NOTIFY payload is below 8000 bytes: ids are sent in chunks of this many.
IDS_PER_MESSAGE = 500


async def announce(
    context: Context, experiment_ids: Iterable[int], session: AsyncSession | None = None
) -> None:
    """Tell ``abTestUpdates`` subscribers (in every process) that these A/B tests
    may have new assignments: as part of ``session``'s write transaction when
    given (heard when it commits, never when it rolls back; no transaction of its
    own), else at once (call it after the transaction has committed)."""
    ids = sorted(set(experiment_ids))
    for start in range(0, len(ids), IDS_PER_MESSAGE):
        message = ",".join(map(str, ids[start : start + IDS_PER_MESSAGE]))
        if session is None:
            await context.publish(CHANNEL, message)
        elif context.broker is not None:
            await context.broker.publish_in(session, CHANNEL, message)


@strawberry.type(description="The units assigned to one variant.")
class VariantCount:
    variant: Variant = strawberry.field(description="The variant.")
    units: int = strawberry.field(description="Units assigned to it so far.")


@strawberry.type(description="An A/B test's assignment counts at one moment.")
class AbTestUpdate:
    experiment_id: strawberry.ID = strawberry.field(description="Global id of the A/B test.")
    assigned_units: list[VariantCount] = strawberry.field(
        description="Units assigned to each variant, in position order (every variant, 0 included)."
    )
    srm: SampleRatioCheck = strawberry.field(
        description="The sample-ratio mismatch check of these counts against the allocations."
    )


async def _snapshot(context: Context, experiment_id: int, global_id: str) -> AbTestUpdate:
    counts = (
        select(models.Assignment.variant_id, func.count().label("units"))
        .where(models.Assignment.experiment_id == experiment_id)
        .group_by(models.Assignment.variant_id)
        .subquery("counts")
    )
    statement = (
        select(models.Variant, func.coalesce(counts.c.units, 0))
        .outerjoin(counts, counts.c.variant_id == models.Variant.id)
        .where(models.Variant.experiment_id == experiment_id)
        .order_by(models.Variant.position)
    )
    async with context.db.read() as session:
        if await session.get(AbTestRecord, experiment_id) is None:
            raise NotFound("no A/B test has this id")
        rows = (await session.execute(statement)).all()
    srm = stats.sample_ratio_mismatch(
        [int(units) for _, units in rows], [variant.allocation for variant, _ in rows]
    )
    return AbTestUpdate(
        experiment_id=strawberry.ID(global_id),
        assigned_units=[
            VariantCount(variant=node_for(context.principal, variant), units=int(units))
            for variant, units in rows
        ],
        srm=SampleRatioCheck.of(srm),
    )


def _key(update: AbTestUpdate) -> tuple[object, ...]:
    counts = tuple((c.variant.record.id, c.units) for c in update.assigned_units)
    return (*counts, update.srm.p_value)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[requires(Permission.READ)],
        description=(
            "An A/B test's units assigned per variant and its sample-ratio check: sent once "
            "when subscribing, then each time the counts change."
        ),
    )
    async def ab_test_updates(
        self,
        info: Info,
        experiment_id: Annotated[
            strawberry.ID, strawberry.argument(description="Global id of an A/B test.")
        ],
    ) -> AsyncGenerator[AbTestUpdate, None]:
        pk = model_pk(experiment_id, AbTestRecord)
        context = info.context
        assert context.broker is not None
        poll = context.settings.abtest_updates_poll_seconds
        mine = str(pk)
        async for update in changes(
            context.broker,
            CHANNEL,
            lambda message: mine in message.split(","),
            lambda: _snapshot(context, pk, str(experiment_id)),
            _key,
            poll=poll,
        ):
            yield update
