"""Mutation inputs for accounts."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types.unset import UNSET

from expgraph.domains.accounts.keys import KeyPreset
from expgraph.domains.accounts.types import Scope, UserRole


@strawberry.input
class CreateUserInput:
    username: str
    email: str
    role: UserRole = UserRole.MEMBER
    password: str | None = strawberry.field(
        default=None, description="At least 12 characters; stored only as an argon2id hash."
    )


@strawberry.input(description="Admins change a user's role or deactivate them.")
class UpdateUserInput:
    id: strawberry.ID
    role: UserRole | None = UNSET
    is_active: bool | None = UNSET


@strawberry.input(description="Sign in with a username or an email, and a password.")
class LoginInput:
    username: str | None = None
    email: str | None = None
    password: str
    totp_code: str | None = strawberry.field(
        default=None, description="The current 6-digit code, when two-factor sign-in is on."
    )
    backup_code: str | None = strawberry.field(
        default=None, description="Or one of the backup codes; each works once."
    )


@strawberry.input
class IdInput:
    id: strawberry.ID


@strawberry.input
class TotpCodeInput:
    code: str


@strawberry.input
class CreateApiKeyInput:
    name: str
    scopes: list[Scope] = strawberry.field(
        default_factory=list,
        description="What the key allows; with a preset, added to the preset's scopes.",
    )
    preset: KeyPreset | None = strawberry.field(
        default=None,
        description="A named set of scopes (WORKER for `expgraph worker`); give scopes, "
        "a preset, or both.",
    )
    expires_at: datetime | None = None
    rate_limit: int = strawberry.field(default=60, description="Requests per minute.")
