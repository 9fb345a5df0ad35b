"""NAS campaigns (issue 16): create and validate, claim trials (16 concurrent
claimers within budget and parallelism, distinct architectures), duplicates
re-drawn until the space is exhausted, reproducible from the seed, regularized
evolution, best trial and Pareto front, stale trials failed and their slots
re-offered, fencing, ON DELETE CASCADE, and a page of campaigns read in the same
statements for 2 or 5 (both dialects)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import delete, func, select, text

from expgraph.domains.catalog.models import Dataset
from expgraph.domains.training.models import NasCampaign, NasTrial
from expgraph.domains.training.nas_space import architecture_hash, canonical_json
from expgraph.graphql.relay import encode_id, model_pk
from tests.conftest import GraphQLClient
from tests.helpers import create_dataset
from tests.test_worker import _serve

CREATE = """mutation($input: CreateNasCampaignInput!) { createNasCampaign(input: $input) {
  campaign { id name status searchAlgorithm numTrials maxParallel maxEpochsPerTrial seed
    dataset { id } bestAccuracy bestTrial { id } completedAt
    searchSpace { size decisions { name choices } layers { minCount maxCount
      decisions { name choices } } }
    progress { running completed failed remaining } } } }"""
CLAIM = """mutation($c: ID, $w: String!) { claimNasTrial(input: {campaignId: $c, workerId: $w}) {
  trial { id trialNumber architecture architectureHash status claimedBy fencingToken
    campaign { id status } } } }"""
HEARTBEAT = """mutation($t: ID!, $w: String!, $f: BigInt!) {
  heartbeatNasTrial(input: {trialId: $t, workerId: $w, fencingToken: $f}) {
    trial { id claimedAt } } }"""
FINISH = """mutation($input: FinishNasTrialInput!) { finishNasTrial(input: $input) {
  trial { id status validationAccuracy flops numParameters modelSizeMb metrics claimedBy
    finishedAt }
  campaign { id status bestAccuracy bestTrial { id } completedAt
    progress { running completed failed remaining } } } }"""
CAMPAIGN = """query($id: ID!) { node(id: $id) { ... on NasCampaign {
  status bestAccuracy bestTrial { id validationAccuracy }
  progress { running completed failed remaining }
  paretoFront { id validationAccuracy flops }
  trials(first: 100) { totalCount edges { node { id trialNumber status architectureHash
    architecture } } } } } }"""
PAGE = """query($n: Int!) { nasCampaigns(first: $n) { edges { node {
  name status dataset { name } bestTrial { id trialNumber campaign { name } }
  progress { running completed failed remaining }
  paretoFront { trialNumber flops validationAccuracy }
  trials(first: 3) { edges { node { trialNumber architecture status } } } } } } }"""

BIG_SPACE = {
    "decisions": [{"name": "optimizer", "choices": ["adam", "sgd", "rmsprop"]}],
    "layers": {
        "minCount": 2,
        "maxCount": 6,
        "decisions": [
            {"name": "op", "choices": ["conv3x3", "conv5x5", "maxpool", "identity"]},
            {"name": "width", "choices": [16, 32, 64, 128]},
            {"name": "activation", "choices": ["relu", "gelu"]},
        ],
    },
}
TINY_SPACE = {"decisions": [{"name": "a", "choices": [1, 2]}, {"name": "b", "choices": ["x", "y"]}]}


async def campaign(gql, name: str = "nas", **values: Any) -> dict[str, Any]:
    dataset_id, _ = await create_dataset(gql, f"data-{name}")
    data = {
        "name": name,
        "datasetId": dataset_id,
        "searchSpace": BIG_SPACE,
        "numTrials": 10,
        "maxParallel": 4,
        "maxEpochsPerTrial": 20,
        "seed": "7",
        **values,
    }
    body = await gql.data(CREATE, {"input": data})
    return body["createNasCampaign"]["campaign"]  # type: ignore[no-any-return]


async def claim(gql, campaign_id: str | None, worker: str) -> dict[str, Any] | None:
    body = await gql.data(CLAIM, {"c": campaign_id, "w": worker})
    return body["claimNasTrial"]["trial"]  # type: ignore[no-any-return]


async def finish(gql, trial: dict[str, Any], worker: str, **results: Any) -> dict[str, Any]:
    data = {
        "trialId": trial["id"],
        "workerId": worker,
        "fencingToken": trial["fencingToken"],
        "status": "COMPLETED",
        **results,
    }
    return await gql.post(FINISH, {"input": data})


async def read(gql, campaign_id: str) -> dict[str, Any]:
    return (await gql.data(CAMPAIGN, {"id": campaign_id}))["node"]  # type: ignore[no-any-return]


async def make_stale(db) -> None:
    """Every held trial's last heartbeat an hour ago (the database clock)."""
    async with db.transaction() as session:
        if db.dialect == "postgresql":
            sql = "UPDATE nas_trials SET claimed_at = claimed_at - interval '1 hour'"
        else:
            sql = "UPDATE nas_trials SET claimed_at = strftime('%Y-%m-%d %H:%M:%f000', 'now', '-1 hour')"
        await session.execute(text(sql + " WHERE claimed_at IS NOT NULL"))


