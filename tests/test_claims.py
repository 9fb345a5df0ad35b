"""The kernel's one claims mechanism (expgraph.db.claims) on a table declared in
a few lines, as HPO trials, NAS trials, dataset jobs or notification deliveries
will declare theirs: claim, claim-next (16 concurrent claimers get distinct
rows), heartbeat, release, stale takeover and fencing (both dialects)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.orm import registry as orm_registry

from expgraph.config import Settings
from expgraph.db.claims import Claimable, Holder
from expgraph.db.engine import Database
from expgraph.db.types import UTCDateTime, utc_after, utc_before
from expgraph.errors import Conflict, ExpgraphError, NotFound

STALE = 60

# A throwaway claimable table, on its own metadata (not the application's).
metadata = MetaData()
jobs = Table(
    "claims_test_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("done", Integer, nullable=False, default=0),
    Column("claimed_by", String(255)),
    Column("claimed_at", UTCDateTime()),
    Column("fencing_token", BigInteger, nullable=False, default=0),
)


class JobRow:
    """The same table as a mapped class (the domains' tables are mapped)."""


orm_registry().map_imperatively(JobRow, jobs)

# ... and its declaration: ready while not done, next by id.
JOBS = Claimable(jobs, ready=lambda: jobs.c.done == 0, order_by=("id",), noun="job")


@pytest.fixture
async def jobs_db(settings: Settings) -> AsyncIterator[Database]:
    # room for 16 concurrent claimers on PostgreSQL
    database = Database(settings.model_copy(update={"db_pool_size": 20}))
    async with database.write_engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    async with database.transaction() as session:
        await session.execute(jobs.insert(), [{"id": i} for i in range(1, 21)])
    yield database
    await database.dispose()


async def _refused(database: Database, key: int, holder: Holder | None) -> ExpgraphError:
    async with database.transaction() as session:
        return await JOBS.refusal(session, key, holder, STALE)


async def _backdate(database: Database, key: int) -> None:
    """The holder stopped heartbeating two minutes ago (by the database clock)."""
    async with database.transaction() as session:
        await session.execute(
            update(jobs).where(jobs.c.id == key).values(claimed_at=utc_before(120))
        )


async def test_claim_heartbeat_release_and_fencing(jobs_db: Database) -> None:
    async with jobs_db.transaction() as session:
        row = await JOBS.claim(session, 1, "w1", STALE)
    assert (row.id, row.claimed_by, row.fencing_token) == (1, "w1", 1)
    assert row.claimed_at is not None
    first = Holder("w1", 1)

    # a fresh hold cannot be claimed by another worker
    async with jobs_db.transaction() as session:
        assert await JOBS.claim(session, 1, "w2", STALE) is None
    refused = await _refused(jobs_db, 1, None)
    assert isinstance(refused, Conflict)
    assert refused.extensions["reason"] == "CLAIMED"
    assert refused.message == "another worker (w1) holds the claim and its heartbeat is recent"

    # heartbeat moves claimed_at forward, from the database clock
    await _backdate(jobs_db, 1)
    async with jobs_db.transaction() as session:
        beat = await JOBS.heartbeat(session, 1, first)
        assert await JOBS.hold(session, 1, first)
    assert beat is not None and beat.claimed_at >= row.claimed_at
    async with jobs_db.transaction() as session:
        stale_now = await session.scalar(select(JOBS.stale(STALE)).where(jobs.c.id == 1))
    assert not stale_now

    # an unknown token is refused, and says so
    async with jobs_db.transaction() as session:
        assert await JOBS.heartbeat(session, 1, Holder("w1", 7)) is None
    unknown = await _refused(jobs_db, 1, Holder("w1", 7))
    assert unknown.extensions == {"code": "CONFLICT", "reason": "UNKNOWN_TOKEN"}
    assert unknown.message == (
        "fencingToken 7 was never issued for this job (the latest is 1); claim it to get one"
    )

    # the holder goes silent: its hold goes stale and another worker takes it over
    await _backdate(jobs_db, 1)
    async with jobs_db.transaction() as session:
        taken = await JOBS.claim(session, 1, "w2", STALE)
    assert (taken.claimed_by, taken.fencing_token) == ("w2", 2)
    # ... and the first holder can neither heartbeat, write nor release
    async with jobs_db.transaction() as session:
        assert await JOBS.heartbeat(session, 1, first) is None
        assert not await JOBS.hold(session, 1, first)
        assert await JOBS.release(session, 1, first) is None
    lost = await _refused(jobs_db, 1, first)
    assert lost.extensions["reason"] == "TAKEN_OVER"
    assert lost.message == "the claim was lost: another worker (w2) holds it now"

    # the same worker under an older token is fenced off too
    await _backdate(jobs_db, 1)
    async with jobs_db.transaction() as session:
        again = await JOBS.claim(session, 1, "w2", STALE)
    assert again.fencing_token == 3
    stale = await _refused(jobs_db, 1, Holder("w2", 2))
    assert stale.extensions["reason"] == "STALE_TOKEN"

    # release, with the table's own values set in the same statement
    async with jobs_db.transaction() as session:
        released = await JOBS.release(session, 1, Holder("w2", 3), done=1)
    assert (released.claimed_by, released.claimed_at, released.done) == (None, None, 1)
    gone = await _refused(jobs_db, 1, Holder("w2", 3))
    assert gone.extensions["reason"] == "RELEASED"
    # no longer ready (done): not claimable, and why
    async with jobs_db.transaction() as session:
        assert await JOBS.claim(session, 1, "w3", STALE) is None
    assert (await _refused(jobs_db, 1, None)).extensions["reason"] == "NOT_READY"
    assert isinstance(await _refused(jobs_db, 999, None), NotFound)


async def test_claim_next_takes_rows_in_order_and_orphans(jobs_db: Database) -> None:
    async with jobs_db.transaction() as session:
        await session.execute(update(jobs).where(jobs.c.id <= 2).values(done=1))
    claimed = []
    for worker in ("a", "b"):
        async with jobs_db.transaction() as session:
            claimed.append(await JOBS.claim_next(session, jobs_db.dialect, worker, STALE))
    assert [(r.id, r.claimed_by, r.fencing_token) for r in claimed] == [(3, "a", 1), (4, "b", 1)]
    # an orphan (stale hold) is next again, under a new token
    await _backdate(jobs_db, 3)
    async with jobs_db.transaction() as session:
        orphan = await JOBS.claim_next(session, jobs_db.dialect, "c", STALE)
    assert (orphan.id, orphan.claimed_by, orphan.fencing_token) == (3, "c", 2)
    # an extra filter narrows the candidates
    async with jobs_db.transaction() as session:
        even = await JOBS.claim_next(session, jobs_db.dialect, "d", STALE, where=jobs.c.id % 2 == 0)
    assert even.id == 6
    # nothing claimable: None
    async with jobs_db.transaction() as session:
        await session.execute(update(jobs).values(done=1))
        assert await JOBS.claim_next(session, jobs_db.dialect, "e", STALE) is None


async def test_sixteen_concurrent_claimers_get_distinct_rows(jobs_db: Database) -> None:
    started = asyncio.Event()

    async def claimer(n: int) -> int:
        await started.wait()
        async with jobs_db.transaction() as session:
            row = await JOBS.claim_next(session, jobs_db.dialect, f"w{n}", STALE)
            assert row is not None
            # hold the row lock a moment so the claimers overlap
            await asyncio.sleep(0.05)
            return int(row.id)

    tasks = [asyncio.create_task(claimer(n)) for n in range(16)]
    started.set()
    ids = await asyncio.gather(*tasks)
    assert sorted(ids) == list(range(1, 17))
    async with jobs_db.transaction() as session:
        holders = (
            await session.execute(
                select(jobs.c.id, jobs.c.claimed_by, jobs.c.fencing_token).where(
                    jobs.c.claimed_by.is_not(None)
                )
            )
        ).all()
    assert len(holders) == 16
    assert {token for _, _, token in holders} == {1}


async def test_database_clock_offsets_are_not_reused_from_the_statement_cache(
    jobs_db: Database,
) -> None:
    """utc_after/utc_before with different seconds in one process: each statement
    gets its own offset (a literal outside the cache key would repeat the first)."""
    async with jobs_db.transaction() as session:
        now = (await session.execute(select(utc_after(0)))).scalar_one()
        later = (await session.execute(select(utc_after(3600)))).scalar_one()
        earlier = (await session.execute(select(utc_before(60)))).scalar_one()
    assert 3599 <= (later - now).total_seconds() <= 3601
    assert -61 <= (earlier - now).total_seconds() <= -59


async def test_a_transition_returns_the_row_as_written_to_a_session_that_loaded_it(
    jobs_db: Database,
) -> None:
    """A mapped row the session already holds comes back from claim/release with
    the values just written (not the identity map's stale copy)."""
    mapped = Claimable(JobRow, ready=lambda: jobs.c.done == 0, noun="job")
    async with jobs_db.transaction() as session:
        loaded: Any = await session.get(JobRow, 7)
        assert loaded is not None and loaded.claimed_by is None
        claimed = await mapped.claim(session, 7, "w1", STALE)
        assert claimed is loaded and claimed.claimed_by == "w1"
        token = claimed.fencing_token
        released = await mapped.release(session, 7, Holder("w1", token))
        assert released is loaded and released.claimed_by is None
