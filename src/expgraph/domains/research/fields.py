"""Research fields carried by ``ResearchExperiment``: defined here, attached there."""

from __future__ import annotations

from typing import Any

from expgraph.domains.research import models
from expgraph.domains.research.types import (
    AnalysisRun,
    ExperimentDocument,
    InterviewGuide,
    ResearchExecution,
)
from expgraph.graphql.connections import connection_field, load_node
from expgraph.graphql.context import Info
from expgraph.graphql.loaders import ChildLists, Relation
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.relay import to_node

ANALYSIS = ChildLists(Relation(models.AnalysisRun, "experiment_id"))
DOCUMENTS = ChildLists(Relation(models.ExperimentDocument, "experiment_id"), "document_type")


async def analysis_run(root: Any, info: Info) -> AnalysisRun | None:
    rows = await info.context.loader(ANALYSIS).load(root.record.id)
    return to_node(rows[0]) if rows else None


async def interview_guide(root: Any, info: Info) -> InterviewGuide | None:
    return await load_node(info, models.InterviewGuide, root.record.id)


async def documents(root: Any, info: Info) -> list[ExperimentDocument]:
    return [to_node(r) for r in await info.context.loader(DOCUMENTS).load(root.record.id)]


research_executions = connection_field(
    Relation(models.ResearchExecution, "experiment_id"),
    ResearchExecution,
    (SortKey("started_at", descending=True),),
    description="Its interview rounds.",
)