async def test_a_campaign_is_created_with_its_typed_search_space(gql):
    created = await campaign(gql, "created")
    assert created["status"] == "PENDING"
    assert created["searchAlgorithm"] == "RANDOM"
    assert (created["numTrials"], created["maxParallel"], created["maxEpochsPerTrial"]) == (
        10,
        4,
        20,
    )
    assert created["seed"] == "7"
    space = created["searchSpace"]
    assert space["decisions"] == [{"name": "optimizer", "choices": ["adam", "sgd", "rmsprop"]}]
    assert space["layers"]["minCount"] == 2 and space["layers"]["maxCount"] == 6
    assert [d["name"] for d in space["layers"]["decisions"]] == ["op", "width", "activation"]
    assert space["size"] == str(3 * sum(32**n for n in range(2, 7)))
    assert created["progress"] == {"running": 0, "completed": 0, "failed": 0, "remaining": 10}
    assert created["bestTrial"] is None and created["bestAccuracy"] is None
    # Without a seed, one is drawn and shown.
    other = await campaign(gql, "seedless", seed=None)
    assert int(other["seed"]) >= 0
    listed = await gql.data(
        "query { nasCampaigns(filter: {statuses: [PENDING]}) { totalCount edges { node { name } } } }"
    )
    assert listed["nasCampaigns"]["totalCount"] == 2
    none = await gql.data("query { nasCampaigns(filter: {statuses: [COMPLETED]}) { totalCount } }")
    assert none["nasCampaigns"]["totalCount"] == 0


