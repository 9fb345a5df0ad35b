"""In-app notifications: a user's list (unread first, then newest; keyset
pages), the unread count, marking read.

The order is (unread before read, then id descending: newest first). A cursor
holds the row's place in it (``read``: 0 unread / 1 read, and its id); the
statement compares with that place directly, so pages stay index-driven by
``ix_notifications_user_read_id`` and a NULL ``read_at`` never enters a cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.config import Settings
from expgraph.db.types import utcnow
from expgraph.domains.notifications.models import Notification
from expgraph.graphql.pagination import PageArgs, SortKey, encode_cursor
from expgraph.graphql.visibility import owned_by

N = Notification

NOTIFICATIONS_CHANNEL = "notifications"
"""Broker channel announcing each new in-app notification (sent by the deliverer
in the transaction that stores it): ``{"user": user id, "id": notification id}``."""

# The cursor's shape (its signature names these two keys).
ORDER = (SortKey("read"), SortKey("id", descending=True))


def _read_rank() -> ColumnElement[int]:
    return case((N.read_at.is_(None), 0), else_=1)


@dataclass(frozen=True)
class _Place:
    read: int
    id: int


def cursor_of(row: Notification) -> str:
    return encode_cursor(_Place(0 if row.read_at is None else 1, row.id), ORDER)


def _after(read: int, pk: int, forward: bool) -> ColumnElement[bool]:
    """Rows after (forward) or before (backward) the place (read, pk)."""
    unread, is_read = N.read_at.is_(None), N.read_at.is_not(None)
    same = and_(unread if read == 0 else is_read, N.id < pk if forward else N.id > pk)
    if forward:
        return or_(same, is_read) if read == 0 else same
    return same if read == 0 else or_(same, unread)


def _valid(cursor: Sequence[Any]) -> tuple[int, int]:
    from expgraph.errors import BadRequest

    read, pk = cursor
    if read not in (0, 1) or isinstance(pk, bool) or not isinstance(pk, int):
        raise BadRequest("malformed cursor")
    return int(read), pk


def listing(user_id: int | None, unread_only: bool) -> Any:
    stmt = select(N).where(owned_by(N.user_id, user_id))
    if unread_only:
        stmt = stmt.where(N.read_at.is_(None))
    return stmt


@dataclass
class NotificationPage:
    rows: list[Notification]
    has_next: bool
    has_previous: bool


async def page(
    session: AsyncSession,
    settings: Settings,
    user_id: int | None,
    unread_only: bool,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> NotificationPage:
    args = PageArgs.within(settings, ORDER, first=first, after=after, last=last, before=before)
    stmt = listing(user_id, unread_only)
    if args.cursor is not None:
        stmt = stmt.where(_after(*_valid(args.cursor), forward=args.forward))
    rank = _read_rank()
    if args.forward:
        stmt = stmt.order_by(rank.asc(), N.id.desc())
    else:
        stmt = stmt.order_by(rank.desc(), N.id.asc())
    rows = list((await session.scalars(stmt.limit(args.limit + 1))).all())
    more = len(rows) > args.limit
    rows = rows[: args.limit]
    if args.forward:
        return NotificationPage(rows, has_next=more, has_previous=args.cursor is not None)
    rows.reverse()
    return NotificationPage(rows, has_next=args.cursor is not None, has_previous=more)


async def count(session: AsyncSession, user_id: int | None, unread_only: bool) -> int:
    stmt = select(func.count()).select_from(listing(user_id, unread_only).subquery())
    return int((await session.execute(stmt)).scalar_one())


async def mark_read(
    session: AsyncSession, user_id: int | None, ids: Sequence[int] | None, everything: bool
) -> int:
    """Mark the user's unread notifications read (``ids`` of them, or all): how many changed."""
    if user_id is None or (not everything and not ids):
        return 0
    stmt = update(N).where(N.user_id == user_id, N.read_at.is_(None))
    if not everything:
        stmt = stmt.where(N.id.in_(list(ids or ())))
    result = await session.execute(
        stmt.values(read_at=utcnow(), updated_at=utcnow()).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
