"""Test fixtures: every test runs on SQLite and on PostgreSQL, each in a fresh,
migrated database cloned from a template (a file copy on SQLite, ``CREATE
DATABASE ... TEMPLATE`` on PostgreSQL).

PostgreSQL comes from ``EXPGRAPH_TEST_POSTGRES_URL`` when set, otherwise from a
throwaway server started here with the ``pgserver`` package.

``make test`` runs the suite on several processes (pytest-xdist, ``-n``): each
starts its own throwaway server (or shares the given one, with its own template
database) and makes its own databases.

``EXPGRAPH_TEST_DATABASES`` (comma-separated, default ``sqlite,postgresql``) runs
the tests on those databases only; the others are deselected (and counted so).

The settings the tests use read the environment as the server does: with
``EXPGRAPH_FAST_PATH=0`` the whole suite runs on the stock path (strawberry's own
execution, SQLAlchemy's ORM; ``make test-stock``). Tests of the fast path's own
workings are marked ``@pytest.mark.fast_path`` and deselected there (and counted so).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from sqlalchemy import event
from sqlalchemy.engine import make_url

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db import migrate
from expgraph.db.engine import Database
from expgraph.graphql.compiled import execution as compiled_execution

DATABASES = ("sqlite", "postgresql")
TEST_DATABASES = tuple(
    name.strip()
    for name in os.environ.get("EXPGRAPH_TEST_DATABASES", ",".join(DATABASES)).split(",")
)
if not TEST_DATABASES or set(TEST_DATABASES) - set(DATABASES):
    raise pytest.UsageError(f"EXPGRAPH_TEST_DATABASES: a comma-separated subset of {DATABASES}")

# One template per test process (pytest-xdist names them gw0, gw1, ...): processes
# sharing a server through EXPGRAPH_TEST_POSTGRES_URL never drop each other's.
TEMPLATE_DB = f"expgraph_template_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA"}
_counter = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "executor: counts the executor's own statements (DataLoader batches, look-ahead); "
        "runs with the read-query compiler off, which answers such documents in one",
    )
    config.addinivalue_line(
        "markers",
        "fast_path: checks the fast path's own workings (its executor, look-ahead or "
        "statements straight on asyncpg); deselected when EXPGRAPH_FAST_PATH is off",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (reported as such, never skipped) the tests on a database
    ``EXPGRAPH_TEST_DATABASES`` leaves out, and those marked ``fast_path`` when the
    fast path is off."""
    fast_path = Settings(_env_file=None).fast_path  # type: ignore[call-arg]
    kept, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        dialect = callspec.params.get("dialect") if callspec is not None else None
        if (dialect is not None and dialect not in TEST_DATABASES) or (
            not fast_path and item.get_closest_marker("fast_path") is not None
        ):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


