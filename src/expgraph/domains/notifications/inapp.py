"""In-app notifications: a user's list (unread first, then newest; paged by
the kernel's ``connections.paged``), the unread count, marking read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.db.types import utcnow
from expgraph.domains.notifications.models import Notification
from expgraph.graphql.pagination import SortKey
from expgraph.graphql.visibility import owned_by

N = Notification

NOTIFICATIONS_CHANNEL = "notifications"
"""Broker channel announcing each new in-app notification (sent by the deliverer
in the transaction that stores it): ``{"user": user id, "id": notification id}``."""


def _unread() -> ColumnElement[int]:
    """1 for an unread notification, 0 for a read one."""
    return case((N.read_at.is_(None), 1), else_=0)


ORDER = (SortKey("unread", descending=True, expression=_unread()), SortKey("id", descending=True))
"""Unread before read, then newest first (id descending): ``myNotifications``'
order (a computed key: cursors hold the unread flag and the id)."""


def listing(user_id: int | None, unread_only: bool) -> Select[Any]:
    """The user's notifications (none without a user), or only the unread ones."""
    stmt = select(N).where(owned_by(N.user_id, user_id))
    if unread_only:
        stmt = stmt.where(N.read_at.is_(None))
    return stmt


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
