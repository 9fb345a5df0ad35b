"""The execution domain as a client team reads it (issue 14): one type per
concept, enums for closed sets, typed configs in the inputs' camelCase, and
error messages that name GraphQL fields and say what happened (both dialects)."""

from __future__ import annotations

import json
import re

from sqlalchemy import text

from tests.conftest import GraphQLClient
from tests.helpers import create_dataset, create_experiment
from tests.test_execution import CLAIM, HEARTBEAT, RECORD, RELEASE, runs_for, setup_evaluation

CREATE = """mutation($input: CreateExecutionConfigInput!) { createExecutionConfig(input: $input) {
  executionConfig { fencingToken
    taskConfig { modelProvider modelName promptVersionId template customProviderId
                 invocationParameters maxConcurrency }
    evaluatorConfigs { name kind modelProvider modelName promptVersionId customProviderId
                       parameters } } } }"""
TYPES = """{ claim: __type(name: "Claim") { fields { name type { kind ofType { name } } } }
  config: __type(name: "ExecutionConfig") { fields { name type { kind ofType { name } } } }
  incomplete: __type(name: "IncompleteRun") { fields { name type { kind ofType { name } } } }
  evaluator: __type(name: "EvaluatorConfigInput") {
    inputFields { name defaultValue type { kind ofType { name } } } } }"""
SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _field(fields: list[dict], name: str) -> dict:
    return next(f for f in fields if f["name"] == name)


async def _error(gql: GraphQLClient, query: str, variables: dict) -> dict:
    body = await gql.post(query, variables)
    assert body.get("errors"), body
    error: dict = body["errors"][0]
    # A message reads as English and names GraphQL fields, never Python names.
    assert not SNAKE_CASE.search(error["message"]), error["message"]
    return error


async def _evaluation_without_config(gql: GraphQLClient, name: str) -> str:
    dataset_id, version_id = await create_dataset(gql, f"{name}-data")
    await gql.data(
        """mutation($d: ID!, $v: ID!) { addDatasetExamples(input: {datasetId: $d,
          datasetVersionId: $v, examples: [{input: {q: "q"}, output: {a: "a"}}]}) {
          examples { id } } }""",
        {"d": dataset_id, "v": version_id},
    )
    experiment = await create_experiment(
        gql,
        name,
        "EVALUATION",
        evaluation={"datasetId": dataset_id, "datasetVersionId": version_id},
    )
    return str(experiment["id"])


async def test_fencing_token_is_one_type_and_closed_sets_are_enums(gql):
    types = await gql.data(TYPES)
    claim_token = _field(types["claim"]["fields"], "fencingToken")["type"]
    config_token = _field(types["config"]["fields"], "fencingToken")["type"]
    assert claim_token == config_token == {"kind": "NON_NULL", "ofType": {"name": "BigInt"}}
    assert _field(types["config"]["fields"], "taskConfig")["type"]["ofType"]["name"] == (
        "TaskConfig"
    )
    status = _field(types["incomplete"]["fields"], "status")["type"]
    assert status == {"kind": "NON_NULL", "ofType": {"name": "IncompleteRunStatus"}}
    kind = _field(types["evaluator"]["inputFields"], "kind")
    assert kind["type"]["ofType"]["name"] == "EvaluatorKind"
    assert kind["defaultValue"] == "CODE"
    experiment_id, _ = await setup_evaluation(gql, name="typed", examples=1, repetitions=1)
    claim = (await gql.data(CLAIM, {"w": "w1", "e": experiment_id}))["claimExecution"]["claim"]
    assert claim["fencingToken"] == "1"  # BigInt: a decimal string on the wire, as before


