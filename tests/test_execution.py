"""Execution: claims, heartbeats, toggles, fencing, run writes, progress (both dialects)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select, text

from expgraph.app import create_app
from expgraph.domains.execution import models
from tests.conftest import GraphQLClient
from tests.helpers import create_dataset, create_experiment

CLAIM = """mutation($w: String!, $e: ID) { claimExecution(input: {workerId: $w, experimentId: $e}) {
  claim { fencingToken experiment { id name } config { claimedBy state } } } }"""
HEARTBEAT = """mutation($e: ID!, $w: String!, $t: BigInt!) {
  heartbeatExecution(input: {experimentId: $e, workerId: $w, fencingToken: $t}) {
    executionConfig { claimedBy } } }"""
RELEASE = """mutation($e: ID!, $w: String!, $t: BigInt!, $err: String) {
  releaseExecution(input: {experimentId: $e, workerId: $w, fencingToken: $t, error: $err}) {
    executionConfig { state lastError } } }"""
RECORD = """mutation($e: ID!, $w: String!, $t: BigInt!, $runs: [RunInput!]!) {
  recordExperimentRuns(input: {experimentId: $e, workerId: $w, fencingToken: $t, runs: $runs}) {
    runs { id repetitionNumber error } } }"""
TOGGLE = """mutation($e: ID!, $on: Boolean!) { toggleExecution(input: {experimentId: $e, enabled: $on}) {
  executionConfig { enabled state } } }"""
STATE = """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
  executionConfig { state claimedBy fencingToken lastError }
  progress { expected completed failed missing fraction } } } }"""


async def setup_evaluation(
    gql: GraphQLClient, name: str = "eval", examples: int = 4, repetitions: int = 2
) -> tuple[str, list[str]]:
    """An evaluation experiment with an execution config; returns (id, example ids)."""
    dataset_id, version_id = await create_dataset(gql, f"{name}-data")
    data = await gql.data(
        """mutation($d: ID!, $v: ID!, $ex: [DatasetExampleInput!]!) {
          addDatasetExamples(input: {datasetId: $d, datasetVersionId: $v, examples: $ex}) {
            examples { id } } }""",
        {
            "d": dataset_id,
            "v": version_id,
            "ex": [
                {"input": {"q": f"question {i}"}, "output": {"a": str(i)}} for i in range(examples)
            ],
        },
    )
    example_ids = [e["id"] for e in data["addDatasetExamples"]["examples"]]
    experiment = await create_experiment(
        gql,
        name,
        "EVALUATION",
        evaluation={
            "datasetId": dataset_id,
            "datasetVersionId": version_id,
            "repetitions": repetitions,
        },
    )
    await gql.data(
        """mutation($e: ID!) { createExecutionConfig(input: {experimentId: $e,
          taskConfig: {modelProvider: "echo", modelName: "echo-1"},
          evaluatorConfigs: [{name: "exact", kind: EXACT_MATCH}]}) { executionConfig { id } } }""",
        {"e": experiment["id"]},
    )
    return experiment["id"], example_ids


async def state(gql: GraphQLClient, experiment_id: str) -> dict:
    node = (await gql.data(STATE, {"e": experiment_id}))["node"]
    return {**node["executionConfig"], "progress": node["progress"]}


def runs_for(example_ids: list[str], repetitions: int, error: str | None = None) -> list[dict]:
    return [
        {
            "datasetExampleId": e,
            "repetitionNumber": r,
            "output": {"text": f"{e}-{r}"},
            "error": error,
            "latencyMs": 12.5,
            "promptTokens": 3,
            "completionTokens": 4,
            "costMicros": "1500",
        }
        for e in example_ids
        for r in range(1, repetitions + 1)
    ]


async def test_claim_heartbeat_record_release_lifecycle(gql):
    experiment_id, example_ids = await setup_evaluation(gql)
    before = await state(gql, experiment_id)
    assert before["state"] == "QUEUED"
    assert before["progress"] == {
        "expected": "8",
        "completed": 0,
        "failed": 0,
        "missing": "8",
        "fraction": 0.0,
    }
    claim = (await gql.data(CLAIM, {"w": "w1", "e": experiment_id}))["claimExecution"]["claim"]
    token = claim["fencingToken"]
    assert token == "1"
    assert claim["config"] == {"claimedBy": "w1", "state": "RUNNING"}
    assert await gql.error_code(CLAIM, {"w": "w2", "e": experiment_id}) == "CONFLICT"
    await gql.data(HEARTBEAT, {"e": experiment_id, "w": "w1", "t": token})
    half = runs_for(example_ids[:2], 2)
    await gql.data(RECORD, {"e": experiment_id, "w": "w1", "t": token, "runs": half})
    # Sending the same runs again updates them, never duplicates them.
    await gql.data(RECORD, {"e": experiment_id, "w": "w1", "t": token, "runs": half})
    mid = await state(gql, experiment_id)
    assert mid["progress"]["completed"] == 4 and mid["progress"]["missing"] == "4"
    await gql.data(RELEASE, {"e": experiment_id, "w": "w1", "t": token})
    assert (await state(gql, experiment_id))["state"] == "QUEUED"
    # Resume: the incomplete pairs are exactly the other half.
    page = await gql.data(
        """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
          incompleteRuns(first: 3) { items { repetitionNumber status example { id } cursor }
                                     hasNextPage endCursor } } } }""",
        {"e": experiment_id},
    )
    first_page = page["node"]["incompleteRuns"]
    assert [(i["example"]["id"], i["repetitionNumber"]) for i in first_page["items"]] == [
        (example_ids[2], 1),
        (example_ids[2], 2),
        (example_ids[3], 1),
    ]
    assert first_page["hasNextPage"]
    claim = (await gql.data(CLAIM, {"w": "w2", "e": experiment_id}))["claimExecution"]["claim"]
    assert claim["fencingToken"] == "2"
    rest = runs_for(example_ids[2:], 2)
    await gql.data(RECORD, {"e": experiment_id, "w": "w2", "t": "2", "runs": rest})
    done = await state(gql, experiment_id)
    assert done["progress"]["fraction"] == 1.0
    await gql.data(RELEASE, {"e": experiment_id, "w": "w2", "t": "2"})
    assert (await state(gql, experiment_id))["state"] == "COMPLETED"
    # A completed experiment has nothing to resume and cannot be claimed.
    assert await gql.error_code(CLAIM, {"w": "w3", "e": experiment_id}) == "CONFLICT"
    assert (await gql.data(CLAIM, {"w": "w3"}))["claimExecution"]["claim"] is None


async def test_a_stale_holder_is_fenced_out(gql, db, settings):
    experiment_id, example_ids = await setup_evaluation(gql)
    await gql.data(CLAIM, {"w": "old", "e": experiment_id})
    # The old holder's heartbeat goes stale (the database clock moves it back).
    async with db.transaction() as session:
        await session.execute(
            text(
                "UPDATE experiment_execution_configs SET claimed_at = claimed_at - "
                + ("interval '1 hour'" if db.dialect == "postgresql" else "0")
            )
        )
        if db.dialect == "sqlite":
            await session.execute(
                text(
                    "UPDATE experiment_execution_configs SET claimed_at = "
                    "strftime('%Y-%m-%d %H:%M:%f000', 'now', '-1 hour')"
                )
            )
    assert (await state(gql, experiment_id))["state"] == "ORPHANED"
    taken = (await gql.data(CLAIM, {"w": "new", "e": experiment_id}))["claimExecution"]["claim"]
    assert taken["fencingToken"] == "2"
    stale = {"e": experiment_id, "w": "old", "t": "1"}
    assert await gql.error_code(HEARTBEAT, stale) == "CONFLICT"
    assert await gql.error_code(RECORD, {**stale, "runs": runs_for(example_ids, 1)}) == "CONFLICT"
    assert await gql.error_code(RELEASE, stale) == "CONFLICT"
    # Right worker, old token: still refused.
    assert await gql.error_code(HEARTBEAT, {**stale, "w": "new"}) == "CONFLICT"
    async with db.read() as session:
        assert await session.scalar(select(func.count(models.ExperimentRun.id))) == 0
    assert (await state(gql, experiment_id))["claimedBy"] == "new"


async def test_toggle_cooldown_and_disabling_a_running_claim(gql, db):
    experiment_id, _ = await setup_evaluation(gql)
    token = (await gql.data(CLAIM, {"w": "w1", "e": experiment_id}))["claimExecution"]["claim"][
        "fencingToken"
    ]
    off = (await gql.data(TOGGLE, {"e": experiment_id, "on": False}))["toggleExecution"]
    assert off["executionConfig"] == {"enabled": False, "state": "STOPPED"}
    # Asking again for the state it is in is a no-op, not an error.
    again = (await gql.data(TOGGLE, {"e": experiment_id, "on": False}))["toggleExecution"]
    assert again["executionConfig"]["enabled"] is False
    # A change within the cooldown is refused.
    assert await gql.error_code(TOGGLE, {"e": experiment_id, "on": True}) == "COOLDOWN"
    # The holder's next heartbeat fails: the claim was cleared.
    assert await gql.error_code(HEARTBEAT, {"e": experiment_id, "w": "w1", "t": token}) == (
        "CONFLICT"
    )
    assert await gql.error_code(CLAIM, {"w": "w2", "e": experiment_id}) == "CONFLICT"
    async with db.transaction() as session:  # let the cooldown pass
        await session.execute(text("UPDATE experiment_execution_configs SET toggled_at = NULL"))
    on = (await gql.data(TOGGLE, {"e": experiment_id, "on": True}))["toggleExecution"]
    assert on["executionConfig"] == {"enabled": True, "state": "QUEUED"}


async def test_release_with_error_fails_until_re_enabled(gql, db):
    experiment_id, _ = await setup_evaluation(gql)
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    released = await gql.data(RELEASE, {"e": experiment_id, "w": "w1", "t": "1", "err": "boom"})
    assert released["releaseExecution"]["executionConfig"] == {
        "state": "FAILED",
        "lastError": "boom",
    }
    assert await gql.error_code(CLAIM, {"w": "w2", "e": experiment_id}) == "CONFLICT"
    assert (await gql.data(CLAIM, {"w": "w2"}))["claimExecution"]["claim"] is None
    await gql.data(TOGGLE, {"e": experiment_id, "on": False})
    async with db.transaction() as session:
        await session.execute(text("UPDATE experiment_execution_configs SET toggled_at = NULL"))
    await gql.data(TOGGLE, {"e": experiment_id, "on": True})
    assert (await state(gql, experiment_id))["lastError"] is None
    assert (await gql.data(CLAIM, {"w": "w2"}))["claimExecution"]["claim"] is not None


async def test_bad_run_writes_change_nothing(gql, db):
    experiment_id, example_ids = await setup_evaluation(gql, examples=2, repetitions=1)
    other_id, other_examples = await setup_evaluation(gql, name="other", examples=1)
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    holder = {"e": experiment_id, "w": "w1", "t": "1"}
    bad_batches = [
        runs_for(example_ids, 2),  # repetition 2 of 1
        runs_for(example_ids, 1) + runs_for(example_ids[:1], 1),  # a pair twice
        runs_for(example_ids, 1) + runs_for(other_examples, 1),  # another dataset's example
        [],
    ]
    for batch in bad_batches:
        assert await gql.error_code(RECORD, {**holder, "runs": batch}) == "BAD_REQUEST"
    async with db.read() as session:
        assert await session.scalar(select(func.count(models.ExperimentRun.id))) == 0
    assert other_id != experiment_id


@pytest.mark.parametrize(
    ("field", "value"),
    [("costMicros", "-1"), ("promptTokens", -1), ("completionTokens", -3), ("latencyMs", -0.5)],
)
async def test_negative_costs_and_measures_of_a_run_are_refused(gql, db, field, value):
    experiment_id, example_ids = await setup_evaluation(gql, examples=2, repetitions=1)
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    runs = runs_for(example_ids, 1)
    runs[1][field] = value
    body = await gql.post(RECORD, {"e": experiment_id, "w": "w1", "t": "1", "runs": runs})
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "field": field}, body
    async with db.read() as session:
        assert await session.scalar(select(func.count(models.ExperimentRun.id))) == 0
    runs[1][field] = 0
    await gql.data(RECORD, {"e": experiment_id, "w": "w1", "t": "1", "runs": runs})


async def test_failed_runs_count_and_are_retried(gql):
    experiment_id, example_ids = await setup_evaluation(gql, examples=3, repetitions=1)
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    holder = {"e": experiment_id, "w": "w1", "t": "1"}
    await gql.data(RECORD, {**holder, "runs": runs_for(example_ids[:2], 1)})
    await gql.data(RECORD, {**holder, "runs": runs_for(example_ids[2:], 1, error="timeout")})
    progress = (await state(gql, experiment_id))["progress"]
    assert progress == {
        "expected": "3",
        "completed": 2,
        "failed": 1,
        "missing": "0",
        "fraction": pytest.approx(2 / 3),
    }
    page = await gql.data(
        """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
          incompleteRuns { items { status example { id } } }
          runs(filter: {hasError: true}) { totalCount } } } }""",
        {"e": experiment_id},
    )
    node = page["node"]
    assert node["incompleteRuns"]["items"] == [
        {"status": "FAILED", "example": {"id": example_ids[2]}}
    ]
    assert node["runs"]["totalCount"] == 1
    await gql.data(RECORD, {**holder, "runs": runs_for(example_ids[2:], 1)})
    assert (await state(gql, experiment_id))["progress"]["failed"] == 0


async def test_annotations_and_summaries(gql):
    experiment_id, example_ids = await setup_evaluation(gql, examples=2, repetitions=1)
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    holder = {"e": experiment_id, "w": "w1", "t": "1"}
    runs = (await gql.data(RECORD, {**holder, "runs": runs_for(example_ids, 1)}))[
        "recordExperimentRuns"
    ]["runs"]
    annotate = """mutation($e: ID!, $w: String!, $t: BigInt!, $a: [AnnotationInput!]!) {
      recordRunAnnotations(input: {experimentId: $e, workerId: $w, fencingToken: $t,
                                   annotations: $a}) { annotations { name score label } } }"""
    items = [
        {"experimentRunId": runs[0]["id"], "name": "exact", "score": 1.0, "label": "match"},
        {"experimentRunId": runs[1]["id"], "name": "exact", "score": 0.0, "label": "miss"},
        {"experimentRunId": runs[0]["id"], "name": "judge", "score": 0.5, "label": "ok"},
    ]
    await gql.data(annotate, {**holder, "a": items})
    items[1]["label"] = "match"
    items[1]["score"] = 1.0
    await gql.data(annotate, {**holder, "a": items})  # idempotent: an update
    data = await gql.data(
        """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
          annotationSummaries { name count errorCount meanScore labels { label count } }
          runs(orderBy: [{field: DATASET_EXAMPLE}]) { edges { node {
            annotations { name label } example { id } } } } } } }""",
        {"e": experiment_id},
    )
    summaries = data["node"]["annotationSummaries"]
    assert summaries == [
        {
            "name": "exact",
            "count": 2,
            "errorCount": 0,
            "meanScore": 1.0,
            "labels": [{"label": "match", "count": 2}],
        },
        {
            "name": "judge",
            "count": 1,
            "errorCount": 0,
            "meanScore": 0.5,
            "labels": [{"label": "ok", "count": 1}],
        },
    ]
    first_run = data["node"]["runs"]["edges"][0]["node"]
    assert first_run["annotations"] == [
        {"name": "exact", "label": "match"},
        {"name": "judge", "label": "ok"},
    ]


async def test_concurrent_claimers_each_get_distinct_experiments(gql, db, settings):
    """16 workers racing claim-next over 50 queued experiments: each claimed once."""
    dataset_id, version_id = await create_dataset(gql, "shared")
    await gql.data(
        """mutation($d: ID!, $v: ID!) { addDatasetExamples(input: {datasetId: $d,
          datasetVersionId: $v, examples: [{input: {q: 1}}]}) { examples { id } } }""",
        {"d": dataset_id, "v": version_id},
    )
    ids = []
    for i in range(50):
        experiment = await create_experiment(
            gql,
            f"race-{i}",
            "EVALUATION",
            evaluation={"datasetId": dataset_id, "datasetVersionId": version_id},
        )
        await gql.data(
            """mutation($e: ID!) { createExecutionConfig(input: {experimentId: $e,
              taskConfig: {modelProvider: "echo", modelName: "e"}}) { executionConfig { id } } }""",
            {"e": experiment["id"]},
        )
        ids.append(experiment["id"])
    app = create_app(settings, db=db)

    async def worker(n: int) -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://w") as http:
            client = GraphQLClient(http)
            mine = []
            while True:
                claim = (await client.data(CLAIM, {"w": f"w{n}"}))["claimExecution"]["claim"]
                if claim is None:
                    return mine
                mine.append(claim["experiment"]["id"])

    results = await asyncio.gather(*(worker(n) for n in range(16)))
    claimed = [i for r in results for i in r]
    assert sorted(claimed) == sorted(ids)  # every experiment exactly once


async def test_credentials_are_encrypted_and_never_returned(gql, db, settings):
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    app = create_app(settings.model_copy(update={"encryption_key": key}), db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://k") as http:
        client = GraphQLClient(http)
        created = await client.post(
            """mutation { createCustomProvider(input: {name: "acme", providerKind: "openai",
              baseUrl: "https://llm.example", credentials: {apiKey: "sk-very-secret-123"}}) {
              customProvider { id name hasCredentials } } }"""
        )
        assert "sk-very-secret" not in str(created)
        provider = created["data"]["createCustomProvider"]["customProvider"]
        assert provider["hasCredentials"] is True
        experiment_id, _ = await setup_evaluation(client, name="with-provider")
        async with db.read() as session:
            raw = await session.scalar(select(models.CustomProvider.credentials_encrypted))
            configs = (
                await session.execute(text("SELECT task_config FROM experiment_execution_configs"))
            ).all()
        assert b"sk-very-secret" not in raw
        assert "sk-very-secret" not in str(configs)
        # Point a config at the provider, then delete the provider: resume fails clearly.
        second, _ = await setup_evaluation(client, name="uses-acme")
        async with db.transaction() as session:
            pk = await session.scalar(select(models.CustomProvider.id))
            config = await session.get(
                models.ExecutionConfig,
                int(
                    __import__("expgraph.graphql.relay", fromlist=["decode_id"]).decode_id(second)[
                        1
                    ]
                ),
            )
            config.task_config = config.task_config.model_copy(update={"custom_provider_id": pk})
        await client.data(
            "mutation($id: ID!) { deleteCustomProvider(input: {id: $id}) "
            "{ customProvider { name } } }",
            {"id": provider["id"]},
        )
        body = await client.post(CLAIM, {"w": "w1", "e": second})
        assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
        assert "deleted" in body["errors"][0]["message"]
        assert experiment_id


async def test_without_an_encryption_key_credentials_are_refused(gql):
    code = await gql.error_code(
        """mutation { createCustomProvider(input: {name: "x", providerKind: "openai",
          credentials: {apiKey: "k"}}) { customProvider { id } } }"""
    )
    assert code == "BAD_REQUEST"


async def test_config_only_for_live_evaluation_experiments(gql):
    training = await create_experiment(gql, "t", "TRAINING")
    create = """mutation($e: ID!) { createExecutionConfig(input: {experimentId: $e,
      taskConfig: {modelProvider: "echo", modelName: "e"}}) { executionConfig { id } } }"""
    assert await gql.error_code(create, {"e": training["id"]}) == "BAD_REQUEST"
    no_dataset = await create_experiment(gql, "bare", "EVALUATION")
    assert await gql.error_code(create, {"e": no_dataset["id"]}) == "BAD_REQUEST"
    experiment_id, _ = await setup_evaluation(gql, name="twice")
    assert await gql.error_code(create, {"e": experiment_id}) == "CONFLICT"
    bad_task = """mutation($e: ID!) { createExecutionConfig(input: {experimentId: $e,
      taskConfig: {modelProvider: "", modelName: "e"}}) { executionConfig { id } } }"""
    assert await gql.error_code(bad_task, {"e": no_dataset["id"]}) == "BAD_REQUEST"
    data = await gql.data(
        "query($e: ID!) { node(id: $e) { ... on Experiment { executionConfig { id } } } }",
        {"e": training["id"]},
    )
    assert data["node"]["executionConfig"] is None


async def test_two_workers_racing_for_one_orphan_one_wins(gql, db, settings):
    experiment_id, _ = await setup_evaluation(gql)
    await gql.data(CLAIM, {"w": "crashed", "e": experiment_id})
    async with db.transaction() as session:  # its heartbeat is an hour old
        await session.execute(
            text(
                "UPDATE experiment_execution_configs SET claimed_at = "
                + (
                    "statement_timestamp() - interval '1 hour'"
                    if db.dialect == "postgresql"
                    else "strftime('%Y-%m-%d %H:%M:%f000', 'now', '-1 hour')"
                )
            )
        )
    app = create_app(settings, db=db)

    async def contender(name: str) -> dict:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://r") as http:
            return await GraphQLClient(http).post(CLAIM, {"w": name, "e": experiment_id})

    bodies = await asyncio.gather(*(contender(f"rescuer-{i}") for i in range(8)))
    winners = [b for b in bodies if not b.get("errors")]
    assert len(winners) == 1
    assert winners[0]["data"]["claimExecution"]["claim"]["fencingToken"] == "2"
    assert all(
        b["errors"][0]["extensions"]["code"] == "CONFLICT" for b in bodies if b.get("errors")
    )


async def test_filtered_run_pages_in_turn_each_get_their_own_rows(gql):
    """Page statements are built once per relation, filter and page and reused
    across requests: requests with different filters, one after the other,
    each get their own rows."""
    experiment_id, example_ids = await setup_evaluation(gql, examples=4, repetitions=1)
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    holder = {"e": experiment_id, "w": "w1", "t": "1"}
    await gql.data(RECORD, {**holder, "runs": runs_for(example_ids[:3], 1)})
    await gql.data(RECORD, {**holder, "runs": runs_for(example_ids[3:], 1, error="timeout")})
    query = """query($e: ID!, $f: ExperimentRunFilter, $n: Int) { node(id: $e) {
      ... on EvaluationExperiment { runs(filter: $f, first: $n) {
        totalCount edges { node { error example { id } } } } } } }"""
    expected = [
        ({"hasError": True}, None, [example_ids[3]]),
        ({"hasError": False}, None, example_ids[:3]),
        (None, None, example_ids),
        ({"hasError": False}, 2, example_ids[:2]),
        ({"datasetExampleId": example_ids[1]}, None, [example_ids[1]]),
        ({"hasError": True}, None, [example_ids[3]]),
    ]
    for _ in range(2):
        for run_filter, first, examples in expected:
            runs = (await gql.data(query, {"e": experiment_id, "f": run_filter, "n": first}))[
                "node"
            ]["runs"]
            got = [edge["node"]["example"]["id"] for edge in runs["edges"]]
            assert sorted(got) == sorted(examples), (run_filter, first)
