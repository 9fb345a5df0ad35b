"""Permissions: every mutation declares the one it needs.

``mutation(permission=...)`` is the only way domains declare mutations, so a
mutation without a permission cannot be written by accident; a test walks the
schema to make sure.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any, NoReturn

import strawberry
from graphql import FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.utils.str_converters import to_camel_case

from expgraph.graphql.audit import Audited
from expgraph.graphql.auth import Permission
from expgraph.graphql.errors import Forbidden, Unauthenticated
from expgraph.graphql.limits import chosen_operation, requested_operation_name


class RequiresPermission(BasePermission):
    permission: Permission

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        if not principal.authenticated:
            raise Unauthenticated("sign in, or send an API key as `Authorization: Bearer <key>`")
        return bool(principal.has(self.permission))

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
    """``strawberry.mutation`` that demands ``permission`` of the caller and is
    audited, refusals included (the audit wraps the permission check)."""
    make = strawberry.mutation(
        extensions=[
            PermissionExtension([requires(permission)()], use_directives=False),
            Audited(),
        ],
        description=description,
    )

    def decorate(resolver: Any) -> Any:
        return _input_described(make(resolver))

    return decorate


INPUT_DESCRIPTION = "What to do; its input type describes each field."


def _input_described(field: Any) -> Any:
    """Every mutation takes one ``input`` argument: say what it is once, here."""
    for argument in field.arguments:
        if argument.python_name == "input" and not argument.description:
            argument.description = INPUT_DESCRIPTION
    return field


def query_field(*, permission: Permission = Permission.READ, description: str | None = None) -> Any:
    """``strawberry.field`` for a root query that demands ``permission``."""
    return strawberry.field(permission_classes=[requires(permission)], description=description)


# Root fields an anonymous caller may use when authentication is on.
OPEN_ROOT_FIELDS: set[str] = {"__typename"}


def public_mutation(*, description: str | None = None) -> Any:
    """A mutation anyone may call, signed in or not (``login``)."""

    def decorate(resolver: Any) -> Any:
        OPEN_ROOT_FIELDS.add(to_camel_case(resolver.__name__))
        return _input_described(
            strawberry.mutation(
                extensions=[
                    PermissionExtension([RequiresNothing()], use_directives=False),
                    Audited(),
                ],
                description=description,
            )(resolver)
        )

    return decorate


class SignInRequired(SchemaExtension):
    """Refuses, before validation (so before any costly work), an operation of an
    anonymous caller that selects more than the open root fields (introspection
    and fragments at the root included). The operation is the one the request
    runs (``operationName`` chooses among several)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if (
            context.pre_execution_errors is None
            and document is not None
            and not context.context.principal.authenticated
        ):
            operation, _ = chosen_operation(document, requested_operation_name(context))
            if operation is None or not only_open_root_fields(operation):
                context.pre_execution_errors = [
                    GraphQLError(
                        "sign in, or send an API key as `Authorization: Bearer <key>`",
                        extensions={"code": "UNAUTHENTICATED"},
                    )
                ]
        yield


def only_open_root_fields(operation: OperationDefinitionNode) -> bool:
    return all(
        isinstance(selection, FieldNode) and selection.name.value in OPEN_ROOT_FIELDS
        for selection in operation.selection_set.selections
    )


class RequiresNothing(BasePermission):
    """Declares, explicitly, that a field is open to anonymous callers."""

    message = "open"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        return True
