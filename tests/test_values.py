"""Bad values are refused before anything is written: BAD_REQUEST naming the
field, and not one row more in any table (the audit trail aside), on both
databases. Scalars refuse what no column could hold (NUL, non-finite numbers,
JSON past 64 bits or past its size cap); the ORM check refuses strings longer
than their column; ids and cursors are decoded strictly."""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text

from expgraph.db.base import Base
from expgraph.graphql.errors import as_expected
from tests.conftest import GraphQLClient
from tests.helpers import create_experiment, create_tag

AUDIT_TABLES = {"system_logs", "api_request_logs", "api_usage"}

CREATE_TAG = "mutation($input: CreateTagInput!) { createTag(input: $input) { tag { id } } }"
CREATE_EXPERIMENT = """mutation($input: CreateExperimentInput!) {
  createExperiment(input: $input) { experiment { id } } }"""


async def row_counts(db: Any) -> dict[str, int]:
    counts = {}
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            if table.name not in AUDIT_TABLES:
                counts[table.name] = await session.scalar(select(func.count()).select_from(table))
    return counts


async def expect_unparsable(gql: GraphQLClient, db: Any, body: str) -> None:
    """A body that is not JSON (NaN, Infinity, 1e400, a lone surrogate) is refused
    whole, with HTTP 400, before any GraphQL runs."""
    before = await row_counts(db)
    response = await gql.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert await row_counts(db) == before


def refused(body: dict[str, Any], field: str) -> None:
    assert body.get("errors"), body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST", error
    assert field in error["message"], error
    assert not body.get("data"), body


async def expect_refused(
    gql: GraphQLClient,
    db: Any,
    field: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    before = await row_counts(db)
    body = await gql.post(query, variables)
    refused(body, field)
    assert await row_counts(db) == before, "a refused mutation wrote rows"
    error: dict[str, Any] = body["errors"][0]
    return error


def training(name: str, **fields: Any) -> dict[str, Any]:
    return {"input": {"kind": "TRAINING", "name": name, "training": {"modelType": "cnn"}, **fields}}


async def test_text_with_nul_or_past_its_column_is_refused(gql, db):
    await create_tag(gql, "existing")
    error = await expect_refused(
        gql, db, "name", 'mutation { createTag(input: {name: "a\\u0000b"}) { tag { id } } }'
    )
    assert error["extensions"]["field"] == "name"
    error = await expect_refused(gql, db, "name", CREATE_TAG, {"input": {"name": "nul\x00"}})
    assert error["extensions"]["field"] == "name"
    error = await expect_refused(
        gql,
        db,
        "name",
        "mutation($n: String!) { createTag(input: {name: $n}) { tag { id } } }",
        {"n": "nul\x00"},
    )
    assert error["extensions"]["field"] == "name"
    await expect_refused(gql, db, "name", CREATE_TAG, {"input": {"name": "x" * 10_000}})
    # No service checks a dataset's file path: the column's length does (String(500)).
    error = await expect_refused(
        gql,
        db,
        "filePath",
        'mutation($p: String) { createDataset(input: {name: "d", filePath: $p}) '
        "{ dataset { id } } }",
        {"p": "/data/" + "x" * 10_000},
    )
    assert error["extensions"]["field"] == "filePath"
    # A lone surrogate is not text either database can store: not even JSON.
    await expect_unparsable(
        gql,
        db,
        '{"query": "mutation($n: String!) { createTag(input: {name: $n}) { tag { id } } }",'
        ' "variables": {"n": "a\\ud800"}}',
    )
    # Within limits, the same mutations succeed.
    await create_tag(gql, "fine")
    data = await gql.data(
        'mutation { createDataset(input: {name: "d", filePath: "/data/ok"}) { dataset { id } } }'
    )
    assert data["createDataset"]["dataset"]["id"]


async def test_non_finite_floats_are_refused(gql, db):
    run = await gql.data("mutation { createSimulationRun(input: {}) { simulationRun { id } } }")
    run_id = run["createSimulationRun"]["simulationRun"]["id"]
    complete = """mutation($id: ID!, $t: Float) {
      completeSimulationRun(input: {id: $id, executionTimeSeconds: $t}) { simulationRun { id } } }"""
    literal = """mutation($id: ID!) {
      completeSimulationRun(input: {id: $id, executionTimeSeconds: 1e400}) { simulationRun { id } } }"""
    error = await expect_refused(gql, db, "executionTimeSeconds", literal, {"id": run_id})
    assert error["extensions"]["field"] == "executionTimeSeconds"
    for number in ("1e400", "Infinity", "-Infinity", "NaN"):
        body = json.dumps({"query": complete, "variables": {"id": run_id, "t": "__N__"}})
        await expect_unparsable(gql, db, body.replace('"__N__"', number))
    data = await gql.data(complete, {"id": run_id, "t": 1.5})
    assert data["completeSimulationRun"]["simulationRun"]["id"] == run_id


async def test_json_values_are_refused_unless_storable(gql, db):
    cases: list[tuple[str, Any]] = [
        ("config", {"n": 2**63}),  # the body parser reads 2^63..2^64-1 as integers
        ("config", {"n": [2**64 - 1]}),
        ("metadata", {"a\x00": 1}),
        ("metadata", {"a": ["b\x00"]}),
        ("metadata", {"big": "x" * (300 * 1024)}),
        ("metadata", json.loads("[" * 40 + "]" * 40)),
    ]
    for field, value in cases:
        error = await expect_refused(
            gql, db, field, CREATE_EXPERIMENT, training("json", **{field: value})
        )
        assert error["extensions"]["field"] == field
    # Literals too: an integer past 64 bits, a NUL escape, 1e400 inside JSON.
    for literal in ("{n: 18446744073709551616}", '{s: "a\\u0000"}', "{f: 1e400}"):
        query = (
            'mutation { createExperiment(input: {kind: TRAINING, name: "j", '
            f'training: {{modelType: "cnn"}}, config: {literal}}}) {{ experiment {{ id }} }} }}'
        )
        error = await expect_refused(gql, db, "config", query)
        assert error["extensions"]["field"] == "config"
    # NaN and Infinity in a variable are not JSON: the body is refused whole.
    for number in ("NaN", "Infinity", "1e400"):
        body = json.dumps({"query": CREATE_EXPERIMENT, "variables": training("n", config={"x": 0})})
        await expect_unparsable(gql, db, body.replace('{"x": 0}', f'{{"x": {number}}}'))
    # The largest 64-bit integers are fine, and come back as they went in.
    created = await create_experiment(gql, "ok", config={"n": 2**63 - 1, "m": -(2**63)})
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { ... on Experiment { config } } }", {"id": created["id"]}
    )
    assert node["node"]["config"] == {"n": 2**63 - 1, "m": -(2**63)}


