"""Mutation inputs for accounts."""

from __future__ import annotations

import strawberry

from expgraph.domains.accounts.types import UserRole


@strawberry.input
class CreateUserInput:
    username: str
    email: str
    role: UserRole = UserRole.MEMBER
    password: str | None = strawberry.field(
        default=None, description="At least 12 characters; stored only as an argon2id hash."
    )
