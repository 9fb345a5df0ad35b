"""HTTP around the GraphQL endpoint: CORS, compression and ETags.

- CORS (``Settings.cors_origins``): off when the list is empty. A listed origin
  gets ``Access-Control-Allow-Origin`` with its own name and credentials (cookies,
  ``Authorization``) allowed; ``*`` in the list lets any other origin in without
  credentials; an origin not allowed gets no CORS header at all (a preflight from
  it answers 400), so the browser keeps the response from the page.
- Compression (``Settings.gzip`` and ``gzip_min_bytes``): gzip when the client
  accepts it and the body is at least that large (Starlette's GZipMiddleware,
  at zlib's default level 6).
  A strong ETag on a body that gets compressed becomes weak (``W/``), as the
  compressed bytes differ from those it names; If-None-Match compares weakly.
- ETags (``etag_response``): a successful GET query's JSON body gets a strong
  ETag (its SHA-256) and ``Cache-Control: private, no-cache``: the answer depends on
  the caller, so no shared cache keeps it, and the browser asks again every time,
  with ``If-None-Match``; the query runs again and an unchanged answer is a 304
  without a body. Mutations never run over GET, and responses with errors get none.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LONG_NUMBER = re.compile(rb"\d{19,}")
"""Digits enough for an integer orjson may not read exactly (past 64 bits): a
request body holding such a run is read again with every integer checked."""

# What a browser may send cross-origin beyond the safelisted headers, and read back.
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Accept", "If-None-Match")
CORS_EXPOSE_HEADERS = ("ETag", "Retry-After")
CORS_METHODS = ("GET", "POST")


class Cors:
    """CORS for the origins in ``origins`` (see the module's docstring)."""

    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        listed = [origin for origin in origins if origin != "*"]

        def cors(allowed: list[str], credentials: bool) -> CORSMiddleware:
            return CORSMiddleware(
                app,
                allow_origins=allowed,
                allow_methods=CORS_METHODS,
                allow_headers=CORS_ALLOW_HEADERS,
                allow_credentials=credentials,
                expose_headers=CORS_EXPOSE_HEADERS,
            )

        self.listed = cors(listed, credentials=True)
        self.anyone = cors(["*"], credentials=False) if "*" in origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
        elif self.listed.is_allowed_origin(origin):
            await self.listed(scope, receive, send)
        elif self.anyone is not None:
            await self.anyone(scope, receive, send)
        elif scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            refused = PlainTextResponse("Disallowed CORS origin", 400, headers={"Vary": "Origin"})
            await refused(scope, receive, send)
        else:  # served, without CORS headers: the browser keeps it from the page

            async def vary(message: Message) -> None:
                if message["type"] == "http.response.start":
                    MutableHeaders(scope=message).add_vary_header("Origin")
                await send(message)

            await self.app(scope, receive, vary)


class Gzip:
    """Starlette's GZipMiddleware; a strong ETag on a body it compresses turns weak."""

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        # Level 6 (zlib's default): Starlette's 9 took twice the time for a
        # body about 4% smaller (a 23 KB list page: 0.40 against 0.22 ms).
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def weaken(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                etag = headers.get("etag")
                if etag and "content-encoding" in headers and not etag.startswith("W/"):
                    headers["ETag"] = "W/" + etag
            await send(message)

        await self.gzip(scope, receive, weaken)


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def etag_response(response: Response, if_none_match: str | None) -> Response:
    """``response`` (a successful GET query's JSON) with its ETag and cache headers,
    or a 304 when ``if_none_match`` names it (weak comparison, RFC 9110 13.1.2)."""
    etag = '"' + hashlib.sha256(response.body).hexdigest()[:40] + '"'
    cache = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if if_none_match is not None:
        tags = {_opaque(tag) for tag in if_none_match.split(",")}
        if "*" in tags or etag in tags:
            not_modified = Response(status_code=304, headers=cache)
            for name, value in response.headers.items():
                if name.lower() == "vary":
                    not_modified.headers.add_vary_header(value)
            not_modified.headers.add_vary_header("Authorization, Cookie")
            return not_modified
    response.headers.update(cache)
    response.headers.add_vary_header("Authorization, Cookie")
    return response
