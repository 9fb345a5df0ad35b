"""Research mutations, explorations' included (their types are in ``explorations.py``)."""

from __future__ import annotations

from typing import Any

import strawberry

from expgraph.domains.experiments.models import Experiment as ExperimentRecord
from expgraph.domains.research import models, service, trees
from expgraph.domains.research.explorations import Exploration, ScenarioNode
from expgraph.domains.research.inputs import (
    AnalysisRunIdInput,
    AppendTranscriptMessagesInput,
    CreateAnalysisRunInput,
    CreateExplorationInput,
    CreateRegionAnalysisInput,
    CreateResearchExecutionInput,
    CreateSensitivityResultInput,
    CreateSynthGroupInput,
    ExpandNodeInput,
    FinishExplorationInput,
    ImportSynthsInput,
    RecordSynthOutcomesInput,
    ScenarioInput,
    SetNodeStatusInput,
    SetResearchExecutionStatusInput,
    SetTranscriptStatusInput,
    UpsertAnalysisCacheInput,
    UpsertChartInsightInput,
    UpsertExperimentDocumentInput,
    UpsertInterviewGuideInput,
)
from expgraph.domains.research.types import (
    AnalysisCacheEntry,
    AnalysisRun,
    ChartInsight,
    ExperimentDocument,
    InterviewGuide,
    RegionAnalysis,
    ResearchExecution,
    SensitivityResult,
    SynthGroup,
    Transcript,
    cache_entry,
)
from expgraph.domains.simulation.models import SimulationRun
from expgraph.errors import BadRequest
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.inputs import json_object, optional_text, text, values_given
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import model_pk, to_node


@strawberry.type(description="The result of createSynthGroup.")
class SynthGroupPayload:
    synth_group: SynthGroup = strawberry.field(description="The group just created.")


@strawberry.type(description="The result of importSynths.")
class ImportSynthsPayload:
    imported: int = strawberry.field(description="Number of synths imported.")
    synth_ids: list[strawberry.ID] = strawberry.field(
        description=("Global ids of the new synths, in the order given.")
    )


@strawberry.type(description="The result of a mutation on an analysis run.")
class AnalysisRunPayload:
    analysis_run: AnalysisRun = strawberry.field(description="The analysis run as it now stands.")


@strawberry.type(description="The result of recordSynthOutcomes.")
class RecordSynthOutcomesPayload:
    analysis_run: AnalysisRun = strawberry.field(
        description=("The analysis run the outcomes belong to.")
    )
    recorded: int = strawberry.field(description="Number of outcomes recorded or replaced.")


@strawberry.type(description="The result of upsertAnalysisCache.")
class AnalysisCachePayload:
    entry: AnalysisCacheEntry = strawberry.field(description="The cache entry as now stored.")


@strawberry.type(description="The result of a mutation on a research execution.")
class ResearchExecutionPayload:
    research_execution: ResearchExecution = strawberry.field(
        description=("The research execution as it now stands.")
    )


@strawberry.type(description="The result of a mutation on a transcript.")
class TranscriptPayload:
    transcript: Transcript = strawberry.field(description="The transcript as it now stands.")


@strawberry.type(description="The result of upsertInterviewGuide.")
class InterviewGuidePayload:
    interview_guide: InterviewGuide = strawberry.field(
        description=("The interview guide as now stored.")
    )


@strawberry.type(description="The result of upsertExperimentDocument.")
class ExperimentDocumentPayload:
    experiment_document: ExperimentDocument = strawberry.field(
        description=("The document as now stored.")
    )


@strawberry.type(description="The result of upsertChartInsight.")
class ChartInsightPayload:
    chart_insight: ChartInsight = strawberry.field(description="The chart insight as now stored.")


@strawberry.type(description="The result of createSensitivityResult.")
class SensitivityResultPayload:
    sensitivity_result: SensitivityResult = strawberry.field(
        description=("The result just recorded.")
    )


@strawberry.type(description="The result of createRegionAnalysis.")
class RegionAnalysisPayload:
    region_analysis: RegionAnalysis = strawberry.field(description="The region just recorded.")


