"""Small builders shared by tests: create things through the public API."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

CREATE_EXPERIMENT = """
mutation($input: CreateExperimentInput!) {
  createExperiment(input: $input) {
    experiment { id name kind status createdAt updatedAt deletedAt }
  }
}"""

KIND_BLOCKS: dict[str, dict[str, Any]] = {
    "EVALUATION": {},
    "AB_TEST": {"abTest": {"unitType": "USER"}},
    "SIMULATION": {"simulation": {"masterSeed": "42"}},
    "TRAINING": {"training": {"modelType": "cnn"}},
    "RESEARCH": {"research": {"hypothesis": "People like it"}},
}


async def create_experiment(
    gql: GraphQLClient, name: str, kind: str = "TRAINING", **fields: Any
) -> dict[str, Any]:
    payload = {"kind": kind, "name": name, **KIND_BLOCKS[kind], **fields}
    data = await gql.data(CREATE_EXPERIMENT, {"input": payload})
    experiment: dict[str, Any] = data["createExperiment"]["experiment"]
    return experiment


async def create_tag(gql: GraphQLClient, name: str) -> dict[str, Any]:
    data = await gql.data(
        "mutation($n: String!) { createTag(input: {name: $n}) { tag { id name slug usageCount } } }",
        {"n": name},
    )
    tag: dict[str, Any] = data["createTag"]["tag"]
    return tag


async def tag_experiment(gql: GraphQLClient, experiment_id: str, tag_id: str) -> None:
    await gql.data(
        "mutation($e: ID!, $t: ID!) { tagExperiment(input: {experimentId: $e, tagId: $t}) { changed } }",
        {"e": experiment_id, "t": tag_id},
    )


async def create_dataset(gql: GraphQLClient, name: str) -> tuple[str, str]:
    """A dataset with one version; returns (dataset id, version id)."""
    data = await gql.data(
        "mutation($n: String!) { createDataset(input: {name: $n}) { dataset { id } } }", {"n": name}
    )
    dataset_id = data["createDataset"]["dataset"]["id"]
    data = await gql.data(
        "mutation($d: ID!) { createDatasetVersion(input: {datasetId: $d}) { datasetVersion { id } } }",
        {"d": dataset_id},
    )
    return dataset_id, data["createDatasetVersion"]["datasetVersion"]["id"]


async def count_experiments(gql: GraphQLClient, include_deleted: bool = True) -> int:
    data = await gql.data(
        "query($d: Boolean!) { experiments(includeDeleted: $d) { totalCount } }",
        {"d": include_deleted},
    )
    return int(data["experiments"]["totalCount"])
