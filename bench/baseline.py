"""The raw baseline: the same JSON as expgraph's operations (a), (b) and (c),
from hand-written asyncpg queries and orjson behind plain Starlette; and for the
A/B section the same writes as recordEvents (/ab/events) and assignUnits
(/ab/assign), taking the same GraphQL request body.

Run: BENCH_DSN=postgresql://... uvicorn bench.baseline:app
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from expgraph.domains.abtest.hashing import assign_variant

pool: asyncpg.Pool | None = None


def gid(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


TYPE = {
    "evaluation": "EvaluationExperiment",
    "ab_test": "AbTestExperiment",
    "simulation": "SimulationExperiment",
    "training": "TrainingExperiment",
    "research": "ResearchExperiment",
}


def iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


async def list_page(request: Request) -> Response:
    """(a) 50 newest experiments with creator, tags, kind fields, state and progress."""
    assert pool is not None
    async with pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM experiments WHERE deleted_at IS NULL")
        rows = await conn.fetch(
            "SELECT e.*, u.username FROM experiments e LEFT JOIN users u ON u.id = e.created_by "
            "WHERE e.deleted_at IS NULL ORDER BY e.created_at DESC, e.id DESC LIMIT 51"
        )
        page = rows[:50]
        ids = [r["id"] for r in page]
        tags = await conn.fetch(
            "SELECT et.experiment_id, t.name, t.color FROM experiment_tags et "
            "JOIN tags t ON t.id = et.tag_id WHERE et.experiment_id = ANY($1) ORDER BY t.name, t.id",
            ids,
        )
        progress = await conn.fetch(
            "SELECT c.id, c.enabled, c.claimed_at, c.last_error, "
            "(SELECT count(*) FROM dataset_examples d WHERE d.dataset_id = e.dataset_id "
            " AND d.dataset_version_id <= e.dataset_version_id) * coalesce(e.repetitions, 1) AS expected, "
            "(SELECT count(*) FROM experiment_runs r WHERE r.experiment_id = c.id AND r.error IS NULL) AS completed "
            "FROM experiment_execution_configs c JOIN experiments e ON e.id = c.id WHERE c.id = ANY($1)",
            ids,
        )
    tags_by: dict[int, list[Any]] = {}
    for t in tags:
        tags_by.setdefault(t["experiment_id"], []).append(
            {"node": {"name": t["name"], "color": t["color"]}}
        )
    progress_by = {p["id"]: p for p in progress}
    edges = []
    for r in page:
        node: dict[str, Any] = {
            "id": gid(TYPE[r["kind"]], r["id"]),
            "name": r["name"],
            "kind": r["kind"].upper(),
            "status": r["status"].upper(),
            "createdAt": iso(r["created_at"]),
            "createdBy": {"username": r["username"]} if r["username"] else None,
            "tags": {"edges": tags_by.get(r["id"], [])},
        }
        if r["kind"] == "evaluation":
            p = progress_by.get(r["id"])
            node["repetitions"] = r["repetitions"]
            node["executionConfig"] = (
                None
                if p is None
                else {
                    "state": "QUEUED" if p["completed"] < p["expected"] else "COMPLETED",
                    "progress": {
                        "completed": p["completed"],
                        "expected": p["expected"],
                        "fraction": p["completed"] / p["expected"] if p["expected"] else 1.0,
                    },
                }
            )
        elif r["kind"] == "simulation":
            node["masterSeed"] = str(r["master_seed"]) if r["master_seed"] is not None else None
        elif r["kind"] == "training":
            node["modelType"] = r["model_type"]
        elif r["kind"] == "research":
            node["hypothesis"] = r["hypothesis"]
        else:
            node["unitType"] = r["unit_type"]
        edges.append({"cursor": "", "node": node})
    body = {
        "data": {
            "experiments": {
                "totalCount": total,
                "edges": edges,
                "pageInfo": {"hasNextPage": len(rows) > 50},
            }
        }
    }
    return Response(orjson.dumps(body), media_type="application/json")


async def detail(request: Request) -> Response:
    """(b) an evaluation experiment with 100 runs, each with its example and annotations."""
    assert pool is not None
    pk = int(request.query_params["id"])
    async with pool.acquire() as conn:
        exp = await conn.fetchrow("SELECT * FROM experiments WHERE id = $1", pk)
        runs = await conn.fetch(
            "SELECT * FROM experiment_runs WHERE experiment_id = $1 ORDER BY created_at, id LIMIT 101",
            pk,
        )
        page = runs[:100]
        examples = await conn.fetch(
            "SELECT id, input, output FROM dataset_examples WHERE id = ANY($1)",
            list({r["dataset_example_id"] for r in page}),
        )
        notes = await conn.fetch(
            "SELECT experiment_run_id, name, score, label FROM experiment_run_annotations "
            "WHERE experiment_run_id = ANY($1) ORDER BY name",
            [r["id"] for r in page],
        )
    ex_by = {e["id"]: e for e in examples}
    notes_by: dict[int, list[Any]] = {}
    for n in notes:
        notes_by.setdefault(n["experiment_run_id"], []).append(
            {"name": n["name"], "score": n["score"], "label": n["label"]}
        )
    edges = [
        {
            "node": {
                "id": gid("ExperimentRun", r["id"]),
                "repetitionNumber": r["repetition_number"],
                "output": orjson.loads(r["output"]) if r["output"] else None,
                "latencyMs": r["latency_ms"],
                "example": {
                    "id": gid("DatasetExample", r["dataset_example_id"]),
                    "input": orjson.loads(ex_by[r["dataset_example_id"]]["input"]),
                    "output": orjson.loads(ex_by[r["dataset_example_id"]]["output"]),
                },
                "annotations": notes_by.get(r["id"], []),
            }
        }
        for r in page
    ]
    body = {
        "data": {
            "node": {
                "id": gid("EvaluationExperiment", exp["id"]),
                "name": exp["name"],
                "runs": {"edges": edges},
            }
        }
    }
    return Response(orjson.dumps(body), media_type="application/json")


async def tree(request: Request) -> Response:
    """(c) an exploration's root and three levels of children."""
    assert pool is not None
    pk = int(request.query_params["id"])
    async with pool.acquire() as conn:
        nodes = await conn.fetch(
            "SELECT id, parent_id, depth, short_action, simulation_results, node_status "
            "FROM scenario_nodes WHERE exploration_id = $1 AND depth <= 3 ORDER BY depth, created_at, id",
            pk,
        )
    children: dict[int | None, list[Any]] = {}
    for n in nodes:
        children.setdefault(n["parent_id"], []).append(n)

    def render(n: Any, levels: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": gid("ScenarioNode", n["id"]),
            "shortAction": n["short_action"],
            "simulationResults": orjson.loads(n["simulation_results"]),
            "nodeStatus": n["node_status"].upper(),
        }
        if levels:
            out["children"] = {
                "edges": [{"node": render(c, levels - 1)} for c in children.get(n["id"], [])[:50]]
            }
        return out

    root = children[None][0]
    body = {"data": {"node": {"id": gid("Exploration", pk), "root": render(root, 3)}}}
    return Response(orjson.dumps(body), media_type="application/json")


