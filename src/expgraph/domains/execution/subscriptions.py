"""``executionUpdates``: state and progress pushed when they change.

Writers publish the experiment id after each transition (``Context.notify``);
every server process hears it (PostgreSQL NOTIFY, or in process on SQLite),
re-reads the experiment, and sends an update only when something changed. A
periodic re-read also catches changes that come from the clock alone
(RUNNING becoming ORPHANED).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from expgraph.db.notify import changes
from expgraph.domains.execution import models
from expgraph.domains.execution.types import (
    ExecutionConfig,
    ExecutionState,
    Progress,
    derive_state,
    progress_of,
)
from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.errors import NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Context, Info
from expgraph.graphql.loaders import RowsById
from expgraph.graphql.permissions import requires
from expgraph.graphql.relay import model_pk, to_node

CHANNEL = "execution_updates"


@strawberry.type(description="An execution's state and progress at one moment.")
class ExecutionUpdate:
    experiment_id: strawberry.ID = strawberry.field(description="Global id of the experiment.")
    state: ExecutionState = strawberry.field(description="Where the execution stands now.")
    progress: Progress = strawberry.field(description="Runs recorded against those expected.")
    config: ExecutionConfig = strawberry.field(description="The execution config at this moment.")


async def _snapshot(context: Context, experiment_id: int, global_id: str) -> ExecutionUpdate:
    config = await context.loader(RowsById(models.ExecutionConfig)).load(experiment_id)
    if config is None:
        raise NotFound("this experiment has no execution config")
    info = _InfoLike(context)
    counts = await progress_of(info, experiment_id)  # type: ignore[arg-type]
    return ExecutionUpdate(
        experiment_id=strawberry.ID(global_id),
        state=derive_state(config, counts, context.settings.execution_stale_seconds),
        progress=Progress.of(counts),
        config=to_node(config),
    )


class _InfoLike:
    """The part of ``Info`` loaders use, for reads outside a resolver call."""

    def __init__(self, context: Context) -> None:
        self.context = context


def _key(update: ExecutionUpdate) -> tuple[object, ...]:
    p = update.progress
    c = update.config.record
    return (update.state, p.expected, p.completed, p.failed, c.claimed_by, c.fencing_token)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[requires(Permission.READ)],
        description="State and progress of one execution, sent when they change.",
    )
    async def execution_updates(
        self,
        info: Info,
        experiment_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="Global id of an experiment with an execution config."),
        ],
    ) -> AsyncGenerator[ExecutionUpdate, None]:
        pk = model_pk(experiment_id, ExperimentRecord)
        context = info.context
        assert context.broker is not None
        poll = max(1.0, min(30.0, context.settings.execution_stale_seconds / 4))
        async for update in changes(
            context.broker,
            CHANNEL,
            str(pk).__eq__,
            lambda: _snapshot(context.fresh(), pk, str(experiment_id)),
            _key,
            poll=poll,
        ):
            yield update
