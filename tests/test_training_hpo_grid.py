"""GRID_SEARCH campaigns through Optuna's GridSampler, over real GraphQL on both
databases: every point once then null and COMPLETED, the order Optuna's own
GridSampler gives for the seed (checked against a GridSampler study run here),
reproducible from the seed, a failed (stale) trial's point handed out again,
and 16 concurrent claimers never given a point twice."""

from __future__ import annotations

import asyncio
from typing import Any

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from tests.test_training_hpo import CAMPAIGN, CLAIM, claim, create, finish, make_stale

SPACE = [
    {"name": "units", "kind": "INT", "low": 1, "high": 3},
    {"name": "act", "kind": "CATEGORICAL", "choices": ["relu", "tanh"]},
    {"name": "dropout", "kind": "FLOAT", "low": 0.0, "high": 0.5, "step": 0.25},
]
VALUES: dict[str, list[Any]] = {
    "units": [1, 2, 3],
    "act": ["relu", "tanh"],
    "dropout": [0.0, 0.25, 0.5],
}
"""SPACE's grid values per parameter."""
SIZE = 3 * 2 * 3
BIG = {"maxTrials": 100, "maxParallel": 4}


def point(params: dict[str, Any]) -> tuple[Any, ...]:
    return (params["units"], params["act"], params["dropout"])


def optuna_order(seed: int) -> list[tuple[Any, ...]]:
    """The points Optuna's GridSampler with ``seed`` gives over VALUES, in order
    (a plain ask-and-tell study, independent of expgraph)."""
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(VALUES, seed=seed))
    fixed = {
        "units": IntDistribution(1, 3),
        "act": CategoricalDistribution(["relu", "tanh"]),
        "dropout": FloatDistribution(0.0, 0.5, step=0.25),
    }
    order = []
    for _ in range(SIZE):
        trial = study.ask(fixed)
        order.append(point(trial.params))
        if len(order) < SIZE:  # telling the last one makes GridSampler stop the study: an error
            study.tell(trial, 0.0)
    return order


async def run_grid(gql: Any, name: str, seed: str) -> list[tuple[Any, ...]]:
    """Claim and finish every trial of a new grid campaign, one at a time."""
    campaign = await create(
        gql, name=name, method="GRID_SEARCH", searchSpace=SPACE, seed=seed, budget=BIG
    )
    seen = []
    while (trial := await claim(gql, campaign["id"])) is not None:
        assert trial["number"] == len(seen)
        seen.append(point(trial["experiment"]["hyperparameters"]))
        await finish(gql, trial, v=float(len(seen)))
    page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert page["status"] == "COMPLETED" and page["completedAt"]
    assert page["trialsTotal"] == len(seen)
    return seen


async def test_grid_search_gives_every_point_once_in_optunas_order(gql):
    seen = await run_grid(gql, "grid", "11")
    assert len(seen) == SIZE == len(set(seen))
    assert set(seen) == {
        (u, a, d) for u in (1, 2, 3) for a in ("relu", "tanh") for d in VALUES["dropout"]
    }
    assert seen == optuna_order(11)


async def test_the_same_seed_gives_the_same_order_and_another_seed_another(gql):
    first = await run_grid(gql, "one", "5")
    again = await run_grid(gql, "two", "5")
    other = await run_grid(gql, "three", "6")
    assert first == again == optuna_order(5)
    assert other == optuna_order(6)
    assert other != first and set(other) == set(first)


async def test_a_large_seed_is_taken_modulo_two_to_the_32(gql):
    seed = 2**40 + 9
    seen = await run_grid(gql, "large", str(seed))
    assert seen == optuna_order(seed % 2**32)


