"""Who a request is: API keys and sessions to principals, roles to permissions,
and the per-key rate limit (a counter in the database, so it holds across every
process sharing it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from expgraph.db.dialect import upsert_increment
from expgraph.db.engine import Database
from expgraph.db.types import utc_minute, utcnow
from expgraph.domains.accounts import models
from expgraph.domains.accounts.security import KEY_PREFIX, digest
from expgraph.graphql.auth import Permission, Principal

P = Permission
ROLE_PERMISSIONS: dict[models.UserRole, frozenset[Permission]] = {
    models.UserRole.ADMIN: frozenset(Permission),
    models.UserRole.MEMBER: frozenset({P.READ, P.WRITE, P.EXECUTE}),
    models.UserRole.VIEWER: frozenset({P.READ}),
}
# Touch last_used_at / last_active at most this often: reads stay reads.
TOUCH_EVERY = timedelta(minutes=1)


def key_scopes(scopes: list[str]) -> frozenset[Permission]:
    return frozenset(Permission(s) for s in scopes if s in {p.value for p in Permission})


@dataclass(frozen=True)
class Resolved:
    principal: Principal
    rate_limit: int | None = None  # per minute, for API keys


async def resolve_token(db: Database, token: str) -> Resolved | None:
    """The principal a bearer token or session cookie stands for; None when the
    token is unknown, revoked, expired, or its user is deactivated."""
    if token.startswith(KEY_PREFIX):
        return await _resolve_key(db, token)
    return await _resolve_session(db, token)


async def _resolve_key(db: Database, token: str) -> Resolved | None:
    K, U = models.ApiKey, models.User
    stmt = (
        select(K, U.role)
        .join(U, U.id == K.user_id)
        .where(
            K.key_hash == digest(token),
            K.is_active.is_(True),
            U.is_active.is_(True),
            (K.expires_at.is_(None)) | (K.expires_at > utcnow()),
        )
    )
    async with db.read() as session:
        row = (await session.execute(stmt)).first()
    if row is None:
        return None
    key, role = row
    if _stale(key.last_used_at):
        async with db.transaction() as session:
            await session.execute(update(K).where(K.id == key.id).values(last_used_at=utcnow()))
    permissions = ROLE_PERMISSIONS[role] & key_scopes(key.scopes)
    principal = Principal(user_id=key.user_id, permissions=permissions, api_key_id=key.id)
    return Resolved(principal, rate_limit=key.rate_limit)


async def _resolve_session(db: Database, token: str) -> Resolved | None:
    S, U = models.SessionLog, models.User
    stmt = (
        select(S.id, S.user_id, S.last_active, U.role)
        .join(U, U.id == S.user_id)
        .where(
            S.session_token == digest(token),
            S.is_active.is_(True),
            S.expires_at > utcnow(),
            U.is_active.is_(True),
        )
    )
    async with db.read() as session:
        row = (await session.execute(stmt)).first()
    if row is None:
        return None
    session_id, user_id, last_active, role = row
    if _stale(last_active):
        async with db.transaction() as session:
            await session.execute(update(S).where(S.id == session_id).values(last_active=utcnow()))
    return Resolved(
        Principal(user_id=user_id, permissions=ROLE_PERMISSIONS[role], session_id=session_id)
    )


def _stale(moment: datetime | None) -> bool:
    return moment is None or datetime.now(UTC) - moment > TOUCH_EVERY


async def count_request(db: Database, api_key_id: int) -> int:
    """Count one request in the key's current minute; returns the minute's total."""
    W = models.ApiRateWindow
    stmt = upsert_increment(
        db.dialect,
        W.__table__,  # type: ignore[arg-type]
        {"api_key_id": api_key_id, "window_start": utc_minute(), "request_count": 1},
        ("api_key_id", "window_start"),
        "request_count",
    ).returning(W.request_count)
    async with db.transaction() as session:
        return int((await session.execute(stmt)).scalar_one())


def seconds_to_next_minute(now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    return max(1, 60 - now.second)