async def test_bad_input_is_a_bad_request_naming_the_field(gql):
    dataset_id, _ = await create_dataset(gql, "bad")
    base = {
        "name": "bad",
        "datasetId": dataset_id,
        "searchSpace": TINY_SPACE,
        "numTrials": 4,
        "maxEpochsPerTrial": 3,
    }
    cases = [
        ({"numTrials": 0}, "numTrials"),
        ({"maxParallel": 0}, "maxParallel"),
        ({"maxEpochsPerTrial": 0}, "maxEpochsPerTrial"),
        ({"name": "  "}, "name"),
        ({"seed": "-1"}, "seed"),
        ({"searchSpace": {}}, "searchSpace"),
        ({"searchSpace": {"decisions": [{"name": "a", "choices": []}]}}, "searchSpace.decisions"),
        (
            {"searchSpace": {"decisions": [{"name": "a", "choices": [1, 1]}]}},
            "searchSpace.decisions",
        ),
        (
            {
                "searchSpace": {
                    "decisions": [{"name": "a", "choices": [1]}, {"name": "a", "choices": [2]}]
                }
            },
            "searchSpace.decisions",
        ),
        (
            {
                "searchSpace": {
                    "layers": {"minCount": 3, "maxCount": 2, "decisions": TINY_SPACE["decisions"]}
                }
            },
            "searchSpace.layers",
        ),
        (
            {
                "searchSpace": {
                    "decisions": [{"name": "layers", "choices": [1]}],
                    "layers": {"minCount": 1, "maxCount": 2, "decisions": TINY_SPACE["decisions"]},
                }
            },
            "searchSpace.decisions",
        ),
        ({"datasetId": "bm90LWFuLWlk"}, None),
    ]
    for change, field in cases:
        body = await gql.post(CREATE, {"input": {**base, **change}})
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST", (change, body)
        if field is not None:
            assert error["extensions"]["field"] == field, (change, error)
    # A well-formed id of no dataset: NOT_FOUND.
    body = await gql.post(CREATE, {"input": {**base, "datasetId": encode_id("Dataset", 99999)}})
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await gql.error_code(CLAIM, {"c": encode_id("NasCampaign", 99999), "w": "w"}) == (
        "NOT_FOUND"
    )
    assert await gql.error_code(CLAIM, {"c": dataset_id, "w": "w"}) == "BAD_REQUEST"
    assert (await gql.data(CLAIM, {"c": None, "w": "w"}))["claimNasTrial"]["trial"] is None


async def test_16_concurrent_claimers_keep_budget_parallelism_and_distinct_hashes(gql, app, db):
    created = await campaign(gql, "crowd", numTrials=10, maxParallel=4)
    cid = created["id"]

    async def client() -> Any:
        transport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(transport=transport, base_url="http://w")

    # Sixteen claim at once: maxParallel get a trial, the rest null.
    async def one(n: int) -> dict[str, Any] | None:
        async with await client() as http:
            return await claim(GraphQLClient(http), cid, f"w{n}")

    first = await asyncio.gather(*(one(n) for n in range(16)))
    held = [t for t in first if t is not None]
    assert len(held) == 4
    assert sorted(t["trialNumber"] for t in held) == [1, 2, 3, 4]
    assert all(t["fencingToken"] == "1" and t["status"] == "RUNNING" for t in held)
    assert (await read(gql, cid))["status"] == "RUNNING"
    for t in held:
        assert (await finish(gql, t, t["claimedBy"], validationAccuracy=0.5, flops="10"))["data"][
            "finishNasTrial"
        ]["trial"]["status"] == "COMPLETED"

    # Then sixteen workers claim and finish until the campaign completes.
    async def worker(n: int) -> int:
        done = 0
        async with await client() as http:
            gq = GraphQLClient(http)
            for _ in range(200):
                trial = await claim(gq, cid, f"v{n}")
                if trial is None:
                    if (await read(gq, cid))["status"] == "COMPLETED":
                        return done
                    await asyncio.sleep(0.01)
                    continue
                body = await finish(gq, trial, f"v{n}", validationAccuracy=0.6, flops="20")
                assert not body.get("errors"), body
                done += 1
        return done

    counts = await asyncio.gather(*(worker(n) for n in range(16)))
    assert sum(counts) == 6
    final = await read(gql, cid)
    assert final["status"] == "COMPLETED"
    trials = [e["node"] for e in final["trials"]["edges"]]
    assert final["trials"]["totalCount"] == 10
    assert [t["trialNumber"] for t in trials] == list(range(1, 11))
    assert all(t["status"] == "COMPLETED" for t in trials)
    hashes = [t["architectureHash"] for t in trials]
    assert len(set(hashes)) == 10
    for digest, trial in zip(hashes, trials, strict=True):  # the documented recipe
        canonical = json.dumps(trial["architecture"], sort_keys=True, separators=(",", ":"))
        assert digest == hashlib.sha256(canonical.encode()).hexdigest()
        assert digest == architecture_hash(trial["architecture"])
    assert final["progress"] == {"running": 0, "completed": 10, "failed": 0, "remaining": 0}
    # A completed campaign hands out nothing more.
    assert await claim(gql, cid, "late") is None
    async with db.read() as session:
        stored = await session.scalar(select(func.count()).select_from(NasTrial))
    assert stored == 10


