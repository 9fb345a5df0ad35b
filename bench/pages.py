"""The list pages section of the benchmark (``python -m bench.run --section pages``).

One page of each list the A/B, training and notification issues added: the A/B
test list (experiments of kind AB_TEST with their variants), the NAS campaign
list and the signed-in user's notifications (unread first, then newest). Each
is answered in process on SQLite (``.bench-sqlite/pages.db``, made again every
run) by two apps on the same database, the read-query compiler on and off,
over ASGI (no sockets, no concurrency), measured by bench/inprocess.py: the
mean and median time per request, whether the compiler answered the page, and
the SQL statements one request sends. Both answers must be equal.
"""

from __future__ import annotations

import argparse
from typing import Any

import httpx

from bench import inprocess
from bench.run import ROOT
from expgraph.db import migrate

HEADING = "## List pages, compiled and not (SQLite, in process)"
AB_TESTS = 50
VARIANTS = 3
NAS_CAMPAIGNS = 50
NOTIFICATIONS = 200
PASSWORD = "bench password 1234"
WARMUP = 5

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
    from expgraph.config import Settings
    from expgraph.db.engine import Database
    from expgraph.domains.accounts import service as accounts_service
    from expgraph.domains.accounts.models import UserRole

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
    results: dict[str, Any] = {}
    try:
        async with inprocess.two_apps(base, db) as apps:
            clients = apps.clients
            login = await _data(clients["executor"], LOGIN, {"u": "bench", "p": PASSWORD})
            for client in clients.values():
                client.headers["authorization"] = f"Bearer {login['login']['token']}"
            await _fill(db, clients["executor"])
            for name, query in PAGES.items():
                results[name] = await inprocess.compare(apps, query, {}, args.page_requests, WARMUP)
    finally:
        await db.dispose()
    return results


def render(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    return [
        HEADING,
        "",
        "Written by `python -m bench.run --section pages` (bench/pages.py, measured by",
        "bench/inprocess.py). SQLite, in process over ASGI, one request at a time, two apps on",
        "the same database with the read-query compiler on and off, interleaved;",
        f"{args.page_requests} requests per page and mode after {WARMUP} warm-up requests; a",
        f"signed-in admin (a session: one more statement per request). Data: {AB_TESTS} A/B tests",
        f"of {VARIANTS} variants, {NAS_CAMPAIGNS} NAS campaigns, {NOTIFICATIONS} "
        "notifications (a quarter read); pages of 50.",
        f"Machine load (1 / 5 / 15 min) at the end: {inprocess.load()}.",
        "",
        *inprocess.table(result),
        "",
    ]
