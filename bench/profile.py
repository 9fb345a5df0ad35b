"""Operations (a), (b) and (c) one at a time, in process: expgraph and the raw
baseline side by side, without HTTP or concurrency in the way, and optionally
a cProfile of one of them.

    .venv/bin/python -m bench.profile [--size small] [--profile b_detail]

Uses the benchmark's PostgreSQL (``.bench-pg``, or ``--url``) and its data
(run ``python -m bench.run`` once first to generate it).
"""

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy.engine import make_url

from bench.run import DETAIL, LIST_PAGE, ROOT, TREE, gid

Send = Callable[[], Awaitable[bytes]]


async def timed(send: Send, n: int) -> float:
    for _ in range(5):
        await send()
    started = time.perf_counter()
    for _ in range(n):
        await send()
    return (time.perf_counter() - started) / n * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="full")
    parser.add_argument("--url", help="postgresql+asyncpg://... of the benchmark's server")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--profile", choices=["a_list", "b_detail", "c_tree"])
    args = parser.parse_args()
    server = args.url
    if server is None:
        import pgserver

        server = pgserver.get_server(str(ROOT / ".bench-pg"), cleanup_mode=None).get_uri()
    url = make_url(server).set(drivername="postgresql+asyncpg", database=f"bench_{args.size}")
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)

    import asyncpg

    conn = await asyncpg.connect(dsn)
    evaluation = await conn.fetchval(
        "SELECT c.id FROM experiment_execution_configs c WHERE EXISTS "
        "(SELECT 1 FROM experiment_runs r WHERE r.experiment_id = c.id) ORDER BY c.id LIMIT 1"
    )
    exploration = await conn.fetchval("SELECT id FROM explorations ORDER BY id LIMIT 1")
    await conn.close()

    from expgraph.app import create_app
    from expgraph.config import Settings
    from expgraph.db.engine import Database
    from expgraph.runtime import tune_garbage_collector

    settings = Settings(
        database_url=url.render_as_string(hide_password=False),
        request_log_enabled=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    db = Database(settings)
    operations = {
        "a_list": (LIST_PAGE, {}, "/a"),
        "b_detail": (
            DETAIL,
            {"id": gid("EvaluationExperiment", evaluation)},
            f"/b?id={evaluation}",
        ),
        "c_tree": (TREE, {"id": gid("Exploration", exploration)}, f"/c?id={exploration}"),
    }
    os.environ["BENCH_DSN"] = dsn
    from bench import baseline

    expgraph_transport = httpx.ASGITransport(app=create_app(settings, db=db))
    baseline_transport = httpx.ASGITransport(app=baseline.app)
    tune_garbage_collector(settings.gc_threshold)  # as the server's startup does
    async with (
        baseline.lifespan(baseline.app),
        httpx.AsyncClient(transport=expgraph_transport, base_url="http://x") as ours,
        httpx.AsyncClient(transport=baseline_transport, base_url="http://x") as raw,
    ):

        def sender(name: str, client: httpx.AsyncClient, raw_route: bool) -> Send:
            query, variables, route = operations[name]

            async def send() -> bytes:
                if raw_route:
                    response = await client.get(route)
                else:
                    body = {"query": query, "variables": variables}
                    response = await client.post("/graphql", json=body)
                assert response.status_code == 200 and b'"errors"' not in response.content
                return response.content

            return send

        if args.profile:
            send = sender(args.profile, ours, False)
            await timed(send, 5)
            profiler = cProfile.Profile()
            profiler.enable()
            await timed(send, args.requests)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        print("| operation | expgraph ms | baseline ms | ratio |")
        print("| --- | ---: | ---: | ---: |")
        for name in operations:
            mine = await timed(sender(name, ours, False), args.requests)
            theirs = await timed(sender(name, raw, True), args.requests)
            print(f"| {name} | {mine:.1f} | {theirs:.1f} | {mine / theirs:.1f}x |")
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