async def test_a_duplicate_is_redrawn_until_the_space_is_exhausted(gql):
    created = await campaign(gql, "tiny", searchSpace=TINY_SPACE, numTrials=10, maxParallel=10)
    cid = created["id"]
    assert created["searchSpace"]["size"] == "4"
    trials = [await claim(gql, cid, "w") for _ in range(4)]
    assert all(t is not None for t in trials)
    architectures = {canonical_json(t["architecture"]) for t in trials}
    assert architectures == {canonical_json({"a": a, "b": b}) for a in (1, 2) for b in ("x", "y")}
    # Every architecture is taken: null, and the campaign stays RUNNING while trials run.
    assert await claim(gql, cid, "w") is None
    assert (await read(gql, cid))["status"] == "RUNNING"
    for t in trials[:-1]:
        await finish(gql, t, "w", validationAccuracy=0.5)
    last = await finish(gql, trials[-1], "w", validationAccuracy=0.4)
    done = last["data"]["finishNasTrial"]["campaign"]
    assert done["status"] == "COMPLETED" and done["completedAt"] is not None
    assert await claim(gql, cid, "w") is None


async def test_sampling_is_reproducible_from_the_seed(gql):
    async def architectures(name: str, seed: str) -> list[Any]:
        created = await campaign(gql, name, seed=seed, numTrials=5, maxParallel=5)
        return [(await claim(gql, created["id"], "w"))["architecture"] for _ in range(5)]

    one = await architectures("seed-a", "42")
    assert await architectures("seed-b", "42") == one
    assert await architectures("seed-c", "43") != one
    for arch in one:
        assert arch["optimizer"] in ("adam", "sgd", "rmsprop")
        assert 2 <= len(arch["layers"]) <= 6
        assert all(set(layer) == {"op", "width", "activation"} for layer in arch["layers"])


async def test_regularized_evolution_mutates_a_tournament_winner(gql):
    created = await campaign(
        gql, "evolve", searchAlgorithm="REGULARIZED_EVOLUTION", numTrials=12, maxParallel=1
    )
    cid = created["id"]
    assert created["searchAlgorithm"] == "REGULARIZED_EVOLUTION"
    finished: list[dict[str, Any]] = []
    for n in range(12):
        trial = await claim(gql, cid, "w")
        assert trial is not None
        if len(finished) >= 5:  # a child differs from some finished parent in one step
            parents = [t["architecture"] for t in finished]
            assert any(one_step(p, trial["architecture"]) for p in parents), trial
        await finish(gql, trial, "w", validationAccuracy=0.5 + n / 100)
        finished.append(trial)
    assert (await read(gql, cid))["status"] == "COMPLETED"


def one_step(parent: dict[str, Any], child: dict[str, Any]) -> bool:
    """Whether ``child`` is ``parent`` with one decision changed or one layer added or removed."""
    top = [k for k in parent if k != "layers" and parent[k] != child.get(k)]
    a, b = parent["layers"], child["layers"]
    if len(a) == len(b):
        changed = sum(x[k] != y[k] for x, y in zip(a, b, strict=True) for k in x)
        return len(top) + changed == 1
    if top or abs(len(a) - len(b)) != 1:
        return False
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