async def test_big_ints_must_be_ascii_decimal_in_64_bits(gql, db):
    for seed in ("18446744073709551616", "٤٢", "--5", "4.2"):
        await expect_refused(
            gql,
            db,
            "masterSeed",
            CREATE_EXPERIMENT,
            {"input": {"kind": "SIMULATION", "name": "s", "simulation": {"masterSeed": seed}}},
        )


def gid(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def test_ids_are_decoded_strictly(gql, db):
    tag = await create_tag(gql, "one")
    assert tag["id"] == gid("Tag:1")
    delete = "mutation($id: ID!) { deleteTag(input: {id: $id}) { tag { id } } }"
    for bad in (
        gid("Tag:0001"),
        gid("Tag:01"),
        gid("Tag:\u0661"),  # Arabic-Indic digit one
        gid("Tag:\uff11"),  # fullwidth digit one
        gid("Tag:+1"),
        gid("Tag:0"),
        gid(f"Tag:{2**63}"),
        gid(f"Tag:{2**64}"),
        gid("Tag:1") + "==",
        gid("Tag:1") + "!",
        "x" * 5000,
    ):
        error = await expect_refused(gql, db, "malformed id", delete, {"id": bad})
        assert error["extensions"]["code"] == "BAD_REQUEST"
        body = await gql.post("query($id: ID!) { node(id: $id) { id } }", {"id": bad})
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", body
    # The largest key is a well-formed id of nothing.
    data = await gql.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": gid(f"Tag:{2**63 - 1}")}
    )
    assert data["node"] is None
    assert (await gql.data(delete, {"id": tag["id"]}))["deleteTag"]["tag"]["id"] == tag["id"]


