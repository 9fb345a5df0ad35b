"""Bounded work (issue 12, items 3, 4, 7's list limits and 9's database faults):
every list in a request has a cap the schema states and that is enforced before
any input is converted, "has all these tags" is one grouped statement, paging
incomplete runs is done by the database from the cursor, repetitions are capped
and counts that can pass 2^31 are BigInt, statements and pool waits are bounded
on PostgreSQL, and a database that is down or has dropped a connection answers
coded errors (UNAVAILABLE) or recovers, while /healthz keeps answering."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLObjectType
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from expgraph import compat
from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.direct import execute, reusable
from expgraph.db.engine import Database
from expgraph.domains.catalog import models as catalog
from expgraph.domains.execution.fields import _encode
from expgraph.domains.experiments import models as experiments
from expgraph.graphql.bounds import MAX_FILTER_BRANCHES, MAX_FILTER_DEPTH, caps_of
from expgraph.graphql.errors import Timeout, as_expected
from expgraph.graphql.relay import decode_id
from expgraph.schema import build_schema
from tests.conftest import GraphQLClient
from tests.helpers import create_dataset, create_experiment

FILTERED = """query($f: ExperimentFilter) {
  experiments(filter: $f, first: 100) { totalCount edges { node { name } } } }"""
IMPORT = """mutation($s: [SynthInput!]!) { importSynths(input: {synths: $s}) { imported } }"""
INCOMPLETE = """query($e: ID!, $first: Int!, $after: String) { node(id: $e) {
  ... on EvaluationExperiment { incompleteRuns(first: $first, after: $after) {
    items { repetitionNumber status cursor example { id } } hasNextPage endCursor } } } }"""
PROGRESS = """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
  repetitions progress { expected completed failed missing fraction } } } }"""
UPDATE = """mutation($i: UpdateExperimentInput!) { updateExperiment(input: $i) {
  experiment { ... on EvaluationExperiment { repetitions } } } }"""
RECORD = """mutation($e: ID!, $w: String!, $t: BigInt!, $runs: [RunInput!]!) {
  recordExperimentRuns(input: {experimentId: $e, workerId: $w, fencingToken: $t, runs: $runs}) {
    runs { id } } }"""
CLAIM = """mutation($e: ID) { claimExecution(input: {workerId: "w", experimentId: $e}) {
  claim { fencingToken } } }"""
LIST = "{ experiments(first: 5) { totalCount } }"

postgresql_only = pytest.mark.parametrize("dialect", ["postgresql"])


def pk(global_id: str) -> int:
    return int(decode_id(global_id)[1])


async def error_of(gql: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = await gql.post(query, variables)
    assert body.get("errors"), body
    error: dict[str, Any] = body["errors"][0]
    return error


# --- caps on lists ---------------------------------------------------------------


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def test_every_list_argument_and_input_field_has_a_stated_cap():
    """Walks the schema: a list argument or input field without a cap (or whose
    description does not say it) fails here."""
    schema = compat.graphql_schema(build_schema())
    caps = caps_of(schema)
    assert caps.undeclared == []
    lists = 0
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType) or hasattr(type_, "interfaces"):
            for field_name, field in getattr(type_, "fields", {}).items():
                for arg_name, arg in getattr(field, "args", {}).items():
                    if _is_list(arg.type):
                        lists += 1
                        cap = caps.arguments[name, field_name, arg_name]
                        assert f"At most {cap:,} items." in (arg.description or ""), (
                            name,
                            field_name,
                            arg_name,
                        )
        if isinstance(type_, GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if _is_list(field.type):
                    lists += 1
                    cap = caps.input_fields[name, field_name]
                    assert f"At most {cap:,} items." in (field.description or ""), (
                        name,
                        field_name,
                    )
                    if field_name in ("and", "or"):
                        assert cap == MAX_FILTER_BRANCHES
    assert lists > 50
    assert caps.arguments["Query", "nodes", "ids"] == 500
    assert caps.input_fields["ExperimentFilter", "tagSlugs"] == 200
    assert caps.input_fields["ImportSynthsInput", "synths"] == 5000


async def test_a_list_over_its_cap_is_refused_naming_it(gql):
    slugs = [f"tag-{i}" for i in range(201)]
    # in variables
    error = await error_of(gql, FILTERED, {"f": {"tagSlugs": slugs}})
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert error["extensions"]["field"] == "filter.tagSlugs"
    assert "at most 200" in error["message"]
    # written in the document, nested in a filter's `or`
    literal = ", ".join(f'"{s}"' for s in slugs)
    error = await error_of(
        gql,
        "{ experiments(filter: {or: [{kinds: [TRAINING]}, {tagSlugs: [" + literal + "]}]}) "
        "{ totalCount } }",
        {},
    )
    assert error["extensions"] == {"code": "BAD_REQUEST", "field": "filter.or.tagSlugs"}
    # arguments too, and a variable inside a literal list
    ids = [f"id{i}" for i in range(501)]
    error = await error_of(gql, "query($i: [ID!]!) { nodes(ids: $i) { id } }", {"i": ids})
    assert error["extensions"] == {"code": "BAD_REQUEST", "field": "ids"}
    error = await error_of(
        gql,
        "query($s: [String!]) { experiments(filter: {and: [{tagSlugs: $s}]}) { totalCount } }",
        {"s": slugs},
    )
    assert error["extensions"]["field"] == "filter.and.tagSlugs"
    # at the cap it is fine
    assert (await gql.data(FILTERED, {"f": {"tagSlugs": slugs[:200]}}))["experiments"][
        "totalCount"
    ] == 0


async def test_filters_are_bounded_in_width_and_depth(gql):
    wide = {"or": [{"kinds": ["TRAINING"]}] * (MAX_FILTER_BRANCHES + 1)}
    error = await error_of(gql, FILTERED, {"f": wide})
    assert error["extensions"] == {"code": "BAD_REQUEST", "field": "filter.or"}
    deep: dict[str, Any] = {"kinds": ["TRAINING"]}
    for _ in range(MAX_FILTER_DEPTH):
        deep = {"not": deep}
    error = await error_of(gql, FILTERED, {"f": deep})
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "nest at most" in error["message"]
    # 20 x 20 branches: more filter objects than one filter may hold
    many = {"or": [{"and": [{"kinds": ["TRAINING"]}] * 10}] * 20}
    error = await error_of(gql, FILTERED, {"f": many})
    assert error["extensions"]["code"] == "BAD_REQUEST"
    # within the bounds it runs
    await create_experiment(gql, "kept")
    ok = {"or": [{"kinds": ["TRAINING"]}, {"not": {"not": {"nameContains": "kept"}}}]}
    assert (await gql.data(FILTERED, {"f": ok}))["experiments"]["totalCount"] == 1


async def test_import_synths_of_50000_items_is_refused_before_conversion(gql, db):
    synths = [{"name": f"s{i}"} for i in range(50_000)]  # ~1 MB: within the body limit
    started = time.perf_counter()
    error = await error_of(gql, IMPORT, {"s": synths})
    elapsed = time.perf_counter() - started
    assert error["extensions"] == {"code": "BAD_REQUEST", "field": "input.synths"}
    assert "50,000 items" in error["message"] and "at most 5,000" in error["message"]
    # refused by the list's length, before 50,000 inputs are coerced or converted
    assert elapsed < 1.5, elapsed
    async with db.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM synths")) == 0


# --- tag filter: one grouped statement -----------------------------------------------


async def test_tag_filter_of_200_slugs_is_one_fast_grouped_statement(gql, db, statements):
    everything = await create_experiment(gql, "all tags")
    most = await create_experiment(gql, "all but the last")
    await create_experiment(gql, "untagged")
    async with db.transaction() as session:
        tags = [catalog.Tag(name=f"Tag {i}", slug=f"tag-{i}") for i in range(200)]
        session.add_all(tags)
        await session.flush()
        for tag in tags:
            session.add(catalog.ExperimentTag(experiment_id=pk(everything["id"]), tag_id=tag.id))
        for tag in tags[:-1]:
            session.add(catalog.ExperimentTag(experiment_id=pk(most["id"]), tag_id=tag.id))
    slugs = [f"tag-{i}" for i in range(200)]

    async def names(tag_slugs: list[str]) -> list[str]:
        data = await gql.data(FILTERED, {"f": {"tagSlugs": tag_slugs}})
        return sorted(edge["node"]["name"] for edge in data["experiments"]["edges"])

    statements.reset()
    started = time.perf_counter()
    assert await names(slugs) == ["all tags"]
    assert time.perf_counter() - started < 1.0
    listing = [sql for sql in statements.sql if "FROM experiments" in sql]
    # one grouped subquery per read of the list, whatever the number of slugs (not
    # one EXISTS per slug); a statement of the read-query compiler reads both the
    # page and the count
    assert listing and all(
        sql.count("FROM experiment_tags") == (2 if "expgraph_page" in sql else 1) for sql in listing
    ), listing
    assert not any("EXISTS" in sql.upper() for sql in listing), listing
    # duplicates count once: 100 distinct slugs sent twice over
    assert await names(slugs[:100] * 2) == ["all but the last", "all tags"]
    # a slug no tag has: no experiment has every one
    assert await names([*slugs[:199], "no-such-tag"]) == []
    assert await names([]) == ["all but the last", "all tags", "untagged"]
    # combined with other conditions and inside `not`
    data = await gql.data(FILTERED, {"f": {"not": {"tagSlugs": slugs[199:]}}})
    assert sorted(e["node"]["name"] for e in data["experiments"]["edges"]) == [
        "all but the last",
        "untagged",
    ]


# --- incomplete runs, repetitions, BigInt counts ------------------------------------------


async def evaluation(
    gql: GraphQLClient, examples: int, repetitions: int, name: str = "eval"
) -> tuple[str, list[str]]:
    dataset_id, version_id = await create_dataset(gql, f"{name}-data")
    data = await gql.data(
        """mutation($d: ID!, $v: ID!, $ex: [DatasetExampleInput!]!) {
          addDatasetExamples(input: {datasetId: $d, datasetVersionId: $v, examples: $ex}) {
            examples { id } } }""",
        {"d": dataset_id, "v": version_id, "ex": [{"input": {"i": i}} for i in range(examples)]},
    )
    example_ids = [e["id"] for e in data["addDatasetExamples"]["examples"]]
    experiment = await create_experiment(
        gql,
        name,
        "EVALUATION",
        evaluation={
            "datasetId": dataset_id,
            "datasetVersionId": version_id,
            "repetitions": repetitions,
        },
    )
    return experiment["id"], example_ids


async def test_incomplete_runs_page_in_the_database(gql):
    """5,000 examples x 1,000 repetitions (5,000,000 pairs): the first page comes
    fast, whatever the dataset's size."""
    experiment_id, example_ids = await evaluation(gql, 5000, 1000)
    started = time.perf_counter()
    page = (await gql.data(INCOMPLETE, {"e": experiment_id, "first": 1}))["node"]
    assert time.perf_counter() - started < 1.0
    runs = page["incompleteRuns"]
    assert [(i["example"]["id"], i["repetitionNumber"]) for i in runs["items"]] == [
        (example_ids[0], 1)
    ]
    assert runs["hasNextPage"] is True
    # a cursor deep inside: the last example's last repetitions
    after = _encode(pk(example_ids[-1]), 998)  # the server's own cursor format
    started = time.perf_counter()
    page = await gql.data(INCOMPLETE, {"e": experiment_id, "first": 500, "after": after})
    assert time.perf_counter() - started < 1.0
    runs = page["node"]["incompleteRuns"]
    assert [(i["example"]["id"], i["repetitionNumber"]) for i in runs["items"]] == [
        (example_ids[-1], 999),
        (example_ids[-1], 1000),
    ]
    assert runs["hasNextPage"] is False
    progress = (await gql.data(PROGRESS, {"e": experiment_id}))["node"]["progress"]
    assert progress["expected"] == "5000000" and progress["missing"] == "5000000"


