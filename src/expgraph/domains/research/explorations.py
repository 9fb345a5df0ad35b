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
from sqlalchemy.sql.elements import ColumnElement

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.domains.research import models, trees
from expgraph.errors import BadRequest
from expgraph.graphql.connections import connection_field
from expgraph.graphql.context import Info
from expgraph.graphql.enums import described_enum
from expgraph.graphql.filters import Ordering, Rule, SortDirection
from expgraph.graphql.loaders import (
    Ancestors,
    Descendants,
    FirstChild,
    Narrowing,
    Relation,
    RowsById,
)
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import computed, node_field
from expgraph.graphql.relay import Node, node_type
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public, nodes_for

if TYPE_CHECKING:
    from expgraph.domains.research.types import AnalysisRun

AnalysisRunT = Annotated["AnalysisRun", strawberry.lazy("expgraph.domains.research.types")]
# This module's own types, for fields declared before the type they show.
ExplorationT = Annotated["Exploration", strawberry.lazy(__name__)]
ScenarioNodeT = Annotated["ScenarioNode", strawberry.lazy(__name__)]
N = models.ScenarioNode
MAX_DESCENDANT_DEPTH = 20

ExplorationStatus = models.ExplorationStatus
described_enum(
    ExplorationStatus,
    "Running, or how the exploration ended.",
    {
        ExplorationStatus.RUNNING: "Still expanding nodes.",
        ExplorationStatus.GOAL_ACHIEVED: "Ended: a node reached the goal.",
        ExplorationStatus.DEPTH_LIMIT_REACHED: "Ended: the tree reached its maximum depth.",
        ExplorationStatus.COST_LIMIT_REACHED: "Ended: it spent its LLM-call budget.",
        ExplorationStatus.NO_VIABLE_PATHS: "Ended: no node was left worth expanding.",
    },
)
NodeStatus = models.NodeStatus
described_enum(
    NodeStatus,
    "A node's standing in its exploration.",
    {
        NodeStatus.ACTIVE: "Still a candidate: it may be expanded.",
        NodeStatus.DOMINATED: "Set aside: another node does better.",
        NodeStatus.WINNER: "The exploration's best node (at most one per exploration).",
        NodeStatus.EXPANSION_FAILED: "Expanding it failed; it has no children from that attempt.",
    },
)


@strawberry.input(description="Conditions on scenario nodes.")
class ScenarioNodeFilter:
    statuses: list[NodeStatus] | None = strawberry.field(
        default=None, description=("Only nodes in one of these statuses.")
    )
    depth: int | None = strawberry.field(
        default=None, description=("Only nodes at exactly this depth (the root is 0).")
    )
    min_depth: int | None = strawberry.field(
        default=None, description=("Only nodes at this depth or deeper.")
    )
    max_depth: int | None = strawberry.field(
        default=None, description=("Only nodes at this depth or shallower.")
    )
    and_: list[ScenarioNodeFilter] | None = strawberry.field(
        name="and", default=None, description=("Every one of these filters must match.")
    )
    or_: list[ScenarioNodeFilter] | None = strawberry.field(
        name="or", default=None, description=("At least one of these filters must match.")
    )
    not_: ScenarioNodeFilter | None = strawberry.field(
        name="not", default=None, description=("This filter must not match.")
    )


@strawberry.enum(description="What scenario nodes can be sorted by.")
class ScenarioNodeOrderField(enum.Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="When the node was added.")
    DEPTH = strawberry.enum_value("depth", description="Levels below the root.")


@strawberry.input(description="How to sort scenario nodes.")
class ScenarioNodeOrder:
    field: ScenarioNodeOrderField = strawberry.field(description="The value to sort by.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description=("Ascending (the default) or descending.")
    )


NODE_RULES: dict[str, Rule] = {
    "statuses": lambda v: N.node_status.in_(v),
    "depth": lambda v: N.depth == v,
    "min_depth": lambda v: N.depth >= v,
    "max_depth": lambda v: N.depth <= v,
}
NODE_ORDERING = Ordering(
    {f: str(f.value) for f in ScenarioNodeOrderField}, (SortKey("depth"), SortKey("created_at"))
)
CHILDREN = Relation(N, "parent_id")


def _is_root() -> ColumnElement[bool]:
    return N.parent_id.is_(None)


ROOTS = Relation(N, "exploration_id", narrowings=(Narrowing.fixed(_is_root),))


