"""Helpers of the authentication tests: HTTP callers of an auth-enabled app,
database snapshots, and generic mutation documents built from the schema."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    build_client_schema,
    get_introspection_query,
)
from sqlalchemy import select
from strawberry.permission import PermissionExtension
from strawberry.utils.str_converters import to_camel_case

from expgraph.db.base import Base
from expgraph.db.engine import Database
from expgraph.domains.accounts import service as accounts_service
from expgraph.domains.accounts.models import UserRole
from expgraph.graphql.auth import Permission
from tests.conftest import GraphQLClient, Reference

PASSWORD = "correct horse battery staple"
LOGIN = """mutation($u: String, $e: String, $p: String!, $t: String, $b: String) {
  login(input: {username: $u, email: $e, password: $p, totpCode: $t, backupCode: $b}) {
    token user { id username role totpEnabled } session { id expiresAt current } } }"""
CREATE_TAG = "mutation($n: String!) { createTag(input: {name: $n}) { tag { id name } } }"
CREATE_KEY = """mutation($n: String!, $s: [Scope!]!, $x: DateTime, $r: Int! = 60) {
  createApiKey(input: {name: $n, scopes: $s, expiresAt: $x, rateLimit: $r}) {
    key apiKey { id name prefix scopes rateLimit isActive expiresAt lastUsedAt createdAt } } }"""
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id isActive } } }"
REVOKE_SESSION = (
    "mutation($id: ID!) { revokeSession(input: {id: $id}) { session { id isActive } } }"
)
LOGOUT = "mutation { logout { session { id isActive loggedOutAt } } }"
ME = "{ me { id username role totpEnabled } }"
MY_SESSIONS = "{ mySessions { edges { node { id current isActive expiresAt } } } }"
BEGIN_TOTP = "mutation { beginTotpEnrollment { provisioningUri } }"
CONFIRM_TOTP = (
    "mutation($c: String!) { confirmTotpEnrollment(input: {code: $c}) { user { totpEnabled } } }"
)
DISABLE_TOTP = "mutation($c: String!) { disableTotp(input: {code: $c}) { user { totpEnabled } } }"
BACKUP_CODES = "mutation { generateBackupCodes { codes } }"
CREATE_USER = """mutation($u: String!, $e: String!, $r: UserRole!, $p: String) {
  createUser(input: {username: $u, email: $e, role: $r, password: $p}) { user { id role } } }"""
UPDATE_USER = """mutation($id: ID!, $r: UserRole, $a: Boolean) {
  updateUser(input: {id: $id, role: $r, isActive: $a}) { user { id role isActive } } }"""
USERS = "{ users { totalCount edges { node { id username role isActive } } } }"
API_KEYS = """query($u: ID) { apiKeys(userId: $u) { edges { node {
  id name prefix scopes rateLimit lastUsedAt isActive expiresAt createdAt user { username } } } } }"""

# Tables only the logging and rate-limit machinery writes.
LOG_TABLES = {"system_logs", "api_request_logs", "api_usage", "api_rate_windows"}
# Columns touched by merely using a credential.
TOUCHED = {"last_used_at", "last_active", "updated_at"}


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Caller:
    """One HTTP client of an app, from one address; optionally holding a credential."""

    def __init__(self, app: Any, address: str = "127.0.0.1") -> None:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        self.http = httpx.AsyncClient(transport=transport, base_url="http://test")
        # Its compiled queries are checked against the executor's answers to the
        # same caller, except with an API key (the second request would count
        # against the key's rate limit).
        settings = getattr(app.state, "settings", None)
        self.reference = Reference(settings, address) if settings is not None else None
        self.gql = GraphQLClient(self.http, self.reference)
        self.token: str | None = None

    async def login(self, username: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
        """Sign in and use the session token as a bearer credential from now on."""
        data = await self.gql.data(LOGIN, {"u": username, "p": password, **extra})
        login: dict[str, Any] = data["login"]
        self.bearer(login["token"])
        self.gql.reference = self.reference  # a session: compared
        self.http.cookies.clear()  # the bearer token only, not the cookie as well
        return login

    def bearer(self, token: str) -> Caller:
        self.token = token
        self.gql.reference = None  # perhaps an API key: not compared
        self.http.headers["authorization"] = f"Bearer {token}"
        return self

    async def raw(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post("/graphql", json={"query": query, "variables": variables or {}})

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first error of a response that must have one (and no data)."""
        body = await self.gql.post(query, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        error: dict[str, Any] = body["errors"][0]
        return error

    async def code(self, query: str, variables: dict[str, Any] | None = None) -> str:
        return str((await self.error(query, variables))["extensions"]["code"])

    async def create_key(self, name: str, scopes: list[str], **extra: Any) -> dict[str, Any]:
        data = await self.gql.data(CREATE_KEY, {"n": name, "s": scopes, **extra})
        made: dict[str, Any] = data["createApiKey"]
        return made

    async def aclose(self) -> None:
        await self.http.aclose()
        if self.reference is not None:
            await self.reference.aclose()


async def create_users(db: Database, roles: dict[str, UserRole]) -> None:
    """Users by name, each ``name@example.com`` with ``PASSWORD`` and its role."""
    async with db.transaction() as session:
        for name, role in roles.items():
            await accounts_service.create_user(
                session, username=name, email=f"{name}@example.com", role=role, password=PASSWORD
            )


async def count(db: Database, table: str) -> int:
    async with db.read() as session:
        rows = (await session.execute(select(Base.metadata.tables[table]))).all()
    return len(rows)


async def rows(db: Database, table: str) -> list[dict[str, Any]]:
    async with db.read() as session:
        result = await session.execute(select(Base.metadata.tables[table]))
        return [dict(row._mapping) for row in result]


async def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every table but the logging ones, without touch columns."""
    state: dict[str, list[str]] = {}
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in LOG_TABLES:
                continue
            columns = [c for c in table.columns if c.name not in TOUCHED]
            result = await session.execute(select(*columns))
            state[table.name] = sorted(repr(tuple(row)) for row in result)
    return state


async def dump(db: Database) -> dict[str, str]:
    """Each table's whole content as text (to look for secrets in)."""
    text: dict[str, str] = {}
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            text[table.name] = "\n".join(repr(tuple(row)) for row in result)
    return text


async def client_schema(caller: Caller) -> GraphQLSchema:
    """The schema as a signed-in client sees it, through introspection over HTTP."""
    data = await caller.gql.data(get_introspection_query())
    return build_client_schema(data)  # type: ignore[arg-type]


def declared_permissions() -> dict[str, Permission | None]:
    """Each mutation's declared permission (None: open, i.e. ``login``)."""
    from expgraph.schema import build_schema

    mutation = build_schema().get_type_by_name("Mutation")
    assert mutation is not None
    declared: dict[str, Permission | None] = {}
    for field in mutation.fields:  # type: ignore[union-attr]
        found = [
            getattr(p, "permission", None)
            for extension in field.extensions
            if isinstance(extension, PermissionExtension)
            for p in extension.permissions
        ]
        assert len(found) == 1, f"{field.python_name} declares no single permission"
        declared[to_camel_case(field.python_name)] = found[0]
    return declared


SCALARS: dict[str, Any] = {
    "String": "x",
    "ID": "VGFnOjk5OTk5",  # a well-formed global id of nothing
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "DateTime": datetime(2030, 1, 1).isoformat() + "+00:00",
    "BigInt": "1",
    "JSON": {},
    "Decimal": "0.5",
}


def dummy_value(type_: GraphQLInputType) -> Any:
    """A value that passes coercion: every required input field filled in."""
    if isinstance(type_, GraphQLNonNull):
        return dummy_value(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [dummy_value(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLScalarType):
        return SCALARS[type_.name]
    assert isinstance(type_, GraphQLInputObjectType)
    return {
        name: dummy_value(field.type)
        for name, field in type_.fields.items()
        if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
    }


def mutation_document(schema: GraphQLSchema, name: str) -> tuple[str, dict[str, Any]]:
    """``mutation(...) { name(...) { __typename } }`` with dummy variables."""
    assert schema.mutation_type is not None
    field = schema.mutation_type.fields[name]
    params = ", ".join(f"${arg}: {field.args[arg].type}" for arg in field.args)
    args = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    document = (
        f"mutation{f'({params})' if params else ''} "
        f"{{ {name}{f'({args})' if args else ''} {{ __typename }} }}"
    )
    return document, {arg: dummy_value(field.args[arg].type) for arg in field.args}
