"""Broker.publish_in (db/notify.py) on both databases: a message sent as part of a
write transaction is heard by subscribers when that transaction commits, never
when it rolls back (what assignUnit(s) and recordEvents use to announce new
assignments to abTestUpdates without a transaction of their own)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

CHANNEL = "notify_in_transaction_test"


class Boom(Exception):
    pass


async def test_heard_at_commit_and_never_after_a_rollback(app, db):
    broker = app.state.broker
    async with broker.subscribe(CHANNEL) as queue:
        with pytest.raises(Boom):
            async with db.transaction() as session:
                await broker.publish_in(session, CHANNEL, "rolled-back")
                raise Boom
        async with db.transaction() as session:
            await broker.publish_in(session, CHANNEL, "first")
            await broker.publish_in(session, CHANNEL, "second")
            await session.execute(select(1))
            await asyncio.sleep(0.1)
            assert queue.empty()  # nothing before the commit
        heard = [await asyncio.wait_for(queue.get(), 10) for _ in range(2)]
        assert heard == ["first", "second"]
        # the same session machinery again: a later transaction sends only its own
        async with db.transaction() as session:
            await broker.publish_in(session, CHANNEL, "third")
        assert await asyncio.wait_for(queue.get(), 10) == "third"
        await asyncio.sleep(0.3)
        assert queue.empty()  # the rolled-back message never arrives, nothing twice
