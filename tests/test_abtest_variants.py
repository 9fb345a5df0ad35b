"""A/B test variants (issue 15): the tables and views of seed 001, variant configs
in every format, allocation and control rules, the A/B status rules, and the
variants of a page of experiments in one statement (both dialects, over HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text

from expgraph.domains.abtest import models
from expgraph.graphql.relay import encode_id
from tests.conftest import GraphQLClient
from tests.helpers import create_experiment

VARIANT = """id name description allocation position isControl config executionStrategy
  modelProvider modelName params flow { flowId initialState }
  policyVersion { id version mlflowModelName } promptVersion { id version }"""
CREATE = f"""mutation($input: CreateVariantInput!) {{
  createVariant(input: $input) {{ variant {{ {VARIANT} }} }} }}"""
UPDATE = """mutation($input: UpdateVariantInput!) {
  updateVariant(input: $input) { variant { id allocation isControl name } } }"""
DELETE = """mutation($id: ID!) { deleteVariant(input: {id: $id}) { deletedId } }"""
STATUS = """mutation($id: ID!, $status: ExperimentStatus!) {
  updateExperiment(input: {id: $id, status: $status}) { experiment { status } } }"""
VARIANTS = f"""query($id: ID!) {{ node(id: $id) {{ ... on AbTestExperiment {{
  hashSeed variants {{ {VARIANT} }} }} }} }}"""


async def ab_test(gql: GraphQLClient, name: str) -> str:
    return str((await create_experiment(gql, name, "AB_TEST"))["id"])


async def variant(gql: GraphQLClient, experiment_id: str, name: str, **fields: Any) -> Any:
    payload = {"experimentId": experiment_id, "name": name, "allocation": "0.5", **fields}
    return (await gql.data(CREATE, {"input": payload}))["createVariant"]["variant"]


async def variants(gql: GraphQLClient, experiment_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await gql.data(VARIANTS, {"id": experiment_id}))["node"][
        "variants"
    ]
    return found


async def error(gql: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await gql.post(query, variables)
    assert body.get("errors"), body
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    return extensions


async def policy_version(db: Any) -> str:
    async with db.transaction() as session:
        policy = models.Policy(name="planner")
        session.add(policy)
        await session.flush()
        version = models.PolicyVersion(
            policy_id=policy.id,
            version=1,
            mlflow_model_name="planner_model",
            mlflow_model_version="4",
        )
        session.add(version)
        await session.flush()
        return encode_id("PolicyVersion", version.id)


async def prompt_version(gql: GraphQLClient) -> str:
    prompt = await gql.data(
        """mutation { createPrompt(input: {name: "p", template: "Q: {q}", modelProvider: "echo",
          modelName: "echo-1"}) { prompt { versions { id } } } }"""
    )
    return str(prompt["createPrompt"]["prompt"]["versions"][0]["id"])


async def test_variants_in_position_order_first_is_control_hash_seed_is_name(gql):
    experiment_id = await ab_test(gql, "checkout")
    a = await variant(gql, experiment_id, "control", allocation="0.3333", description="as is")
    b = await variant(gql, experiment_id, "treatment", allocation="0.25")
    assert (a["position"], a["isControl"], a["allocation"]) == (0, True, "0.3333")
    assert (b["position"], b["isControl"], b["allocation"]) == (1, False, "0.2500")
    assert a["config"] == {} and a["executionStrategy"] is None and a["params"] == {}
    data = (await gql.data(VARIANTS, {"id": experiment_id}))["node"]
    assert data["hashSeed"] == "checkout"
    assert [v["name"] for v in data["variants"]] == ["control", "treatment"]


async def test_every_config_format_round_trips_typed(gql, db):
    experiment_id = await ab_test(gql, "formats")
    pv = await policy_version(db)
    prompt = await prompt_version(gql)
    legacy = {"policy_version_id": pv, "params": {"exploration_rate": 0.15}}
    ml = {
        "executionStrategy": "mlflow_model",
        "mlflowModel": {"policyVersionId": pv, "modelName": "planner_model"},
        "params": {"temperature": 0.7},
    }
    prompted = {
        "execution_strategy": "prompt_template",
        "prompt_config": {
            "prompt_version_id": prompt,
            "model_provider": "anthropic",
            "model_name": "claude-sonnet-4.5",
        },
        "flow_config": {"flow_id": "onboarding_v1", "initial_state": "welcome"},
        "params": {"max_tokens": 2048},
    }
    hybrid = {
        "execution_strategy": "hybrid",
        "mlflow_model": {"policy_version_id": pv},
        "prompt_config": prompted["prompt_config"],
        "params": {"temperature": 0.7},
    }
    for i, config in enumerate((legacy, ml, prompted, hybrid)):
        await variant(gql, experiment_id, f"v{i}", allocation="0.2", config=config)
    v0, v1, v2, v3 = await variants(gql, experiment_id)
    assert v0["config"] == legacy  # stored as given: old rows keep working
    assert v0["executionStrategy"] == "MLFLOW_MODEL" and v0["policyVersion"]["id"] == pv
    assert v0["params"] == {"exploration_rate": 0.15} and v0["promptVersion"] is None
    # camelCase keys are stored in the seed's snake_case
    assert v1["config"] == {
        "execution_strategy": "mlflow_model",
        "mlflow_model": {"policy_version_id": pv, "model_name": "planner_model"},
        "params": {"temperature": 0.7},
    }
    assert v1["policyVersion"]["mlflowModelName"] == "planner_model"
    assert v1["modelName"] == "planner_model" and v1["modelProvider"] is None
    assert v2["config"] == prompted and v2["executionStrategy"] == "PROMPT_TEMPLATE"
    assert v2["promptVersion"]["id"] == prompt and v2["policyVersion"] is None
    assert (v2["modelProvider"], v2["modelName"]) == ("anthropic", "claude-sonnet-4.5")
    assert v2["flow"] == {"flowId": "onboarding_v1", "initialState": "welcome"}
    assert v3["executionStrategy"] == "HYBRID" and v3["flow"] is None
    assert v3["policyVersion"]["id"] == pv and v3["promptVersion"]["id"] == prompt


async def _count(db: Any) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(models.Variant)) or 0)


async def test_bad_configs_are_refused_naming_the_field_and_write_nothing(gql, db):
    experiment_id = await ab_test(gql, "bad")
    pv = await policy_version(db)
    prompt = await prompt_version(gql)
    missing_pv = encode_id("PolicyVersion", 999_999)
    cases = [
        ({"execution_strategy": "bandit"}, "config.executionStrategy"),
        ({"execution_strategy": "prompt_template"}, "config.promptConfig"),
        (
            {
                "execution_strategy": "prompt_template",
                "prompt_config": {"prompt_version_id": prompt, "model_provider": "x"},
            },
            "config.promptConfig.modelName",
        ),
        (
            {"execution_strategy": "hybrid", "mlflow_model": {"policy_version_id": pv}},
            "config.promptConfig",
        ),
        ({"policy_version_id": missing_pv}, "config.policyVersionId"),
        ({"mlflowModel": {"policyVersionId": missing_pv}}, "config.mlflowModel.policyVersionId"),
        (
            {
                "execution_strategy": "prompt_template",
                "prompt_config": {
                    "prompt_version_id": pv,
                    "model_provider": "x",
                    "model_name": "y",
                },
            },
            "config.promptConfig.promptVersionId",
        ),
        ({"surprise": 1}, "config.surprise"),
        ([1, 2], "config"),
    ]
    for config, field in cases:
        found = await error(
            gql,
            CREATE,
            {
                "input": {
                    "experimentId": experiment_id,
                    "name": "x",
                    "allocation": "0.1",
                    "config": config,
                }
            },
        )
        assert (found["code"], found.get("field")) == ("BAD_REQUEST", field), config
    assert await _count(db) == 0


async def test_allocation_and_control_rules(gql, db):
    experiment_id = await ab_test(gql, "alloc")
    a = await variant(gql, experiment_id, "a", allocation="0.6")
    over = {"experimentId": experiment_id, "name": "b", "allocation": "0.4001"}
    assert (await error(gql, CREATE, {"input": over}))["code"] == "BAD_REQUEST"
    for bad in ("1.5", "-0.1", "0.12345"):
        found = await error(gql, CREATE, {"input": {**over, "allocation": bad}})
        assert (found["code"], found["field"]) == ("BAD_REQUEST", "allocation")
    second_control = {**over, "allocation": "0.4", "isControl": True}
    found = await error(gql, CREATE, {"input": second_control})
    assert (found["code"], found["field"]) == ("CONFLICT", "isControl")
    taken = {**over, "allocation": "0.1", "name": "a"}
    assert (await error(gql, CREATE, {"input": taken}))["code"] == "CONFLICT"
    assert await _count(db) == 1
    b = await variant(gql, experiment_id, "b", allocation="0.4")
    too_much = {"id": a["id"], "allocation": "0.7"}
    assert (await error(gql, UPDATE, {"input": too_much}))["code"] == "BAD_REQUEST"
    # the control moves with updateVariant, before the first run
    moved = await gql.data(UPDATE, {"input": {"id": b["id"], "isControl": True}})
    assert moved["updateVariant"]["variant"]["isControl"]
    assert [v["isControl"] for v in await variants(gql, experiment_id)] == [False, True]
    unmark = {"id": b["id"], "isControl": False}
    assert (await error(gql, UPDATE, {"input": unmark}))["field"] == "isControl"


async def test_status_rules_of_an_ab_test(gql, db):
    experiment_id = await ab_test(gql, "life")
    run = {"id": experiment_id, "status": "RUNNING"}
    found = await error(gql, STATUS, run)
    assert (found["code"], found["field"]) == ("CONFLICT", "status")  # no variants
    a = await variant(gql, experiment_id, "a", allocation="0")
    await variant(gql, experiment_id, "b", allocation="0")
    assert (await error(gql, STATUS, run))["code"] == "CONFLICT"  # total allocation 0
    await gql.data(UPDATE, {"input": {"id": a["id"], "allocation": "0.5"}})
    assert (await gql.data(STATUS, run))["updateExperiment"]["experiment"]["status"] == "RUNNING"
    assert (await error(gql, STATUS, {"id": experiment_id, "status": "DRAFT"}))[
        "code"
    ] == "CONFLICT"
    # once run: no delete, no shrinking without force, no moving the control; growing is fine
    assert (await error(gql, DELETE, {"id": a["id"]}))["code"] == "CONFLICT"
    shrink = {"id": a["id"], "allocation": "0.4"}
    found = await error(gql, UPDATE, {"input": shrink})
    assert (found["code"], found["field"]) == ("CONFLICT", "allocation")
    await gql.data(UPDATE, {"input": {"id": a["id"], "allocation": "0.6"}})
    forced = await gql.data(UPDATE, {"input": {**shrink, "force": True}})
    assert forced["updateVariant"]["variant"]["allocation"] == "0.4000"
    assert len(await variants(gql, experiment_id)) == 2
    for status in ("PAUSED", "RUNNING", "PAUSED", "COMPLETED"):
        moved = await gql.data(STATUS, {"id": experiment_id, "status": status})
        assert moved["updateExperiment"]["experiment"]["status"] == status
    assert (await error(gql, STATUS, run))["code"] == "CONFLICT"
    # an A/B test is created as a draft
    created = await gql.post(
        """mutation { createExperiment(input: {kind: AB_TEST, name: "hot", status: RUNNING,
           abTest: {unitType: USER}}) { experiment { id } } }"""
    )
    assert created["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_variants_can_be_deleted_before_the_first_run(gql, db):
    experiment_id = await ab_test(gql, "drafty")
    a = await variant(gql, experiment_id, "a")
    b = await variant(gql, experiment_id, "b")
    assert (await gql.data(DELETE, {"id": a["id"]}))["deleteVariant"]["deletedId"] == a["id"]
    remaining = await variants(gql, experiment_id)
    assert [(v["id"], v["isControl"]) for v in remaining] == [(b["id"], True)]


async def test_views_agree_with_their_sql(gql, db):
    running = await ab_test(gql, "running")
    draft = await ab_test(gql, "draft")
    a = await variant(gql, running, "a", allocation="0.1234")
    b = await variant(gql, running, "b", allocation="0.4321")
    await variant(gql, draft, "c")
    await gql.data(STATUS, {"id": running, "status": "RUNNING"})
    from expgraph.graphql.relay import decode_id

    experiment_pk = decode_id(running)[1]
    async with db.transaction() as session:
        for v, mean in ((a, "1.5"), (b, "2.25")):
            session.add(
                models.MetricAggregate(
                    experiment_id=experiment_pk,
                    variant_id=decode_id(v["id"])[1],
                    metric_name="revenue",
                    bucket_type=models.BucketType.DAILY,
                    bucket_start=datetime(2026, 1, 1, tzinfo=UTC),
                    count=3,
                    mean=Decimal(mean),
                )
            )
    async with db.read() as session:
        active = (await session.scalars(select(models.ActiveAbTestRow))).all()
        assert [(r.id, r.name, r.variant_count, r.total_allocation) for r in active] == [
            (experiment_pk, "running", 2, Decimal("0.5555"))
        ]
        rows = (
            await session.scalars(
                select(models.ExperimentMetricRow).order_by(models.ExperimentMetricRow.variant_name)
            )
        ).all()
        direct = (
            await session.execute(
                text(
                    "SELECT e.name, v.name, m.metric_name, m.mean, m.count FROM metric_aggregates m"
                    " JOIN variants v ON v.id = m.variant_id"
                    " JOIN experiments e ON e.id = m.experiment_id ORDER BY v.name"
                )
            )
        ).all()
    assert [
        (r.experiment_name, r.variant_name, r.metric_name, Decimal(r.mean), r.count) for r in rows
    ] == [(e, v, m, Decimal(mean), c) for e, v, m, mean, c in direct]
    assert [r.variant_name for r in rows] == ["a", "b"] and rows[1].mean == Decimal("2.25")


LIST = """query { experiments(first: 50) { edges { node { ... on AbTestExperiment {
  name variants { name policyVersion { id } promptVersion { id } } } } } } }"""


async def test_variants_of_a_page_of_experiments_load_in_one_statement(gql, db, statements):
    pv = await policy_version(db)
    counts = []
    made = 0
    for n in (2, 6):
        for i in range(made, n):
            experiment_id = await ab_test(gql, f"page-{i}")
            for name in ("a", "b", "c"):
                config = {"policy_version_id": pv}
                await variant(gql, experiment_id, name, allocation="0.1", config=config)
        made = n
        statements.reset()
        data = await gql.data(LIST)
        counts.append(statements.count)
        nodes = [e["node"] for e in data["experiments"]["edges"]]
        assert len(nodes) == n and all(len(x["variants"]) == 3 for x in nodes)
        assert all(v["policyVersion"]["id"] == pv for x in nodes for v in x["variants"])
    assert counts[0] == counts[1], counts


async def test_the_views_are_served(gql, db):
    running = await ab_test(gql, "served")
    a = await variant(gql, running, "a", allocation="0.3")
    b = await variant(gql, running, "b", allocation="0.2")
    await ab_test(gql, "not-running")
    await gql.data(STATUS, {"id": running, "status": "RUNNING"})
    from expgraph.graphql.relay import decode_id

    async with db.transaction() as session:
        for v, metric, bucket in (
            (a, "revenue", "DAILY"),
            (b, "revenue", "DAILY"),
            (a, "clicks", "HOURLY"),
        ):
            session.add(
                models.MetricAggregate(
                    experiment_id=decode_id(running)[1],
                    variant_id=decode_id(v["id"])[1],
                    metric_name=metric,
                    bucket_type=models.BucketType[bucket],
                    bucket_start=datetime(2026, 1, 2, tzinfo=UTC),
                    count=4,
                    mean=Decimal("1.125"),
                )
            )
    active = await gql.data(
        """query { activeAbTests(first: 10) { totalCount edges { node {
          name variantCount totalAllocation experiment { id } } } } }"""
    )
    assert active["activeAbTests"]["totalCount"] == 1
    assert active["activeAbTests"]["edges"][0]["node"] == {
        "name": "served",
        "variantCount": 2,
        "totalAllocation": "0.5000",
        "experiment": {"id": running},
    }
    metrics = await gql.data(
        """query($f: ExperimentMetricFilter) { experimentMetrics(first: 10, filter: $f) {
          edges { node { experimentName variantName metricName bucketType mean count
            variant { id } } } } }""",
        {"f": {"experimentId": running, "metricName": "revenue"}},
    )
    nodes = [e["node"] for e in metrics["experimentMetrics"]["edges"]]
    assert sorted(n["variantName"] for n in nodes) == ["a", "b"]
    assert all(
        (n["experimentName"], n["bucketType"], n["mean"], n["count"])
        == ("served", "DAILY", "1.125000", 4)
        for n in nodes
    )
    assert {n["variant"]["id"] for n in nodes} == {a["id"], b["id"]}


async def test_an_ab_test_needs_a_unit_type_from_its_creation(gql):
    create = """mutation($input: CreateExperimentInput!) {
      createExperiment(input: $input) { experiment { id } } }"""
    for block in ({}, {"abTest": {"hashSeed": "s"}}):
        found = await error(gql, create, {"input": {"kind": "AB_TEST", "name": "u", **block}})
        assert found["code"] == "BAD_REQUEST", found  # abTest.unitType is required
    experiment_id = await ab_test(gql, "with-unit")
    remove = """mutation($id: ID!) { updateExperiment(input: {id: $id, abTest: {unitType: null}})
      { experiment { id } } }"""
    found = await error(gql, remove, {"id": experiment_id})
    assert (found["code"], found["field"]) == ("BAD_REQUEST", "unitType")


async def test_the_hash_seed_is_settable_until_the_experiment_runs(gql):
    created = await gql.data(
        """mutation { createExperiment(input: {kind: AB_TEST, name: "seeded",
           abTest: {unitType: USER, hashSeed: "checkout-2026"}}) {
           experiment { id ... on AbTestExperiment { hashSeed } } } }"""
    )
    experiment = created["createExperiment"]["experiment"]
    assert experiment["hashSeed"] == "checkout-2026"
    reseed = """mutation($id: ID!, $seed: String!) { updateExperiment(input: {id: $id,
      abTest: {hashSeed: $seed}}) { experiment { ... on AbTestExperiment { hashSeed } } } }"""
    changed = await gql.data(reseed, {"id": experiment["id"], "seed": "checkout-2027"})
    assert changed["updateExperiment"]["experiment"]["hashSeed"] == "checkout-2027"
    await variant(gql, experiment["id"], "a")
    await variant(gql, experiment["id"], "b")
    await gql.data(STATUS, {"id": experiment["id"], "status": "RUNNING"})
    for bad in ("", " ", "x" * 256):
        found = await error(gql, reseed, {"id": experiment["id"], "seed": bad})
        assert (found["code"], found["field"]) == ("BAD_REQUEST", "hashSeed")
    found = await error(gql, reseed, {"id": experiment["id"], "seed": "checkout-2028"})
    assert (found["code"], found["field"]) == ("CONFLICT", "hashSeed")
    assert (await gql.data(VARIANTS, {"id": experiment["id"]}))["node"]["hashSeed"] == (
        "checkout-2027"
    )
