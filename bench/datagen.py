"""Reproducible data at scale for the benchmark, loaded fast, on PostgreSQL and SQLite.

full: 10,000 experiments of all kinds with tags, 1,000 datasets (50 examples
each), 1,000,000 experiment runs with one annotation each, 100,000 scenario
nodes in 100 explorations. small: a hundredth of that.

One seeded generator (``batches``) yields the rows; two sinks load them:
PostgreSQL through asyncpg COPY, SQLite through ``sqlite3`` executemany in large
transactions. The schema comes from the project's migrations on both. On SQLite
every value goes through the bind processor of the application's own column type
(``UTCDateTime``, ``JSONType``, ``PydanticJSON``, enums, booleans), so the file
holds exactly what the application would have written.

    python -m bench.datagen postgresql+asyncpg://.../db small
    python -m bench.datagen sqlite+aiosqlite:////abs/path/bench_small.db small
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy import JSON
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.types import TypeDecorator

from expgraph.db import migrate


@dataclass(frozen=True)
class Size:
    experiments: int
    datasets: int
    examples_per_dataset: int
    evaluation_experiments: int
    queued_experiments: int  # evaluation experiments without runs: for the worker loop
    repetitions: int
    explorations: int
    nodes_per_exploration: int

    @property
    def runs(self) -> int:
        done = self.evaluation_experiments - self.queued_experiments
        return done * self.examples_per_dataset * self.repetitions


SIZES = {
    "full": Size(10_000, 1_000, 50, 2_200, 200, 10, 100, 1_000),
    "small": Size(100, 10, 50, 22, 2, 10, 1, 1_000),
}
KINDS = ["evaluation", "ab_test", "simulation", "training", "research"]
STATUSES = ["draft", "pending", "running", "paused", "completed", "failed", "cancelled"]
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Tables with generated ids (PostgreSQL sequences are moved past them after COPY).
ID_TABLES = (
    "users",
    "tags",
    "datasets",
    "dataset_versions",
    "dataset_examples",
    "experiments",
    "experiment_tags",
    "experiment_runs",
    "experiment_run_annotations",
    "analysis_runs",
    "explorations",
    "scenario_nodes",
)
# Run after every row is in (same SQL on both dialects).
AFTER_LOAD = (
    "UPDATE tags SET usage_count = (SELECT count(*) FROM experiment_tags WHERE tag_id = tags.id)",
)
BATCH_ROWS = 50_000  # runs and annotations are yielded in batches of about this many

Batch = tuple[str, list[str], list[tuple[Any, ...]]]

USER_COLUMNS = [
    "id",
    "username",
    "email",
    "role",
    "is_active",
    "totp_enabled",
    "created_at",
    "updated_at",
]
EXPERIMENT_COLUMNS = [
    "id",
    "kind",
    "name",
    "description",
    "status",
    "config",
    "metadata",
    "created_by",
    "dataset_id",
    "dataset_version_id",
    "repetitions",
    "master_seed",
    "model_type",
    "hypothesis",
    "created_at",
    "updated_at",
]
CONFIG_COLUMNS = [
    "id",
    "task_config",
    "evaluator_configs",
    "enabled",
    "fencing_token",
    "created_at",
    "updated_at",
]
RUN_COLUMNS = [
    "id",
    "experiment_id",
    "dataset_example_id",
    "repetition_number",
    "output",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cost_micros",
    "created_at",
    "updated_at",
]
ANNOTATION_COLUMNS = [
    "id",
    "experiment_run_id",
    "name",
    "label",
    "score",
    "metadata",
    "created_at",
    "updated_at",
]
ANALYSIS_COLUMNS = [
    "id",
    "experiment_id",
    "scenario_id",
    "config",
    "status",
    "started_at",
    "total_synths",
]
EXPLORATION_COLUMNS = [
    "id",
    "experiment_id",
    "baseline_analysis_id",
    "goal",
    "config",
    "status",
    "current_depth",
    "total_nodes",
    "total_llm_calls",
    "started_at",
]
NODE_COLUMNS = [
    "id",
    "exploration_id",
    "parent_id",
    "depth",
    "scorecard_params",
    "simulation_results",
    "llm_calls",
    "node_status",
    "created_at",
]


def batches(size_name: str, seed: int = 1) -> Iterator[Batch]:
    """Every row of the benchmark data, as (table, columns, rows), parents first.

    Values are Python values (aware datetimes, dicts and lists for JSON columns);
    each sink turns them into what its database stores. Deterministic for a seed.
    """
    size = SIZES[size_name]
    rng = random.Random(seed)
    now = EPOCH
    yield (
        "users",
        USER_COLUMNS,
        [
            (i, f"user{i}", f"user{i}@bench.example", "member", True, False, now, now)
            for i in range(1, 21)
        ],
    )
    yield (
        "tags",
        ["id", "name", "slug", "color", "usage_count", "created_at", "updated_at"],
        [(i, f"tag {i}", f"tag-{i}", "#336699", 0, now, now) for i in range(1, 51)],
    )
    yield (
        "datasets",
        ["id", "name", "metadata", "num_signals", "created_at", "updated_at"],
        [(i, f"dataset {i}", {}, 0, now, now) for i in range(1, size.datasets + 1)],
    )
    yield (
        "dataset_versions",
        ["id", "dataset_id", "metadata", "created_at"],
        [(i, i, {}, now) for i in range(1, size.datasets + 1)],
    )
    examples: list[tuple[Any, ...]] = []
    for d in range(1, size.datasets + 1):
        for e in range(size.examples_per_dataset):
            pk = (d - 1) * size.examples_per_dataset + e + 1
            examples.append((pk, d, d, {"question": f"q{pk}"}, {"answer": f"a{pk}"}, {}, now))
    yield (
        "dataset_examples",
        ["id", "dataset_id", "dataset_version_id", "input", "output", "metadata", "created_at"],
        examples,
    )
    experiments: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    for i in range(1, size.experiments + 1):
        kind = "evaluation" if i <= size.evaluation_experiments else KINDS[i % 5]
        created = EPOCH + timedelta(seconds=rng.randrange(90 * 86400))
        dataset = (
            rng.randrange(1, size.datasets + 1) if kind in ("evaluation", "training") else None
        )
        experiments.append(
            (
                i,
                kind,
                f"experiment {i:06d}",
                "benchmark data",
                rng.choice(STATUSES),
                {},
                {},
                rng.randrange(1, 21),
                dataset,
                dataset if kind == "evaluation" else None,
                size.repetitions if kind == "evaluation" else None,
                rng.randrange(2**40) if kind == "simulation" else None,
                "resnet" if kind == "training" else None,
                "h" if kind == "research" else None,
                created,
                created,
            )
        )
        for tag in rng.sample(range(1, 51), 2):
            links.append((len(links) + 1, i, tag, now, now))
    yield "experiments", EXPERIMENT_COLUMNS, experiments
    yield (
        "experiment_tags",
        ["id", "experiment_id", "tag_id", "created_at", "updated_at"],
        links,
    )
    task_config = {
        "model_provider": "echo",
        "model_name": "echo",
        "invocation_parameters": {},
        "max_concurrency": 4,
    }
    evaluators = [{"name": "exact", "kind": "exact_match", "parameters": {}}]
    yield (
        "experiment_execution_configs",
        CONFIG_COLUMNS,
        [
            (i, task_config, evaluators, True, 0, now, now)
            for i in range(1, size.evaluation_experiments + 1)
        ],
    )
    run_id = 0
    done = size.evaluation_experiments - size.queued_experiments
    runs: list[tuple[Any, ...]] = []
    annotations: list[tuple[Any, ...]] = []
    for exp in experiments[:done]:
        dataset = exp[8]
        first_example = (dataset - 1) * size.examples_per_dataset + 1
        for e in range(size.examples_per_dataset):
            for rep in range(1, size.repetitions + 1):
                run_id += 1
                runs.append(
                    (
                        run_id,
                        exp[0],
                        first_example + e,
                        rep,
                        {"answer": "a"},
                        12.5,
                        10,
                        20,
                        300,
                        now,
                        now,
                    )
                )
                annotations.append((run_id, run_id, "exact", "match", 1.0, {}, now, now))
        if len(runs) >= BATCH_ROWS:
            yield "experiment_runs", RUN_COLUMNS, runs
            yield "experiment_run_annotations", ANNOTATION_COLUMNS, annotations
            runs, annotations = [], []
    if runs:
        yield "experiment_runs", RUN_COLUMNS, runs
        yield "experiment_run_annotations", ANNOTATION_COLUMNS, annotations
    research = [e[0] for e in experiments if e[1] == "research"][: size.explorations]
    node_id = 0
    for x, experiment_id in enumerate(research, start=1):
        yield (
            "analysis_runs",
            ANALYSIS_COLUMNS,
            [(x, experiment_id, "baseline", {}, "completed", now, 0)],
        )
        yield (
            "explorations",
            EXPLORATION_COLUMNS,
            [(x, experiment_id, x, {}, {}, "running", 7, size.nodes_per_exploration, 0, now)],
        )
        nodes: list[tuple[Any, ...]] = []
        level_ids = [[node_id + 1]]
        node_id += 1
        nodes.append((node_id, x, None, 0, {}, {"success_rate": 0.5}, 0, "active", now))
        per_level = [1, 4, 12, 40, 100, 200, 300]
        remaining = size.nodes_per_exploration - 1
        for depth in range(1, 8):
            count = per_level[depth - 1] if depth < 7 else remaining
            count = min(count, remaining)
            ids = []
            for _ in range(count):
                node_id += 1
                ids.append(node_id)
                nodes.append(
                    (
                        node_id,
                        x,
                        rng.choice(level_ids[-1]),
                        depth,
                        {},
                        {"success_rate": round(rng.random(), 3)},
                        1,
                        "active",
                        now,
                    )
                )
            remaining -= count
            level_ids.append(ids)
        yield "scenario_nodes", NODE_COLUMNS, nodes


def _table_types(table: str, columns: list[str]) -> list[Any]:
    """The application's SQLAlchemy column types of ``table.columns``."""
    from expgraph.models import Base

    mapped = Base.metadata.tables[table]
    return [mapped.c[name].type for name in columns]