@strawberry.type(description="The result of createExploration or finishExploration.")
class ExplorationPayload:
    exploration: Exploration = strawberry.field(description="The exploration as it now stands.")


@strawberry.type(description="The result of expandNode.")
class ExpandNodePayload:
    exploration: Exploration = strawberry.field(
        description=("The exploration, its counters updated.")
    )
    children: list[ScenarioNode] = strawberry.field(
        description=("The nodes just added, in the order given.")
    )


@strawberry.type(description="The result of setNodeStatus.")
class ScenarioNodePayload:
    scenario_node: ScenarioNode = strawberry.field(description="The node as it now stands.")


def _run_pk(global_id: str) -> int:
    """The SimulationRun a global id names; BAD_REQUEST for an id of anything else."""
    try:
        return model_pk(global_id, SimulationRun)
    except BadRequest as error:
        raise BadRequest(error.message, field="simulationRunId") from error


def _scenario(data: ScenarioInput) -> dict[str, Any]:
    """A scenario node's column values; ``simulationResults.successRate`` (the key
    expgraph ranks nodes by) is stored under its database key."""
    values = values_given(data)
    values["scorecard_params"] = json_object(values["scorecard_params"], "scorecardParams")
    if values.get("simulation_results") is not None:
        results = json_object(values["simulation_results"], "simulationResults")
        if trees.STORED_RATE_KEY in results:
            raise BadRequest(
                f"simulationResults.{trees.STORED_RATE_KEY} is not accepted: send "
                f"simulationResults.{trees.RATE_KEY}",
                field="simulationResults",
            )
        rate = results.get(trees.RATE_KEY)
        if rate is not None and (not isinstance(rate, int | float) or not 0 <= rate <= 1):
            raise BadRequest(
                f"simulationResults.{trees.RATE_KEY} must be from 0 to 1", field="simulationResults"
            )
        values["simulation_results"] = trees.stored_results(results)
    seconds = values.get("execution_time_seconds")
    if seconds is not None and seconds < 0:
        raise BadRequest("executionTimeSeconds must be >= 0", field="executionTimeSeconds")
    if values.get("llm_calls", 0) < 0:
        raise BadRequest("llmCalls must be >= 0", field="llmCalls")
    for field, limit in (("action_category", 100), ("short_action", 255)):
        if field in values:
            values[field] = optional_text(values[field], field, max_length=limit)
    return values


@strawberry.type
class Mutation:
    @mutation(permission=Permission.WRITE, description="Create a group of synths.")
    async def create_synth_group(
        self, info: Info, input: CreateSynthGroupInput
    ) -> SynthGroupPayload:
        async with info.context.db.transaction() as session:
            group = await service.create_synth_group(session, input.name, input.description)
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
        if experiment is not None:
            values["experiment_id"] = model_pk(experiment, ExperimentRecord)
        async with info.context.db.transaction() as session:
            execution = await service.create_execution(session, values)
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
            insight = await service.upsert_chart_insight(session, ctx.db.dialect, values)
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
        async with info.context.db.transaction() as session:
            row = await service.create_sensitivity_result(session, run_id, values)
        return SensitivityResultPayload(sensitivity_result=to_node(row))

    @mutation(permission=Permission.WRITE, description="Record a region of synths of a run.")
    async def create_region_analysis(
        self, info: Info, input: CreateRegionAnalysisInput
    ) -> RegionAnalysisPayload:
        run_id = model_pk(input.simulation_run_id, SimulationRun)
        values = values_given(input)
        values.pop("simulation_run_id")
        async with info.context.db.transaction() as session:
            row = await service.create_region_analysis(session, run_id, values)
        return RegionAnalysisPayload(region_analysis=to_node(row))

    # Exploration trees (types in explorations.py, rules in trees.py).
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
        parent_id = model_pk(input.parent_id, models.ScenarioNode)
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
        node_id = model_pk(input.node_id, models.ScenarioNode)
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
