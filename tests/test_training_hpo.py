"""HPO campaigns over real GraphQL on both databases: creation and its checks,
the trial lifecycle (claim, heartbeat, reportIntermediate, finishTrial) with the
kernel's fencing, grid / random / Bayesian / Hyperband behaviour on the built-in
objective, stale trials, ON DELETE, and statements per page."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, func, select, text

from expgraph.domains.experiments.models import Experiment
from expgraph.domains.training.models import HpoCampaign, HpoTrial
from expgraph.graphql.relay import model_pk
from expgraph.worker.objective import noisy_quadratic
from tests.helpers import create_experiment

CREATE = """
mutation($input: CreateHpoCampaignInput!) {
  createHpoCampaign(input: $input) {
    campaign { id name method status seed trialsTotal trialsCompleted bestValue
      searchSpace { name kind low high log step choices }
      budget { maxTrials maxParallel maxDurationSeconds minEpochs maxEpochs }
      objective { metric direction } }
  }
}"""
CLAIM = """
mutation($c: ID, $w: String!) {
  claimHpoTrial(input: {campaignId: $c, workerId: $w}) {
    trial { id number state fencingToken claimedBy
      experiment { id status modelType hyperparameters } }
  }
}"""
HEARTBEAT = """
mutation($e: ID!, $w: String!, $t: BigInt!) {
  heartbeatTrial(input: {experimentId: $e, workerId: $w, fencingToken: $t}) {
    trial { number fencingToken }
  }
}"""
REPORT = """
mutation($e: ID!, $w: String!, $t: BigInt!, $epoch: Int!, $v: Float!) {
  reportIntermediate(input: {experimentId: $e, workerId: $w, fencingToken: $t,
                             epoch: $epoch, value: $v}) {
    shouldPrune trial { number intermediateValues { epoch value } }
  }
}"""
FINISH = """
mutation($e: ID!, $w: String!, $t: BigInt!, $s: HpoTrialOutcome!, $m: TrainingMetricsInput,
         $v: Float) {
  finishTrial(input: {experimentId: $e, workerId: $w, fencingToken: $t, status: $s,
                      metrics: $m, value: $v}) {
    trial { number state value claimedBy finishedAt experiment { status metrics } }
    campaign { status trialsTotal trialsCompleted bestValue bestAccuracy
      bestTrial { number value } progress { running completed pruned failed remaining } }
  }
}"""
CAMPAIGN = """
query($id: ID!) {
  node(id: $id) { ... on HpoCampaign {
    status trialsTotal trialsCompleted bestValue startedAt completedAt
    progress { running completed pruned failed remaining }
    bestTrial { number value }
    trials(first: 100) { edges { node { number state value } } }
  } }
}"""
LOG = """
mutation($e: ID!, $t: BigInt) {
  logTrainingEpochs(input: {experimentId: $e, fencingToken: $t, epochs: [{epoch: 0, valLoss: 1}]}) {
    trainingRuns { epoch }
  }
}"""

SPACE = [
    {"name": "lr", "kind": "FLOAT", "low": 1e-4, "high": 0.5, "log": True},
    {"name": "units", "kind": "INT", "low": 1, "high": 100},
]


async def create(gql: Any, **overrides: Any) -> dict[str, Any]:
    given = {
        "name": "search",
        "method": "RANDOM_SEARCH",
        "baseModelType": "mlp",
        "searchSpace": SPACE,
        "budget": {"maxTrials": 4, "maxParallel": 2},
        "seed": "7",
        **overrides,
    }
    data = await gql.data(CREATE, {"input": given})
    return data["createHpoCampaign"]["campaign"]  # type: ignore[no-any-return]


async def claim(gql: Any, campaign_id: str | None, worker: str = "w") -> dict[str, Any] | None:
    data = await gql.data(CLAIM, {"c": campaign_id, "w": worker})
    return data["claimHpoTrial"]["trial"]  # type: ignore[no-any-return]


def holder(trial: dict[str, Any], worker: str = "w") -> dict[str, Any]:
    return {"e": trial["experiment"]["id"], "w": worker, "t": trial["fencingToken"]}


async def finish(
    gql: Any, trial: dict[str, Any], worker: str = "w", **given: Any
) -> dict[str, Any]:
    variables = {**holder(trial, worker), "s": "COMPLETED", **given}
    return (await gql.data(FINISH, variables))["finishTrial"]  # type: ignore[no-any-return]


async def train(
    gql: Any, trial: dict[str, Any], epochs: int = 3, worker: str = "w"
) -> dict[str, Any]:
    """Train a trial on the built-in objective, reporting each epoch; stop when pruned."""
    params = trial["experiment"]["hyperparameters"]
    for epoch in range(epochs):
        result = noisy_quadratic(params, epoch, seed=1)
        reported = await gql.data(
            REPORT, {**holder(trial, worker), "epoch": epoch, "v": result["val_accuracy"]}
        )
        if reported["reportIntermediate"]["shouldPrune"]:
            return await finish(gql, trial, worker, s="PRUNED")
    return await finish(
        gql, trial, worker, m={"valAccuracy": result["val_accuracy"], "valLoss": result["val_loss"]}
    )


async def make_stale(db: Any) -> None:
    """Move every trial's last heartbeat an hour back (the database's clock)."""
    async with db.transaction() as session:
        if db.dialect == "postgresql":
            sql = "UPDATE hpo_trials SET claimed_at = claimed_at - interval '1 hour'"
        else:
            sql = "UPDATE hpo_trials SET claimed_at = strftime('%Y-%m-%d %H:%M:%f000', 'now', '-1 hour')"
        await session.execute(text(sql + " WHERE claimed_at IS NOT NULL"))


async def test_create_stores_the_campaign_with_defaults(gql):
    campaign = await create(gql)
    assert campaign["status"] == "PENDING"
    assert campaign["seed"] == "7"
    assert campaign["objective"] == {"metric": "VAL_ACCURACY", "direction": "MAXIMIZE"}
    assert campaign["budget"] == {
        "maxTrials": 4,
        "maxParallel": 2,
        "maxDurationSeconds": None,
        "minEpochs": 1,
        "maxEpochs": 27,
    }
    assert campaign["searchSpace"][0] == {
        "name": "lr",
        "kind": "FLOAT",
        "low": 1e-4,
        "high": 0.5,
        "log": True,
        "step": None,
        "choices": None,
    }
    drawn = await create(gql, name="drawn", seed=None)
    assert int(drawn["seed"]) >= 0


async def test_bad_input_is_bad_request(gql):
    bad = [
        {"searchSpace": []},
        {"searchSpace": [{"name": "x", "kind": "FLOAT", "low": 1, "high": 1}]},
        {"searchSpace": [{"name": "x", "kind": "FLOAT", "low": 0, "high": 1, "log": True}]},
        {"searchSpace": [{"name": "x", "kind": "CATEGORICAL"}]},
        {"searchSpace": [{"name": "x", "kind": "INT", "low": 0.5, "high": 3}]},
        {
            "method": "GRID_SEARCH",
            "searchSpace": [{"name": "x", "kind": "FLOAT", "low": 0, "high": 1}],
        },
        {"budget": {"maxTrials": 2, "maxParallel": 3}},
        {"budget": {"maxTrials": 0, "maxParallel": 1}},
    ]
    base = {"name": "bad", "method": "RANDOM_SEARCH", "baseModelType": "mlp", "searchSpace": SPACE}
    for overrides in bad:
        given = {**base, "budget": {"maxTrials": 2, "maxParallel": 1}, **overrides}
        body = await gql.post(CREATE, {"input": given})
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", overrides
    body = await gql.post(CREATE, {"input": {**base, "method": "SIMULATED_ANNEALING"}})
    assert body["errors"]  # not one of the enum's values: refused by validation
    await create(gql, name="taken")
    assert (
        await gql.post(
            CREATE,
            {"input": {**base, "name": "taken", "budget": {"maxTrials": 1, "maxParallel": 1}}},
        )
    )["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_a_trial_lifecycle_updates_the_campaign(gql):
    campaign = await create(gql, budget={"maxTrials": 2, "maxParallel": 1})
    trial = await claim(gql, campaign["id"])
    assert trial is not None
    assert trial["number"] == 0 and trial["state"] == "RUNNING" and trial["fencingToken"] == "1"
    assert trial["experiment"]["status"] == "RUNNING"
    assert trial["experiment"]["modelType"] == "mlp"
    assert set(trial["experiment"]["hyperparameters"]) == {"lr", "units"}
    assert await claim(gql, campaign["id"]) is None  # maxParallel 1
    beat = await gql.data(HEARTBEAT, holder(trial))
    assert beat["heartbeatTrial"]["trial"]["fencingToken"] == "1"
    reported = await gql.data(REPORT, {**holder(trial), "epoch": 0, "v": 0.5})
    assert reported["reportIntermediate"]["shouldPrune"] is False  # RANDOM_SEARCH never prunes
    again = await gql.data(REPORT, {**holder(trial), "epoch": 0, "v": 0.6})  # idempotent per epoch
    assert again["reportIntermediate"]["trial"]["intermediateValues"] == [
        {"epoch": 0, "value": 0.6}
    ]
    done = await finish(gql, trial, m={"valAccuracy": 0.8, "valLoss": 0.3})
    assert done["trial"]["state"] == "COMPLETED" and done["trial"]["value"] == 0.8
    assert done["trial"]["claimedBy"] is None and done["trial"]["finishedAt"]
    assert done["trial"]["experiment"]["status"] == "COMPLETED"
    assert done["trial"]["experiment"]["metrics"] == {"val_accuracy": 0.8, "val_loss": 0.3}
    assert done["campaign"]["status"] == "RUNNING"
    assert done["campaign"]["bestValue"] == 0.8 == done["campaign"]["bestAccuracy"]
    assert done["campaign"]["bestTrial"] == {"number": 0, "value": 0.8}
    second = await claim(gql, None)  # the oldest campaign with room
    assert second is not None and second["number"] == 1
    body = await gql.post(FINISH, {**holder(second), "s": "COMPLETED"})  # no value, no metric
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    done = await finish(gql, second, v=0.9)
    assert done["campaign"]["status"] == "COMPLETED"  # budget spent, nothing runs
    assert done["campaign"]["trialsCompleted"] == 2 and done["campaign"]["bestValue"] == 0.9
    assert done["campaign"]["progress"] == {
        "running": 0,
        "completed": 2,
        "pruned": 0,
        "failed": 0,
        "remaining": 0,
    }
    assert await claim(gql, campaign["id"]) is None
    page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert [e["node"]["number"] for e in page["trials"]["edges"]] == [1, 0]  # best first
    body = await gql.post(FINISH, {**holder(second), "s": "COMPLETED", "v": 1.0})
    assert body["errors"][0]["extensions"]["reason"] == "FINISHED"


async def test_trials_order_minimizing_puts_lowest_first_and_unscored_last(gql):
    campaign = await create(
        gql,
        budget={"maxTrials": 3, "maxParallel": 3},
        objective={"metric": "VAL_LOSS", "direction": "MINIMIZE"},
    )
    trials = [await claim(gql, campaign["id"]) for _ in range(3)]
    await finish(gql, trials[0], m={"valLoss": 0.5})
    await finish(gql, trials[2], m={"valLoss": 0.2})
    order = """query($id: ID!, $after: String) { node(id: $id) { ... on HpoCampaign {
      trials(first: 1, after: $after) { edges { node { number } } pageInfo { endCursor hasNextPage } } } } }"""
    seen, after = [], None
    while True:
        conn = (await gql.data(order, {"id": campaign["id"], "after": after}))["node"]["trials"]
        seen += [e["node"]["number"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert seen == [2, 0, 1]


async def test_fencing_rejects_a_stale_holder_and_wrong_epoch_tokens(gql, db):
    campaign = await create(gql, budget={"maxTrials": 3, "maxParallel": 1})
    old = await claim(gql, campaign["id"], "old")
    assert old is not None
    body = await gql.post(LOG, {"e": old["experiment"]["id"], "t": "2"})
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert (await gql.data(LOG, {"e": old["experiment"]["id"], "t": "1"}))["logTrainingEpochs"]
    await make_stale(db)
    new = await claim(gql, campaign["id"], "new")  # the stale trial fails; its slot is re-run
    assert new is not None and new["number"] == 1
    for document, extra in ((HEARTBEAT, {}), (REPORT, {"epoch": 0, "v": 0.1})):
        body = await gql.post(document, {**holder(old, "old"), **extra})
        assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
        assert body["errors"][0]["extensions"]["reason"] == "FINISHED"
    body = await gql.post(LOG, {"e": old["experiment"]["id"], "t": "1"})
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert page["progress"]["failed"] == 1 and page["progress"]["remaining"] == 2
    states = {e["node"]["number"]: e["node"]["state"] for e in page["trials"]["edges"]}
    assert states == {0: "FAILED", 1: "RUNNING"}
    # A holder whose hold was taken over within a trial: same trial, newer token.
    async with db.transaction() as session:
        await session.execute(
            text(
                "UPDATE hpo_trials SET claimed_by = 'thief', fencing_token = 2 WHERE trial_number = 1"
            )
        )
    body = await gql.post(HEARTBEAT, holder(new, "new"))
    assert body["errors"][0]["extensions"]["reason"] == "TAKEN_OVER"
    body = await gql.post(HEARTBEAT, {**holder(new, "thief")})
    assert body["errors"][0]["extensions"]["reason"] == "STALE_TOKEN"


async def test_a_stale_trial_is_failed_and_its_slot_rerun(gql, db):
    campaign = await create(gql, budget={"maxTrials": 2, "maxParallel": 2})
    first = await claim(gql, campaign["id"])
    second = await claim(gql, campaign["id"])
    assert first and second
    await finish(gql, first, v=0.5)
    await make_stale(db)
    third = await claim(gql, campaign["id"])
    assert third is not None and third["number"] == 2
    page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert page["progress"] == {
        "running": 1,
        "completed": 1,
        "pruned": 0,
        "failed": 1,
        "remaining": 0,
    }
    assert await claim(gql, campaign["id"]) is None
    done = await finish(gql, third, v=0.7)
    assert done["campaign"]["status"] == "COMPLETED" and done["campaign"]["trialsTotal"] == 3


async def test_grid_search_visits_every_point_once(gql):
    space = [
        {"name": "units", "kind": "INT", "low": 1, "high": 3},
        {"name": "act", "kind": "CATEGORICAL", "choices": ["relu", "tanh"]},
        {"name": "dropout", "kind": "FLOAT", "low": 0.0, "high": 0.5, "step": 0.25},
    ]
    campaign = await create(
        gql, method="GRID_SEARCH", searchSpace=space, budget={"maxTrials": 100, "maxParallel": 4}
    )
    seen = []
    while (trial := await claim(gql, campaign["id"])) is not None:
        params = trial["experiment"]["hyperparameters"]
        seen.append((params["units"], params["act"], params["dropout"]))
        await finish(gql, trial, v=float(len(seen)))
    assert len(seen) == 3 * 2 * 3 == len(set(seen))
    assert {s[2] for s in seen} == {0.0, 0.25, 0.5}
    page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert page["status"] == "COMPLETED" and page["completedAt"]


async def test_random_search_is_reproducible_from_its_seed(gql):
    sequences = []
    for name in ("one", "two"):
        campaign = await create(
            gql, name=name, seed="42", budget={"maxTrials": 5, "maxParallel": 1}
        )
        params = []
        while (trial := await claim(gql, campaign["id"])) is not None:
            params.append(trial["experiment"]["hyperparameters"])
            await finish(gql, trial, v=0.1)
        sequences.append(params)
    assert len(sequences[0]) == 5 and sequences[0] == sequences[1]
    other = await create(gql, name="three", seed="43", budget={"maxTrials": 1, "maxParallel": 1})
    trial = await claim(gql, other["id"])
    assert trial and trial["experiment"]["hyperparameters"] != sequences[0][0]


async def test_bayesian_beats_random_search_on_the_built_in_objective(gql):
    space = [
        {"name": "lr", "kind": "FLOAT", "low": 1e-4, "high": 0.9, "log": True},
        {"name": "units", "kind": "INT", "low": 1, "high": 1000, "log": True},
        {"name": "dropout", "kind": "FLOAT", "low": 0.001, "high": 0.9},
    ]
    best = {}
    for method in ("RANDOM_SEARCH", "BAYESIAN"):
        campaign = await create(
            gql,
            name=method,
            method=method,
            seed="3",
            searchSpace=space,
            budget={"maxTrials": 40, "maxParallel": 1},
        )
        while (trial := await claim(gql, campaign["id"])) is not None:
            done = await train(gql, trial, epochs=2)
        best[method] = done["campaign"]["bestValue"]
        assert done["campaign"]["status"] == "COMPLETED"
    assert best["BAYESIAN"] > best["RANDOM_SEARCH"], best


async def test_hyperband_prunes_bad_trials_early(gql):
    campaign = await create(
        gql,
        name="hb",
        method="HYPERBAND",
        seed="5",
        budget={"maxTrials": 20, "maxParallel": 1, "minEpochs": 1, "maxEpochs": 9},
    )
    pruned_early = 0
    while (trial := await claim(gql, campaign["id"])) is not None:
        done = await train(gql, trial, epochs=9)
        if done["trial"]["state"] == "PRUNED":
            pruned_early += 1
            assert done["trial"]["experiment"]["status"] == "CANCELLED"
            assert done["trial"]["value"] is not None  # the last reported value
    assert pruned_early > 0
    assert done["campaign"]["progress"]["pruned"] == pruned_early


async def test_sixteen_concurrent_claimers_respect_budget_and_parallelism(gql):
    campaign = await create(gql, name="crowd", budget={"maxTrials": 10, "maxParallel": 3})
    claimed: list[dict[str, Any]] = []
    for _ in range(8):
        results = await asyncio.gather(
            *(gql.post(CLAIM, {"c": campaign["id"], "w": f"w{i}"}) for i in range(16))
        )
        round_trials = []
        for body in results:
            assert not body.get("errors"), body["errors"]
            if body["data"]["claimHpoTrial"]["trial"] is not None:
                round_trials.append(body["data"]["claimHpoTrial"]["trial"])
        page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
        assert page["progress"]["running"] <= 3 and len(round_trials) <= 3
        claimed += round_trials
        for trial in round_trials:
            await finish(gql, trial, trial["claimedBy"], v=0.5)
    assert len(claimed) == 10
    assert sorted(t["number"] for t in claimed) == list(range(10))
    page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert page["status"] == "COMPLETED" and page["trialsTotal"] == 10


async def test_deleting_a_campaign_deletes_its_trials_not_their_experiments(gql, db):
    campaign = await create(gql, budget={"maxTrials": 2, "maxParallel": 2})
    trial = await claim(gql, campaign["id"])
    assert trial is not None
    await finish(gql, trial, v=0.4)
    pk = model_pk(campaign["id"], HpoCampaign)
    async with db.transaction() as session:
        await session.execute(text("UPDATE experiments SET hpo_campaign_id = NULL"))
        await session.execute(text("UPDATE hpo_campaigns SET best_experiment_id = NULL"))
        await session.execute(delete(HpoCampaign).where(HpoCampaign.id == pk))
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(HpoTrial)) == 0
        assert await session.scalar(select(func.count()).select_from(Experiment)) == 1


PAGE = """
query { hpoCampaigns(first: 20) { edges { node {
  name progress { running completed }
  bestTrial { number experiment { id name hyperparameters } }
  trials(first: 10) { edges { node { number value experiment { id name status } } } }
} } } }"""


async def test_a_page_of_campaigns_reads_in_constant_statements(gql, statements):
    async def fill(n: int) -> None:
        for i in range(n):
            campaign = await create(
                gql, name=f"page-{n}-{i}", budget={"maxTrials": 2, "maxParallel": 2}
            )
            for _ in range(2):
                trial = await claim(gql, campaign["id"])
                assert trial is not None
                await finish(gql, trial, v=0.1 * (i + 1))

    await fill(2)
    statements.reset()
    small = await gql.data(PAGE)
    few = statements.count
    await fill(5)
    statements.reset()
    large = await gql.data(PAGE)
    assert len(large["hpoCampaigns"]["edges"]) == 7 > len(small["hpoCampaigns"]["edges"])
    # One statement per level whatever the page size: campaigns, progress, best
    # trials, trials, and their experiments (the best trials' and the trials'
    # experiments share one batch or take two, as the executor schedules them).
    assert few <= 6 and statements.count <= 6, statements.sql
    first = large["hpoCampaigns"]["edges"][0]["node"]
    assert len(first["trials"]["edges"]) == 2 and first["bestTrial"]["experiment"]["id"]


async def test_epochs_without_a_token_are_refused_for_a_trial(gql):
    campaign = await create(gql, budget={"maxTrials": 1, "maxParallel": 1})
    trial = await claim(gql, campaign["id"])
    assert trial is not None
    body = await gql.post(LOG, {"e": trial["experiment"]["id"], "t": None})
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
    free = await create_experiment(gql, "free")
    assert free["id"]


IMPORTANCE = """query($id: ID!) { node(id: $id) { ... on HpoCampaign {
  parameterImportance { name importance } } } }"""


async def test_parameter_importance_over_completed_trials(gql):
    campaign = await create(gql, name="importance", budget={"maxTrials": 8, "maxParallel": 1})
    first = await claim(gql, campaign["id"])
    assert first is not None
    await train(gql, first, epochs=1)
    found = await gql.data(IMPORTANCE, {"id": campaign["id"]})
    assert found["node"]["parameterImportance"] == []  # fewer than 2 COMPLETED trials
    while (trial := await claim(gql, campaign["id"])) is not None:
        await train(gql, trial, epochs=1)
    found = (await gql.data(IMPORTANCE, {"id": campaign["id"]}))["node"]["parameterImportance"]
    assert {f["name"] for f in found} == {"lr", "units"}
    assert abs(sum(f["importance"] for f in found) - 1) < 1e-6
    assert found == sorted(found, key=lambda f: -f["importance"])


async def test_no_trial_starts_after_max_duration(gql, db):
    campaign = await create(
        gql, name="timed", budget={"maxTrials": 5, "maxParallel": 2, "maxDurationSeconds": 60}
    )
    trial = await claim(gql, campaign["id"])
    assert trial is not None
    async with db.transaction() as session:  # the first claim was an hour ago
        if db.dialect == "postgresql":
            sql = "UPDATE hpo_campaigns SET started_at = started_at - interval '1 hour'"
        else:
            sql = "UPDATE hpo_campaigns SET started_at = strftime('%Y-%m-%d %H:%M:%f000', 'now', '-1 hour')"
        await session.execute(text(sql))
    assert await claim(gql, campaign["id"]) is None
    done = await finish(gql, trial, v=0.3)
    assert done["campaign"]["status"] == "COMPLETED"
    assert done["campaign"]["progress"]["remaining"] == 4