async def test_incomplete_runs_pages_agree_with_the_runs_recorded(gql):
    """Every page size walks exactly the missing and failed pairs, in order."""
    experiment_id, example_ids = await evaluation(gql, 6, 3)
    await gql.data(
        """mutation($e: ID!) { createExecutionConfig(input: {experimentId: $e,
          taskConfig: {modelProvider: "echo", modelName: "echo-1"}}) { executionConfig { id } } }""",
        {"e": experiment_id},
    )
    token = (await gql.data(CLAIM, {"e": experiment_id}))["claimExecution"]["claim"]["fencingToken"]
    recorded = {
        (0, 1): None,
        (0, 2): None,
        (0, 3): None,  # example 0 complete
        (1, 2): "boom",  # failed: still to do
        (2, 1): None,
        (2, 3): None,
        (4, 1): "boom",
        (4, 2): None,
        (4, 3): None,
    }
    runs = [
        {
            "datasetExampleId": example_ids[e],
            "repetitionNumber": r,
            "output": {"ok": True},
            "error": error,
            "latencyMs": 1.0,
            "promptTokens": 1,
            "completionTokens": 1,
            "costMicros": "1",
        }
        for (e, r), error in recorded.items()
    ]
    await gql.data(RECORD, {"e": experiment_id, "w": "w", "t": token, "runs": runs})
    expected = [
        (example_ids[e], r, "FAILED" if recorded.get((e, r)) else "MISSING")
        for e in range(6)
        for r in range(1, 4)
        if (e, r) not in recorded or recorded[(e, r)] is not None
    ]
    for size in (1, 2, 3, 4, 7, 100):
        walked: list[tuple[str, int, str]] = []
        after = None
        for _ in range(len(expected) + 2):
            page = (
                await gql.data(INCOMPLETE, {"e": experiment_id, "first": size, "after": after})
            )["node"]["incompleteRuns"]
            walked += [
                (i["example"]["id"], i["repetitionNumber"], i["status"]) for i in page["items"]
            ]
            assert page["endCursor"] == (page["items"][-1]["cursor"] if page["items"] else None)
            if not page["hasNextPage"]:
                break
            after = page["endCursor"]
        assert walked == expected, size
    empty = (await gql.data(INCOMPLETE, {"e": experiment_id, "first": 0}))["node"]
    assert empty["incompleteRuns"] == {"items": [], "hasNextPage": False, "endCursor": None}


