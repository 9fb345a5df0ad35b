"""Error messages name the GraphQL field and read as English (issue 14).

Each kind of message is asserted over HTTP: a kind's required field names its
GraphQL path, a removed required field, a python-named validation field, an id
of the wrong type (with "a"/"an"), a missing referenced node by its GraphQL
type name, and a JSON key expgraph itself reads.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient
from tests.helpers import CREATE_EXPERIMENT, create_experiment

UPDATE = """mutation($input: UpdateExperimentInput!) {
  updateExperiment(input: $input) { experiment { id } } }"""


async def _error(gql: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await gql.post(query, variables)
    assert body.get("errors"), f"expected an error, got {body}"
    error: dict[str, Any] = body["errors"][0]
    return error


async def test_a_kind_without_its_required_block_names_the_graphql_field(gql):
    error = await _error(gql, CREATE_EXPERIMENT, {"input": {"kind": "SIMULATION", "name": "s"}})
    assert error["message"] == "a SIMULATION experiment needs simulation.masterSeed"
    assert error["extensions"]["field"] == "simulation"
    error = await _error(gql, CREATE_EXPERIMENT, {"input": {"kind": "RESEARCH", "name": "r"}})
    assert error["message"] == "a RESEARCH experiment needs research.hypothesis"


async def test_another_kinds_block_is_named_as_in_graphql_with_an_article(gql):
    payload = {"kind": "EVALUATION", "name": "e", "abTest": {"unitType": "USER"}}
    error = await _error(gql, CREATE_EXPERIMENT, {"input": payload})
    assert error["message"] == "the abTest block does not apply to an EVALUATION experiment"
    assert error["extensions"]["field"] == "abTest"


async def test_a_required_field_cannot_be_removed_and_is_named_by_its_graphql_path(gql):
    simulation = await create_experiment(gql, "s", "SIMULATION")
    error = await _error(
        gql, UPDATE, {"input": {"id": simulation["id"], "simulation": {"masterSeed": None}}}
    )
    assert error["message"] == "simulation.masterSeed cannot be removed"
    research = await create_experiment(gql, "r", "RESEARCH")
    error = await _error(
        gql, UPDATE, {"input": {"id": research["id"], "research": {"hypothesis": "  "}}}
    )
    assert error["message"] == "research.hypothesis cannot be removed"


async def test_validation_messages_name_the_graphql_field_not_the_column(gql):
    payload = {
        "kind": "SIMULATION",
        "name": "s",
        "simulation": {"masterSeed": "1", "convergenceReason": "x" * 256},
    }
    error = await _error(gql, CREATE_EXPERIMENT, {"input": {**payload}})
    assert error["message"] == "convergenceReason is longer than 255 characters"
    assert error["extensions"]["field"] == "convergenceReason"
    payload = {"kind": "TRAINING", "name": "t", "training": {"totalEpochs": -1}}
    error = await _error(gql, CREATE_EXPERIMENT, {"input": payload})
    assert error["message"] == "totalEpochs must be >= 0"


async def test_an_id_of_another_type_says_which_type_with_a_or_an(gql):
    tag_id = "VGFnOjE"  # Tag:1
    error = await _error(gql, UPDATE, {"input": {"id": tag_id, "name": "x"}})
    assert error["message"] == f"id '{tag_id}' is not an Experiment id"
    assert error["extensions"]["code"] == "BAD_REQUEST"


async def test_a_missing_referenced_node_is_named_by_its_graphql_type(gql):
    payload = {
        "kind": "EVALUATION",
        "name": "e",
        "evaluation": {"datasetVersionId": "RGF0YXNldFZlcnNpb246OTk5"},  # DatasetVersion:999
    }
    error = await _error(gql, CREATE_EXPERIMENT, {"input": payload})
    assert error["message"] == "no DatasetVersion with that id"
    assert error["extensions"]["field"] == "datasetVersionId"


async def test_a_null_for_a_field_that_cannot_be_null_names_its_graphql_field(gql):
    made = await gql.data(
        'mutation { createUser(input: {username: "sam", email: "s@example.com", '
        'password: "correct horse battery"}) { user { id } } }'
    )
    update = """mutation($id: ID!) { updateUser(input: {id: $id, isActive: null}) {
      user { id } } }"""
    error = await _error(gql, update, {"id": made["createUser"]["user"]["id"]})
    assert error["message"] == "isActive cannot be null"
    assert error["extensions"]["field"] == "isActive"