def pk_of(global_id: str) -> int:
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return int(raw.split(":", 1)[1])


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


async def ab_events(request: Request) -> Response:
    """recordEvents' writes without its checks: a batch of events inserted in one
    statement (unnest), duplicates of a client event id skipped (ON CONFLICT DO
    NOTHING, as expgraph), each new event's experiment links COPYed, in one transaction."""
    assert pool is not None
    events = orjson.loads(await request.body())["variables"]["input"]["events"]
    columns: list[list[Any]] = [[] for _ in range(8)]
    for e in events:
        columns[0].append(e["eventId"])
        columns[1].append(e["eventType"])
        columns[2].append(e["unitType"].lower())
        columns[3].append(e["unitId"])
        columns[4].append(
            _json(
                [
                    {"experiment_id": x["experimentId"], "variant_id": x["variantId"]}
                    for x in e["experiments"]
                ]
            )
        )
        columns[5].append(_json(e.get("context") or {}))
        columns[6].append(_json(e.get("metrics") or {}))
        columns[7].append(datetime.fromisoformat(e["timestamp"]))
    links_of = {
        e["eventId"]: [(pk_of(x["experimentId"]), pk_of(x["variantId"])) for x in e["experiments"]]
        for e in events
    }
    async with pool.acquire() as conn, conn.transaction():
        inserted = await conn.fetch(
            "INSERT INTO events (event_id, event_type, unit_type, unit_id, experiments, "
            "context, metrics, timestamp, created_at) "
            "SELECT *, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], "
            "$5::jsonb[], $6::jsonb[], $7::jsonb[], $8::timestamptz[]) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING id, event_id",
            *columns,
        )
        await conn.copy_records_to_table(
            "event_experiments",
            records=[(r["id"], e, v) for r in inserted for e, v in links_of[r["event_id"]]],
            columns=["event_id", "experiment_id", "variant_id"],
        )
    body = {
        "data": {
            "recordEvents": {"accepted": len(inserted), "duplicates": len(events) - len(inserted)}
        }
    }
    return Response(orjson.dumps(body), media_type="application/json")