async def test_best_trial_and_pareto_front_follow_finishes(gql):
    created = await campaign(gql, "front", numTrials=6, maxParallel=6)
    cid = created["id"]
    trials = [await claim(gql, cid, "w") for _ in range(6)]
    results = [  # (accuracy, flops)
        (0.90, "100"),  # A: on the front
        (0.80, "50"),  # B: on the front
        (0.85, "200"),  # C: dominated by A
        (0.95, "300"),  # D: on the front, the best
        (0.70, "60"),  # E: dominated by B
        (0.99, None),  # F: no FLOPs: best by accuracy, not on the front
    ]
    best = []
    for trial, (accuracy, flops) in zip(trials[:5], results, strict=False):
        body = await finish(gql, trial, "w", validationAccuracy=accuracy, flops=flops)
        c = body["data"]["finishNasTrial"]["campaign"]
        best.append((c["bestTrial"]["id"], c["bestAccuracy"]))
    ids = [t["id"] for t in trials]
    assert best == [(ids[0], 0.9), (ids[0], 0.9), (ids[0], 0.9), (ids[3], 0.95), (ids[3], 0.95)]
    state = await read(gql, cid)
    assert [(t["id"], t["flops"]) for t in state["paretoFront"]] == [
        (ids[1], "50"),
        (ids[0], "100"),
        (ids[3], "300"),
    ]
    assert state["progress"] == {"running": 1, "completed": 5, "failed": 0, "remaining": 0}
    # F: completed with an accuracy but no FLOPs: the best, yet not on the front.
    body = await finish(gql, trials[5], "w", validationAccuracy=0.99)
    c = body["data"]["finishNasTrial"]["campaign"]
    assert (c["bestTrial"]["id"], c["bestAccuracy"], c["status"]) == (ids[5], 0.99, "COMPLETED")
    state = await read(gql, cid)
    assert [t["id"] for t in state["paretoFront"]] == [ids[1], ids[0], ids[3]]


async def test_a_stale_trial_is_failed_its_slot_reoffered_and_its_holder_fenced(gql, db):
    created = await campaign(gql, "stale", numTrials=1, maxParallel=1)
    cid = created["id"]
    old = await claim(gql, cid, "old")
    assert old is not None
    assert await claim(gql, cid, "new") is None  # budget and parallelism taken
    assert await gql.data(HEARTBEAT, {"t": old["id"], "w": "old", "f": "1"})
    await make_stale(db)
    new = await claim(gql, cid, "new")
    assert new is not None and new["trialNumber"] == 2
    assert new["architectureHash"] != old["architectureHash"]
    state = await read(gql, cid)
    statuses = [(e["node"]["trialNumber"], e["node"]["status"]) for e in state["trials"]["edges"]]
    assert statuses == [(1, "FAILED"), (2, "RUNNING")]
    assert state["progress"] == {"running": 1, "completed": 0, "failed": 1, "remaining": 0}
    # The old holder is fenced out: heartbeat and finish refused, nothing written.
    for body in (
        await gql.post(HEARTBEAT, {"t": old["id"], "w": "old", "f": "1"}),
        await finish(gql, old, "old", validationAccuracy=1.0),
    ):
        assert body["errors"][0]["extensions"]["code"] == "CONFLICT"
        assert body["errors"][0]["extensions"]["reason"] == "FINISHED"
    # Another worker with the new trial's token, or the new worker with a wrong one.
    taken = await gql.post(HEARTBEAT, {"t": new["id"], "w": "old", "f": "1"})
    assert taken["errors"][0]["extensions"]["reason"] == "TAKEN_OVER"
    unknown = await gql.post(HEARTBEAT, {"t": new["id"], "w": "new", "f": "5"})
    assert unknown["errors"][0]["extensions"]["reason"] == "UNKNOWN_TOKEN"
    done = await finish(gql, new, "new", validationAccuracy=0.7, flops="9")
    c = done["data"]["finishNasTrial"]["campaign"]
    assert c["status"] == "COMPLETED" and c["bestTrial"]["id"] == new["id"]
    again = await finish(gql, new, "new", validationAccuracy=0.1)
    assert again["errors"][0]["extensions"]["reason"] == "FINISHED"
    assert (await read(gql, cid))["bestAccuracy"] == 0.7


