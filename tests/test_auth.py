"""Authentication on, through the ASGI app over HTTP, on SQLite and PostgreSQL:
anonymous callers, roles, key scopes, every mutation's declared permission,
sessions (bearer and cookie), API keys (expiry, revocation, rate limit),
login history and throttling, TOTP and backup codes, and where secrets show up."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select, update

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.domains.accounts import models, service
from expgraph.domains.catalog.models import Tag
from expgraph.graphql.auth import Permission
from expgraph.graphql.relay import decode_id, encode_id
from tests.auth_helpers import (
    API_KEYS,
    BACKUP_CODES,
    BEGIN_TOTP,
    CONFIRM_TOTP,
    CREATE_KEY,
    CREATE_TAG,
    CREATE_USER,
    DISABLE_TOTP,
    LOGIN,
    LOGOUT,
    ME,
    MY_SESSIONS,
    PASSWORD,
    REVOKE_KEY,
    REVOKE_SESSION,
    UPDATE_USER,
    USERS,
    Caller,
    client_schema,
    count,
    declared_permissions,
    dump,
    mutation_document,
    rows,
    sha256,
    snapshot,
)

ROLES = {
    "admin": models.UserRole.ADMIN,
    "member": models.UserRole.MEMBER,
    "viewer": models.UserRole.VIEWER,
}
UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED = "UNAUTHENTICATED", "FORBIDDEN", "RATE_LIMITED"
WRONG = "not the password at all"

# --- fixtures ------------------------------------------------------------------------


@pytest.fixture
async def user_ids(db: Database) -> dict[str, int]:
    """An admin, a member and a viewer, made through the service layer (with
    authentication on only admins may createUser)."""
    ids: dict[str, int] = {}
    async with db.transaction() as session:
        for name, role in ROLES.items():
            user = await service.create_user(
                session, username=name, email=f"{name}@example.com", role=role, password=PASSWORD
            )
            ids[name] = user.id
    return ids


AppFactory = Callable[..., Any]


@pytest.fixture
def make_app(settings: Settings, db: Database, user_ids: dict[str, int]) -> AppFactory:
    def build(**overrides: Any) -> Any:
        changes = {"auth_enabled": True, "request_log_enabled": False, **overrides}
        return create_app(settings.model_copy(update=changes), db=db)

    return build


@pytest.fixture
def auth_app(make_app: AppFactory) -> Any:
    return make_app()


@pytest.fixture
def lenient_app(make_app: AppFactory) -> Any:
    """For tests that fail many sign-ins on purpose (codes refused, races):
    throttling is tested on its own."""
    return make_app(login_max_failures=1000)


@pytest.fixture
async def callers() -> AsyncIterator[Callable[..., Caller]]:
    made: list[Caller] = []

    def make(app: Any, address: str = "127.0.0.1") -> Caller:
        caller = Caller(app, address)
        made.append(caller)
        return caller

    yield make
    for caller in made:
        await caller.aclose()


async def signed_in(make: Callable[..., Caller], app: Any, username: str) -> Caller:
    caller = make(app)
    await caller.login(username)
    return caller


def gid(type_name: str, pk: int) -> str:
    return encode_id(type_name, pk)


# --- anonymous callers -----------------------------------------------------------------


async def test_anonymous_callers_may_only_sign_in(auth_app, db, callers):
    anon = callers(auth_app)
    refused = [
        "{ tags { totalCount } }",
        "{ me { id } }",
        "{ __schema { queryType { name } } }",
        '{ __type(name: "User") { fields { name } } }',
        "{ __typename tags { totalCount } }",
        "{ ...F } fragment F on Query { tags { totalCount } }",
        'mutation { createTag(input: {name: "anon"}) { tag { id } } }',
        # login cannot carry another mutation with it
        f'mutation {{ login(input: {{username: "admin", password: "{PASSWORD}"}}) {{ token }} '
        'createTag(input: {name: "piggyback"}) { tag { id } } }',
    ]
    for query in refused:
        response = await anon.raw(query)
        assert response.status_code == 200, query
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == UNAUTHENTICATED, (query, body)
        assert body.get("data") is None, (query, body)
    # The operation chosen by name decides, not the first one in the document.
    two = "query Open { __typename } query Closed { tags { totalCount } }"
    response = await anon.http.post("/graphql", json={"query": two, "operationName": "Closed"})
    assert response.json()["errors"][0]["extensions"]["code"] == UNAUTHENTICATED
    response = await anon.http.post("/graphql", json={"query": two, "operationName": "Open"})
    assert response.json() == {"data": {"__typename": "Query"}}
    # GET queries too.
    response = await anon.http.get("/graphql", params={"query": "{ tags { totalCount } }"})
    assert response.json()["errors"][0]["extensions"]["code"] == UNAUTHENTICATED
    # Nothing was written by the refused mutations: no tag, no session.
    assert await count(db, "tags") == 0
    assert await count(db, "session_logs") == 0
    # Health checks stay open.
    assert (await anon.http.get("/healthz")).json() == {"status": "ok"}
    assert (await anon.http.get("/readyz")).json() == {"status": "ready"}
    # And anyone may sign in.
    login = await anon.login("viewer")
    assert login["user"]["username"] == "viewer" and login["token"].startswith("exs_")
    assert (await anon.gql.data(ME))["me"]["username"] == "viewer"


async def test_a_credential_that_is_not_a_valid_bearer_token_gets_401(auth_app, callers):
    for authorization in (
        "Bearer exk_00000000_unknown",
        "Bearer exs_unknown-session-token",
        "Bearer ",
        "Basic YWRtaW46cGFzc3dvcmQ=",
    ):
        caller = callers(auth_app)
        caller.http.headers["authorization"] = authorization
        response = await caller.raw("{ __typename }")
        assert response.status_code == 401, authorization
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["errors"][0]["extensions"]["code"] == UNAUTHENTICATED
        # Not even login passes with a bad credential attached.
        response = await caller.raw(LOGIN, {"u": "admin", "p": PASSWORD})
        assert response.status_code == 401


# --- roles ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "member", "admin"])
async def test_each_role_against_read_write_and_admin_operations(
    auth_app, db, callers, user_ids, role
):
    caller = await signed_in(callers, auth_app, role)
    may_write = role in ("member", "admin")
    may_admin = role == "admin"

    # Read: everyone.
    data = await caller.gql.data("{ tags { totalCount } " + USERS[1:])
    assert data["users"]["totalCount"] == 3
    assert (await caller.gql.data(ME))["me"]["role"] == role.upper()

    # Write: createTag.
    body = await caller.gql.post(CREATE_TAG, {"n": f"tag of {role}"})
    if may_write:
        assert "errors" not in body, body
        assert body["data"]["createTag"]["tag"]["name"] == f"tag of {role}"
    else:
        assert body["errors"][0]["extensions"]["code"] == FORBIDDEN
        assert body["data"] is None
    assert await count(db, "tags") == (1 if may_write else 0)

    # Admin: createUser, and updateUser (a non-admin tries to make themselves admin).
    body = await caller.gql.post(
        CREATE_USER, {"u": "newbie", "e": "newbie@example.com", "r": "MEMBER", "p": PASSWORD}
    )
    if may_admin:
        assert body["data"]["createUser"]["user"]["role"] == "MEMBER", body
    else:
        assert body["errors"][0]["extensions"]["code"] == FORBIDDEN
    assert await count(db, "users") == (4 if may_admin else 3)

    target = "viewer" if may_admin else role
    body = await caller.gql.post(UPDATE_USER, {"id": gid("User", user_ids[target]), "r": "ADMIN"})
    async with db.read() as session:
        stored = await session.get(models.User, user_ids[target])
    assert stored is not None
    if may_admin:
        assert body["data"]["updateUser"]["user"]["role"] == "ADMIN", body
        assert stored.role is models.UserRole.ADMIN
    else:
        assert body["errors"][0]["extensions"]["code"] == FORBIDDEN
        assert stored.role is ROLES[role]

    # Admin-only queries.
    body = await caller.gql.post("{ systemLogs { totalCount } }")
    if may_admin:
        assert "errors" not in body, body
    else:
        assert body["errors"][0]["extensions"]["code"] == FORBIDDEN

    # Every refusal is audited as denied, under the caller's id.
    denied = [r for r in await rows(db, "system_logs") if r["status"] == "denied"]
    expected = {"createTag"} if not may_write else set()
    if not may_admin:
        expected |= {"createUser", "updateUser"}
    assert {r["action"] for r in denied} == expected
    assert {r["user_id"] for r in denied} <= {user_ids[role]}


async def test_a_role_change_applies_to_open_sessions_at_once(auth_app, db, callers, user_ids):
    member = await signed_in(callers, auth_app, "member")
    by_key = callers(auth_app).bearer((await member.create_key("w", ["READ", "WRITE"]))["key"])
    admin = await signed_in(callers, auth_app, "admin")
    await member.gql.data(CREATE_TAG, {"n": "before"})
    await admin.gql.data(UPDATE_USER, {"id": gid("User", user_ids["member"]), "r": "VIEWER"})
    # Sessions and keys alike: a key's scopes never exceed the owner's current role.
    assert await member.code(CREATE_TAG, {"n": "after"}) == FORBIDDEN
    assert await by_key.code(CREATE_TAG, {"n": "after, by key"}) == FORBIDDEN
    assert (await by_key.gql.data("{ tags { totalCount } }"))["tags"]["totalCount"] == 1
    assert [t.name for t in await _tags(db)] == ["before"]


async def _tags(db: Database) -> list[Tag]:
    async with db.read() as session:
        return list((await session.scalars(select(Tag).order_by(Tag.id))).all())


async def test_a_deactivated_user_loses_sessions_and_keys_and_cannot_sign_in(
    auth_app, db, callers, user_ids
):
    member = await signed_in(callers, auth_app, "member")
    key = (await member.create_key("k", ["READ"]))["key"]
    admin = await signed_in(callers, auth_app, "admin")
    await admin.gql.data(UPDATE_USER, {"id": gid("User", user_ids["member"]), "a": False})
    assert (await member.raw(ME)).status_code == 401
    assert (await callers(auth_app).bearer(key).raw(ME)).status_code == 401
    anon = callers(auth_app)
    inactive = await anon.error(LOGIN, {"u": "member", "p": PASSWORD})
    wrong = await anon.error(LOGIN, {"u": "member", "p": WRONG})
    assert inactive == wrong  # no hint that the password was right
    assert inactive["extensions"]["code"] == UNAUTHENTICATED
    history = await rows(db, "login_history")
    assert [r["failure_reason"] for r in history if not r["success"]] == [
        "inactive",
        "invalid_credentials",
    ]


# --- key scopes -----------------------------------------------------------------------


async def test_key_scopes_never_exceed_the_owners_role(auth_app, db, callers):
    viewer = await signed_in(callers, auth_app, "viewer")
    for scopes in (["WRITE"], ["READ", "WRITE"], ["EXECUTE"], ["ADMIN"]):
        error = await viewer.error(CREATE_KEY, {"n": "too much", "s": scopes})
        assert error["extensions"]["code"] == FORBIDDEN, scopes
    member = await signed_in(callers, auth_app, "member")
    for scopes in (["ADMIN"], ["READ", "ADMIN"]):
        assert await member.code(CREATE_KEY, {"n": "too much", "s": scopes}) == FORBIDDEN
    assert await count(db, "api_keys") == 0

    assert (await viewer.create_key("r", ["READ"]))["apiKey"]["scopes"] == ["READ"]
    made = await member.create_key("rwx", ["READ", "WRITE", "EXECUTE"])
    assert made["apiKey"]["scopes"] == ["EXECUTE", "READ", "WRITE"]
    admin = await signed_in(callers, auth_app, "admin")
    made = await admin.create_key("all", ["READ", "WRITE", "EXECUTE", "ADMIN"])
    assert made["apiKey"]["scopes"] == ["ADMIN", "EXECUTE", "READ", "WRITE"]
    assert await count(db, "api_keys") == 3


async def test_each_scope_is_enforced(auth_app, db, callers):
    member = await signed_in(callers, auth_app, "member")
    admin = await signed_in(callers, auth_app, "admin")
    keys = {
        "read": (await member.create_key("r", ["READ"]))["key"],
        "write": (await member.create_key("w", ["WRITE"]))["key"],
        "read_write": (await member.create_key("rw", ["READ", "WRITE"]))["key"],
        "execute": (await member.create_key("x", ["EXECUTE"]))["key"],
        "admin_read": (await admin.create_key("ar", ["READ"]))["key"],
        "admin_all": (await admin.create_key("aa", ["READ", "ADMIN"]))["key"],
    }
    by = {name: callers(auth_app).bearer(key) for name, key in keys.items()}
    read = "{ tags { totalCount } }"

    # read only: reads, cannot write.
    assert (await by["read"].gql.data(read))["tags"]["totalCount"] == 0
    assert await by["read"].code(CREATE_TAG, {"n": "by read key"}) == FORBIDDEN
    # write only: writes, cannot read.
    await by["write"].gql.data(CREATE_TAG, {"n": "by write key"})
    assert await by["write"].code(read) == FORBIDDEN
    # read and write.
    await by["read_write"].gql.data(CREATE_TAG, {"n": "by read-write key"})
    assert (await by["read_write"].gql.data(read))["tags"]["totalCount"] == 2
    # execute only: neither reads nor writes.
    assert await by["execute"].code(read) == FORBIDDEN
    assert await by["execute"].code(CREATE_TAG, {"n": "by execute key"}) == FORBIDDEN
    # An admin's read key is no admin.
    new_user = {"u": "bykey", "e": "bykey@example.com", "r": "VIEWER", "p": PASSWORD}
    assert await by["admin_read"].code(CREATE_USER, new_user) == FORBIDDEN
    assert await by["admin_read"].code(CREATE_TAG, {"n": "by admin read key"}) == FORBIDDEN
    assert await count(db, "users") == 3
    # An admin key with the admin scope is.
    await by["admin_all"].gql.data(CREATE_USER, new_user)
    assert await count(db, "users") == 4
    assert sorted(t.name for t in await _tags(db)) == ["by read-write key", "by write key"]

    # Account security needs a session: keys cannot mint keys, codes or TOTP.
    for query in (BEGIN_TOTP, BACKUP_CODES):
        assert await by["admin_all"].code(query) == FORBIDDEN
    assert await by["read_write"].code(CREATE_KEY, {"n": "child", "s": ["READ"]}) == FORBIDDEN
    assert await count(db, "api_keys") == len(keys)

    # Every key used is marked so.
    stored = await rows(db, "api_keys")
    assert all(r["last_used_at"] is not None for r in stored)


PRINCIPALS = {
    # name: (role of the user, key scopes or None for a session)
    "viewer session": ("viewer", None),
    "member session": ("member", None),
    "admin read key": ("admin", ["READ"]),
    "member write key": ("member", ["READ", "WRITE"]),
    "member execute key": ("member", ["EXECUTE"]),
}


@pytest.mark.parametrize("principal", ["anonymous", *PRINCIPALS])
async def test_every_mutations_declared_permission_is_enforced_and_nothing_is_written(
    auth_app, db, callers, principal
):
    """Walks every mutation of the schema: one whose declared permission the caller
    lacks is refused (FORBIDDEN; UNAUTHENTICATED when anonymous), writes nothing,
    and is audited as denied."""
    declared = declared_permissions()
    schema = await client_schema(await signed_in(callers, auth_app, "admin"))
    assert set(declared) == set(schema.mutation_type.fields)  # type: ignore[union-attr]
    assert [name for name, p in declared.items() if p is None] == ["login"]

    if principal == "anonymous":
        caller, held, expected = callers(auth_app), frozenset[Permission](), UNAUTHENTICATED
    else:
        role, scopes = PRINCIPALS[principal]
        caller = await signed_in(callers, auth_app, role)
        held = {
            "viewer": frozenset({Permission.READ}),
            "member": frozenset({Permission.READ, Permission.WRITE, Permission.EXECUTE}),
            "admin": frozenset(Permission),
        }[role]
        if scopes is not None:
            # one request per refused mutation: more than the default 60 a minute
            key = (await caller.create_key(principal, scopes, r=1000))["key"]
            caller = callers(auth_app).bearer(key)
            held &= frozenset(Permission(s.lower()) for s in scopes)
        expected = FORBIDDEN
    refused = sorted(name for name, p in declared.items() if p is not None and p not in held)
    assert refused, "every principal here lacks some permission"

    before = await snapshot(db)
    audited_before = await count(db, "system_logs")
    outcomes = {}
    for name in refused:
        document, variables = mutation_document(schema, name)
        body = await caller.gql.post(document, variables)
        outcomes[name] = (body.get("errors") or [{}])[0].get("extensions", {}).get("code")
        assert body.get("data") is None, (name, body)
    assert outcomes == dict.fromkeys(refused, expected)
    assert await snapshot(db) == before
    if principal != "anonymous":
        denied = (await rows(db, "system_logs"))[audited_before:]
        assert sorted(r["action"] for r in denied) == refused
        assert {r["status"] for r in denied} == {"denied"}


# --- API keys ---------------------------------------------------------------------------


async def test_expired_revoked_and_unknown_keys_get_401(auth_app, db, callers, user_ids):
    member = await signed_in(callers, auth_app, "member")
    soon = datetime.now(UTC) + timedelta(minutes=5)
    made = await member.create_key("expiring", ["READ"], x=soon.isoformat())
    assert made["apiKey"]["expiresAt"] is not None
    by_key = callers(auth_app).bearer(made["key"])
    response = await by_key.raw(ME)
    assert response.status_code == 200
    assert response.json()["data"]["me"]["username"] == "member"

    # Expired (moved into the past in the database).
    key_pk = decode_id(made["apiKey"]["id"])[1]
    async with db.transaction() as session:
        await session.execute(
            update(models.ApiKey)
            .where(models.ApiKey.id == key_pk)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await by_key.raw(ME)
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["extensions"]["code"] == UNAUTHENTICATED
    assert expired.json()["data"] is None

    # Expired by the clock: created to live a moment.
    moment = await member.create_key(
        "brief", ["READ"], x=(datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    )
    brief = callers(auth_app).bearer(moment["key"])
    assert (await brief.raw(ME)).status_code == 200
    await asyncio.sleep(2.5)
    assert (await brief.raw(ME)).status_code == 401

    # Revoked by its owner.
    other = await member.create_key("to revoke", ["READ", "WRITE"])
    by_other = callers(auth_app).bearer(other["key"])
    assert (await by_other.raw(ME)).status_code == 200
    revoked = await member.gql.data(REVOKE_KEY, {"id": other["apiKey"]["id"]})
    assert revoked["revokeApiKey"]["apiKey"]["isActive"] is False
    response = await by_other.raw(CREATE_TAG, {"n": "after revocation"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == UNAUTHENTICATED
    assert await count(db, "tags") == 0

    # Unknown: a well-formed key of nobody.
    forged = made["key"][:-4] + ("AAAA" if not made["key"].endswith("AAAA") else "BBBB")
    assert (await callers(auth_app).bearer(forged).raw(ME)).status_code == 401

    # A key whose expiry is not in the future is refused at creation.
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert await member.code(CREATE_KEY, {"n": "stale", "s": ["READ"], "x": past}) == "BAD_REQUEST"
    assert await member.code(CREATE_KEY, {"n": "zero", "s": ["READ"], "r": 0}) == "BAD_REQUEST"
    assert await member.code(CREATE_KEY, {"n": "none", "s": []}) == "BAD_REQUEST"
    assert await count(db, "api_keys") == 3


async def test_only_owners_and_admins_revoke_and_list_keys(auth_app, db, callers, user_ids):
    member = await signed_in(callers, auth_app, "member")
    viewer = await signed_in(callers, auth_app, "viewer")
    admin = await signed_in(callers, auth_app, "admin")
    members_key = await member.create_key("m", ["READ"])
    admins_key = await admin.create_key("a", ["READ"])
    # Someone else's key: not found for a non-admin, and untouched.
    assert await viewer.code(REVOKE_KEY, {"id": members_key["apiKey"]["id"]}) == "NOT_FOUND"
    assert await member.code(REVOKE_KEY, {"id": admins_key["apiKey"]["id"]}) == "NOT_FOUND"
    assert (await callers(auth_app).bearer(members_key["key"]).raw(ME)).status_code == 200
    assert (await callers(auth_app).bearer(admins_key["key"]).raw(ME)).status_code == 200
    # Listing another user's keys: admins only.
    member_gid = gid("User", user_ids["member"])
    assert await viewer.code(API_KEYS, {"u": member_gid}) == FORBIDDEN
    listed = await admin.gql.data(API_KEYS, {"u": member_gid})
    assert [e["node"]["name"] for e in listed["apiKeys"]["edges"]] == ["m"]
    assert (await viewer.gql.data(API_KEYS))["apiKeys"]["edges"] == []
    # An admin revokes anyone's key.
    await admin.gql.data(REVOKE_KEY, {"id": members_key["apiKey"]["id"]})
    assert (await callers(auth_app).bearer(members_key["key"]).raw(ME)).status_code == 401


async def test_api_keys_are_listed_without_their_secrets(auth_app, db, callers):
    member = await signed_in(callers, auth_app, "member")
    first = await member.create_key("first", ["READ"], r=10)
    second = await member.create_key("second", ["READ", "WRITE"])
    for made in (first, second):
        key, prefix = made["key"], made["apiKey"]["prefix"]
        assert re.fullmatch(r"exk_[0-9a-f]{8}", prefix)
        assert key.startswith(prefix + "_") and len(key) > len(prefix) + 30
    # Use one, so lastUsedAt shows too.
    await callers(auth_app).bearer(first["key"]).gql.data(ME)

    listing = await member.gql.data(API_KEYS)
    nodes = [e["node"] for e in listing["apiKeys"]["edges"]]
    assert [n["name"] for n in nodes] == ["second", "first"]  # newest first
    assert [n["prefix"] for n in nodes] == [second["apiKey"]["prefix"], first["apiKey"]["prefix"]]
    assert nodes[1]["rateLimit"] == 10 and nodes[1]["lastUsedAt"] is not None
    assert nodes[0]["user"] == {"username": "member"}
    text = str(listing)
    for made in (first, second):
        secret_part = made["key"][len(made["apiKey"]["prefix"]) + 1 :]
        assert made["key"] not in text and secret_part not in text

    # No type offers a secret field at all.
    schema = await client_schema(member)
    fields = {
        name: set(schema.get_type(name).fields)  # type: ignore[union-attr]
        for name in ("ApiKey", "Session", "User")
    }
    assert not fields["ApiKey"] & {"key", "keyHash", "secret", "hash"}
    assert not fields["Session"] & {"token", "sessionToken"}
    assert not fields["User"] & {"passwordHash", "password", "totpSecret", "backupCodes"}

    # Stored: only the SHA-256 of each key.
    stored = {r["name"]: r for r in await rows(db, "api_keys")}
    for name, made in (("first", first), ("second", second)):
        assert stored[name]["key_hash"] == sha256(made["key"])
        assert stored[name]["prefix"] == made["apiKey"]["prefix"]


async def test_a_key_over_its_rate_limit_gets_429_with_retry_after(auth_app, db, callers):
    member = await signed_in(callers, auth_app, "member")
    other = callers(auth_app).bearer((await member.create_key("other", ["READ"], r=3))["key"])
    for attempt in range(3):
        key = (await member.create_key(f"slow {attempt}", ["READ"], r=3))["key"]
        caller = callers(auth_app).bearer(key)
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        statuses = [(await caller.raw(ME)).status_code for _ in range(3)]
        limited = await caller.raw(ME)
        if datetime.now(UTC).replace(second=0, microsecond=0) != minute:
            continue  # the four requests straddled two windows: again with a fresh key
        assert statuses == [200, 200, 200]
        assert limited.status_code == 429
        retry_after = int(limited.headers["retry-after"])
        assert 1 <= retry_after <= 60
        error = limited.json()["errors"][0]
        assert error["extensions"]["code"] == RATE_LIMITED
        assert error["extensions"]["retryAfter"] == retry_after
        assert limited.json()["data"] is None
        # Still limited, and other credentials are not.
        assert (await caller.raw(ME)).status_code == 429
        assert (await other.raw(ME)).status_code == 200
        assert (await member.raw(ME)).status_code == 200
        return
    pytest.fail("could not make four requests inside one minute window")


# --- sessions ------------------------------------------------------------------------


async def test_login_by_username_and_by_email_stores_only_the_token_hash(
    auth_app, db, settings, callers, user_ids
):
    anon = callers(auth_app)
    by_name = (await anon.gql.data(LOGIN, {"u": "member", "p": PASSWORD}))["login"]
    by_mail = (await anon.gql.data(LOGIN, {"e": "Member@Example.com", "p": PASSWORD}))["login"]
    for login in (by_name, by_mail):
        assert login["user"]["username"] == "member"
        assert login["token"].startswith("exs_")
    assert by_name["token"] != by_mail["token"]
    stored = {r["id"]: r for r in await rows(db, "session_logs")}
    assert len(stored) == 2
    for login in (by_name, by_mail):
        record = stored[decode_id(login["session"]["id"])[1]]
        assert record["session_token"] == sha256(login["token"]) != login["token"]
        assert record["user_id"] == user_ids["member"] and record["is_active"]
        lifetime = record["expires_at"] - record["created_at"]
        assert abs(lifetime - timedelta(hours=settings.session_ttl_hours)) < timedelta(minutes=1)
    history = await rows(db, "login_history")
    assert [(r["success"], r["login_method"], r["failure_reason"]) for r in history] == [
        (True, "password", None)
    ] * 2
    assert [r["identifier_hash"] for r in history] == [
        sha256("member"),
        sha256("member@example.com"),
    ]
    # Exactly one of username and email.
    for variables in ({"p": PASSWORD}, {"u": "member", "e": "member@example.com", "p": PASSWORD}):
        assert await anon.code(LOGIN, variables) == "BAD_REQUEST"
    assert await count(db, "session_logs") == 2


async def test_the_session_cookie(auth_app, db, settings, callers):
    browser = callers(auth_app)
    response = await browser.raw(LOGIN, {"u": "member", "p": PASSWORD})
    token = response.json()["data"]["login"]["token"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{settings.session_cookie_name}={token};")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "max-age", "path"} <= attributes
    assert re.search(r"SameSite=(lax|strict)", cookie, re.IGNORECASE)
    assert f"Max-Age={settings.session_ttl_hours * 3600}" in cookie
    async with db.read() as session:
        stored = await session.scalar(select(models.SessionLog.session_token))
    assert stored != token and stored == sha256(token)

    # The cookie alone (no Authorization header) signs the browser in.
    assert "authorization" not in browser.http.headers
    assert (await browser.gql.data(ME))["me"]["username"] == "member"
    await browser.gql.data(CREATE_TAG, {"n": "via cookie"})
    sessions = (await browser.gql.data(MY_SESSIONS))["mySessions"]["edges"]
    assert [s["node"]["current"] for s in sessions] == [True]

    # logout ends the session and clears the cookie.
    response = await browser.raw(LOGOUT)
    assert response.json()["data"]["logout"]["session"]["isActive"] is False
    cleared = response.headers["set-cookie"]
    assert cleared.startswith(f"{settings.session_cookie_name}=") and "Max-Age=0" in cleared
    assert settings.session_cookie_name not in browser.http.cookies
    # The old cookie sent again: anonymous (a stale cookie is no error), may sign in again.
    stale = callers(auth_app)
    stale.http.headers["cookie"] = f"{settings.session_cookie_name}={token}"
    response = await stale.raw(ME)
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == UNAUTHENTICATED
    assert (await stale.gql.data(LOGIN, {"u": "member", "p": PASSWORD}))["login"]["token"]
    await browser.gql.data(LOGIN, {"u": "member", "p": PASSWORD})
    assert (await browser.gql.data(ME))["me"]["username"] == "member"

    # An expired cookie session: anonymous again.
    async with db.transaction() as session:
        await session.execute(
            update(models.SessionLog).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await browser.code(ME) == UNAUTHENTICATED
    assert [t.name for t in await _tags(db)] == ["via cookie"]


async def test_revoked_logged_out_and_expired_sessions_are_refused(auth_app, db, callers, user_ids):
    first = await signed_in(callers, auth_app, "member")
    second = await signed_in(callers, auth_app, "member")
    sessions = (await second.gql.data(MY_SESSIONS))["mySessions"]["edges"]
    assert len(sessions) == 2
    current = [s["node"]["id"] for s in sessions if s["node"]["current"]]
    others = [s["node"]["id"] for s in sessions if not s["node"]["current"]]
    assert len(current) == 1 and len(others) == 1

    # revokeSession: the other session is over.
    ended = await second.gql.data(REVOKE_SESSION, {"id": others[0]})
    assert ended["revokeSession"]["session"]["isActive"] is False
    response = await first.raw(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == UNAUTHENTICATED
    assert await second.code(REVOKE_SESSION, {"id": others[0]}) == "NOT_FOUND"
    assert len((await second.gql.data(MY_SESSIONS))["mySessions"]["edges"]) == 1

    # Someone else's session: not found for a non-admin; an admin may end it.
    admin = await signed_in(callers, auth_app, "admin")
    admins_session = (await admin.gql.data(MY_SESSIONS))["mySessions"]["edges"][0]["node"]["id"]
    assert await second.code(REVOKE_SESSION, {"id": admins_session}) == "NOT_FOUND"
    assert (await admin.raw(ME)).status_code == 200
    third = await signed_in(callers, auth_app, "member")
    third_session = (await third.gql.data(MY_SESSIONS))["mySessions"]["edges"]
    third_id = next(s["node"]["id"] for s in third_session if s["node"]["current"])
    await admin.gql.data(REVOKE_SESSION, {"id": third_id})
    assert (await third.raw(ME)).status_code == 401

    # logout.
    out = await second.gql.data(LOGOUT)
    assert out["logout"]["session"]["loggedOutAt"] is not None
    assert (await second.raw(ME)).status_code == 401
    # A key has no session to log out of.
    key = (await admin.create_key("k", ["READ"]))["key"]
    assert await callers(auth_app).bearer(key).code(LOGOUT) == "BAD_REQUEST"

    # Expired.
    fourth = await signed_in(callers, auth_app, "viewer")
    assert (await fourth.raw(ME)).status_code == 200
    async with db.transaction() as session:
        await session.execute(
            update(models.SessionLog)
            .where(models.SessionLog.user_id == user_ids["viewer"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = await fourth.raw(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == UNAUTHENTICATED
    assert (await admin.raw(ME)).status_code == 200

    stored = {r["user_id"]: r for r in await rows(db, "session_logs") if not r["is_active"]}
    assert stored[user_ids["member"]]["logged_out_at"] is not None


# --- login failures and throttling -------------------------------------------------------


def _shape(body: dict[str, Any]) -> Any:
    """What a response tells the client, without positions."""
    return (
        body.get("data"),
        [(e["message"], e.get("extensions")) for e in body.get("errors") or []],
    )


def _without_wait(shapes: list[Any]) -> list[Any]:
    return [
        (data, [(m, {k: v for k, v in (x or {}).items() if k != "retryAfter"}) for m, x in errs])
        for data, errs in shapes
    ]


@pytest.fixture
def slow_app(make_app: AppFactory) -> Any:
    """Throttling with a delay long enough that no test outruns it by accident."""
    return make_app(login_delay_base_seconds=60, login_delay_max_seconds=3600)


async def _age_login_history(db: Database, seconds: float) -> None:
    """Move every recorded attempt back in time, as if ``seconds`` had passed."""
    L = models.LoginHistory
    async with db.transaction() as session:
        for pk, stamp in (await session.execute(select(L.id, L.timestamp))).all():
            await session.execute(
                update(L).where(L.id == pk).values(timestamp=stamp - timedelta(seconds=seconds))
            )


async def test_failures_are_recorded_and_throttled_alike_for_unknown_users(
    slow_app, db, settings, callers, user_ids
):
    limit = settings.login_max_failures
    assert limit >= 2
    known, unknown = callers(slow_app, "10.0.0.1"), callers(slow_app, "10.0.0.2")
    seen: dict[str, list[Any]] = {"member": [], "ghost": []}
    for name, caller in (("member", known), ("ghost", unknown)):
        for _ in range(limit):
            seen[name].append(_shape(await caller.gql.post(LOGIN, {"u": name, "p": WRONG})))
        # That (account, address) pair is delayed now, even with the right password.
        seen[name].append(_shape(await caller.gql.post(LOGIN, {"u": name, "p": WRONG})))
        seen[name].append(_shape(await caller.gql.post(LOGIN, {"u": name, "p": PASSWORD})))
    # Nothing tells them apart (but the clock: retryAfter counts down).
    assert _without_wait(seen["member"]) == _without_wait(seen["ghost"])
    codes = [errors[0][1]["code"] for _, errors in seen["member"]]
    assert codes == [UNAUTHENTICATED] * limit + [RATE_LIMITED] * 2
    assert seen["member"][0][1][0][0] == "invalid credentials"
    assert seen["member"][-1][0] is None
    assert 0 < seen["member"][-1][1][0][1]["retryAfter"] <= 60

    # The owner, from their own address, is not locked out by someone else's failures;
    # other accounts from the delayed address are not delayed either.
    await callers(slow_app, "10.0.0.3").login("member")
    await known.login("viewer")
    assert await count(db, "session_logs") == 2

    # Every attempt is in login_history, with its reason and the client's address.
    history = await rows(db, "login_history")
    by_identifier: dict[str, list[dict[str, Any]]] = {}
    for row in history:
        by_identifier.setdefault(row["identifier_hash"], []).append(row)
    member_rows = by_identifier[sha256("member")]
    ghost_rows = by_identifier[sha256("ghost")]
    expected = ["invalid_credentials"] * limit + ["throttled"] * 2
    assert [r["failure_reason"] for r in member_rows] == [*expected, None]
    assert [r["failure_reason"] for r in ghost_rows] == expected
    assert not any(r["success"] for r in member_rows[:-1] + ghost_rows)
    assert {r["user_id"] for r in member_rows} == {user_ids["member"], None}
    assert {r["user_id"] for r in ghost_rows} == {None}
    assert {r["ip_address"] for r in ghost_rows} == {"10.0.0.2"}
    assert member_rows[-1]["ip_address"] == "10.0.0.3"

    # Once the delay has passed, the pair is checked again.
    await _age_login_history(db, 61)
    await known.login("member")


async def test_the_delay_doubles_with_each_failure_up_to_its_cap(make_app, db, settings, callers):
    """base * 2^(failures - max) seconds after the pair's last failure, at most the cap;
    refused attempts do not extend it."""
    # Minutes, so that the wall-clock time the requests themselves take (seconds
    # under a loaded CI machine) stays well inside the margins below.
    app = make_app(
        login_delay_base_seconds=100,
        login_delay_max_seconds=750,
        login_failure_window_minutes=120,  # every failure below stays in the window
    )
    limit = settings.login_max_failures
    attacker = callers(app, "10.2.0.1")
    for _ in range(limit):
        assert await attacker.code(LOGIN, {"u": "member", "p": WRONG}) == UNAUTHENTICATED
    for expected in (100, 200, 400, 750, 750):
        waits = []
        for _ in range(3):  # refused attempts do not make the wait longer
            error = await attacker.error(LOGIN, {"u": "member", "p": WRONG})
            assert error["extensions"]["code"] == RATE_LIMITED
            waits.append(error["extensions"]["retryAfter"])
        assert all(expected - 30 <= w <= expected for w in waits), (expected, waits)
        await _age_login_history(db, expected - 30)  # not quite yet
        assert await attacker.code(LOGIN, {"u": "member", "p": PASSWORD}) == RATE_LIMITED
        await _age_login_history(db, 31)
        assert await attacker.code(LOGIN, {"u": "member", "p": WRONG}) == UNAUTHENTICATED
    # The owner signs in from elsewhere throughout.
    await callers(app, "10.2.0.2").login("member")


async def test_many_failures_from_one_address_delay_that_address(slow_app, settings, callers):
    crowd = callers(slow_app, "10.9.9.9")
    budget = settings.login_max_failures * 4
    for i in range(budget):
        assert await crowd.code(LOGIN, {"u": f"nobody{i}", "p": WRONG}) == UNAUTHENTICATED
    # Password spraying: the address is delayed across accounts.
    assert await crowd.code(LOGIN, {"u": "viewer", "p": PASSWORD}) == RATE_LIMITED
    await callers(slow_app, "10.9.9.10").login("viewer")


async def test_concurrent_failures_cannot_outrun_the_throttle(slow_app, settings, callers):
    """Many wrong passwords at once for one account from one address: no more of
    them are checked than the limit allows one after another."""
    limit = settings.login_max_failures
    attacker = callers(slow_app, "10.1.0.1")
    attempts = await asyncio.gather(
        *(attacker.gql.post(LOGIN, {"u": "member", "p": WRONG}) for _ in range(limit * 4))
    )
    codes = [a["errors"][0]["extensions"]["code"] for a in attempts]
    assert set(codes) <= {UNAUTHENTICATED, RATE_LIMITED}
    checked = codes.count(UNAUTHENTICATED)
    assert checked <= limit, codes
    # Refused attempts are not guesses: what is left of the budget can still be used,
    # one after another, and no more.
    while checked < limit:
        assert await attacker.code(LOGIN, {"u": "member", "p": WRONG}) == UNAUTHENTICATED
        checked += 1
    assert await attacker.code(LOGIN, {"u": "member", "p": PASSWORD}) == RATE_LIMITED
    await callers(slow_app, "10.1.0.2").login("member")


async def test_a_valid_second_factor_passes_a_delayed_pair(
    slow_app, db, settings, callers, user_ids
):
    """Behind the attacker's address (one NAT, one proxy), the owner still signs in
    with the right password and a valid second factor; nothing less gets through,
    and what was wrong is not told."""
    member = await signed_in(callers, slow_app, "member")
    totp = await _enroll(member, db, user_ids["member"])
    await member.gql.data(CONFIRM_TOTP, {"c": await _previous_step_code(totp)})
    backup = (await member.gql.data(BACKUP_CODES))["generateBackupCodes"]["codes"]
    shared = callers(slow_app, "10.3.0.1")
    for _ in range(settings.login_max_failures):
        assert await shared.code(LOGIN, {"u": "member", "p": WRONG}) == UNAUTHENTICATED
    for _ in range(settings.login_max_failures):
        assert await shared.code(LOGIN, {"u": "admin", "p": WRONG}) == UNAUTHENTICATED

    delayed = [
        {"u": "member", "p": PASSWORD},  # the right password alone
        {"u": "member", "p": PASSWORD, "t": _not_a_current_code(totp)},
        {"u": "member", "p": WRONG, "t": totp.now()},
        {"u": "member", "p": WRONG, "b": backup[0]},
        {"u": "admin", "p": PASSWORD, "t": totp.now()},  # no second factor on this account
    ]
    shapes = [_shape(await shared.gql.post(LOGIN, v)) for v in delayed]
    for data, errors in shapes:
        assert data is None and [e[1]["code"] for e in errors] == [RATE_LIMITED]
    assert len({e[0][0] for _, e in shapes}) == 1  # one message whatever was wrong

    signed = await shared.gql.data(LOGIN, {"u": "member", "p": PASSWORD, "t": totp.now()})
    assert signed["login"]["user"]["username"] == "member"
    signed = await shared.gql.data(LOGIN, {"u": "member", "p": PASSWORD, "b": backup[1]})
    assert signed["login"]["user"]["username"] == "member"
    # The account without a second factor signs in from the owner's own address.
    await callers(slow_app, "10.3.0.2").login("admin")


async def test_second_factor_failures_delay_the_accounts_second_factor(
    slow_app, db, settings, callers, user_ids
):
    """Wrong codes with the right password (only someone who knows the password)
    delay the account's second factor from any address; wrong passwords with
    codes, from anyone, do not."""
    member = await signed_in(callers, slow_app, "member")
    totp = await _enroll(member, db, user_ids["member"])
    await member.gql.data(CONFIRM_TOTP, {"c": await _previous_step_code(totp)})
    limit = settings.login_max_failures
    for i in range(limit * 2):
        stranger = callers(slow_app, f"10.4.0.{i}")
        assert await stranger.code(LOGIN, {"u": "member", "p": WRONG, "t": "000000"}) == (
            UNAUTHENTICATED
        )
    owner = callers(slow_app, "10.4.1.1")
    assert "errors" not in await owner.gql.post(
        LOGIN, {"u": "member", "p": PASSWORD, "t": totp.now()}
    )
    wrong = _not_a_current_code(totp)
    for i in range(limit):
        knows = callers(slow_app, f"10.4.2.{i}")
        assert await knows.code(LOGIN, {"u": "member", "p": PASSWORD, "t": wrong}) == (
            UNAUTHENTICATED
        )
    fresh = callers(slow_app, "10.4.3.1")
    refused = await fresh.error(LOGIN, {"u": "member", "p": PASSWORD, "t": totp.now()})
    assert refused["extensions"]["code"] == RATE_LIMITED
    assert 0 < refused["extensions"]["retryAfter"] <= 60


# --- TOTP ----------------------------------------------------------------------------


async def _previous_step_code(totp: pyotp.TOTP, margin: float = 5.0) -> str:
    """The previous time step's code (one step of drift is accepted), taken at
    least ``margin`` seconds before the current step ends: a request crossing
    into the next step would otherwise find it two steps old (a CI run under load
    once did)."""
    left = totp.interval - time.time() % totp.interval
    if left < margin:
        await asyncio.sleep(left + 0.1)
    return totp.at(time.time() - totp.interval)


def _not_a_current_code(totp: pyotp.TOTP) -> str:
    valid = {totp.at(time.time() + drift) for drift in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{n:06d}" for n in range(1000000)) if c not in valid)


async def _enroll(caller: Caller, db: Database, user_id: int) -> pyotp.TOTP:
    uri = (await caller.gql.data(BEGIN_TOTP))["beginTotpEnrollment"]["provisioningUri"]
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert parse_qs(parsed.query)["issuer"] == ["expgraph"]
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    async with db.read() as session:
        user = await session.get(models.User, user_id)
    assert user is not None and user.totp_secret == totp.secret and not user.totp_enabled
    return totp


async def test_totp_end_to_end(lenient_app, db, callers, user_ids):
    member = await signed_in(callers, lenient_app, "member")
    anon = callers(lenient_app)
    totp = await _enroll(member, db, user_ids["member"])
    # Not on until confirmed: signing in needs no code yet.
    assert "errors" not in await anon.gql.post(LOGIN, {"u": "member", "p": PASSWORD})
    assert await member.code(CONFIRM_TOTP, {"c": _not_a_current_code(totp)}) == "BAD_REQUEST"
    assert (await member.gql.data(ME))["me"]["totpEnabled"] is False

    # Codes are spent in increasing time steps: confirm with the previous step's
    # code (one step of drift is allowed), sign in with the current one, disable
    # with the next one.
    confirmed = await member.gql.data(CONFIRM_TOTP, {"c": await _previous_step_code(totp)})
    assert confirmed["confirmTotpEnrollment"]["user"]["totpEnabled"] is True
    assert await member.code(BEGIN_TOTP) == "CONFLICT"
    assert await member.code(CONFIRM_TOTP, {"c": totp.now()}) == "CONFLICT"

    # The second factor is required now.
    needs = await anon.error(LOGIN, {"u": "member", "p": PASSWORD})
    assert needs["extensions"] == {"code": UNAUTHENTICATED, "secondFactorRequired": True}
    wrong_code = await anon.error(
        LOGIN, {"u": "member", "p": PASSWORD, "t": _not_a_current_code(totp)}
    )
    assert wrong_code["extensions"]["code"] == UNAUTHENTICATED
    # A right code with a wrong password: refused, and the code is not spent.
    code = totp.now()
    bad_password = await anon.error(LOGIN, {"u": "member", "p": WRONG, "t": code})
    assert bad_password["extensions"] == {"code": UNAUTHENTICATED}
    login = (await anon.gql.data(LOGIN, {"u": "member", "p": PASSWORD, "t": code}))["login"]
    assert login["user"]["totpEnabled"] is True
    # The same code a second time, or an older one: refused.
    replay = await anon.error(LOGIN, {"u": "member", "p": PASSWORD, "t": code})
    assert replay["extensions"]["code"] == UNAUTHENTICATED
    older = await anon.error(LOGIN, {"u": "member", "p": PASSWORD, "t": totp.at(time.time() - 30)})
    assert older["extensions"]["code"] == UNAUTHENTICATED
    assert await count(db, "session_logs") == 3  # two members' sign-ins and the one above

    history = await rows(db, "login_history")
    assert [(r["login_method"], r["failure_reason"]) for r in history[2:]] == [
        ("password", "second_factor_required"),
        ("totp", "invalid_second_factor"),
        ("password", "invalid_credentials"),
        ("totp", None),
        ("totp", "invalid_second_factor"),
        ("totp", "invalid_second_factor"),
    ]

    # disableTotp needs a valid, unspent code.
    assert await member.code(DISABLE_TOTP, {"c": _not_a_current_code(totp)}) == "BAD_REQUEST"
    assert await member.code(DISABLE_TOTP, {"c": code}) == "BAD_REQUEST"
    assert (await member.gql.data(ME))["me"]["totpEnabled"] is True
    off = await member.gql.data(DISABLE_TOTP, {"c": totp.at(time.time() + 30)})
    assert off["disableTotp"]["user"]["totpEnabled"] is False
    async with db.read() as session:
        user = await session.get(models.User, user_ids["member"])
    assert user is not None and user.totp_secret is None and not user.totp_enabled
    assert "errors" not in await anon.gql.post(LOGIN, {"u": "member", "p": PASSWORD})
    assert await member.code(DISABLE_TOTP, {"c": totp.now()}) == "CONFLICT"


async def test_one_totp_code_signs_in_once_under_concurrent_use(lenient_app, db, callers, user_ids):
    member = await signed_in(callers, lenient_app, "member")
    totp = await _enroll(member, db, user_ids["member"])
    await member.gql.data(CONFIRM_TOTP, {"c": await _previous_step_code(totp)})
    code = totp.now()
    attempts = await asyncio.gather(
        *(
            callers(lenient_app).gql.post(LOGIN, {"u": "member", "p": PASSWORD, "t": code})
            for _ in range(10)
        )
    )
    codes = [a["errors"][0]["extensions"]["code"] for a in attempts if a.get("errors")]
    assert len(codes) == 9 and set(codes) == {UNAUTHENTICATED}, attempts


# --- backup codes -------------------------------------------------------------------------


CODE_FORMAT = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}")


async def test_backup_codes(lenient_app, db, callers, user_ids):
    member = await signed_in(callers, lenient_app, "member")
    assert await member.code(BACKUP_CODES) == "CONFLICT"  # TOTP first
    totp = await _enroll(member, db, user_ids["member"])
    await member.gql.data(CONFIRM_TOTP, {"c": totp.now()})

    codes = (await member.gql.data(BACKUP_CODES))["generateBackupCodes"]["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(CODE_FORMAT.fullmatch(c) for c in codes), codes
    stored = await rows(db, "backup_codes")
    assert len(stored) == 10 and {r["user_id"] for r in stored} == {user_ids["member"]}
    hashes = {r["code_hash"] for r in stored}
    assert hashes == {sha256(c) for c in codes}
    assert not hashes & set(codes)
    assert not any(c in repr(stored) or c.replace("-", "") in repr(stored) for c in codes)

    anon = callers(lenient_app)
    # A right code with a wrong password: refused, not spent.
    assert await anon.code(LOGIN, {"u": "member", "p": WRONG, "b": codes[0]}) == UNAUTHENTICATED
    # Each code works exactly once (case and dashes do not matter).
    for i, code in enumerate(codes):
        given = code.lower().replace("-", "") if i % 2 else code
        login = await anon.gql.post(LOGIN, {"u": "member", "p": PASSWORD, "b": given})
        assert "errors" not in login, (i, login)
    for code in codes:
        again = await anon.error(LOGIN, {"u": "member", "p": PASSWORD, "b": code})
        assert again["extensions"]["code"] == UNAUTHENTICATED
    stored = await rows(db, "backup_codes")
    assert all(r["is_used"] and r["used_at"] is not None for r in stored)
    methods = [r["login_method"] for r in await rows(db, "login_history") if r["success"]]
    assert methods.count("backup_code") == 10

    # 20 concurrent sign-ins with one fresh code: exactly one succeeds.
    fresh = (await member.gql.data(BACKUP_CODES))["generateBackupCodes"]["codes"]
    assert not set(fresh) & set(codes)
    sessions_before = await count(db, "session_logs")
    attempts = await asyncio.gather(
        *(
            callers(lenient_app).gql.post(LOGIN, {"u": "member", "p": PASSWORD, "b": fresh[0]})
            for _ in range(20)
        )
    )
    assert sum("errors" not in a for a in attempts) == 1, attempts
    failures = [a["errors"][0]["extensions"]["code"] for a in attempts if "errors" in a]
    assert failures == [UNAUTHENTICATED] * 19
    assert await count(db, "session_logs") == sessions_before + 1
    used = [r for r in await rows(db, "backup_codes") if r["is_used"]]
    assert [r["code_hash"] for r in used] == [sha256(fresh[0])]

    # New codes replace the old ones, used or not.
    newest = (await member.gql.data(BACKUP_CODES))["generateBackupCodes"]["codes"]
    assert await anon.code(LOGIN, {"u": "member", "p": PASSWORD, "b": fresh[1]}) == UNAUTHENTICATED
    assert "errors" not in await anon.gql.post(
        LOGIN, {"u": "member", "p": PASSWORD, "b": newest[0]}
    )
    assert await count(db, "backup_codes") == 10
    assert await count(db, "session_logs") == sessions_before + 2
    # Turning TOTP off drops the codes.
    await member.gql.data(DISABLE_TOTP, {"c": totp.at(time.time() + 30)})
    assert await count(db, "backup_codes") == 0


# --- where secrets appear -------------------------------------------------------------------


async def test_secrets_appear_only_in_the_responses_that_hand_them_out(
    make_app, db, callers, user_ids
):
    app = make_app(request_log_enabled=True, request_log_sample_rate=1.0, login_max_failures=100)
    seen: list[tuple[str, str]] = []  # (operation, response text)

    async def post(caller: Caller, label: str, query: str, **variables: Any) -> dict[str, Any]:
        response = await caller.raw(query, variables)
        seen.append((label, response.text))
        body: dict[str, Any] = response.json()
        return body

    member, admin, anon = callers(app), callers(app), callers(app)
    token = (await post(member, "login", LOGIN, u="member", p=PASSWORD))["data"]["login"]["token"]
    member.bearer(token)
    member.http.cookies.clear()
    admin_token = (await post(admin, "login", LOGIN, e="admin@example.com", p=PASSWORD))["data"][
        "login"
    ]["token"]
    admin.bearer(admin_token)
    admin.http.cookies.clear()
    made = (await post(member, "createApiKey", CREATE_KEY, n="k", s=["READ", "WRITE"]))["data"][
        "createApiKey"
    ]
    key = made["key"]
    uri = (await post(member, "beginTotpEnrollment", BEGIN_TOTP))["data"]["beginTotpEnrollment"][
        "provisioningUri"
    ]
    totp = pyotp.parse_uri(uri)
    await post(member, "confirmTotpEnrollment", CONFIRM_TOTP, c=totp.now())
    codes = (await post(member, "generateBackupCodes", BACKUP_CODES))["data"][
        "generateBackupCodes"
    ]["codes"]
    await post(anon, "login failed", LOGIN, u="member", p=WRONG, b=codes[1])
    second = (await post(anon, "login", LOGIN, u="member", p=PASSWORD, b=codes[0]))["data"][
        "login"
    ]["token"]
    by_key = callers(app).bearer(key)
    await post(by_key, "other", CREATE_TAG, n="tag")
    await post(by_key, "other", ME)
    await post(member, "other", MY_SESSIONS)
    await post(member, "other", API_KEYS)
    await post(member, "other", "{ users { edges { node { id username email } } } }")
    await post(admin, "other", "{ systemLogs { edges { node { action details errorMessage } } } }")
    await post(admin, "other", API_KEYS, u=gid("User", user_ids["member"]))

    secrets = {
        "password": PASSWORD,
        "member session token": token,
        "second session token": second,
        "admin session token": admin_token,
        "api key": key,
        "api key secret part": key[len(made["apiKey"]["prefix"]) + 1 :],
        "totp secret": totp.secret,
        **{f"backup code {i}": c for i, c in enumerate(codes)},
        **{f"backup code {i} bare": c.replace("-", "") for i, c in enumerate(codes)},
    }
    handed_out_by = {
        "password": set(),
        "totp secret": {"beginTotpEnrollment"},
        "api key": {"createApiKey"},
        "api key secret part": {"createApiKey"},
    }
    for name, secret in secrets.items():
        where = {label for label, text in seen if secret in text}
        allowed = handed_out_by.get(
            name, {"generateBackupCodes"} if name.startswith("backup") else {"login"}
        )
        assert where <= allowed, (name, where)

    # Nothing stored holds a secret (the TOTP secret lives in users.totp_secret only).
    await app.state.request_log.flush()
    assert await count(db, "api_request_logs") >= len(seen)
    assert await count(db, "system_logs") > 0
    tables = await dump(db)
    for name, secret in secrets.items():
        holding = {table for table, text in tables.items() if secret in text}
        assert holding <= ({"users"} if name == "totp secret" else set()), (name, holding)
