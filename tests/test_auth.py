"""Authentication on: roles, scopes, sessions, keys, TOTP, backup codes, throttling,
rate limits (both dialects, real HTTP through the app)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import func, select, update

from expgraph.app import create_app
from expgraph.domains.accounts import models, service
from tests.conftest import GraphQLClient

PASSWORD = "correct horse battery"
LOGIN = """mutation($u: String, $e: String, $p: String!, $t: String, $b: String) {
  login(input: {username: $u, email: $e, password: $p, totpCode: $t, backupCode: $b}) {
    token user { username role } session { id } } }"""
CREATE_TAG = "mutation($n: String!) { createTag(input: {name: $n}) { tag { id } } }"
CREATE_KEY = """mutation($n: String!, $s: [Scope!]!, $x: DateTime, $r: Int! = 60) {
  createApiKey(input: {name: $n, scopes: $s, expiresAt: $x, rateLimit: $r}) {
    key apiKey { id prefix scopes } } }"""


class Caller:
    """An HTTP client of an auth-enabled app, optionally signed in."""

    def __init__(self, app) -> None:
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a")
        self.gql = GraphQLClient(self.http)

    async def login(self, username: str, password: str = PASSWORD, **extra) -> dict:
        data = await self.gql.data(LOGIN, {"u": username, "p": password, **extra})
        self.http.headers["authorization"] = f"Bearer {data['login']['token']}"
        return data["login"]

    def bearer(self, token: str) -> Caller:
        self.http.headers["authorization"] = f"Bearer {token}"
        return self


@pytest.fixture
async def users(db):
    async with db.transaction() as session:
        for name, role in (
            ("admin", models.UserRole.ADMIN),
            ("member", models.UserRole.MEMBER),
            ("viewer", models.UserRole.VIEWER),
        ):
            await service.create_user(
                session, username=name, email=f"{name}@example.com", role=role, password=PASSWORD
            )


@pytest.fixture
def auth_app(settings, db, users):
    return create_app(
        settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False}), db=db
    )


async def count(db, model) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_anonymous_callers_only_sign_in(auth_app):
    anon = Caller(auth_app)
    for query in (
        "{ experiments { totalCount } }",
        "{ __schema { queryType { name } } }",
        'mutation { createTag(input: {name: "x"}) { tag { id } } }',
    ):
        assert await anon.gql.error_code(query) == "UNAUTHENTICATED", query
    assert (await anon.http.get("/healthz")).status_code == 200
    signed = await anon.login("viewer")
    assert signed["user"] == {"username": "viewer", "role": "VIEWER"}


@pytest.mark.parametrize(
    ("role", "read", "write", "admin"),
    [("viewer", True, False, False), ("member", True, True, False), ("admin", True, True, True)],
)
async def test_roles(auth_app, db, role, read, write, admin):
    caller = Caller(auth_app)
    await caller.login(role)
    body = await caller.gql.post("{ tags { totalCount } }")
    assert ("errors" not in body) == read
    body = await caller.gql.post(CREATE_TAG, {"n": f"tag of {role}"})
    assert ("errors" not in body) == write, body
    if not write:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await caller.gql.post(
        'mutation { createUser(input: {username: "newbie", email: "n@example.com"}) { user { id } } }'
    )
    assert ("errors" not in body) == admin
    if not admin:
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    from expgraph.domains.catalog.models import Tag

    assert await count(db, Tag) == (1 if write else 0)
    assert await count(db, models.User) == (4 if admin else 3)


async def test_key_scopes_never_exceed_the_role_and_are_enforced(auth_app, db):
    viewer = Caller(auth_app)
    await viewer.login("viewer")
    assert await viewer.gql.error_code(CREATE_KEY, {"n": "k", "s": ["WRITE"]}) == "FORBIDDEN"
    read_key = (await viewer.gql.data(CREATE_KEY, {"n": "r", "s": ["READ"]}))["createApiKey"]["key"]
    member = Caller(auth_app)
    await member.login("member")
    write_key = (await member.gql.data(CREATE_KEY, {"n": "w", "s": ["READ", "WRITE"]}))[
        "createApiKey"
    ]
    assert write_key["key"].startswith(write_key["apiKey"]["prefix"])
    reader = Caller(auth_app).bearer(read_key)
    assert (await reader.gql.data("{ tags { totalCount } }"))["tags"]["totalCount"] == 0
    assert await reader.gql.error_code(CREATE_TAG, {"n": "nope"}) == "FORBIDDEN"
    writer = Caller(auth_app).bearer(write_key["key"])
    await writer.gql.data(CREATE_TAG, {"n": "yes"})
    # A key cannot mint keys (account security needs a session).
    assert await writer.gql.error_code(CREATE_KEY, {"n": "x", "s": ["READ"]}) == "FORBIDDEN"
    listing = await member.gql.post("{ apiKeys { edges { node { prefix scopes isActive } } } }")
    assert write_key["key"] not in str(listing)
    assert listing["data"]["apiKeys"]["edges"][0]["node"]["scopes"] == ["read", "write"]
    # A demoted owner's key loses what the new role does not allow.
    async with db.transaction() as session:
        await session.execute(
            update(models.User)
            .where(models.User.username == "member")
            .values(role=models.UserRole.VIEWER)
        )
    assert await writer.gql.error_code(CREATE_TAG, {"n": "after demotion"}) == "FORBIDDEN"


async def test_expired_revoked_and_unknown_keys_get_401(auth_app, db):
    member = Caller(auth_app)
    await member.login("member")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    made = (await member.gql.data(CREATE_KEY, {"n": "e", "s": ["READ"], "x": soon}))["createApiKey"]
    key_caller = Caller(auth_app).bearer(made["key"])
    assert (
        await key_caller.http.post("/graphql", json={"query": "{ me { username } }"})
    ).status_code == 200
    async with db.transaction() as session:
        await session.execute(
            update(models.ApiKey).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = await key_caller.http.post("/graphql", json={"query": "{ me { username } }"})
    assert expired.status_code == 401
    assert expired.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    second = (await member.gql.data(CREATE_KEY, {"n": "r", "s": ["READ"]}))["createApiKey"]
    await member.gql.data(
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { isActive } } }",
        {"id": second["apiKey"]["id"]},
    )
    revoked = (
        await Caller(auth_app)
        .bearer(second["key"])
        .http.post("/graphql", json={"query": "{ me { username } }"})
    )
    assert revoked.status_code == 401
    unknown = (
        await Caller(auth_app)
        .bearer("exk_00000000_nope")
        .http.post("/graphql", json={"query": "{ me { username } }"})
    )
    assert unknown.status_code == 401


async def test_sessions_cookie_logout_revoke_and_expiry(auth_app, db):
    anon = Caller(auth_app)
    response = await anon.http.post(
        "/graphql", json={"query": LOGIN, "variables": {"e": "MEMBER@example.com", "p": PASSWORD}}
    )
    token = response.json()["data"]["login"]["token"]
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    async with db.read() as session:
        stored = await session.scalar(select(models.SessionLog.session_token))
    assert stored != token and len(stored) == 64
    # The cookie alone signs the browser in.
    assert (await anon.gql.data("{ me { username } }"))["me"] == {"username": "member"}
    second = Caller(auth_app)
    await second.login("member")
    sessions = (await second.gql.data("{ mySessions { edges { node { id current } } } }"))[
        "mySessions"
    ]["edges"]
    assert len(sessions) == 2
    other = next(s["node"]["id"] for s in sessions if not s["node"]["current"])
    await second.gql.data(
        "mutation($id: ID!) { revokeSession(input: {id: $id}) { session { isActive } } }",
        {"id": other},
    )
    assert await anon.gql.error_code("{ me { username } }") == "UNAUTHENTICATED"
    await second.gql.data("mutation { logout { session { isActive } } }")
    assert (await second.http.post("/graphql", json={"query": "{ me { id } }"})).status_code == 401
    third = Caller(auth_app)
    await third.login("viewer")
    async with db.transaction() as session:
        await session.execute(
            update(models.SessionLog).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert (await third.http.post("/graphql", json={"query": "{ me { id } }"})).status_code == 401


async def test_failures_are_recorded_and_throttled_alike_for_unknown_users(auth_app, db, settings):
    anon = Caller(auth_app)
    wrong = await anon.gql.post(LOGIN, {"u": "member", "p": "wrong password!"})
    missing = await anon.gql.post(LOGIN, {"u": "ghost", "p": "wrong password!"})
    assert wrong["errors"][0]["message"] == missing["errors"][0]["message"]
    assert {e["errors"][0]["extensions"]["code"] for e in (wrong, missing)} == {"UNAUTHENTICATED"}
    for _ in range(settings.login_max_failures):
        await anon.gql.post(LOGIN, {"u": "member", "p": "wrong password!"})
        await anon.gql.post(LOGIN, {"u": "ghost", "p": "wrong password!"})
    for name in ("member", "ghost"):
        assert (
            await anon.gql.error_code(LOGIN, {"u": name, "p": "wrong password!"}) == "RATE_LIMITED"
        )
    # Throttled even with the right password.
    assert await anon.gql.error_code(LOGIN, {"u": "member", "p": PASSWORD}) == "RATE_LIMITED"
    async with db.read() as session:
        reasons = (await session.scalars(select(models.LoginHistory.failure_reason))).all()
    assert {"invalid_credentials", "throttled"} <= set(reasons)
    assert None not in reasons  # no success slipped through


async def test_totp_and_backup_codes_end_to_end(auth_app, db):
    member = Caller(auth_app)
    await member.login("member")
    uri = (await member.gql.data("mutation { beginTotpEnrollment { provisioningUri } }"))[
        "beginTotpEnrollment"
    ]["provisioningUri"]
    totp = pyotp.parse_uri(uri)
    assert (
        await member.gql.error_code(
            'mutation { confirmTotpEnrollment(input: {code: "000000"}) { user { totpEnabled } } }'
        )
        == "BAD_REQUEST"
    )
    confirmed = await member.gql.data(
        "mutation($c: String!) { confirmTotpEnrollment(input: {code: $c}) { user { totpEnabled } } }",
        {"c": totp.now()},
    )
    assert confirmed["confirmTotpEnrollment"]["user"]["totpEnabled"] is True
    codes = (await member.gql.data("mutation { generateBackupCodes { codes } }"))[
        "generateBackupCodes"
    ]["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    async with db.read() as session:
        hashes = set((await session.scalars(select(models.BackupCode.code_hash))).all())
    assert not hashes & set(codes)
    anon = Caller(auth_app)
    needs = await anon.gql.post(LOGIN, {"u": "member", "p": PASSWORD})
    assert needs["errors"][0]["extensions"]["secondFactorRequired"] is True
    later = totp.at(time.time() + 30)  # the next step: the confirmation used the current one
    ok = await anon.gql.post(LOGIN, {"u": "member", "p": PASSWORD, "t": later})
    assert "errors" not in ok, ok
    replay = await anon.gql.post(LOGIN, {"u": "member", "p": PASSWORD, "t": later})
    assert replay["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # One backup code, 20 concurrent attempts: exactly one works.
    attempts = await asyncio.gather(
        *(
            Caller(auth_app).gql.post(LOGIN, {"u": "member", "p": PASSWORD, "b": codes[0]})
            for _ in range(20)
        )
    )
    assert sum("errors" not in a for a in attempts) == 1
    # The 19 refusals throttle the account: let the window pass (as if 15 minutes went by).
    from sqlalchemy import delete

    async with db.transaction() as session:
        await session.execute(delete(models.LoginHistory))
    again = await anon.gql.post(LOGIN, {"u": "member", "p": PASSWORD, "b": codes[0]})
    assert again["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "errors" not in await anon.gql.post(LOGIN, {"u": "member", "p": PASSWORD, "b": codes[1]})
    assert (
        await member.gql.error_code(
            'mutation { disableTotp(input: {code: "123456"}) { user { totpEnabled } } }'
        )
        == "BAD_REQUEST"
    )
    # Codes are single use and the next one is 30 s away: let the clock move on.
    async with db.transaction() as session:
        await session.execute(update(models.User).values(totp_last_step=None))
    off = await member.gql.data(
        "mutation($c: String!) { disableTotp(input: {code: $c}) { user { totpEnabled } } }",
        {"c": totp.now()},
    )
    assert off["disableTotp"]["user"]["totpEnabled"] is False


async def test_key_rate_limit_answers_429_with_retry_after(auth_app):
    member = Caller(auth_app)
    await member.login("member")
    key = (await member.gql.data(CREATE_KEY, {"n": "slow", "s": ["READ"], "r": 3}))["createApiKey"][
        "key"
    ]
    caller = Caller(auth_app).bearer(key)
    seconds = datetime.now(UTC).second
    if seconds > 50:  # keep the four requests inside one minute window
        await asyncio.sleep(61 - seconds)
    statuses = [
        (await caller.http.post("/graphql", json={"query": "{ me { id } }"})).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 200]
    limited = await caller.http.post("/graphql", json={"query": "{ me { id } }"})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
