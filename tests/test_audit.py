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
        ("createUser", "SUCCESS"),
        ("createTag", "FAILURE"),
        ("createTag", "SUCCESS"),
    ]
    assert records[2]["details"] == {"input": {"name": "audited", "color": "#112233"}}
    assert records[1]["errorMessage"].startswith("CONFLICT")
    assert records[0]["details"]["input"]["password"] == "[REDACTED]"
    assert "correct horse" not in str(records)
    only_failures = (await gql.data(LOGS, {"f": {"statuses": ["FAILURE"]}}))["systemLogs"]
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
    assert denied[0]["status"] == "DENIED"
    assert denied[0]["user"] == {"username": "viewer"}
    assert viewer.id
    logins = [e for e in (await _all_actions(db)) if e == "login"]
    assert len(logins) == 2  # sign-in is audited too, its password redacted


async def _all_actions(db) -> list[str]:
    from sqlalchemy import select

    async with db.read() as session:
        return list((await session.scalars(select(models.SystemLog.action))).all())


# --- records survive what their input holds -----------------------------------------


async def _records(db) -> list[models.SystemLog]:
    from sqlalchemy import select

    async with db.read() as session:
        return list(
            (await session.scalars(select(models.SystemLog).order_by(models.SystemLog.id))).all()
        )


