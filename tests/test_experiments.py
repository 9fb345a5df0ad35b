"""Experiments: every kind, kind blocks, updates, soft delete, filters, tags."""

from __future__ import annotations

import pytest

from tests.helpers import (
    CREATE_EXPERIMENT,
    KIND_BLOCKS,
    count_experiments,
    create_dataset,
    create_experiment,
    create_tag,
    tag_experiment,
)

KIND_FIELDS = """
  ... on EvaluationExperiment { repetitions dataset { id } datasetVersion { id } }
  ... on AbTestExperiment { unitType startAt endAt }
  ... on SimulationExperiment { masterSeed finalCost bestCost numIterations }
  ... on TrainingExperiment { modelType hyperparameters totalEpochs dataset { id } }
  ... on ResearchExperiment { hypothesis scorecardData }
"""


async def test_every_kind_round_trips_its_own_fields(gql):
    dataset_id, version_id = await create_dataset(gql, "qa")
    inputs = {
        "EVALUATION": {
            "evaluation": {
                "datasetId": dataset_id,
                "datasetVersionId": version_id,
                "repetitions": 3,
            }
        },
        "AB_TEST": {"abTest": {"unitType": "HOUSEHOLD", "startAt": "2026-01-01T10:00:00+02:00"}},
        "SIMULATION": {
            "simulation": {
                "masterSeed": str(2**62 + 7),
                "finalCost": 123456789012,
                "bestCost": "99",
            }
        },
        "TRAINING": {
            "training": {
                "modelType": "resnet",
                "datasetId": dataset_id,
                "totalEpochs": 12,
                "hyperparameters": {"lr": 0.01},
            }
        },
        "RESEARCH": {
            "research": {"hypothesis": "Cheaper plans convert", "scorecardData": {"a": 1}}
        },
    }
    for kind, block in inputs.items():
        query = CREATE_EXPERIMENT.replace("deletedAt }", "deletedAt " + KIND_FIELDS + "}")
        data = await gql.data(query, {"input": {"kind": kind, "name": f"exp-{kind}", **block}})
        experiment = data["createExperiment"]["experiment"]
        assert experiment["kind"] == kind
        assert experiment["status"] == "DRAFT"
        assert experiment["createdAt"].endswith("Z")
        node = (
            await gql.data(
                "query($id: ID!) { node(id: $id) { __typename ... on Experiment { name } "
                + KIND_FIELDS
                + " } }",
                {"id": experiment["id"]},
            )
        )["node"]
        assert node["name"] == f"exp-{kind}"
        if kind == "EVALUATION":
            assert node["repetitions"] == 3
            assert node["dataset"]["id"] == dataset_id
            assert node["datasetVersion"]["id"] == version_id
        elif kind == "AB_TEST":
            assert node["unitType"] == "HOUSEHOLD"
            assert node["startAt"] == "2026-01-01T08:00:00Z"
        elif kind == "SIMULATION":
            assert node["masterSeed"] == str(2**62 + 7)
            assert node["finalCost"] == "123456789012"
            assert node["bestCost"] == "99"
        elif kind == "TRAINING":
            assert node["modelType"] == "resnet"
            assert node["hyperparameters"] == {"lr": 0.01}
            assert node["dataset"]["id"] == dataset_id
        else:
            assert node["hypothesis"] == "Cheaper plans convert"
            assert node["scorecardData"] == {"a": 1}


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"kind": "TRAINING", "name": "x", "research": {"hypothesis": "h"}}, "BAD_REQUEST"),
        ({"kind": "SIMULATION", "name": "x"}, "BAD_REQUEST"),
        ({"kind": "SIMULATION", "name": "x", "simulation": {"masterSeed": "1.5"}}, "BAD_REQUEST"),
        (
            {
                "kind": "SIMULATION",
                "name": "x",
                "simulation": {"masterSeed": "1", "finalCost": 1.5},
            },
            "BAD_REQUEST",
        ),
        ({"kind": "RESEARCH", "name": "x", "research": {"hypothesis": "h" * 501}}, "BAD_REQUEST"),
        ({"kind": "TRAINING", "name": ""}, "BAD_REQUEST"),
        ({"kind": "TRAINING", "name": "n" * 256}, "BAD_REQUEST"),
        ({"kind": "TRAINING", "name": "x", "config": [1, 2]}, "BAD_REQUEST"),
        ({"kind": "NOT_A_KIND", "name": "x"}, "BAD_REQUEST"),
        ({"kind": "TRAINING", "name": "x", "status": "ACTIVE"}, "BAD_REQUEST"),
        ({"kind": "TRAINING", "name": "x", "training": {"datasetId": "bm9wZQ"}}, "BAD_REQUEST"),
        (
            {"kind": "TRAINING", "name": "x", "training": {"datasetId": "RGF0YXNldDo5OTk"}},
            "NOT_FOUND",
        ),
        ({"kind": "TRAINING", "name": "x", "tagIds": ["VGFnOjk5OQ"]}, "NOT_FOUND"),
    ],
)
async def test_bad_create_input_gets_a_code_and_writes_nothing(gql, payload, code):
    assert await gql.error_code(CREATE_EXPERIMENT, {"input": payload}) == code
    assert await count_experiments(gql) == 0