async def test_a_failed_trial_gives_its_slot_back(gql):
    created = await campaign(gql, "failing", numTrials=2, maxParallel=2)
    cid = created["id"]
    a, b = await claim(gql, cid, "w"), await claim(gql, cid, "w")
    assert await claim(gql, cid, "w") is None
    failed = await finish(gql, a, "w", status="FAILED")
    assert failed["data"]["finishNasTrial"]["trial"]["status"] == "FAILED"
    c = await claim(gql, cid, "w")
    assert c is not None and c["trialNumber"] == 3
    await finish(gql, b, "w", validationAccuracy=0.5)
    done = await finish(gql, c, "w", validationAccuracy=0.6)
    assert done["data"]["finishNasTrial"]["campaign"]["status"] == "COMPLETED"
    assert (
        await gql.error_code(
            FINISH,
            {
                "input": {
                    "trialId": c["id"],
                    "workerId": "w",
                    "fencingToken": "1",
                    "status": "RUNNING",
                }
            },
        )
        == "BAD_REQUEST"
    )


async def test_deleting_the_dataset_deletes_its_campaigns_and_trials(gql, db):
    created = await campaign(gql, "cascade", numTrials=2, maxParallel=2)
    trial = await claim(gql, created["id"], "w")
    await finish(gql, trial, "w", validationAccuracy=0.8)
    await claim(gql, created["id"], "w")
    kept = await campaign(gql, "kept", numTrials=2)
    await claim(gql, kept["id"], "w")
    async with db.transaction() as session:
        best = await session.scalar(
            select(NasCampaign.best_trial_id).where(
                NasCampaign.id == model_pk(created["id"], NasCampaign)
            )
        )
        assert best == model_pk(trial["id"], NasTrial)
        dataset_pk = model_pk(created["dataset"]["id"], Dataset)
        await session.execute(delete(Dataset).where(Dataset.id == dataset_pk))
    async with db.read() as session:
        assert await session.scalar(select(func.count()).select_from(NasCampaign)) == 1
        assert await session.scalar(select(func.count()).select_from(NasTrial)) == 1
    assert (await gql.data(CAMPAIGN, {"id": created["id"]}))["node"] is None


async def test_a_page_of_campaigns_takes_the_same_statements_for_2_or_5(gql, statements):
    for n in range(5):
        created = await campaign(gql, f"page-{n}", numTrials=3, maxParallel=3)
        for k in range(3):
            trial = await claim(gql, created["id"], "w")
            if k < 2:
                await finish(gql, trial, "w", validationAccuracy=0.5 + k / 10, flops=str(10 + k))
    counts = []
    for size in (2, 5):
        statements.reset()
        page = await gql.data(PAGE, {"n": size})
        nodes = [e["node"] for e in page["nasCampaigns"]["edges"]]
        assert len(nodes) == size
        for node in nodes:
            assert node["progress"] == {"running": 1, "completed": 2, "failed": 0, "remaining": 0}
            assert node["bestTrial"]["trialNumber"] == 2
            assert node["bestTrial"]["campaign"]["name"] == node["name"]
            assert [t["trialNumber"] for t in node["paretoFront"]] == [1, 2]
            assert len(node["trials"]["edges"]) == 3
        counts.append(statements.count)
    assert counts[0] == counts[1], statements.sql


TRIAL_PAGE = """query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) { ... on NasCampaign {
    trials(first: $first, after: $after, last: $last, before: $before) {
      edges { node { trialNumber } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }"""


async def test_trials_page_both_ways_by_trial_number(gql):
    created = await campaign(gql, "pages", numTrials=5, maxParallel=5)
    for _ in range(5):
        await claim(gql, created["id"], "w")

    async def page(**args: Any) -> dict[str, Any]:
        data = await gql.data(TRIAL_PAGE, {"id": created["id"], **args})
        return data["node"]["trials"]  # type: ignore[no-any-return]

    def numbers(p: dict[str, Any]) -> list[int]:
        return [e["node"]["trialNumber"] for e in p["edges"]]

    first = await page(first=2)
    assert numbers(first) == [1, 2] and first["pageInfo"]["hasNextPage"]
    second = await page(first=2, after=first["pageInfo"]["endCursor"])
    assert numbers(second) == [3, 4]
    last = await page(last=2)
    assert numbers(last) == [4, 5] and last["pageInfo"]["hasPreviousPage"]
    before = await page(last=2, before=last["pageInfo"]["startCursor"])
    assert numbers(before) == [2, 3]


