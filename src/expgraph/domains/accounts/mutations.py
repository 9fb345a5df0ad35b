"""Account mutations."""

from __future__ import annotations

import strawberry

from expgraph.domains.accounts import service
from expgraph.domains.accounts.inputs import CreateUserInput
from expgraph.domains.accounts.types import User
from expgraph.graphql.auth import Permission
from expgraph.graphql.context import Info
from expgraph.graphql.permissions import mutation
from expgraph.graphql.relay import to_node


@strawberry.type
class UserPayload:
    user: User


@strawberry.type
class Mutation:
    @mutation(permission=Permission.ADMIN, description="Create a user (admins only).")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        async with info.context.db.transaction() as session:
            user = await service.create_user(
                session,
                username=input.username,
                email=input.email,
                role=input.role,
                password=input.password,
            )
        return UserPayload(user=to_node(user))
