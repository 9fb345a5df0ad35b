"""Signing in and out: password check, second factor, throttling, sessions.

Every attempt, good or bad, is written to ``login_history`` (in its own
transaction, so a refused attempt is still recorded). Repeated failures for one
identifier or one address are throttled the same way whether or not the account
exists; an unknown user costs the same password-hash time as a known one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import Update, func, or_, select, update

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.types import utc_after, utc_before, utcnow
from expgraph.domains.accounts import models, security
from expgraph.graphql.errors import BadRequest, RateLimited, Unauthenticated

# Addresses are shared (offices, NAT), so they get more room than one identifier.
ADDRESS_FACTOR = 4


@dataclass(frozen=True)
class Client:
    ip_address: str | None
    user_agent: str | None


@dataclass(frozen=True)
class SignedIn:
    token: str
    session: models.SessionLog
    user: models.User


def _device(user_agent: str | None) -> tuple[str | None, str | None]:
    if not user_agent:
        return None, None
    ua = user_agent.lower()
    device = "mobile" if any(m in ua for m in ("mobile", "android", "iphone")) else "desktop"
    if any(b in ua for b in ("curl", "python", "httpx", "go-http", "node")):
        device = "api"
    for name in ("edg", "chrome", "firefox", "safari", "curl", "python"):
        if name in ua:
            return device, {"edg": "edge"}.get(name, name)
    return device, None


async def _begin_attempt(db: Database, client: Client, identifier_hash: str) -> int:
    """Record an attempt before anything is checked (a failure until it succeeds),
    so concurrent attempts count one another: of N at once, only as many as the
    limit allows get past ``_throttled``."""
    async with db.transaction() as session:
        attempt = models.LoginHistory(
            identifier_hash=identifier_hash,
            ip_address=client.ip_address,
            user_agent=client.user_agent,
            login_method="password",
            success=False,
            failure_reason="pending",
        )
        session.add(attempt)
        await session.flush()
        return attempt.id


def _finish_attempt(
    attempt_id: int, *, user_id: int | None, method: str, failure: str | None
) -> Update:
    L = models.LoginHistory
    return (
        update(L)
        .where(L.id == attempt_id)
        .values(
            user_id=user_id,
            login_method=method,
            success=failure is None,
            failure_reason=failure,
        )
    )


async def _record(
    db: Database,
    attempt_id: int,
    *,
    user_id: int | None,
    method: str,
    failure: str | None,
) -> None:
    async with db.transaction() as session:
        await session.execute(
            _finish_attempt(attempt_id, user_id=user_id, method=method, failure=failure)
        )


async def _throttled(
    db: Database, settings: Settings, identifier_hash: str, ip: str | None
) -> bool:
    L = models.LoginHistory
    since = utc_before(settings.login_failure_window_minutes * 60)
    failures = func.count().filter(L.identifier_hash == identifier_hash)
    stmt = select(failures, func.count().filter(L.ip_address == ip) if ip else func.count()).where(
        L.success.is_(False),
        L.timestamp > since,
        or_(L.identifier_hash == identifier_hash, L.ip_address == ip),
    )
    async with db.read() as session:
        by_identifier, by_address = (await session.execute(stmt)).one()
    # Both counts include this attempt itself (recorded first, as a failure).
    limit = settings.login_max_failures
    return by_identifier > limit or (ip is not None and by_address > limit * ADDRESS_FACTOR)


async def _use_second_factor(
    db: Database, user: models.User, totp_code: str | None, backup_code: str | None, ip: str | None
) -> str | None:
    """The login method that passed ('totp' or 'backup_code'), or None. Each code
    works once: the check and the consumption are one conditional UPDATE."""
    U, B = models.User, models.BackupCode
    async with db.transaction() as session:
        if totp_code and user.totp_secret:
            step = security.totp_step_for(
                user.totp_secret, totp_code, after_step=user.totp_last_step
            )
            if step is None:
                return None
            used = await session.execute(
                update(U)
                .where(U.id == user.id, or_(U.totp_last_step.is_(None), U.totp_last_step < step))
                .values(totp_last_step=step)
                .returning(U.id)
            )
            return "totp" if used.first() else None
        if backup_code:
            code_hash = security.digest(security.normalize_backup_code(backup_code))
            used = await session.execute(
                update(B)
                .where(B.user_id == user.id, B.code_hash == code_hash, B.is_used.is_(False))
                .values(is_used=True, used_at=utcnow(), ip_address=ip)
                .returning(B.id)
            )
            return "backup_code" if used.first() else None
    return None


async def login(
    db: Database,
    settings: Settings,
    client: Client,
    *,
    identifier: str,
    password: str,
    totp_code: str | None,
    backup_code: str | None,
) -> SignedIn:
    identifier = identifier.strip()
    if not identifier:
        raise BadRequest("give a username or an email", field="username")
    identifier_hash = security.digest(identifier.lower())
    attempt_id = await _begin_attempt(db, client, identifier_hash)

    async def fail(
        reason: str, user_id: int | None, method: str = "password", **extra: object
    ) -> Unauthenticated:
        await _record(db, attempt_id, user_id=user_id, method=method, failure=reason)
        return Unauthenticated(
            "invalid credentials" if not extra else "a second factor is needed", **extra
        )

    if await _throttled(db, settings, identifier_hash, client.ip_address):
        await _record(db, attempt_id, user_id=None, method="password", failure="throttled")
        raise RateLimited(
            "too many failed sign-ins; try again later",
            retryAfter=settings.login_failure_window_minutes * 60,
        )
    U = models.User
    async with db.read() as session:
        user = (
            await session.scalars(
                select(U).where(or_(U.username == identifier, U.email == identifier.lower()))
            )
        ).first()
    password_ok = await asyncio.to_thread(
        security.verify_password, user.password_hash if user else None, password
    )
    if user is None or not password_ok:
        raise await fail("invalid_credentials", user.id if user else None)
    if not user.is_active:
        raise await fail("inactive", user.id)
    method = "password"
    if user.totp_enabled:
        if not totp_code and not backup_code:
            raise await fail("second_factor_required", user.id, secondFactorRequired=True)
        second = await _use_second_factor(db, user, totp_code, backup_code, client.ip_address)
        if second is None:
            raise await fail(
                "invalid_second_factor", user.id, "backup_code" if backup_code else "totp"
            )
        method = second
    token = security.new_session_token()
    device, browser = _device(client.user_agent)
    async with db.transaction() as session:
        record = models.SessionLog(
            user_id=user.id,
            session_token=security.digest(token),
            ip_address=client.ip_address,
            user_agent=client.user_agent,
            device_type=device,
            browser=browser,
            expires_at=utc_after(settings.session_ttl_hours * 3600),
        )
        session.add(record)
        await session.execute(
            _finish_attempt(attempt_id, user_id=user.id, method=method, failure=None)
        )
        await session.flush()
        await session.refresh(record)  # expires_at comes from the database clock
    return SignedIn(token=token, session=record, user=user)


async def end_session(
    db: Database, session_id: int, *, owner_id: int | None
) -> models.SessionLog | None:
    """Log a session out; ``owner_id`` limits it to that user's sessions (None: any)."""
    S = models.SessionLog
    stmt = update(S).where(S.id == session_id, S.is_active.is_(True))
    if owner_id is not None:
        stmt = stmt.where(S.user_id == owner_id)
    async with db.transaction() as session:
        row = await session.execute(
            stmt.values(is_active=False, logged_out_at=utcnow()).returning(S.id)
        )
        if row.first() is None:
            return None
        return await session.get(S, session_id, populate_existing=True)
