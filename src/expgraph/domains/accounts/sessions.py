"""Signing in and out: password check, second factor, throttling, sessions.

Every attempt, good or bad, is written to ``login_history`` (in its own
transaction, so a refused attempt is still recorded). An unknown user costs the
same password-hash time as a known one, and is throttled the same way.

Throttling is built so that an attacker cannot lock the owner out:

- Failures are counted per (account, client address) pair over the last
  ``EXPGRAPH_LOGIN_FAILURE_WINDOW_MINUTES``. Once a pair has
  ``EXPGRAPH_LOGIN_MAX_FAILURES`` of them, its next attempt is refused
  (RATE_LIMITED, ``retryAfter`` seconds) until ``base * 2^(failures - max)``
  seconds (``EXPGRAPH_LOGIN_DELAY_BASE_SECONDS``, at most
  ``EXPGRAPH_LOGIN_DELAY_MAX_SECONDS``) have passed since the pair's last failure.
- One address gets the same delay across all accounts once it has
  ``ADDRESS_FACTOR`` times as many failures (password spraying).
- Failures from other addresses never slow an account down: the right password
  from the owner's own address passes, with or without a second factor.
- While a pair or its address is delayed, an attempt that carries a second
  factor is still checked in full: the right password with a valid TOTP or backup
  code signs in (the owner behind the attacker's NAT or proxy). Anything short of
  that is answered RATE_LIMITED, whatever was wrong, and counts as a failure. The
  right password alone, without a second factor, never passes a delayed pair.
- Second-factor failures with the right password are counted per account, from
  any address: once there are ``EXPGRAPH_LOGIN_MAX_FAILURES`` of them, second
  factors for that account are delayed the same way (only someone who knows the
  password can cause this; the cure is a new password).

A failure is any unsuccessful attempt except one refused for its delay (those
are recorded as ``throttled`` and do not extend it) and one that gave the right
password and was asked for its second factor (``second_factor_required``).
Attempts still in flight count as failures, so concurrent guesses cannot outrun
the limit. The client address is the ASGI scope's client: uvicorn puts the
forwarded address there only for proxies listed in
``EXPGRAPH_FORWARDED_ALLOW_IPS``.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Update, func, or_, select, update

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.types import utc_after, utc_before, utcnow
from expgraph.domains.accounts import models, security
from expgraph.errors import BadRequest, RateLimited, Unauthenticated

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


# Refusals that are not guesses: they never extend a delay.
NOT_COUNTED = ("throttled", "second_factor_required")
SECOND_FACTOR_FAILURE = "invalid_second_factor"


def _delay(failures: int, threshold: int, settings: Settings) -> float:
    """Seconds a key must wait after its last failure (0 below the threshold)."""
    if failures < threshold:
        return 0.0
    doublings = min(failures - threshold, 40)  # the cap is reached long before
    return float(
        min(settings.login_delay_max_seconds, settings.login_delay_base_seconds * 2**doublings)
    )


@dataclass(frozen=True)
class Throttle:
    """Seconds left before an attempt may be checked normally (0: not delayed)."""

    wait: int  # the (account, address) pair or the address
    second_factor_wait: int  # the account's second factors


async def _throttle(
    db: Database, settings: Settings, identifier_hash: str, ip: str | None, attempt_id: int
) -> Throttle:
    """One statement: failures and last failure time of the pair, the address and
    the account's second factors in the window, and the database clock."""
    L = models.LoginHistory
    same_address = L.ip_address == ip if ip is not None else L.ip_address.is_(None)
    pair = (L.identifier_hash == identifier_hash) & same_address
    factor = (L.identifier_hash == identifier_hash) & (L.failure_reason == SECOND_FACTOR_FAILURE)
    stmt = select(
        func.count().filter(pair),
        func.max(L.timestamp).filter(pair),
        func.count().filter(same_address),
        func.max(L.timestamp).filter(same_address),
        func.count().filter(factor),
        func.max(L.timestamp).filter(factor),
        utcnow(),
    ).where(
        L.success.is_(False),
        L.failure_reason.not_in(NOT_COUNTED),
        L.id != attempt_id,  # this attempt is recorded first, as pending
        L.timestamp > utc_before(settings.login_failure_window_minutes * 60),
        or_(L.identifier_hash == identifier_hash, same_address),
    )
    async with db.read() as session:
        row = (await session.execute(stmt)).one()
    pairs, pair_last, addresses, address_last, factors, factor_last, now = row
    limit = settings.login_max_failures

    def left(failures: int, threshold: int, last: datetime | None) -> int:
        delay = _delay(failures, threshold, settings)
        if not delay or last is None:
            return 0
        remaining = delay - (now - last).total_seconds()
        return max(0, math.ceil(remaining))

    wait = left(pairs, limit, pair_last)
    if ip is not None:
        wait = max(wait, left(addresses, limit * ADDRESS_FACTOR, address_last))
    return Throttle(wait=wait, second_factor_wait=left(factors, limit, factor_last))


def _rate_limited(wait: int) -> RateLimited:
    return RateLimited("too many failed sign-ins; try again later", retryAfter=wait)


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

    throttle = await _throttle(db, settings, identifier_hash, client.ip_address, attempt_id)
    second_factor_given = bool(totp_code or backup_code)
    if throttle.wait and not second_factor_given:
        # Refused before any password is checked: a delayed pair learns nothing.
        await _record(db, attempt_id, user_id=None, method="password", failure="throttled")
        raise _rate_limited(throttle.wait)
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
    if throttle.wait:
        # Delayed, with a second factor: checked in full, but short of the right
        # password and a valid second factor the answer is the delay, whatever
        # was wrong, and the attempt counts as a failure.
        async def delayed(reason: str) -> RateLimited:
            await _record(
                db, attempt_id, user_id=user.id if user else None, method="password", failure=reason
            )
            return _rate_limited(throttle.wait)

        if user is None or not password_ok:
            raise await delayed("invalid_credentials")
        if not user.is_active:
            raise await delayed("inactive")
        if not user.totp_enabled:
            raise await delayed("throttled_without_second_factor")
        if throttle.second_factor_wait:
            raise await delayed("second_factor_throttled")
        second = await _use_second_factor(db, user, totp_code, backup_code, client.ip_address)
        if second is None:
            raise await delayed(SECOND_FACTOR_FAILURE)
        method = second
    else:
        if user is None or not password_ok:
            raise await fail("invalid_credentials", user.id if user else None)
        if not user.is_active:
            raise await fail("inactive", user.id)
        method = "password"
        if user.totp_enabled:
            if not second_factor_given:
                raise await fail("second_factor_required", user.id, secondFactorRequired=True)
            if throttle.second_factor_wait:
                await _record(
                    db,
                    attempt_id,
                    user_id=user.id,
                    method="password",
                    failure="second_factor_throttled",
                )
                raise _rate_limited(throttle.second_factor_wait)
            second = await _use_second_factor(db, user, totp_code, backup_code, client.ip_address)
            if second is None:
                raise await fail(
                    SECOND_FACTOR_FAILURE, user.id, "backup_code" if backup_code else "totp"
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
