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
from expgraph.graphql.connections import connection_field
from expgraph.graphql.context import Info
from expgraph.graphql.loaders import ChildLists, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import list_field, node_field
from expgraph.graphql.visibility import node_for

ANALYSIS = ChildLists(Relation(models.AnalysisRun, "experiment_id"))
DOCUMENTS = ChildLists(Relation(models.ExperimentDocument, "experiment_id"), "document_type")


async def analysis_run(root: Any, info: Info) -> AnalysisRun | None:
    rows = await info.context.loader(ANALYSIS).load(root.record.id)
    return node_for(info.context.principal, rows[0]) if rows else None


interview_guide = node_field(
    RowsById(models.InterviewGuide),
    "id",
    InterviewGuide,
    description="How its synths are interviewed.",
)
documents = list_field(DOCUMENTS, ExperimentDocument, description="Generated documents.")


research_executions = connection_field(
    Relation(models.ResearchExecution, "experiment_id"),
    ResearchExecution,
    (SortKey("started_at", descending=True),),
    description="Its interview rounds.",
)
