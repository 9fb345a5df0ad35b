"""The audit trail: every mutation, allowed, failed or refused, leaves one record."""

from __future__ import annotations

import httpx

from expgraph.app import create_app
from expgraph.domains.accounts import models, service
from tests.conftest import GraphQLClient

LOGS = """query($f: SystemLogFilter) { systemLogs(filter: $f, first: 100) { totalCount
  edges { node { action status details errorMessage user { username } } } } }"""


async def test_success_and_failure_are_recorded_without_secrets(gql):
    await gql.data(
        'mutation { createTag(input: {name: "audited", color: "#112233"}) { tag { id } } }'
    )
    code = await gql.error_code('mutation { createTag(input: {name: "audited"}) { tag { id } } }')
    assert code == "CONFLICT"
    await gql.data(
        'mutation { createUser(input: {username: "sam", email: "s@example.com", '
        'password: "correct horse battery"}) { user { id } } }'
    )
    logs = (await gql.data(LOGS))["systemLogs"]
    records = [e["node"] for e in logs["edges"]]
    assert [(r["action"], r["status"]) for r in records] == [
        ("createUser", "success"),
        ("createTag", "failure"),
        ("createTag", "success"),
    ]
    assert records[2]["details"] == {"input": {"name": "audited", "color": "#112233"}}
    assert records[1]["errorMessage"].startswith("CONFLICT")
    assert records[0]["details"]["input"]["password"] == "[REDACTED]"
    assert "correct horse" not in str(records)
    only_failures = (await gql.data(LOGS, {"f": {"statuses": ["failure"]}}))["systemLogs"]
    assert only_failures["totalCount"] == 1


async def test_refused_mutations_are_recorded_as_denied(settings, db):
    async with db.transaction() as session:
        viewer = await service.create_user(
            session,
            username="viewer",
            email="v@example.com",
            role=models.UserRole.VIEWER,
            password="a long viewer password",
        )
        await service.create_user(
            session,
            username="boss",
            email="b@example.com",
            role=models.UserRole.ADMIN,
            password="a long admin password!",
        )
    app = create_app(settings.model_copy(update={"auth_enabled": True}), db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        gql = GraphQLClient(http)

        async def sign_in(username: str, password: str) -> None:
            data = await gql.data(
                "mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p})"
                " { token } }",
                {"u": username, "p": password},
            )
            http.headers["authorization"] = f"Bearer {data['login']['token']}"

        await sign_in("viewer", "a long viewer password")
        code = await gql.error_code('mutation { createTag(input: {name: "nope"}) { tag { id } } }')
        assert code == "FORBIDDEN"
        await sign_in("boss", "a long admin password!")
        logs = (await gql.data(LOGS, {"f": {"actions": ["createTag"]}}))["systemLogs"]
    denied = [e["node"] for e in logs["edges"]]
    assert len(denied) == 1
    assert denied[0]["status"] == "denied"
    assert denied[0]["user"] == {"username": "viewer"}
    assert viewer.id
    logins = [e for e in (await _all_actions(db)) if e == "login"]
    assert len(logins) == 2  # sign-in is audited too, its password redacted


async def _all_actions(db) -> list[str]:
    from sqlalchemy import select

    async with db.read() as session:
        return list((await session.scalars(select(models.SystemLog.action))).all())