async def test_names_are_unique_among_live_experiments(gql):
    first = await create_experiment(gql, "same")
    payload = {"kind": "RESEARCH", "name": " same ", **KIND_BLOCKS["RESEARCH"]}
    assert await gql.error_code(CREATE_EXPERIMENT, {"input": payload}) == "CONFLICT"
    await gql.data(
        "mutation($id: ID!) { deleteExperiment(input: {id: $id}) { experiment { id } } }",
        {"id": first["id"]},
    )
    second = await create_experiment(gql, "same")
    # Restoring the first would make two live experiments with one name.
    restore = "mutation($id: ID!) { restoreExperiment(input: {id: $id}) { experiment { id } } }"
    assert await gql.error_code(restore, {"id": first["id"]}) == "CONFLICT"
    assert second["id"] != first["id"]


async def test_soft_delete_hides_and_restore_brings_back(gql):
    kept = await create_experiment(gql, "kept")
    gone = await create_experiment(gql, "gone")
    delete = """mutation($id: ID!) { deleteExperiment(input: {id: $id}) {
        experiment { id deletedAt } } }"""
    deleted = (await gql.data(delete, {"id": gone["id"]}))["deleteExperiment"]["experiment"]
    assert deleted["deletedAt"] is not None
    again = (await gql.data(delete, {"id": gone["id"]}))["deleteExperiment"]["experiment"]
    assert again["deletedAt"] == deleted["deletedAt"]
    listed = await gql.data("{ experiments { edges { node { id } } } }")
    assert [e["node"]["id"] for e in listed["experiments"]["edges"]] == [kept["id"]]
    assert await count_experiments(gql, include_deleted=True) == 2
    restored = await gql.data(
        "mutation($id: ID!) { restoreExperiment(input: {id: $id}) { experiment { deletedAt } } }",
        {"id": gone["id"]},
    )
    assert restored["restoreExperiment"]["experiment"]["deletedAt"] is None
    assert await count_experiments(gql, include_deleted=False) == 2


async def test_update_changes_common_and_own_fields_only(gql):
    experiment = await create_experiment(gql, "before", "SIMULATION")
    update = """mutation($input: UpdateExperimentInput!) { updateExperiment(input: $input) {
        experiment { name description status updatedAt
          ... on SimulationExperiment { masterSeed numIterations } } } }"""
    data = await gql.data(
        update,
        {
            "input": {
                "id": experiment["id"],
                "name": "after",
                "status": "RUNNING",
                "simulation": {"numIterations": 5},
            }
        },
    )
    updated = data["updateExperiment"]["experiment"]
    assert updated["name"] == "after"
    assert updated["status"] == "RUNNING"
    assert updated["masterSeed"] == "42"
    assert updated["numIterations"] == 5
    assert updated["updatedAt"] >= experiment["updatedAt"]
    wrong_block = {"id": experiment["id"], "training": {"modelType": "x"}}
    assert await gql.error_code(update, {"input": wrong_block}) == "BAD_REQUEST"
    no_seed = {"id": experiment["id"], "simulation": {"masterSeed": None}}
    assert await gql.error_code(update, {"input": no_seed}) == "BAD_REQUEST"
    missing = {"id": "RXZhbHVhdGlvbkV4cGVyaW1lbnQ6OTk5", "name": "x"}
    assert await gql.error_code(update, {"input": missing}) == "NOT_FOUND"
    not_an_experiment = {"id": "VGFnOjE", "name": "x"}
    assert await gql.error_code(update, {"input": not_an_experiment}) == "BAD_REQUEST"


