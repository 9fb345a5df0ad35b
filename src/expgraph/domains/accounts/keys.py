"""API keys: created with scopes no wider than the owner's role, shown once."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import strawberry
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from expgraph.domains.accounts import models, security
from expgraph.domains.accounts.access import ROLE_PERMISSIONS
from expgraph.errors import BadRequest, Forbidden, NotFound
from expgraph.graphql.auth import Permission
from expgraph.graphql.inputs import text

MAX_RATE_LIMIT = 100_000


@strawberry.enum(
    name="ApiKeyPreset",
    description="A named set of scopes for a common kind of API key.",
)
class KeyPreset(enum.Enum):
    WORKER = strawberry.enum_value(
        "worker",
        description="What `expgraph worker` needs: READ and EXECUTE (it claims, "
        "heartbeats, records runs and releases, and reads the examples it runs).",
    )


# What each preset grants. A worker claims, heartbeats, records and releases
# (EXECUTE) and reads the examples of what it claimed (READ): the operations in
# src/expgraph/worker/operations.graphql need exactly these two.
PRESET_SCOPES: dict[KeyPreset, frozenset[Permission]] = {
    KeyPreset.WORKER: frozenset({Permission.READ, Permission.EXECUTE}),
}


async def create(
    session: AsyncSession,
    owner_id: int,
    *,
    name: str,
    scopes: list[Permission],
    preset: KeyPreset | None = None,
    expires_at: datetime | None,
    rate_limit: int,
) -> tuple[models.ApiKey, str]:
    owner = await session.get(models.User, owner_id)
    if owner is None:
        raise NotFound("no user with that id")
    if preset is not None:
        scopes = [*scopes, *PRESET_SCOPES[preset]]
    if not scopes:
        raise BadRequest("a key needs at least one scope, or a preset", field="scopes")
    beyond = set(scopes) - ROLE_PERMISSIONS[owner.role]
    if beyond:
        names = ", ".join(sorted(p.value for p in beyond))
        raise Forbidden(f"a {owner.role.value}'s key cannot have: {names}", field="scopes")
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise BadRequest("expiresAt must be in the future", field="expiresAt")
    if not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise BadRequest(f"rateLimit must be 1..{MAX_RATE_LIMIT} per minute", field="rateLimit")
    key, prefix = security.new_api_key()
    record = models.ApiKey(
        user_id=owner_id,
        name=text(name, "name", max_length=100),
        key_hash=security.digest(key),
        prefix=prefix,
        scopes=sorted({p.value for p in scopes}),
        expires_at=expires_at,
        rate_limit=rate_limit,
    )
    session.add(record)
    await session.flush()
    return record, key


async def revoke(session: AsyncSession, key_id: int, *, owner_id: int | None) -> models.ApiKey:
    """Deactivate a key; ``owner_id`` limits it to that user's keys (None: any)."""
    K = models.ApiKey
    stmt = update(K).where(K.id == key_id)
    if owner_id is not None:
        stmt = stmt.where(K.user_id == owner_id)
    done = await session.execute(stmt.values(is_active=False).returning(K.id))
    if done.first() is None:
        raise NotFound("no such key of yours")
    key = await session.get(K, key_id, populate_existing=True)
    assert key is not None
    return key
