"""Permissions: every mutation declares the one it needs.

``mutation(permission=...)`` is the only way domains declare mutations, so a
mutation without a permission cannot be written by accident; a test walks the
schema to make sure.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NoReturn

import strawberry
from strawberry.permission import BasePermission

from expgraph.graphql.auth import Permission
from expgraph.graphql.errors import Forbidden


class RequiresPermission(BasePermission):
    permission: Permission

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return bool(info.context.principal.has(self.permission))

    def on_unauthorized(self) -> NoReturn:
        raise Forbidden(f"this operation needs the {self.permission.value} permission")


@cache
def requires(permission: Permission) -> type[RequiresPermission]:
    return type(
        f"Requires{permission.name.title()}",
        (RequiresPermission,),
        {"permission": permission, "message": f"needs {permission.value}"},
    )


def mutation(*, permission: Permission, description: str | None = None) -> Any:
    """``strawberry.mutation`` that demands ``permission`` of the caller."""
    return strawberry.mutation(permission_classes=[requires(permission)], description=description)


def query_field(*, permission: Permission = Permission.READ, description: str | None = None) -> Any:
    """``strawberry.field`` for a root query that demands ``permission``."""
    return strawberry.field(permission_classes=[requires(permission)], description=description)
