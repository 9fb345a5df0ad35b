"""Claimable work: the one claims mechanism (DESIGN.md "Claimable work").

A claimable row has a holder (who holds it), ``claimed_at`` (the last claim or
heartbeat, from the database clock) and a fencing token (one more with every
claim). A table declares it once::

    JOBS = Claimable(jobs, ready=lambda: jobs.c.finished_at.is_(None), order_by=("id",))

and every transition is one guarded ``UPDATE ... RETURNING`` with all its rules
in the WHERE clause and the database's clock:

- ``claim`` / ``claim_next``: the row is ready (the table's own condition) and
  unheld or its hold is stale (``claimed_at`` older than ``stale_seconds``: an
  orphan is taken over). ``claim_next`` takes the first ready row in
  ``order_by``; on PostgreSQL its candidate is locked ``FOR UPDATE SKIP LOCKED``
  so concurrent claimers pass over each other's rows instead of queueing; on
  SQLite the write lock serialises claims.
- ``heartbeat`` / ``hold`` / ``release``: only the current holder, the pair
  (holder, fencing token), plus the table's ``held`` condition. A worker whose
  claim was taken over can refresh, write and release nothing.

A transition that matches no row returns None; ``why_lost`` / ``why_held`` say
why from the row, with the generic reasons (``extensions.reason``):
UNKNOWN_TOKEN, RELEASED, TAKEN_OVER, STALE_TOKEN (a lost hold) and CLAIMED
(another holder's hold is fresh). A domain adds its own rules around them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Table, and_, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from expgraph.db.types import utc_before, utcnow
from expgraph.errors import Conflict, ExpgraphError, NotFound


class ClaimColumns:
    """Mixin for a mapped class whose rows workers claim: ``claimed_at`` (the last
    claim or heartbeat, NULL when nobody holds the row) and ``fencing_token`` (one
    more with every claim). The holder column is the table's own (its name goes
    to ``Claimable(holder=...)``)."""

    claimed_at: Mapped[datetime | None]
    fencing_token: Mapped[int] = mapped_column(BigInteger, default=0)


@dataclass(frozen=True)
class Holder:
    """Who claims to hold a row: the holder's id and the fencing token its claim got."""

    worker_id: str
    fencing_token: int


def is_fresh(claimed_at: datetime | None, now: datetime, stale_seconds: int) -> bool:
    """Whether a hold last refreshed at ``claimed_at`` is still fresh at ``now``
    (read from the database clock): the same boundary as the SQL guards."""
    return claimed_at is not None and now - claimed_at <= timedelta(seconds=stale_seconds)


