"""GraphQL for exploration trees: explorations, scenario nodes, and the
mutations that grow them. Ancestors and descendants are one recursive
statement per batch of nodes (kernel ``Ancestors``/``Descendants`` loaders)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import Select, select

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.research import models, trees
from expgraph.errors import BadRequest
from expgraph.graphql.auth import Permission
from expgraph.graphql.bounds import capped
from expgraph.graphql.connections import connection_field, paged
from expgraph.graphql.context import Info
from expgraph.graphql.filters import Ordering, Rule, SortDirection
from expgraph.graphql.inputs import json_object, optional_text, values_given
from expgraph.graphql.loaders import Ancestors, Descendants, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.permissions import mutation, query_field
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, model_pk, node_type, to_node
from expgraph.graphql.scalars import JSON, BigInt
from expgraph.graphql.visibility import Public, node_for, nodes_for

if TYPE_CHECKING:
    from expgraph.domains.experiments.types import Experiment
    from expgraph.domains.research.types import AnalysisRun

ExperimentT = Annotated["Experiment", strawberry.lazy("expgraph.domains.experiments.types")]
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

    experiment: ExperimentT = node_field(
        RowsById(ExperimentRecord), "experiment_id", ExperimentT, nullable=False
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


@strawberry.input(description="A scenario: what changed, why, and how it scored.")
class ScenarioInput:
    scorecard_params: JSON
    action_applied: str | None = None
    action_category: str | None = None
    rationale: str | None = None
    short_action: str | None = None
    simulation_results: JSON | None = None
    execution_time_seconds: float | None = None
    llm_calls: int = 0
    node_status: NodeStatus = NodeStatus.ACTIVE


@strawberry.input
class CreateExplorationInput:
    experiment_id: strawberry.ID
    baseline_analysis_id: strawberry.ID
    goal: JSON
    config: JSON | None = None
    root: ScenarioInput


@strawberry.input
class ExpandNodeInput:
    parent_id: strawberry.ID
    children: list[ScenarioInput] = capped(trees.MAX_CHILDREN)


@strawberry.input
class SetNodeStatusInput:
    node_id: strawberry.ID
    status: NodeStatus


@strawberry.input
class FinishExplorationInput:
    exploration_id: strawberry.ID
    status: ExplorationStatus


@strawberry.type
class ExplorationPayload:
    exploration: Exploration


@strawberry.type
class ExpandNodePayload:
    exploration: Exploration
    children: list[ScenarioNode]


@strawberry.type
class ScenarioNodePayload:
    scenario_node: ScenarioNode


def _scenario(data: ScenarioInput) -> dict[str, Any]:
    values = values_given(data)
    values["scorecard_params"] = json_object(values["scorecard_params"], "scorecardParams")
    if values.get("simulation_results") is not None:
        results = json_object(values["simulation_results"], "simulationResults")
        rate = results.get("success_rate")
        if rate is not None and (not isinstance(rate, int | float) or not 0 <= rate <= 1):
            raise BadRequest("simulationResults.success_rate must be in [0, 1]")
    seconds = values.get("execution_time_seconds")
    if seconds is not None and seconds < 0:
        raise BadRequest("executionTimeSeconds must be >= 0")
    if values.get("llm_calls", 0) < 0:
        raise BadRequest("llmCalls must be >= 0")
    for field, limit in (("action_category", 100), ("short_action", 255)):
        if field in values:
            values[field] = optional_text(values[field], field, max_length=limit)
    return values


@strawberry.type
class Query:
    @query_field(description="Explorations, newest first.")
    @paged(Exploration, models.Exploration, (SortKey("started_at", descending=True),))
    def explorations(self, info: Info, experiment_id: strawberry.ID | None = None) -> Select[Any]:
        X = models.Exploration
        stmt = select(X)
        if experiment_id is not None:
            stmt = stmt.where(X.experiment_id == model_pk(experiment_id, ExperimentRecord))
        return stmt


@strawberry.type
class Mutation:
    @mutation(permission=Permission.WRITE, description="Start an exploration with its root node.")
    async def create_exploration(
        self, info: Info, input: CreateExplorationInput
    ) -> ExplorationPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        analysis_id = model_pk(input.baseline_analysis_id, models.AnalysisRun)
        root = _scenario(input.root)
        async with info.context.db.transaction() as session:
            exploration = await trees.create(
                session,
                experiment_id,
                analysis_id,
                json_object(input.goal, "goal"),
                json_object(input.config, "config"),
                root,
            )
        return ExplorationPayload(exploration=to_node(exploration))

    @mutation(permission=Permission.WRITE, description="Add a batch of children under a node.")
    async def expand_node(self, info: Info, input: ExpandNodeInput) -> ExpandNodePayload:
        parent_id = model_pk(input.parent_id, N)
        children = [_scenario(c) for c in input.children]
        async with info.context.db.transaction() as session:
            nodes = await trees.expand(session, parent_id, children)
            exploration = await session.get(
                models.Exploration, nodes[0].exploration_id, populate_existing=True
            )
        return ExpandNodePayload(
            exploration=to_node(exploration), children=[to_node(n) for n in nodes]
        )

    @mutation(permission=Permission.WRITE, description="Mark a node; one winner per exploration.")
    async def set_node_status(self, info: Info, input: SetNodeStatusInput) -> ScenarioNodePayload:
        node_id = model_pk(input.node_id, N)
        async with info.context.db.transaction() as session:
            node = await trees.set_status(session, node_id, input.status)
        return ScenarioNodePayload(scenario_node=to_node(node))

    @mutation(permission=Permission.WRITE, description="End a running exploration.")
    async def finish_exploration(
        self, info: Info, input: FinishExplorationInput
    ) -> ExplorationPayload:
        exploration_id = model_pk(input.exploration_id, models.Exploration)
        async with info.context.db.transaction() as session:
            exploration = await trees.finish(session, exploration_id, input.status)
        return ExplorationPayload(exploration=to_node(exploration))