async def test_a_stale_trials_point_is_offered_again(gql, db):
    campaign = await create(
        gql, name="stale", method="GRID_SEARCH", searchSpace=SPACE, seed="3", budget=BIG
    )
    first = await claim(gql, campaign["id"], "gone")
    assert first is not None
    lost = point(first["experiment"]["hyperparameters"])
    await make_stale(db)
    done: list[tuple[Any, ...]] = []
    numbers = []
    while (trial := await claim(gql, campaign["id"])) is not None:
        numbers.append(trial["number"])
        done.append(point(trial["experiment"]["hyperparameters"]))
        await finish(gql, trial, v=0.5)
    # Every point once among the trials that did not fail, the lost one last
    # (handed out again once every point had been handed out).
    assert numbers == list(range(1, SIZE + 1))
    assert sorted(done) == sorted(optuna_order(3)) and len(set(done)) == SIZE
    assert done[:-1] == optuna_order(3)[1:] and done[-1] == lost
    page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert page["status"] == "COMPLETED"
    assert page["progress"]["failed"] == 1 and page["progress"]["completed"] == SIZE
    assert page["trialsTotal"] == SIZE + 1


async def test_a_failed_trials_point_is_offered_again_within_a_smaller_budget(gql):
    # Two points, budget two: the failed point comes back as the third trial.
    space = [{"name": "act", "kind": "CATEGORICAL", "choices": ["relu", "tanh"]}]
    campaign = await create(
        gql,
        name="failed",
        method="GRID_SEARCH",
        searchSpace=space,
        seed="1",
        budget={"maxTrials": 2, "maxParallel": 2},
    )
    first = await claim(gql, campaign["id"])
    second = await claim(gql, campaign["id"])
    assert first and second
    assert await claim(gql, campaign["id"]) is None  # both points running
    await finish(gql, first, s="FAILED")
    third = await claim(gql, campaign["id"])
    assert third is not None and third["number"] == 2
    assert third["experiment"]["hyperparameters"] == first["experiment"]["hyperparameters"]
    assert await claim(gql, campaign["id"]) is None
    await finish(gql, second, v=0.1)
    end = await finish(gql, third, v=0.2)
    assert end["campaign"]["status"] == "COMPLETED"


async def test_sixteen_concurrent_claimers_never_get_a_grid_point_twice(gql):
    campaign = await create(
        gql,
        name="crowd-grid",
        method="GRID_SEARCH",
        searchSpace=SPACE,
        seed="8",
        budget={"maxTrials": 100, "maxParallel": 5},
    )
    claimed: list[dict[str, Any]] = []
    for _ in range(SIZE):
        results = await asyncio.gather(
            *(gql.post(CLAIM, {"c": campaign["id"], "w": f"w{i}"}) for i in range(16))
        )
        round_trials = []
        for body in results:
            assert not body.get("errors"), body["errors"]
            if body["data"]["claimHpoTrial"]["trial"] is not None:
                round_trials.append(body["data"]["claimHpoTrial"]["trial"])
        assert len(round_trials) <= 5
        claimed += round_trials
        for trial in round_trials:
            await finish(gql, trial, trial["claimedBy"], v=0.5)
        if not round_trials:
            break
    points = [point(t["experiment"]["hyperparameters"]) for t in claimed]
    assert len(points) == SIZE == len(set(points))
    assert sorted(t["number"] for t in claimed) == list(range(SIZE))
    by_number = [
        point(t["experiment"]["hyperparameters"])
        for t in sorted(claimed, key=lambda t: t["number"])
    ]
    assert by_number == optuna_order(8)
    page = (await gql.data(CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert page["status"] == "COMPLETED" and page["trialsTotal"] == SIZE


async def test_a_grid_too_large_is_refused_even_when_its_size_overflows(gql):
    for low, high, step in ((-1e308, 1e308, 1e-300), (0, 10_000, 1)):
        body = await gql.post(
            """mutation($input: CreateHpoCampaignInput!) {
                 createHpoCampaign(input: $input) { campaign { id } } }""",
            {
                "input": {
                    "name": f"huge-{step}",
                    "method": "GRID_SEARCH",
                    "baseModelType": "mlp",
                    "searchSpace": [
                        {"name": "x", "kind": "FLOAT", "low": low, "high": high, "step": step}
                    ],
                    "budget": {"maxTrials": 2, "maxParallel": 1},
                }
            },
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
        assert "more than 10,000 points" in body["errors"][0]["message"]