@dataclass(frozen=True)
class Claimable:
    """A table whose rows workers claim.

    ``table``: a mapped class or a ``Table``; the other names are its attributes
    (columns). ``ready``: the row's own condition for being claimable (besides
    having no fresh holder), e.g. "not finished". ``held``: an extra condition
    a hold keeps only while true (e.g. "enabled"). ``order_by``: claim-next's
    order. ``noun``: how messages name a row ("this experiment").
    """

    table: Any
    key: str = "id"
    holder: str = "claimed_by"
    claimed_at: str = "claimed_at"
    fencing_token: str = "fencing_token"
    ready: Callable[[], ColumnElement[bool]] | None = None
    held: Callable[[], ColumnElement[bool]] | None = None
    order_by: Sequence[str] = ("id",)
    noun: str = "row"
    _mapped: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_mapped", not isinstance(self.table, Table))

    def column(self, name: str) -> Any:
        return getattr(self.table, name) if self._mapped else self.table.c[name]

    # -- conditions ---------------------------------------------------------

    def stale(self, stale_seconds: int) -> ColumnElement[bool]:
        """The hold is older than ``stale_seconds`` by the database clock."""
        return self.column(self.claimed_at) < utc_before(stale_seconds)

    def free(self, stale_seconds: int) -> ColumnElement[bool]:
        """Nobody holds the row, or its hold is stale (an orphan)."""
        return or_(self.column(self.claimed_at).is_(None), self.stale(stale_seconds))

    def claimable(self, stale_seconds: int) -> ColumnElement[bool]:
        ready = self.ready() if self.ready is not None else true()
        return and_(self.free(stale_seconds), ready)

    def held_by(self, holder: Holder) -> ColumnElement[bool]:
        held = self.held() if self.held is not None else true()
        return and_(
            self.column(self.holder) == holder.worker_id,
            self.column(self.fencing_token) == holder.fencing_token,
            self.column(self.claimed_at).is_not(None),
            held,
        )

    def released(self) -> dict[str, Any]:
        """The values that clear a hold (for domain transitions that drop it)."""
        return {self.claimed_at: None, self.holder: None}

    # -- transitions --------------------------------------------------------

    async def _one(self, session: AsyncSession, stmt: Any) -> Any:
        # populate_existing: a row this session already loaded comes back with the
        # values just written, not the ones it had when loaded.
        stmt = stmt.returning(self.table).execution_options(
            synchronize_session=False, populate_existing=True
        )
        if self._mapped:
            return (await session.scalars(stmt)).first()
        return (await session.execute(stmt)).first()

    def _claim_values(self, holder_id: str, values: dict[str, Any]) -> dict[str, Any]:
        return {
            self.claimed_at: utcnow(),
            self.holder: holder_id,
            self.fencing_token: self.column(self.fencing_token) + 1,
            **values,
        }

    async def claim(
        self, session: AsyncSession, key: Any, holder_id: str, stale_seconds: int, **values: Any
    ) -> Any:
        """Claim one row (taking over a stale hold); None when it is not claimable."""
        stmt = (
            update(self.table)
            .where(self.column(self.key) == key, self.claimable(stale_seconds))
            .values(**self._claim_values(holder_id, values))
        )
        return await self._one(session, stmt)

    async def claim_next(
        self,
        session: AsyncSession,
        dialect: str,
        holder_id: str,
        stale_seconds: int,
        where: ColumnElement[bool] | None = None,
        **values: Any,
    ) -> Any:
        """Claim the first claimable row in ``order_by`` (optionally also
        matching ``where``), or None. The outer UPDATE repeats the guards."""
        guards = self.claimable(stale_seconds)
        if where is not None:
            guards = and_(guards, where)
        candidate = (
            select(self.column(self.key))
            .where(guards)
            .order_by(*(self.column(name) for name in self.order_by))
            .limit(1)
        )
        if dialect == "postgresql":
            candidate = candidate.with_for_update(skip_locked=True)
        stmt = (
            update(self.table)
            .where(self.column(self.key) == candidate.scalar_subquery(), guards)
            .values(**self._claim_values(holder_id, values))
        )
        return await self._one(session, stmt)

    async def heartbeat(
        self, session: AsyncSession, key: Any, holder: Holder, **values: Any
    ) -> Any:
        """Refresh the hold (``claimed_at`` from the database clock); None when
        ``holder`` does not hold it. On PostgreSQL the row stays locked until
        commit, so no takeover slips between this and the holder's writes."""
        stmt = (
            update(self.table)
            .where(self.column(self.key) == key, self.held_by(holder))
            .values({self.claimed_at: utcnow(), **values})
        )
        return await self._one(session, stmt)

    async def hold(self, session: AsyncSession, key: Any, holder: Holder) -> bool:
        """Heartbeat as the guard of a holder's write: True when it holds the row."""
        stmt = (
            update(self.table)
            .where(self.column(self.key) == key, self.held_by(holder))
            .values({self.claimed_at: utcnow()})
            .returning(self.column(self.key))
        )
        return (await session.execute(stmt)).first() is not None

    async def release(self, session: AsyncSession, key: Any, holder: Holder, **values: Any) -> Any:
        """Give the hold back (``values`` set with it); None when ``holder`` does not hold it."""
        stmt = (
            update(self.table)
            .where(self.column(self.key) == key, self.held_by(holder))
            .values({**self.released(), **values})
        )
        return await self._one(session, stmt)

    # -- why a transition matched nothing -------------------------------------

    def why_lost(self, row: Any, holder: Holder) -> Conflict:
        """Why ``holder`` holds no claim on ``row`` (read after a guarded write
        matched no row): UNKNOWN_TOKEN (no claim ever had this token), RELEASED
        (no one holds it now), TAKEN_OVER (another holder does), STALE_TOKEN
        (this holder holds it under a newer token)."""
        token, current = holder.fencing_token, getattr(row, self.fencing_token)
        by = getattr(row, self.holder)
        if not 1 <= token <= current:  # claims issue 1, 2, 3, ...
            return Conflict(
                f"fencingToken {token} was never issued for this {self.noun} (the latest is "
                f"{current}); claim it to get one",
                reason="UNKNOWN_TOKEN",
            )
        if getattr(row, self.claimed_at) is None:
            return Conflict(
                "the claim was already released: no worker holds it; claim it again",
                reason="RELEASED",
            )
        if by != holder.worker_id:
            return Conflict(
                f"the claim was lost: another worker ({by}) holds it now", reason="TAKEN_OVER"
            )
        return Conflict(
            f"the fencing token is stale: this worker holds the claim under fencingToken "
            f"{current} now, not {token}",
            reason="STALE_TOKEN",
        )

    def why_held(self, row: Any, stale: bool) -> Conflict | None:
        """CLAIMED when another holder's hold on ``row`` is fresh (``stale`` read
        with ``self.stale(...)`` from the database clock), else None."""
        if getattr(row, self.claimed_at) is not None and not stale:
            return Conflict(
                f"another worker ({getattr(row, self.holder)}) holds the claim and its "
                "heartbeat is recent",
                reason="CLAIMED",
            )
        return None

    async def refusal(
        self, session: AsyncSession, key: Any, holder: Holder | None, stale_seconds: int
    ) -> ExpgraphError:
        """The one read after a transition matched no row, for tables without
        rules of their own: NotFound, then ``why_lost`` (with a holder) or
        ``why_held`` (a claim), else "not claimable" (NOT_READY)."""
        row = (
            await session.execute(
                select(self.table, self.stale(stale_seconds)).where(self.column(self.key) == key)
            )
        ).first()
        if row is None:
            return NotFound(f"no such {self.noun}")
        record, stale = (row[0], row[1]) if self._mapped else (row, row[-1])
        if holder is not None:
            return self.why_lost(record, holder)
        return self.why_held(record, bool(stale)) or Conflict(
            f"this {self.noun} is not ready to be claimed", reason="NOT_READY"
        )
