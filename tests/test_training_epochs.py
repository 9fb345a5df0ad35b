"""Training epochs (issue 16): logTrainingEpochs (idempotent per epoch, capped at
1,000, TRAINING only, fencing rule), trainingRuns paged both ways, learning
curves, best epoch by default and by config, compareTrainingExperiments, and a
page of training experiments read in the same statements for 2 and 6 (both dialects)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from expgraph.domains.catalog.models import Dataset
from expgraph.domains.experiments.models import TrainingExperiment
from expgraph.domains.training.models import HpoCampaign, HpoMethod, NasCampaign, NasTrial
from expgraph.graphql.relay import model_pk
from tests.helpers import create_dataset, create_experiment

LOG = """mutation($input: LogTrainingEpochsInput!) {
  logTrainingEpochs(input: $input) { trainingRuns { id epoch trainLoss valLoss valAccuracy } } }"""
RUNS = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) { ... on TrainingExperiment {
    totalEpochs
    trainingRuns(first: $first, after: $after, last: $last, before: $before) {
      totalCount edges { node { epoch valLoss learningRate checkpointPath } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""
CURVES = """query($id: ID!, $metrics: [TrainingMetric!]!) { node(id: $id) {
  ... on TrainingExperiment { bestEpoch bestValue totalEpochs
    learningCurve(metrics: $metrics) { metric points { epoch value } } } } }"""
COMPARE = """query($ids: [ID!]!, $metric: TrainingMetric!) {
  compareTrainingExperiments(ids: $ids, metric: $metric) {
    experiment { id name } curve { metric points { epoch value } } } }"""
PAGE = """query($name: String!) {
  experiments(first: 10, filter: {nameContains: $name}) { edges { node {
    ... on TrainingExperiment { name bestEpoch bestValue totalEpochs
      learningCurve(metrics: [VAL_LOSS, TRAIN_ACCURACY]) { metric points { epoch value } }
      trainingRuns(first: 5) { edges { node { epoch valLoss } } } } } } } }"""


def epoch(n: int, **values: Any) -> dict[str, Any]:
    """Epoch n of a made-up curve: losses fall, accuracy rises."""
    return {
        "epoch": n,
        "trainLoss": round(2.0 / (n + 1), 6),
        "valLoss": round(2.5 / (n + 1) + 0.01 * n, 6),  # lowest at epoch 15
        "trainAccuracy": round(1 - 1 / (n + 2), 6),
        "valAccuracy": round(0.9 - abs(n - 7) * 0.01, 6),  # highest at epoch 7
        "learningRate": 0.1 * 0.9**n,
        "durationSeconds": 1.5,
        **values,
    }


async def log(gql, experiment_id: str, epochs: list[dict[str, Any]], **extra: Any):
    return await gql.post(
        LOG, {"input": {"experimentId": experiment_id, "epochs": epochs, **extra}}
    )


async def test_a_resent_epoch_updates_and_never_duplicates(gql):
    exp = await create_experiment(gql, "resend")
    first = await log(gql, exp["id"], [epoch(n) for n in range(3)])
    runs = first["data"]["logTrainingEpochs"]["trainingRuns"]
    assert [r["epoch"] for r in runs] == [0, 1, 2]
    again = await log(gql, exp["id"], [epoch(1, valLoss=9.5), epoch(3)])
    rows = again["data"]["logTrainingEpochs"]["trainingRuns"]
    assert [(r["epoch"], r["valLoss"]) for r in rows] == [(1, 9.5), (3, epoch(3)["valLoss"])]
    assert rows[0]["id"] == runs[1]["id"]  # the same row, updated
    data = (await gql.data(RUNS, {"id": exp["id"], "first": 10}))["node"]
    assert data["totalEpochs"] == 4
    assert data["trainingRuns"]["totalCount"] == 4
    assert [e["node"]["epoch"] for e in data["trainingRuns"]["edges"]] == [0, 1, 2, 3]
    assert data["trainingRuns"]["edges"][1]["node"]["valLoss"] == 9.5


async def test_more_than_1000_epochs_are_refused_and_1000_are_stored(gql):
    exp = await create_experiment(gql, "big")
    body = await log(gql, exp["id"], [{"epoch": n} for n in range(1001)])
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert (await gql.data(RUNS, {"id": exp["id"]}))["node"]["totalEpochs"] == 0
    body = await log(gql, exp["id"], [epoch(n) for n in range(1000)])
    assert len(body["data"]["logTrainingEpochs"]["trainingRuns"]) == 1000
    assert (await gql.data(RUNS, {"id": exp["id"]}))["node"]["totalEpochs"] == 1000


async def test_only_training_experiments_take_epochs(gql):
    for kind in ("EVALUATION", "SIMULATION"):
        exp = await create_experiment(gql, f"not-training-{kind}", kind)
        body = await log(gql, exp["id"], [epoch(0)])
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_an_epoch_given_twice_in_one_call_is_refused_and_nothing_is_written(gql):
    exp = await create_experiment(gql, "twice")
    body = await log(gql, exp["id"], [epoch(0), epoch(1), epoch(0)])
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert (await gql.data(RUNS, {"id": exp["id"]}))["node"]["totalEpochs"] == 0


async def test_fencing_token_only_for_hpo_trials(gql, db):
    free = await create_experiment(gql, "free")
    body = await log(gql, free["id"], [epoch(0)], fencingToken="7")
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    trial = await create_experiment(gql, "trial")
    async with db.transaction() as session:  # a campaign row of its own, no trial claimed
        campaign = HpoCampaign(
            name="search", method=HpoMethod.RANDOM_SEARCH, base_model_type="cnn", search_space={}
        )
        session.add(campaign)
        await session.flush()
        pk = model_pk(trial["id"], TrainingExperiment)
        await session.execute(
            update(TrainingExperiment)
            .where(TrainingExperiment.id == pk)
            .values(hpo_campaign_id=campaign.id)
        )
    body = await log(gql, trial["id"], [epoch(0)])
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    # attached to a campaign by hand, never claimed: no token is current
    body = await log(gql, trial["id"], [epoch(0)], fencingToken="7")
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert body["errors"][0]["extensions"]["reason"] == "NOT_CLAIMED"


async def test_training_runs_page_both_ways_by_epoch(gql):
    exp = await create_experiment(gql, "paged")
    await log(gql, exp["id"], [epoch(n) for n in reversed(range(7))])
    seen, after = [], None
    while True:
        page = (await gql.data(RUNS, {"id": exp["id"], "first": 3, "after": after}))["node"]
        conn = page["trainingRuns"]
        seen += [e["node"]["epoch"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == list(range(7))
    back, before = [], None
    while True:
        page = (await gql.data(RUNS, {"id": exp["id"], "last": 3, "before": before}))["node"]
        conn = page["trainingRuns"]
        back = [e["node"]["epoch"] for e in conn["edges"]] + back
        if not conn["pageInfo"]["hasPreviousPage"]:
            break
        before = conn["pageInfo"]["startCursor"]
    assert back == list(range(7))


async def test_learning_curves_are_the_logged_values(gql):
    exp = await create_experiment(gql, "curves")
    logged = [epoch(n) for n in range(20)]
    logged[4] = {"epoch": 4, "trainLoss": 0.3}  # no validation values at epoch 4
    await log(gql, exp["id"], logged)
    node = (
        await gql.data(
            CURVES, {"id": exp["id"], "metrics": ["VAL_LOSS", "TRAIN_LOSS", "LEARNING_RATE"]}
        )
    )["node"]
    curves = {c["metric"]: c["points"] for c in node["learningCurve"]}
    assert [c["metric"] for c in node["learningCurve"]] == [
        "VAL_LOSS",
        "TRAIN_LOSS",
        "LEARNING_RATE",
    ]
    for metric, key in (
        ("VAL_LOSS", "valLoss"),
        ("TRAIN_LOSS", "trainLoss"),
        ("LEARNING_RATE", "learningRate"),
    ):
        expected = [{"epoch": e["epoch"], "value": e[key]} for e in logged if key in e]
        assert curves[metric] == expected
    assert len(curves["VAL_LOSS"]) == 19 and len(curves["TRAIN_LOSS"]) == 20


async def test_best_epoch_by_default_and_by_config(gql):
    default = await create_experiment(gql, "best-default")
    empty = (await gql.data(CURVES, {"id": default["id"], "metrics": []}))["node"]
    assert (empty["bestEpoch"], empty["bestValue"], empty["totalEpochs"]) == (None, None, 0)
    # Before any epoch is logged, what the client set is shown; logged epochs win after.
    reported = await create_experiment(
        gql, "best-reported", training={"modelType": "cnn", "bestEpoch": 3, "totalEpochs": 9}
    )
    shown = (await gql.data(CURVES, {"id": reported["id"], "metrics": []}))["node"]
    assert (shown["bestEpoch"], shown["bestValue"], shown["totalEpochs"]) == (3, None, 9)
    await log(gql, reported["id"], [epoch(0), epoch(1)])
    shown = (await gql.data(CURVES, {"id": reported["id"], "metrics": []}))["node"]
    assert shown["totalEpochs"] == 2 and shown["bestEpoch"] in (0, 1)
    logged = [epoch(n) for n in range(30)]
    await log(gql, default["id"], logged)
    node = (await gql.data(CURVES, {"id": default["id"], "metrics": []}))["node"]
    lowest = min(logged, key=lambda e: e["valLoss"])
    assert lowest["epoch"] == 15
    assert (node["bestEpoch"], node["bestValue"]) == (15, lowest["valLoss"])

    objective = {"objective": {"metric": "valAccuracy", "direction": "MAXIMIZE"}}
    by_config = await create_experiment(gql, "best-config", config=objective)
    await log(gql, by_config["id"], logged)
    node = (await gql.data(CURVES, {"id": by_config["id"], "metrics": []}))["node"]
    assert (node["bestEpoch"], node["bestValue"]) == (7, logged[7]["valAccuracy"])

    minimize_train = {"objective": {"metric": "TRAIN_LOSS", "direction": "MINIMIZE"}}
    third = await create_experiment(gql, "best-train", config=minimize_train)
    await log(gql, third["id"], logged)
    node = (await gql.data(CURVES, {"id": third["id"], "metrics": []}))["node"]
    assert node["bestEpoch"] == 29


async def test_compare_training_experiments_side_by_side(gql):
    a = await create_experiment(gql, "cmp-a")
    b = await create_experiment(gql, "cmp-b")
    await log(gql, a["id"], [epoch(n) for n in range(5)])
    await log(gql, b["id"], [epoch(n, valAccuracy=0.5 + n / 100) for n in range(3)])
    data = await gql.data(COMPARE, {"ids": [b["id"], a["id"]], "metric": "VAL_ACCURACY"})
    rows = data["compareTrainingExperiments"]
    assert [r["experiment"]["name"] for r in rows] == ["cmp-b", "cmp-a"]
    assert rows[0]["curve"]["points"] == [{"epoch": n, "value": 0.5 + n / 100} for n in range(3)]
    assert rows[1]["curve"]["points"] == [
        {"epoch": n, "value": epoch(n)["valAccuracy"]} for n in range(5)
    ]
    other = await create_experiment(gql, "cmp-sim", "SIMULATION")
    code = await gql.error_code(COMPARE, {"ids": [a["id"], other["id"]], "metric": "VAL_LOSS"})
    assert code == "NOT_FOUND"
    code = await gql.error_code(COMPARE, {"ids": [a["id"]] * 21, "metric": "VAL_LOSS"})
    assert code == "BAD_REQUEST"


async def test_a_page_of_training_experiments_takes_the_same_statements_for_2_or_6(gql, statements):
    for prefix, count in (("few", 2), ("many", 6)):
        for n in range(count):
            exp = await create_experiment(gql, f"{prefix}-{n}")
            await log(gql, exp["id"], [epoch(e) for e in range(8)])
    counts = []
    for prefix, expected in (("few-", 2), ("many-", 6)):
        statements.reset()
        data = await gql.data(PAGE, {"name": prefix})
        nodes = [edge["node"] for edge in data["experiments"]["edges"]]
        assert len(nodes) == expected
        for node in nodes:
            assert node["totalEpochs"] == 8 and node["bestEpoch"] == 7
            assert [len(c["points"]) for c in node["learningCurve"]] == [8, 8]
            assert [e["node"]["epoch"] for e in node["trainingRuns"]["edges"]] == [0, 1, 2, 3, 4]
        counts.append(statements.count)
    assert counts[0] == counts[1], statements.sql


async def test_on_delete_rules_follow_the_seed(gql, db):
    """nas_trials go with their campaign (CASCADE), also when the campaign points
    back at one of them (the circular best_trial_id FK); an experiment with logged
    epochs cannot be hard-deleted (no rule: experiments are soft-deleted)."""
    dataset_id, _ = await create_dataset(gql, "nas-data")
    async with db.transaction() as session:
        campaign = NasCampaign(
            name="nas", dataset_id=model_pk(dataset_id, Dataset), search_algorithm="random"
        )
        session.add(campaign)
        await session.flush()
        trial = NasTrial(
            campaign_id=campaign.id,
            trial_number=0,
            architecture={"layers": 2},
            architecture_hash="a",
        )
        session.add(trial)
        await session.flush()
        campaign.best_trial_id = trial.id
    async with db.transaction() as session:
        await session.execute(
            delete(NasCampaign)
            .where(NasCampaign.best_trial_id.is_not(None))
            .execution_options(synchronize_session=False)
        )
    async with db.read() as session:
        assert (await session.scalar(select(func.count()).select_from(NasTrial))) == 0
    exp = await create_experiment(gql, "kept")
    await log(gql, exp["id"], [epoch(0)])
    pk = model_pk(exp["id"], TrainingExperiment)
    with pytest.raises(IntegrityError):
        async with db.transaction() as session:
            await session.execute(
                delete(TrainingExperiment.__table__).where(TrainingExperiment.__table__.c.id == pk)
            )
