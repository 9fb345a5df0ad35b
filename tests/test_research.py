"""Research: synths, analysis lifecycle and outcomes, interviews, documents, insights."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from expgraph.domains.research import models
from expgraph.domains.simulation.models import SimulationRun
from tests.helpers import create_experiment

IMPORT = """mutation($g: ID, $s: [SynthInput!]!) { importSynths(input: {synthGroupId: $g, synths: $s}) {
  imported synthIds } }"""
ANALYSIS = """mutation($e: ID!) { createAnalysisRun(input: {experimentId: $e, config: {n: 1}}) {
  analysisRun { id status } } }"""
OUTCOMES = """mutation($a: ID!, $o: [SynthOutcomeInput!]!) { recordSynthOutcomes(input: {analysisId: $a,
  outcomes: $o}) { recorded analysisRun { id } } }"""


def step(name: str) -> str:
    return (
        "mutation($id: ID!) { " + name + "(input: {id: $id}) { analysisRun { status totalSynths "
        "aggregatedOutcomes { count meanDidNotTryRate meanFailedRate meanSuccessRate } "
        "executionTimeSeconds } } }"
    )


async def synths(gql, n: int, group: str | None = None) -> list[str]:
    data = await gql.data(
        IMPORT,
        {
            "g": group,
            "s": [
                {"name": f"Synth {i}", "description": "persona", "data": {"age": 20 + i % 50}}
                for i in range(n)
            ],
        },
    )
    assert data["importSynths"]["imported"] == n
    return data["importSynths"]["synthIds"]


async def count(db, model) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_synth_groups_import_and_filters(gql, db):
    group = (
        await gql.data(
            'mutation { createSynthGroup(input: {name: "students"}) { synthGroup { id } } }'
        )
    )["createSynthGroup"]["synthGroup"]["id"]
    await synths(gql, 30, group)
    await synths(gql, 5)
    bad = [{"name": "ok"}, {"name": "   "}]
    assert await gql.error_code(IMPORT, {"g": group, "s": bad}) == "BAD_REQUEST"
    assert await gql.error_code(IMPORT, {"g": "U3ludGhHcm91cDo5OTk", "s": [{"name": "x"}]}) == (
        "NOT_FOUND"
    )
    assert await count(db, models.Synth) == 35
    data = await gql.data(
        """query($g: ID!) { node(id: $g) { ... on SynthGroup { synths(first: 3) {
      totalCount edges { node { name description data group { id } } } } } }
      synths(filter: {nameContains: "synth 1"}) { totalCount } }""",
        {"g": group},
    )
    page = data["node"]["synths"]
    assert page["totalCount"] == 30
    assert page["edges"][0]["node"] == {
        "name": "Synth 0",
        "description": "persona",
        "data": {"age": 20},
        "group": {"id": group},
    }
    # "Synth 1" and "Synth 10".."Synth 19" in the group, and "Synth 1" of the second import.
    assert data["synths"]["totalCount"] == 12


async def test_analysis_lifecycle_and_outcomes(gql, db):
    experiment = await create_experiment(gql, "study", "RESEARCH")
    run = (await gql.data(ANALYSIS, {"e": experiment["id"]}))["createAnalysisRun"]["analysisRun"]
    assert run["status"] == "PENDING"
    assert await gql.error_code(ANALYSIS, {"e": experiment["id"]}) == "CONFLICT"
    training = await create_experiment(gql, "not research", "TRAINING")
    assert await gql.error_code(ANALYSIS, {"e": training["id"]}) == "NOT_FOUND"
    assert await gql.error_code(step("completeAnalysisRun"), {"id": run["id"]}) == "CONFLICT"
    await gql.data(step("startAnalysisRun"), {"id": run["id"]})
    assert await gql.error_code(step("startAnalysisRun"), {"id": run["id"]}) == "CONFLICT"
    ids = await synths(gql, 3000)
    outcomes = [
        {"synthId": s, "didNotTryRate": 0.2, "failedRate": 0.3, "successRate": 0.5} for s in ids
    ]
    # One bad outcome: nothing of the batch is written.
    bad = [dict(o) for o in outcomes]
    bad[1500]["successRate"] = 0.6
    assert await gql.error_code(OUTCOMES, {"a": run["id"], "o": bad}) == "BAD_REQUEST"
    out_of_range = [dict(outcomes[0], didNotTryRate=-0.1, successRate=0.8)]
    assert await gql.error_code(OUTCOMES, {"a": run["id"], "o": out_of_range}) == "BAD_REQUEST"
    assert await count(db, models.SynthOutcome) == 0
    recorded = await gql.data(OUTCOMES, {"a": run["id"], "o": outcomes})
    assert recorded["recordSynthOutcomes"]["recorded"] == 3000
    # Re-sending updates (one outcome per synth per analysis).
    outcomes[0] = {**outcomes[0], "didNotTryRate": 0.0, "failedRate": 0.0, "successRate": 1.0}
    await gql.data(OUTCOMES, {"a": run["id"], "o": outcomes[:1]})
    assert await count(db, models.SynthOutcome) == 3000
    done = (await gql.data(step("completeAnalysisRun"), {"id": run["id"]}))["completeAnalysisRun"][
        "analysisRun"
    ]
    assert done["status"] == "COMPLETED" and done["totalSynths"] == 3000
    aggregated = done["aggregatedOutcomes"]
    assert aggregated["count"] == 3000
    assert abs(aggregated["meanSuccessRate"] - (0.5 * 2999 + 1.0) / 3000) < 1e-9
    assert abs(aggregated["meanDidNotTryRate"] - 0.2 * 2999 / 3000) < 1e-9
    assert done["executionTimeSeconds"] >= 0
    assert await gql.error_code(OUTCOMES, {"a": run["id"], "o": outcomes[:1]}) == "CONFLICT"
    cache = """mutation($a: ID!, $d: JSON!) { upsertAnalysisCache(input: {analysisId: $a,
      cacheKey: "histogram", data: $d}) { entry { cacheKey data } } }"""
    await gql.data(cache, {"a": run["id"], "d": {"bins": [1]}})
    await gql.data(cache, {"a": run["id"], "d": {"bins": [2]}})
    read = await gql.data(
        """query($e: ID!) { node(id: $e) { ... on ResearchExperiment {
      analysisRun { outcomes(first: 1) { totalCount } cache { cacheKey data } } } } }""",
        {"e": experiment["id"]},
    )
    analysis = read["node"]["analysisRun"]
    assert analysis["outcomes"]["totalCount"] == 3000
    assert analysis["cache"] == [{"cacheKey": "histogram", "data": {"bins": [2]}}]


async def test_failing_an_analysis(gql):
    experiment = await create_experiment(gql, "failing", "RESEARCH")
    run = (await gql.data(ANALYSIS, {"e": experiment["id"]}))["createAnalysisRun"]["analysisRun"]
    failed = (await gql.data(step("failAnalysisRun"), {"id": run["id"]}))["failAnalysisRun"]
    assert failed["analysisRun"]["status"] == "FAILED"
    assert await gql.error_code(step("startAnalysisRun"), {"id": run["id"]}) == "CONFLICT"


async def test_interviews_keep_turns_and_counts_consistent(gql):
    experiment = await create_experiment(gql, "interviews", "RESEARCH")
    people = await synths(gql, 3)
    execution = (
        await gql.data(
            """mutation($e: ID!) { createResearchExecution(input: {
      experimentId: $e, topicName: "pricing", synthCount: 3}) { researchExecution { id status } } }""",
            {"e": experiment["id"]},
        )
    )["createResearchExecution"]["researchExecution"]
    set_status = """mutation($id: ID!, $s: ResearchStatus!) { setResearchExecutionStatus(input: {
      id: $id, status: $s}) { researchExecution { status completedAt } } }"""
    assert await gql.error_code(set_status, {"id": execution["id"], "s": "COMPLETED"}) == "CONFLICT"
    await gql.data(set_status, {"id": execution["id"], "s": "RUNNING"})
    append = """mutation($x: ID!, $s: ID!, $m: [JSON!]!) { appendTranscriptMessages(input: {
      executionId: $x, synthId: $s, messages: $m}) { transcript { turnCount synthName } } }"""
    await asyncio.gather(
        *(
            gql.data(
                append,
                {
                    "x": execution["id"],
                    "s": people[0],
                    "m": [
                        {"role": "synth", "text": f"answer {i}"},
                        {"role": "interviewer", "text": f"question {i}"},
                    ],
                },
            )
            for i in range(10)
        )
    )
    transcript_status = """mutation($x: ID!, $s: ID!, $st: TranscriptStatus!) { setTranscriptStatus(input: {
      executionId: $x, synthId: $s, status: $st}) { transcript { status } } }"""
    await gql.data(transcript_status, {"x": execution["id"], "s": people[0], "st": "COMPLETED"})
    await gql.data(transcript_status, {"x": execution["id"], "s": people[1], "st": "FAILED"})
    await gql.data(transcript_status, {"x": execution["id"], "s": people[2], "st": "COMPLETED"})
    await gql.data(transcript_status, {"x": execution["id"], "s": people[2], "st": "FAILED"})
    data = await gql.data(
        """query($e: ID!) { node(id: $e) { ... on ResearchExperiment {
      researchExecutions { edges { node { successfulCount failedCount transcripts { edges {
        node { turnCount messages synthName status } } } } } } } } }""",
        {"e": experiment["id"]},
    )
    node = data["node"]["researchExecutions"]["edges"][0]["node"]
    assert (node["successfulCount"], node["failedCount"]) == (1, 2)
    first = node["transcripts"]["edges"][0]["node"]
    assert first["turnCount"] == len(first["messages"]) == 20
    assert first["synthName"] == "Synth 0"
    assert await gql.error_code(append, {"x": execution["id"], "s": people[0], "m": []}) == (
        "BAD_REQUEST"
    )
    await gql.data(set_status, {"id": execution["id"], "s": "COMPLETED"})
    assert (
        await gql.error_code(append, {"x": execution["id"], "s": people[0], "m": [{"t": 1}]})
        == "CONFLICT"
    )


async def test_guides_documents_and_insights_are_one_per_key(gql, db):
    experiment = await create_experiment(gql, "docs", "RESEARCH")
    guide = """mutation($e: ID!, $q: String!) { upsertInterviewGuide(input: {experimentId: $e,
      questions: $q}) { interviewGuide { questions } } }"""
    await gql.data(guide, {"e": experiment["id"], "q": "Why?"})
    await gql.data(guide, {"e": experiment["id"], "q": "Why not?"})
    document = """mutation($e: ID!, $c: String!, $s: DocumentStatus!) { upsertExperimentDocument(
      input: {experimentId: $e, documentType: SUMMARY, markdownContent: $c, status: $s}) {
      experimentDocument { status markdownContent } } }"""
    await gql.data(document, {"e": experiment["id"], "c": "# draft", "s": "GENERATING"})
    await gql.data(document, {"e": experiment["id"], "c": "# final", "s": "COMPLETED"})
    data = await gql.data(
        """query($e: ID!) { node(id: $e) { ... on ResearchExperiment {
      interviewGuide { questions } documents { documentType status markdownContent } } } }""",
        {"e": experiment["id"]},
    )
    assert data["node"]["interviewGuide"] == {"questions": "Why not?"}
    assert data["node"]["documents"] == [
        {"documentType": "SUMMARY", "status": "COMPLETED", "markdownContent": "# final"}
    ]
    async with db.transaction() as session:
        run = SimulationRun(config={})
        session.add(run)
        await session.flush()
        run_id = run.id
    from expgraph.graphql.relay import encode_id

    run_gid = encode_id("SimulationRun", run_id)
    insight = """mutation($s: ID!, $r: JSON!) { upsertChartInsight(input: {simulationRunId: $s,
      insightType: "trend", responseJson: $r}) { chartInsight {
      responseJson simulationRun { id } } } }"""
    await gql.data(insight, {"s": run_gid, "r": {"v": 1}})
    stored = await gql.data(insight, {"s": run_gid, "r": {"v": 2}})
    assert stored["upsertChartInsight"]["chartInsight"] == {
        "responseJson": {"v": 2},
        "simulationRun": {"id": run_gid},
    }
    assert await count(db, models.ChartInsight) == 1
    # The run must exist, and the id must be a SimulationRun's.
    for bad_id, code in (
        (encode_id("SimulationRun", run_id + 1000), "NOT_FOUND"),
        (experiment["id"], "BAD_REQUEST"),
    ):
        body = await gql.post(insight, {"s": bad_id, "r": {"v": 3}})
        error = body["errors"][0]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            code,
            "simulationRunId",
        ), body
    assert await count(db, models.ChartInsight) == 1
    region = """mutation($r: ID!, $s: Float!) { createRegionAnalysis(input: {simulationRunId: $r,
      rules: [{age: ">30"}], ruleText: "age > 30", synthCount: 10, synthPercentage: 12.5,
      didNotTryRate: 0.1, failedRate: 0.2, successRate: $s, failureDelta: 0.05}) {
      regionAnalysis { ruleText } } }"""
    await gql.data(region, {"r": run_gid, "s": 0.7})
    assert await gql.error_code(region, {"r": run_gid, "s": 1.7}) == "BAD_REQUEST"
    sensitivity = """mutation($r: ID!) { createSensitivityResult(input: {simulationRunId: $r,
      deltasUsed: [0.1], baselineSuccess: 0.4, mostSensitiveDimension: "price",
      dimensions: [{name: "price"}]}) { sensitivityResult { mostSensitiveDimension } } }"""
    await gql.data(sensitivity, {"r": run_gid})
    assert (
        await gql.error_code(sensitivity, {"r": encode_id("SimulationRun", 999999)}) == "NOT_FOUND"
    )


@pytest.mark.executor
async def test_nested_research_reads_do_not_grow_statements(gql, statements):
    for g in range(6):
        group = (
            await gql.data(
                "mutation($n: String!) { createSynthGroup(input: {name: $n}) "
                "{ synthGroup { id } } }",
                {"n": f"g{g}"},
            )
        )["createSynthGroup"]["synthGroup"]["id"]
        await synths(gql, 4, group)
    query = """query($n: Int!) { synthGroups(first: $n) { edges { node { name
      synths(first: $n) { edges { node { name group { name } } } } } } } }"""
    counts = {}
    for n in (2, 6):
        statements.reset()
        await gql.data(query, {"n": n})
        counts[n] = statements.count
    assert counts[2] == counts[6] == 3, counts
