"""``ResearchExperiment``: the research kind of experiment (a hypothesis tested
on synthetic users), with its explorations, analysis, interview guide, rounds
and documents."""

from __future__ import annotations

from typing import Any

import strawberry

from expgraph.domains.experiments import models as experiments
from expgraph.domains.experiments.types import EXPERIMENT_RENAMES, Experiment
from expgraph.domains.research import models
from expgraph.domains.research.explorations import explorations_of
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
from expgraph.graphql.relay import node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public, node_for

ANALYSIS = ChildLists(Relation(models.AnalysisRun, "experiment_id"))
DOCUMENTS = ChildLists(Relation(models.ExperimentDocument, "experiment_id"), "document_type")


async def _analysis_run(root: Any, info: Info) -> AnalysisRun | None:
    rows = await info.context.loader(ANALYSIS).load(root.record.id)
    return node_for(info.context.principal, rows[0]) if rows else None


@node_type(experiments.ResearchExperiment, read=Public, renames=EXPERIMENT_RENAMES)
@strawberry.type(description="A hypothesis tested on synthetic users.")
class ResearchExperiment(Experiment):
    hypothesis: str | None = strawberry.field(
        description=("The hypothesis under test, in words; null if not set.")
    )
    scorecard_data: JSON | None = strawberry.field(
        description=(
            "The feature scorecard the experiment evaluates (a JSON object); null if not set."
        )
    )

    explorations = explorations_of
    analysis_run = strawberry.field(resolver=_analysis_run, description="Its analysis.")
    interview_guide = node_field(
        RowsById(models.InterviewGuide),
        "id",
        InterviewGuide,
        description="How its synths are interviewed.",
    )
    research_executions = connection_field(
        Relation(models.ResearchExecution, "experiment_id"),
        ResearchExecution,
        (SortKey("started_at", descending=True),),
        description="Its interview rounds.",
    )
    documents = list_field(DOCUMENTS, ExperimentDocument, description="Generated documents.")
