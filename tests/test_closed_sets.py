"""Closed sets come back as GraphQL enums, in UPPER_CASE, whatever the stored
form (issue 14): the values stay lower-case in the database, converted in one
place per type. Inputs accept only the enum."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from expgraph.app import create_app
from expgraph.domains.accounts import models, service
from expgraph.domains.simulation.models import SimulationRun
from tests.auth_helpers import PASSWORD, Caller
from tests.helpers import create_experiment


async def test_a_session_says_its_device_type_as_an_enum_and_stores_it_lower_case(settings, db):
    async with db.transaction() as session:
        await service.create_user(
            session,
            username="member",
            email="member@example.com",
            role=models.UserRole.MEMBER,
            password=PASSWORD,
        )
    app = create_app(settings.model_copy(update={"auth_enabled": True}), db=db)
    caller = Caller(app)
    try:
        caller.http.headers["user-agent"] = "curl/8.5.0"
        await caller.login("member")
        data = await caller.gql.data("{ mySessions { edges { node { deviceType browser } } } }")
        assert [e["node"] for e in data["mySessions"]["edges"]] == [
            {"deviceType": "API", "browser": "curl"}
        ]
        made = await caller.create_key("r", ["READ", "EXECUTE"])
        assert sorted(made["apiKey"]["scopes"]) == ["EXECUTE", "READ"]
    finally:
        await caller.aclose()
    async with db.transaction() as session:
        stored = (await session.scalars(select(models.SessionLog.device_type))).all()
        scopes = (await session.scalars(select(models.ApiKey.scopes))).one()
    assert stored == ["api"]
    assert sorted(scopes) == ["execute", "read"]


CREATE_RUN = """mutation($input: CreateSimulationRunInput!) {
  createSimulationRun(input: $input) { simulationRun { id status } } }"""


async def test_a_simulation_run_status_is_an_enum_in_and_out(gql, db):
    experiment = await create_experiment(gql, "s", "SIMULATION")
    made = await gql.data(CREATE_RUN, {"input": {"experimentId": experiment["id"]}})
    assert made["createSimulationRun"]["simulationRun"]["status"] == "RUNNING"
    pending = {"experimentId": experiment["id"], "status": "PENDING"}
    made = await gql.data(CREATE_RUN, {"input": pending})
    assert made["createSimulationRun"]["simulationRun"]["status"] == "PENDING"
    free_form: dict[str, Any] = {"experimentId": experiment["id"], "status": "running"}
    assert await gql.error_code(CREATE_RUN, {"input": free_form}) == "BAD_REQUEST"
    async with db.transaction() as session:
        stored = sorted((await session.scalars(select(SimulationRun.status))).all())
    assert stored == ["pending", "running"]
