"""The read-query compiler (graphql/compiled/): documents answered with
compilation on and off, over HTTP, on both databases, must answer the same
data (parsed, and in the same key order) and the same errors; a compiled root
field costs one statement; what it does not cover takes the executor."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts.models import UserRole
from expgraph.graphql.relay import encode_id
from tests.auth_helpers import CREATE_KEY, Caller, create_users
from tests.conftest import StatementCounter
from tests.helpers import create_dataset, create_experiment, create_tag, tag_experiment


@dataclass
class Pair:
    """The same database behind two apps: compilation on, and off."""

    compiled: httpx.AsyncClient
    executor: httpx.AsyncClient
    statements: StatementCounter

    async def _post(self, client: httpx.AsyncClient, query: str, variables: Any) -> bytes:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code in (200, 400), response.text
        return response.content

    async def same(
        self, query: str, variables: dict[str, Any] | None = None, *, statements: int | None = None
    ) -> Any:
        """Both answers, compared; returns the parsed answer. ``statements``: how
        many the compiled side must send."""
        self.statements.reset()
        compiled = await self._post(self.compiled, query, variables or {})
        sent = self.statements.count
        executed = await self._post(self.executor, query, variables or {})
        # Parsed and re-serialized: the same values in the same key order.
        assert orjson.dumps(orjson.loads(compiled)) == orjson.dumps(orjson.loads(executed)), (
            compiled,
            executed,
        )
        if statements is not None:
            assert sent == statements, self.statements.sql
        return orjson.loads(compiled)

    async def numbers(self, query: str, variables: dict[str, Any]) -> list[str]:
        """The JSON text of every number in both answers (PostgreSQL spaces its
        objects otherwise): the same, in the same order."""
        texts = [await self._post(c, query, variables) for c in (self.compiled, self.executor)]
        found = [
            [n.decode() for n in re.findall(rb"[:\[,]\s*(-?[0-9][0-9.eE+-]*)", text)]
            for text in texts
        ]
        assert found[0] == found[1], texts
        return found[0]


@pytest.fixture
async def pair(
    settings: Settings, db: Database, statements: StatementCounter
) -> AsyncIterator[Pair]:
    on = create_app(settings.model_copy(update={"compile_queries": True}), db=db)
    off = create_app(settings.model_copy(update={"compile_queries": False}), db=db)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=on), base_url="http://t") as a,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://t") as b,
    ):
        yield Pair(a, b, statements)


class Writer:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.post(query, variables)
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data


async def seed(pair: Pair) -> list[dict[str, Any]]:
    """Experiments of every kind, one with a description, one deleted, tagged."""
    gql: Any = Writer(pair.executor)
    made = []
    for i, kind in enumerate(["TRAINING", "EVALUATION", "AB_TEST", "SIMULATION", "RESEARCH"] * 2):
        extra = {"description": f"about {i}"} if i % 3 == 0 else {}
        made.append(await create_experiment(gql, f"exp {i:02d} {kind.lower()}", kind, **extra))
    tag = await create_tag(gql, "Important")
    await tag_experiment(gql, made[0]["id"], tag["id"])
    await gql.data(
        "mutation($id: ID!) { deleteExperiment(input: {id: $id}) { experiment { id } } }",
        {"id": made[-1]["id"]},
    )
    return made


NODE_FIELDS = """
  __typename id
  ... on Experiment { name kind status description config metadata createdAt updatedAt deletedAt }
  ... on TrainingExperiment { modelType }
  ... on AbTestExperiment { unitType startAt }
  ... on SimulationExperiment { masterSeed }
  ... on ResearchExperiment { hypothesis }
  ... on EvaluationExperiment { repetitions }
