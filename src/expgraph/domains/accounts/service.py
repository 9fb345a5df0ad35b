"""Account writes."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.accounts import models, security
from expgraph.graphql.errors import BadRequest, Conflict, NotFound

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,50}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"password needs at least {MIN_PASSWORD} characters", field="password")
    return security.hash_password(password)


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    email: str,
    role: models.UserRole,
    password: str | None,
) -> models.User:
    username, email = username.strip(), email.strip().lower()
    if not USERNAME.match(username):
        raise BadRequest("username: 3-50 letters, digits, '_', '.', '-'", field="username")
    if len(email) > 255 or not EMAIL.match(email):
        raise BadRequest("email is not a valid address", field="email")
    U = models.User
    taken = await session.scalars(
        select(U.id).where(or_(U.username == username, U.email == email)).limit(1)
    )
    if taken.first() is not None:
        raise Conflict("that username or email is taken", field="username")
    user = U(
        username=username,
        email=email,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
    )
    session.add(user)
    await session.flush()
    return user


async def update_user(session: AsyncSession, pk: int, values: dict[str, object]) -> models.User:
    user = await session.get(models.User, pk, with_for_update=True)
    if user is None:
        raise NotFound("no user with that id")
    for field in ("role", "is_active"):
        if field in values:
            if values[field] is None:
                raise BadRequest(f"{field} cannot be null", field=field)
            setattr(user, field, values[field])
    await session.flush()
    return user
