"""The Starlette application: ``/graphql`` (GraphiQL, HTTP, WebSocket),
``/healthz`` (process alive) and ``/readyz`` (database reachable, migrations at head)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import orjson
from cross_web import HTTPException  # what strawberry's views raise for a refused request
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from expgraph import compat
from expgraph.config import Settings
from expgraph.db import migrate
from expgraph.db.engine import Database
from expgraph.db.notify import Broker
from expgraph.domains.abtest.aggregate import run_periodically
from expgraph.domains.accounts.audit import SystemLogSink
from expgraph.domains.accounts.middleware import (
    AccessMiddleware,
    principal_from_connection_params,
)
from expgraph.domains.accounts.requestlog import RequestLogMiddleware, RequestLogWriter
from expgraph.domains.notifications import deliver
from expgraph.graphql.auth import ANONYMOUS, LOCAL_ADMIN, Principal
from expgraph.graphql.compiled.answers import RememberedAnswers, body_key, fields_of, request_key
from expgraph.graphql.compiled.execution import compiling
from expgraph.graphql.context import Context
from expgraph.graphql.errors import classify
from expgraph.graphql.graphiql import page as graphiql_page
from expgraph.graphql.graphiql import static_mount as graphiql_static
from expgraph.graphql.http import LONG_NUMBER, Cors, Gzip, etag_response
from expgraph.graphql.persisted import PersistedQueries, PersistedQueryRefused
from expgraph.runtime import tune_garbage_collector
from expgraph.schema import build_schema

logger = logging.getLogger("expgraph")

_HTTP_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
_HAD_ERRORS = "expgraph.graphql_errors"  # set in the ASGI scope when a response has errors


def _exact_int(text: str) -> int:
    """An integer orjson reads exactly (-2^63..2^64-1); past that it would read
    an imprecise float. (Fields then refuse what their type cannot hold, by name.)"""
    value = int(text)
    if not -(2**63) <= value < 2**64:
        raise json.JSONDecodeError("an integer outside 64 bits", text, 0)
    return value


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view with our per-request context."""

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            allow_queries_via_get=True,
        )
        self.db = db
        self.settings = settings
        self.compiles = settings.compile_queries and compat.compiler_available()
        if self.compiles:
            # Root fields the compiler covers: one statement each (graphql/compiled/).
            schema: Any = self.schema
            schema.execution_context_class = compiling(schema.execution_context_class, schema)
        # Repeated requests that compiled whole: their statements alone answer them.
        self.answers = RememberedAnswers() if self.compiles else None
        self.audit = SystemLogSink(db)
        self.broker = Broker(db)
        self.persisted = PersistedQueries.of(settings)

    def encode_json(self, data: object) -> str:
        # orjson is several times faster than json; text, since WebSocket frames
        # of graphql-transport-ws must be text.
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        """The request body, refused whole (HTTP 400, BAD_REQUEST) when it is not
        JSON or holds NaN, Infinity or an integer orjson cannot read exactly
        (below -2^63 or past 2^64-1, which it would read as an imprecise float;
        fields refuse by name what their own type cannot hold)."""
        value = orjson.loads(data)
        raw = data.encode() if isinstance(data, str) else data
        if LONG_NUMBER.search(raw):  # rare: parse again, checking every integer
            value = json.loads(raw, parse_int=_exact_int)
        return value

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, but a refused HTTP request (a body that is not JSON, a
        method GraphQL does not take) answers a GraphQL-shaped JSON error with a
        code, not plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        remembered = await self._remembered_answer(request)
        if remembered is not None:
            await Response(remembered, media_type="application/json")(scope, receive, send)
            return
        try:
            response = await self.run(request)
        except HTTPException as exc:
            code = _HTTP_CODES.get(exc.status_code, "BAD_REQUEST")
            response = JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": code}}]},
                status_code=exc.status_code,
            )
        except PersistedQueryRefused as exc:
            response = JSONResponse(
                {"errors": [{"message": exc.message, "extensions": {"code": exc.code}}]},
                status_code=exc.status,
            )
        else:
            if (
                request.method == "GET"
                and response.status_code == 200
                and not isinstance(response, StreamingResponse)
                and response.media_type == "application/json"
                and not request.scope.get(_HAD_ERRORS)
            ):  # a query that answered without errors (GET never runs a mutation)
                response = etag_response(response, request.headers.get("if-none-match"))
        await response(scope, receive, send)

    async def _remembered_answer(self, request: Request) -> bytes | None:
        """The body of a POST that repeats a request compiled whole, from its
        statements alone (graphql/compiled/answers.py); None: the view answers."""
        if self.answers is None or request.method != "POST":
            return None
        headers = request.headers
        if not headers.get("content-type", "").startswith("application/json"):
            return None
        if "multipart" in headers.get("accept", ""):  # a subscription over multipart
            return None
        key = body_key(await request.body(), self._principal(request))
        return None if key is None else await self.answers.answer(self.db, key)

    def _principal(self, request: Request | WebSocket) -> Principal:
        principal = request.scope.get("state", {}).get("principal")
        if principal is None:  # not through AccessMiddleware: only in-process embedding
            principal = ANONYMOUS if self.settings.auth_enabled else LOCAL_ADMIN
        return principal

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page, every asset served from here (graphql/graphiql.py), not a CDN's.
        return graphiql_page(request)

    async def on_ws_connect(self, context: Context) -> Any:
        """A WebSocket's ``connection_init`` may carry the credential (browsers
        cannot set headers on a WebSocket; GraphiQL sends its headers editor's
        contents there). An unknown or revoked one closes the socket (4403)."""
        try:
            principal = await principal_from_connection_params(
                self.db, self.settings, context.connection_params
            )
        except PermissionError as refused:
            raise ConnectionRejectionError({"message": str(refused)}) from None
        if principal is not None:
            context.principal = principal
        return await super().on_ws_connect(context)

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET with a persisted query's hash and no query runs it; it is no page load.
        return bool(super().should_render_graphql_ide(request)) and (
            "extensions" not in request.query_params
        )

    async def parse_http_body(self, request: Any) -> Any:
        """Strawberry's, then each operation's persisted query resolved to its
        document (graphql/persisted.py); a refusal answers before anything runs."""
        parsed = await super().parse_http_body(request)
        for data in parsed if isinstance(parsed, list) else [parsed]:
            data.query = self.persisted.resolve(data.query, data.extensions)
        return parsed

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Strawberry's, then a document sent with its hash is kept once it ran
        (one refused by the limits or validation never runs: it is not kept)."""
        result = await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )
        if result.data is not None:
            self.persisted.register(request_data.query, request_data.extensions)
        return result

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        # Parse errors skip the schema extensions; give them their code here too.
        if result.errors:
            request.scope[_HAD_ERRORS] = True
            result.errors = [
                error if (error.extensions or {}).get("code") else classify(error)
                for error in result.errors
            ]
        return await super().process_result(request, result)

    async def execute_operation(
        self,
        request: Any,
        request_adapter: Any,
        request_data: Any,
        context: Context,
        root_value: Any,
        sub_response: Any,
    ) -> Any:
        """Strawberry's, then the request's shared read session is given back;
        a single POST operation that compiled whole and answered without errors
        is remembered (``_remembered_answer``)."""
        try:
            result = await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        finally:
            await context.db.end_request()
        if (
            self.answers is not None
            and context.compiled
            and isinstance(request_data, GraphQLRequestData)
            and request_data.protocol == "http"
            and not request_data.extensions
            and request_adapter.method == "POST"
            and isinstance(result, ExecutionResult)
            and not result.errors
            and not result.extensions
        ):
            key = request_key(
                request_data.query,
                request_data.operation_name,
                request_data.variables,
                context.principal,
            )
            self.answers.remember(key, fields_of(context.compiled))
        return result

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        principal = self._principal(request)
        # One shared read session per HTTP request; a WebSocket lives too long.
        scoped = not isinstance(request, WebSocket)
        return Context(
            db=self.db.for_request() if scoped else self.db,
            settings=self.settings,
            principal=principal,
            request=request,
            response=response,
            audit=self.audit,
            broker=self.broker,
        )


class BodyLimitMiddleware:
    """Refuses an HTTP request whose body passes ``limit`` bytes with 413 and a
    GraphQL-shaped error: at once when its Content-Length says so, otherwise as
    soon as the bytes read pass the limit (a Content-Length that lies, or none, as
    with a chunked body, changes nothing); the rest is never read. A body within
    the limit is handed on whole, as the app would have read it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            body += message.get("body", b"")
            if len(body) > self.limit:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(self, send: Send) -> None:
        message = f"the request body is larger than {self.limit} bytes"
        body = orjson.dumps(
            {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first gives back ``messages``, then reads on."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    """Build the app. Pass ``db`` to share one ``Database`` (tests); otherwise the
    app owns one and disposes of it on shutdown."""
    settings = settings or Settings()
    owned = db is None
    database = db or Database(settings)
    graphql_app = GraphQLApp(database, settings)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        try:
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            at_head = await migrate.is_at_head(database.engine, settings.database_url)
        except Exception as exc:
            logger.warning("readiness check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        if not at_head:
            return JSONResponse({"status": "unavailable", "migrations": "behind"}, 503)
        return JSONResponse({"status": "ready"})

    request_log = RequestLogWriter(database, settings) if settings.request_log_enabled else None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        tune_garbage_collector(settings.gc_threshold)
        if request_log is not None:
            request_log.start()
        aggregation = (
            asyncio.create_task(
                run_periodically(database, settings.abtest_aggregate_interval),
                name="abtest-aggregate",
            )
            if settings.abtest_aggregate_interval > 0
            else None
        )
        # Notifications: outbox fan-out, e-mail and webhook sending, digests.
        deliverer = (
            deliver.start(database, settings, graphql_app.broker)
            if settings.delivery_enabled
            else None
        )
        yield
        if deliverer is not None:
            await deliver.stop(deliverer)
        if aggregation is not None:
            aggregation.cancel()
            with suppress(asyncio.CancelledError):
                await aggregation
        if request_log is not None:
            await request_log.stop()  # flushes what is queued
        await graphql_app.broker.close()
        if owned:
            await database.dispose()

    app = Starlette(
        middleware=[
            *([Middleware(Cors, origins=settings.cors_origins)] if settings.cors_origins else []),
            *([Middleware(RequestLogMiddleware, writer=request_log)] if request_log else []),
            *([Middleware(Gzip, minimum_size=settings.gzip_min_bytes)] if settings.gzip else []),
            Middleware(BodyLimitMiddleware, limit=settings.max_body_bytes),
            Middleware(AccessMiddleware, db=database, settings=settings),
        ],
        routes=[
            Route("/graphql", graphql_app),  # any method: strawberry refuses all but GET and POST
            WebSocketRoute("/graphql", graphql_app),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *([graphiql_static()] if settings.graphiql else []),
        ],
        lifespan=lifespan,
    )
    app.state.db = database
    app.state.settings = settings
    app.state.request_log = request_log
    app.state.broker = graphql_app.broker  # subscriptions' notifications (every process)
    return app


def app_from_env() -> Any:
    """ASGI factory for uvicorn workers (``uvicorn --factory expgraph.app:app_from_env``)."""
    from expgraph.config import get_settings

    return create_app(get_settings())