# --- PostgreSQL server ---------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An async SQLAlchemy URL of a PostgreSQL server we may create databases on."""
    given = os.environ.get("EXPGRAPH_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    import pgserver

    data_dir = tempfile.mkdtemp(prefix="expgraph-pg-")
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    url = make_url(server.get_uri()).set(drivername="postgresql+asyncpg")
    url_text = url.render_as_string(hide_password=False)
    # A throwaway server need not survive a crash: without fsync, creating and
    # dropping each test's database takes ~0.4 s instead of ~5 s (measured here).
    _admin(
        url_text,
        "ALTER SYSTEM SET fsync = off",
        "ALTER SYSTEM SET full_page_writes = off",
        "ALTER SYSTEM SET synchronous_commit = off",
        "SELECT pg_reload_conf()",
    )
    yield url_text
    server.cleanup()
    shutil.rmtree(data_dir, ignore_errors=True)


def _asyncpg_dsn(url: str, database: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql", database=database)
        .render_as_string(hide_password=False)
    )


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _in_thread(fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine on its own loop in a worker thread (fixtures here are sync,
    so they can be requested lazily whatever loop the test runs on)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, fn()).result()


def _admin(server_url: str, *sql: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(_asyncpg_dsn(server_url, "postgres"))
        try:
            for statement in sql:
                await connection.execute(statement)
        finally:
            await connection.close()

    _in_thread(run)


@pytest.fixture(scope="session")
def postgres_template(postgres_url: str) -> str:
    _admin(
        postgres_url,
        f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)',
        f'CREATE DATABASE "{TEMPLATE_DB}"',
    )
    migrate.upgrade(_with_database(postgres_url, TEMPLATE_DB))
    return TEMPLATE_DB


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


# --- one fresh database per test -------------------------------------------------


@pytest.fixture(params=DATABASES)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(dialect: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if dialect == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server_url: str = request.getfixturevalue("postgres_url")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"t_{os.getpid()}_{next(_counter)}"
    _admin(server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    yield _with_database(server_url, name)
    _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str, request: pytest.FixtureRequest) -> Settings:
    # (from the environment too, as the server's: EXPGRAPH_FAST_PATH=0 tests the stock path)
    made = Settings(database_url=database_url, _env_file=None)  # type: ignore[call-arg]
    if request.node.get_closest_marker("executor") is not None:
        return made.model_copy(update={"compile_queries": False})
    return made


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


# --- the app over HTTP -------------------------------------------------------------


class Reference:
    """The executor's answer to compare the compiler's with: an app on the same
    database with the same settings but ``compile_queries`` off (and no request
    log, so the second request leaves no trace), on its OWN ``Database`` (the
    ``statements`` fixture counts only the app's statements). Made on first use."""

    def __init__(self, settings: Settings, address: str = "127.0.0.1") -> None:
        self.settings = settings.model_copy(
            update={"compile_queries": False, "request_log_enabled": False}
        )
        self.address = address
        self._db: Database | None = None
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._db = Database(self.settings)
            app = create_app(self.settings, db=self._db)
            transport = httpx.ASGITransport(app=app, client=(self.address, 40000))
            self._http = httpx.AsyncClient(transport=transport, base_url="http://test")
        return self._http

    async def check(
        self, http: httpx.AsyncClient, payload: dict[str, Any], response: httpx.Response
    ) -> None:
        """Post ``payload`` as ``http`` did (same headers and cookies: the same
        caller) and assert the same status and body: data in the same key order,
        the same errors (message, path, extensions)."""
        client = self._client()
        client.cookies = httpx.Cookies(http.cookies)
        expected = await client.post("/graphql", json=payload, headers=dict(http.headers))
        compiled = orjson.dumps(orjson.loads(response.content))
        executed = orjson.dumps(orjson.loads(expected.content))
        assert (response.status_code, compiled) == (expected.status_code, executed), (
            "the compiled answer differs from the executor's",
            payload,
            compiled.decode(),
            executed.decode(),
        )

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
        if self._db is not None:
            await self._db.dispose()
        self._http = self._db = None


def is_query(document: str) -> bool:
    """Whether the document's (only) operation is a query."""
    try:
        operation = get_operation_ast(parse(document))
    except GraphQLError:
        return False
    return operation is not None and operation.operation == OperationType.QUERY


@dataclass
class GraphQLClient:
    """Posts GraphQL documents to the ASGI app over real HTTP semantics.

    With a ``reference``, each query the compiler answered something of (its
    counter moved) is posted again to the reference app (compiler off): both
    answers must be identical. Mutations and subscriptions never are, nor queries
    nothing of which compiled (a side effect never runs twice)."""

    http: httpx.AsyncClient
    reference: Reference | None = None

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = {"query": query, "variables": variables or {}}
        before = compiled_execution.answered
        response = await self.http.post("/graphql", json=payload)
        assert response.status_code in (200, 400), response.text
        if self.reference is not None and compiled_execution.answered != before and is_query(query):
            await self.reference.check(self.http, payload, response)
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The response's data; fails the test on any error."""
        body = await self.post(query, variables)
        assert not body.get("errors"), body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error_code(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """The ``extensions.code`` of the response's (first) error."""
        body = await self.post(query, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        return str(body["errors"][0]["extensions"]["code"])


@pytest.fixture
def app(settings: Settings, db: Database) -> Any:
    return create_app(settings, db=db)


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
async def gql(http: httpx.AsyncClient, app: Any) -> AsyncIterator[GraphQLClient]:
    """The app's client; every query the compiler answered is checked against the
    executor's answer (``Reference``, with the app's own settings)."""
    reference = Reference(app.state.settings)
    yield GraphQLClient(http, reference)
    await reference.aclose()


@dataclass
class StatementCounter:
    """Data statements only: transaction control (BEGIN, COMMIT, ...) is not counted."""

    count: int = 0
    sql: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.count = 0
        self.sql.clear()


@pytest.fixture
def statements(db: Database) -> Iterator[StatementCounter]:
    """Counts SQL statements sent by the app's engines."""
    counter = StatementCounter()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in CONTROL:
            return
        counter.count += 1
        counter.sql.append(statement)

    engines = {id(e.sync_engine): e.sync_engine for e in (db.engine, db.write_engine)}
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", on_execute)
    yield counter
    for engine in engines.values():
        event.remove(engine, "before_cursor_execute", on_execute)
