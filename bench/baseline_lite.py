"""The raw baseline (bench/baseline.py) plus one route for the PostGraphile comparison:
``/a-lite``, the list page (a) without execution state and progress, which is what
PostGraphile 5 can express from the tables alone (bench/peers.py).

Run: BENCH_DSN=postgresql://... uvicorn bench.baseline_lite:app
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import baseline
from bench.baseline import TYPE, gid, iso


async def list_page_without_progress(request: Request) -> Response:
    """(a) 50 newest experiments with creator, tags and kind fields; no state/progress."""
    assert baseline.pool is not None
    async with baseline.pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM experiments WHERE deleted_at IS NULL")
        rows = await conn.fetch(
            "SELECT e.*, u.username FROM experiments e LEFT JOIN users u ON u.id = e.created_by "
            "WHERE e.deleted_at IS NULL ORDER BY e.created_at DESC, e.id DESC LIMIT 51"
        )
        page = rows[:50]
        tags = await conn.fetch(
            "SELECT et.experiment_id, t.name, t.color FROM experiment_tags et "
            "JOIN tags t ON t.id = et.tag_id WHERE et.experiment_id = ANY($1) ORDER BY t.name, t.id",
            [r["id"] for r in page],
        )
    tags_by: dict[int, list[Any]] = {}
    for t in tags:
        tags_by.setdefault(t["experiment_id"], []).append(
            {"node": {"name": t["name"], "color": t["color"]}}
        )
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
            node["repetitions"] = r["repetitions"]
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


app = Starlette(
    routes=[*baseline.app.routes, Route("/a-lite", list_page_without_progress)],
    lifespan=baseline.lifespan,
)