async def test_repetitions_are_capped_on_create_and_update(gql):
    experiment_id, _ = await evaluation(gql, 1, 1000)
    assert (await gql.data(PROGRESS, {"e": experiment_id}))["node"]["repetitions"] == 1000
    dataset_id, version_id = await create_dataset(gql, "other")
    body = await gql.post(
        """mutation($i: CreateExperimentInput!) { createExperiment(input: $i) {
          experiment { id } } }""",
        {
            "i": {
                "kind": "EVALUATION",
                "name": "too many",
                "evaluation": {
                    "datasetId": dataset_id,
                    "datasetVersionId": version_id,
                    "repetitions": 2**31 - 1,
                },
            }
        },
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "field": "repetitions"}
    error = await error_of(
        gql, UPDATE, {"i": {"id": experiment_id, "evaluation": {"repetitions": 1001}}}
    )
    assert error["extensions"] == {"code": "BAD_REQUEST", "field": "repetitions"}
    assert (await gql.data(PROGRESS, {"e": experiment_id}))["node"]["repetitions"] == 1000
    assert (await gql.data(UPDATE, {"i": {"id": experiment_id, "evaluation": {"repetitions": 3}}}))[
        "updateExperiment"
    ]["experiment"]["repetitions"] == 3


async def test_progress_beyond_2_to_the_31_reads_fine(gql, db):
    """A row stored before the cap (repetitions 2^31 - 1) with 3 examples."""
    experiment_id, _ = await evaluation(gql, 3, 1)
    async with db.transaction() as session:
        await session.execute(
            update(experiments.EvaluationExperiment)
            .where(experiments.EvaluationExperiment.id == pk(experiment_id))
            .values(repetitions=2**31 - 1)
        )
    progress = (await gql.data(PROGRESS, {"e": experiment_id}))["node"]["progress"]
    assert progress["expected"] == str(3 * (2**31 - 1))
    assert progress["missing"] == str(3 * (2**31 - 1))
    assert progress["completed"] == 0 and progress["fraction"] == 0.0


