"""Who is calling and what they may do."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Permission(enum.Enum):
    READ = "read"
    WRITE = "write"
    EXECUTE = "execute"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The caller: a user through a session or an API key, the local admin, or nobody."""

    user_id: int | None
    permissions: frozenset[Permission]
    authenticated: bool = True
    api_key_id: int | None = None
    session_id: int | None = None

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions


# With authentication off (the local embedded server) every caller acts as an admin.
LOCAL_ADMIN = Principal(user_id=None, permissions=frozenset(Permission))
ANONYMOUS = Principal(user_id=None, permissions=frozenset(), authenticated=False)
