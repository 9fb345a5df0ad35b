"""The ``expgraph`` command: serve, migrate, export the schema, load demo data."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import typer

from expgraph.config import Settings, get_settings
from expgraph.db import migrate

app = typer.Typer(
    help="expgraph: one GraphQL API over five experiment systems.", no_args_is_help=True
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="User administration.", no_args_is_help=True)
app.add_typer(users_app, name="users")
abtest_app = typer.Typer(help="A/B testing maintenance.", no_args_is_help=True)
app.add_typer(abtest_app, name="abtest")

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# create-admin reads the password from here when --password is not given (scripts,
# containers: keeps it out of the process list and shell history).
ADMIN_PASSWORD_ENV = "EXPGRAPH_ADMIN_PASSWORD"


def _settings() -> Settings:
    return get_settings()


async def _at_head(settings: Settings) -> bool:
    from expgraph.db.engine import Database

    database = Database(settings)
    try:
        return await migrate.is_at_head(database.engine, settings.database_url)
    finally:
        await database.dispose()


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to bind (default from settings: 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default from settings: 8000)."),
    workers: int = typer.Option(None, help="Worker processes (default 1)."),
    migrate_db: bool = typer.Option(
        False, "--migrate", help="Upgrade a PostgreSQL database to head before starting."
    ),
) -> None:
    """Serve GraphQL (and GraphiQL) at /graphql."""
    import uvicorn

    settings = _settings()
    if settings.is_sqlite or migrate_db:
        migrate.upgrade(settings.database_url)
    elif not asyncio.run(_at_head(settings)):
        typer.secho(
            "The database is behind the code's migrations. Run `expgraph db upgrade` "
            "(or start with `expgraph serve --migrate`).",
            fg="red",
            err=True,
        )
        raise typer.Exit(code=1)
    bind_host = host or settings.host
    bind_port = port or settings.port
    processes = workers or settings.workers
    cpus = available_cpus()
    if processes > cpus:
        typer.secho(
            f"WARNING: {processes} workers on {cpus} CPU(s): they compete for the processors "
            "while they start and while they serve, so more workers than CPUs rarely answers "
            f"faster. Each gets {worker_startup_seconds(processes, cpus)} s to start; "
            f"consider --workers {cpus}.",
            fg="yellow",
            err=True,
        )
    if not settings.auth_enabled and bind_host not in LOOPBACK:
        typer.secho(
            f"WARNING: authentication is off and expgraph listens on {bind_host}: anyone who "
            "can reach it acts as an admin. Set EXPGRAPH_AUTH_ENABLED=true.",
            fg="yellow",
            err=True,
        )
    typer.echo(f"expgraph: GraphiQL at http://{bind_host}:{bind_port}/graphql")
    uvicorn.run(
        "expgraph.app:app_from_env",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=processes,
        # uvicorn's supervisor kills (and restarts) a worker that does not answer its
        # health check within this many seconds; its 5 s default is shorter than
        # several workers take to import and build the schema on a busy machine.
        timeout_worker_healthcheck=worker_startup_seconds(processes, cpus),
        log_level=settings.log_level,
        **proxy_options(settings),
    )


def available_cpus() -> int:
    """CPUs this process may run on (its affinity, as `taskset` or a container sets it)."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_startup_seconds(workers: int, cpus: int) -> int:
    """How long each worker may take to answer its first health check: about 5 s of
    startup per worker sharing a CPU, at least uvicorn's 5 s, with room to spare."""
    return max(5, 10 * -(-workers // cpus))


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header options: X-Forwarded-For/-Proto are believed only
    from the proxies in ``EXPGRAPH_FORWARDED_ALLOW_IPS``; with none configured they
    are ignored (uvicorn would otherwise trust them from loopback, and anyone on the
    machine, or a proxy passing the header through, could pick the client address)."""
    if not settings.forwarded_allow_ips.strip():
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def _missing_sqlite_file(settings: Settings) -> Path | None:
    """The configured SQLite file when it does not exist yet (opening it would
    create an empty one); None for PostgreSQL, in-memory SQLite or a file that exists."""
    if not settings.is_sqlite:
        return None
    from sqlalchemy.engine import make_url

    name = make_url(settings.database_url).database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    path = Path(name)
    return None if path.exists() else path


def _refuse_missing_database(settings: Settings) -> None:
    missing = _missing_sqlite_file(settings)
    if missing is not None:
        typer.secho(
            f"no database at {missing} (`expgraph db upgrade` or `expgraph serve` creates it)",
            fg="red",
            err=True,
        )
        raise typer.Exit(code=1)


def _current_revision(settings: Settings) -> str | None:
    from expgraph.db.engine import Database

    async def run() -> str | None:
        database = Database(settings)
        try:
            return await migrate.current_revision(database.engine)
        finally:
            await database.dispose()

    return asyncio.run(run())


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the configured database up to REVISION (default: head)."""
    settings = _settings()
    migrate.upgrade(settings.database_url, revision)
    typer.echo(f"upgraded to {_current_revision(settings) or 'base'}")


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument("-1")) -> None:
    """Migrate down to REVISION (default: one step; 'base' empties the database)."""
    settings = _settings()
    _refuse_missing_database(settings)
    migrate.downgrade(settings.database_url, revision)
    typer.echo(f"downgraded to {_current_revision(settings) or 'base'}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and the code's head (creates nothing)."""
    settings = _settings()
    _refuse_missing_database(settings)
    current = _current_revision(settings)
    head = migrate.head_revision(settings.database_url)
    typer.echo(f"current: {current or 'none'}  head: {head}")


@app.command("export-schema")
def export_schema(
    path: Path = typer.Argument(Path("schema.graphql"), help="Where to write the SDL."),
    check: bool = typer.Option(False, help="Exit 1 if the file differs instead of writing it."),
) -> None:
    """Write the sorted GraphQL SDL (for client code generators)."""
    from expgraph.schema import build_schema, export_sdl

    sdl = export_sdl(build_schema())
    if check:
        if not path.exists() or path.read_text() != sdl:
            typer.secho(f"{path} is out of date: run `expgraph export-schema`", fg="red", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"{path} is up to date")
        return
    path.write_text(sdl)
    typer.echo(f"wrote {path}")


@app.command()
def demo(
    seed: int = typer.Option(7, help="Random seed: the same seed gives the same data."),
    experiments: int = typer.Option(600, help="How many experiments to create."),
    append: bool = typer.Option(
        False, "--append", help="Add another set when the database already holds demo data."
    ),
) -> None:
    """Fill the configured database with a realistic demo data set (refuses to load
    it a second time unless --append)."""
    from expgraph.demo import DemoDataPresent, load_demo

    settings = _settings()
    migrate.upgrade(settings.database_url)
    try:
        counts = asyncio.run(load_demo(settings, seed=seed, experiments=experiments, append=append))
    except DemoDataPresent as exc:
        typer.secho(f"nothing loaded: {exc.message}", fg="red", err=True)
        raise typer.Exit(code=1) from exc
    for table, count in counts.items():
        typer.echo(f"{table:>20}: {count}")


@app.command("rollup-api-metrics")
def rollup_api_metrics(
    period: str = typer.Option("hour", help="hour or day"),
    start: str = typer.Option(None, help="ISO time inside the one period to (re)compute."),
) -> None:
    """Summarize request logs into api_metrics_summary (every complete period not yet done)."""
    from datetime import datetime

    from expgraph.db.engine import Database
    from expgraph.domains.accounts.rollup import rollup

    if period not in ("hour", "day"):
        raise typer.BadParameter("period is hour or day")
    settings = _settings()

    async def run() -> list[str]:
        database = Database(settings)
        try:
            at = datetime.fromisoformat(start) if start else None
            rows = await rollup(database, period, start=at)  # type: ignore[arg-type]
            return [
                f"{r.period_start.isoformat()} {r.total_requests} requests, "
                f"error rate {r.error_rate:.3f}"
                for r in rows
            ]
        finally:
            await database.dispose()

    for line in asyncio.run(run()) or ["nothing to summarize"]:
        typer.echo(line)


@abtest_app.command("aggregate")
def abtest_aggregate(
    rebuild: bool = typer.Option(
        False,
        "--rebuild",
        help="Delete every aggregate and recompute all buckets, and recompute every unit's "
        "metric sums (unit_metric_sums) from the events.",
    ),
) -> None:
    """Fill metric_aggregates (hourly and daily count, sum, mean, min, max, stddev per
    experiment, variant and metric) for the buckets that received events since the last
    run, or all of them with --rebuild (which also recomputes the per-unit metric sums that
    results read from the events: for events written outside recordEvents)."""
    from expgraph.db.engine import Database
    from expgraph.domains.abtest.aggregate import aggregate

    settings = _settings()

    async def run() -> str:
        database = Database(settings)
        try:
            async with database.transaction() as session:
                done = await aggregate(session, database.dialect, rebuild=rebuild)
            if done.skipped:
                return "another aggregation is under way: nothing done"
            since = "every bucket" if done.since is None else f"events since {done.since}"
            sums = f"; {done.unit_sums} unit metric sums recomputed" if rebuild else ""
            return f"{done.rows} aggregate rows written ({since}){sums}"
        finally:
            await database.dispose()

    typer.echo(asyncio.run(run()))


@app.command()
def deliver(
    once: bool = typer.Option(
        False, "--once", help="Do one pass (fan out, send, periodic work) and exit."
    ),
) -> None:
    """Deliver notifications: fan outbox events out to in-app notifications, e-mail and
    webhooks, send what is due with retries, and send digests. Runs until stopped
    (Ctrl-C); any number may run beside `expgraph serve`, which runs one too unless
    EXPGRAPH_DELIVERY_ENABLED=false. In-app notifications reach subscribers of other
    processes only on PostgreSQL."""
    from expgraph.db.engine import Database
    from expgraph.db.notify import Broker
    from expgraph.domains.notifications import deliver as deliverer
    from expgraph.domains.notifications import registry

    settings = _settings()
    _refuse_missing_database(settings)

    async def run() -> int:
        database = Database(settings)
        broker = Broker(database)
        channels, periodic = registry.channels(), registry.periodic()
        try:
            if once:
                return await deliverer.run_once(
                    database, settings, channels, periodic, broker=broker
                )
            await deliverer.run_forever(database, settings, channels, periodic, broker=broker)
            return 0
        finally:
            await broker.close()
            await database.dispose()

    try:
        done = asyncio.run(run())
    except KeyboardInterrupt:
        return
    if once:
        typer.echo(f"{done} item(s) of work done")


@app.command()
def worker(
    url: str = typer.Option("http://127.0.0.1:8000/graphql", help="The server's /graphql URL."),
    api_key: str = typer.Option(
        None,
        envvar="EXPGRAPH_WORKER_API_KEY",
        help="With authentication on: a key made with createApiKey(preset: WORKER).",
    ),
    work: str = typer.Option(
        "execution",
        help="What to work on: execution (evaluation experiments), hpo (HPO trials), "
        "nas (NAS trials) or datasets (dataset generation and import jobs).",
    ),
    executor: str = typer.Option(
        None,
        help="`package.module:function`, or the built-in one: `echo` (execution, the "
        "default) or `builtin` (hpo, nas, datasets, the default). Signatures: "
        "expgraph.worker.executors (execution), expgraph.worker.training (the others).",
    ),
    campaign_id: str = typer.Option(
        None, help="hpo, nas: work on this campaign only (else any with room)."
    ),
    concurrency: int = typer.Option(4, min=1, max=256),
    worker_id: str = typer.Option(None, help="Defaults to host:pid."),
    heartbeat_seconds: float = typer.Option(
        150.0, help="Heartbeat interval: a quarter of the server's stale threshold."
    ),
    batch_size: int = typer.Option(50, min=1, max=500),
    exit_when_idle: bool = typer.Option(False, help="Exit when nothing is claimable."),
    experiment_id: str = typer.Option(None, help="Work on this experiment only."),
) -> None:
    """Claim work and do it until stopped (SIGTERM/Ctrl-C): evaluation experiments
    (--work execution), HPO trials (hpo), NAS trials (nas) or dataset jobs (datasets)."""
    import logging
    import os
    import signal
    import socket

    from expgraph.worker import training
    from expgraph.worker.executors import load_executor
    from expgraph.worker.runner import BaseWorker, Worker, WorkerOptions, WorkerStopped

    if work not in ("execution", *training.WORK_KINDS):
        raise typer.BadParameter(
            f"--work is one of execution, {', '.join(training.WORK_KINDS)}", param_hint="--work"
        )

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    options = WorkerOptions(
        url=url,
        api_key=api_key,
        worker_id=worker_id or f"{socket.gethostname()}:{os.getpid()}",
        concurrency=concurrency,
        heartbeat_seconds=heartbeat_seconds,
        batch_size=batch_size,
        exit_when_idle=exit_when_idle,
        experiment_id=experiment_id,
        campaign_id=campaign_id,
    )
    runner: BaseWorker
    if work == "execution":
        runner = Worker(options, load_executor(executor or "echo"))
    else:
        runner = training.make_worker(
            work, options, training.load_training_executor(work, executor or "builtin")
        )

    async def main() -> str:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, runner.stop)
        return await runner.run()

    try:
        reason = asyncio.run(main())
    except WorkerStopped as exc:
        done = f"worker {options.worker_id} stopped ({runner.completed} completed)"
        typer.echo(f"{done}: {exc}", err=True)
        raise typer.Exit(1) from None
    done = f"worker {options.worker_id} stopped ({runner.completed} completed)"
    typer.echo(f"{done}: {reason}")


@users_app.command("create-admin")
def create_admin(
    username: str = typer.Option(..., help="The admin's user name."),
    email: str = typer.Option(..., help="The admin's email address."),
    password: str = typer.Option(
        None,
        envvar=ADMIN_PASSWORD_ENV,
        show_envvar=True,
        help="At least 12 characters. Without it (or the environment variable), "
        "asked for on the terminal, hidden, twice.",
    ),
) -> None:
    """Create an admin user (the first one, to bootstrap a server with auth on).

    The password comes from --password, else EXPGRAPH_ADMIN_PASSWORD, else it is
    asked for on the terminal (hidden, typed twice)."""
    import sys

    from expgraph.db.engine import Database
    from expgraph.domains.accounts import models, service
    from expgraph.graphql.errors import as_expected

    if password is None:
        if not sys.stdin.isatty():
            typer.secho(
                "not created: no password given and no terminal to ask for one: pass "
                f"--password or set {ADMIN_PASSWORD_ENV}",
                fg="red",
                err=True,
            )
            raise typer.Exit(code=2)
        password = typer.prompt(
            f"Password for {username} (at least 12 characters)",
            hide_input=True,
            confirmation_prompt=True,
        )
    settings = _settings()

    async def run() -> int:
        database = Database(settings)
        try:
            async with database.transaction() as session:
                user = await service.create_user(
                    session,
                    username=username,
                    email=email,
                    role=models.UserRole.ADMIN,
                    password=password,
                )
            return user.id
        finally:
            await database.dispose()

    try:
        user_id = asyncio.run(run())
    except Exception as exc:
        expected = as_expected(exc)
        if expected is None:
            raise
        typer.secho(f"not created: {expected.message}", fg="red", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"created admin {username} (id {user_id})")


if __name__ == "__main__":
    app()
