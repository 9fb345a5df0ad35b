"""ASGI middleware that decides who each GraphQL request is.

With authentication off every caller is the local admin. With it on, the caller
comes from ``Authorization: Bearer <API key or session token>`` or the session
cookie; a bearer credential that is unknown, revoked or expired is refused at
once (401); a stale cookie just leaves the caller anonymous (so they can log in
again). API keys are rate limited per minute (429 with Retry-After).
``/healthz`` and ``/readyz`` are never touched.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts.access import count_request, resolve_token, seconds_to_next_minute
from expgraph.graphql.auth import ANONYMOUS, LOCAL_ADMIN, Principal


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    morsel = SimpleCookie(raw).get(name)
    return morsel.value if morsel else None


async def _refuse(
    scope: Scope, send: Send, status: int, code: str, message: str, **extra: Any
) -> None:
    headers = [(b"content-type", b"application/json")]
    if "retryAfter" in extra:
        headers.append((b"retry-after", str(extra["retryAfter"]).encode()))
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    body = orjson.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code, **extra}}]}
    )
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401 if status == 401 else 4429})
        return
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AccessMiddleware:
    def __init__(self, app: ASGIApp, db: Database, settings: Settings, path: str = "/graphql"):
        self.app, self.db, self.settings, self.path = app, db, settings, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if not self.settings.auth_enabled:
            state["principal"] = LOCAL_ADMIN
            await self.app(scope, receive, send)
            return
        principal: Principal = ANONYMOUS
        authorization = _header(scope, b"authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            resolved = (
                await resolve_token(self.db, token.strip()) if scheme.lower() == "bearer" else None
            )
            if resolved is None:
                await _refuse(
                    scope,
                    send,
                    401,
                    "UNAUTHENTICATED",
                    "the credential is unknown, revoked or expired",
                )
                return
            principal = resolved.principal
            if resolved.rate_limit is not None and principal.api_key_id is not None:
                used = await count_request(self.db, principal.api_key_id)
                if used > resolved.rate_limit:
                    state["principal"] = principal
                    await _refuse(
                        scope,
                        send,
                        429,
                        "RATE_LIMITED",
                        f"over this key's limit of {resolved.rate_limit} requests per minute",
                        retryAfter=seconds_to_next_minute(),
                    )
                    return
        else:
            cookie = _cookie(scope, self.settings.session_cookie_name)
            resolved = await resolve_token(self.db, cookie) if cookie else None
            if resolved is not None:
                principal = resolved.principal
        state["principal"] = principal
        await self.app(scope, receive, send)


async def principal_from_connection_params(
    db: Database, settings: Settings, params: object
) -> Principal | None:
    """The caller a WebSocket's ``connection_init`` payload names, for clients that
    cannot set headers on a WebSocket (browsers: GraphiQL sends its headers
    editor's contents there): ``{"Authorization": "Bearer <token>"}``, any casing
    of the key. None when the payload names no credential (the connection keeps
    what its upgrade request's header or cookie gave); raises ``PermissionError``
    for a credential that is unknown, revoked, expired or over its rate limit."""
    if not settings.auth_enabled or not isinstance(params, dict):
        return None
    authorization = next(
        (v for k, v in params.items() if isinstance(k, str) and k.lower() == "authorization"),
        None,
    )
    if not isinstance(authorization, str) or not authorization.strip():
        return None
    scheme, _, token = authorization.strip().partition(" ")
    resolved = await resolve_token(db, token.strip()) if scheme.lower() == "bearer" else None
    if resolved is None:
        raise PermissionError("the credential is unknown, revoked or expired")
    key_id, limit = resolved.principal.api_key_id, resolved.rate_limit
    if limit is not None and key_id is not None and await count_request(db, key_id) > limit:
        raise PermissionError(f"over this key's limit of {limit} requests per minute")
    return resolved.principal
