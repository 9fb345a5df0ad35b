"""Training domain events (issues 16 + 17): an HPO or NAS campaign completing
and a dataset job finishing each write exactly one outbox event, in the
transaction of the change, for the user who created the campaign or the job
(``created_by``, set from the signed-in caller); a finish that rolls back writes
none; the deliverer turns a completion into an in-app notification for the
creator, and into none when nobody created it (auth off). Both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.db.outbox import OutboxEvent
from expgraph.domains.accounts import models as accounts
from expgraph.domains.accounts import service as accounts_service
from expgraph.domains.catalog.models import Dataset
from expgraph.domains.notifications import deliver
from expgraph.domains.notifications.models import Notification
from expgraph.domains.training.models import (
    DatasetGeneration,
    DatasetImport,
    HpoCampaign,
    NasCampaign,
)
from expgraph.graphql.relay import decode_id, model_pk
from tests import test_dataset_jobs as jobs
from tests import test_training_hpo as hpo
from tests import test_training_nas as nas
from tests.auth_helpers import PASSWORD, Caller

MY_NOTIFICATIONS = """{ myNotifications(first: 10) { totalCount
  edges { node { title body eventType data } } } }"""


async def _events(db: Database) -> list[OutboxEvent]:
    async with db.read() as session:
        return list((await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all())


async def _created_by(db: Database, model: Any, pk: int) -> int | None:
    async with db.read() as session:
        return await session.scalar(select(model.created_by).where(model.id == pk))


@pytest.fixture
async def member(settings: Settings, db: Database) -> AsyncIterator[tuple[Caller, int]]:
    """A signed-in MEMBER (write and execute) of an auth-enabled app, and their user id."""
    app = create_app(
        settings.model_copy(update={"auth_enabled": True, "request_log_enabled": False}), db=db
    )
    async with db.transaction() as session:
        user = await accounts_service.create_user(
            session,
            username="grace",
            email="grace@example.com",
            role=accounts.UserRole.MEMBER,
            password=PASSWORD,
        )
        user_id = int(user.id)
    caller = Caller(app)
    await caller.login("grace")
    yield caller, user_id
    await caller.aclose()


async def _run_hpo(gql: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A two-trial campaign trained to completion: (campaign, last finishTrial)."""
    campaign = await hpo.create(gql, name="tuned", budget={"maxTrials": 2, "maxParallel": 2})
    first = await hpo.claim(gql, campaign["id"])
    second = await hpo.claim(gql, campaign["id"])
    assert first is not None and second is not None
    done = await hpo.finish(gql, first, v=0.5)
    assert done["campaign"]["status"] == "RUNNING"
    done = await hpo.finish(gql, second, v=0.75)
    assert done["campaign"]["status"] == "COMPLETED"
    return campaign, done


async def test_an_hpo_completion_notifies_its_creator_once(member, db, settings):
    caller, user_id = member
    campaign, done = await _run_hpo(caller.gql)
    pk = model_pk(campaign["id"], HpoCampaign)
    assert await _created_by(db, HpoCampaign, pk) == user_id
    # Nothing more can start: a claim finds it COMPLETED and emits nothing more.
    assert await hpo.claim(caller.gql, campaign["id"]) is None
    events = await _events(db)
    assert [(e.event_type, e.user_id) for e in events] == [("hpo_campaign_completed", user_id)]
    best = done["campaign"]["bestValue"]
    assert best == 0.75  # the objective's default direction maximizes
    trial = done["campaign"]["bestTrial"]
    assert events[0].payload == {
        "campaign_id": pk,
        "name": "tuned",
        "best_value": best,
        "best_experiment_id": events[0].payload["best_experiment_id"],
        "trials": 2,
    }
    assert trial["value"] == best and events[0].payload["best_experiment_id"] is not None

    assert await deliver.run_once(db, settings, channels={}, periodic=()) >= 1
    mine = (await caller.gql.data(MY_NOTIFICATIONS))["myNotifications"]
    assert mine["totalCount"] == 1
    node = mine["edges"][0]["node"]
    assert node["eventType"] == "HPO_CAMPAIGN_COMPLETED"
    assert node["title"] == "HPO campaign tuned completed"
    assert node["body"] == "2 trials; best value 0.75."
    assert node["data"]["campaign_id"] == pk
    # Delivered once: a second pass has nothing left to do.
    assert await deliver.run_once(db, settings, channels={}, periodic=()) == 0
    assert (await caller.gql.data(MY_NOTIFICATIONS))["myNotifications"]["totalCount"] == 1


async def test_without_auth_a_completion_has_no_owner_and_notifies_nobody(gql, db, settings):
    campaign, _ = await _run_hpo(gql)
    assert await _created_by(db, HpoCampaign, model_pk(campaign["id"], HpoCampaign)) is None
    events = await _events(db)
    assert [(e.event_type, e.user_id) for e in events] == [("hpo_campaign_completed", None)]
    await deliver.run_once(db, settings, channels={}, periodic=())
    async with db.read() as session:
        assert (await session.scalars(select(Notification))).all() == []
    async with db.read() as session:
        stored = await session.get(OutboxEvent, events[0].id)
        assert stored is not None and stored.processed_at is not None  # handled, nobody told


