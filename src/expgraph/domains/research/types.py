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
from expgraph.graphql.enums import described_enum
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

AnalysisStatus = models.AnalysisStatus
ResearchStatus = models.ResearchStatus
DocumentType = models.DocumentType
DocumentStatus = models.DocumentStatus
TranscriptStatus = models.TranscriptStatus
described_enum(
    TranscriptStatus,
    "Where one synth's interview stands; COMPLETED and FAILED transcripts are counted "
    "in their execution's successfulCount and failedCount.",
    {
        TranscriptStatus.PENDING: "Not started.",
        TranscriptStatus.RUNNING: "The interview is under way.",
        TranscriptStatus.COMPLETED: "The interview finished; counted as a success.",
        TranscriptStatus.FAILED: "The interview ended by an error; counted as a failure.",
    },
)
described_enum(
    AnalysisStatus,
    "Where an analysis run stands.",
    {
        AnalysisStatus.PENDING: "Created, not started.",
        AnalysisStatus.RUNNING: "Under way.",
        AnalysisStatus.COMPLETED: "Finished; its results are set.",
        AnalysisStatus.FAILED: "Ended by an error.",
    },
)
described_enum(
    ResearchStatus,
    "Where a research execution (a round of interviews) stands.",
    {
        ResearchStatus.PENDING: "Created, not started.",
        ResearchStatus.RUNNING: "Interviews under way.",
        ResearchStatus.GENERATING_SUMMARY: "Interviews done; the summary is being written.",
        ResearchStatus.COMPLETED: "Finished, summary included.",
        ResearchStatus.FAILED: "Ended by an error.",
    },
)
described_enum(
    DocumentType,
    "Kinds of generated experiment documents.",
    {
        DocumentType.SUMMARY: "A summary of the findings.",
        DocumentType.PRFAQ: "A press release with frequently asked questions (PR/FAQ).",
        DocumentType.EXECUTIVE_SUMMARY: "A short summary for decision makers.",
    },
)
described_enum(
    DocumentStatus,
    "Generation status of a document.",
    {
        DocumentStatus.PENDING: "Asked for, not started.",
        DocumentStatus.GENERATING: "Being written.",
        DocumentStatus.COMPLETED: "Written in full.",
        DocumentStatus.FAILED: "Generation failed; no usable content.",
        DocumentStatus.PARTIAL: "Generation stopped early; the content is incomplete.",
    },
)
OLDEST = (SortKey("id"),)


def _experiment() -> Any:
    return node_field(RowsById(ExperimentRecord), "experiment_id", Experiment)


