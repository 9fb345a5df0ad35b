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
