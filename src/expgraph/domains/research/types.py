"""GraphQL types for research: synths, analyses and outcomes, interviews,
documents and insights. (Explorations live in ``explorations.py``.)"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.experiments.types import Experiment
from expgraph.domains.research import models
from expgraph.domains.simulation.models import SimulationRun as SimulationRunRecord
from expgraph.graphql.connections import connection_field
from expgraph.graphql.context import Info
from expgraph.graphql.filters import Rule, escape_like
from expgraph.graphql.loaders import ChildLists, Relation, RowsById
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.prefetch import node_field
from expgraph.graphql.relay import Node, model_pk, node_type
from expgraph.graphql.scalars import JSON
from expgraph.graphql.visibility import Public

if TYPE_CHECKING:
    from expgraph.domains.simulation.types import SimulationRun

SimulationRunT = Annotated["SimulationRun", strawberry.lazy("expgraph.domains.simulation.types")]
# This module's own type, for a field declared before the type it shows.
SynthGroupT = Annotated["SynthGroup", strawberry.lazy(__name__)]

for _enum, _text in (
    (models.AnalysisStatus, "Where an analysis run stands."),
    (models.ResearchStatus, "Where a research execution stands."),
    (models.DocumentType, "Kinds of generated experiment documents."),
    (models.DocumentStatus, "Generation status of a document."),
):
    strawberry.enum(_enum, description=_text)
AnalysisStatus = models.AnalysisStatus
ResearchStatus = models.ResearchStatus
DocumentType = models.DocumentType
DocumentStatus = models.DocumentStatus
OLDEST = (SortKey("id"),)


def _experiment() -> Any:
    return node_field(RowsById(ExperimentRecord), "experiment_id", Experiment)


@node_type(models.Synth, read=Public, renames={"name": "nome", "description": "descricao"})
@strawberry.type(description="A synthetic user: a persona the research interviews and analyses.")
class Synth(Node):
    id: strawberry.ID
    name: str
    description: str | None
    link_photo: str | None
    avatar_path: str | None
    version: str
    data: JSON | None = strawberry.field(description="All of the synth's attributes.")
    created_at: datetime
    record: strawberry.Private[models.Synth]

    group: SynthGroupT | None = node_field(
        RowsById(models.SynthGroup), "synth_group_id", SynthGroupT
    )


@node_type(models.SynthGroup, read=Public)
@strawberry.type(description="A named group of synths.")
class SynthGroup(Node):
    id: strawberry.ID
    name: str
    description: str | None
    created_at: datetime
    record: strawberry.Private[models.SynthGroup]

    synths = connection_field(Relation(models.Synth, "synth_group_id"), Synth)


@node_type(models.SynthOutcome, read=Public)
@strawberry.type(description="How one synth fared in an analysis; the three rates sum to 1.")
class SynthOutcome(Node):
    id: strawberry.ID
    did_not_try_rate: float
    failed_rate: float
    success_rate: float
    synth_attributes: JSON | None
    record: strawberry.Private[models.SynthOutcome]

    synth: Synth = node_field(RowsById(models.Synth), "synth_id", Synth, nullable=False)


@strawberry.type(description="A cached computation of an analysis.")
class AnalysisCacheEntry:
    cache_key: str
    data: JSON
    params: JSON | None
    computed_at: datetime


def cache_entry(row: models.AnalysisCache) -> AnalysisCacheEntry:
    return AnalysisCacheEntry(
        cache_key=row.cache_key,
        data=JSON(row.data),
        params=JSON(row.params) if row.params is not None else None,
        computed_at=row.computed_at,
    )


CACHE = ChildLists(Relation(models.AnalysisCache, "analysis_id"), "cache_key")


@node_type(models.AnalysisRun, read=Public)
@strawberry.type(description="The analysis of a research experiment (at most one).")
class AnalysisRun(Node):
    id: strawberry.ID
    scenario_id: str
    config: JSON
    status: AnalysisStatus
    started_at: datetime
    completed_at: datetime | None
    total_synths: int
    aggregated_outcomes: JSON | None
    execution_time_seconds: float | None
    record: strawberry.Private[models.AnalysisRun]
    experiment: Experiment | None = _experiment()

    outcomes = connection_field(Relation(models.SynthOutcome, "analysis_id"), SynthOutcome)

    @strawberry.field
    async def cache(self, info: Info) -> list[AnalysisCacheEntry]:
        rows = await info.context.loader(CACHE).load(self.record.id)
        return [cache_entry(r) for r in rows]


@node_type(models.Transcript, read=Public)
@strawberry.type(description="One synth's interview in a research execution.")
class Transcript(Node):
    id: strawberry.ID
    synth_name: str
    status: str
    turn_count: int = strawberry.field(description="Equals the number of messages.")
    timestamp: datetime
    messages: JSON
    record: strawberry.Private[models.Transcript]

    synth: Synth = node_field(RowsById(models.Synth), "synth_id", Synth, nullable=False)


@node_type(models.ResearchExecution, read=Public)
@strawberry.type(description="A round of interviews with synths.")
class ResearchExecution(Node):
    id: strawberry.ID
    topic_name: str
    status: ResearchStatus
    synth_count: int
    successful_count: int = strawberry.field(description="Transcripts completed.")
    failed_count: int = strawberry.field(description="Transcripts failed.")
    model: str
    max_turns: int
    started_at: datetime
    completed_at: datetime | None
    additional_context: str | None
    record: strawberry.Private[models.ResearchExecution]
    experiment: Experiment | None = _experiment()

    transcripts = connection_field(Relation(models.Transcript, "exec_id"), Transcript)


@node_type(models.InterviewGuide, read=Public)
@strawberry.type(description="How synths of an experiment are interviewed (one per experiment).")
class InterviewGuide(Node):
    id: strawberry.ID
    context_definition: str | None
    questions: str | None
    context_examples: str | None
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.InterviewGuide]


@node_type(models.ExperimentDocument, read=Public, renames={"metadata": "metadata_"})
@strawberry.type(description="A generated document (one per experiment and type).")
class ExperimentDocument(Node):
    id: strawberry.ID
    document_type: DocumentType
    markdown_content: str
    metadata: JSON | None
    generated_at: datetime
    model: str
    status: DocumentStatus
    error_message: str | None
    record: strawberry.Private[models.ExperimentDocument]


@node_type(models.ChartInsight, read=Public)
@strawberry.type(description="An LLM insight on a chart (one per simulation and type).")
class ChartInsight(Node):
    id: strawberry.ID
    insight_type: str
    response_json: JSON
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.ChartInsight]
    simulation_run: SimulationRunT | None = node_field(
        RowsById(SimulationRunRecord),
        "simulation_id",
        SimulationRunT,
        description="The simulation run the insight is about (null once that run is gone).",
    )


@node_type(models.SensitivityResult, read=Public)
@strawberry.type(description="How sensitive a simulation's success is to each dimension.")
class SensitivityResult(Node):
    id: strawberry.ID
    analyzed_at: datetime
    deltas_used: JSON
    baseline_success: float
    most_sensitive_dimension: str
    dimensions: JSON
    created_at: datetime
    record: strawberry.Private[models.SensitivityResult]


@node_type(models.RegionAnalysis, read=Public)
@strawberry.type(description="A region of synths with its rates.")
class RegionAnalysis(Node):
    id: strawberry.ID
    rules: JSON
    rule_text: str
    synth_count: int
    synth_percentage: float
    did_not_try_rate: float
    failed_rate: float
    success_rate: float
    failure_delta: float
    record: strawberry.Private[models.RegionAnalysis]


@strawberry.input
class SynthFilter:
    group_id: strawberry.ID | None = None
    name_contains: str | None = None
    and_: list[SynthFilter] | None = strawberry.field(name="and", default=None)
    or_: list[SynthFilter] | None = strawberry.field(name="or", default=None)
    not_: SynthFilter | None = strawberry.field(name="not", default=None)


@strawberry.input
class ResearchExecutionFilter:
    statuses: list[ResearchStatus] | None = None
    experiment_id: strawberry.ID | None = None
    topic_contains: str | None = None
    and_: list[ResearchExecutionFilter] | None = strawberry.field(name="and", default=None)
    or_: list[ResearchExecutionFilter] | None = strawberry.field(name="or", default=None)
    not_: ResearchExecutionFilter | None = strawberry.field(name="not", default=None)


Sy, Ex = models.Synth, models.ResearchExecution
SYNTH_RULES: dict[str, Rule] = {
    "group_id": lambda v: Sy.synth_group_id == model_pk(v, models.SynthGroup),
    "name_contains": lambda v: Sy.nome.ilike(f"%{escape_like(v)}%", escape="\\"),
}
EXECUTION_RULES: dict[str, Rule] = {
    "statuses": lambda v: Ex.status.in_(v),
    "experiment_id": lambda v: Ex.experiment_id == model_pk(v, ExperimentRecord),
    "topic_contains": lambda v: Ex.topic_name.ilike(f"%{escape_like(v)}%", escape="\\"),
}
