"""The fast path can be switched off (``EXPGRAPH_FAST_PATH``), and switches itself
off, with one warning, when a private part of graphql-core, strawberry or
SQLAlchemy it needs is not as expected (``expgraph.compat``): the API then
answers the same on strawberry's stock execution and SQLAlchemy's ORM."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, select
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from expgraph import compat
from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.records import read_records
from expgraph.domains.catalog.models import Tag
from expgraph.graphql.auth import LOCAL_ADMIN
from expgraph.graphql.compiled.execution import executor_of
from expgraph.graphql.context import Context
from expgraph.graphql.fastpath.executor import Executor
from expgraph.schema import build_schema
from tests.helpers import create_experiment, create_tag, tag_experiment

DOCUMENTS = [
    """{ experiments(first: 10, orderBy: [{field: NAME}]) { totalCount edges { cursor node {
        id name kind status createdAt createdBy { username }
        tags(first: 5) { totalCount edges { node { name color } } }
        ... on TrainingExperiment { modelType } } }
      pageInfo { hasNextPage endCursor } } }""",
    """{ tags(first: 10) { edges { node { id name experiments(first: 3) {
        edges { node { name } } } } } } }""",
    # errors answer the same too
    """{ experiments(first: -1) { totalCount } }""",
    """{ node(id: "nonsense") { id } }""",
]


def _graphql_schema_of(app: Any) -> Any:
    """The strawberry schema the app serves."""
    return next(route.endpoint.schema for route in app.routes if route.path == "/graphql")


async def _world(gql: Any) -> None:
    tags = [(await create_tag(gql, f"tag {i}"))["id"] for i in range(3)]
    for i in range(6):
        experiment = await create_experiment(gql, f"experiment {i}", "TRAINING")
        for tag_id in tags[: i % 4]:
            await tag_experiment(gql, experiment["id"], tag_id)


@pytest.fixture
def stock_settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, fast_path=False, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """compat looks again once a test has broken a library (and it is restored)."""
    yield
    monkeypatch.undo()
    compat.check()


async def test_switched_off_the_api_answers_the_same_on_strawberrys_stock_path(
    gql, settings, stock_settings, caplog
):
    await _world(gql)
    caplog.set_level(logging.WARNING, logger="expgraph")
    stock_db = Database(stock_settings)
    stock_app = create_app(stock_settings, db=stock_db)
    try:
        stock = _graphql_schema_of(stock_app)
        # (the read-query compiler wraps it: graphql/compiled/)
        assert executor_of(stock.execution_context_class) is StrawberryGraphQLCoreExecutionContext
        assert not stock.fast_path
        fast = build_schema(settings.model_copy(update={"fast_path": True}))
        assert fast.execution_context_class is Executor and fast.fast_path
        for document in DOCUMENTS:
            over_http = await http_answer(stock_app, document)
            context = Context(db=stock_db, settings=settings, principal=LOCAL_ADMIN)
            result = await fast.execute(document, context_value=context)
            on_fast_path: dict[str, Any] = {"data": result.data}
            if result.errors:
                on_fast_path["errors"] = [error.formatted for error in result.errors]
            assert over_http == on_fast_path
        answer = (await http_answer(stock_app, DOCUMENTS[0]))["data"]["experiments"]
        assert answer["totalCount"] == 6
        assert sum(e["node"]["tags"]["totalCount"] for e in answer["edges"]) == 7
        # rows come back as ORM objects, not the fast path's bare records
        async with stock_db.read() as session:
            rows = await read_records(session, select(Tag), {}, Tag)
            assert rows and all(inspect(row[0]).session is session.sync_session for row in rows)
    finally:
        await stock_db.dispose()
    assert not caplog.records  # switched off on purpose: nothing to warn about


async def http_answer(app: Any, document: str) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        body: dict[str, Any] = (await http.post("/graphql", json={"query": document})).json()
        return body


def _owner(name: str) -> type:
    """The class up strawberry's execution context that defines ``name``."""
    return next(cls for cls in compat.StrawberryExecutionContext.__mro__ if name in cls.__dict__)


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
async def test_a_changed_graphql_core_method_falls_back_to_stock_with_one_warning(
    gql, settings, monkeypatch, caplog, restored
):
    """graphql-core renames the parameters of a method the executor calls (as an
    upgrade might): the fast path is off, with one warning, and the API answers."""
    await _world(gql)
    owner = _owner("execute_field")
    original = owner.__dict__["execute_field"]

    def execute_field(self: Any, parent: Any, source: Any, fields: Any, at: Any, pos: Any) -> Any:
        return original(self, parent, source, fields, at, pos)

    monkeypatch.setattr(owner, "execute_field", execute_field)
    assert any("execute_field" in m.symbol for m in compat.check())
    assert not compat.fast_path_available()
    caplog.set_level(logging.WARNING, logger="expgraph")
    wanted = settings.model_copy(update={"fast_path": True})
    db = Database(wanted)
    try:
        app = create_app(wanted, db=db)  # the schema, then the database: one warning
        schema = _graphql_schema_of(app)
        assert executor_of(schema.execution_context_class) is StrawberryGraphQLCoreExecutionContext
        assert not schema.fast_path
        body = await http_answer(app, DOCUMENTS[0])
        assert not body.get("errors") and body["data"]["experiments"]["totalCount"] == 6
    finally:
        await db.dispose()
    warnings = [r for r in caplog.records if r.name == "expgraph"]
    assert len(warnings) == 1, warnings
    assert "execute_field" in warnings[0].getMessage()
    assert "stock path" in warnings[0].getMessage()


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
async def test_a_missing_strawberry_function_falls_back_to_stock_with_one_warning(
    settings, monkeypatch, caplog, restored
):
    """strawberry no longer has the argument conversion the lean resolvers call."""
    monkeypatch.setattr(compat, "_convert_arguments", None)
    compat.check()
    caplog.set_level(logging.WARNING, logger="expgraph")
    schemas = [build_schema(settings.model_copy(update={"fast_path": True})) for _ in range(2)]
    assert all(s.execution_context_class is StrawberryGraphQLCoreExecutionContext for s in schemas)
    warnings = [r for r in caplog.records if r.name == "expgraph"]
    assert len(warnings) == 1 and "convert_arguments" in warnings[0].getMessage()
    context = Context(db=Database(settings), settings=settings, principal=LOCAL_ADMIN)
    try:
        result = await schemas[0].execute(
            '{ tags(filter: {nameContains: "x"}) { totalCount } }', context_value=context
        )
        assert not result.errors and result.data == {"tags": {"totalCount": 0}}
    finally:
        await context.db.dispose()


def test_what_compat_guards_is_there_on_the_locked_versions() -> None:
    """On the versions the lock installs, nothing is missing: the fast path runs."""
    assert compat.check() == ()
    assert compat.fast_path_available() and compat.use_fast_path(True)
    assert not compat.use_fast_path(False)