def _is_json(type_: Any) -> bool:
    inner = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    return isinstance(inner, JSON)


def _j(value: Any) -> str:
    return orjson.dumps(value).decode()


def _convert(
    rows: list[tuple[Any, ...]], converters: list[Callable[[Any], Any] | None]
) -> list[tuple[Any, ...]]:
    """Apply a converter per column (None: keep), column-wise for speed."""
    if not rows or not any(converters):
        return rows
    columns = list(zip(*rows, strict=True))
    converted = [
        col if fn is None else list(map(fn, col))
        for fn, col in zip(converters, columns, strict=True)
    ]
    return list(zip(*converted, strict=True))


def _memo(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Cache a processor for hashable values (the timestamps repeat a lot)."""
    cache: dict[Any, Any] = {}

    def processed(value: Any) -> Any:
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = fn(value)
            return result

    return processed


async def generate(url: str, size_name: str, seed: int = 1) -> dict[str, int]:
    """Empty the database, migrate it and fill it; returns rows per table (and seconds)."""
    if make_url(url).get_backend_name() == "sqlite":
        return generate_sqlite(url, size_name, seed)
    return await generate_postgresql(url, size_name, seed)


async def generate_postgresql(url: str, size_name: str, seed: int = 1) -> dict[str, int]:
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    try:
        json_columns: dict[tuple[str, tuple[str, ...]], list[Callable[[Any], Any] | None]] = {}
        for table, columns, rows in batches(size_name, seed):
            key = (table, tuple(columns))
            if key not in json_columns:
                json_columns[key] = [
                    _j if _is_json(t) else None for t in _table_types(table, columns)
                ]
            await conn.copy_records_to_table(
                table, records=_convert(rows, json_columns[key]), columns=columns
            )
            counts[table] = counts.get(table, 0) + len(rows)
        for statement in AFTER_LOAD:
            await conn.execute(statement)
        for table in ID_TABLES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        # VACUUM as autovacuum would: it sets the visibility map index-only scans need.
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    counts["seconds"] = round(time.perf_counter() - started)
    return counts


async def rebuild_abtest_unit_sums(url: str, experiment_ids: list[int] | None = None) -> int:
    """Recompute unit_metric_sums from the stored events (of these experiments; all
    when None) with expgraph's own rebuild (``aggregate.rebuild_unit_sums``, what
    ``expgraph abtest aggregate --rebuild`` runs); no statement timeout."""
    from expgraph.config import Settings
    from expgraph.db.engine import Database
    from expgraph.domains.abtest.aggregate import rebuild_unit_sums

    database = Database(Settings(database_url=url, db_statement_timeout_ms=0))
    try:
        async with database.transaction() as session:
            return await rebuild_unit_sums(session, database.dialect, experiment_ids)
    finally:
        await database.dispose()


def sqlite_processors(table: str, columns: list[str]) -> list[Callable[[Any], Any] | None]:
    """Per column, the bind processor the application's engine applies on SQLite
    (aiosqlite dialect): what an ORM insert of the same value would store."""
    from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

    dialect: Dialect = SQLiteDialect_aiosqlite()
    processors: list[Callable[[Any], Any] | None] = []
    for type_ in _table_types(table, columns):
        processor = type_._cached_bind_processor(dialect)
        if processor is not None and not _is_json(type_):
            processor = _memo(processor)
        processors.append(processor)
    return processors


def generate_sqlite(url: str, size_name: str, seed: int = 1) -> dict[str, int]:
    """Build the SQLite file from scratch: migrate a temporary file, load it in large
    transactions, ANALYZE, then move it into place (a half-loaded file never has the
    final name)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("SQLite benchmark data needs a file")
    path = Path(database).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    loading = path.with_name(path.stem + ".loading.db")
    for stale in (path, loading):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{stale}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    migrate.upgrade(make_url(url).set(database=str(loading)).render_as_string())
    counts: dict[str, int] = {}
    conn = sqlite3.connect(loading, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB
        conn.execute("PRAGMA temp_store=MEMORY")
        processors: dict[tuple[str, tuple[str, ...]], list[Callable[[Any], Any] | None]] = {}
        statements: dict[tuple[str, tuple[str, ...]], str] = {}
        conn.execute("BEGIN")
        pending = 0
        for table, columns, rows in batches(size_name, seed):
            key = (table, tuple(columns))
            if key not in processors:
                processors[key] = sqlite_processors(table, columns)
                statements[key] = (
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})"
                )
            conn.executemany(statements[key], _convert(rows, processors[key]))
            counts[table] = counts.get(table, 0) + len(rows)
            pending += len(rows)
            if pending >= 200_000:
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                pending = 0
        for statement in AFTER_LOAD:
            conn.execute(statement)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    loading.rename(path)
    counts["seconds"] = round(time.perf_counter() - started)
    return counts


