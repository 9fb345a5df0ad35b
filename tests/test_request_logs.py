"""Request logs: written off the request path, redacted, bounded; the hourly rollup."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert, select, text

from expgraph.app import create_app
from expgraph.domains.accounts import models
from expgraph.domains.accounts.requestlog import Entry, RequestLogWriter
from expgraph.domains.accounts.rollup import nearest_rank, rollup
from tests.conftest import GraphQLClient


def _app(settings, db, **overrides):
    app = create_app(settings.model_copy(update=overrides), db=db)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://log")


async def _rows(db, model):
    async with db.read() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


async def test_every_request_is_logged_and_secrets_are_redacted(settings, db):
    app, http = _app(settings, db, request_log_sample_rate=1.0)
    async with http:
        gql = GraphQLClient(http)
        await gql.data(
            'mutation { createUser(input: {username: "sam", email: "s@example.com", '
            'password: "hunter2hunter2"}) { user { id } } }'
        )
        login = 'mutation($p: String!) { login(input: {username: "sam", password: $p}) { token } }'
        await gql.post(login, {"p": "hunter2hunter2"})
        await gql.post(login, {"p": "hunter2-wrong"})
        await http.get("/healthz")  # not logged
        asset = await http.get("/graphql/static/graphiql/MANIFEST.json")  # not logged either
        assert asset.status_code == 200
        await app.state.request_log.flush()
    usage = await _rows(db, models.ApiUsage)
    logs = await _rows(db, models.ApiRequestLog)
    assert [(u.endpoint, u.method, u.status_code) for u in usage] == [("/graphql", "POST", 200)] * 3
    assert all(log.response_time_ms > 0 and log.response_size_bytes > 0 for log in logs)
    stored = str([(log.request_payload_sample, log.response_payload_sample) for log in logs])
    assert "hunter2" not in stored
    assert "[REDACTED]" in stored
    assert logs[1].error_message is None
    assert logs[2].error_message.startswith("UNAUTHENTICATED")
    assert app.state.request_log.dropped == 0


async def test_a_full_queue_drops_and_counts_and_requests_still_succeed(settings, db):
    app, http = _app(settings, db, request_log_queue_size=1)
    async with http:
        for _ in range(3):
            response = await http.post("/graphql", json={"query": "{ tags { totalCount } }"})
            assert response.status_code == 200
    assert app.state.request_log.dropped == 2
    await app.state.request_log.flush()
    assert len(await _rows(db, models.ApiRequestLog)) == 1


async def test_a_failing_write_does_not_fail_requests(settings, db):
    app, http = _app(settings, db)
    async with db.transaction() as session:
        await session.execute(text("DROP TABLE api_request_logs"))
    async with http:
        response = await http.post("/graphql", json={"query": "{ tags { totalCount } }"})
        assert response.status_code == 200
        await app.state.request_log.flush()
    assert app.state.request_log.failed == 1


async def test_stop_flushes_the_queue(settings, db):
    writer = RequestLogWriter(db, settings)
    writer.start()
    now = datetime.now(UTC)
    for i in range(5):
        writer.submit(
            Entry("/graphql", "POST", 200, now, float(i), 10, 20, "127.0.0.1", "t", None, None)
        )
    await writer.stop()
    assert writer.written == 5 and len(await _rows(db, models.ApiUsage)) == 5


async def test_hourly_rollup_matches_a_hand_computation(settings, db, gql):
    base = datetime(2026, 3, 1, 10, tzinfo=UTC)
    rng = random.Random(2)
    hour_one = [("/graphql", 200, float(t), None) for t in range(1, 101)]
    hour_one[3] = ("/graphql", 200, 4.0, "CONFLICT: taken")
    hour_one[7] = ("/healthz", 500, 8.0, None)
    hour_two = [("/graphql", 200, 50.0, None), ("/graphql", 429, 1.0, "RATE_LIMITED: slow down")]
    rows = [
        {
            "endpoint": e,
            "method": "POST",
            "status_code": s,
            "response_time_ms": t,
            "error_message": err,
            "request_time": start + timedelta(seconds=rng.randrange(3600)),
        }
        for start, batch in ((base, hour_one), (base + timedelta(hours=1), hour_two))
        for e, s, t, err in batch
    ]
    async with db.transaction() as session:
        await session.execute(insert(models.ApiRequestLog), rows)
    first = (await rollup(db, "hour", start=base))[0]
    assert (first.total_requests, first.successful_requests, first.failed_requests) == (100, 98, 2)
    assert first.avg_response_time_ms == sum(range(1, 101)) / 100
    assert (first.p50_response_time_ms, first.p95_response_time_ms, first.p99_response_time_ms) == (
        50.0,
        95.0,
        99.0,
    )
    assert first.requests_per_second == 100 / 3600
    assert first.error_rate == 0.02
    assert first.endpoint_metrics["/healthz"] == {
        "count": 1,
        "failed": 1,
        "avg_ms": 8.0,
        "p95_ms": 8.0,
    }
    assert first.endpoint_metrics["/graphql"]["count"] == 99
    second = (await rollup(db, "hour", start=base + timedelta(hours=1)))[0]
    assert (second.total_requests, second.failed_requests, second.error_rate) == (2, 1, 0.5)
    await rollup(db, "hour", start=base)  # again: replaced, not duplicated
    data = await gql.data("""{ apiMetricsSummaries(period: HOUR) { totalCount
      edges { node { periodStart totalRequests p95ResponseTimeMs endpointMetrics {
        path totalRequests failedRequests avgResponseTimeMs p95ResponseTimeMs } } } } }""")
    summaries = data["apiMetricsSummaries"]
    assert summaries["totalCount"] == 2
    assert [e["node"]["totalRequests"] for e in summaries["edges"]] == [2, 100]
    endpoints = summaries["edges"][1]["node"]["endpointMetrics"]
    assert [e["path"] for e in endpoints] == ["/graphql", "/healthz"]
    assert endpoints[1] == {
        "path": "/healthz",
        "totalRequests": 1,
        "failedRequests": 1,
        "avgResponseTimeMs": 8.0,
        "p95ResponseTimeMs": 8.0,
    }
    assert nearest_rank([], 50) is None


async def test_rollup_of_every_complete_period_since_the_last(settings, db):
    long_ago = datetime.now(UTC) - timedelta(hours=3)
    async with db.transaction() as session:
        await session.execute(
            insert(models.ApiRequestLog),
            [
                {
                    "endpoint": "/graphql",
                    "method": "POST",
                    "status_code": 200,
                    "response_time_ms": 5.0,
                    "request_time": long_ago,
                }
            ],
        )
    written = await rollup(db, "hour")
    assert len(written) in (3, 4)  # the hours from the first log up to, not including, now
    assert sum(r.total_requests for r in written) == 1
    assert await rollup(db, "hour") == []


async def test_a_large_body_is_sampled_within_the_cap_and_not_parsed(settings, db):
    app, http = _app(settings, db, request_log_sample_rate=1.0)
    padding = "a" * 1_000_000  # one chunk of about 1 MB, well past the 64 KB sample cap
    async with http:
        response = await http.post(
            "/graphql", json={"query": "{ tags { totalCount } }", "extensions": {"p": padding}}
        )
        assert response.status_code == 200
        await app.state.request_log.flush()
    (log,) = await _rows(db, models.ApiRequestLog)
    assert log.request_payload_sample == {"unparsed_bytes": 64 * 1024}


async def test_a_sample_holding_nul_is_stored_with_its_batch(settings, db):
    app, http = _app(settings, db, request_log_sample_rate=1.0)
    async with http:
        gql = GraphQLClient(http)
        await gql.post(
            "query($n: String!) { tags(filter: {nameContains: $n}) { totalCount } }",
            {"n": "a\u0000b"},
        )
        await gql.data("{ tags { totalCount } }")
        await app.state.request_log.flush()
    logs = await _rows(db, models.ApiRequestLog)
    assert len(logs) == 2  # neither entry lost
    assert "\\u0000" in str(logs[0].request_payload_sample)
    assert app.state.request_log.dropped == 0