async def test_an_hpo_campaign_completed_by_a_claim_emits_once(gql, db):
    """The other place a campaign completes: a claim that fails the last stale
    trial and finds no trial may start any more (2 x maxTrials created)."""
    campaign = await hpo.create(gql, name="abandoned", budget={"maxTrials": 1, "maxParallel": 1})
    for _ in range(2):
        assert await hpo.claim(gql, campaign["id"]) is not None
        await hpo.make_stale(db)
    assert await hpo.claim(gql, campaign["id"]) is None
    assert await hpo.claim(gql, campaign["id"]) is None
    node = (await gql.data(hpo.CAMPAIGN, {"id": campaign["id"]}))["node"]
    assert node["status"] == "COMPLETED"
    events = await _events(db)
    assert [(e.event_type, e.payload) for e in events] == [
        (
            "hpo_campaign_completed",
            {
                "campaign_id": model_pk(campaign["id"], HpoCampaign),
                "name": "abandoned",
                "best_value": None,
                "best_experiment_id": None,
                "trials": 2,
            },
        )
    ]


async def test_a_nas_completion_emits_once_for_its_creator(member, db):
    caller, user_id = member
    gql = caller.gql
    campaign = await nas.campaign(gql, "arch", searchSpace=nas.TINY_SPACE, numTrials=2)
    pk = model_pk(campaign["id"], NasCampaign)
    assert await _created_by(db, NasCampaign, pk) == user_id
    first = await nas.claim(gql, campaign["id"], "w1")
    second = await nas.claim(gql, campaign["id"], "w2")
    assert first is not None and second is not None
    body = await nas.finish(gql, first, "w1", validationAccuracy=0.6)
    assert body["data"]["finishNasTrial"]["campaign"]["status"] == "RUNNING"
    assert await _events(db) == []
    body = await nas.finish(gql, second, "w2", validationAccuracy=0.8)
    finished = body["data"]["finishNasTrial"]["campaign"]
    assert finished["status"] == "COMPLETED" and finished["completedAt"] is not None
    assert await nas.claim(gql, campaign["id"], "w3") is None
    events = await _events(db)
    assert [(e.event_type, e.user_id, e.payload) for e in events] == [
        (
            "nas_campaign_completed",
            user_id,
            {
                "campaign_id": pk,
                "name": "arch",
                "best_accuracy": 0.8,
                "best_trial_id": decode_id(second["id"])[1],
                "trials": 2,
            },
        )
    ]


async def test_dataset_jobs_emit_once_when_they_end(member, db):
    caller, user_id = member
    gql = caller.gql
    made = await jobs.make(gql, "synth")
    pk = model_pk(made["id"], DatasetGeneration)
    assert await _created_by(db, DatasetGeneration, pk) == user_id
    job = await jobs.claim(gql, "gen")
    signals = [{"signalId": "s-1", "faultClass": "inner"}]
    done = await gql.data(
        jobs.FINISH,
        {"input": jobs.held(job, status="COMPLETED", dataset={"name": "made", "signals": signals})},
    )
    dataset_id = model_pk(done["finishDatasetJob"]["job"]["dataset"]["id"], Dataset)

    imported = await jobs.make(gql, "upload", "IMPORT")
    imp_pk = model_pk(imported["id"], DatasetImport)
    assert await _created_by(db, DatasetImport, imp_pk) == user_id
    job = await jobs.claim(gql, "imp")
    await gql.data(
        jobs.FINISH, {"input": jobs.held(job, status="FAILED", errorMessage="disk full")}
    )
    # A finished job takes no second finish, and writes no second event.
    body = await gql.post(jobs.FINISH, {"input": jobs.held(job, status="FAILED")})
    assert body["errors"][0]["extensions"]["reason"] == "FINISHED"

    events = await _events(db)
    assert [(e.event_type, e.user_id, e.payload) for e in events] == [
        (
            "dataset_job_completed",
            user_id,
            {
                "job_id": pk,
                "kind": "GENERATION",
                "name": "synth",
                "status": "COMPLETED",
                "dataset_id": dataset_id,
                "error": None,
            },
        ),
        (
            "dataset_job_failed",
            user_id,
            {
                "job_id": imp_pk,
                "kind": "IMPORT",
                "name": "upload",
                "status": "FAILED",
                "dataset_id": None,
                "error": "disk full",
            },
        ),
    ]


async def test_a_finish_that_rolls_back_emits_nothing(gql, db):
    await jobs.make(gql, "first")
    job = await jobs.claim(gql, "gen")
    dataset = {"name": "taken", "signals": [{"signalId": "a"}]}
    await gql.data(jobs.FINISH, {"input": jobs.held(job, status="COMPLETED", dataset=dataset)})
    assert len(await _events(db)) == 1

    await jobs.make(gql, "second")
    job = await jobs.claim(gql, "gen")
    body = await gql.post(
        jobs.FINISH, {"input": jobs.held(job, status="COMPLETED", dataset=dataset)}
    )
    assert body["errors"][0]["extensions"]["code"] == "CONFLICT"  # the dataset name is taken
    assert len(await _events(db)) == 1  # the failed finish wrote no event
    # The job is still held and RUNNING: its holder finishes it for real, once.
    renamed = {**dataset, "name": "fresh"}
    done = await gql.data(
        jobs.FINISH, {"input": jobs.held(job, status="COMPLETED", dataset=renamed)}
    )
    assert done["finishDatasetJob"]["job"]["status"] == "COMPLETED"
    events = await _events(db)
    assert [e.payload["name"] for e in events] == ["first", "second"]
    assert [e.event_type for e in events] == ["dataset_job_completed"] * 2
