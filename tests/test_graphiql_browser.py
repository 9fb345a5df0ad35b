"""GraphiQL in a real browser: Debian's Chromium (``make browser`` installs it),
driven by playwright, against ``expgraph serve`` on SQLite. Every request the page
makes is recorded; one to another origin fails the test (and is aborted, so no CDN
can stand in for a missing file). Through the UI: a query typed into the editor and
run with the run button shows the experiments; a subscription shows an event the
moment an HTTP mutation causes it; with authentication on, a query is refused
(UNAUTHENTICATED) until an API key is typed into the headers editor.

One browser and two servers (authentication off and on) for the whole module."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, Route, WebSocket, sync_playwright

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts import models, service
from tests.auth_helpers import PASSWORD
from tests.conftest import _in_thread
from tests.test_worker import _free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
# The editor tool (variables or headers) on show.
TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window"
TIMEOUT_MS = 30_000


@dataclass
class Server:
    url: str  # the /graphql URL
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def gql(self, query: str, variables: dict[str, Any] | None = None, token: str = "") -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = httpx.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        ).json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


def _start(database: Path, log: Path, **env: str) -> Server:
    port = _free_port()
    environment = {
        **os.environ,
        "EXPGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "EXPGRAPH_EXECUTION_TOGGLE_COOLDOWN_SECONDS": "0",
        "EXPGRAPH_REQUEST_LOG_ENABLED": "false",
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "expgraph.cli", "serve", "--port", str(port)],
        env=environment,
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return Server(f"http://127.0.0.1:{port}/graphql", process, log)


def _wait(server: Server) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(f"{server.origin}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.process.poll() is None, server.log.read_text()
        assert time.monotonic() < deadline, server.log.read_text()
        time.sleep(0.2)


def _stop(server: Server) -> None:
    server.process.terminate()
    server.process.wait(timeout=20)


def _create_admin(database: Path) -> None:
    async def run() -> None:
        db = Database(Settings(database_url=f"sqlite+aiosqlite:///{database}", _env_file=None))  # type: ignore[call-arg]
        try:
            async with db.transaction() as session:
                await service.create_user(
                    session,
                    username="admin",
                    email="admin@example.com",
                    role=models.UserRole.ADMIN,
                    password=PASSWORD,
                )
        finally:
            await db.dispose()

    _in_thread(run)


@pytest.fixture(scope="module")
def servers(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """(authentication off, authentication on with an admin), started side by side."""
    where = tmp_path_factory.mktemp("graphiql")
    shutil.copyfile(sqlite_template, where / "open.db")
    shutil.copyfile(sqlite_template, where / "auth.db")
    _create_admin(where / "auth.db")
    started = [
        _start(where / "open.db", where / "open.log"),
        _start(where / "auth.db", where / "auth.log", EXPGRAPH_AUTH_ENABLED="true"),
    ]
    try:
        for server in started:
            _wait(server)
        yield started[0], started[1]
    finally:
        for server in started:
            _stop(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}): the GraphiQL browser test needs Debian's "
            "package. Run `make browser` (as root it runs `apt-get install -y chromium`), "
            "or install it yourself: sudo apt-get install -y chromium",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        yield _launch(playwright)


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@dataclass
class Traffic:
    """Every request and WebSocket of a page; those to another origin are aborted."""

    origin: str
    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    sockets: list[WebSocket] = field(default_factory=list)

    def route(self, route: Route) -> None:
        url = route.request.url
        self.requests.append(url)
        if url.startswith("data:") or _origin(url) == self.origin:
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def socket(self, socket: WebSocket) -> None:
        self.sockets.append(socket)
        if _origin(socket.url.replace("ws", "http", 1)) != self.origin:
            self.foreign.append(socket.url)

    def assert_same_origin(self) -> None:
        assert self.foreign == [], f"requests to another origin: {self.foreign}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def open_graphiql(browser: Browser) -> Iterator[Any]:
    """open_graphiql(server) -> (page, traffic): GraphiQL loaded, its editor ready."""
    contexts = []

    def open_page(server: Server) -> tuple[Page, Traffic]:
        context = browser.new_context()
        contexts.append(context)
        page = context.new_page()
        traffic = Traffic(server.origin)
        page.route("**/*", traffic.route)
        page.on("websocket", traffic.socket)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        response = page.goto(server.url)
        assert response is not None and response.ok
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp, csp
        page.wait_for_selector(QUERY_EDITOR, timeout=TIMEOUT_MS)
        assert errors == []
        return page, traffic

    yield open_page
    for context in contexts:
        context.close()


def type_into(page: Page, editor: str, text: str) -> None:
    """Replace an editor's text by typing (keyboard input, as a user's paste would
    arrive: the editors' bracket auto-closing reacts to key presses only)."""
    page.locator(editor).click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    # GraphiQL reads an edit (the operation's name, for one) a moment after it.
    page.wait_for_timeout(500)


def run(page: Page) -> None:
    page.locator(".graphiql-execute-button").click()