async def test_a_refused_value_is_audited_and_writes_nothing_else(gql, db):
    """A value the columns refuse (a file path past String(500)) fails the mutation
    with BAD_REQUEST naming the field; its audit record is written, with the input."""
    body = await gql.post(
        'mutation($p: String) { createDataset(input: {name: "d", filePath: $p}) '
        "{ dataset { id } } }",
        {"p": "p" * 10_000},
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST", "field": "filePath"}
    [record] = await _records(db)
    assert (record.action, record.status) == ("createDataset", "failure")
    assert record.error_message.startswith("BAD_REQUEST: filePath")
    assert record.details["input"]["filePath"] == "p" * 10_000  # the GraphQL field name


async def test_unstorable_details_are_made_storable(db):
    """NUL, NaN/Infinity, integers past 64 bits, deep and huge values: the record
    is written on both databases, each value escaped, stringified or cut."""
    from expgraph.domains.accounts.audit import SystemLogSink
    from expgraph.graphql.audit import TRUNCATED, storable

    sink = SystemLogSink(db)
    nested: dict = {}
    inner = nested
    for _ in range(40):
        inner["d"] = {}
        inner = inner["d"]
    details = storable(
        {
            "input": {
                "name\x00": "a\x00b",
                "inf": float("inf"),
                "nan": float("nan"),
                "huge": 2**70,
                "deep": nested,
                "long": "x" * 50_000,
                "many": list(range(5_000)),
            }
        }
    )
    await sink.record(_principal(), "createTag", "failure", details, "BAD\x00")
    [record] = await _records(db)
    stored = record.details["input"]
    assert stored["name\\u0000"] == "a\\u0000b"
    assert (stored["inf"], stored["nan"], stored["huge"]) == ("inf", "nan", str(2**70))
    assert TRUNCATED in str(stored["deep"])
    assert stored["long"].endswith(TRUNCATED) and len(stored["long"]) < 11_000
    assert len(stored["many"]) == 1_001 and TRUNCATED in stored["many"][-1]
    assert record.error_message == "BAD\\u0000"


async def test_a_record_whose_details_fail_is_written_without_them(db):
    from datetime import UTC, datetime

    from expgraph.domains.accounts.audit import SystemLogSink
    from expgraph.graphql.audit import TRUNCATED

    sink = SystemLogSink(db)
    # Details the database layer cannot serialize (not JSON data at all).
    await sink.record(
        _principal(), "createTag", "success", {"when": datetime.now(UTC), "s": {1, 2}}, None
    )
    # Details past the size cap.
    await sink.record(
        _principal(), "updateTag", "failure", {"big": "x" * 300_000}, "CONFLICT: taken"
    )
    first, second = await _records(db)
    assert (first.action, first.status, first.error_message) == ("createTag", "success", None)
    assert TRUNCATED in first.details
    assert (second.action, second.status) == ("updateTag", "failure")
    assert second.error_message == "CONFLICT: taken"
    assert TRUNCATED in second.details


def _principal():
    from expgraph.graphql.auth import LOCAL_ADMIN

    return LOCAL_ADMIN


# --- secrets --------------------------------------------------------------------------


async def test_secrets_are_redacted_by_name_and_by_shape(gql, db):
    """Nested, camelCase, snake_case, prefixed names and credential-shaped values
    are redacted from the audit record; settings about secrets are kept."""
    metadata = {
        "nested": {"apiKey": "plain words", "OPENAI_API_KEY": "abc", "x-auth-token": "t"},
        "list": [{"client_secret": "s"}, {"password": ["a", "b"]}],
        "free_text": "sk-ant-REALLYSECRET0123456789",
        "header": "Bearer abcdefghijklmnop",
        "pem": "-----BEGIN PRIVATE KEY-----\nMIIE...",
        "random": "q8ZxT3vLw0YpR7sKd2NfHj5MbC9aGe4U",
        "max_tokens": 256,
        "key_id": "k-1",
        "session_id": "s-1",
        "use_auth": True,
        "language_code": "en",
        "model": "claude-3-5-sonnet-20241022",
        "digest": "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02",
    }
    await gql.data(
        """mutation($input: CreateExperimentInput!) { createExperiment(input: $input)
          { experiment { id } } }""",
        {
            "input": {
                "kind": "TRAINING",
                "name": "secretive",
                "training": {"modelType": "cnn"},
                "metadata": metadata,
            }
        },
    )
    [record] = await _records(db)
    assert record.details["input"]["training"] == {"modelType": "cnn"}  # GraphQL names
    stored = record.details["input"]["metadata"]
    assert stored["nested"] == {
        "apiKey": "[REDACTED]",
        "OPENAI_API_KEY": "[REDACTED]",
        "x-auth-token": "[REDACTED]",
    }
    assert stored["list"] == [{"client_secret": "[REDACTED]"}, {"password": "[REDACTED]"}]
    for key in ("free_text", "header", "pem", "random"):
        assert stored[key] == "[REDACTED]", key
    for key in (
        "max_tokens",
        "key_id",
        "session_id",
        "use_auth",
        "language_code",
        "model",
        "digest",
    ):
        assert stored[key] == metadata[key], key
    assert "REALLYSECRET" not in str(record.details)


async def test_configs_holding_secrets_are_refused(gql, db):
    """A task or evaluator config, or a prompt's parameters, is readable by every
    reader of the experiment: a credential there is refused, naming its path;
    model settings like max_tokens pass."""
    from tests.helpers import create_dataset, create_experiment

    dataset_id, version_id = await create_dataset(gql, "d")
    experiment = await create_experiment(
        gql,
        "e",
        "EVALUATION",
        evaluation={"datasetId": dataset_id, "datasetVersionId": version_id},
    )
    create = """mutation($e: ID!, $p: JSON, $q: JSON) { createExecutionConfig(input: {
      experimentId: $e, taskConfig: {modelProvider: "echo", modelName: "echo-1",
      invocationParameters: $p}, evaluatorConfigs: [{name: "judge", parameters: $q}]})
      { executionConfig { id } } }"""
    for params, judge, path in (
        ({"api_key": "abc"}, {}, "taskConfig.invocationParameters.api_key"),
        ({"headers": {"Authorization": "x"}}, {}, "invocationParameters.headers.Authorization"),
        ({"extra": ["sk-proj-0123456789abcdef"]}, {}, "invocationParameters.extra[0]"),
        ({}, {"judgeToken": "t"}, "parameters.judgeToken"),
    ):
        body = await gql.post(create, {"e": experiment["id"], "p": params, "q": judge})
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST", body
        assert path in error["message"] and "custom provider" in error["message"]
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on EvaluationExperiment { id } } }",
        {"id": experiment["id"]},
    )
    assert node["node"]
    params = {"max_tokens": 256, "temperature": 0.2, "key_id": "k1", "delay_ms": 0}
    data = await gql.data(create, {"e": experiment["id"], "p": params, "q": {"text": "x"}})
    assert data["createExecutionConfig"]["executionConfig"]["id"]
    prompt = """mutation($p: JSON) { createPrompt(input: {name: "p", template: "t",
      modelProvider: "echo", modelName: "m", invocationParameters: $p}) { prompt { id } } }"""
    body = await gql.post(prompt, {"p": {"secret": "x"}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "invocationParameters.secret" in body["errors"][0]["message"]


async def test_a_bulk_write_is_audited_as_its_first_items_and_a_count(gql):
    """recordEvents with 150 events: the audit keeps the first AUDIT_LIST_ITEMS of
    them and how many more there were, not the whole batch."""
    from expgraph.graphql.audit import AUDIT_LIST_ITEMS, TRUNCATED
    from tests.abtest_helpers import ab_test, assign, event, record

    test = await ab_test(gql, "audited-batch")
    unit = await assign(gql, test.id, "u-1")
    batch = [
        event(test, "u-1", unit["variant"]["id"], event_id=f"e-{n}", metrics={"clicks": n})
        for n in range(150)
    ]
    assert (await record(gql, batch))["data"]["recordEvents"]["accepted"] == 150
    logs = (await gql.data(LOGS, {"f": {"actions": ["recordEvents"]}}))["systemLogs"]
    audited = logs["edges"][0]["node"]["details"]["input"]["events"]
    assert len(audited) == AUDIT_LIST_ITEMS + 1
    assert audited[0]["eventId"] == "e-0" and audited[AUDIT_LIST_ITEMS - 1]["eventId"] == "e-99"
    assert audited[-1] == f"{TRUNCATED} 50 more items"
