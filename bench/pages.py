"""The list pages section of the benchmark (``python -m bench.run --section pages``).

One page of each list the A/B, training and notification issues added: the A/B
test list (experiments of kind AB_TEST with their variants), the NAS campaign
list and the signed-in user's notifications (unread first, then newest). Each
is answered in process on SQLite (``.bench-sqlite/pages.db``, made again every
run) by two apps on the same database, the read-query compiler on and off,
over ASGI (no sockets, no concurrency): the mean and median time per request,
whether the compiler answered the page, and the SQL statements one request
sends. Both answers must be equal.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import httpx
import orjson
from sqlalchemy import event

from bench.run import ROOT
from expgraph.db import migrate

HEADING = "## List pages, compiled and not (SQLite, in process)"
AB_TESTS = 50
VARIANTS = 3
NAS_CAMPAIGNS = 50
NOTIFICATIONS = 200
PASSWORD = "bench password 1234"

AB_PAGE = """query AbPage($after: String) {
  experiments(first: 50, after: $after, filter: {kinds: [AB_TEST]}) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id name status createdAt ... on AbTestExperiment { unitType startAt
      variants { id name description position isControl config createdAt } } } } } }"""
NAS_PAGE = """query NasPage($after: String) { nasCampaigns(first: 50, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id name status searchAlgorithm numTrials maxParallel seed
    bestAccuracy createdAt completedAt dataset { id name }
    progress { running completed failed remaining } } } } }"""
NOTIFICATION_PAGE = """query NotificationPage($after: String) {
  myNotifications(first: 50, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id title body eventType isRead readAt data createdAt } } } }"""
PAGES = {
    "A/B tests (experiments, AB_TEST, variants)": AB_PAGE,
    "NAS campaigns": NAS_PAGE,
    "myNotifications": NOTIFICATION_PAGE,
}

LOGIN = """mutation($u: String, $p: String!) { login(input: {username: $u, password: $p}) {
  token } }"""
CREATE_EXPERIMENT = """mutation($input: CreateExperimentInput!) {
  createExperiment(input: $input) { experiment { id } } }"""
CREATE_VARIANT = """mutation($input: CreateVariantInput!) {
  createVariant(input: $input) { variant { id } } }"""
CREATE_DATASET = "mutation($n: String!) { createDataset(input: {name: $n}) { dataset { id } } }"
CREATE_NAS = """mutation($input: CreateNasCampaignInput!) {
  createNasCampaign(input: $input) { campaign { id } } }"""
SPACE = {
    "decisions": [{"name": "optimizer", "choices": ["adam", "sgd"]}],
    "layers": {"minCount": 1, "maxCount": 4, "decisions": [{"name": "width", "choices": [16, 32]}]},
}


async def _data(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"{query[:60]}...: {body['errors']}")
    return body["data"]


async def _fill(db: Any, client: httpx.AsyncClient) -> None:
    """A/B tests with their variants, NAS campaigns, and notifications of the
    signed-in user (every fourth one read)."""
    from sqlalchemy import select

    from expgraph.db.types import utcnow
    from expgraph.domains.accounts.models import User
    from expgraph.domains.notifications.models import Notification

    for i in range(AB_TESTS):
        made = await _data(
            client,
            CREATE_EXPERIMENT,
            {"input": {"kind": "AB_TEST", "name": f"ab {i:03d}", "abTest": {"unitType": "USER"}}},
        )
        experiment_id = made["createExperiment"]["experiment"]["id"]
        for v in range(VARIANTS):
            variant = {"experimentId": experiment_id, "name": f"v{v}", "allocation": "0.3"}
            await _data(client, CREATE_VARIANT, {"input": variant})
    dataset = await _data(client, CREATE_DATASET, {"n": "pages"})
    for i in range(NAS_CAMPAIGNS):
        campaign = {
            "name": f"nas {i:03d}",
            "datasetId": dataset["createDataset"]["dataset"]["id"],
            "searchSpace": SPACE,
            "numTrials": 10,
            "maxParallel": 2,
            "maxEpochsPerTrial": 5,
        }
        await _data(client, CREATE_NAS, {"input": campaign})
    async with db.transaction() as session:
        user_id = (await session.scalars(select(User.id).where(User.username == "bench"))).one()
        for i in range(NOTIFICATIONS):
            session.add(
                Notification(
                    user_id=user_id,
                    event_type="experiment_completed",
                    title=f"Experiment {i} completed",
                    body="Its status went from running.",
                    data={"experiment_id": i, "name": f"e{i}"},
                    read_at=utcnow() if i % 4 == 0 else None,
                )
            )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from expgraph.app import create_app
    from expgraph.config import Settings
    from expgraph.db.engine import Database
    from expgraph.domains.accounts import service as accounts_service
    from expgraph.domains.accounts.models import UserRole
    from expgraph.graphql.compiled import execution as compiled_execution

    path = ROOT / ".bench-sqlite" / "pages.db"
    path.parent.mkdir(exist_ok=True)
    for stale in path.parent.glob("pages.db*"):
        stale.unlink()
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url)
    base = Settings(
        database_url=url,
        auth_enabled=True,
        request_log_enabled=False,
        delivery_enabled=False,
        log_level="warning",
    )
    db = Database(base)
    async with db.transaction() as session:
        await accounts_service.create_user(
            session,
            username="bench",
            email="bench@example.com",
            role=UserRole.ADMIN,
            password=PASSWORD,
        )
    sent: list[str] = []

    def on_execute(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.append(statement)

    apps = {
        mode: create_app(base.model_copy(update={"compile_queries": on}), db=db)
        for mode, on in (("compiled", True), ("executor", False))
    }
    clients = {
        mode: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
        for mode, app in apps.items()
    }
    results: dict[str, Any] = {}
    try:
        token = (await _data(clients["executor"], LOGIN, {"u": "bench", "p": PASSWORD}))["login"][
            "token"
        ]
        for client in clients.values():
            client.headers["authorization"] = f"Bearer {token}"
        await _fill(db, clients["executor"])
        event.listen(db.engine.sync_engine, "before_cursor_execute", on_execute)
        for name, query in PAGES.items():
            row: dict[str, Any] = {}
            answers = []
            for mode, client in clients.items():
                payload = {"query": query, "variables": {}}
                before = compiled_execution.answered
                sent.clear()
                answer = (await client.post("/graphql", json=payload)).content
                row[f"{mode}_statements"] = len(sent)
                row[f"{mode}_answered"] = compiled_execution.answered > before
                answers.append(orjson.dumps(orjson.loads(answer)))
                for _ in range(5):
                    await client.post("/graphql", json=payload)
                times = []
                for _ in range(args.page_requests):
                    started = time.perf_counter()
                    await client.post("/graphql", json=payload)
                    times.append((time.perf_counter() - started) * 1000)
                row[f"{mode}_mean"] = statistics.fmean(times)
                row[f"{mode}_p50"] = statistics.median(times)
            row["same"] = answers[0] == answers[1]
            row["errors"] = b'"errors"' in answers[0]
            results[name] = row
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", on_execute)
        for client in clients.values():
            await client.aclose()
        await db.dispose()
    return results


def render(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    lines = [
        HEADING,
        "",
        "Written by `python -m bench.run --section pages` (bench/pages.py). SQLite, in process",
        "over ASGI, one request at a time, two apps on the same database with the read-query",
        f"compiler on and off; {args.page_requests} requests per page and mode after 5 warm-up",
        f"requests; a signed-in admin (a session: one more statement per request). Data: {AB_TESTS}",
        f"A/B tests of {VARIANTS} variants, {NAS_CAMPAIGNS} NAS campaigns, {NOTIFICATIONS} "
        "notifications (a quarter read); pages of 50.",
        "",
        "| page | compiled | statements (compiled / executor) | compiled ms mean / p50 | "
        "executor ms mean / p50 | speed-up | same answer |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, row in result.items():
        lines.append(
            f"| {name} | {'yes' if row['compiled_answered'] else 'no (executor)'} | "
            f"{row['compiled_statements']} / {row['executor_statements']} | "
            f"{row['compiled_mean']:.1f} / {row['compiled_p50']:.1f} | "
            f"{row['executor_mean']:.1f} / {row['executor_p50']:.1f} | "
            f"{row['executor_mean'] / row['compiled_mean']:.2f}x | "
            f"{'yes' if row['same'] and not row['errors'] else 'NO'} |"
        )
    lines.append("")
    return lines