def wait_for_result(page: Page, *needles: str) -> str:
    """The result pane's text once it holds every one of ``needles``."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        text = page.locator(RESULT).inner_text()
        if all(needle in text for needle in needles):
            return text
        assert time.monotonic() < deadline, f"result pane never showed {needles}: {text}"
        page.wait_for_timeout(100)


def make_experiment(server: Server, name: str, token: str = "") -> str:
    dataset = server.gql(
        "mutation($n: String!) { createDataset(input: {name: $n}) { dataset { id } } }",
        {"n": f"{name}-data"},
        token=token,
    )["createDataset"]["dataset"]["id"]
    version = server.gql(
        "mutation($d: ID!) { createDatasetVersion(input: {datasetId: $d}) "
        "{ datasetVersion { id } } }",
        {"d": dataset},
        token=token,
    )["createDatasetVersion"]["datasetVersion"]["id"]
    experiment: str = server.gql(
        """mutation($d: ID!, $v: ID!, $n: String!) { createExperiment(input: {
        kind: EVALUATION, name: $n, evaluation: {datasetId: $d, datasetVersionId: $v,
        repetitions: 1}}) { experiment { id } } }""",
        {"d": dataset, "v": version, "n": name},
        token=token,
    )["createExperiment"]["experiment"]["id"]
    server.gql(
        """mutation($e: ID!) { createExecutionConfig(input: {experimentId: $e,
        taskConfig: {modelProvider: "echo", modelName: "echo"},
        evaluatorConfigs: [{name: "checksum"}]}) { executionConfig { id } } }""",
        {"e": experiment},
        token=token,
    )
    return experiment


def test_a_query_typed_in_graphiql_shows_the_experiments(servers, open_graphiql):
    server, _ = servers
    for name in ("browser-alpha", "browser-beta"):
        make_experiment(server, name)
    page, traffic = open_graphiql(server)
    # Every file came from the server itself, GraphiQL's bundle among them.
    assert f"{server.origin}/graphql/static/graphiql/graphiql.min.js" in traffic.requests
    # The default query is there, and the explorer plugin opens on the schema.
    assert "query FirstExperiments" in page.locator(QUERY_EDITOR).inner_text()
    page.get_by_label("Show GraphiQL Explorer").click()
    page.locator(".graphiql-plugin").get_by_text("experiments", exact=True).wait_for(
        timeout=TIMEOUT_MS
    )
    type_into(
        page,
        QUERY_EDITOR,
        "query Names { experiments(first: 10, orderBy: {field: NAME, direction: ASC}) "
        "{ totalCount edges { node { name kind } } } }",
    )
    run(page)
    text = wait_for_result(page, '"totalCount": 2', '"browser-alpha"', '"browser-beta"')
    assert '"EVALUATION"' in text and "errors" not in text
    traffic.assert_same_origin()


def test_a_subscription_in_graphiql_shows_an_event_live(servers, open_graphiql):
    server, _ = servers
    experiment = make_experiment(server, "browser-live")
    page, traffic = open_graphiql(server)
    type_into(
        page,
        QUERY_EDITOR,
        f'subscription Live {{ executionUpdates(experimentId: "{experiment}") '
        "{ experimentId state config { enabled } } }",
    )
    run(page)
    # The first event (the state now) shows once the subscription listens for changes.
    wait_for_result(page, '"executionUpdates"', '"enabled": true')
    assert [socket.url for socket in traffic.sockets] == [server.url.replace("http", "ws", 1)]
    server.gql(
        "mutation($e: ID!) { toggleExecution(input: {experimentId: $e, enabled: false}) "
        "{ executionConfig { state } } }",
        {"e": experiment},
    )
    text = wait_for_result(page, '"executionUpdates"', '"STOPPED"', '"enabled": false')
    assert experiment in text
    traffic.assert_same_origin()


def test_the_headers_editor_carries_an_api_key(servers, open_graphiql):
    _, server = servers
    token = server.gql(
        'mutation($p: String!) { login(input: {username: "admin", password: $p}) { token } }',
        {"p": PASSWORD},
    )["login"]["token"]
    make_experiment(server, "browser-secret", token=token)
    key = server.gql(
        'mutation { createApiKey(input: {name: "graphiql", scopes: [READ]}) { key } }',
        token=token,
    )["createApiKey"]["key"]
    page, traffic = open_graphiql(server)  # the page and its files need no credential
    query = "query Secret { experiments(first: 5) { totalCount edges { node { name } } } }"
    type_into(page, QUERY_EDITOR, query)
    run(page)
    wait_for_result(page, '"UNAUTHENTICATED"')
    page.get_by_role("button", name="Headers", exact=True).click()
    type_into(page, TOOL_EDITOR, json.dumps({"Authorization": f"Bearer {key}"}))
    run(page)
    text = wait_for_result(page, '"totalCount": 1', '"browser-secret"')
    assert "UNAUTHENTICATED" not in text
    traffic.assert_same_origin()
