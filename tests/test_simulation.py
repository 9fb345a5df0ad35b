"""Simulation: iterations, events, runs; integer cents and stored seeds (both dialects)."""

from __future__ import annotations

import pytest

from tests.helpers import CREATE_EXPERIMENT, count_experiments, create_experiment

ITERATION = """mutation($input: RecordIterationInput!) { recordIteration(input: $input) {
  experimentIteration { id iteration costsPerAgent { agentId costCents }
    evaluationSimulationRun { id seed } } } }"""
RUN = """mutation($input: CreateSimulationRunInput!) { createSimulationRun(input: $input) {
  simulationRun { id seed runPurpose iteration sampleIndex status } } }"""
COMPLETE = """mutation($input: CompleteSimulationRunInput!) { completeSimulationRun(input: $input) {
  simulationRun { status totalCost completedAt } } }"""
EVENTS = """mutation($e: ID!, $ev: [ExperimentEventInput!]!) {
  recordExperimentEvents(input: {experimentId: $e, events: $ev}) { events { id eventType } } }"""


async def test_seed_is_required_stored_and_64_bit(gql):
    no_seed = {"kind": "SIMULATION", "name": "no seed"}
    assert await gql.error_code(CREATE_EXPERIMENT, {"input": no_seed}) == "BAD_REQUEST"
    assert await count_experiments(gql) == 0
    for seed in (str(2**63 - 1), "9007199254740993"):
        experiment = await create_experiment(
            gql, f"seed {seed}", "SIMULATION", simulation={"masterSeed": seed, "finalCost": seed}
        )
        node = (
            await gql.data(
                "query($id: ID!) { node(id: $id) { ... on SimulationExperiment { masterSeed finalCost } } }",
                {"id": experiment["id"]},
            )
        )["node"]
        assert node == {"masterSeed": seed, "finalCost": seed}
    too_big = {"kind": "SIMULATION", "name": "x", "simulation": {"masterSeed": str(2**63)}}
    assert await gql.error_code(CREATE_EXPERIMENT, {"input": too_big}) == "BAD_REQUEST"


@pytest.mark.parametrize("bad", [12.5, "1.5", True, "twelve"])
async def test_fractional_or_non_integer_costs_are_refused(gql, bad):
    experiment = await create_experiment(gql, "costs", "SIMULATION")
    payload = {
        "kind": "SIMULATION",
        "name": "fractional",
        "simulation": {"masterSeed": "1", "finalCost": bad},
    }
    assert await gql.error_code(CREATE_EXPERIMENT, {"input": payload}) == "BAD_REQUEST"
    iteration = {
        "experimentId": experiment["id"],
        "iteration": 0,
        "costsPerAgent": {"a": 100, "b": bad},
    }
    assert await gql.error_code(ITERATION, {"input": iteration}) == "BAD_REQUEST"
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on SimulationExperiment {"
        " iterations { totalCount } } } }",
        {"id": experiment["id"]},
    )
    assert data["node"]["iterations"]["totalCount"] == 0
    run = (await gql.data(RUN, {"input": {"experimentId": experiment["id"]}}))[
        "createSimulationRun"
    ]["simulationRun"]
    assert await gql.error_code(COMPLETE, {"input": {"id": run["id"], "totalCost": bad}}) == (
        "BAD_REQUEST"
    )


