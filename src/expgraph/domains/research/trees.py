"""Exploration trees: creating, expanding, judging and finishing.

An exploration's counters (total nodes, current depth, LLM calls, best success
rate) are recomputed from its nodes in the same transaction as every expansion,
after the exploration row is locked: they always equal what the nodes say, also
when expansions run concurrently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.jsonsql import RenamedKey
from expgraph.db.types import utcnow
from expgraph.domains.experiments.models import ResearchExperiment
from expgraph.domains.research import models
from expgraph.errors import BadRequest, Conflict, NotFound

X = models.Exploration
N = models.ScenarioNode
MAX_CHILDREN = 100
FINAL = {s for s in models.ExplorationStatus if s is not models.ExplorationStatus.RUNNING}


# A scenario node's simulation results are the client's JSON object, but for one
# key expgraph reads (to rank nodes): ``successRate`` in GraphQL, stored as
# ``success_rate`` (what the database's JSON path reads). Converted here only.
RATE_KEY, STORED_RATE_KEY = "successRate", "success_rate"


def stored_results(results: dict[str, Any]) -> dict[str, Any]:
    """Simulation results as stored: ``successRate`` under its database key."""
    if RATE_KEY not in results:
        return results
    stored = {k: v for k, v in results.items() if k != RATE_KEY}
    stored[STORED_RATE_KEY] = results[RATE_KEY]
    return stored


def shown_results(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """Simulation results as GraphQL shows them: the stored rate as ``successRate``."""
    if not isinstance(stored, dict) or STORED_RATE_KEY not in stored:
        return stored  # also what only a hand-written row holds (a list, a number)
    shown = {k: v for k, v in stored.items() if k != STORED_RATE_KEY}
    shown[RATE_KEY] = stored[STORED_RATE_KEY]
    return shown


def shown_results_sql(row: Any, _settings: Any) -> Any:
    """``shown_results`` in SQL (the read-query compiler's rule)."""
    return RenamedKey(row.simulation_results, STORED_RATE_KEY, RATE_KEY)


def success_rate(node: Any = N) -> Any:
    """The node's simulated success rate (``simulationResults.successRate``)."""
    return node.simulation_results[STORED_RATE_KEY].as_float()


async def create(
    session: AsyncSession,
    experiment_id: int,
    analysis_id: int,
    goal: dict[str, Any],
    config: dict[str, Any],
    root: dict[str, Any],
) -> models.Exploration:
    experiment = await session.get(ResearchExperiment, experiment_id)
    if experiment is None or experiment.deleted_at is not None:
        raise NotFound("no research experiment with that id", field="experimentId")
    analysis = await session.get(models.AnalysisRun, analysis_id)
    if analysis is None:
        raise NotFound("no analysis run with that id", field="baselineAnalysisId")
    if analysis.experiment_id != experiment_id:
        raise BadRequest("the baseline analysis belongs to another experiment")
    exploration = X(
        experiment_id=experiment_id, baseline_analysis_id=analysis_id, goal=goal, config=config
    )
    session.add(exploration)
    await session.flush()
    session.add(N(exploration_id=exploration.id, parent_id=None, depth=0, **root))
    await session.flush()
    await _recount(session, exploration.id)
    await session.refresh(exploration)
    return exploration


async def _lock(session: AsyncSession, exploration_id: int) -> models.Exploration:
    exploration = (
        await session.scalars(select(X).where(X.id == exploration_id).with_for_update())
    ).first()
    if exploration is None:
        raise NotFound("no exploration with that id")
    return exploration


async def _recount(session: AsyncSession, exploration_id: int) -> None:
    of_this = N.exploration_id == exploration_id
    await session.execute(
        update(X)
        .where(X.id == exploration_id)
        .values(
            total_nodes=select(func.count(N.id)).where(of_this).scalar_subquery(),
            current_depth=select(func.coalesce(func.max(N.depth), 0))
            .where(of_this)
            .scalar_subquery(),
            total_llm_calls=select(func.coalesce(func.sum(N.llm_calls), 0))
            .where(of_this)
            .scalar_subquery(),
            best_success_rate=select(func.max(success_rate())).where(of_this).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )


async def expand(
    session: AsyncSession, parent_id: int, children: Sequence[dict[str, Any]]
) -> list[models.ScenarioNode]:
    """Add a batch of children under a node (depth = parent's + 1, set here)."""
    if not children:
        raise BadRequest("children must not be empty", field="children")
    if len(children) > MAX_CHILDREN:
        raise BadRequest(f"at most {MAX_CHILDREN} children per call", field="children")
    parent = await session.get(N, parent_id)
    if parent is None:
        raise NotFound("no scenario node with that id", field="parentId")
    exploration = await _lock(session, parent.exploration_id)
    if exploration.status is not models.ExplorationStatus.RUNNING:
        raise Conflict("the exploration is finished; it cannot grow")
    nodes = [
        N(
            exploration_id=parent.exploration_id,
            parent_id=parent.id,
            depth=parent.depth + 1,
            **child,
        )
        for child in children
    ]
    session.add_all(nodes)
    await session.flush()
    await _recount(session, parent.exploration_id)
    return nodes


async def set_status(
    session: AsyncSession, node_id: int, status: models.NodeStatus
) -> models.ScenarioNode:
    node = await session.get(N, node_id)
    if node is None:
        raise NotFound("no scenario node with that id")
    await _lock(session, node.exploration_id)
    if status is models.NodeStatus.WINNER:
        winner = await session.scalar(
            select(N.id).where(
                N.exploration_id == node.exploration_id,
                N.node_status == models.NodeStatus.WINNER,
                N.id != node.id,
            )
        )
        if winner is not None:
            raise Conflict("the exploration already has a winner; demote it first")
    node.node_status = status
    await session.flush()
    return node


async def finish(
    session: AsyncSession, exploration_id: int, status: models.ExplorationStatus
) -> models.Exploration:
    if status not in FINAL:
        raise BadRequest(
            "finish with GOAL_ACHIEVED, DEPTH_LIMIT_REACHED, COST_LIMIT_REACHED or NO_VIABLE_PATHS",
            field="status",
        )
    finished = (
        await session.scalars(
            update(X)
            .where(X.id == exploration_id, X.status == models.ExplorationStatus.RUNNING)
            .values(status=status, completed_at=utcnow())
            .returning(X)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if finished is not None:
        return finished
    if await session.get(X, exploration_id) is None:
        raise NotFound("no exploration with that id")
    raise Conflict("the exploration is already finished")
