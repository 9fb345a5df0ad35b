"""Policies and policy versions (issue 15): CRUD, version numbers under
concurrency, status rules, and the variants that use a version (both dialects, over HTTP)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import GraphQLClient
from tests.test_abtest_variants import STATUS, ab_test, error, variant

CREATE_POLICY = """mutation($input: CreatePolicyInput!) {
  createPolicy(input: $input) { policy { id name description createdAt } } }"""
UPDATE_POLICY = """mutation($input: UpdatePolicyInput!) {
  updatePolicy(input: $input) { policy { id name description } } }"""
DELETE_POLICY = """mutation($id: ID!) { deletePolicy(input: {id: $id}) { deletedId } }"""
CREATE_VERSION = """mutation($input: CreatePolicyVersionInput!) {
  createPolicyVersion(input: $input) { policyVersion {
    id version status mlflowModelName mlflowModelVersion configDefaults policy { id name } } } }"""
UPDATE_VERSION = """mutation($input: UpdatePolicyVersionInput!) {
  updatePolicyVersion(input: $input) { policyVersion { id status configDefaults } } }"""


async def policy(gql: GraphQLClient, name: str) -> dict[str, Any]:
    data = await gql.data(CREATE_POLICY, {"input": {"name": name, "description": "plans"}})
    created: dict[str, Any] = data["createPolicy"]["policy"]
    return created


async def version(gql: GraphQLClient, policy_id: str, model_version: str = "1") -> Any:
    payload = {
        "policyId": policy_id,
        "mlflowModelName": "planner_model",
        "mlflowModelVersion": model_version,
        "configDefaults": {"temperature": 0.7},
    }
    return (await gql.data(CREATE_VERSION, {"input": payload}))["createPolicyVersion"][
        "policyVersion"
    ]


async def test_policy_crud(gql):
    planner = await policy(gql, "planner")
    assert (planner["name"], planner["description"]) == ("planner", "plans")
    found = await error(gql, CREATE_POLICY, {"input": {"name": "planner"}})
    assert (found["code"], found["field"]) == ("CONFLICT", "name")
    renamed = await gql.data(
        UPDATE_POLICY, {"input": {"id": planner["id"], "name": "planner-2", "description": None}}
    )
    assert renamed["updatePolicy"]["policy"]["name"] == "planner-2"
    assert renamed["updatePolicy"]["policy"]["description"] is None
    listed = await gql.data("query { policies(first: 10) { edges { node { name } } } }")
    assert [e["node"]["name"] for e in listed["policies"]["edges"]] == ["planner-2"]
    await version(gql, planner["id"])
    assert (await error(gql, DELETE_POLICY, {"id": planner["id"]}))["code"] == "CONFLICT"
    empty = await policy(gql, "empty")
    deleted = await gql.data(DELETE_POLICY, {"id": empty["id"]})
    assert deleted["deletePolicy"]["deletedId"] == empty["id"]
    node = await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": empty["id"]})
    assert node["node"] is None


async def test_concurrent_versions_get_the_next_integers(gql):
    planner = await policy(gql, "planner")
    made = await asyncio.gather(*(version(gql, planner["id"], str(i)) for i in range(8)))
    assert sorted(v["version"] for v in made) == list(range(1, 9))
    assert all(v["status"] == "ACTIVE" and v["policy"]["id"] == planner["id"] for v in made)
    assert made[0]["configDefaults"] == {"temperature": 0.7}
    listed = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Policy { versions { version } } } }",
        {"id": planner["id"]},
    )
    assert [v["version"] for v in listed["node"]["versions"]] == list(range(1, 9))


async def test_status_rules_and_the_variants_using_a_version(gql):
    planner = await policy(gql, "planner")
    used, unused = await version(gql, planner["id"]), await version(gql, planner["id"], "2")
    experiment_id = await ab_test(gql, "uses-it")
    legacy = await variant(gql, experiment_id, "legacy", config={"policy_version_id": used["id"]})
    modern = {
        "execution_strategy": "mlflow_model",
        "mlflow_model": {"policy_version_id": used["id"]},
    }
    typed = await variant(gql, experiment_id, "typed", allocation="0.25", config=modern)
    versions = await gql.data(
        """query($a: ID!, $b: ID!) {
          a: node(id: $a) { ... on PolicyVersion { variants { id } } }
          b: node(id: $b) { ... on PolicyVersion { variants { id } } } }""",
        {"a": used["id"], "b": unused["id"]},
    )
    assert [v["id"] for v in versions["a"]["variants"]] == [legacy["id"], typed["id"]]
    assert versions["b"]["variants"] == []
    deprecated = await gql.data(
        UPDATE_VERSION, {"input": {"id": used["id"], "status": "DEPRECATED"}}
    )
    assert deprecated["updatePolicyVersion"]["policyVersion"]["status"] == "DEPRECATED"
    await gql.data(STATUS, {"id": experiment_id, "status": "RUNNING"})
    archive = {"id": used["id"], "status": "ARCHIVED"}
    found = await error(gql, UPDATE_VERSION, {"input": archive})
    assert (found["code"], found["field"]) == ("CONFLICT", "status")
    await gql.data(STATUS, {"id": experiment_id, "status": "COMPLETED"})
    archived = await gql.data(UPDATE_VERSION, {"input": archive})
    assert archived["updatePolicyVersion"]["policyVersion"]["status"] == "ARCHIVED"
    back = {"id": used["id"], "status": "ACTIVE"}
    assert (await error(gql, UPDATE_VERSION, {"input": back}))["code"] == "CONFLICT"
    assert await gql.data(UPDATE_VERSION, {"input": {"id": unused["id"], "status": "ARCHIVED"}})


RECORD = """mutation($input: RecordOfflineReplayResultInput!) {
  recordOfflineReplayResult(input: $input) { offlineReplayResult {
    id datasetVersion planAlignmentScore diversityScore leftoversScore status errorMessage
    isBetterThanBaseline baselineVersion { id } } } }"""
REPLAYS = """query($id: ID!) { node(id: $id) { ... on PolicyVersion {
  replayResults(first: 10) { totalCount edges { node { datasetVersion planAlignmentScore } } }
} } }"""


async def test_offline_replay_results_keep_exact_scores(gql):
    planner = await policy(gql, "planner")
    baseline, candidate = await version(gql, planner["id"]), await version(gql, planner["id"], "2")
    given = {
        "policyVersionId": candidate["id"],
        "datasetVersion": "meals-2026-01",
        "planAlignmentScore": "0.123456",
        "diversityScore": "9999.999999",
        "baselineVersionId": baseline["id"],
        "isBetterThanBaseline": True,
    }
    made = (await gql.data(RECORD, {"input": given}))["recordOfflineReplayResult"][
        "offlineReplayResult"
    ]
    assert (made["planAlignmentScore"], made["diversityScore"]) == ("0.123456", "9999.999999")
    assert made["leftoversScore"] is None and made["status"] == "COMPLETED"
    assert made["baselineVersion"] == {"id": baseline["id"]} and made["isBetterThanBaseline"]
    for bad, field in (
        ({"planAlignmentScore": "10000"}, "planAlignmentScore"),
        ({"planAlignmentScore": "0.1234567"}, "planAlignmentScore"),
        ({"baselineVersionId": candidate["id"]}, "baselineVersionId"),
        ({"status": "FAILED"}, "errorMessage"),
    ):
        found = await error(gql, RECORD, {"input": {**given, **bad}})
        assert (found["code"], found["field"]) == ("BAD_REQUEST", field), bad
    failed = {**given, "status": "FAILED", "errorMessage": "dataset missing", "datasetVersion": "x"}
    await gql.data(RECORD, {"input": failed})
    replays = (await gql.data(REPLAYS, {"id": candidate["id"]}))["node"]["replayResults"]
    assert replays["totalCount"] == 2
    assert [e["node"]["datasetVersion"] for e in replays["edges"]] == ["x", "meals-2026-01"]


POLICY_PAGE = """query { policies(first: 50) { edges { node { name
  versions { version policy { name } variants { name } replayResults(first: 5) { totalCount } }
} } } }"""


async def test_a_page_of_policies_loads_versions_and_variants_in_fixed_statements(gql, statements):
    experiment_id = await ab_test(gql, "shared")
    counts = []
    made = 0
    for n in (2, 5):
        for i in range(made, n):
            p = await policy(gql, f"p{i}")
            for j in range(2):
                v = await version(gql, p["id"], str(j))
                config = {"policy_version_id": v["id"]}
                await variant(gql, experiment_id, f"v{i}-{j}", allocation="0.01", config=config)
        made = n
        statements.reset()
        data = await gql.data(POLICY_PAGE)
        counts.append(statements.count)
        nodes = [e["node"] for e in data["policies"]["edges"]]
        assert len(nodes) == n
        for node in nodes:
            assert [v["version"] for v in node["versions"]] == [1, 2]
            assert [len(v["variants"]) for v in node["versions"]] == [1, 1]
            assert all(v["policy"]["name"] == node["name"] for v in node["versions"])
    assert counts[0] == counts[1], counts