async def test_iterations_runs_and_events(gql):
    experiment = await create_experiment(gql, "sim", "SIMULATION")
    other = await create_experiment(gql, "other", "SIMULATION")
    runs = []
    for i, purpose in enumerate(["INITIAL", "BOOTSTRAP", "BOOTSTRAP", "EVALUATION", "FINAL"]):
        runs.append(
            (
                await gql.data(
                    RUN,
                    {
                        "input": {
                            "experimentId": experiment["id"],
                            "iteration": i // 2,
                            "sampleIndex": i,
                            "runPurpose": purpose,
                            "seed": str(1000 + i),
                        }
                    },
                )
            )["createSimulationRun"]["simulationRun"]
        )
    assert runs[0]["seed"] == "1000" and runs[0]["status"] == "RUNNING"
    done = await gql.data(COMPLETE, {"input": {"id": runs[3]["id"], "totalCost": "123456789012"}})
    assert done["completeSimulationRun"]["simulationRun"]["totalCost"] == "123456789012"
    assert await gql.error_code(COMPLETE, {"input": {"id": runs[3]["id"]}}) == "CONFLICT"
    recorded = (
        await gql.data(
            ITERATION,
            {
                "input": {
                    "experimentId": experiment["id"],
                    "iteration": 0,
                    "costsPerAgent": {"bank_b": 250, "bank_a": 10**15},
                    "acceptedChanges": [{"agent": "bank_a"}],
                    "policies": {"bank_a": {"rule": "x"}},
                    "evaluationSimulationRunId": runs[3]["id"],
                }
            },
        )
    )["recordIteration"]["experimentIteration"]
    assert recorded["costsPerAgent"] == [
        {"agentId": "bank_a", "costCents": str(10**15)},
        {"agentId": "bank_b", "costCents": "250"},
    ]
    assert recorded["evaluationSimulationRun"]["id"] == runs[3]["id"]
    again = {"experimentId": experiment["id"], "iteration": 0, "costsPerAgent": {}}
    assert await gql.error_code(ITERATION, {"input": again}) == "CONFLICT"
    foreign = {
        "experimentId": other["id"],
        "iteration": 0,
        "costsPerAgent": {},
        "evaluationSimulationRunId": runs[0]["id"],
    }
    assert await gql.error_code(ITERATION, {"input": foreign}) == "BAD_REQUEST"
    training = await create_experiment(gql, "not a sim", "TRAINING")
    assert await gql.error_code(
        ITERATION, {"input": {**again, "experimentId": training["id"]}}
    ) == ("NOT_FOUND")
    await gql.data(
        EVENTS,
        {
            "e": experiment["id"],
            "ev": [
                {"iteration": 0, "eventType": "policy_proposed", "eventData": {"n": 1}},
                {"iteration": 0, "eventType": "policy_accepted"},
                {"iteration": 1, "eventType": "policy_proposed"},
            ],
        },
    )
    bad_batch = [{"iteration": 2, "eventType": "ok"}, {"iteration": 2, "eventType": " "}]
    assert await gql.error_code(EVENTS, {"e": experiment["id"], "ev": bad_batch}) == "BAD_REQUEST"
    data = await gql.data(
        """query($id: ID!) { node(id: $id) { ... on SimulationExperiment {
      events { totalCount }
      proposed: events(filter: {eventTypes: ["policy_proposed"]}) { totalCount }
      first: events(filter: {iteration: 0}) { edges { node { eventType } } }
      simulationRuns { totalCount }
      boot: simulationRuns(filter: {runPurposes: [BOOTSTRAP]}) { edges { node { sampleIndex } } }
      one: simulationRuns(filter: {iteration: 1, sampleIndex: 3}) { totalCount }
      page: simulationRuns(first: 2) { pageInfo { hasNextPage } edges { node { id } } }
      iterations { edges { node { iteration } } } } } }""",
        {"id": experiment["id"]},
    )
    node = data["node"]
    assert node["events"]["totalCount"] == 3 and node["proposed"]["totalCount"] == 2
    assert [e["node"]["eventType"] for e in node["first"]["edges"]] == [
        "policy_proposed",
        "policy_accepted",
    ]
    assert node["simulationRuns"]["totalCount"] == 5
    assert [e["node"]["sampleIndex"] for e in node["boot"]["edges"]] == [1, 2]
    assert node["one"]["totalCount"] == 1
    assert node["page"]["pageInfo"]["hasNextPage"] is True
    assert node["iterations"]["edges"] == [{"node": {"iteration": 0}}]


@pytest.mark.executor
async def test_simulation_connections_do_not_grow_statements(gql, statements):
    for i in range(12):
        experiment = await create_experiment(gql, f"s{i}", "SIMULATION")
        run = (await gql.data(RUN, {"input": {"experimentId": experiment["id"], "iteration": 0}}))[
            "createSimulationRun"
        ]["simulationRun"]
        await gql.data(
            ITERATION,
            {
                "input": {
                    "experimentId": experiment["id"],
                    "iteration": 0,
                    "costsPerAgent": {"a": 1},
                    "evaluationSimulationRunId": run["id"],
                }
            },
        )
    query = """query($n: Int!) { experiments(first: $n, filter: {kinds: [SIMULATION]}) { edges {
      node { ... on SimulationExperiment { iterations { edges { node {
        evaluationSimulationRun { id } } } } simulationRuns { totalCount } } } } } }"""
    counts = {}
    for n in (2, 12):
        statements.reset()
        await gql.data(query, {"n": n})
        counts[n] = statements.count
    # experiments, iterations, their runs by id, simulationRuns' count (no page:
    # only totalCount is asked for).
    assert counts[2] == counts[12] == 4, counts


async def test_negative_costs_are_refused_and_nothing_is_written(gql):
    experiment = await create_experiment(gql, "costs", "SIMULATION")
    iteration = {"experimentId": experiment["id"], "iteration": 0, "costsPerAgent": {"a": -1}}
    body = await gql.post(ITERATION, {"input": iteration})
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "field": "costsPerAgent.a"}
    run = (await gql.data(RUN, {"input": {"experimentId": experiment["id"]}}))[
        "createSimulationRun"
    ]["simulationRun"]
    body = await gql.post(COMPLETE, {"input": {"id": run["id"], "totalCost": "-100"}})
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "field": "totalCost"}
    data = await gql.data(
        "query($id: ID!, $run: ID!) { node(id: $id) { ... on SimulationExperiment {"
        " iterations { totalCount } } } run: node(id: $run) { ... on SimulationRun {"
        " status totalCost } } }",
        {"id": experiment["id"], "run": run["id"]},
    )
    assert data["node"]["iterations"]["totalCount"] == 0
    assert data["run"] == {"status": "RUNNING", "totalCost": None}
    # Zero is a cost.
    iteration["costsPerAgent"] = {"a": 0}
    await gql.data(ITERATION, {"input": iteration})
    await gql.data(COMPLETE, {"input": {"id": run["id"], "totalCost": "0"}})
