"""A query reads through one session (one pooled connection) for the whole
request on PostgreSQL, without the hazards of sharing: no stale rows after a
write, no poisoned transaction after a failed statement, no pool deadlock."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select, text, update

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.catalog.models import Tag
from tests.helpers import create_experiment, create_tag, tag_experiment

LIST = """{ experiments(first: 20) { totalCount edges { node { name
  createdBy { username } tags { edges { node { name } } } } } } }"""


def _count_checkouts(db: Database) -> list[int]:
    checkouts = [0]

    def on_checkout(*_: Any) -> None:
        checkouts[0] += 1

    event.listen(db.engine.sync_engine.pool, "checkout", on_checkout)
    return checkouts


@pytest.mark.parametrize("dialect", ["postgresql"])
@pytest.mark.executor
async def test_a_query_checks_out_one_connection_for_all_its_loaders(db, gql, statements):
    for n in range(3):
        experiment = await create_experiment(gql, f"exp {n}")
        tag = await create_tag(gql, f"tag {n}")
        await tag_experiment(gql, experiment["id"], tag["id"])
    checkouts = _count_checkouts(db)
    statements.reset()
    data = await gql.data(LIST)
    assert [len(e["node"]["tags"]["edges"]) for e in data["experiments"]["edges"]] == [1, 1, 1]
    assert statements.count == 3  # page, count, tags (no creator: a local admin made them)...
    assert checkouts[0] == 1  # ...one connection


async def test_reads_after_a_write_in_the_same_request_scope_are_fresh(db):
    scoped = db.for_request()
    scoped.share_reads()
    async with db.transaction() as session:
        session.add(Tag(name="before", slug="before"))
    async with scoped.read() as session:
        tag = (await session.scalars(select(Tag))).one()
        assert tag.name == "before"
    async with db.transaction() as session:
        await session.execute(update(Tag).values(name="after"))
    async with scoped.read() as session:
        assert (await session.scalars(select(Tag))).one().name == "after"
    assert tag.name == "before"  # the earlier object is detached, not refreshed behind a reader
    await scoped.end_request()


async def test_a_failed_statement_does_not_poison_the_requests_later_reads(db):
    scoped = db.for_request()
    scoped.share_reads()
    with pytest.raises(Exception, match=r"no_such_table|no such table"):
        async with scoped.read() as session:
            await session.execute(text("SELECT * FROM no_such_table"))
    async with scoped.read() as session:
        assert (await session.execute(text("SELECT 41 + 1"))).scalar_one() == 42
    await scoped.end_request()


async def test_concurrent_queries_and_mutations_on_a_one_connection_pool(database_url):
    """Each query holds its connection for the request; with one pooled
    connection the others wait their turn, and mutations (which never share)
    still get theirs: nothing deadlocks, everything answers."""
    settings = Settings(
        database_url=database_url, db_pool_size=1, db_max_overflow=0, _env_file=None
    )  # type: ignore[call-arg]
    db = Database(settings)
    app = create_app(settings, db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

        async def post(query: str) -> dict[str, Any]:
            response = await http.post("/graphql", json={"query": query})
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            assert not body.get("errors"), body
            return body

        mutations = [
            post(f'mutation {{ createTag(input: {{name: "t{n}"}}) {{ tag {{ id name }} }} }}')
            for n in range(10)
        ]
        queries = [post(LIST) for _ in range(30)]
        results = await asyncio.wait_for(asyncio.gather(*mutations, *queries), timeout=60)
    await db.dispose()
    assert len(results) == 40
    assert {r["data"]["createTag"]["tag"]["name"] for r in results[:10]} == {
        f"t{n}" for n in range(10)
    }


@pytest.mark.parametrize("dialect", ["postgresql"])
async def test_reads_hold_no_transaction_open(db):
    """A read session runs each statement on its own (autocommit): no BEGIN or
    ROLLBACK round trips, and no transaction held open between statements."""
    scoped = db.for_request()
    scoped.share_reads(True)
    try:
        async with scoped.read() as session:
            first = await session.scalar(text("SELECT now()"))
            await asyncio.sleep(0.01)
            second = await session.scalar(text("SELECT now()"))
            assert await session.scalar(text("SELECT txid_current_if_assigned()")) is None
    finally:
        await scoped.end_request()
    assert second > first  # now() is the start of each statement's own transaction


@pytest.mark.parametrize("dialect", ["postgresql"])
async def test_pooled_connections_the_server_closed_are_replaced(db, gql):
    """Without a pre-ping round trip, a request after the server has closed every
    pooled connection (as a restart does) still succeeds, on new connections."""
    import asyncpg
    from sqlalchemy.engine import make_url

    assert not db.settings.db_pre_ping
    await create_experiment(gql, "before")
    first = await gql.data(LIST)
    assert db.engine.sync_engine.pool.checkedin() >= 1
    url = make_url(db.settings.database_url).set(drivername="postgresql")
    outsider = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        closed = await outsider.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await outsider.close()
    assert closed and all(row[0] for row in closed)
    await asyncio.sleep(0.1)  # the close reaches the pooled connections' sockets
    assert await gql.data(LIST) == first
    await create_experiment(gql, "after")  # writes too
    assert (await gql.data(LIST))["experiments"]["totalCount"] == 2