def cursor(signature: str, values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([signature, values])).decode().rstrip("=")


async def test_tampered_cursors_are_refused(gql, db):
    for name in ("a", "b", "c"):
        await create_tag(gql, name)
    await create_experiment(gql, "e1")
    tags = "query($c: String) { tags(first: 2, after: $c) { edges { node { name } } } }"
    first = await gql.data("{ tags(first: 1) { edges { cursor } } }")
    good = first["tags"]["edges"][0]["cursor"]
    signature, values = orjson.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    assert (await gql.data(tags, {"c": good}))["tags"]["edges"][0]["node"]["name"] == "b"
    name_value, id_value = values
    for bad in (
        cursor(signature, [123, id_value]),  # a number where the name is
        cursor(signature, [name_value, "1"]),  # a string where the id is
        cursor(signature, [name_value, 2**63]),  # past the id column
        cursor(signature, [name_value, True]),
        cursor(signature, [{"t": "2026-01-01T00:00:00Z"}, id_value]),
        cursor(signature, ["a\x00", id_value]),
        cursor(signature, [name_value]),
        cursor(signature, {"a": 1}),
        "not a cursor!",
    ):
        body = await gql.post(tags, {"c": bad})
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", (bad, body)
        assert "cursor" in body["errors"][0]["message"]
    experiments = """query($c: String) { experiments(first: 1, after: $c) {
      edges { node { id } } } }"""
    page = await gql.data("{ experiments(first: 1) { edges { cursor } } }")
    good = page["experiments"]["edges"][0]["cursor"]
    signature, values = orjson.loads(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    for bad in (
        cursor(signature, ["2026-01-01", values[1]]),  # a string where a timestamp is
        cursor(signature, [{"t": "not a time"}, values[1]]),
        cursor(signature, [{"t": "9999-12-31T23:59:59-01:00"}, values[1]]),
        cursor(signature, [values[0], 1.5]),
    ):
        body = await gql.post(experiments, {"c": bad})
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST", (bad, body)


async def test_database_data_errors_are_bad_requests_on_reads_and_writes(db, dialect):
    """What a database itself refuses as data (SQLSTATE class 22 on PostgreSQL,
    SQLite's overflow and JSON errors) is the client's error: BAD_REQUEST."""
    read = (
        "SELECT CAST('abc' AS integer)"
        if dialect == "postgresql"
        else ("SELECT abs(-9223372036854775807 - 1)")
    )
    with pytest.raises(Exception) as caught:
        async with db.read() as session:
            await session.execute(text(read))
    expected = as_expected(caught.value)
    assert expected is not None and expected.code == "BAD_REQUEST", caught.value
    # A write the value checks do not see (raw SQL): refused by the database,
    # the same code, and nothing written.
    write = (
        "INSERT INTO tags (name, slug, usage_count, created_at, updated_at) "
        "VALUES (:name, 'slug', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        if dialect == "postgresql"
        else "INSERT INTO tags (name, slug, usage_count, created_at, updated_at) "
        "VALUES (json_extract(:name, '$'), 'slug', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    with pytest.raises(Exception) as caught:
        async with db.transaction() as session:
            await session.execute(
                text(write), {"name": "x" * 51 if dialect == "postgresql" else "{"}
            )
    expected = as_expected(caught.value)
    assert expected is not None and expected.code == "BAD_REQUEST", caught.value
    async with db.read() as session:
        assert await session.scalar(text("SELECT count(*) FROM tags")) == 0


async def test_bulk_inserts_are_checked_like_orm_writes(gql, db):
    """Rows inserted in bulk (Core ``insert``, no ORM events) pass the same checks:
    a synth's version is a String(20) no service measures."""
    imports = """mutation($synths: [SynthInput!]!) {
      importSynths(input: {synths: $synths}) { synthIds } }"""
    synths = [{"name": "ada", "version": "2.0.0"}, {"name": "bob", "version": "v" * 10_000}]
    error = await expect_refused(gql, db, "version", imports, {"synths": synths})
    assert error["extensions"]["field"] == "version"
    data = await gql.data(imports, {"synths": synths[:1]})
    assert len(data["importSynths"]["synthIds"]) == 1
