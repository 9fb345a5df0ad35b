"""Mutation inputs for accounts."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types.unset import UNSET

from expgraph.domains.accounts.keys import KeyPreset
from expgraph.domains.accounts.types import Scope, UserRole


@strawberry.input(description="A new user; admins only.")
class CreateUserInput:
    username: str = strawberry.field(
        description="Sign-in name, unique; surrounding spaces are trimmed."
    )
    email: str = strawberry.field(description="Email address, unique; stored lower-cased.")
    role: UserRole = strawberry.field(
        default=UserRole.MEMBER, description="What the user may do; MEMBER unless given."
    )
    password: str | None = strawberry.field(
        default=None, description="At least 12 characters; stored only as an argon2id hash."
    )


@strawberry.input(description="Admins change a user's role or deactivate them.")
class UpdateUserInput:
    id: strawberry.ID = strawberry.field(description="Global ID of the user to change.")
    role: UserRole | None = strawberry.field(
        default=UNSET, description="The new role; leave out to keep the current one."
    )
    is_active: bool | None = strawberry.field(
        default=UNSET,
        description="False deactivates the user (they can no longer sign in); leave out to keep.",
    )


@strawberry.input(description="Sign in with a username or an email, and a password.")
class LoginInput:
    username: str | None = strawberry.field(
        default=None, description="The username; give it or email, not both."
    )
    email: str | None = strawberry.field(
        default=None, description="The email address; give it or username, not both."
    )
    password: str = strawberry.field(description="The user's password.")
    totp_code: str | None = strawberry.field(
        default=None, description="The current 6-digit code, when two-factor sign-in is on."
    )
    backup_code: str | None = strawberry.field(
        default=None, description="Or one of the backup codes; each works once."
    )


@strawberry.input(description="Names one record by its global ID.")
class IdInput:
    id: strawberry.ID = strawberry.field(
        description="Global ID of the session or API key to act on."
    )


@strawberry.input(description="A code from your authenticator app.")
class TotpCodeInput:
    code: str = strawberry.field(description="The current 6-digit code from the authenticator app.")


@strawberry.input(description="A new API key for yourself; its scopes may not exceed your role.")
class CreateApiKeyInput:
    name: str = strawberry.field(description="A label to recognise the key by.")
    scopes: list[Scope] = strawberry.field(
        default_factory=list,
        description="What the key allows; with a preset, added to the preset's scopes.",
    )
    preset: KeyPreset | None = strawberry.field(
        default=None,
        description="A named set of scopes (WORKER for `expgraph worker`); give scopes, "
        "a preset, or both.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the key stops working; null for a key that does not expire."
    )
    rate_limit: int = strawberry.field(default=60, description="Requests per minute.")