CANCEL = """mutation($c: ID!) { cancelNasCampaign(input: {campaignId: $c}) {
  campaign { status } } }"""


async def test_a_cancelled_campaign_hands_out_nothing_but_running_trials_finish(gql):
    created = await campaign(gql, "cancel", numTrials=3, maxParallel=3)
    cid = created["id"]
    running = await claim(gql, cid, "w")
    assert (await gql.data(CANCEL, {"c": cid}))["cancelNasCampaign"]["campaign"] == {
        "status": "CANCELLED"
    }
    assert await claim(gql, cid, "w") is None
    body = await finish(gql, running, "w", validationAccuracy=0.8)
    c = body["data"]["finishNasTrial"]["campaign"]
    assert (c["status"], c["bestAccuracy"]) == ("CANCELLED", 0.8)
    assert (await gql.data(CANCEL, {"c": cid}))["cancelNasCampaign"]["campaign"] == {
        "status": "CANCELLED"
    }
    done = await campaign(gql, "done", searchSpace=TINY_SPACE, numTrials=1, maxParallel=1)
    await finish(gql, await claim(gql, done["id"], "w"), "w", validationAccuracy=0.1)
    refused = await gql.post(CANCEL, {"c": done["id"]})
    assert refused["errors"][0]["extensions"]["code"] == "CONFLICT"


UPDATES = """subscription($id: ID!) { nasCampaignUpdates(campaignId: $id) {
  campaignId status bestAccuracy bestTrialId progress { running completed failed remaining } } }"""


@pytest.fixture
async def server_gql(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # A minute between re-reads: an update arriving within seconds came by notification.
    monkeypatch.setenv("EXPGRAPH_ABTEST_UPDATES_POLL_SECONDS", "60")
    process, url = _serve(database_url, tmp_path / "server.log")
    try:
        async with httpx.AsyncClient(base_url=url.removesuffix("/graphql"), timeout=60) as http:
            yield url, GraphQLClient(http)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def test_updates_are_pushed_after_each_claim_finish_and_cancel(server_gql):
    url, gql = server_gql
    created = await campaign(gql, "watched", numTrials=3, maxParallel=2)
    messages: list[dict[str, Any]] = []

    async def watch() -> None:
        ws_url = url.replace("http://", "ws://")
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            payload = {"query": UPDATES, "variables": {"id": created["id"]}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            async for raw in ws:
                messages.append(json.loads(raw))

    async def next_update(count: int, within: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while len(messages) < count:
            assert time.monotonic() < deadline, f"no update {count}: {messages}"
            assert not task.done(), messages
            await asyncio.sleep(0.05)
        message = messages[count - 1]
        assert message["type"] == "next" and not message["payload"].get("errors"), message
        return message["payload"]["data"]["nasCampaignUpdates"]  # type: ignore[no-any-return]

    task = asyncio.create_task(watch())
    try:
        first = await next_update(1, within=20)
        assert first["campaignId"] == created["id"] and first["status"] == "PENDING"
        assert first["progress"]["remaining"] == 3
        trial = await claim(gql, created["id"], "w")
        claimed = await next_update(2)
        assert claimed["status"] == "RUNNING" and claimed["progress"]["running"] == 1
        await finish(gql, trial, "w", validationAccuracy=0.75)
        finished = await next_update(3)
        assert finished["bestTrialId"] == trial["id"] and finished["bestAccuracy"] == 0.75
        assert finished["progress"] == {"running": 0, "completed": 1, "failed": 0, "remaining": 2}
        await gql.data(CANCEL, {"c": created["id"]})
        assert (await next_update(4))["status"] == "CANCELLED"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
