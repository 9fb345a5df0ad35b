"""The A/B, training and notification list pages compile (issue 18): each page
below is answered by the read-query compiler (its counter grows) in one SQL
statement, and its answer is the executor's (the ``gql`` fixture and signed-in
``Caller``s post every compiled query again to a reference app with
compilation off and compare the bodies: conftest's ``Reference``). A stored
value the Python resolver refuses makes the compiler hand the field to the
executor, which answers its error."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text, update

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import EventType, emit
from expgraph.domains.abtest import models as abtest_models
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service as accounts_service
from expgraph.domains.notifications import deliver
from expgraph.graphql.compiled import execution as compiled_execution
from expgraph.graphql.relay import decode_id
from tests.auth_helpers import PASSWORD, Caller
from tests.conftest import GraphQLClient, StatementCounter


async def compiled_once(
    gql: GraphQLClient,
    statements: StatementCounter,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    table: str | None = None,
) -> dict[str, Any]:
    """The data of ``query``, which must be answered compiled, in one statement
    (of those reading ``table``, when given: a signed-in caller's request also
    reads its session), and without errors. ``gql`` compares the answer with the
    executor's (its reference app) since the compiler answered it."""
    assert gql.reference is not None  # the answer is compared with the executor's
    before = compiled_execution.answered
    statements.reset()
    body = await gql.post(query, variables)
    sent = statements.sql
    if table is not None:
        sent = [sql for sql in sent if re.search(rf"\b{table}\b", sql)]
    assert not body.get("errors"), body
    assert compiled_execution.answered == before + 1, "not answered by the compiler"
    assert len(sent) == 1, sent
    data: dict[str, Any] = body["data"]
    return data


# --- training: NAS campaigns, dataset jobs -------------------------------------------

NAS_PAGE = """query($after: String) { nasCampaigns(first: 10, after: $after) {
  totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  edges { cursor node { __typename id name status searchAlgorithm numTrials maxParallel
    maxEpochsPerTrial seed bestAccuracy completedAt createdAt dataset { id name }
    bestTrial { id trialNumber } progress { __typename running completed failed remaining }
    trials(first: 3) { totalCount edges { node { trialNumber status architectureHash } } }
  } } } }"""


async def test_the_nas_campaign_list_page_compiles(
    gql: GraphQLClient, db: Database, statements: StatementCounter
) -> None:
    from tests.test_training_nas import campaign, claim, finish

    first = await campaign(gql, "first")
    await campaign(gql, "second", searchAlgorithm="REGULARIZED_EVOLUTION")
    trial = await claim(gql, first["id"], "w1")
    assert trial is not None
    await finish(gql, trial, "w1", validationAccuracy=0.75, flops="10", numParameters=5)
    assert await claim(gql, first["id"], "w2") is not None  # running

    data = await compiled_once(gql, statements, NAS_PAGE)
    page = data["nasCampaigns"]
    nodes = {e["node"]["name"]: e["node"] for e in page["edges"]}
    assert page["totalCount"] == 2
    assert (nodes["first"]["status"], nodes["first"]["searchAlgorithm"]) == ("RUNNING", "RANDOM")
    assert nodes["second"]["searchAlgorithm"] == "REGULARIZED_EVOLUTION"
    assert nodes["first"]["bestTrial"]["trialNumber"] == trial["trialNumber"]
    progress = {k: v for k, v in nodes["first"]["progress"].items() if k != "__typename"}
    assert progress == {"running": 1, "completed": 1, "failed": 0, "remaining": 8}
    assert nodes["first"]["trials"]["totalCount"] == 2
    assert nodes["second"]["progress"]["remaining"] == 10
    after = page["edges"][0]["cursor"]
    data = await compiled_once(gql, statements, NAS_PAGE, {"after": after})
    assert [e["node"]["name"] for e in data["nasCampaigns"]["edges"]] == [
        e["node"]["name"] for e in page["edges"][1:]
    ]

    # A status no member has: the executor answers (its error), not the compiler.
    async with db.transaction() as session:
        await session.execute(text("UPDATE nas_campaigns SET status = 'bogus'"))
    before = compiled_execution.answered
    body = await gql.post(NAS_PAGE)
    assert body.get("errors") and compiled_execution.answered == before, body


