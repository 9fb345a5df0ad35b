"""The read-query compiler (graphql/compiled/): documents answered with
compilation on and off, over HTTP, on both databases, must answer the same
data (parsed, and in the same key order) and the same errors; a compiled root
field costs one statement; what it does not cover takes the executor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.graphql.relay import encode_id
from tests.conftest import StatementCounter
from tests.helpers import create_experiment, create_tag, tag_experiment


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
