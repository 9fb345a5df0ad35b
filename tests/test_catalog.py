"""Catalog through the HTTP API: tags (and their links to experiments), datasets,
versions, examples and signals, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from expgraph.domains.catalog import models as catalog_models
from expgraph.graphql.relay import decode_id, encode_id
from tests.conftest import GraphQLClient

# --- documents ---------------------------------------------------------------------

TAG_FIELDS = "id name slug color usageCount createdAt updatedAt"

CREATE_TAG = (
    "mutation($input: CreateTagInput!) { createTag(input: $input) { tag { " + TAG_FIELDS + " } } }"
)
UPDATE_TAG = (
    "mutation($input: UpdateTagInput!) { updateTag(input: $input) { tag { " + TAG_FIELDS + " } } }"
)
DELETE_TAG = "mutation($id: ID!) { deleteTag(input: {id: $id}) { tag { id name slug } } }"
TAG_EXPERIMENT = """
mutation($e: ID!, $t: ID!) {
  tagExperiment(input: {experimentId: $e, tagId: $t}) {
    changed experiment { id name } tag { id usageCount }
  }
}"""
UNTAG_EXPERIMENT = TAG_EXPERIMENT.replace("tagExperiment", "untagExperiment")
TAG_STATE = """
query($id: ID!) {
  node(id: $id) {
    ... on Tag { id name slug usageCount experiments { totalCount edges { node { id } } } }
  }
}"""
TAGS_PAGE = """
query($filter: TagFilter, $orderBy: [TagOrder!], $first: Int, $after: String,
      $last: Int, $before: String) {
  tags(filter: $filter, orderBy: $orderBy, first: $first, after: $after,
       last: $last, before: $before) {
    totalCount
    edges { cursor node { name slug usageCount } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
CREATE_EXPERIMENT = """
mutation($input: CreateExperimentInput!) {
  createExperiment(input: $input) { experiment { id name kind } }
}"""
DATASET_FIELDS = (
    "id name description metadata numSignals faultTypes severityLevels filePath "
    "createdAt updatedAt createdBy { id }"
)
CREATE_DATASET = (
    "mutation($input: CreateDatasetInput!) { createDataset(input: $input) { dataset { "
    + DATASET_FIELDS
    + " } } }"
)
CREATE_VERSION = """
mutation($input: CreateDatasetVersionInput!) {
  createDatasetVersion(input: $input) {
    datasetVersion { id description metadata createdAt dataset { id name } }
  }
}"""
ADD_EXAMPLES = """
mutation($input: AddDatasetExamplesInput!) {
  addDatasetExamples(input: $input) {
    dataset { id }
    datasetVersion { id }
    examples { id input output metadata createdAt version { id } dataset { id } }
  }
}"""
DATASET_COUNTS = """
query($id: ID!) {
  node(id: $id) {
    ... on Dataset {
      versions { totalCount }
      examples { totalCount }
    }
  }
}"""
VERSION_EXAMPLE_COUNT = """
query($id: ID!) { node(id: $id) { ... on DatasetVersion { examples { totalCount } } } }"""
DATASETS_PAGE = """
query($filter: DatasetFilter, $orderBy: [DatasetOrder!], $first: Int, $after: String) {
  datasets(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""

KIND_BLOCKS: dict[str, dict[str, Any]] = {
    "TRAINING": {},
    "EVALUATION": {},
    "AB_TEST": {"abTest": {"unitType": "USER"}},
    "SIMULATION": {"simulation": {"masterSeed": "123"}},
    "RESEARCH": {"research": {"hypothesis": "Tags make things findable"}},
}


# --- helpers -----------------------------------------------------------------------


def missing_id(type_name: str) -> str:
    """A well-formed global id of ``type_name`` that names no row."""
    return encode_id(type_name, 987_654_321)


async def create_tag(gql: GraphQLClient, name: str, color: str | None = None) -> dict[str, Any]:
    data = await gql.data(CREATE_TAG, {"input": {"name": name, "color": color}})
    tag: dict[str, Any] = data["createTag"]["tag"]
    return tag


async def tag_total(gql: GraphQLClient) -> int:
    return int((await gql.data("{ tags { totalCount } }"))["tags"]["totalCount"])


async def tag_state(gql: GraphQLClient, tag_id: str) -> dict[str, Any]:
    node: dict[str, Any] = (await gql.data(TAG_STATE, {"id": tag_id}))["node"]
    return node


async def assert_usage_matches_links(gql: GraphQLClient, tag_id: str, expected: int) -> None:
    state = await tag_state(gql, tag_id)
    assert state["experiments"]["totalCount"] == expected, state
    assert len(state["experiments"]["edges"]) == expected, state
    assert state["usageCount"] == expected, state


async def create_experiment(
    gql: GraphQLClient, name: str, kind: str = "TRAINING", **fields: Any
) -> dict[str, Any]:
    payload = {"kind": kind, "name": name, **KIND_BLOCKS[kind], **fields}
    data = await gql.data(CREATE_EXPERIMENT, {"input": payload})
    experiment: dict[str, Any] = data["createExperiment"]["experiment"]
    return experiment


async def set_link(
    gql: GraphQLClient, experiment_id: str, tag_id: str, linked: bool = True
) -> bool:
    document = TAG_EXPERIMENT if linked else UNTAG_EXPERIMENT
    data = await gql.data(document, {"e": experiment_id, "t": tag_id})
    payload = data["tagExperiment" if linked else "untagExperiment"]
    assert payload["experiment"]["id"] == experiment_id
    assert payload["tag"]["id"] == tag_id
    return bool(payload["changed"])


async def tags_page(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await gql.data(TAGS_PAGE, variables))["tags"]
    return page


async def tag_names(gql: GraphQLClient, **variables: Any) -> list[str]:
    page = await tags_page(gql, **variables)
    return [edge["node"]["name"] for edge in page["edges"]]


async def create_dataset(gql: GraphQLClient, name: str, **fields: Any) -> dict[str, Any]:
    data = await gql.data(CREATE_DATASET, {"input": {"name": name, **fields}})
    dataset: dict[str, Any] = data["createDataset"]["dataset"]
    return dataset


async def dataset_total(gql: GraphQLClient) -> int:
    return int((await gql.data("{ datasets { totalCount } }"))["datasets"]["totalCount"])


async def create_version(
    gql: GraphQLClient, dataset_id: str, description: str | None = None, metadata: Any = None
) -> dict[str, Any]:
    data = await gql.data(
        CREATE_VERSION,
        {"input": {"datasetId": dataset_id, "description": description, "metadata": metadata}},
    )
    version: dict[str, Any] = data["createDatasetVersion"]["datasetVersion"]
    return version


def examples_input(dataset_id: str, version_id: str, examples: list[Any]) -> dict[str, Any]:
    return {
        "input": {"datasetId": dataset_id, "datasetVersionId": version_id, "examples": examples}
    }


async def add_examples(
    gql: GraphQLClient, dataset_id: str, version_id: str, examples: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    data = await gql.data(ADD_EXAMPLES, examples_input(dataset_id, version_id, examples))
    payload = data["addDatasetExamples"]
    assert payload["dataset"]["id"] == dataset_id
    assert payload["datasetVersion"]["id"] == version_id
    rows: list[dict[str, Any]] = payload["examples"]
    return rows


async def dataset_counts(gql: GraphQLClient, dataset_id: str) -> tuple[int, int]:
    """(versions, examples) of a dataset."""
    node = (await gql.data(DATASET_COUNTS, {"id": dataset_id}))["node"]
    return node["versions"]["totalCount"], node["examples"]["totalCount"]


async def version_example_count(gql: GraphQLClient, version_id: str) -> int:
    node = (await gql.data(VERSION_EXAMPLE_COUNT, {"id": version_id}))["node"]
    return int(node["examples"]["totalCount"])


async def dataset_names(gql: GraphQLClient, **variables: Any) -> list[str]:
    page = (await gql.data(DATASETS_PAGE, variables))["datasets"]
    return [edge["node"]["name"] for edge in page["edges"]]


# --- createTag ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stored_name", "slug"),
    [
        ("Hello World!", "Hello World!", "hello-world"),
        ("  Padded   Name  ", "Padded   Name", "padded-name"),
        ("Café Crème", "Café Crème", "cafe-creme"),
        ("ML/Ops__v2.0", "ML/Ops__v2.0", "ml-ops-v2-0"),
        ("x" * 50, "x" * 50, "x" * 50),
    ],
)
async def test_create_tag_derives_slug_from_name(gql, name, stored_name, slug):
    tag = await create_tag(gql, name, "#A1b2C3")
    assert tag["name"] == stored_name
    assert tag["slug"] == slug
    assert tag["color"].lower() == "#a1b2c3"
    assert tag["usageCount"] == 0
    assert tag["createdAt"].endswith("Z")
    node = await gql.data("query($id: ID!) { node(id: $id) { __typename id } }", {"id": tag["id"]})
    assert node["node"] == {"__typename": "Tag", "id": tag["id"]}
    page = await tags_page(gql, filter={"slugs": [slug]})
    assert page["totalCount"] == 1
    assert page["edges"][0]["node"]["name"] == stored_name


async def test_create_tag_without_color(gql):
    tag = await create_tag(gql, "plain")
    assert tag["color"] is None


@pytest.mark.parametrize(
    "color",
    ["red", "#12345", "#1234567", "123456", "#gggggg", "", "#12 456", "#a1b2c3\n", " #a1b2c3"],
)
async def test_create_tag_rejects_malformed_color(gql, color):
    await create_tag(gql, "existing")
    code = await gql.error_code(CREATE_TAG, {"input": {"name": "colored", "color": color}})
    assert code == "BAD_REQUEST"
    assert await tag_total(gql) == 1


@pytest.mark.parametrize(
    "name",
    ["", "    ", "x" * 51, " " + "y" * 51 + " ", "!!!", "—…—"],
    ids=["empty", "blank", "51-chars", "51-chars-padded", "punctuation", "no-ascii-letters"],
)
async def test_create_tag_rejects_bad_name(gql, name):
    await create_tag(gql, "existing")
    assert await gql.error_code(CREATE_TAG, {"input": {"name": name}}) == "BAD_REQUEST"
    assert await tag_total(gql) == 1


async def test_create_tag_rejects_nul_character_cleanly(gql):
    code = await gql.error_code(CREATE_TAG, {"input": {"name": "nul\x00byte"}})
    assert code == "BAD_REQUEST"
    assert await tag_total(gql) == 0


@pytest.mark.parametrize(
    "duplicate", ["Hello World!", "  Hello World!  ", "hello world", "HELLO-WORLD", "hello_world"]
)
async def test_create_tag_duplicate_name_or_slug_conflicts(gql, duplicate):
    original = await create_tag(gql, "Hello World!")
    assert await gql.error_code(CREATE_TAG, {"input": {"name": duplicate}}) == "CONFLICT"
    assert await tag_total(gql) == 1
    assert (await tag_state(gql, original["id"]))["name"] == "Hello World!"


async def test_concurrent_create_tag_same_name_one_wins(gql):
    bodies = await asyncio.gather(
        *(gql.post(CREATE_TAG, {"input": {"name": "raced"}}) for _ in range(8))
    )
    winners = [b for b in bodies if not b.get("errors")]
    codes = [b["errors"][0]["extensions"]["code"] for b in bodies if b.get("errors")]
    assert len(winners) == 1, bodies
    assert codes == ["CONFLICT"] * 7, bodies
    assert await tag_total(gql) == 1


# --- updateTag / deleteTag ---------------------------------------------------------


async def test_update_tag_rename_changes_slug(gql):
    tag = await create_tag(gql, "Old Name", "#000000")
    data = await gql.data(UPDATE_TAG, {"input": {"id": tag["id"], "name": "New Name 2"}})
    updated = data["updateTag"]["tag"]
    assert updated["id"] == tag["id"]
    assert (updated["name"], updated["slug"]) == ("New Name 2", "new-name-2")
    assert updated["color"] == "#000000"
    assert updated["createdAt"] == tag["createdAt"]
    assert updated["updatedAt"] >= tag["updatedAt"]
    assert await tag_names(gql, filter={"slugs": ["old-name"]}) == []
    assert await tag_names(gql, filter={"slugs": ["new-name-2"]}) == ["New Name 2"]
    # The old name is free again.
    await create_tag(gql, "Old Name")
    assert await tag_total(gql) == 2


async def test_update_tag_color_only_keeps_name(gql):
    tag = await create_tag(gql, "Keep Me", "#111111")
    data = await gql.data(UPDATE_TAG, {"input": {"id": tag["id"], "color": "#ABCDEF"}})
    updated = data["updateTag"]["tag"]
    assert (updated["name"], updated["slug"]) == ("Keep Me", "keep-me")
    assert updated["color"].lower() == "#abcdef"
    cleared = await gql.data(UPDATE_TAG, {"input": {"id": tag["id"], "color": None}})
    assert cleared["updateTag"]["tag"]["color"] is None


async def test_update_tag_to_its_own_name_is_allowed(gql):
    tag = await create_tag(gql, "Same")
    data = await gql.data(UPDATE_TAG, {"input": {"id": tag["id"], "name": "Same"}})
    assert data["updateTag"]["tag"]["slug"] == "same"


@pytest.mark.parametrize("new_name", ["Taken", "taken", "TAKEN!"])
async def test_update_tag_rename_to_existing_conflicts(gql, new_name):
    await create_tag(gql, "Taken")
    tag = await create_tag(gql, "Mine", "#123456")
    code = await gql.error_code(
        UPDATE_TAG, {"input": {"id": tag["id"], "name": new_name, "color": "#654321"}}
    )
    assert code == "CONFLICT"
    state = await tag_state(gql, tag["id"])
    assert (state["name"], state["slug"]) == ("Mine", "mine")
    color = (
        await gql.data(
            "query($id: ID!) { node(id: $id) { ... on Tag { color } } }", {"id": tag["id"]}
        )
    )["node"]["color"]
    assert color == "#123456"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"name": None}, "BAD_REQUEST"),
        ({"name": ""}, "BAD_REQUEST"),
        ({"name": "z" * 51}, "BAD_REQUEST"),
        ({"name": "???"}, "BAD_REQUEST"),
        ({"color": "blue"}, "BAD_REQUEST"),
    ],
)
async def test_update_tag_rejects_bad_values(gql, change, code):
    tag = await create_tag(gql, "Stable", "#123456")
    assert await gql.error_code(UPDATE_TAG, {"input": {"id": tag["id"], **change}}) == code
    state = await tag_state(gql, tag["id"])
    assert (state["name"], state["slug"]) == ("Stable", "stable")


async def test_update_and_delete_tag_bad_ids(gql):
    experiment = await create_experiment(gql, "not-a-tag")
    for mutation in (UPDATE_TAG, DELETE_TAG):
        variables: dict[str, Any]
        for bad, code in (
            ("abc", "BAD_REQUEST"),
            (experiment["id"], "BAD_REQUEST"),
            (missing_id("Tag"), "NOT_FOUND"),
        ):
            if mutation is UPDATE_TAG:
                variables = {"input": {"id": bad, "name": "whatever"}}
            else:
                variables = {"id": bad}
            assert await gql.error_code(mutation, variables) == code, (mutation, bad)
    assert await tag_total(gql) == 0


async def test_delete_tag_removes_it_and_its_links(gql):
    doomed = await create_tag(gql, "Doomed")
    survivor = await create_tag(gql, "Survivor")
    experiments = [await create_experiment(gql, f"exp-{i}") for i in range(3)]
    for experiment in experiments:
        assert await set_link(gql, experiment["id"], doomed["id"])
    assert await set_link(gql, experiments[0]["id"], survivor["id"])
    await assert_usage_matches_links(gql, doomed["id"], 3)

    data = await gql.data(DELETE_TAG, {"id": doomed["id"]})
    assert data["deleteTag"]["tag"] == {"id": doomed["id"], "name": "Doomed", "slug": "doomed"}

    assert (await gql.data("query($id: ID!) { node(id: $id) { id } }", {"id": doomed["id"]}))[
        "node"
    ] is None
    assert await tag_names(gql) == ["Survivor"]
    tagged = await gql.data('{ experiments(filter: {tagSlugs: ["doomed"]}) { totalCount } }')
    assert tagged["experiments"]["totalCount"] == 0
    for experiment in experiments:
        node = (
            await gql.data(
                "query($id: ID!) { node(id: $id) { ... on Experiment { tags { totalCount "
                "edges { node { slug } } } } } }",
                {"id": experiment["id"]},
            )
        )["node"]
        slugs = [edge["node"]["slug"] for edge in node["tags"]["edges"]]
        assert slugs == (["survivor"] if experiment is experiments[0] else [])
        assert node["tags"]["totalCount"] == len(slugs)
    await assert_usage_matches_links(gql, survivor["id"], 1)

    # Deleting again: the tag is gone.
    assert await gql.error_code(DELETE_TAG, {"id": doomed["id"]}) == "NOT_FOUND"
    assert await gql.error_code(TAG_EXPERIMENT, {"e": experiments[0]["id"], "t": doomed["id"]}) == (
        "NOT_FOUND"
    )
    # The name can be used again, as a new tag that starts unused.
    again = await create_tag(gql, "Doomed")
    assert again["id"] != doomed["id"]
    await assert_usage_matches_links(gql, again["id"], 0)


# --- tagExperiment / untagExperiment -------------------------------------------------


async def test_tagging_counts_real_links_only(gql):
    tag = await create_tag(gql, "counted")
    kinds = ["TRAINING", "SIMULATION", "RESEARCH"]
    e1, e2, e3 = [await create_experiment(gql, f"e-{k}", k) for k in kinds]

    assert await set_link(gql, e1["id"], tag["id"]) is True
    await assert_usage_matches_links(gql, tag["id"], 1)
    assert await set_link(gql, e1["id"], tag["id"]) is False
    await assert_usage_matches_links(gql, tag["id"], 1)
    assert await set_link(gql, e2["id"], tag["id"]) is True
    await assert_usage_matches_links(gql, tag["id"], 2)

    assert await set_link(gql, e1["id"], tag["id"], linked=False) is True
    await assert_usage_matches_links(gql, tag["id"], 1)
    assert await set_link(gql, e1["id"], tag["id"], linked=False) is False
    await assert_usage_matches_links(gql, tag["id"], 1)
    assert await set_link(gql, e3["id"], tag["id"], linked=False) is False
    await assert_usage_matches_links(gql, tag["id"], 1)

    state = await tag_state(gql, tag["id"])
    assert [edge["node"]["id"] for edge in state["experiments"]["edges"]] == [e2["id"]]
    # The payload's tag shows the count after the change.
    data = await gql.data(TAG_EXPERIMENT, {"e": e3["id"], "t": tag["id"]})
    assert data["tagExperiment"]["tag"]["usageCount"] == 2
    data = await gql.data(TAG_EXPERIMENT, {"e": e3["id"], "t": tag["id"]})
    assert data["tagExperiment"] == {
        "changed": False,
        "experiment": {"id": e3["id"], "name": "e-RESEARCH"},
        "tag": {"id": tag["id"], "usageCount": 2},
    }


async def test_create_experiment_with_repeated_tag_ids_counts_once(gql):
    tag = await create_tag(gql, "once")
    other = await create_tag(gql, "other")
    experiment = await create_experiment(
        gql, "tagged-at-birth", tagIds=[tag["id"], tag["id"], other["id"]]
    )
    await assert_usage_matches_links(gql, tag["id"], 1)
    await assert_usage_matches_links(gql, other["id"], 1)
    assert await set_link(gql, experiment["id"], tag["id"]) is False
    await assert_usage_matches_links(gql, tag["id"], 1)


async def test_tagging_with_bad_ids_changes_nothing(gql):
    tag = await create_tag(gql, "careful")
    experiment = await create_experiment(gql, "careful-exp")
    cases = [
        ({"e": experiment["id"], "t": missing_id("Tag")}, "NOT_FOUND"),
        ({"e": missing_id("TrainingExperiment"), "t": tag["id"]}, "NOT_FOUND"),
        ({"e": experiment["id"], "t": "abc"}, "BAD_REQUEST"),
        ({"e": "abc", "t": tag["id"]}, "BAD_REQUEST"),
        ({"e": tag["id"], "t": tag["id"]}, "BAD_REQUEST"),
        ({"e": experiment["id"], "t": experiment["id"]}, "BAD_REQUEST"),
    ]
    for document in (TAG_EXPERIMENT, UNTAG_EXPERIMENT):
        for variables, code in cases:
            assert await gql.error_code(document, variables) == code, (document, variables)
    await assert_usage_matches_links(gql, tag["id"], 0)


async def test_concurrent_tagging_keeps_usage_count_equal_to_links(gql):
    tag = await create_tag(gql, "busy")
    fresh = [await create_experiment(gql, f"fresh-{i}") for i in range(10)]
    pretagged = [await create_experiment(gql, f"pre-{i}", "AB_TEST") for i in range(5)]
    for experiment in pretagged:
        assert await set_link(gql, experiment["id"], tag["id"])
    await assert_usage_matches_links(gql, tag["id"], 5)

    calls = [gql.post(TAG_EXPERIMENT, {"e": e["id"], "t": tag["id"]}) for e in fresh + fresh] + [
        gql.post(UNTAG_EXPERIMENT, {"e": e["id"], "t": tag["id"]}) for e in pretagged * 2
    ]
    bodies = await asyncio.gather(*calls)
    assert all(not body.get("errors") for body in bodies), [b for b in bodies if b.get("errors")]
    tagged = [b["data"]["tagExperiment"]["changed"] for b in bodies[:20]]
    untagged = [b["data"]["untagExperiment"]["changed"] for b in bodies[20:]]
    assert tagged.count(True) == 10, tagged
    assert untagged.count(True) == 5, untagged
    state = await tag_state(gql, tag["id"])
    assert sorted(edge["node"]["id"] for edge in state["experiments"]["edges"]) == sorted(
        e["id"] for e in fresh
    )
    await assert_usage_matches_links(gql, tag["id"], 10)


async def test_concurrent_mixed_tag_and_untag_on_same_pairs(gql):
    tag = await create_tag(gql, "churn")
    experiments = [await create_experiment(gql, f"churn-{i}") for i in range(6)]
    calls = []
    for round_ in range(4):
        for experiment in experiments:
            document = TAG_EXPERIMENT if round_ % 2 == 0 else UNTAG_EXPERIMENT
            calls.append(gql.post(document, {"e": experiment["id"], "t": tag["id"]}))
    bodies = await asyncio.gather(*calls)
    assert all(not body.get("errors") for body in bodies), [b for b in bodies if b.get("errors")]
    state = await tag_state(gql, tag["id"])
    links = state["experiments"]["totalCount"]
    assert 0 <= links <= len(experiments)
    assert state["usageCount"] == links, state
    changed = [
        (b["data"].get("tagExperiment") or b["data"].get("untagExperiment"))["changed"]
        for b in bodies
    ]
    links_added = sum(
        1 for b in bodies if "tagExperiment" in b["data"] and b["data"]["tagExperiment"]["changed"]
    )
    links_removed = changed.count(True) - links_added
    assert links_added - links_removed == links


async def test_concurrent_tagging_across_several_tags(gql):
    tags = [await create_tag(gql, f"multi-{i}") for i in range(3)]
    experiments = [await create_experiment(gql, f"multi-exp-{i}") for i in range(5)]
    calls = [
        gql.post(TAG_EXPERIMENT, {"e": e["id"], "t": t["id"]})
        for _ in range(2)
        for t in tags
        for e in experiments
    ]
    bodies = await asyncio.gather(*calls)
    assert all(not body.get("errors") for body in bodies), [b for b in bodies if b.get("errors")]
    for tag in tags:
        await assert_usage_matches_links(gql, tag["id"], 5)
    ordered = await tags_page(gql, orderBy=[{"field": "USAGE_COUNT", "direction": "DESC"}])
    assert [edge["node"]["usageCount"] for edge in ordered["edges"]] == [5, 5, 5]


# --- tags query --------------------------------------------------------------------

TAG_NAMES = ["Alpha", "Beta", "Gamma Ray", "Delta", "Epsilon_x", "Epsilonz", "Zeta 100%"]


async def seed_tags(gql: GraphQLClient) -> dict[str, dict[str, Any]]:
    return {name: await create_tag(gql, name) for name in TAG_NAMES}


async def test_tags_default_order_is_by_name(gql):
    await seed_tags(gql)
    page = await tags_page(gql)
    assert [edge["node"]["name"] for edge in page["edges"]] == sorted(TAG_NAMES)
    assert page["totalCount"] == len(TAG_NAMES)
    assert page["pageInfo"]["hasNextPage"] is False
    assert page["pageInfo"]["hasPreviousPage"] is False


@pytest.mark.parametrize(
    ("tag_filter", "expected"),
    [
        ({"nameContains": "ALPHA"}, ["Alpha"]),
        ({"nameContains": "ta"}, ["Beta", "Delta", "Zeta 100%"]),
        ({"nameContains": "_"}, ["Epsilon_x"]),
        ({"nameContains": "%"}, ["Zeta 100%"]),
        ({"nameContains": "nothing-like-it"}, []),
        ({"slugs": ["gamma-ray", "epsilon-x", "missing"]}, ["Epsilon_x", "Gamma Ray"]),
        ({"slugs": []}, []),
        ({"nameContains": "eta", "slugs": ["beta", "alpha"]}, ["Beta"]),
        ({"or": [{"slugs": ["alpha"]}, {"nameContains": "ray"}]}, ["Alpha", "Gamma Ray"]),
        (
            {"and": [{"nameContains": "psilon"}, {"not": {"slugs": ["epsilonz"]}}]},
            ["Epsilon_x"],
        ),
        (
            {"not": {"or": [{"nameContains": "a"}, {"nameContains": "e"}]}},
            [],
        ),
        (
            {"not": {"nameContains": "a"}},
            ["Epsilon_x", "Epsilonz"],
        ),
        (
            {"or": [{"and": [{"nameContains": "e"}, {"nameContains": "l"}]}, {"slugs": ["beta"]}]},
            ["Beta", "Delta", "Epsilon_x", "Epsilonz"],
        ),
    ],
)
async def test_tags_filter(gql, tag_filter, expected):
    await seed_tags(gql)
    page = await tags_page(gql, filter=tag_filter)
    assert [edge["node"]["name"] for edge in page["edges"]] == expected
    assert page["totalCount"] == len(expected)


async def test_tags_order_by_each_field(gql):
    created = await seed_tags(gql)
    experiments = [await create_experiment(gql, f"order-{i}") for i in range(3)]
    # usage: Delta 3, Alpha 2, Zeta 100% 1, the rest 0
    for name, count in (("Delta", 3), ("Alpha", 2), ("Zeta 100%", 1)):
        for experiment in experiments[:count]:
            await set_link(gql, experiment["id"], created[name]["id"])

    by_name_desc = await tag_names(gql, orderBy=[{"field": "NAME", "direction": "DESC"}])
    assert by_name_desc == sorted(TAG_NAMES, reverse=True)
    assert await tag_names(gql, orderBy=[{"field": "CREATED_AT"}]) == TAG_NAMES
    assert await tag_names(gql, orderBy=[{"field": "CREATED_AT", "direction": "DESC"}]) == list(
        reversed(TAG_NAMES)
    )
    usage_desc = await tags_page(
        gql, orderBy=[{"field": "USAGE_COUNT", "direction": "DESC"}, {"field": "NAME"}]
    )
    assert [(e["node"]["name"], e["node"]["usageCount"]) for e in usage_desc["edges"]] == [
        ("Delta", 3),
        ("Alpha", 2),
        ("Zeta 100%", 1),
        ("Beta", 0),
        ("Epsilon_x", 0),
        ("Epsilonz", 0),
        ("Gamma Ray", 0),
    ]
    usage_asc = await tag_names(
        gql,
        orderBy=[
            {"field": "USAGE_COUNT", "direction": "ASC"},
            {"field": "NAME", "direction": "DESC"},
        ],
    )
    assert usage_asc == [
        "Gamma Ray",
        "Epsilonz",
        "Epsilon_x",
        "Beta",
        "Zeta 100%",
        "Alpha",
        "Delta",
    ]
    code = await gql.error_code(TAGS_PAGE, {"orderBy": [{"field": "NAME"}, {"field": "NAME"}]})
    assert code == "BAD_REQUEST"
    code = await gql.error_code(TAGS_PAGE, {"orderBy": [{"field": "COLOR"}]})
    assert code == "BAD_REQUEST"


async def walk_tags(gql: GraphQLClient, size: int, **variables: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    after = None
    while True:
        page = await tags_page(gql, first=size, after=after, **variables)
        names = [edge["node"]["name"] for edge in page["edges"]]
        pages.append(names)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if names:
            assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
            assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
        if not page["pageInfo"]["hasNextPage"]:
            return pages
        after = page["pageInfo"]["endCursor"]
        assert len(pages) <= 20, pages


async def test_tags_pagination_forward_and_backward(gql):
    created = await seed_tags(gql)
    experiment = await create_experiment(gql, "paginated")
    for name in ("Beta", "Epsilonz", "Gamma Ray"):
        await set_link(gql, experiment["id"], created[name]["id"])

    pages = await walk_tags(gql, 3)
    assert pages == [
        ["Alpha", "Beta", "Delta"],
        ["Epsilon_x", "Epsilonz", "Gamma Ray"],
        ["Zeta 100%"],
    ]
    # Ties on usage count (mixed directions, then by name) page without loss or repeats.
    order = [{"field": "USAGE_COUNT", "direction": "DESC"}, {"field": "NAME", "direction": "ASC"}]
    pages = await walk_tags(gql, 2, orderBy=order)
    assert [n for page in pages for n in page] == [
        "Beta",
        "Epsilonz",
        "Gamma Ray",
        "Alpha",
        "Delta",
        "Epsilon_x",
        "Zeta 100%",
    ]
    assert all(len(page) == 2 for page in pages[:-1])
    # Filtered pagination.
    pages = await walk_tags(gql, 1, filter={"nameContains": "psilon"})
    assert pages == [["Epsilon_x"], ["Epsilonz"]]

    # Backward: the last two, then the two before them.
    page = await tags_page(gql, last=2)
    assert [e["node"]["name"] for e in page["edges"]] == ["Gamma Ray", "Zeta 100%"]
    assert page["pageInfo"]["hasPreviousPage"] is True
    before = await tags_page(gql, last=2, before=page["pageInfo"]["startCursor"])
    assert [e["node"]["name"] for e in before["edges"]] == ["Epsilon_x", "Epsilonz"]
    assert before["pageInfo"]["hasNextPage"] is True

    empty = await tags_page(gql, first=0)
    assert empty["edges"] == [] and empty["totalCount"] == len(TAG_NAMES)


async def test_tags_pagination_rejects_bad_arguments(gql):
    await seed_tags(gql)
    page = await tags_page(gql, first=2)
    cursor = page["pageInfo"]["endCursor"]
    bad = [
        {"first": -1},
        {"first": 100_000},
        {"first": 2, "after": "not-a-cursor"},
        {"first": 2, "after": cursor, "orderBy": [{"field": "CREATED_AT"}]},
        {"first": 2, "last": 2},
    ]
    for variables in bad:
        assert await gql.error_code(TAGS_PAGE, variables) == "BAD_REQUEST", variables


# --- datasets: create, versions, examples ------------------------------------------------


async def test_create_dataset_round_trips_fields(gql):
    dataset = await create_dataset(
        gql,
        "  Bearings  ",
        description="Vibration data",
        metadata={"source": "lab", "n": [1, 2]},
        numSignals=4,
        faultTypes=["inner", "outer"],
        severityLevels={"low": 1, "high": 3},
        filePath="/data/bearings",
    )
    assert dataset["name"] == "Bearings"
    assert dataset["description"] == "Vibration data"
    assert dataset["metadata"] == {"source": "lab", "n": [1, 2]}
    assert dataset["numSignals"] == 4
    assert dataset["faultTypes"] == ["inner", "outer"]
    assert dataset["severityLevels"] == {"low": 1, "high": 3}
    assert dataset["filePath"] == "/data/bearings"
    assert dataset["createdBy"] is None
    assert dataset["createdAt"].endswith("Z")

    minimal = await create_dataset(gql, "minimal")
    assert minimal["metadata"] == {}
    assert minimal["numSignals"] == 0
    assert minimal["description"] is None
    node = (
        await gql.data(
            "query($id: ID!) { node(id: $id) { __typename ... on Dataset { name } } }",
            {"id": minimal["id"]},
        )
    )["node"]
    assert node == {"__typename": "Dataset", "name": "minimal"}
    assert await dataset_counts(gql, minimal["id"]) == (0, 0)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": "dup"}, "CONFLICT"),
        ({"name": "  dup "}, "CONFLICT"),
        ({"name": ""}, "BAD_REQUEST"),
        ({"name": "   "}, "BAD_REQUEST"),
        ({"name": "n" * 256}, "BAD_REQUEST"),
        ({"name": "fresh", "metadata": [1, 2]}, "BAD_REQUEST"),
        ({"name": "fresh", "metadata": "text"}, "BAD_REQUEST"),
    ],
)
async def test_create_dataset_rejections_write_nothing(gql, fields, code):
    await create_dataset(gql, "dup")
    assert await gql.error_code(CREATE_DATASET, {"input": fields}) == code
    assert await dataset_total(gql) == 1


async def test_create_dataset_version(gql):
    dataset = await create_dataset(gql, "versioned")
    first = await create_version(gql, dataset["id"], "  initial  ", {"split": "train"})
    assert first["description"] == "initial"
    assert first["metadata"] == {"split": "train"}
    assert first["dataset"] == {"id": dataset["id"], "name": "versioned"}
    second = await create_version(gql, dataset["id"])
    assert second["description"] is None
    assert second["metadata"] == {}
    assert second["id"] != first["id"]
    assert await dataset_counts(gql, dataset["id"]) == (2, 0)


async def test_create_dataset_version_rejects_bad_dataset_ids(gql):
    dataset = await create_dataset(gql, "target")
    tag = await create_tag(gql, "not-a-dataset")
    version = await create_version(gql, dataset["id"])
    cases = [
        (missing_id("Dataset"), "NOT_FOUND"),
        ("abc", "BAD_REQUEST"),
        ("", "BAD_REQUEST"),
        (base64.urlsafe_b64encode(b"Dataset:x").decode(), "BAD_REQUEST"),
        (tag["id"], "BAD_REQUEST"),
        (version["id"], "BAD_REQUEST"),
    ]
    for dataset_id, code in cases:
        got = await gql.error_code(CREATE_VERSION, {"input": {"datasetId": dataset_id}})
        assert got == code, dataset_id
    code = await gql.error_code(
        CREATE_VERSION, {"input": {"datasetId": dataset["id"], "metadata": ["no"]}}
    )
    assert code == "BAD_REQUEST"
    assert await dataset_counts(gql, dataset["id"]) == (1, 0)


async def test_add_dataset_examples(gql):
    dataset = await create_dataset(gql, "qa")
    version = await create_version(gql, dataset["id"], "v1")
    rows = await add_examples(
        gql,
        dataset["id"],
        version["id"],
        [
            {"input": {"q": "2+2"}, "output": {"a": "4"}, "metadata": {"difficulty": 1}},
            {"input": {"q": "capital of France", "nested": {"deep": [1, None, True]}}},
        ],
    )
    assert len(rows) == 2
    assert rows[0]["input"] == {"q": "2+2"}
    assert rows[0]["output"] == {"a": "4"}
    assert rows[0]["metadata"] == {"difficulty": 1}
    assert rows[1]["input"] == {"q": "capital of France", "nested": {"deep": [1, None, True]}}
    assert rows[1]["output"] == {}
    assert rows[1]["metadata"] == {}
    for row in rows:
        assert row["version"] == {"id": version["id"]}
        assert row["dataset"] == {"id": dataset["id"]}
    assert await dataset_counts(gql, dataset["id"]) == (1, 2)
    assert await version_example_count(gql, version["id"]) == 2


@pytest.mark.parametrize(
    "bad_example",
    [
        {"input": "just text"},
        {"input": [1, 2, 3]},
        {"input": 42},
        {"input": None},
        {"input": {"ok": 1}, "output": "text"},
        {"input": {"ok": 1}, "output": [1]},
        {"input": {"ok": 1}, "metadata": 7},
    ],
    ids=[
        "input-string",
        "input-list",
        "input-number",
        "input-null",
        "output-string",
        "output-list",
        "metadata-number",
    ],
)
async def test_add_dataset_examples_is_all_or_none(gql, bad_example):
    dataset = await create_dataset(gql, "atomic")
    version = await create_version(gql, dataset["id"])
    good = [{"input": {"i": i}, "output": {"o": i}} for i in range(3)]
    batch = [*good[:2], bad_example, good[2]]
    code = await gql.error_code(ADD_EXAMPLES, examples_input(dataset["id"], version["id"], batch))
    assert code == "BAD_REQUEST"
    assert await dataset_counts(gql, dataset["id"]) == (1, 0)
    assert await version_example_count(gql, version["id"]) == 0
    # The same batch without the bad example lands whole.
    assert len(await add_examples(gql, dataset["id"], version["id"], good)) == 3
    assert await dataset_counts(gql, dataset["id"]) == (1, 3)


async def test_add_dataset_examples_rejects_bad_targets(gql):
    dataset = await create_dataset(gql, "mine")
    version = await create_version(gql, dataset["id"])
    other = await create_dataset(gql, "theirs")
    other_version = await create_version(gql, other["id"])
    tag = await create_tag(gql, "a-tag")
    example = [{"input": {"x": 1}}]
    cases = [
        ((dataset["id"], other_version["id"], example), "BAD_REQUEST"),
        ((other["id"], version["id"], example), "BAD_REQUEST"),
        ((dataset["id"], version["id"], []), "BAD_REQUEST"),
        ((dataset["id"], missing_id("DatasetVersion"), example), "NOT_FOUND"),
        ((missing_id("Dataset"), version["id"], example), "NOT_FOUND"),
        ((dataset["id"], "abc", example), "BAD_REQUEST"),
        (("abc", version["id"], example), "BAD_REQUEST"),
        ((tag["id"], version["id"], example), "BAD_REQUEST"),
        ((dataset["id"], tag["id"], example), "BAD_REQUEST"),
        ((dataset["id"], dataset["id"], example), "BAD_REQUEST"),
        ((version["id"], version["id"], example), "BAD_REQUEST"),
    ]
    for (dataset_id, version_id, examples), code in cases:
        got = await gql.error_code(ADD_EXAMPLES, examples_input(dataset_id, version_id, examples))
        assert got == code, (dataset_id, version_id, examples)
    assert await dataset_counts(gql, dataset["id"]) == (1, 0)
    assert await dataset_counts(gql, other["id"]) == (1, 0)


async def test_add_dataset_examples_large_batch(gql):
    dataset = await create_dataset(gql, "bulk")
    version = await create_version(gql, dataset["id"])
    examples = [{"input": {"i": i}, "output": {"double": 2 * i}} for i in range(300)]
    rows = await add_examples(gql, dataset["id"], version["id"], examples)
    assert [row["input"]["i"] for row in rows] == list(range(300))
    assert len({row["id"] for row in rows}) == 300
    assert await dataset_counts(gql, dataset["id"]) == (1, 300)


# --- dataset fields ---------------------------------------------------------------------

DATASET_TREE = """
query($id: ID!, $first: Int, $after: String) {
  node(id: $id) {
    ... on Dataset {
      name
      versions {
        totalCount
        edges { node {
          id description
          dataset { id }
          examples { totalCount edges { node { id input version { id } dataset { name } } } }
        } }
      }
      examples(first: $first, after: $after) {
        totalCount
        edges { node { id input } }
        pageInfo { hasNextPage endCursor }
      }
      signals { totalCount edges { node { signalId faultClass rms dataset { id } } } }
    }
  }
}"""


async def test_dataset_versions_examples_and_signals(gql, db):
    dataset = await create_dataset(gql, "tree")
    other = await create_dataset(gql, "other-tree")
    v1 = await create_version(gql, dataset["id"], "first")
    v2 = await create_version(gql, dataset["id"], "second")
    ov = await create_version(gql, other["id"], "elsewhere")
    await add_examples(gql, dataset["id"], v1["id"], [{"input": {"n": n}} for n in (1, 2)])
    await add_examples(gql, dataset["id"], v2["id"], [{"input": {"n": n}} for n in (3, 4, 5)])
    await add_examples(gql, dataset["id"], v1["id"], [{"input": {"n": 6}}])
    await add_examples(gql, other["id"], ov["id"], [{"input": {"n": 99}}])

    # Signals have no mutation: write two rows the way an importer would.
    _, dataset_pk = decode_id(dataset["id"])
    _, other_pk = decode_id(other["id"])
    async with db.transaction() as session:
        session.add_all(
            [
                catalog_models.Signal(
                    dataset_id=dataset_pk, signal_id="s-1", fault_class="inner", rms=0.5
                ),
                catalog_models.Signal(
                    dataset_id=dataset_pk, signal_id="s-2", fault_class="outer", rms=1.25
                ),
                catalog_models.Signal(dataset_id=other_pk, signal_id="s-x"),
            ]
        )

    node = (await gql.data(DATASET_TREE, {"id": dataset["id"]}))["node"]
    assert node["name"] == "tree"
    versions = [edge["node"] for edge in node["versions"]["edges"]]
    assert [v["description"] for v in versions] == ["first", "second"]
    assert node["versions"]["totalCount"] == 2
    assert all(v["dataset"] == {"id": dataset["id"]} for v in versions)
    v1_examples = [e["node"] for e in versions[0]["examples"]["edges"]]
    v2_examples = [e["node"] for e in versions[1]["examples"]["edges"]]
    assert [e["input"]["n"] for e in v1_examples] == [1, 2, 6]
    assert [e["input"]["n"] for e in v2_examples] == [3, 4, 5]
    assert versions[0]["examples"]["totalCount"] == 3
    assert all(e["version"] == {"id": v1["id"]} for e in v1_examples)
    assert all(e["version"] == {"id": v2["id"]} for e in v2_examples)
    assert all(e["dataset"] == {"name": "tree"} for e in v1_examples + v2_examples)

    assert [e["node"]["input"]["n"] for e in node["examples"]["edges"]] == [1, 2, 3, 4, 5, 6]
    assert node["examples"]["totalCount"] == 6
    signals = [edge["node"] for edge in node["signals"]["edges"]]
    assert [(s["signalId"], s["faultClass"], s["rms"]) for s in signals] == [
        ("s-1", "inner", 0.5),
        ("s-2", "outer", 1.25),
    ]
    assert node["signals"]["totalCount"] == 2
    assert all(s["dataset"] == {"id": dataset["id"]} for s in signals)

    # Dataset.examples pages through all versions, oldest first.
    seen: list[int] = []
    after = None
    while True:
        page = (await gql.data(DATASET_TREE, {"id": dataset["id"], "first": 4, "after": after}))[
            "node"
        ]["examples"]
        seen += [e["node"]["input"]["n"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [1, 2, 3, 4, 5, 6]

    # The other dataset sees only its own.
    other_node = (await gql.data(DATASET_TREE, {"id": other["id"]}))["node"]
    assert [e["node"]["input"] for e in other_node["examples"]["edges"]] == [{"n": 99}]
    assert other_node["signals"]["totalCount"] == 1

    example_id = v2_examples[0]["id"]
    looked_up = (
        await gql.data(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
            {"ids": [example_id, v2["id"], dataset["id"], missing_id("DatasetExample")]},
        )
    )["nodes"]
    assert looked_up == [
        {"__typename": "DatasetExample", "id": example_id},
        {"__typename": "DatasetVersion", "id": v2["id"]},
        {"__typename": "Dataset", "id": dataset["id"]},
        None,
    ]


DATASET_EXPERIMENTS = """
query($id: ID!, $filter: ExperimentFilter) {
  node(id: $id) {
    ... on Dataset {
      experiments(filter: $filter, orderBy: [{field: NAME}]) {
        totalCount
        edges { node {
          name kind
          ... on EvaluationExperiment { dataset { id } datasetVersion { id } }
          ... on TrainingExperiment { dataset { id } }
        } }
      }
    }
  }
}"""


async def test_dataset_experiments(gql):
    dataset = await create_dataset(gql, "used")
    version = await create_version(gql, dataset["id"])
    unused = await create_dataset(gql, "unused")
    other = await create_dataset(gql, "other")
    other_version = await create_version(gql, other["id"])
    evaluation = await create_experiment(
        gql,
        "eval-1",
        "EVALUATION",
        evaluation={"datasetId": dataset["id"], "datasetVersionId": version["id"]},
    )
    await create_experiment(gql, "train-1", "TRAINING", training={"datasetId": dataset["id"]})
    deleted = await create_experiment(
        gql, "train-deleted", "TRAINING", training={"datasetId": dataset["id"]}
    )
    await create_experiment(
        gql,
        "eval-other",
        "EVALUATION",
        evaluation={"datasetId": other["id"], "datasetVersionId": other_version["id"]},
    )
    await create_experiment(gql, "unrelated", "RESEARCH")
    await gql.data(
        "mutation($id: ID!) { deleteExperiment(input: {id: $id}) { experiment { id } } }",
        {"id": deleted["id"]},
    )

    node = (await gql.data(DATASET_EXPERIMENTS, {"id": dataset["id"]}))["node"]
    edges = [edge["node"] for edge in node["experiments"]["edges"]]
    assert [(e["name"], e["kind"]) for e in edges] == [
        ("eval-1", "EVALUATION"),
        ("train-1", "TRAINING"),
    ]
    assert node["experiments"]["totalCount"] == 2
    assert edges[0]["dataset"] == {"id": dataset["id"]}
    assert edges[0]["datasetVersion"] == {"id": version["id"]}
    assert edges[1]["dataset"] == {"id": dataset["id"]}

    filtered = (
        await gql.data(
            DATASET_EXPERIMENTS, {"id": dataset["id"], "filter": {"kinds": ["TRAINING"]}}
        )
    )["node"]["experiments"]
    assert [e["node"]["name"] for e in filtered["edges"]] == ["train-1"]
    assert filtered["totalCount"] == 1

    empty = (await gql.data(DATASET_EXPERIMENTS, {"id": unused["id"]}))["node"]["experiments"]
    assert empty == {"totalCount": 0, "edges": []}
    via_filter = await gql.data(
        "query($d: ID!) { experiments(filter: {datasetId: $d}) { totalCount } }",
        {"d": dataset["id"]},
    )
    assert via_filter["experiments"]["totalCount"] == 2
    assert evaluation["kind"] == "EVALUATION"


async def test_datasets_query_filter_order_and_pagination(gql):
    names = ["Images B", "Audio", "Images A", "Text_corpus", "Textzorpus", "Video"]
    for name in names:
        await create_dataset(gql, name)

    # Newest first by default.
    assert await dataset_names(gql) == list(reversed(names))
    assert await dataset_names(gql, orderBy=[{"field": "NAME"}]) == sorted(names)
    assert await dataset_names(gql, orderBy=[{"field": "NAME", "direction": "DESC"}]) == sorted(
        names, reverse=True
    )
    assert await dataset_names(gql, orderBy=[{"field": "CREATED_AT"}]) == names
    assert await dataset_names(gql, orderBy=[{"field": "UPDATED_AT"}]) == names

    assert await dataset_names(
        gql, filter={"nameContains": "images"}, orderBy=[{"field": "NAME"}]
    ) == [
        "Images A",
        "Images B",
    ]
    assert await dataset_names(gql, filter={"nameContains": "_"}) == ["Text_corpus"]
    assert await dataset_names(
        gql,
        filter={"or": [{"nameContains": "audio"}, {"nameContains": "video"}]},
        orderBy=[{"field": "NAME"}],
    ) == ["Audio", "Video"]
    assert await dataset_names(
        gql,
        filter={"not": {"nameContains": "i"}},
        orderBy=[{"field": "NAME"}],
    ) == ["Text_corpus", "Textzorpus"]
    assert await dataset_names(
        gql, filter={"and": [{"nameContains": "text"}, {"not": {"nameContains": "_"}}]}
    ) == ["Textzorpus"]
    page = (await gql.data(DATASETS_PAGE, {"filter": {"nameContains": "text"}}))["datasets"]
    assert page["totalCount"] == 2

    # Pagination over the default (newest first) order and over names.
    for order, expected in (
        (None, list(reversed(names))),
        ([{"field": "NAME", "direction": "DESC"}], sorted(names, reverse=True)),
    ):
        seen: list[str] = []
        after = None
        while True:
            page = (await gql.data(DATASETS_PAGE, {"orderBy": order, "first": 4, "after": after}))[
                "datasets"
            ]
            seen += [edge["node"]["name"] for edge in page["edges"]]
            assert page["totalCount"] == len(names)
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == expected

    # A createdById filter with a user who created nothing.
    user = (
        await gql.data(
            'mutation { createUser(input: {username: "nobody", email: "nobody@example.com"}) '
            "{ user { id } } }"
        )
    )["createUser"]["user"]
    assert await dataset_names(gql, filter={"createdById": user["id"]}) == []
    assert await gql.error_code(DATASETS_PAGE, {"filter": {"createdById": "abc"}}) == "BAD_REQUEST"


# --- N+1 guard ------------------------------------------------------------------------

NESTED_DATASETS = """
query($first: Int!) {
  datasets(first: $first) {
    edges { node {
      versions { edges { node {
        examples { edges { node { id } } }
      } } }
    } }
  }
}"""

NESTED_DATASETS_WIDE = """
query($first: Int!) {
  datasets(first: $first) {
    totalCount
    edges { node {
      name
      versions { totalCount edges { node {
        description
        dataset { name }
        examples { totalCount edges { node { id version { id } dataset { id } } } }
      } } }
      examples(first: 2) { totalCount edges { node { id } } }
      signals { totalCount }
      experiments { totalCount }
      createdBy { id }
    } }
  }
}"""


async def test_nested_catalog_query_statement_count_is_flat(gql, statements):
    for d in range(20):
        dataset = await create_dataset(gql, f"nplus1-{d:02d}")
        for v in range(2):
            version = await create_version(gql, dataset["id"], f"v{v}")
            await add_examples(
                gql,
                dataset["id"],
                version["id"],
                [{"input": {"d": d, "v": v, "i": i}} for i in range(3)],
            )

    for document in (NESTED_DATASETS, NESTED_DATASETS_WIDE):
        counts = {}
        for n in (2, 20):
            statements.reset()
            data = await gql.data(document, {"first": n})
            counts[n] = statements.count
            datasets = data["datasets"]["edges"]
            assert len(datasets) == n
            for dataset in datasets:
                versions = dataset["node"]["versions"]["edges"]
                assert len(versions) == 2
                for version in versions:
                    assert len(version["node"]["examples"]["edges"]) == 3
        assert counts[2] == counts[20], (document, counts)


async def test_usage_count_counts_live_experiments_only(gql):
    tag = (await gql.data(CREATE_TAG, {"input": {"name": "live"}}))["createTag"]["tag"]
    made = []
    for name in ("a", "b"):
        payload = {"kind": "TRAINING", "name": name, "tagIds": [tag["id"]]}
        made.append((await gql.data(CREATE_EXPERIMENT, {"input": payload}))["createExperiment"])
    a, b = (m["experiment"]["id"] for m in made)
    delete = "mutation($id: ID!) { deleteExperiment(input: {id: $id}) { experiment { id } } }"
    restore = delete.replace("deleteExperiment", "restoreExperiment")

    async def usage() -> tuple[int, int]:
        listed = await gql.data(TAGS_PAGE, {})
        (edge,) = listed["tags"]["edges"]
        return (await tag_state(gql, tag["id"]))["usageCount"], edge["node"]["usageCount"]

    assert await usage() == (2, 2)
    await gql.data(delete, {"id": a})
    assert await usage() == (1, 1)
    await gql.data(delete, {"id": a})  # twice changes nothing
    assert await usage() == (1, 1)
    # Links of a deleted experiment come and go without counting.
    untagged = await gql.data(UNTAG_EXPERIMENT, {"e": a, "t": tag["id"]})
    assert untagged["untagExperiment"]["changed"] is True
    assert untagged["untagExperiment"]["tag"]["usageCount"] == 1
    retagged = await gql.data(TAG_EXPERIMENT, {"e": a, "t": tag["id"]})
    assert retagged["tagExperiment"]["tag"]["usageCount"] == 1
    await gql.data(restore, {"id": a})
    assert await usage() == (2, 2)
    await gql.data(restore, {"id": a})
    assert await usage() == (2, 2)
    await gql.data(delete, {"id": a})
    await gql.data(delete, {"id": b})
    assert await usage() == (0, 0)
    await gql.data(restore, {"id": b})
    assert await usage() == (1, 1)