def _job_page(root: str, own: str) -> str:
    return f"""query($after: String, $statuses: [DatasetJobStatus!]) {{
  {root}(first: 10, after: $after, filter: {{statuses: $statuses}}) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ __typename id name kind status progress workerId fencingToken
      claimedAt numSignals outputPath durationSeconds errorMessage finishedAt createdAt
      updatedAt config {own} dataset {{ id name }} }} }} }} }}"""


GENERATIONS = _job_page("datasetGenerations", "numFaults")
IMPORTS = _job_page("datasetImports", "numFiles")


async def test_the_dataset_job_list_pages_compile(
    gql: GraphQLClient, statements: StatementCounter
) -> None:
    from tests.helpers import create_dataset
    from tests.test_dataset_jobs import claim, make

    dataset_id, _ = await create_dataset(gql, "target")
    await make(gql, "gen 1")
    await make(gql, "gen 2", config={"n": 3}, datasetId=dataset_id)
    await make(gql, "imp 1", "IMPORT")
    claimed = await claim(gql, "w1", "GENERATION")
    assert claimed is not None

    generations = (await compiled_once(gql, statements, GENERATIONS))["datasetGenerations"]
    assert generations["totalCount"] == 2
    assert {e["node"]["kind"] for e in generations["edges"]} == {"GENERATION"}
    assert sorted(e["node"]["status"] for e in generations["edges"]) == ["PENDING", "RUNNING"]
    running = await compiled_once(gql, statements, GENERATIONS, {"statuses": ["RUNNING"]})
    assert [e["node"]["workerId"] for e in running["datasetGenerations"]["edges"]] == ["w1"]
    cursor = generations["edges"][0]["cursor"]
    await compiled_once(gql, statements, GENERATIONS, {"after": cursor})

    imports = (await compiled_once(gql, statements, IMPORTS))["datasetImports"]
    assert [(e["node"]["kind"], e["node"]["status"]) for e in imports["edges"]] == [
        ("IMPORT", "PENDING")
    ]


# --- A/B: the active tests and their metrics -----------------------------------------

ACTIVE = """{ activeAbTests(first: 10) { totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { __typename id name variantCount
    experiment { __typename id name status } } } } }"""
METRICS = """query($f: ExperimentMetricFilter) { experimentMetrics(first: 10, filter: $f) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { __typename id experimentName variantName metricName bucketType
    bucketStart count variant { id name } } } } }"""
STATUS = """mutation($id: ID!, $status: ExperimentStatus!) {
  updateExperiment(input: {id: $id, status: $status}) { experiment { id } } }"""


async def test_the_ab_test_lists_compile(
    gql: GraphQLClient, db: Database, statements: StatementCounter
) -> None:
    from tests.test_abtest_variants import ab_test, variant

    running = await ab_test(gql, "served")
    a = await variant(gql, running, "a", allocation="0.3")
    b = await variant(gql, running, "b", allocation="0.2")
    await ab_test(gql, "not running")
    await gql.data(STATUS, {"id": running, "status": "RUNNING"})
    async with db.transaction() as session:
        for v, metric, bucket in ((a, "revenue", "DAILY"), (b, "clicks", "HOURLY")):
            session.add(
                abtest_models.MetricAggregate(
                    experiment_id=decode_id(running)[1],
                    variant_id=decode_id(v["id"])[1],
                    metric_name=metric,
                    bucket_type=abtest_models.BucketType[bucket],
                    bucket_start=datetime(2026, 1, 2, tzinfo=UTC),
                    count=4,
                    mean=Decimal("1.125"),
                )
            )

    active = (await compiled_once(gql, statements, ACTIVE))["activeAbTests"]
    assert [e["node"]["variantCount"] for e in active["edges"]] == [2]
    assert active["edges"][0]["node"]["experiment"]["id"] == running
    metrics = (await compiled_once(gql, statements, METRICS))["experimentMetrics"]
    found = {(e["node"]["variant"]["name"], e["node"]["bucketType"]) for e in metrics["edges"]}
    assert found == {("a", "DAILY"), ("b", "HOURLY")}
    assert {e["node"]["count"] for e in metrics["edges"]} == {4}
    only = {"f": {"bucketType": "HOURLY", "experimentId": running}}
    hourly = (await compiled_once(gql, statements, METRICS, only))["experimentMetrics"]
    assert [e["node"]["metricName"] for e in hourly["edges"]] == ["clicks"]

    # A count beyond GraphQL's Int: the executor answers (its error), not the compiler.
    async with db.transaction() as session:
        await session.execute(
            update(abtest_models.MetricAggregate)
            .where(abtest_models.MetricAggregate.metric_name == "clicks")
            .values(count=3_000_000_000)
        )
    before = compiled_execution.answered
    body = await gql.post(METRICS, only)
    assert body.get("errors") and compiled_execution.answered == before, body