"""

LIST = (
    """query List($first: Int, $after: String, $last: Int, $before: String,
  $order: [ExperimentOrder!], $filter: ExperimentFilter, $deleted: Boolean! = false) {
  experiments(first: $first, after: $after, last: $last, before: $before, orderBy: $order,
    filter: $filter, includeDeleted: $deleted) {
    totalCount
    edges { cursor node { """
    + NODE_FIELDS
    + """ } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
)


async def test_node_by_id_matches_the_executor(pair: Pair) -> None:
    made = await seed(pair)
    query = "query($id: ID!) { node(id: $id) { " + NODE_FIELDS + " } }"
    for experiment in made:
        data = await pair.same(query, {"id": experiment["id"]}, statements=1)
        assert data["data"]["node"]["id"] == experiment["id"]
    # other node types: a tag, a dataset
    gql: Any = Writer(pair.executor)
    tag = await create_tag(gql, "Blue")
    dataset_id, version_id = await create_dataset(gql, "ds")
    other = "query($id: ID!) { node(id: $id) { __typename id ... on Tag { name slug } } }"
    for global_id in (tag["id"], dataset_id, version_id):
        data = await pair.same(other, {"id": global_id}, statements=1)
        assert data["data"]["node"]["id"] == global_id
    # absent rows, another type's id for an existing key: null
    await pair.same(query, {"id": encode_id("TrainingExperiment", 999999)}, statements=1)
    await pair.same(query, {"id": encode_id("TrainingExperiment", 2)}, statements=1)


async def test_list_pages_match_the_executor(pair: Pair) -> None:
    await seed(pair)
    cursor = None
    pages = 0
    while True:
        data = await pair.same(LIST, {"first": 3, "after": cursor}, statements=1)
        page = data["data"]["experiments"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert pages == 3
    # backward, ordered on two keys, filtered, with deleted ones, empty
    order = [{"field": "NAME", "direction": "DESC"}, {"field": "CREATED_AT"}]
    data = await pair.same(LIST, {"last": 4, "order": order, "deleted": True}, statements=1)
    before = data["data"]["experiments"]["pageInfo"]["startCursor"]
    await pair.same(LIST, {"last": 4, "before": before, "order": order}, statements=1)
    await pair.same(LIST, {"filter": {"kinds": ["TRAINING", "AB_TEST"]}}, statements=1)
    await pair.same(LIST, {"filter": {"nameContains": "nothing like it"}}, statements=1)
    await pair.same(LIST, {"first": 0}, statements=1)


async def test_relationships_and_scalars_match_the_executor(pair: Pair) -> None:
    gql: Any = Writer(pair.executor)
    await create_experiment(
        gql,
        "ab",
        "AB_TEST",
        abTest={"unitType": "SESSION", "startAt": "2026-01-02T03:04:05Z"},
        config={"b": [1, 2.5, None, True], "a": {"z": "é\n"}},
    )
    await create_experiment(
        gql, "seed", "SIMULATION", simulation={"masterSeed": "9007199254740993"}
    )
    query = """{ experiments(orderBy: [{field: NAME}]) { edges { node {
      id createdBy { id username }
      ... on AbTestExperiment { startAt unitType config }
      ... on SimulationExperiment { masterSeed converged } } } } }"""
    data = await pair.same(query, statements=1)
    nodes = [e["node"] for e in data["data"]["experiments"]["edges"]]
    assert nodes[0]["startAt"] == "2026-01-02T03:04:05Z"  # no microseconds when zero
    assert nodes[1]["masterSeed"] == "9007199254740993"


async def test_aliases_fragments_and_typename(pair: Pair) -> None:
    made = await seed(pair)
    query = """
    fragment Common on Experiment { __typename theName: name createdAt }
    fragment Node on Node { id }
    query($id: ID!, $other: ID!) {
      first: node(id: $id) { ...Node ...Common ... on TrainingExperiment { modelType } }
      second: node(id: $other) { ... on Experiment { kind ...Common } id }
      page: experiments(first: 2) { pageInfo { endCursor } edges { node { ...Common } } }
      again: experiments(last: 1) { totalCount pageInfo { hasPreviousPage hasNextPage } }
    }"""
    await pair.same(query, {"id": made[0]["id"], "other": made[1]["id"]}, statements=4)


UNCOVERED = """query($id: ID!) { experiments(first: 3) { edges { node { id
  tags { edges { node { name } } } } } } node(id: $id) { id } }"""


async def test_what_it_does_not_cover_takes_the_executor(pair: Pair) -> None:
    made = await seed(pair)
    # the uncovered root field takes the executor (more than one statement), the
    # other root field is still compiled; the answers are the same
    data = await pair.same(UNCOVERED, {"id": made[0]["id"]})
    assert pair.statements.count > 2
    assert data["data"]["node"]["id"] == made[0]["id"]
    # a directive: the executor
    include = "query($i: Boolean!) { experiments { totalCount @include(if: $i) } }"
    for value in (True, False):
        await pair.same(include, {"i": value})
    # a malformed id, a malformed cursor, a page too large: the executor's errors
    for query, variables in [
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "not an id"}),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": encode_id("NoSuchType", 1)}),
        (LIST, {"after": "garbage"}),
        (LIST, {"first": 100000}),
        (LIST, {"first": 1, "last": 1}),
        (LIST, {"order": [{"field": "RELEVANCE"}]}),
    ]:
        body = await pair.same(query, variables)
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    # the search rank is computed: the executor orders by it
    await pair.same(
        LIST,
        {"filter": {"search": "exp"}, "order": [{"field": "RELEVANCE", "direction": "DESC"}]},
    )


async def test_compiling_can_be_turned_off(
    settings: Settings, db: Database, statements: StatementCounter
) -> None:
    app = create_app(settings.model_copy(update={"compile_queries": False}), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await create_experiment(Writer(c), "one")
        statements.reset()
        response = await c.post(
            "/graphql", json={"query": "{ experiments { totalCount edges { node { id } } } }"}
        )
        assert response.json()["data"]["experiments"]["totalCount"] == 1
        assert statements.count == 2  # the executor: the page, then the count


async def test_read_rules_apply_on_the_compiled_path(
    settings: Settings, db: Database, statements: StatementCounter
) -> None:
    """With authentication on, what a caller may not read (another user's API
    key: OwnerOrAdmin) is null or absent exactly as on the executor's path."""
    await create_users(
        db, {"admin": UserRole.ADMIN, "ann": UserRole.MEMBER, "bob": UserRole.MEMBER}
    )
    changes = {"auth_enabled": True, "request_log_enabled": False}
    apps = [
        create_app(settings.model_copy(update={**changes, "compile_queries": on}), db=db)
        for on in (True, False)
    ]
    callers: dict[str, list[Caller]] = {}
    try:
        for name in ("admin", "ann", "bob"):
            callers[name] = [Caller(app) for app in apps]
            for caller in callers[name]:
                await caller.login(name)
        ann = callers["ann"][1].gql
        key = (await ann.data(CREATE_KEY, {"n": "ann's", "s": ["READ"]}))["createApiKey"]["apiKey"]
        await create_experiment(ann, "ann's experiment")
        node = "query($id: ID!) { node(id: $id) { __typename id ... on ApiKey { name prefix } } }"
        keys = "{ apiKeys { totalCount edges { cursor node { id name } } pageInfo { endCursor } } }"
        made_by = "{ experiments { edges { node { name createdBy { username } } } } }"
        for name, expected in [("admin", True), ("ann", True), ("bob", False)]:
            compiled, executed = callers[name]
            answers = []
            for query, variables in [(node, {"id": key["id"]}), (keys, {}), (made_by, {})]:
                statements.reset()
                on = (await compiled.raw(query, variables)).content
                assert any("json_" in sql for sql in statements.sql), statements.sql  # compiled
                off = (await executed.raw(query, variables)).content
                assert orjson.dumps(orjson.loads(on)) == orjson.dumps(orjson.loads(off)), (on, off)
                answers.append(orjson.loads(on)["data"])
            assert (answers[0]["node"] is not None) == expected, (name, answers[0])
            assert answers[2]["experiments"]["edges"][0]["node"]["createdBy"] == {"username": "ann"}
    finally:
        for pair_of_callers in callers.values():
            for caller in pair_of_callers:
                await caller.aclose()


# --- connections and lists under nodes ------------------------------------------------

TAGS = """query($first: Int, $after: String, $last: Int, $before: String, $order: [TagOrder!]) {
  experiments(first: 4, orderBy: [{field: NAME}]) { edges { node { name
    tags(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
      __typename totalCount
      edges { __typename cursor node { __typename id name slug color } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } } }"""


async def test_connections_under_nodes_match_the_executor(pair: Pair) -> None:
    made = await seed(pair)
    gql: Any = Writer(pair.executor)
    tags = [await create_tag(gql, f"tag {i}") for i in range(4)]
    for i, experiment in enumerate(made[:3]):
        for tag in tags[: i + 2]:
            await tag_experiment(gql, experiment["id"], tag["id"])
    data = await pair.same(TAGS, {}, statements=1)
    edges = data["data"]["experiments"]["edges"]
    assert [len(e["node"]["tags"]["edges"]) for e in edges] == [3, 3, 4, 0]
    # paged forward from a cursor, backward, ordered, empty, only the count
    cursor = edges[1]["node"]["tags"]["edges"][0]["cursor"]
    await pair.same(TAGS, {"first": 1, "after": cursor}, statements=1)
    await pair.same(TAGS, {"last": 2}, statements=1)
    await pair.same(TAGS, {"last": 1, "before": cursor}, statements=1)
    order = [{"field": "NAME", "direction": "DESC"}]
    data = await pair.same(TAGS, {"first": 2, "order": order}, statements=1)
    cursor = data["data"]["experiments"]["edges"][0]["node"]["tags"]["pageInfo"]["endCursor"]
    await pair.same(TAGS, {"first": 2, "order": order, "after": cursor}, statements=1)
    await pair.same(TAGS, {"first": 0}, statements=1)
    # without pageInfo (forward: only the page's rows, in the sort keys' order)
    edges_only = TAGS.replace("pageInfo { hasNextPage hasPreviousPage startCursor endCursor }", "")
    assert "pageInfo" not in edges_only
    for variables in [
        {},
        {"first": 1, "after": cursor},
        {"first": 2, "order": order},
        {"first": 3, "order": [{"field": "NAME"}], "after": cursor},
        {"last": 2, "order": order},
        {"first": 0},
    ]:
        await pair.same(edges_only, variables, statements=1)
    count = "{ experiments { edges { node { tags { totalCount } } } } }"
    await pair.same(count, statements=1)
    # under node(id:), with an alias
    by_id = """query($id: ID!) { node(id: $id) { ... on Experiment {
      a: tags(first: 1) { edges { node { name } } } b: tags { totalCount } } } }"""
    await pair.same(by_id, {"id": made[2]["id"]}, statements=1)
    # refused page arguments: the executor's error
    body = await pair.same(TAGS, {"first": 100000})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    body = await pair.same(TAGS, {"after": "garbage"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# Every float a run or an annotation may hold: whole, shortest digits, negative
# zero, and (PostgreSQL writes them with an exponent where orjson does not, or
# differently) the smallest and largest.
FLOATS = [0.0, -0.0, 100.0, 12.5, 0.1 + 0.2, 1 / 3, -2.75, 123456.789, 0.0001, 99999999999999.9]
EXTREME_FLOATS = [1e-7, 0.00001, 1e15, 1e16, 1.5e300, 5e-324, 2.0**60]
DETAIL = """query($id: ID!) { node(id: $id) { ... on EvaluationExperiment { id name
  runs(first: 100) { totalCount edges { node { id repetitionNumber output latencyMs error
    example { id input output } annotations { id name score label } } } } } } }"""


async def evaluation(pair: Pair, scores: list[float]) -> str:
    from tests.test_execution import CLAIM, RECORD, runs_for, setup_evaluation
    from tests.test_prefetch import ANNOTATE

    gql: Any = Writer(pair.executor)
    experiment_id, example_ids = await setup_evaluation(gql, "eval", examples=len(scores))
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    holder = {"e": experiment_id, "w": "w1", "t": "1"}
    runs = runs_for(example_ids, 1)
    for run, score in zip(runs, scores, strict=True):
        run["latencyMs"] = abs(score)
    recorded = (await gql.data(RECORD, {**holder, "runs": runs}))["recordExperimentRuns"]["runs"]
    annotations = [
        {"experimentRunId": run["id"], "name": name, "score": score, "label": name}
        for run, score in zip(recorded, scores, strict=True)
        for name in ("judge", "exact")
    ]
    await gql.data(ANNOTATE, {**holder, "a": annotations})
    return experiment_id


async def test_runs_annotations_and_floats_match_the_executor(pair: Pair) -> None:
    experiment_id = await evaluation(pair, FLOATS)
    data = await pair.same(DETAIL, {"id": experiment_id}, statements=1)
    runs = data["data"]["node"]["runs"]["edges"]
    assert [r["node"]["annotations"][0]["name"] for r in runs] == ["exact"] * len(FLOATS)
    # the numbers' JSON text itself, not only their values: 100.0, not 100 nor 1e2
    numbers = await pair.numbers(DETAIL, {"id": experiment_id})
    shown = {repr(f) for f in FLOATS} | {repr(abs(f)) for f in FLOATS}
    assert shown - {"-0.0"} <= set(numbers)  # (SQLite keeps no negative zero)


async def test_floats_the_database_writes_otherwise_take_the_executor(pair: Pair) -> None:
    experiment_id = await evaluation(pair, EXTREME_FLOATS)
    await pair.same(DETAIL, {"id": experiment_id})
    await pair.numbers(DETAIL, {"id": experiment_id})


# --- derived fields with an SQL rule: the bench's list page ---------------------------

LIST_PAGE = """query ListPage($after: String, $order: [ExperimentOrder!]) {
  experiments(first: 50, after: $after, orderBy: $order) {
    totalCount
    edges { cursor node {
      id name kind status createdAt
      createdBy { username }
      tags { edges { node { name color } } }
      ... on EvaluationExperiment { repetitions
        executionConfig { __typename state progress { __typename completed expected failed
          missing fraction } } }
      ... on SimulationExperiment { masterSeed }
      ... on TrainingExperiment { modelType }
      ... on ResearchExperiment { hypothesis }
      ... on AbTestExperiment { unitType }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_execution_state_and_progress_match_the_executor(pair: Pair, db: Database) -> None:
    """Every state (stopped, queued, running, orphaned, completed, failed) and a
    progress with a fraction, in the full list page, compiled in one statement."""
    from sqlalchemy import update

    from expgraph.db.types import utc_before
    from expgraph.domains.execution.models import ExecutionConfig
    from tests.test_execution import CLAIM, RECORD, RELEASE, TOGGLE, runs_for, setup_evaluation

    await seed(pair)
    gql: Any = Writer(pair.executor)
    made = {}
    for name in ("queued", "running", "orphaned", "completed", "failed", "stopped"):
        made[name], examples = await setup_evaluation(gql, name, examples=3, repetitions=1)
        if name in ("running", "orphaned", "completed", "failed"):
            await gql.data(CLAIM, {"w": name, "e": made[name]})
            holder = {"e": made[name], "w": name, "t": "1"}
            recorded = examples if name == "completed" else examples[:1]
            error = "boom" if name == "failed" else None
            await gql.data(RECORD, {**holder, "runs": runs_for(recorded, 1, error)})
            if name in ("completed", "failed"):
                await gql.data(RELEASE, {**holder, "err": "it broke" if error else None})
        if name == "stopped":
            await gql.data(TOGGLE, {"e": made[name], "on": False})
    async with db.transaction() as session:
        await session.execute(
            update(ExecutionConfig)
            .where(ExecutionConfig.claimed_by == "orphaned")
            .values(claimed_at=utc_before(3600))
        )
    data = await pair.same(LIST_PAGE, statements=1)
    states = {
        e["node"]["name"]: e["node"]["executionConfig"]["state"]
        for e in data["data"]["experiments"]["edges"]
        if e["node"].get("executionConfig")
    }
    assert states == {name: name.upper() for name in made}, states
    fractions = {
        e["node"]["name"]: e["node"]["executionConfig"]["progress"]["fraction"]
        for e in data["data"]["experiments"]["edges"]
        if e["node"].get("executionConfig")
    }
    assert fractions["running"] == 1 / 3 and fractions["completed"] == 1.0
    await pair.numbers(LIST_PAGE, {})
    order = [{"field": "NAME", "direction": "DESC"}]
    await pair.same(LIST_PAGE, {"order": order}, statements=1)


# --- the other domains' list pages ------------------------------------------------------

AB_PAGE = """query($after: String) {
  experiments(first: 20, after: $after, filter: {kinds: [AB_TEST]}) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name status ... on AbTestExperiment { unitType startAt
      variants { __typename id name description position isControl config createdAt } } } }
  } }"""


async def test_the_ab_test_list_page_matches_the_executor(pair: Pair) -> None:
    from tests.test_abtest_variants import ab_test, variant

    gql: Any = Writer(pair.executor)
    for i in range(3):
        experiment_id = await ab_test(gql, f"ab {i}")
        # created out of name order: listed by position
        for name in ("z", "a", "m")[: i + 1]:
            await variant(gql, experiment_id, name, allocation="0.2", description=name * i or None)
    await create_experiment(gql, "not an A/B test", "SIMULATION")
    data = await pair.same(AB_PAGE, statements=1)
    edges = data["data"]["experiments"]["edges"]
    assert [len(e["node"]["variants"]) for e in edges] == [3, 2, 1]
    await pair.same(AB_PAGE, {"after": edges[0]["cursor"]}, statements=1)


HPO_PAGE = """query($after: String) { hpoCampaigns(first: 10, after: $after) {
  totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { __typename id name method status baseModelType seed trialsTotal
    trialsCompleted bestValue bestAccuracy createdAt startedAt completedAt
    dataset { id name } } } } }"""


async def test_the_hpo_campaign_list_page_matches_the_executor(pair: Pair) -> None:
    from tests.test_training_hpo import claim, create, train

    gql: Any = Writer(pair.executor)
    first = await create(gql, name="first")
    await create(gql, name="second", seed="9007199254740993")
    for _ in range(2):
        trial = await claim(gql, first["id"])
        assert trial is not None
        await train(gql, trial)
    data = await pair.same(HPO_PAGE, statements=1)
    nodes = [e["node"] for e in data["data"]["hpoCampaigns"]["edges"]]
    assert nodes[0]["trialsCompleted"] == 2 and isinstance(nodes[0]["bestValue"], float)
    await pair.numbers(HPO_PAGE, {})
    cursor = data["data"]["hpoCampaigns"]["edges"][0]["cursor"]
    await pair.same(HPO_PAGE, {"after": cursor}, statements=1)


TREE_NODE = "__typename id depth shortAction simulationResults nodeStatus"


def _tree_levels(depth: int) -> str:
    if depth == 0:
        return TREE_NODE
    return (
        f"{TREE_NODE} children(first: 3) {{ totalCount edges {{ cursor node {{ "
        f"{_tree_levels(depth - 1)} }} }} pageInfo {{ hasNextPage endCursor }} }}"
    )


TREE = (
    "query($id: ID!) { node(id: $id) { ... on Exploration { id totalNodes root { "
    + _tree_levels(3)
    + " } } } }"
)


async def test_the_exploration_tree_matches_the_executor(
    pair: Pair, db: Database, dialect: str
) -> None:
    """The benchmark's tree: an exploration, its root (the first child of the
    exploration without a parent) and three levels of children, with each
    node's simulation results (stored ``success_rate`` shown as ``successRate``,
    moved last). One statement, on both databases (SQLite's parser has a small
    stack: the statement must not nest too deep)."""
    from sqlalchemy import update

    from expgraph.domains.research import models as research
    from tests.test_explorations import EXPAND, scenario, start

    gql: Any = Writer(pair.executor)
    _, exploration, root = await start(gql, db)
    results = [
        {"successRate": 0.5, "z": {"nested": [1, 2]}, "a": "text"},
        {"successRate": 0.25},
        {"other": None, "successRate": 1},
    ]
    children = [{**scenario(0.5), "simulationResults": r} for r in results]
    data = await gql.data(EXPAND, {"p": root, "c": children})
    first = data["expandNode"]["children"][0]["id"]
    grand = await gql.data(EXPAND, {"p": first, "c": [scenario(0.75), scenario(0.125)]})
    await gql.data(EXPAND, {"p": grand["expandNode"]["children"][0]["id"], "c": [scenario(1.0)]})
    variables = {"id": exploration}
    tree = await pair.same(TREE, variables, statements=1)
    shown = tree["data"]["node"]["root"]["children"]["edges"]
    assert [list(e["node"]["simulationResults"]) for e in shown] == [
        ["z", "a", "successRate"] if dialect == "sqlite" else ["a", "z", "successRate"],
        ["successRate"],
        ["other", "successRate"],
    ]
    level3 = shown[0]["node"]["children"]["edges"][0]["node"]["children"]["edges"]
    assert level3[0]["node"]["simulationResults"] == {"successRate": 1.0}
    # Stored otherwise than the API writes: no results, results not an object,
    # the shown key stored too (the executor answers that one).
    node_id = decode_id_of(first)
    for stored in (None, [1, "success_rate"], {"success_rate": 0.5, "successRate": 0.1}):
        async with db.transaction() as session:
            await session.execute(
                update(research.ScenarioNode)
                .where(research.ScenarioNode.id == node_id)
                .values(simulation_results=stored)
            )
        await pair.same(TREE, variables)


def decode_id_of(global_id: str) -> int:
    from expgraph.graphql.relay import decode_id

    return int(decode_id(global_id)[1])


@pytest.mark.parametrize("dialect", ["postgresql"])  # plans are PostgreSQL's
async def test_postgresql_plans_a_compiled_statement_once_per_connection(
    pair: Pair, db: Database
) -> None:
    """A compiled statement is prepared once per connection (asyncpg keeps big
    statements too), so PostgreSQL can reuse its plan instead of planning it
    again at every request (on the benchmark's data that planning cost as much as
    running it; there, page sizes written into the text let the generic plan win,
    which data this small cannot show)."""
    await seed(pair)
    for _ in range(8):
        await pair.same(LIST, {"first": 3}, statements=1)
    [sql] = [s for s in pair.statements.sql if "expgraph_page" in s]  # the compiled one
    assert len(sql.encode()) > 15 * 1024  # bigger than asyncpg caches by default
    async with db.read() as session:
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        rows = await raw.driver_connection.fetch(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            sql,
        )
    assert len(rows) == 1, "not kept as one prepared statement"
    assert rows[0]["generic_plans"] >= 2, dict(rows[0])


async def test_every_page_of_an_ordering_is_one_statement_text(pair: Pair) -> None:
    """The pages after the first differ only in the cursor's values, which are
    parameters: one statement text (one prepared statement, one plan) serves
    them all, and it is built once."""
    await seed(pair)
    from expgraph.graphql.compiled import compiler

    texts, cursor, built = [], None, []
    for _ in range(3):
        data = await pair.same(LIST, {"first": 3, "after": cursor}, statements=1)
        texts.append(next(s for s in pair.statements.sql if "expgraph_page" in s))
        built.append(compiler.built)
        cursor = data["data"]["experiments"]["pageInfo"]["endCursor"]
    assert texts[1] == texts[2] != texts[0]
    assert built[2] == built[1]  # the third page's statement is the second's


async def test_filters_that_differ_in_values_share_one_statement(pair: Pair) -> None:
    """A filter's values (and a listing's arguments) are parameters too: another
    search term or kind list answers its own rows from the statement built for
    the first; another filter field is another statement."""
    from expgraph.graphql.compiled import compiler

    await seed(pair)
    names = []
    for i, term in enumerate(["exp 0", "exp 1", "nothing like it", "exp 0"]):
        data = await pair.same(LIST, {"filter": {"nameContains": term}}, statements=1)
        names.append([e["node"]["name"] for e in data["data"]["experiments"]["edges"]])
        if i == 0:
            built = compiler.built
    assert compiler.built == built
    assert names[0] == names[3] != names[1] and names[2] == []
    assert all(n.startswith("exp 0") for n in names[0]) and names[0]
    for kinds in (["TRAINING"], ["TRAINING", "AB_TEST"], ["RESEARCH"]):
        data = await pair.same(LIST, {"filter": {"kinds": kinds}}, statements=1)
        found = {e["node"]["kind"] for e in data["data"]["experiments"]["edges"]}
        assert found == set(kinds)
    await pair.same(LIST, {"filter": {"nameContains": "exp", "kinds": ["RESEARCH"]}}, statements=1)
