"""TOTP enrollment and backup codes."""

from __future__ import annotations

from sqlalchemy import delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.accounts import models, security
from expgraph.errors import BadRequest, Conflict, NotFound

U = models.User


async def _user(session: AsyncSession, user_id: int | None) -> models.User:
    user = await session.get(U, user_id, with_for_update=True) if user_id else None
    if user is None:
        raise NotFound("this operation needs a signed-in user")
    return user


async def begin_enrollment(session: AsyncSession, user_id: int | None, issuer: str) -> str:
    """A new secret (not yet active); returns its provisioning URI, once."""
    user = await _user(session, user_id)
    if user.totp_enabled:
        raise Conflict("two-factor sign-in is already on; disable it first")
    secret = security.new_totp_secret()
    user.totp_secret, user.totp_last_step = secret, None
    await session.flush()
    return security.provisioning_uri(secret, user.email, issuer)


async def _accept_code(session: AsyncSession, user: models.User, code: str) -> None:
    if not user.totp_secret:
        raise BadRequest("start with beginTotpEnrollment")
    step = security.totp_step_for(user.totp_secret, code, after_step=user.totp_last_step)
    if step is None:
        raise BadRequest("the code is not valid (or was already used)", field="code")
    used = await session.execute(
        update(U)
        .where(U.id == user.id, or_(U.totp_last_step.is_(None), U.totp_last_step < step))
        .values(totp_last_step=step)
        .returning(U.id)
    )
    if used.first() is None:
        raise BadRequest("the code was already used", field="code")


async def confirm_enrollment(session: AsyncSession, user_id: int | None, code: str) -> models.User:
    user = await _user(session, user_id)
    if user.totp_enabled:
        raise Conflict("two-factor sign-in is already on")
    await _accept_code(session, user, code)
    user.totp_enabled = True
    await session.flush()
    await session.refresh(user)
    return user


async def disable(session: AsyncSession, user_id: int | None, code: str) -> models.User:
    user = await _user(session, user_id)
    if not user.totp_enabled:
        raise Conflict("two-factor sign-in is not on")
    await _accept_code(session, user, code)
    user.totp_enabled, user.totp_secret, user.totp_last_step = False, None, None
    await session.execute(delete(models.BackupCode).where(models.BackupCode.user_id == user.id))
    await session.flush()
    return user


async def new_backup_codes(session: AsyncSession, user_id: int | None) -> list[str]:
    """Ten fresh codes replacing the user's old ones; only their hashes are kept."""
    user = await _user(session, user_id)
    if not user.totp_enabled:
        raise Conflict("turn on two-factor sign-in before generating backup codes")
    await session.execute(delete(models.BackupCode).where(models.BackupCode.user_id == user.id))
    codes = security.new_backup_codes()
    session.add_all(
        models.BackupCode(user_id=user.id, code_hash=security.digest(code)) for code in codes
    )
    await session.flush()
    return codes
