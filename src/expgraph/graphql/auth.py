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
    user_id: int | None
    permissions: frozenset[Permission]

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions


# Until authentication arrives, every caller of the local server acts as an admin.
LOCAL_ADMIN = Principal(user_id=None, permissions=frozenset(Permission))
