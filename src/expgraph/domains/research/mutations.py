"""Research mutations (explorations are in ``explorations.py``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.research import models, service
from expgraph.domains.research.types import (
    AnalysisCacheEntry,
    AnalysisRun,
    ChartInsight,
    DocumentStatus,
    DocumentType,
    ExperimentDocument,
    InterviewGuide,
    RegionAnalysis,
    ResearchExecution,
    ResearchStatus,
    SensitivityResult,
    SynthGroup,
    Transcript,
    cache_entry,
)
from expgraph.domains.simulation.models import SimulationRun
from expgraph.errors import BadRequest, NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.bounds import capped
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import json_object, optional_text, text, values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import model_pk, to_node
from expgraph.graphql.scalars import JSON


@strawberry.input
class CreateSynthGroupInput:
    name: str
    description: str | None = None


@strawberry.input
class SynthInput:
    name: str
    description: str | None = None
    link_photo: str | None = None
    avatar_path: str | None = None
    version: str | None = None
    data: JSON | None = None


@strawberry.input
class ImportSynthsInput:
    synth_group_id: strawberry.ID | None = None
    synths: list[SynthInput] = capped(service.MAX_BATCH)


@strawberry.input
class CreateAnalysisRunInput:
    experiment_id: strawberry.ID
    scenario_id: str = "baseline"
    config: JSON | None = None


@strawberry.input
class AnalysisRunIdInput:
    id: strawberry.ID


@strawberry.input
class SynthOutcomeInput:
    synth_id: strawberry.ID
    did_not_try_rate: float
    failed_rate: float
    success_rate: float
    synth_attributes: JSON | None = None


@strawberry.input
class RecordSynthOutcomesInput:
    analysis_id: strawberry.ID
    outcomes: list[SynthOutcomeInput] = capped(service.MAX_BATCH)


@strawberry.input
class UpsertAnalysisCacheInput:
    analysis_id: strawberry.ID
    cache_key: str
    data: JSON
    params: JSON | None = None


@strawberry.input
class CreateResearchExecutionInput:
    topic_name: str
    experiment_id: strawberry.ID | None = None
    synth_count: int = 0
    model: str = "gpt-4o-mini"
    max_turns: int = 6
    additional_context: str | None = None


@strawberry.input
class SetResearchExecutionStatusInput:
    id: strawberry.ID
    status: ResearchStatus


@strawberry.input
class AppendTranscriptMessagesInput:
    execution_id: strawberry.ID
    synth_id: strawberry.ID
    messages: list[JSON] = capped(service.MAX_MESSAGES)


@strawberry.input
class SetTranscriptStatusInput:
    execution_id: strawberry.ID
    synth_id: strawberry.ID
    status: str = strawberry.field(description="pending, running, completed or failed")


@strawberry.input
class UpsertInterviewGuideInput:
    experiment_id: strawberry.ID
    context_definition: str | None = None
    questions: str | None = None
    context_examples: str | None = None


@strawberry.input
class UpsertExperimentDocumentInput:
    experiment_id: strawberry.ID
    document_type: DocumentType
    markdown_content: str = ""
    metadata: JSON | None = None
    model: str = "gpt-4o-mini"
    status: DocumentStatus = DocumentStatus.COMPLETED
    error_message: str | None = None


@strawberry.input(description="One insight per simulation run and insight type.")
class UpsertChartInsightInput:
    simulation_run_id: strawberry.ID = strawberry.field(
        description="The SimulationRun the insight is about."
    )
    insight_type: str
    response_json: JSON


@strawberry.input
class CreateSensitivityResultInput:
    simulation_run_id: strawberry.ID
    deltas_used: JSON
    baseline_success: float
    most_sensitive_dimension: str
    dimensions: JSON
    analyzed_at: datetime | None = None


@strawberry.input
class CreateRegionAnalysisInput:
    simulation_run_id: strawberry.ID
    rules: JSON
    rule_text: str
    synth_count: int
    synth_percentage: float
    did_not_try_rate: float
    failed_rate: float
    success_rate: float
    failure_delta: float


@strawberry.type
class SynthGroupPayload:
    synth_group: SynthGroup


@strawberry.type
class ImportSynthsPayload:
    imported: int
    synth_ids: list[strawberry.ID]


@strawberry.type
class AnalysisRunPayload:
    analysis_run: AnalysisRun


@strawberry.type
class RecordSynthOutcomesPayload:
    analysis_run: AnalysisRun
    recorded: int


@strawberry.type
class AnalysisCachePayload:
    entry: AnalysisCacheEntry


@strawberry.type
class ResearchExecutionPayload:
    research_execution: ResearchExecution


@strawberry.type
class TranscriptPayload:
    transcript: Transcript


@strawberry.type
class InterviewGuidePayload:
    interview_guide: InterviewGuide


@strawberry.type
class ExperimentDocumentPayload:
    experiment_document: ExperimentDocument


@strawberry.type
class ChartInsightPayload:
    chart_insight: ChartInsight


@strawberry.type
class SensitivityResultPayload:
    sensitivity_result: SensitivityResult


@strawberry.type
class RegionAnalysisPayload:
    region_analysis: RegionAnalysis


def _unit(value: float, field: str) -> float:
    if not 0 <= value <= 1:
        raise BadRequest(f"{field} must be in [0, 1]", field=field)
    return value


def _run_pk(global_id: str) -> int:
    """The SimulationRun a global id names; BAD_REQUEST for an id of anything else."""
    try:
        return model_pk(global_id, SimulationRun)
    except BadRequest as error:
        raise BadRequest(error.message, field="simulationRunId") from error


@strawberry.type
class Mutation:
    @mutation(permission=Permission.WRITE, description="Create a group of synths.")
    async def create_synth_group(
        self, info: Info, input: CreateSynthGroupInput
    ) -> SynthGroupPayload:
        async with info.context.db.transaction() as session:
            group = models.SynthGroup(
                name=text(input.name, "name", max_length=255),
                description=optional_text(input.description, "description", max_length=10_000),
            )
            session.add(group)
            await session.flush()
            await session.refresh(group)
        return SynthGroupPayload(synth_group=to_node(group))

    @mutation(permission=Permission.WRITE, description="Import synths in bulk, all or none.")
    async def import_synths(self, info: Info, input: ImportSynthsInput) -> ImportSynthsPayload:
        group = model_pk(input.synth_group_id, models.SynthGroup) if input.synth_group_id else None
        synths = [values_given(s) for s in input.synths]
        async with info.context.db.transaction() as session:
            ids = await service.import_synths(session, group, synths)
        from expgraph.graphql.relay import encode_id

        return ImportSynthsPayload(
            imported=len(ids), synth_ids=[strawberry.ID(encode_id("Synth", i)) for i in ids]
        )

    @mutation(permission=Permission.WRITE, description="Create a research experiment's analysis.")
    async def create_analysis_run(
        self, info: Info, input: CreateAnalysisRunInput
    ) -> AnalysisRunPayload:
        experiment_id = model_pk(input.experiment_id, ExperimentRecord)
        async with info.context.db.transaction() as session:
            run = await service.create_analysis(
                session, experiment_id, input.scenario_id, input.config
            )
        return AnalysisRunPayload(analysis_run=to_node(run))

    @mutation(permission=Permission.WRITE, description="pending -> running.")
    async def start_analysis_run(self, info: Info, input: AnalysisRunIdInput) -> AnalysisRunPayload:
        async with info.context.db.transaction() as session:
            run = await service.start_analysis(session, model_pk(input.id, models.AnalysisRun))
        return AnalysisRunPayload(analysis_run=to_node(run))

    @mutation(permission=Permission.WRITE, description="running -> completed, outcomes aggregated.")
    async def complete_analysis_run(
        self, info: Info, input: AnalysisRunIdInput
    ) -> AnalysisRunPayload:
        async with info.context.db.transaction() as session:
            run = await service.complete_analysis(session, model_pk(input.id, models.AnalysisRun))
        return AnalysisRunPayload(analysis_run=to_node(run))

    @mutation(permission=Permission.WRITE, description="pending or running -> failed.")
    async def fail_analysis_run(self, info: Info, input: AnalysisRunIdInput) -> AnalysisRunPayload:
        async with info.context.db.transaction() as session:
            run = await service.fail_analysis(session, model_pk(input.id, models.AnalysisRun))
        return AnalysisRunPayload(analysis_run=to_node(run))

    @mutation(permission=Permission.WRITE, description="Record (or update) synth outcomes in bulk.")
    async def record_synth_outcomes(
        self, info: Info, input: RecordSynthOutcomesInput
    ) -> RecordSynthOutcomesPayload:
        ctx = info.context
        analysis_id = model_pk(input.analysis_id, models.AnalysisRun)
        outcomes = []
        for item in input.outcomes:
            values = values_given(item)
            values["synth_id"] = model_pk(item.synth_id, models.Synth)
            outcomes.append(values)
        async with ctx.db.transaction() as session:
            recorded = await service.record_outcomes(session, ctx.db.dialect, analysis_id, outcomes)
            run = await session.get(models.AnalysisRun, analysis_id)
        return RecordSynthOutcomesPayload(analysis_run=to_node(run), recorded=recorded)

    @mutation(permission=Permission.WRITE, description="Store a cached computation by key.")
    async def upsert_analysis_cache(
        self, info: Info, input: UpsertAnalysisCacheInput
    ) -> AnalysisCachePayload:
        ctx = info.context
        analysis_id = model_pk(input.analysis_id, models.AnalysisRun)
        async with ctx.db.transaction() as session:
            row = await service.upsert_cache(
                session, ctx.db.dialect, analysis_id, input.cache_key, input.data, input.params
            )
        return AnalysisCachePayload(entry=cache_entry(row))

    @mutation(permission=Permission.WRITE, description="Start a round of interviews.")
    async def create_research_execution(
        self, info: Info, input: CreateResearchExecutionInput
    ) -> ResearchExecutionPayload:
        values = values_given(input)
        experiment = values.pop("experiment_id", None)
        async with info.context.db.transaction() as session:
            if experiment is not None:
                values["experiment_id"] = model_pk(experiment, ExperimentRecord)
                await service.live_experiment(session, values["experiment_id"])
            values["topic_name"] = text(values["topic_name"], "topicName", max_length=255)
            if values.get("max_turns", 6) < 1 or values.get("synth_count", 0) < 0:
                raise BadRequest("maxTurns must be >= 1 and synthCount >= 0")
            execution = models.ResearchExecution(**values)
            session.add(execution)
            await session.flush()
            await session.refresh(execution)
        return ResearchExecutionPayload(research_execution=to_node(execution))

    @mutation(permission=Permission.WRITE, description="Move an execution along its lifecycle.")
    async def set_research_execution_status(
        self, info: Info, input: SetResearchExecutionStatusInput
    ) -> ResearchExecutionPayload:
        async with info.context.db.transaction() as session:
            execution = await service.set_execution_status(
                session, model_pk(input.id, models.ResearchExecution), input.status
            )
        return ResearchExecutionPayload(research_execution=to_node(execution))

    @mutation(permission=Permission.WRITE, description="Append messages to a synth's transcript.")
    async def append_transcript_messages(
        self, info: Info, input: AppendTranscriptMessagesInput
    ) -> TranscriptPayload:
        ctx = info.context
        async with ctx.db.transaction() as session:
            transcript = await service.append_messages(
                session,
                ctx.db.dialect,
                model_pk(input.execution_id, models.ResearchExecution),
                model_pk(input.synth_id, models.Synth),
                list(input.messages),
            )
        return TranscriptPayload(transcript=to_node(transcript))

    @mutation(permission=Permission.WRITE, description="Set a transcript's status (counts follow).")
    async def set_transcript_status(
        self, info: Info, input: SetTranscriptStatusInput
    ) -> TranscriptPayload:
        ctx = info.context
        async with ctx.db.transaction() as session:
            transcript = await service.set_transcript_status(
                session,
                ctx.db.dialect,
                model_pk(input.execution_id, models.ResearchExecution),
                model_pk(input.synth_id, models.Synth),
                input.status,
            )
        return TranscriptPayload(transcript=to_node(transcript))

    @mutation(permission=Permission.WRITE, description="Create or replace the interview guide.")
    async def upsert_interview_guide(
        self, info: Info, input: UpsertInterviewGuideInput
    ) -> InterviewGuidePayload:
        ctx = info.context
        values = values_given(input)
        values["experiment_id"] = model_pk(input.experiment_id, ExperimentRecord)
        async with ctx.db.transaction() as session:
            await service.live_experiment(session, values["experiment_id"])
            guide = await service.upsert_row(
                session, ctx.db.dialect, models.InterviewGuide, values, ("experiment_id",)
            )
        return InterviewGuidePayload(interview_guide=to_node(guide))

    @mutation(permission=Permission.WRITE, description="Create or replace a document of a type.")
    async def upsert_experiment_document(
        self, info: Info, input: UpsertExperimentDocumentInput
    ) -> ExperimentDocumentPayload:
        ctx = info.context
        values = values_given(input, {"metadata": "metadata"})  # column "metadata"
        values["experiment_id"] = model_pk(input.experiment_id, ExperimentRecord)
        if values.get("metadata") is not None:
            json_object(values["metadata"], "metadata")
        async with ctx.db.transaction() as session:
            await service.live_experiment(session, values["experiment_id"])
            document = await service.upsert_row(
                session,
                ctx.db.dialect,
                models.ExperimentDocument,
                values,
                ("experiment_id", "document_type"),
            )
        return ExperimentDocumentPayload(experiment_document=to_node(document))

    @mutation(permission=Permission.WRITE, description="Create or replace a chart insight.")
    async def upsert_chart_insight(
        self, info: Info, input: UpsertChartInsightInput
    ) -> ChartInsightPayload:
        ctx = info.context
        values = {
            "simulation_id": _run_pk(input.simulation_run_id),
            "insight_type": text(input.insight_type, "insightType", max_length=100),
            "response_json": json_object(input.response_json, "responseJson"),
        }
        async with ctx.db.transaction() as session:
            if await session.get(SimulationRun, values["simulation_id"]) is None:
                raise NotFound("no simulation run with that id", field="simulationRunId")
            insight = await service.upsert_row(
                session,
                ctx.db.dialect,
                models.ChartInsight,
                values,
                ("simulation_id", "insight_type"),
            )
        return ChartInsightPayload(chart_insight=to_node(insight))

    @mutation(permission=Permission.WRITE, description="Record a sensitivity analysis of a run.")
    async def create_sensitivity_result(
        self, info: Info, input: CreateSensitivityResultInput
    ) -> SensitivityResultPayload:
        run_id = model_pk(input.simulation_run_id, SimulationRun)
        values = values_given(input)
        values.pop("simulation_run_id")
        if values.get("analyzed_at") is None:
            values.pop("analyzed_at", None)
        _unit(values["baseline_success"], "baselineSuccess")
        async with info.context.db.transaction() as session:
            if await session.get(SimulationRun, run_id) is None:
                raise NotFound("no simulation run with that id", field="simulationRunId")
            row = models.SensitivityResult(simulation_id=run_id, **values)
            session.add(row)
            await session.flush()
            await session.refresh(row)
        return SensitivityResultPayload(sensitivity_result=to_node(row))

    @mutation(permission=Permission.WRITE, description="Record a region of synths of a run.")
    async def create_region_analysis(
        self, info: Info, input: CreateRegionAnalysisInput
    ) -> RegionAnalysisPayload:
        run_id = model_pk(input.simulation_run_id, SimulationRun)
        values = values_given(input)
        values.pop("simulation_run_id")
        for field in ("did_not_try_rate", "failed_rate", "success_rate"):
            _unit(values[field], field)
        if values["synth_count"] < 0 or not 0 <= values["synth_percentage"] <= 100:
            raise BadRequest("synthCount must be >= 0 and synthPercentage in [0, 100]")
        values["rule_text"] = text(values["rule_text"], "ruleText", max_length=100_000)
        async with info.context.db.transaction() as session:
            if await session.get(SimulationRun, run_id) is None:
                raise NotFound("no simulation run with that id", field="simulationRunId")
            row = models.RegionAnalysis(simulation_id=run_id, **values)
            session.add(row)
            await session.flush()
        return RegionAnalysisPayload(region_analysis=to_node(row))
