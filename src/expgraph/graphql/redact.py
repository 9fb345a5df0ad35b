"""Redaction of secrets from anything that gets stored or logged."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
SECRET_KEY = re.compile(
    r"password|passwd|secret|token|key|code|totp|credential|authorization|provisioninguri",
    re.IGNORECASE,
)
# `password: "..."` style arguments inside a GraphQL document.
_INLINE = re.compile(
    r'(\b\w*(?:password|passwd|secret|token|key|code|totp|credential)\w*\s*:\s*)"(?:[^"\\]|\\.)*"',
    re.IGNORECASE,
)


def redact(value: Any) -> Any:
    """A copy of ``value`` with the values of secret-looking keys replaced."""
    if isinstance(value, dict):
        return {
            k: REDACTED if isinstance(k, str) and SECRET_KEY.search(k) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_document(query: str) -> str:
    """A GraphQL document with string literals of secret-looking arguments replaced."""
    return _INLINE.sub(lambda m: f'{m.group(1)}"{REDACTED}"', query)


def secret_variables(query: str) -> set[str]:
    """Names of the variables a document passes into secret-looking arguments or
    input fields (``login(input: {password: $p})`` -> ``{"p"}``)."""
    from graphql import ArgumentNode, ObjectFieldNode, VariableNode, parse, visit
    from graphql.language import Visitor

    found: set[str] = set()

    class Collect(Visitor):
        def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
            self._check(node.name.value, node.value)

        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
            self._check(node.name.value, node.value)

        def _check(self, name: str, value: Any) -> None:
            if SECRET_KEY.search(name) and isinstance(value, VariableNode):
                found.add(value.name.value)

    try:
        visit(parse(query), Collect())
    except Exception:  # an unparsable document: redact nothing more, it never ran
        return found
    return found


def redact_request(body: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL request body with its secrets replaced: in literals, in variables
    named like secrets, and in variables passed into secret-looking fields."""
    query = body.get("query")
    variables = body.get("variables")
    result = dict(body)
    if isinstance(query, str):
        result["query"] = redact_document(query)
        if isinstance(variables, dict):
            hidden = secret_variables(query)
            variables = {k: REDACTED if k in hidden else v for k, v in variables.items()}
    if isinstance(variables, dict):
        result["variables"] = redact(variables)
    return redact(result)