async def test_configs_come_back_typed_in_the_inputs_camel_case(gql, db):
    prompt = await gql.data(
        """mutation { createPrompt(input: {name: "p", template: "Q: {q}", modelProvider: "echo",
          modelName: "echo-1"}) { prompt { versions { id } } } }"""
    )
    version_id = prompt["createPrompt"]["prompt"]["versions"][0]["id"]
    experiment_id = await _evaluation_without_config(gql, "shaped")
    free_form = {"delay_ms": 0, "top_p": 0.5, "nested": {"max_items": [1, 2]}}
    task = {
        "modelProvider": "echo",
        "modelName": "echo-1",
        "promptVersionId": version_id,
        "invocationParameters": free_form,
        "maxConcurrency": 2,
    }
    evaluators = [
        {"name": "exact", "kind": "EXACT_MATCH"},
        {"name": "has", "kind": "CONTAINS", "parameters": {"text": "x", "ignore_case": True}},
        {"name": "checksum"},
    ]
    data = await gql.data(
        CREATE,
        {
            "input": {
                "experimentId": experiment_id,
                "taskConfig": task,
                "evaluatorConfigs": evaluators,
            }
        },
    )
    config = data["createExecutionConfig"]["executionConfig"]
    assert config["fencingToken"] == "0"
    assert config["taskConfig"] == {**task, "template": None, "customProviderId": None}
    blank = {
        "modelProvider": None,
        "modelName": None,
        "promptVersionId": None,
        "customProviderId": None,
        "parameters": {},
    }
    assert config["evaluatorConfigs"] == [
        {**blank, "name": "exact", "kind": "EXACT_MATCH"},
        {**blank, "name": "has", "kind": "CONTAINS", "parameters": evaluators[1]["parameters"]},
        {**blank, "name": "checksum", "kind": "CODE"},
    ]
    # Stored rows keep their stored form: the enum is converted at the GraphQL edge.
    async with db.read() as session:
        raw = (
            await session.execute(
                text("SELECT task_config, evaluator_configs FROM experiment_execution_configs")
            )
        ).one()
    stored_task, stored_evaluators = (json.loads(v) if isinstance(v, str) else v for v in raw)
    assert [e["kind"] for e in stored_evaluators] == ["exact_match", "contains", "code"]
    assert stored_task["invocation_parameters"] == free_form
    # The same typed shape on a claim, which is what a worker reads.
    held = await gql.data(
        """mutation($e: ID!) { claimExecution(input: {workerId: "w", experimentId: $e}) {
          claim { fencingToken config { taskConfig { promptVersionId invocationParameters }
                                        evaluatorConfigs { kind } } } } }""",
        {"e": experiment_id},
    )
    claimed = held["claimExecution"]["claim"]
    assert claimed["config"]["taskConfig"] == {
        "promptVersionId": version_id,
        "invocationParameters": free_form,
    }
    assert [e["kind"] for e in claimed["config"]["evaluatorConfigs"]] == [
        "EXACT_MATCH",
        "CONTAINS",
        "CODE",
    ]


async def test_holder_refusals_say_what_happened(gql, db):
    experiment_id, example_ids = await setup_evaluation(gql, name="said", examples=1)
    w1 = {"e": experiment_id, "w": "w1", "t": "1"}
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    await gql.data(RELEASE, w1)

    # A second release: nobody holds the claim; it does not blame another worker.
    again = await _error(gql, RELEASE, w1)
    assert again["message"] == (
        "the claim was already released: no worker holds it; claim it again"
    )
    assert again["extensions"] == {"code": "CONFLICT", "reason": "RELEASED"}

    # A heartbeat with a wrong token while no one holds the claim.
    for token in ("7", "0"):
        wrong = await _error(gql, HEARTBEAT, {**w1, "t": token})
        assert wrong["message"] == (
            f"fencingToken {token} was never issued for this experiment (the latest is 1); "
            "claim it to get one"
        )
        assert wrong["extensions"] == {"code": "CONFLICT", "reason": "UNKNOWN_TOKEN"}
        assert "another worker" not in wrong["message"]

    # Taken over: w2 claims the orphaned claim; w1's old token names the new holder.
    await gql.data(CLAIM, {"w": "w2", "e": experiment_id})  # token 2
    async with db.transaction() as session:
        await session.execute(text("UPDATE experiment_execution_configs SET claimed_at = NULL"))
    await gql.data(CLAIM, {"w": "w3", "e": experiment_id})  # token 3: w2's claim went stale
    taken = await _error(gql, HEARTBEAT, {**w1, "w": "w2", "t": "2"})
    assert taken["message"] == "the claim was lost: another worker (w3) holds it now"
    assert taken["extensions"] == {"code": "CONFLICT", "reason": "TAKEN_OVER"}
    runs = runs_for(example_ids, 1)
    taken_write = await _error(gql, RECORD, {**w1, "w": "w2", "t": "2", "runs": runs})
    assert taken_write["extensions"]["reason"] == "TAKEN_OVER"

    # The holder itself, with an older token than the one it holds.
    stale = await _error(gql, HEARTBEAT, {**w1, "w": "w3", "t": "2"})
    assert stale["message"] == (
        "the fencing token is stale: this worker holds the claim under fencingToken 3 now, not 2"
    )
    assert stale["extensions"] == {"code": "CONFLICT", "reason": "STALE_TOKEN"}
    await gql.data(HEARTBEAT, {**w1, "w": "w3", "t": "3"})  # the right pair still works