async def test_filters_combine_with_and_or_not(gql):
    red, blue = await create_tag(gql, "red"), await create_tag(gql, "blue")
    a = await create_experiment(gql, "Alpha model", "TRAINING")
    b = await create_experiment(gql, "beta MODEL", "RESEARCH")
    c = await create_experiment(gql, "gamma 100%_done", "SIMULATION")
    await tag_experiment(gql, a["id"], red["id"])
    await tag_experiment(gql, a["id"], blue["id"])
    await tag_experiment(gql, b["id"], red["id"])

    async def names(filter_: dict) -> set[str]:
        data = await gql.data(
            "query($f: ExperimentFilter) { experiments(filter: $f, first: 100) "
            "{ edges { node { name } } } }",
            {"f": filter_},
        )
        return {e["node"]["name"] for e in data["experiments"]["edges"]}

    assert await names({"nameContains": "model"}) == {"Alpha model", "beta MODEL"}
    assert await names({"nameContains": "%_"}) == {"gamma 100%_done"}
    assert await names({"kinds": ["SIMULATION", "RESEARCH"]}) == {"beta MODEL", "gamma 100%_done"}
    assert await names({"tagSlugs": ["red"]}) == {"Alpha model", "beta MODEL"}
    assert await names({"tagSlugs": ["red", "blue"]}) == {"Alpha model"}
    assert await names({"not": {"tagSlugs": ["red"]}}) == {"gamma 100%_done"}
    assert await names({"or": [{"kinds": ["SIMULATION"]}, {"tagSlugs": ["blue"]}]}) == {
        "Alpha model",
        "gamma 100%_done",
    }
    assert await names({"and": [{"nameContains": "a"}, {"kinds": ["TRAINING"]}]}) == {"Alpha model"}
    assert await names({"statuses": ["RUNNING"]}) == set()
    assert await names({"createdAfter": "2000-01-01T00:00:00Z"}) == {
        "Alpha model",
        "beta MODEL",
        "gamma 100%_done",
    }
    assert await names({"createdBefore": "2000-01-01T00:00:00Z"}) == set()
    assert c["kind"] == "SIMULATION"
    code = await gql.error_code(
        '{ experiments(filter: {createdAfter: "2020-01-01T00:00:00"}) { totalCount } }'
    )
    assert code == "BAD_REQUEST"  # timestamps need an offset


