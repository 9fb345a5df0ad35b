"""A realistic demo data set, reproducible from a seed.

Every experiment kind, tags (with exact usage counts), datasets with versions and
examples and signals, users, an execution config, an exploration tree, running A/B
tests, training experiments with learning curves and finished HPO and NAS
campaigns (``demo_training``): a few thousand rows, in a handful of transactions.
Run again on a database that already holds demo data, it refuses
(``DemoDataPresent``) unless ``append=True``, which adds a second set (names carry
the seed and a run number, so they never collide).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from rich.progress import Progress
from sqlalchemy import func, insert, select, update

from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.demo_training import load_training
from expgraph.domains.abtest import aggregate as ab_aggregate
from expgraph.domains.abtest import hashing
from expgraph.domains.abtest.models import Assignment, Event, EventExperiment, Variant
from expgraph.domains.accounts.models import User, UserRole
from expgraph.domains.catalog.models import (
    Dataset,
    DatasetExample,
    DatasetVersion,
    ExperimentTag,
    Signal,
    Tag,
)
from expgraph.domains.execution.configs import EvaluatorConfig, EvaluatorKind, TaskConfig
from expgraph.domains.execution.models import ExecutionConfig
from expgraph.domains.experiments import models as xm
from expgraph.domains.research.models import AnalysisRun, Exploration, ScenarioNode
from expgraph.errors import Conflict
from expgraph.graphql.relay import encode_id

DEMO_EMAIL_DOMAIN = "demo.example"

TOPICS = [
    "checkout",
    "onboarding",
    "search",
    "pricing",
    "support",
    "recommendations",
    "notifications",
    "billing",
    "retention",
    "summaries",
]
ADJECTIVES = ["fast", "careful", "terse", "friendly", "strict", "creative", "robust", "cheap"]
# What a user wants to do about a topic ("How do I {task}?"), one per topic.
TASKS = {
    "checkout": "pay with a saved card at checkout",
    "onboarding": "skip the onboarding tour",
    "search": "search only my own projects",
    "pricing": "compare the pricing plans",
    "support": "reach a support agent",
    "recommendations": "turn off recommendations",
    "notifications": "mute notifications at night",
    "billing": "download last month's invoice",
    "retention": "pause my subscription",
    "summaries": "get a weekly summary by email",
}
# How each experiment kind reads in a sentence ("A careful A/B test of checkout.").
KIND_WORDS = {
    xm.ExperimentKind.EVALUATION: "evaluation",
    xm.ExperimentKind.AB_TEST: "A/B test",
    xm.ExperimentKind.SIMULATION: "simulation",
    xm.ExperimentKind.TRAINING: "training run",
    xm.ExperimentKind.RESEARCH: "user research study",
}
# Changes an exploration tries on a scenario.
ACTIONS = [
    "lower the price",
    "raise the price",
    "shorten the sign-up form",
    "add a free trial",
    "move the button up",
    "send a reminder email",
    "offer a discount",
    "simplify the wording",
]
TAG_NAMES = [
    "baseline",
    "production",
    "llm",
    "gpt-4o",
    "claude",
    "regression",
    "q3",
    "q4",
    "mobile",
    "web",
    "high-priority",
    "exploratory",
    "ablation",
    "cost",
    "latency",
    "quality",
    "safety",
    "multilingual",
    "rag",
    "agents",
]
COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
KINDS = list(xm.ExperimentKind)
STATUSES = list(xm.ExperimentStatus)


@dataclass(frozen=True)
class DemoArm:
    name: str
    allocation: str  # exact decimal, as stored
    description: str
    conversion: float  # share of the arm's units that buy once


@dataclass(frozen=True)
class DemoAbTest:
    topic: str
    name: str
    description: str
    arms: tuple[DemoArm, ...]  # the first is the control


# Running A/B tests with users, assignments and events: "conversion" (1 for a
# user who bought) shows a clear lift, "revenue" (per user) is flat by design.
AB_TESTS = (
    DemoAbTest(
        "checkout",
        "one-click checkout",
        "Does paying with the saved card in one click make more users buy?",
        (
            DemoArm("control", "0.5000", "The current three-step checkout.", 0.10),
            DemoArm("one-click", "0.5000", "Pay with the saved card in one click.", 0.16),
        ),
    ),
    DemoAbTest(
        "onboarding",
        "shorter onboarding",
        "Do users who see a shorter onboarding tour start a trial more often?",
        (
            DemoArm("control", "0.3000", "The current five-step tour.", 0.20),
            DemoArm("three steps", "0.3000", "A three-step tour.", 0.28),
            DemoArm("one step", "0.3000", "A single welcome screen.", 0.29),
        ),
    ),
)
# How far the flat metric's treatment mean sits from the control's, in standard
# errors of the difference (|z| = 0.3: a two-sided p-value of about 0.76).
FLAT_Z = 0.3


class DemoDataPresent(Conflict):
    """The database already holds demo data and ``append`` was not asked for."""


def _article(word: str) -> str:
    return "an" if word[0].lower() in "aeiou" else "a"


async def load_demo(
    settings: Settings,
    *,
    seed: int = 7,
    experiments: int = 600,
    progress: bool = True,
    append: bool = False,
    ab_units: int = 3000,
) -> dict[str, int]:
    """Fill the (migrated) database; returns rows inserted per table. Raises
    ``DemoDataPresent`` when demo data is already there, unless ``append``."""
    rng = random.Random(seed)
    db = Database(settings)
    counts: Counter[str] = Counter()
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        async with db.read() as session:
            run = (await session.scalar(select(func.count(User.id)))) or 0
            present = await session.scalar(
                select(func.count(User.id)).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))
            )
        if present and not append:
            raise DemoDataPresent(
                f"the database already holds demo data ({present} demo users); "
                "loading it again would add a second set: pass --append to do that"
            )
        suffix = f"s{seed}r{run}"
        with Progress(disable=not progress) as bar:
            task = bar.add_task("demo data", total=8)
            async with db.transaction() as session:
                users = [
                    User(
                        username=f"{name}.{suffix}",
                        email=f"{name}.{suffix}@{DEMO_EMAIL_DOMAIN}",
                        role=role,
                    )
                    for name, role in [
                        ("ada", UserRole.ADMIN),
                        ("grace", UserRole.MEMBER),
                        ("alan", UserRole.MEMBER),
                        ("edsger", UserRole.MEMBER),
                        ("barbara", UserRole.VIEWER),
                        ("ken", UserRole.VIEWER),
                        ("margaret", UserRole.MEMBER),
                        ("linus", UserRole.ADMIN),
                    ]
                ]
                session.add_all(users)
                await session.flush()
                counts["users"] += len(users)
                tags = [
                    Tag(
                        name=f"{t} {suffix}",
                        slug=f"{t}-{suffix}",
                        color=rng.choice(COLORS),
                        created_by=rng.choice(users).id,
                    )
                    for t in TAG_NAMES
                ]
                session.add_all(tags)
                await session.flush()
                counts["tags"] += len(tags)
            bar.advance(task)
            datasets: list[tuple[int, list[int], list[int]]] = []
            async with db.transaction() as session:
                for d in range(12):
                    topic = TOPICS[d % len(TOPICS)]
                    dataset = Dataset(
                        name=f"{topic} questions {d} {suffix}",
                        description=f"Questions users ask about {topic}.",
                        created_by=rng.choice(users).id,
                        metadata_={"source": "demo", "topic": topic},
                    )
                    session.add(dataset)
                    await session.flush()
                    versions, examples = [], []
                    for v in range(rng.randint(1, 3)):
                        version = DatasetVersion(dataset_id=dataset.id, description=f"v{v + 1}")
                        session.add(version)
                        await session.flush()
                        versions.append(version.id)
                        rows = [
                            {
                                "dataset_id": dataset.id,
                                "dataset_version_id": version.id,
                                "input": {"question": f"How do I {TASKS[topic]}? (#{i + 1})"},
                                "output": {
                                    "answer": f"Open the {topic} settings and follow step "
                                    f"{i % 5 + 1}."
                                },
                                "metadata": {"difficulty": rng.choice(["easy", "hard"])},
                            }
                            for i in range(rng.randint(10, 40))
                        ]
                        ids = (
                            await session.scalars(
                                insert(DatasetExample).returning(DatasetExample.id), rows
                            )
                        ).all()
                        examples += list(ids)
                        counts["dataset_versions"] += 1
                        counts["dataset_examples"] += len(rows)
                    if d % 3 == 0:
                        signals = [
                            {
                                "dataset_id": dataset.id,
                                "signal_id": f"sig-{d}-{i}",
                                "fault_class": rng.choice(["bearing", "gear", "none"]),
                                "severity": rng.choice(["low", "mid", "high"]),
                                "rms": round(rng.uniform(0.1, 2), 3),
                                "kurtosis": round(rng.uniform(2, 9), 3),
                                "dominant_frequency": round(rng.uniform(10, 500), 1),
                            }
                            for i in range(15)
                        ]
                        await session.execute(insert(Signal), signals)
                        dataset.num_signals = len(signals)
                        counts["signals"] += len(signals)
                    datasets.append((dataset.id, versions, examples))
                    counts["datasets"] += 1
            bar.advance(task)
            made: list[xm.Experiment] = []
            async with db.transaction() as session:
                for i in range(experiments):
                    kind = KINDS[i % len(KINDS)]
                    adjective = rng.choice(ADJECTIVES)
                    created = now - timedelta(days=rng.uniform(0, 90))
                    common: dict[str, Any] = {
                        "name": f"{TOPICS[i % 10]} {KIND_WORDS[kind]} {i:04d} {suffix}",
                        "description": (
                            f"{_article(adjective).capitalize()} {adjective} {KIND_WORDS[kind]} "
                            f"of {TOPICS[i % 10]}."
                        ),
                        "status": rng.choice(STATUSES),
                        "config": {"owner": "demo"},
                        "metadata_": {"team": rng.choice(["core", "growth", "ml"])},
                        "created_by": rng.choice(users).id,
                        "created_at": created,
                        "updated_at": created,
                        "deleted_at": created + timedelta(days=1) if rng.random() < 0.03 else None,
                    }
                    dataset_id, versions, _ = rng.choice(datasets)
                    specific: dict[str, Any] = {  # type: ignore[assignment]
                        xm.ExperimentKind.EVALUATION: {
                            "dataset_id": dataset_id,
                            "dataset_version_id": versions[-1],
                            "repetitions": rng.randint(1, 3),
                        },
                        xm.ExperimentKind.AB_TEST: {
                            "unit_type": rng.choice(list(xm.UnitType)),
                            "start_at": created,
                            "end_at": created + timedelta(days=14),
                        },
                        xm.ExperimentKind.SIMULATION: {
                            "master_seed": rng.randrange(2**48),
                            "simulation_type": "policy_search",
                            "num_iterations": rng.randint(1, 50),
                            "converged": rng.random() < 0.6,
                            "final_cost": rng.randrange(10**7),
                            "best_cost": rng.randrange(10**6),
                        },
                        xm.ExperimentKind.TRAINING: {
                            "dataset_id": dataset_id,
                            "model_type": rng.choice(["cnn", "lstm", "transformer"]),
                            "hyperparameters": {"lr": 0.001},
                            "metrics": {"val_accuracy": round(rng.random(), 3)},
                            "total_epochs": 50,
                            "best_epoch": rng.randint(1, 50),
                        },
                        xm.ExperimentKind.RESEARCH: {
                            "hypothesis": (
                                f"Users are more satisfied with {TOPICS[i % 10]} when it is "
                                f"{rng.choice(ADJECTIVES)}."
                            ),
                            "scorecard_data": {"price": rng.randint(5, 50)},
                        },
                    }[kind]
                    model = xm.Experiment.__mapper__.polymorphic_map[kind].class_
                    made.append(model(**common, **specific))
                session.add_all(made)
                await session.flush()
                counts["experiments"] += len(made)
                links = {(e.id, t.id) for e in made for t in rng.sample(tags, rng.randint(0, 3))}
                await session.execute(
                    insert(ExperimentTag),
                    [{"experiment_id": e, "tag_id": t} for e, t in sorted(links)],
                )
                live = {e.id for e in made if e.deleted_at is None}
                per_tag = Counter(t for e, t in links if e in live)  # live experiments only
                for tag in tags:
                    await session.execute(
                        update(Tag).where(Tag.id == tag.id).values(usage_count=per_tag[tag.id])
                    )
                counts["experiment_tags"] += len(links)
            bar.advance(task)
            async with db.transaction() as session:
                for experiment in made:
                    if (
                        experiment.kind is xm.ExperimentKind.EVALUATION
                        and experiment.deleted_at is None
                    ):
                        session.add(
                            ExecutionConfig(
                                id=experiment.id,
                                task_config=TaskConfig(model_provider="echo", model_name="echo-1"),
                                evaluator_configs=[
                                    EvaluatorConfig(name="exact", kind=EvaluatorKind.EXACT_MATCH)
                                ],
                            )
                        )
                        counts["experiment_execution_configs"] += 1
            bar.advance(task)
            async with db.transaction() as session:
                research = [e for e in made if e.kind is xm.ExperimentKind.RESEARCH][:3]
                for experiment in research:
                    analysis = AnalysisRun(experiment_id=experiment.id, config={"synths": 500})
                    session.add(analysis)
                    await session.flush()
                    exploration = Exploration(
                        experiment_id=experiment.id,
                        baseline_analysis_id=analysis.id,
                        goal={"success_rate": 0.8},
                        config={"max_depth": 4},
                    )
                    session.add(exploration)
                    await session.flush()
                    frontier: list[int | None] = [None]
                    for depth in range(4):
                        nxt: list[int | None] = []
                        for parent in frontier:
                            for _ in range(1 if depth == 0 else rng.randint(1, 3)):
                                node = ScenarioNode(
                                    exploration_id=exploration.id,
                                    parent_id=parent,
                                    depth=depth,
                                    llm_calls=rng.randint(0, 3),
                                    short_action=rng.choice(ACTIONS),
                                    scorecard_params={"price": rng.randint(5, 50)},
                                    simulation_results={"success_rate": round(rng.random(), 3)},
                                )
                                session.add(node)
                                await session.flush()
                                nxt.append(node.id)
                                counts["scenario_nodes"] += 1
                        frontier = nxt
                    counts["explorations"] += 1
                    counts["analysis_runs"] += 1
                    await session.flush()
                    rates = (
                        await session.execute(
                            select(
                                func.count(ScenarioNode.id),
                                func.max(ScenarioNode.depth),
                                func.sum(ScenarioNode.llm_calls),
                            ).where(ScenarioNode.exploration_id == exploration.id)
                        )
                    ).one()
                    exploration.total_nodes, exploration.current_depth = rates[0], rates[1]
                    exploration.total_llm_calls = rates[2] or 0
            bar.advance(task)
            await _load_ab_tests(db, rng, suffix, now, users[0].id, ab_units, counts)
            bar.advance(task)
            await load_training(
                db,
                settings.execution_stale_seconds,
                rng,
                suffix,
                users[0].id,
                datasets[0][0],
                counts,
            )
            bar.advance(task)
            bar.advance(task)
    finally:
        await db.dispose()
    return dict(counts)


async def _load_ab_tests(
    db: Database,
    rng: random.Random,
    suffix: str,
    now: datetime,
    owner: int,
    units: int,
    counts: Counter[str],
) -> None:
    """Running A/B tests (USER units) with their assignments, events and metric aggregates.

    Units are bucketed with the server's own hashing (``hashing.assign_variant``
    on the hash seed and the allocations), so every stored assignment is what
    ``assignUnit`` gives that unit. In each arm an exact share of units buys
    once (a "purchase" event with conversion 1 and an amount), every unit views
    a page or two; the treatments' amounts are scaled so that revenue per user
    stays within ``FLAT_Z`` standard errors of the control's.
    """
    start = now - timedelta(days=14)
    for t, spec in enumerate(AB_TESTS):
        async with db.transaction() as session:
            experiment = xm.AbTestExperiment(
                name=f"{spec.topic} A/B test: {spec.name} {suffix}",
                description=spec.description,
                status=xm.ExperimentStatus.RUNNING,
                config={"owner": "demo"},
                metadata_={"team": "growth"},
                created_by=owner,
                created_at=start - timedelta(days=1),
                updated_at=start,
                unit_type=xm.UnitType.USER,
                start_at=start,
                end_at=now + timedelta(days=14),
                hash_seed=f"{spec.topic}-{spec.name.replace(' ', '-')}-{suffix}",
            )
            session.add(experiment)
            await session.flush()
            arms = [
                Variant(
                    experiment_id=experiment.id,
                    name=arm.name,
                    description=arm.description,
                    allocation=Decimal(arm.allocation),
                    config={},
                    position=p,
                    is_control=p == 0,
                )
                for p, arm in enumerate(spec.arms)
            ]
            session.add_all(arms)
            await session.flush()
            allocations = [Decimal(arm.allocation) for arm in spec.arms]
            assert experiment.hash_seed is not None
            members: list[list[tuple[str, datetime]]] = [[] for _ in arms]
            for u in range(units):
                unit = f"user-{u:05d}"
                index = hashing.assign_variant(experiment.hash_seed, unit, allocations)
                if index is not None:  # outside the coverage: not in the experiment
                    at = start + timedelta(seconds=rng.uniform(0, 12 * 86400))
                    members[index].append((unit, at.replace(microsecond=0)))
            await session.execute(
                insert(Assignment),
                [
                    {
                        "experiment_id": experiment.id,
                        "unit_type": xm.UnitType.USER,
                        "unit_id": unit,
                        "variant_id": arms[index].id,
                        "assigned_at": at,
                    }
                    for index, group in enumerate(members)
                    for unit, at in group
                ],
            )
            counts["assignments"] += sum(len(group) for group in members)
            # Purchases: an exact share of each arm buys (deterministic p-values);
            # control amounts around 50, the treatments' scaled to a flat revenue.
            buyers: list[dict[str, float]] = []
            for arm, group in zip(spec.arms, members, strict=True):
                chosen = rng.sample(group, round(arm.conversion * len(group)))
                buyers.append({unit: rng.lognormvariate(math.log(45), 0.5) for unit, _ in chosen})
            _flatten_revenue(buyers, [len(group) for group in members])
            rows: list[dict[str, Any]] = []
            links: list[tuple[str, int]] = []
            for index, group in enumerate(members):
                refs = [
                    {
                        "experiment_id": encode_id("AbTestExperiment", experiment.id),
                        "variant_id": encode_id("Variant", arms[index].id),
                    }
                ]
                for unit, at in group:
                    seen: list[tuple[str, dict[str, float]]] = [
                        ("page_view", {"page_views": 1}) for _ in range(rng.randint(1, 2))
                    ]
                    if unit in buyers[index]:
                        amount = round(buyers[index][unit], 2)
                        seen.append(("purchase", {"conversion": 1, "revenue": amount}))
                    for k, (kind, metrics) in enumerate(seen):
                        event_id = f"demo-{suffix}-{t}-{unit}-{k}"
                        rows.append(
                            {
                                "event_id": event_id,
                                "event_type": kind,
                                "unit_type": xm.UnitType.USER,
                                "unit_id": unit,
                                "experiments": refs,
                                "context": {"platform": rng.choice(["web", "ios", "android"])},
                                "metrics": metrics,
                                "payload": None,
                                "timestamp": at + timedelta(minutes=10 * k + rng.randint(0, 9)),
                            }
                        )
                        links.append((event_id, arms[index].id))
            ids = dict(
                (
                    await session.execute(insert(Event).returning(Event.event_id, Event.id), rows)
                ).all()
            )
            await session.execute(
                insert(EventExperiment),
                [
                    {"event_id": ids[e], "experiment_id": experiment.id, "variant_id": v}
                    for e, v in links
                ],
            )
            # Events written in bulk, not through recordEvents: their units' metric
            # sums (what results read) are computed from them, as a rebuild does.
            await ab_aggregate.rebuild_unit_sums(session, db.dialect, [experiment.id])
            counts["ab_tests"] += 1
            counts["variants"] += len(arms)
            counts["events"] += len(rows)
    async with db.transaction() as session:
        done = await ab_aggregate.aggregate(session, db.dialect)
        counts["metric_aggregates"] += done.rows


def _flatten_revenue(buyers: list[dict[str, float]], sizes: list[int]) -> None:
    """Scale each treatment's amounts so that its revenue per unit (units without a
    purchase count 0) sits ``FLAT_Z`` standard errors above the control's."""

    def moments(amounts: dict[str, float], n: int) -> tuple[float, float]:
        mean = sum(amounts.values()) / n
        squares = sum(a * a for a in amounts.values())
        return mean, (squares - n * mean * mean) / (n - 1)

    control_mean, control_var = moments(buyers[0], sizes[0])
    for amounts, n in zip(buyers[1:], sizes[1:], strict=True):
        mean, var = moments(amounts, n)
        # Scaling by s multiplies the mean by s and the variance by s^2.
        low, high = 0.0, 10.0
        for _ in range(60):
            s = (low + high) / 2
            se = math.sqrt(control_var / sizes[0] + s * s * var / n)
            if s * mean < control_mean + FLAT_Z * se:
                low = s
            else:
                high = s
        for unit in amounts:
            amounts[unit] *= low