@node_type(models.Synth, read=Public, renames={"name": "nome", "description": "descricao"})
@strawberry.type(description="A synthetic user: a persona the research interviews and analyses.")
class Synth(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    name: str = strawberry.field(description="The synth's display name.")
    description: str | None = strawberry.field(
        description=("A short portrait of the synth in prose; null if none.")
    )
    link_photo: str | None = strawberry.field(description="URL of the synth's photo; null if none.")
    avatar_path: str | None = strawberry.field(
        description=("Path of the synth's avatar image on the server; null if none.")
    )
    version: str = strawberry.field(
        description=('Version of the synth format its data follows, e.g. "2.0.0".')
    )
    data: JSON | None = strawberry.field(description="All of the synth's attributes.")
    created_at: datetime = strawberry.field(description="When the synth was created.")
    record: strawberry.Private[models.Synth]

    group: SynthGroupT | None = node_field(
        RowsById(models.SynthGroup),
        "synth_group_id",
        SynthGroupT,
        description="The group it belongs to; null if ungrouped or the group was deleted.",
    )


@node_type(models.SynthGroup, read=Public)
@strawberry.type(description="A named group of synths.")
class SynthGroup(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    name: str = strawberry.field(description="The group's display name.")
    description: str | None = strawberry.field(description="What the group is for; null if none.")
    created_at: datetime = strawberry.field(description="When the group was created.")
    record: strawberry.Private[models.SynthGroup]

    synths = connection_field(
        Relation(models.Synth, "synth_group_id"), Synth, description="The synths of the group."
    )


@node_type(models.SynthOutcome, read=Public)
@strawberry.type(description="How one synth fared in an analysis; the three rates sum to 1.")
class SynthOutcome(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    did_not_try_rate: float = strawberry.field(
        description=("Share of attempts the synth did not try, from 0 to 1.")
    )
    failed_rate: float = strawberry.field(description="Share of attempts that failed, from 0 to 1.")
    success_rate: float = strawberry.field(
        description=("Share of attempts that succeeded, from 0 to 1.")
    )
    synth_attributes: JSON | None = strawberry.field(
        description=(
            "The synth attributes used for this outcome (a JSON object); null if not recorded."
        )
    )
    record: strawberry.Private[models.SynthOutcome]

    synth: Synth = node_field(
        RowsById(models.Synth),
        "synth_id",
        Synth,
        nullable=False,
        description=("The synth this outcome is for."),
    )


@strawberry.type(description="A cached computation of an analysis.")
class AnalysisCacheEntry:
    cache_key: str = strawberry.field(
        description=("The key the computation is stored under, unique within its analysis.")
    )
    data: JSON = strawberry.field(description="The computed result.")
    params: JSON | None = strawberry.field(
        description=("The parameters the result was computed with; null if none.")
    )
    computed_at: datetime = strawberry.field(description="When the result was last stored.")


def cache_entry(row: models.AnalysisCache) -> AnalysisCacheEntry:
    return AnalysisCacheEntry(
        cache_key=row.cache_key,
        data=JSON(row.data),
        params=JSON(row.params) if row.params is not None else None,
        computed_at=row.computed_at,
    )


CACHE = ChildLists(Relation(models.AnalysisCache, "analysis_id"), "cache_key")


@strawberry.type(description="What the synth outcomes of a completed analysis add up to.")
class OutcomeSummary:
    count: int = strawberry.field(description="How many synth outcomes were aggregated.")
    mean_did_not_try_rate: float | None = strawberry.field(
        description="Mean didNotTryRate of the outcomes, 0 to 1; null with no outcomes."
    )
    mean_failed_rate: float | None = strawberry.field(
        description="Mean failedRate of the outcomes, 0 to 1; null with no outcomes."
    )
    mean_success_rate: float | None = strawberry.field(
        description="Mean successRate of the outcomes, 0 to 1; null with no outcomes."
    )

    @classmethod
    def stored(cls, data: dict[str, Any] | None) -> OutcomeSummary | None:
        """From the stored JSON object (``complete_analysis`` writes its keys)."""
        if data is None:
            return None
        return cls(
            count=int(data.get("count") or 0),
            mean_did_not_try_rate=data.get("mean_did_not_try_rate"),
            mean_failed_rate=data.get("mean_failed_rate"),
            mean_success_rate=data.get("mean_success_rate"),
        )


@node_type(models.AnalysisRun, read=Public)
@strawberry.type(description="The analysis of a research experiment (at most one).")
class AnalysisRun(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    scenario_id: str = strawberry.field(
        description=('The scenario analysed, "baseline" unless another was given.')
    )
    config: JSON = strawberry.field(
        description=("The analysis configuration (a JSON object, empty if none was given).")
    )
    status: AnalysisStatus = strawberry.field(
        description=("Where the analysis stands: pending, running, completed or failed.")
    )
    started_at: datetime = strawberry.field(
        description=("When it was created, then when it started running.")
    )
    completed_at: datetime | None = strawberry.field(
        description=("When it completed or failed; null until then.")
    )
    total_synths: int = strawberry.field(
        description=("Number of synth outcomes aggregated; 0 until it completes.")
    )
    execution_time_seconds: float | None = strawberry.field(
        description=("Seconds from start to completion; null until it completes.")
    )
    record: strawberry.Private[models.AnalysisRun]

    @strawberry.field(
        description="Count and mean rates of its synth outcomes, set when it completes; "
        "null until then."
    )
    def aggregated_outcomes(self) -> OutcomeSummary | None:
        return OutcomeSummary.stored(self.record.aggregated_outcomes)

    experiment: Experiment | None = strawberry.field(
        default=_experiment(),
        description=("The research experiment analysed; null if you may not see it."),
    )

    outcomes = connection_field(
        Relation(models.SynthOutcome, "analysis_id"),
        SynthOutcome,
        description="How each synth fared, one outcome per synth.",
    )

    @strawberry.field(description="Cached computations of this analysis, by key.")
    async def cache(self, info: Info) -> list[AnalysisCacheEntry]:
        rows = await info.context.loader(CACHE).load(self.record.id)
        return [cache_entry(r) for r in rows]


@node_type(models.Transcript, read=Public)
@strawberry.type(description="One synth's interview in a research execution.")
class Transcript(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    synth_name: str = strawberry.field(description="The synth's name when the interview began.")
    status: TranscriptStatus = strawberry.field(description="Where the interview stands.")
    turn_count: int = strawberry.field(description="Equals the number of messages.")
    timestamp: datetime = strawberry.field(description="When the transcript was started.")
    messages: JSON = strawberry.field(
        description=(
            "The interview's messages in order (a JSON list; each message as the writer sent it)."
        )
    )
    record: strawberry.Private[models.Transcript]

    synth: Synth = node_field(
        RowsById(models.Synth),
        "synth_id",
        Synth,
        nullable=False,
        description=("The synth interviewed."),
    )


@node_type(models.ResearchExecution, read=Public)
@strawberry.type(description="A round of interviews with synths.")
class ResearchExecution(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    topic_name: str = strawberry.field(description="What the interviews are about.")
    status: ResearchStatus = strawberry.field(
        description=(
            "Where the round stands: pending, running, generating_summary, completed or failed."
        )
    )
    synth_count: int = strawberry.field(description="Number of synths meant to be interviewed.")
    successful_count: int = strawberry.field(description="Transcripts completed.")
    failed_count: int = strawberry.field(description="Transcripts failed.")
    model: str = strawberry.field(
        description=('The LLM used for the interviews, e.g. "gpt-4o-mini".')
    )
    max_turns: int = strawberry.field(description="Most turns an interview may take, 1 or more.")
    started_at: datetime = strawberry.field(description="When the round was created.")
    completed_at: datetime | None = strawberry.field(
        description=("When it completed or failed; null until then.")
    )
    additional_context: str | None = strawberry.field(
        description=("Extra context given to the interviewer; null if none.")
    )
    record: strawberry.Private[models.ResearchExecution]
    experiment: Experiment | None = strawberry.field(
        default=_experiment(),
        description=("The research experiment it belongs to; null if none or you may not see it."),
    )

    transcripts = connection_field(
        Relation(models.Transcript, "exec_id"),
        Transcript,
        description="One transcript per synth interviewed.",
    )


@node_type(models.InterviewGuide, read=Public)
@strawberry.type(description="How synths of an experiment are interviewed (one per experiment).")
class InterviewGuide(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; the guide has the same number as its experiment.")
    )
    context_definition: str | None = strawberry.field(
        description=("The context the interviewer sets for the synths; null if not set.")
    )
    questions: str | None = strawberry.field(
        description=("The questions to ask, as text; null if not set.")
    )
    context_examples: str | None = strawberry.field(
        description=("Examples of the context, as text; null if not set.")
    )
    created_at: datetime = strawberry.field(description="When the guide was first saved.")
    updated_at: datetime = strawberry.field(description="When the guide was last replaced.")
    record: strawberry.Private[models.InterviewGuide]


@node_type(models.ExperimentDocument, read=Public, renames={"metadata": "metadata_"})
@strawberry.type(description="A generated document (one per experiment and type).")
class ExperimentDocument(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    document_type: DocumentType = strawberry.field(
        description=("Which document this is: summary, prfaq or executive_summary.")
    )
    markdown_content: str = strawberry.field(
        description=("The document, as Markdown; empty until generated.")
    )
    metadata: JSON | None = strawberry.field(
        description=("Generation details (a JSON object); null if none.")
    )
    generated_at: datetime = strawberry.field(description="When the document was first stored.")
    model: str = strawberry.field(description='The LLM that generated it, e.g. "gpt-4o-mini".')
    status: DocumentStatus = strawberry.field(
        description=("Generation status: pending, generating, completed, failed or partial.")
    )
    error_message: str | None = strawberry.field(
        description=("Why generation failed; null unless it failed.")
    )
    record: strawberry.Private[models.ExperimentDocument]


@node_type(models.ChartInsight, read=Public)
@strawberry.type(description="An LLM insight on a chart (one per simulation and type).")
class ChartInsight(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    insight_type: str = strawberry.field(
        description=(
            "Which chart the insight is about, a free-form label unique per simulation run."
        )
    )
    response_json: JSON = strawberry.field(
        description=("The LLM's insight (a JSON object, as the writer stored it).")
    )
    created_at: datetime = strawberry.field(description="When the insight was first stored.")
    updated_at: datetime = strawberry.field(description="When the insight was last replaced.")
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
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    analyzed_at: datetime = strawberry.field(description="When the analysis was made.")
    deltas_used: JSON = strawberry.field(
        description=("The perturbations applied to each dimension (a JSON list).")
    )
    baseline_success: float = strawberry.field(
        description=("The success rate without perturbation, from 0 to 1.")
    )
    most_sensitive_dimension: str = strawberry.field(
        description=("The dimension whose change moves success the most.")
    )
    dimensions: JSON = strawberry.field(description="Per-dimension results (a JSON list).")
    created_at: datetime = strawberry.field(description="When the result was recorded.")
    record: strawberry.Private[models.SensitivityResult]


@node_type(models.RegionAnalysis, read=Public)
@strawberry.type(description="A region of synths with its rates.")
class RegionAnalysis(Node):
    id: strawberry.ID = strawberry.field(
        description=("Global id; pass it to node(id:) or to mutations.")
    )
    rules: JSON = strawberry.field(
        description=("The conditions on synth attributes that define the region (a JSON list).")
    )
    rule_text: str = strawberry.field(description="The same rules in words.")
    synth_count: int = strawberry.field(description="Number of synths in the region.")
    synth_percentage: float = strawberry.field(
        description=("Share of all synths in the region, in percent (0 to 100).")
    )
    did_not_try_rate: float = strawberry.field(
        description=("Share of the region's attempts not tried, from 0 to 1.")
    )
    failed_rate: float = strawberry.field(
        description=("Share of the region's attempts that failed, from 0 to 1.")
    )
    success_rate: float = strawberry.field(
        description=("Share of the region's attempts that succeeded, from 0 to 1.")
    )
    failure_delta: float = strawberry.field(
        description=("The region's failure rate minus the overall failure rate.")
    )
    record: strawberry.Private[models.RegionAnalysis]


@strawberry.input(description="Conditions on synths; all given conditions must hold.")
class SynthFilter:
    group_id: strawberry.ID | None = strawberry.field(
        default=None, description=("Only synths of this group.")
    )
    name_contains: str | None = strawberry.field(
        default=None, description=("Only synths whose name contains this text, ignoring case.")
    )
    and_: list[SynthFilter] | None = strawberry.field(
        name="and", default=None, description=("Every one of these filters must match.")
    )
    or_: list[SynthFilter] | None = strawberry.field(
        name="or", default=None, description=("At least one of these filters must match.")
    )
    not_: SynthFilter | None = strawberry.field(
        name="not", default=None, description=("This filter must not match.")
    )


@strawberry.input(description="Conditions on research executions; all given conditions must hold.")
class ResearchExecutionFilter:
    statuses: list[ResearchStatus] | None = strawberry.field(
        default=None, description=("Only executions in one of these statuses.")
    )
    experiment_id: strawberry.ID | None = strawberry.field(
        default=None, description=("Only executions of this experiment.")
    )
    topic_contains: str | None = strawberry.field(
        default=None, description=("Only executions whose topic contains this text, ignoring case.")
    )
    and_: list[ResearchExecutionFilter] | None = strawberry.field(
        name="and", default=None, description=("Every one of these filters must match.")
    )
    or_: list[ResearchExecutionFilter] | None = strawberry.field(
        name="or", default=None, description=("At least one of these filters must match.")
    )
    not_: ResearchExecutionFilter | None = strawberry.field(
        name="not", default=None, description=("This filter must not match.")
    )


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
