"""Account writes."""

from __future__ import annotations

import re

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.accounts import models, security
from expgraph.errors import BadRequest, Conflict, NotFound
from expgraph.graphql.inputs import graphql_name

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
    """Change a user's role or active flag. CONFLICT when it would leave no active
    admin: the active admins' rows are locked first, in id order, so two admins
    demoting each other at once cannot both succeed."""
    for field in ("role", "is_active"):
        if field in values and values[field] is None:
            name = graphql_name(field)
            raise BadRequest(f"{name} cannot be null", field=name)
    U = models.User
    removes_admin = values.get("role", models.UserRole.ADMIN) != models.UserRole.ADMIN or (
        values.get("is_active", True) is False
    )
    admins: list[int] = []
    if removes_admin:
        admins = list(
            await session.scalars(
                select(U.id)
                .where(U.role == models.UserRole.ADMIN, U.is_active.is_(True))
                .order_by(U.id)
                .with_for_update()
            )
        )
    user = await session.get(U, pk, with_for_update=True, populate_existing=True)
    if user is None:
        raise NotFound("no user with that id")
    if removes_admin and admins == [user.id]:
        raise Conflict(
            "this is the last active admin: make another user an admin first",
            field="role" if "role" in values else "isActive",
        )
    for field in ("role", "is_active"):
        if field in values:
            setattr(user, field, values[field])
    await session.flush()
    return user