# --- notifications: the signed-in user's list ----------------------------------------

NOTIFICATIONS = """query($first: Int, $after: String, $last: Int, $before: String,
    $unread: Boolean) {
  myNotifications(first: $first, after: $after, last: $last, before: $before,
                  unreadOnly: $unread) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { __typename id title body eventType isRead readAt data createdAt } } } }"""
MARK = """mutation($ids: [ID!]) { markNotificationsRead(input: {ids: $ids}) { updated } }"""


@pytest.fixture
async def readers(
    settings: Settings, db: Database
) -> AsyncIterator[tuple[Caller, Caller, int, int]]:
    """Two signed-in users (sessions: their queries are compared) and their ids."""
    app = create_app(
        settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False}), db=db
    )
    callers, ids = [], []
    for name in ("ada", "bob"):
        async with db.transaction() as session:
            user = await accounts_service.create_user(
                session,
                username=name,
                email=f"{name}@example.com",
                role=accounts.UserRole.VIEWER,
                password=PASSWORD,
            )
            ids.append(int(user.id))
        caller = Caller(app)
        await caller.login(name)
        callers.append(caller)
    yield callers[0], callers[1], ids[0], ids[1]
    for caller in callers:
        await caller.aclose()


async def _notify(db: Database, settings: Settings, user_id: int, *names: str) -> None:
    async with db.transaction() as session:
        for name in names:
            await emit(
                session,
                EventType.EXPERIMENT_COMPLETED,
                {"experiment_id": 1, "name": name, "old_status": "running"},
                user_id=user_id,
            )
    await deliver.run_once(db, settings, {})


def _names(data: dict[str, Any]) -> list[str]:
    return [e["node"]["data"]["name"] for e in data["myNotifications"]["edges"]]


async def test_my_notifications_compiles_unread_first_then_newest(
    readers: tuple[Caller, Caller, int, int],
    db: Database,
    settings: Settings,
    statements: StatementCounter,
) -> None:
    ada, bob, ada_id, bob_id = readers
    await _notify(db, settings, ada_id, "n1", "n2", "n3", "n4", "n5")
    await _notify(db, settings, bob_id, "bob's")

    async def page(**variables: Any) -> dict[str, Any]:
        return await compiled_once(
            ada.gql, statements, NOTIFICATIONS, variables, table="notifications"
        )

    everything = await page()
    assert _names(everything) == ["n5", "n4", "n3", "n2", "n1"]
    assert everything["myNotifications"]["totalCount"] == 5
    ids = {
        e["node"]["data"]["name"]: e["node"]["id"] for e in everything["myNotifications"]["edges"]
    }
    marked = await ada.gql.data(MARK, {"ids": [ids["n4"], ids["n2"]]})
    assert marked["markNotificationsRead"]["updated"] == 2

    order = ["n5", "n3", "n1", "n4", "n2"]
    listed = await page()
    assert _names(listed) == order
    read = [e["node"]["isRead"] for e in listed["myNotifications"]["edges"]]
    assert read == [False, False, False, True, True]

    # Forward pages of two, across the unread/read boundary, then backward.
    seen, after = [], None
    while True:
        found = await page(first=2, after=after)
        seen += _names(found)
        info = found["myNotifications"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == order
    seen, before = [], None
    while True:
        found = await page(last=2, before=before)
        seen = _names(found) + seen
        info = found["myNotifications"]["pageInfo"]
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert seen == order

    unread = await page(unread=True)
    assert _names(unread) == ["n5", "n3", "n1"]
    assert unread["myNotifications"]["totalCount"] == 3
    second = await page(unread=True, first=1, after=unread["myNotifications"]["edges"][0]["cursor"])
    assert _names(second) == ["n3"]

    # Bob sees his own only, and never Ada's.
    bobs = await compiled_once(bob.gql, statements, NOTIFICATIONS, {}, table="notifications")
    assert _names(bobs) == ["bob's"] and bobs["myNotifications"]["totalCount"] == 1
