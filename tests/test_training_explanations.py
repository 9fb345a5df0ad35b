"""Explanations (issue 16): createExplanations stores a batch in input order
(capped at 500, TRAINING only, all or none), TrainingExperiment.explanations pages
both ways, Explanation.signal resolves the name to the experiment's dataset's
signal (null when there is none), and a page of experiments with explanations and
signals reads in the same statements for 2 and 6 (both dialects)."""

from __future__ import annotations

from typing import Any

from expgraph.domains.catalog.models import Dataset, Signal
from expgraph.graphql.relay import model_pk
from tests.helpers import create_dataset, create_experiment

CREATE = """mutation($input: CreateExplanationsInput!) {
  createExplanations(input: $input) { explanations {
    id method signalId data filePath createdAt experiment { id }
    signal { id signalId faultClass } } } }"""
LIST = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) { ... on TrainingExperiment {
    explanations(first: $first, after: $after, last: $last, before: $before) {
      totalCount edges { node { id method signalId } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""
PAGE = """query($name: String!) {
  experiments(first: 10, filter: {nameContains: $name}) { edges { node {
    ... on TrainingExperiment { name
      explanations(first: 5) { edges { node { method signalId data
        signal { signalId rms } experiment { id } } } } } } } } }"""


def item(n: int, signal: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"method": "shap", "signalId": signal, "data": {"values": [n, n + 1]}, **extra}


async def create(gql, experiment_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return await gql.post(CREATE, {"input": {"experimentId": experiment_id, "explanations": items}})


async def signals_for(db, dataset_id: str, names: list[str]) -> None:
    pk = model_pk(dataset_id, Dataset)
    async with db.transaction() as session:
        for n, name in enumerate(names):
            session.add(Signal(dataset_id=pk, signal_id=name, fault_class="inner_race", rms=n))


async def test_a_batch_is_stored_in_order_and_listed_both_ways(gql):
    exp = await create_experiment(gql, "explained")
    body = await create(
        gql, exp["id"], [item(n, f"sig-{n}", filePath=f"/x/{n}.png") for n in range(7)]
    )
    stored = body["data"]["createExplanations"]["explanations"]
    assert [e["signalId"] for e in stored] == [f"sig-{n}" for n in range(7)]
    assert stored[2]["data"] == {"values": [2, 3]} and stored[2]["filePath"] == "/x/2.png"
    assert all(e["experiment"]["id"] == exp["id"] for e in stored)
    ids = [e["id"] for e in stored]

    first = (await gql.data(LIST, {"id": exp["id"], "first": 3}))["node"]["explanations"]
    assert first["totalCount"] == 7
    assert [e["node"]["id"] for e in first["edges"]] == ids[:3]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = await gql.data(
        LIST, {"id": exp["id"], "first": 10, "after": first["pageInfo"]["endCursor"]}
    )
    assert [e["node"]["id"] for e in rest["node"]["explanations"]["edges"]] == ids[3:]
    last = (await gql.data(LIST, {"id": exp["id"], "last": 2}))["node"]["explanations"]
    assert [e["node"]["id"] for e in last["edges"]] == ids[5:]
    assert last["pageInfo"]["hasPreviousPage"] is True
    before = await gql.data(
        LIST, {"id": exp["id"], "last": 2, "before": last["pageInfo"]["startCursor"]}
    )
    assert [e["node"]["id"] for e in before["node"]["explanations"]["edges"]] == ids[3:5]

    # Each explanation is a node of its own.
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Explanation { method } } }", {"id": ids[0]}
    )
    assert node["node"]["method"] == "shap"


async def test_the_signal_is_resolved_in_the_experiments_dataset_or_null(gql, db):
    dataset_id, _ = await create_dataset(gql, "bearings")
    other_id, _ = await create_dataset(gql, "elsewhere")
    await signals_for(db, dataset_id, ["s-1", "s-2"])
    await signals_for(db, other_id, ["s-3"])
    exp = await create_experiment(gql, "with-data", training={"datasetId": dataset_id})
    body = await create(
        gql, exp["id"], [item(0, "s-2"), item(1, "s-3"), item(2, "missing"), item(3)]
    )
    stored = body["data"]["createExplanations"]["explanations"]
    assert stored[0]["signal"]["signalId"] == "s-2"
    assert stored[0]["signal"]["faultClass"] == "inner_race"
    assert stored[1]["signal"] is None  # a signal of another dataset
    assert stored[2]["signal"] is None and stored[2]["signalId"] == "missing"
    assert stored[3]["signal"] is None and stored[3]["signalId"] is None
    # An experiment without a dataset resolves nothing.
    bare = await create_experiment(gql, "no-data")
    stored = (await create(gql, bare["id"], [item(0, "s-1")]))["data"]["createExplanations"]
    assert stored["explanations"][0]["signal"] is None


async def test_bad_input_is_refused_and_nothing_is_stored(gql):
    exp = await create_experiment(gql, "refusals")
    too_many = await create(gql, exp["id"], [item(n) for n in range(501)])
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert too_many["errors"][0]["extensions"]["field"] == "input.explanations"
    for bad in (
        [],
        [item(0), {"method": " ", "data": {}}],
        [item(0, "x" * 256)],
        [{"method": "m", "data": [1]}],
    ):
        body = await create(gql, exp["id"], bad)
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", bad
    listed = await gql.data(LIST, {"id": exp["id"]})
    assert listed["node"]["explanations"]["totalCount"] == 0
    evaluation = await create_experiment(gql, "not-training", "EVALUATION")
    body = await create(gql, evaluation["id"], [item(0)])
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    stored = (await create(gql, exp["id"], [item(n) for n in range(500)]))["data"]
    assert len(stored["createExplanations"]["explanations"]) == 500


async def test_a_page_of_experiments_takes_the_same_statements_for_2_or_6(gql, db, statements):
    dataset_id, _ = await create_dataset(gql, "page-data")
    await signals_for(db, dataset_id, [f"s-{n}" for n in range(3)])
    for prefix, count in (("few", 2), ("many", 6)):
        for n in range(count):
            exp = await create_experiment(gql, f"{prefix}-{n}", training={"datasetId": dataset_id})
            await create(gql, exp["id"], [item(k, f"s-{k}") for k in range(4)])
    counts = []
    for prefix, expected in (("few-", 2), ("many-", 6)):
        statements.reset()
        data = await gql.data(PAGE, {"name": prefix})
        nodes = [edge["node"] for edge in data["experiments"]["edges"]]
        assert len(nodes) == expected
        for node in nodes:
            explained = [e["node"] for e in node["explanations"]["edges"]]
            assert [e["signalId"] for e in explained] == ["s-0", "s-1", "s-2", "s-3"]
            assert [e["signal"] and e["signal"]["rms"] for e in explained] == [0, 1, 2, None]
        counts.append(statements.count)
    assert counts[0] == counts[1], statements.sql
