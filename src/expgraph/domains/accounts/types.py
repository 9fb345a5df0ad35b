"""GraphQL types for accounts. No field reads a password hash or TOTP secret."""

from __future__ import annotations

from datetime import datetime

import strawberry

from expgraph.domains.accounts import models
from expgraph.domains.experiments.fields import experiments_field
from expgraph.graphql.relay import Node, node_type

UserRole = models.UserRole
strawberry.enum(UserRole, description="What a user may do.")


@node_type(models.User)
@strawberry.type(description="A person or service account.")
class User(Node):
    id: strawberry.ID
    username: str
    email: str
    role: UserRole
    is_active: bool
    totp_enabled: bool
    created_at: datetime
    updated_at: datetime
    record: strawberry.Private[models.User]

    experiments = experiments_field(
        parent_attr="created_by", description="Experiments this user created."
    )