# A/B testing data (``python -m bench.run --section abtest``): one database of its own.
AB_RESULTS_EXPERIMENT = 1  # results(metric:) over AB_EVENTS events of AB_UNITS units
AB_RUNNING = range(2, 22)  # 20 running USER A/B tests: assignUnits, event ingestion
AB_UNITS = 100_000
AB_EVENTS = 1_000_000
AB_INGEST_UNITS = 10_000  # units of experiment 2 assigned beforehand (ingestion's units)
AB_ID_TABLES = ("users", "experiments", "variants", "assignments", "events")


def _gid(type_name: str, pk: int) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def ab_variant_ids(experiment_id: int) -> list[int]:
    """The two variants (control first) of a benchmark A/B test."""
    return [2 * experiment_id - 1, 2 * experiment_id]


def ab_hash_seed(experiment_id: int) -> str:
    return f"bench-ab-{experiment_id}"


def ab_batches(seed: int = 1) -> Iterator[Batch]:
    """The A/B benchmark rows: 21 A/B tests (two 50/50 variants each), the results
    experiment's 100,000 assigned units and 1,000,000 events (40% with "revenue",
    every one with "clicks"), and experiment 2's 10,000 pre-assigned units."""
    from decimal import Decimal

    from expgraph.domains.abtest.hashing import assign_variant

    rng = random.Random(seed)
    now = EPOCH
    half = [Decimal("0.5"), Decimal("0.5")]
    yield ("users", USER_COLUMNS, [(1, "ab", "ab@bench.example", "member", True, False, now, now)])
    experiments = [AB_RESULTS_EXPERIMENT, *AB_RUNNING]
    yield (
        "experiments",
        [
            *EXPERIMENT_COLUMNS[:8],
            "unit_type",
            "start_at",
            "end_at",
            "hash_seed",
            "created_at",
            "updated_at",
        ],
        [
            (
                e,
                "ab_test",
                f"bench A/B test {e}",
                None,
                "completed" if e == AB_RESULTS_EXPERIMENT else "running",
                {},
                {},
                1,
                "user",
                now - timedelta(days=1),
                datetime(2100, 1, 1, tzinfo=UTC),
                ab_hash_seed(e),
                now,
                now,
            )
            for e in experiments
        ],
    )
    yield (
        "variants",
        [
            "id",
            "experiment_id",
            "name",
            "allocation",
            "config",
            "position",
            "is_control",
            "created_at",
            "updated_at",
        ],
        [
            (v, e, name, Decimal("0.5"), {}, p, p == 0, now, now)
            for e in experiments
            for p, (v, name) in enumerate(
                zip(ab_variant_ids(e), ["control", "treatment"], strict=True)
            )
        ],
    )
    columns = ["id", "experiment_id", "unit_type", "unit_id", "variant_id", "assigned_at"]
    variant_of: list[int] = []
    rows = []
    for u in range(AB_UNITS):
        index = assign_variant(ab_hash_seed(AB_RESULTS_EXPERIMENT), f"u{u}", half)
        assert index is not None
        variant_of.append(ab_variant_ids(AB_RESULTS_EXPERIMENT)[index])
        rows.append((u + 1, AB_RESULTS_EXPERIMENT, "user", f"u{u}", variant_of[-1], now))
    for u in range(AB_INGEST_UNITS):
        index = assign_variant(ab_hash_seed(AB_RUNNING[0]), f"i{u}", half)
        assert index is not None
        pk = AB_UNITS + u + 1
        rows.append((pk, AB_RUNNING[0], "user", f"i{u}", ab_variant_ids(AB_RUNNING[0])[index], now))
    yield ("assignments", columns, rows)
    experiment_gid = _gid("AbTestExperiment", AB_RESULTS_EXPERIMENT)
    refs = {
        v: [{"experiment_id": experiment_gid, "variant_id": _gid("Variant", v)}]
        for v in ab_variant_ids(AB_RESULTS_EXPERIMENT)
    }
    event_columns = [
        "id",
        "event_id",
        "event_type",
        "unit_type",
        "unit_id",
        "experiments",
        "context",
        "metrics",
        "timestamp",
        "created_at",
    ]
    for start in range(0, AB_EVENTS, BATCH_ROWS):
        events: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        for pk in range(start + 1, min(start + BATCH_ROWS, AB_EVENTS) + 1):
            u = rng.randrange(AB_UNITS)
            variant = variant_of[u]
            lift = 1.0 if variant == ab_variant_ids(AB_RESULTS_EXPERIMENT)[1] else 0.0
            metrics: dict[str, float] = {"clicks": 1}
            if rng.random() < 0.4:
                metrics["revenue"] = round(rng.gauss(20.0 + lift, 8.0), 2)
            at = now + timedelta(seconds=rng.randrange(30 * 86400))
            events.append(
                (
                    pk,
                    f"e{pk}",
                    "purchase" if "revenue" in metrics else "click",
                    "user",
                    f"u{u}",
                    refs[variant],
                    {},
                    metrics,
                    at,
                    at,
                )
            )
            links.append((pk, AB_RESULTS_EXPERIMENT, variant))
        yield ("events", event_columns, events)
        yield ("event_experiments", ["event_id", "experiment_id", "variant_id"], links)


async def generate_abtest_postgresql(url: str, seed: int = 1) -> dict[str, int]:
    """Empty the database, migrate it and fill it with the A/B benchmark data (COPY)."""
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    counts: dict[str, int] = {}
    started = time.perf_counter()
    try:
        converters: dict[tuple[str, tuple[str, ...]], list[Callable[[Any], Any] | None]] = {}
        for table, columns, rows in ab_batches(seed):
            key = (table, tuple(columns))
            if key not in converters:
                converters[key] = [
                    _j if _is_json(t) else None for t in _table_types(table, columns)
                ]
            await conn.copy_records_to_table(
                table, records=_convert(rows, converters[key]), columns=columns
            )
            counts[table] = counts.get(table, 0) + len(rows)
        for table in AB_ID_TABLES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        # The events went in by COPY, not recordEvents: the per-unit metric sums
        # that results read are computed from them by the rebuild.
        counts["unit_metric_sums"] = await rebuild_abtest_unit_sums(url)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    counts["seconds"] = round(time.perf_counter() - started)
    return counts


if __name__ == "__main__":
    import sys

    print(asyncio.run(generate(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "small")))
