"""GraphQL types of exploration trees: explorations and scenario nodes, with
their enums, filter and ordering (research's ``types.py`` split in two: its
inputs, root query and mutations are in ``inputs.py``, ``queries.py`` and
``mutations.py``; the tree rules in ``trees.py``). Ancestors and descendants
are one recursive statement per batch of nodes (kernel
``Ancestors``/``Descendants`` loaders)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import select

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.domains.research import models, trees
from expgraph.errors import BadRequest
from expgraph.graphql.connections import connection_field
from expgraph.graphql.context import Info
from expgraph.graphql.filters import Ordering, Rule, SortDirection
from expgraph.graphql.loaders import Ancestors, Descendants, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public, node_for, nodes_for

if TYPE_CHECKING:
    from expgraph.domains.research.types import AnalysisRun

AnalysisRunT = Annotated["AnalysisRun", strawberry.lazy("expgraph.domains.research.types")]
# This module's own types, for fields declared before the type they show.
ExplorationT = Annotated["Exploration", strawberry.lazy(__name__)]
ScenarioNodeT = Annotated["ScenarioNode", strawberry.lazy(__name__)]
N = models.ScenarioNode
MAX_DESCENDANT_DEPTH = 20

ExplorationStatus = models.ExplorationStatus
strawberry.enum(ExplorationStatus, description="running, or how the exploration ended.")
NodeStatus = models.NodeStatus
strawberry.enum(NodeStatus, description="A node's standing in its exploration.")


@strawberry.input(description="Conditions on scenario nodes.")
class ScenarioNodeFilter:
    statuses: list[NodeStatus] | None = None
    depth: int | None = None
    min_depth: int | None = None
    max_depth: int | None = None
    and_: list[ScenarioNodeFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ScenarioNodeFilter] | None = strawberry.field(name="or", default=None)
    not_: ScenarioNodeFilter | None = strawberry.field(name="not", default=None)


@strawberry.enum
class ScenarioNodeOrderField(enum.Enum):
    CREATED_AT = "created_at"
    DEPTH = "depth"


@strawberry.input
class ScenarioNodeOrder:
    field: ScenarioNodeOrderField
    direction: SortDirection = SortDirection.ASC


NODE_RULES: dict[str, Rule] = {
    "statuses": lambda v: N.node_status.in_(v),
    "depth": lambda v: N.depth == v,
    "min_depth": lambda v: N.depth >= v,
    "max_depth": lambda v: N.depth <= v,
}
NODE_ORDERING = Ordering(
    {f: f.value for f in ScenarioNodeOrderField}, (SortKey("depth"), SortKey("created_at"))
)
CHILDREN = Relation(N, "parent_id")


@node_type(models.ScenarioNode, read=Public)
@strawberry.type(description="One scenario in an exploration tree.")
class ScenarioNode(Node):
    id: strawberry.ID
    depth: int
    action_applied: str | None
    action_category: str | None
    rationale: str | None
    short_action: str | None
    scorecard_params: JSON
    simulation_results: JSON | None
    execution_time_seconds: float | None
    llm_calls: int
    node_status: NodeStatus
    created_at: datetime
    record: strawberry.Private[models.ScenarioNode]

    exploration: ExplorationT = node_field(
        RowsById(models.Exploration), "exploration_id", ExplorationT, nullable=False
    )
    parent: ScenarioNodeT | None = node_field(RowsById(N), "parent_id", ScenarioNodeT)

    children = connection_field(
        CHILDREN, ScenarioNodeT, (SortKey("created_at"),), description="Its children, oldest first."
    )

    @strawberry.field(description="The path from the root down to its parent.")
    async def ancestors(self, info: Info) -> list[ScenarioNode]:
        rows = await info.context.loader(Ancestors(N)).load(self.record.id)
        return nodes_for(info.context.principal, rows)

    @strawberry.field(description="Everything below it, at most maxDepth levels down.")
    async def descendants(self, info: Info, max_depth: int = 3) -> list[ScenarioNode]:
        if not 1 <= max_depth <= MAX_DESCENDANT_DEPTH:
            raise BadRequest(f"maxDepth must be 1..{MAX_DESCENDANT_DEPTH}")
        rows = await info.context.loader(Descendants(N, max_depth)).load(self.record.id)
        return nodes_for(info.context.principal, rows)


@node_type(models.Exploration, read=Public)
@strawberry.type(description="A search over scenarios, as a tree of nodes.")
class Exploration(Node):
    id: strawberry.ID
    goal: JSON
    config: JSON
    status: ExplorationStatus
    current_depth: int
    total_nodes: int
    total_llm_calls: BigInt = strawberry.field(
        description="LLM calls made by every node of the tree, summed (a decimal string: "
        "it can pass 32 bits)."
    )
    best_success_rate: float | None
    started_at: datetime
    completed_at: datetime | None
    record: strawberry.Private[models.Exploration]

    experiment: Experiment = node_field(
        RowsById(ExperimentRecord), "experiment_id", Experiment, nullable=False
    )
    baseline_analysis: AnalysisRunT = node_field(
        RowsById(models.AnalysisRun), "baseline_analysis_id", AnalysisRunT, nullable=False
    )

    @strawberry.field(description="The depth-0 node.")
    async def root(self, info: Info) -> ScenarioNode:
        async with info.context.db.read() as session:
            root = await session.scalar(
                select(N).where(N.exploration_id == self.record.id, N.parent_id.is_(None))
            )
        return node_for(info.context.principal, root)

    nodes = connection_field(
        Relation(N, "exploration_id"),
        ScenarioNodeT,
        NODE_ORDERING,
        filter=ScenarioNodeFilter,
        rules=NODE_RULES,
        order=ScenarioNodeOrder,
        description="Its nodes, by depth unless ordered.",
    )

    @strawberry.field(description="Root to the winner, or to the best-scoring node.")
    async def best_path(self, info: Info) -> list[ScenarioNode]:
        async with info.context.db.read() as session:
            best = await session.scalar(
                select(N)
                .where(N.exploration_id == self.record.id)
                .order_by(
                    (N.node_status == models.NodeStatus.WINNER).desc(),
                    trees.success_rate().desc().nulls_last(),
                    N.depth,
                    N.id,
                )
                .limit(1)
            )
        if best is None:
            return []
        path = await info.context.loader(Ancestors(N)).load(best.id)
        return nodes_for(info.context.principal, [*path, best])


explorations_of = connection_field(
    Relation(models.Exploration, "experiment_id"),
    Exploration,
    (SortKey("started_at", descending=True),),
    description="Its explorations, newest first.",
)