async def ab_assign(request: Request) -> Response:
    """assignUnits without experimentIds: every running A/B test of the unit type
    (inside its start/end), the unit hashed as GrowthBook does (the same
    hashing.assign_variant), new assignments upserted in one statement, then the
    unit's stored assignments read back (sticky: an existing row wins)."""
    assert pool is not None
    given = orjson.loads(await request.body())["variables"]["input"]
    unit_type, unit_id = given["unitType"].lower(), given["unitId"]
    async with pool.acquire() as conn, conn.transaction():
        experiments = await conn.fetch(
            "SELECT e.id, coalesce(e.hash_seed, e.name) AS seed, "
            "array_agg(v.id ORDER BY v.position) AS variants, "
            "array_agg(v.allocation ORDER BY v.position) AS allocations "
            "FROM experiments e JOIN variants v ON v.experiment_id = e.id "
            "WHERE e.kind = 'ab_test' AND e.status = 'running' AND e.unit_type = $1 "
            "AND e.deleted_at IS NULL AND (e.start_at IS NULL OR e.start_at <= now()) "
            "AND (e.end_at IS NULL OR e.end_at > now()) GROUP BY e.id ORDER BY e.id",
            unit_type,
        )
        chosen: list[tuple[int, int]] = []
        for e in experiments:
            index = assign_variant(e["seed"], unit_id, [Decimal(a) for a in e["allocations"]])
            if index is not None:
                chosen.append((e["id"], e["variants"][index]))
        await conn.execute(
            "INSERT INTO assignments (experiment_id, unit_type, unit_id, variant_id, assigned_at) "
            "SELECT x.e, $3, $4, x.v, now() FROM unnest($1::bigint[], $2::bigint[]) AS x(e, v) "
            "ON CONFLICT (experiment_id, unit_id) DO NOTHING",
            [e for e, _ in chosen],
            [v for _, v in chosen],
            unit_type,
            unit_id,
        )
        stored = await conn.fetch(
            "SELECT id, experiment_id, variant_id FROM assignments "
            "WHERE unit_id = $1 AND experiment_id = ANY($2) ORDER BY experiment_id",
            unit_id,
            [e for e, _ in chosen],
        )
    body = {
        "data": {
            "assignUnits": {
                "assignments": [
                    {
                        "id": gid("Assignment", r["id"]),
                        "unitId": unit_id,
                        "variant": {"id": gid("Variant", r["variant_id"])},
                        "experiment": {"id": gid("AbTestExperiment", r["experiment_id"])},
                    }
                    for r in stored
                ]
            }
        }
    }
    return Response(orjson.dumps(body), media_type="application/json")


@asynccontextmanager
async def lifespan(_: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=10)
    yield
    await pool.close()


app = Starlette(
    routes=[
        Route("/a", list_page),
        Route("/b", detail),
        Route("/c", tree),
        Route("/ab/events", ab_events, methods=["POST"]),
        Route("/ab/assign", ab_assign, methods=["POST"]),
    ],
    lifespan=lifespan,
)