async def test_dataset_filter_and_tags_on_experiment(gql):
    dataset_id, version_id = await create_dataset(gql, "d1")
    on_dataset = await create_experiment(
        gql,
        "uses d1",
        "EVALUATION",
        evaluation={"datasetId": dataset_id, "datasetVersionId": version_id},
    )
    await create_experiment(gql, "no dataset")
    data = await gql.data(
        "query($d: ID!) { experiments(filter: {datasetId: $d}) { edges { node { id } } } }",
        {"d": dataset_id},
    )
    assert [e["node"]["id"] for e in data["experiments"]["edges"]] == [on_dataset["id"]]
    tag = await create_tag(gql, "Important!")
    await tag_experiment(gql, on_dataset["id"], tag["id"])
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Experiment { tags { totalCount "
        "edges { node { slug usageCount } } } } } }",
        {"id": on_dataset["id"]},
    )
    assert data["node"]["tags"]["totalCount"] == 1
    assert data["node"]["tags"]["edges"][0]["node"] == {"slug": "important", "usageCount": 1}


async def test_evaluation_version_must_belong_to_dataset(gql):
    d1, _ = await create_dataset(gql, "one")
    _, v2 = await create_dataset(gql, "two")
    payload = {
        "kind": "EVALUATION",
        "name": "mismatch",
        "evaluation": {"datasetId": d1, "datasetVersionId": v2},
    }
    assert await gql.error_code(CREATE_EXPERIMENT, {"input": payload}) == "BAD_REQUEST"
    assert await count_experiments(gql) == 0


async def test_concurrent_creates_of_one_name_leave_one_experiment(gql):
    import asyncio

    payload = {"kind": "TRAINING", "name": "race"}
    bodies = await asyncio.gather(
        *(gql.post(CREATE_EXPERIMENT, {"input": payload}) for _ in range(8))
    )
    codes = sorted(
        b["errors"][0]["extensions"]["code"] if b.get("errors") else "OK" for b in bodies
    )
    assert codes == ["CONFLICT"] * 7 + ["OK"]
    assert await count_experiments(gql) == 1


# --- domain rules: an A/B test's window, costs ------------------------------------------

AB_FIELDS = """mutation($input: UpdateExperimentInput!) { updateExperiment(input: $input) {
    experiment { ... on AbTestExperiment { startAt endAt } } } }"""
JAN, FEB, MAR = ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z")


async def _bad_request(gql, query, variables):
    body = await gql.post(query, variables)
    assert body.get("errors") and body.get("data") is None, body
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "BAD_REQUEST", body
    return body["errors"][0]["message"], extensions


async def test_an_ab_test_cannot_end_before_it_starts(gql):
    early = {
        "kind": "AB_TEST",
        "name": "ab",
        "abTest": {"unitType": "USER", "startAt": FEB, "endAt": JAN},
    }
    message, extensions = await _bad_request(gql, CREATE_EXPERIMENT, {"input": early})
    assert "endAt" in message and "startAt" in message
    assert extensions["fields"] == ["startAt", "endAt"]
    assert await count_experiments(gql) == 0

    same = {
        "kind": "AB_TEST",
        "name": "ab",
        "abTest": {"unitType": "USER", "startAt": FEB, "endAt": FEB},
    }
    experiment = (await gql.data(CREATE_EXPERIMENT, {"input": same}))["createExperiment"]
    pk = experiment["experiment"]["id"]
    # An update that moves one end is checked against the stored other.
    for block, field in (({"endAt": JAN}, "endAt"), ({"startAt": MAR}, "startAt")):
        _, extensions = await _bad_request(gql, AB_FIELDS, {"input": {"id": pk, "abTest": block}})
        assert extensions["field"] == field
    both = {"startAt": MAR, "endAt": FEB}
    await _bad_request(gql, AB_FIELDS, {"input": {"id": pk, "abTest": both}})
    stored = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on AbTestExperiment { startAt endAt } } }",
        {"id": pk},
    )
    assert stored["node"] == {"startAt": FEB, "endAt": FEB}
    moved = await gql.data(AB_FIELDS, {"input": {"id": pk, "abTest": {"endAt": MAR}}})
    assert moved["updateExperiment"]["experiment"] == {"startAt": FEB, "endAt": MAR}
    # Clearing one end lifts the check.
    cleared = {"startAt": None}
    await gql.data(AB_FIELDS, {"input": {"id": pk, "abTest": cleared}})
    later = await gql.data(AB_FIELDS, {"input": {"id": pk, "abTest": {"endAt": JAN}}})
    assert later["updateExperiment"]["experiment"] == {"startAt": None, "endAt": JAN}


@pytest.mark.parametrize("field", ["finalCost", "bestCost"])
async def test_a_simulation_cost_cannot_be_negative(gql, field):
    negative = {"kind": "SIMULATION", "name": "s", "simulation": {"masterSeed": "1", field: "-1"}}
    _, extensions = await _bad_request(gql, CREATE_EXPERIMENT, {"input": negative})
    assert extensions["field"] == field
    assert await count_experiments(gql) == 0
    zero = {"kind": "SIMULATION", "name": "s", "simulation": {"masterSeed": "1", field: "0"}}
    created = (await gql.data(CREATE_EXPERIMENT, {"input": zero}))["createExperiment"]
    update = {"id": created["experiment"]["id"], "simulation": {field: -5}}
    _, extensions = await _bad_request(
        gql,
        "mutation($input: UpdateExperimentInput!) { updateExperiment(input: $input) {"
        " experiment { id } } }",
        {"input": update},
    )
    assert extensions["field"] == field
