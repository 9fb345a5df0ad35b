"""Reproducible data at scale for the benchmark, loaded fast (COPY on PostgreSQL).

full: 10,000 experiments of all kinds with tags, 1,000 datasets (50 examples
each), 1,000,000 experiment runs with one annotation each, 100,000 scenario
nodes in 100 explorations. small: a hundredth of that.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from sqlalchemy.engine import make_url

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


def _j(value: Any) -> str:
    return orjson.dumps(value).decode()


async def generate(url: str, size_name: str, seed: int = 1) -> dict[str, int]:
    """Empty the database, migrate it and fill it; returns rows per table."""
    size = SIZES[size_name]
    rng = random.Random(seed)
    migrate.downgrade(url, "base")
    migrate.upgrade(url)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    counts: dict[str, int] = {}
    started = time.perf_counter()

    async def copy(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        await conn.copy_records_to_table(table, records=rows, columns=columns)
        counts[table] = counts.get(table, 0) + len(rows)

    try:
        now = EPOCH
        users = [
            (i, f"user{i}", f"user{i}@bench.example", "member", True, False, now, now)
            for i in range(1, 21)
        ]
        await copy(
            "users",
            [
                "id",
                "username",
                "email",
                "role",
                "is_active",
                "totp_enabled",
                "created_at",
                "updated_at",
            ],
            users,
        )
        tags = [(i, f"tag {i}", f"tag-{i}", "#336699", 0, now, now) for i in range(1, 51)]
        await copy(
            "tags", ["id", "name", "slug", "color", "usage_count", "created_at", "updated_at"], tags
        )
        await copy(
            "datasets",
            ["id", "name", "metadata", "num_signals", "created_at", "updated_at"],
            [(i, f"dataset {i}", "{}", 0, now, now) for i in range(1, size.datasets + 1)],
        )
        await copy(
            "dataset_versions",
            ["id", "dataset_id", "metadata", "created_at"],
            [(i, i, "{}", now) for i in range(1, size.datasets + 1)],
        )
        examples = []
        for d in range(1, size.datasets + 1):
            for e in range(size.examples_per_dataset):
                pk = (d - 1) * size.examples_per_dataset + e + 1
                examples.append(
                    (pk, d, d, _j({"question": f"q{pk}"}), _j({"answer": f"a{pk}"}), "{}", now)
                )
        await copy(
            "dataset_examples",
            ["id", "dataset_id", "dataset_version_id", "input", "output", "metadata", "created_at"],
            examples,
        )
        experiments, links = [], []
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
                    "{}",
                    "{}",
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
        await copy(
            "experiments",
            [
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
            ],
            experiments,
        )
        await copy(
            "experiment_tags", ["id", "experiment_id", "tag_id", "created_at", "updated_at"], links
        )
        await conn.execute(
            "UPDATE tags SET usage_count = (SELECT count(*) FROM experiment_tags "
            "WHERE tag_id = tags.id)"
        )
        configs = [
            (
                i,
                _j(
                    {
                        "model_provider": "echo",
                        "model_name": "echo",
                        "invocation_parameters": {},
                        "max_concurrency": 4,
                    }
                ),
                _j([{"name": "exact", "kind": "exact_match", "parameters": {}}]),
                True,
                0,
                now,
                now,
            )
            for i in range(1, size.evaluation_experiments + 1)
        ]
        await copy(
            "experiment_execution_configs",
            [
                "id",
                "task_config",
                "evaluator_configs",
                "enabled",
                "fencing_token",
                "created_at",
                "updated_at",
            ],
            configs,
        )
        run_id = 0
        done = size.evaluation_experiments - size.queued_experiments
        for exp in experiments[:done]:
            dataset = exp[8]
            runs, annotations = [], []
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
                            _j({"answer": "a"}),
                            12.5,
                            10,
                            20,
                            300,
                            now,
                            now,
                        )
                    )
                    annotations.append((run_id, run_id, "exact", "match", 1.0, "{}", now, now))
            await copy(
                "experiment_runs",
                [
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
                ],
                runs,
            )
            await copy(
                "experiment_run_annotations",
                [
                    "id",
                    "experiment_run_id",
                    "name",
                    "label",
                    "score",
                    "metadata",
                    "created_at",
                    "updated_at",
                ],
                annotations,
            )
        research = [e[0] for e in experiments if e[1] == "research"][: size.explorations]
        node_id = 0
        for x, experiment_id in enumerate(research, start=1):
            await copy(
                "analysis_runs",
                [
                    "id",
                    "experiment_id",
                    "scenario_id",
                    "config",
                    "status",
                    "started_at",
                    "total_synths",
                ],
                [(x, experiment_id, "baseline", "{}", "completed", now, 0)],
            )
            await copy(
                "explorations",
                [
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
                ],
                [
                    (
                        x,
                        experiment_id,
                        x,
                        "{}",
                        "{}",
                        "running",
                        7,
                        size.nodes_per_exploration,
                        0,
                        now,
                    )
                ],
            )
            nodes, level_ids = [], [[node_id + 1]]
            node_id += 1
            nodes.append((node_id, x, None, 0, "{}", _j({"success_rate": 0.5}), 0, "active", now))
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
                            "{}",
                            _j({"success_rate": round(rng.random(), 3)}),
                            1,
                            "active",
                            now,
                        )
                    )
                remaining -= count
                level_ids.append(ids)
            await copy(
                "scenario_nodes",
                [
                    "id",
                    "exploration_id",
                    "parent_id",
                    "depth",
                    "scorecard_params",
                    "simulation_results",
                    "llm_calls",
                    "node_status",
                    "created_at",
                ],
                nodes,
            )
        for table in (
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
        ):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    counts["seconds"] = round(time.perf_counter() - started)
    return counts


if __name__ == "__main__":
    import sys

    print(asyncio.run(generate(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "small")))