@node_type(models.ScenarioNode, read=Public)
@strawberry.type(description="One scenario in an exploration tree.")
class ScenarioNode(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    depth: int = strawberry.field(description="Levels below the root; the root is 0.")
    action_applied: str | None = strawberry.field(
        description=(
            "The change this scenario applies to its parent's, in words; null for the root."
        )
    )
    action_category: str | None = strawberry.field(
        description=(
            "The kind of change, a free-form label of at most 100 characters; null if not given."
        )
    )
    rationale: str | None = strawberry.field(
        description=("Why the change was tried; null if not given.")
    )
    short_action: str | None = strawberry.field(
        description=(
            "A short label for the change (at most 255 characters), for charts; null if not given."
        )
    )
    scorecard_params: JSON = strawberry.field(
        description=("The scorecard parameters this scenario simulates (a JSON object).")
    )
    execution_time_seconds: float | None = strawberry.field(
        description=("Seconds spent simulating this scenario; null if not reported.")
    )
    llm_calls: int = strawberry.field(description="LLM calls made to produce this scenario.")
    node_status: NodeStatus = strawberry.field(
        description=("ACTIVE, DOMINATED, WINNER (at most one per exploration) or EXPANSION_FAILED.")
    )
    created_at: datetime = strawberry.field(description="When the node was added.")
    record: strawberry.Private[models.ScenarioNode]

    @strawberry.field(
        description="What simulating this scenario gave (a JSON object as sent; its successRate, "
        "from 0 to 1, ranks nodes); null until simulated."
    )
    @computed(trees.shown_results_sql)
    def simulation_results(self) -> JSON | None:
        shown = trees.shown_results(self.record.simulation_results)
        return JSON(shown) if shown is not None else None

    exploration: ExplorationT = node_field(
        RowsById(models.Exploration),
        "exploration_id",
        ExplorationT,
        nullable=False,
        description="The exploration this node belongs to.",
    )
    parent: ScenarioNodeT | None = node_field(
        RowsById(N),
        "parent_id",
        ScenarioNodeT,
        description=("The node it was expanded from; null for the root."),
    )

    children = connection_field(
        CHILDREN, ScenarioNodeT, (SortKey("created_at"),), description="Its children, oldest first."
    )

    @strawberry.field(description="The path from the root down to its parent.")
    async def ancestors(self, info: Info) -> list[ScenarioNode]:
        rows = await info.context.loader(Ancestors(N)).load(self.record.id)
        return nodes_for(info.context.principal, rows)

    @strawberry.field(description="Everything below it, at most maxDepth levels down.")
    async def descendants(
        self,
        info: Info,
        max_depth: Annotated[
            int, strawberry.argument(description="How many levels down to go, from 1 to 20.")
        ] = 3,
    ) -> list[ScenarioNode]:
        if not 1 <= max_depth <= MAX_DESCENDANT_DEPTH:
            raise BadRequest(f"maxDepth must be 1..{MAX_DESCENDANT_DEPTH}")
        rows = await info.context.loader(Descendants(N, max_depth)).load(self.record.id)
        return nodes_for(info.context.principal, rows)


@node_type(models.Exploration, read=Public)
@strawberry.type(description="A search over scenarios, as a tree of nodes.")
class Exploration(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    goal: JSON = strawberry.field(
        description=("What the exploration aims for (a JSON object, as given at creation).")
    )
    config: JSON = strawberry.field(
        description=("The exploration's settings (a JSON object, empty if none was given).")
    )
    status: ExplorationStatus = strawberry.field(
        description=("running until finishExploration, then how it ended.")
    )
    current_depth: int = strawberry.field(
        description=("Depth of its deepest node, kept equal to the nodes.")
    )
    total_nodes: int = strawberry.field(description="Number of nodes in the tree, root included.")
    total_llm_calls: BigInt = strawberry.field(
        description="LLM calls made by every node of the tree, summed (a decimal string: "
        "it can pass 32 bits)."
    )
    best_success_rate: float | None = strawberry.field(
        description=(
            "The best simulationResults.successRate among its nodes; null while no node has one."
        )
    )
    started_at: datetime = strawberry.field(description="When the exploration was created.")
    completed_at: datetime | None = strawberry.field(
        description=("When it was finished; null while running.")
    )
    record: strawberry.Private[models.Exploration]

    experiment: Experiment = node_field(
        RowsById(ExperimentRecord),
        "experiment_id",
        Experiment,
        nullable=False,
        description="The research experiment explored.",
    )
    baseline_analysis: AnalysisRunT = node_field(
        RowsById(models.AnalysisRun),
        "baseline_analysis_id",
        AnalysisRunT,
        nullable=False,
        description="The analysis run the exploration starts from.",
    )

    root: ScenarioNodeT = node_field(
        FirstChild(ROOTS), "id", ScenarioNodeT, nullable=False, description="The depth-0 node."
    )

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