# --- PostgreSQL: statement timeout, pool waits ---------------------------------------


def _outsider_dsn(settings: Settings) -> str:
    return (
        make_url(settings.database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


@postgresql_only
async def test_statement_timeout_is_timeout_and_runs_once(database_url):
    settings = Settings(database_url=database_url, db_statement_timeout_ms=200, _env_file=None)  # type: ignore[call-arg]
    database = Database(settings)
    sent: list[str] = []
    from sqlalchemy import event

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        # straight on asyncpg (a reusable statement in a read session)
        sleepy = reusable(select(func.pg_sleep(2)))
        started = time.perf_counter()
        with pytest.raises(Exception) as raised:
            async with database.read() as session:
                await execute(session, sleepy, {})
        assert time.perf_counter() - started < 1.5  # cancelled once, not run again
        assert isinstance(as_expected(raised.value), Timeout)
        assert [s for s in sent if "pg_sleep" in s] and len(
            [s for s in sent if "pg_sleep" in s]
        ) == 1
        # and through SQLAlchemy
        with pytest.raises(Exception) as raised:
            async with database.read() as session:
                await session.execute(text("SELECT pg_sleep(2)"))
        assert isinstance(as_expected(raised.value), Timeout)
        # the connection is fine afterwards
        async with database.read() as session:
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await database.dispose()


@postgresql_only
async def test_a_request_blocked_past_the_statement_timeout_answers_timeout(database_url):
    """A table locked by someone else: the request's statement waits, is
    cancelled by the server and the client gets TIMEOUT, for a loader's statement
    (run straight on asyncpg) and a list's alike."""
    settings = Settings(database_url=database_url, db_statement_timeout_ms=300, _env_file=None)  # type: ignore[call-arg]
    database = Database(settings)
    app = create_app(settings, db=database)
    transport = httpx.ASGITransport(app=app)
    sent: list[str] = []
    from sqlalchemy import event

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    locker = await asyncpg.connect(_outsider_dsn(settings))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            gql = GraphQLClient(http)
            experiment = await create_experiment(gql, "locked out")
            transaction = locker.transaction()
            await transaction.start()
            await locker.execute("LOCK TABLE experiments IN ACCESS EXCLUSIVE MODE")
            for query, variables in (
                (LIST, {}),
                ("query($id: ID!) { node(id: $id) { id } }", {"id": experiment["id"]}),
            ):
                sent.clear()
                body = await gql.post(query, variables)
                assert body["errors"][0]["extensions"]["code"] == "TIMEOUT", body
                assert len(sent) == 1, sent  # cancelled once, not run (and waited) again
            await transaction.rollback()
            assert (await gql.data(LIST))["experiments"]["totalCount"] == 1
    finally:
        await locker.close()
        await database.dispose()


@pytest.fixture
def one_connection(database_url: str, tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        database_url=database_url,
        db_pool_size=1,
        db_max_overflow=0,
        db_pool_timeout_seconds=0.3,
        request_log_enabled=False,
        _env_file=None,
    )


async def test_pool_exhaustion_answers_unavailable_while_healthz_answers(one_connection):
    database = Database(one_connection)
    app = create_app(one_connection, db=database)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            gql = GraphQLClient(http)
            await gql.data(LIST)
            async with database.engine.connect() as held:  # the only connection
                await held.execute(text("SELECT 1"))
                started = time.perf_counter()
                request = asyncio.create_task(gql.post(LIST))
                health = await http.get("/healthz")
                assert health.status_code == 200 and health.json() == {"status": "ok"}
                body = await request
                assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE", body
                assert time.perf_counter() - started < 2.0
            assert (await gql.data(LIST))["experiments"]["totalCount"] == 0
    finally:
        await database.dispose()


# --- database down, terminated backends ---------------------------------------------


def _unreachable(dialect: str, tmp_path: Path) -> str:
    if dialect == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}"  # a directory, not a database file
    with __import__("socket").socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql+asyncpg://nobody:secret@127.0.0.1:{port}/expgraph"


async def test_database_down_answers_unavailable_and_readyz_503(dialect, tmp_path):
    settings = Settings(  # type: ignore[call-arg]
        database_url=_unreachable(dialect, tmp_path), request_log_enabled=False, _env_file=None
    )
    database = Database(settings)
    app = create_app(settings, db=database)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            gql = GraphQLClient(http)
            for query in (LIST, "query($id: ID!) { node(id: $id) { id } }"):
                body = await gql.post(query, {"id": "VGFnOjE"} if "node" in query else {})
                assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE", body
            body = await gql.post('mutation { createTag(input: {name: "x"}) { tag { id } } }')
            assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE", body
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await database.dispose()


@postgresql_only
async def test_the_request_after_backends_are_terminated_succeeds(gql, db, settings):
    """Right after the server terminates every backend (no pause for the close to
    reach the sockets), the next request succeeds."""
    await create_experiment(gql, "before")
    for _ in range(3):
        assert (await gql.data(LIST))["experiments"]["totalCount"] == 1
        outsider = await asyncpg.connect(_outsider_dsn(settings))
        try:
            await outsider.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await outsider.close()
        experiment = (await gql.data(LIST))["experiments"]
        assert experiment["totalCount"] == 1
        await create_experiment(gql, "after")
        await gql.data(
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": (await create_experiment(gql, "more"))["id"]},
        )
        async with db.transaction() as session:
            await session.execute(text("DELETE FROM experiments WHERE name <> 'before'"))