async def test_config_refusals_name_the_graphql_field(gql):
    experiment_id = await _evaluation_without_config(gql, "named")
    base = {"modelProvider": "echo", "modelName": "e"}

    async def refusal(**fields: object) -> dict:
        data = {"experimentId": experiment_id, "taskConfig": base, **fields}
        return await _error(gql, CREATE, {"input": data})

    empty = await refusal(evaluatorConfigs=[{"name": "a"}, {"name": ""}])
    assert empty["message"].startswith("evaluatorConfigs[1].name: string should have at least 1")
    assert empty["extensions"] == {"code": "BAD_REQUEST", "field": "evaluatorConfigs[1].name"}
    twice = await refusal(evaluatorConfigs=[{"name": "a"}, {"name": "b"}, {"name": "a"}])
    assert twice["message"] == (
        "evaluatorConfigs[2].name: another evaluator is named 'a' already; names must be unique"
    )
    concurrency = await refusal(taskConfig={**base, "maxConcurrency": 0})
    assert concurrency["message"].startswith("taskConfig.maxConcurrency: input should be greater")
    assert concurrency["extensions"]["field"] == "taskConfig.maxConcurrency"
    provider = await refusal(taskConfig={**base, "modelProvider": ""})
    assert provider["extensions"]["field"] == "taskConfig.modelProvider"
    training = await create_experiment(gql, "t", "TRAINING")
    kind = await _error(
        gql, CREATE, {"input": {"experimentId": training["id"], "taskConfig": base}}
    )
    assert kind["message"] == "only an EVALUATION experiment executes; this one is TRAINING"
    assert kind["extensions"] == {"code": "BAD_REQUEST", "field": "experimentId"}


async def test_run_refusals_name_the_graphql_field(gql):
    experiment_id, example_ids = await setup_evaluation(gql, name="runs", examples=1, repetitions=1)
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    holder = {"e": experiment_id, "w": "w1", "t": "1"}
    too_far = await _error(gql, RECORD, {**holder, "runs": runs_for(example_ids, 2)})
    assert too_far["message"] == (
        "runs: repetitionNumber must be between 1 and 1 (the experiment's repetitions), not 2"
    )
    assert too_far["extensions"] == {"code": "BAD_REQUEST", "field": "repetitionNumber"}
    twice = await _error(gql, RECORD, {**holder, "runs": runs_for(example_ids * 2, 1)})
    assert twice["message"] == (
        "runs: the same datasetExampleId and repetitionNumber appear twice in one batch"
    )
    cursor = await _error(
        gql,
        """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
          incompleteRuns(after: "!!") { hasNextPage } } } }""",
        {"e": experiment_id},
    )
    assert cursor["extensions"] == {"code": "BAD_REQUEST", "field": "after"}
