"""Secrets at rest (provider credentials, webhook signing secrets): Fernet
(AES-128-CBC + HMAC) with the server's key, EXPGRAPH_ENCRYPTION_KEY."""

from __future__ import annotations

from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken

from expgraph.errors import BadRequest


def _fernet(key: str | None) -> Fernet:
    if not key:
        raise BadRequest(
            "the server has no encryption key: set EXPGRAPH_ENCRYPTION_KEY to store credentials"
        )
    try:
        return Fernet(key.encode())
    except ValueError as exc:
        raise BadRequest("the server's encryption key is not a valid Fernet key") from exc


def encrypt(key: str | None, credentials: dict[str, Any]) -> bytes:
    return _fernet(key).encrypt(orjson.dumps(credentials))


def decrypt(key: str | None, token: bytes) -> dict[str, Any]:
    """For executors at run time; never for a GraphQL response."""
    try:
        value: dict[str, Any] = orjson.loads(_fernet(key).decrypt(token))
    except InvalidToken as exc:
        raise BadRequest("stored credentials cannot be decrypted with this key") from exc
    return value
