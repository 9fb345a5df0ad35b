"""The fast execution path gives graphql-core's results exactly: the same data,
the same errors with the same paths, the same null propagation.

Each document runs twice, through expgraph's ``Executor`` and through
strawberry's stock execution context, on the same schema and data.
"""

from __future__ import annotations

import asyncio
import enum
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import strawberry
from graphql import specified_scalar_types
from sqlalchemy import select
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from expgraph import compat
from expgraph.config import Settings
from expgraph.demo import load_demo
from expgraph.domains.catalog.models import DatasetExample
from expgraph.domains.execution.models import ExperimentRun, ExperimentRunAnnotation
from expgraph.domains.experiments.models import EvaluationExperiment
from expgraph.graphql.auth import LOCAL_ADMIN
from expgraph.graphql.context import Context
from expgraph.graphql.fastpath.executor import (
    Executor,
    ObjectField,
    PlainField,
    fast_serializer,
    plain_fields,
)
from expgraph.graphql.relay import encode_id
from expgraph.schema import build_schema
from tests.conftest import GraphQLClient

# --- a small schema with every edge case of plain fields ----------------------------


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    color: Color
    count: int
    maybe: str | None
    must: str  # the resolver-less field a bad row leaves null
    at: datetime

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return self.name + "!"

    @strawberry.field
    async def broken(self) -> str | None:
        raise ValueError(f"broken {self.name}")  # nullable: null and an error

    @strawberry.field
    async def fatal(self) -> str:
        await asyncio.sleep(0)
        raise ValueError(f"fatal {self.name}")  # non-null: the item goes null


@strawberry.interface
class Thing:
    label: str


@strawberry.type
class Bolt(Thing):
    size: int


@strawberry.type
class Nut(Thing):
    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return self.label + "!"

    @strawberry.field
    async def fatal(self) -> str:
        raise ValueError(f"fatal {self.label}")


@strawberry.type
class Box:
    items: list[Item]
    first: Item | None
    # Object fields read straight off the box (completed inline by the Executor).
    nothing: Item | None = None
    missing: Item = None  # type: ignore[assignment]  # a non-null object left null
    holes: list[Item | None] = strawberry.field(default_factory=list)
    strict: list[Item] = strawberry.field(default_factory=list)  # holds a None
    things: list[Thing] = strawberry.field(default_factory=list)
    thing: Thing | None = None
    wrong: list[Thing] = strawberry.field(default_factory=list)  # holds an Item


def _item(name: str, count: Any, maybe: str | None, must: Any) -> Item:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Item(name=name, color=Color.RED, count=count, maybe=maybe, must=must, at=at)


def _items() -> list[Item]:
    # A good row; one that leaves a non-null field null; one whose Int is not one.
    return [_item("a", 1, None, "x"), _item("b", 2, "y", None), _item("c", "three", "z", "x")]


@strawberry.type
class Query:
    @strawberry.field
    def box(self) -> Box:
        items = _items()
        things: list[Thing] = [Bolt(label="m3", size=3), Nut(label="m4"), Bolt(label="m5", size=5)]
        return Box(
            items=items,
            first=items[0],
            holes=[items[0], None, items[1]],
            strict=[items[0], None],  # type: ignore[list-item]
            things=things,
            thing=things[1],
            wrong=[things[0], items[0]],  # type: ignore[list-item]
        )

    @strawberry.field
    def good(self) -> list[Item]:
        return _items()[:1]

    @strawberry.field
    def lenient(self) -> list[Item | None]:
        return _items()  # type: ignore[return-value]


def _run(document: str, fast: bool) -> dict[str, Any]:
    schema = strawberry.Schema(
        Query,
        types=[Bolt, Nut],
        execution_context_class=Executor if fast else StrawberryGraphQLCoreExecutionContext,
    )
    result = asyncio.run(schema.execute(document))
    return {
        "data": result.data,
        "errors": sorted((str(e.message), tuple(e.path or ())) for e in (result.errors or [])),
    }


@pytest.mark.parametrize(
    ("document", "errors"),
    [
        ("{ good { name color count maybe must at shout __typename } }", 0),
        ("{ good { b: count a: name n2: name color } }", 0),  # aliases, a field twice
        # A non-null field left null, and an Int that is not one: errors, and the
        # null propagates to the nullable list item (lenient) or the whole box.
        ("{ lenient { name must count } }", 2),
        ("{ box { items { name must } } }", 1),
        ("{ box { first { name } items { count } } }", 1),
        ("{ good { ... on Item { name } ...F } } fragment F on Item { count maybe }", 0),
        ("{ good { name @skip(if: true) color @include(if: false) count } }", 0),
        # Several async fields on list items (awaited in turn by the Executor).
        ("{ good { later shout later2: later } }", 0),
        ("{ good { later broken name } }", 1),
        ("{ lenient { broken later name } }", 3),
        ("{ lenient { later fatal broken } }", 3 + 3),
        ("{ box { first { later broken } items { later fatal } } }", 1 + 1),
        # Object fields: null where allowed, null where not, holes in lists,
        # interfaces, objects of the wrong type, failures deep inside.
        ("{ box { nothing { name } first { name } } }", 0),
        ("{ box { missing { name } } }", 1),
        ("{ box { holes { name } } }", 0),
        ("{ box { holes { name must } } }", 1),
        ("{ box { strict { name } } }", 1),
        ("{ box { things { label ... on Bolt { size } ... on Nut { later } } } }", 0),
        ("{ box { thing { __typename label ... on Nut { later } } } }", 0),
        ("{ box { things { label ... on Nut { fatal } } first { name } } }", 1),
        ("{ box { thing { label ... on Nut { fatal } } first { name } } }", 1),
        ("{ box { wrong { label } } }", 1),
        ("{ box { items { name later } holes { later } first { later } } }", 0),
        ("{ box { items { fatal } holes { fatal } } }", 1 + 2),
    ],
)
def test_plain_fields_complete_exactly_as_graphql_core_does(document: str, errors: int) -> None:
    fast = _run(document, fast=True)
    assert fast == _run(document, fast=False)
    assert len(fast["errors"]) == errors, fast
    assert errors or fast["data"]


def test_only_resolver_less_fields_are_read_directly() -> None:
    schema = strawberry.Schema(Query, types=[Bolt, Nut])
    item = compat.graphql_schema(schema).type_map["Item"]
    plans = plain_fields(item)  # type: ignore[arg-type]
    assert {name for name, plan in plans.items() if plan} == {
        "name",
        "color",
        "count",
        "maybe",
        "must",
        "at",
    }
    assert all(isinstance(plan, PlainField) for plan in plans.values() if plan)
    box = compat.graphql_schema(schema).type_map["Box"]
    objects = plain_fields(box)  # type: ignore[arg-type]
    assert all(isinstance(plan, ObjectField) for plan in objects.values())
    assert {name for name, plan in objects.items() if plan and plan.listed} == {
        "items",
        "holes",
        "strict",
        "things",
        "wrong",
    }
    query = plain_fields(compat.graphql_schema(schema).type_map["Query"])  # type: ignore[arg-type]
    assert not any(query.values())  # resolvers: graphql-core's path


def test_fast_serializers_answer_as_the_types_own_coercion() -> None:
    schema = strawberry.Schema(Query, types=[Bolt, Nut])
    item = compat.graphql_schema(schema).type_map["Item"]
    values: list[Any] = [
        "text", "", 0, 7, -(2**31), 2**31 - 1, 2**31, -(2**31) - 1, True, False,
        1.0, 1.5, float("inf"), None, [1], {"a": 1}, Color.RED, Color.BLUE, "red", "RED",
    ]  # fmt: skip
    types: list[Any] = [
        *specified_scalar_types.values(),
        compat.graphql_schema(schema).type_map["DateTime"],
    ]
    types.append(item.fields["color"].type.of_type)  # type: ignore[attr-defined]
    assert len(types) == 7
    for leaf in types:
        fast = fast_serializer(leaf)
        for value in values:
            try:
                expected: Any = ("value", leaf.coerce_output_value(value))
            except Exception as error:
                expected = ("error", type(error))
            try:
                got: Any = ("value", fast(value))
            except Exception as error:
                got = ("error", type(error))
            assert got == expected, (leaf, value)


# --- the real schema, on real data ----------------------------------------------------


async def _add_runs(db: Any) -> int:
    """Runs with annotations on one evaluation experiment; returns its id."""
    async with db.transaction() as session:
        experiment = (
            await session.scalars(
                select(EvaluationExperiment).order_by(EvaluationExperiment.id).limit(1)
            )
        ).one()
        examples = (
            await session.scalars(
                select(DatasetExample).where(DatasetExample.dataset_id == experiment.dataset_id)
            )
        ).all()
        start = datetime(2026, 3, 1, tzinfo=UTC)
        for n, example in enumerate(examples):
            run = ExperimentRun(
                experiment_id=experiment.id,
                dataset_example_id=example.id,
                repetition_number=1,
                output={"answer": n} if n % 3 else None,
                error="timeout" if n % 7 == 0 else None,
                start_time=start,
                end_time=start + timedelta(seconds=n),
                latency_ms=12.5 * n,
                cost_micros=n * 1000,
            )
            session.add(run)
            await session.flush()
            session.add(
                ExperimentRunAnnotation(experiment_run_id=run.id, name="exact", score=n % 2)
            )
        return experiment.id


DOCUMENTS = [
    """query { experiments(first: 50) { totalCount
      edges { cursor node { __typename id name kind status createdAt deletedAt description
        createdBy { username } tags { edges { node { name color } } }
        byName: tags(orderBy: [{field: NAME, direction: DESC}], first: 2) {
          edges { cursor node { name } } }
        ... on EvaluationExperiment { repetitions
          executionConfig { state progress { completed expected fraction } } }
        ... on SimulationExperiment { masterSeed converged }
        ... on TrainingExperiment { modelType }
        ... on ResearchExperiment { hypothesis }
        ... on AbTestExperiment { unitType startAt } } }
      pageInfo { hasNextPage endCursor } } }""",
    """query($id: ID!) { node(id: $id) { ... on EvaluationExperiment { id name
      runs(first: 100) { edges { node { id repetitionNumber output latencyMs error costMicros
        example { id input output } annotations { name score label } } } } } } }""",
    """query { datasets(first: 20) { edges { node { id name
      versions(first: 5) { edges { node { id } } } } } } }""",
    """query { explorations(first: 5) { edges { node { id root { id shortAction nodeStatus
      children(first: 10) { edges { node { id shortAction children(first: 10) {
        edges { node { id nodeStatus } } } } } } } } } } }""",
]


async def test_the_api_answers_the_same_through_both_executors(settings, db):
    await load_demo(settings, seed=5, experiments=80, progress=False)
    experiment_id = await _add_runs(db)
    # (the fast path whatever EXPGRAPH_FAST_PATH says: this compares the two)
    fast = build_schema(settings.model_copy(update={"fast_path": True}))
    stock = build_schema(settings, stock=True)
    assert isinstance(fast, type(stock)) and fast.fast_path and not stock.fast_path
    assert fast.execution_context_class is Executor
    assert stock.execution_context_class is StrawberryGraphQLCoreExecutionContext
    variables = {"id": encode_id("EvaluationExperiment", experiment_id)}
    answers = []
    for document in DOCUMENTS:
        results = []
        for schema in (fast, stock):
            context = Context(db=db, settings=settings, principal=LOCAL_ADMIN)
            result = await schema.execute(
                document, variable_values=variables, context_value=context
            )
            assert not result.errors, result.errors
            results.append(result.data)
        assert results[0] == results[1]
        answers.append(results[0])
    experiments, detail, datasets, explorations = answers
    assert len(experiments["experiments"]["edges"]) == 50
    names = [
        [t["node"]["name"] for t in e["node"]["byName"]["edges"]]
        for e in experiments["experiments"]["edges"]
    ]
    assert any(len(n) == 2 for n in names) and all(n == sorted(n, reverse=True) for n in names)
    runs = detail["node"]["runs"]["edges"]
    assert len(runs) > 5 and all(run["node"]["annotations"] for run in runs)
    assert datasets["datasets"]["edges"] and explorations["explorations"]["edges"]


async def test_a_repeated_document_is_parsed_and_validated_once(http, monkeypatch):
    """The limit rules (depth, aliases) are made once per schema: were they made
    per request, the validation cache's key would change every time. (A client
    without the suite's compiled-vs-executor reference app, whose own schema
    would validate the document once more.)"""
    gql = GraphQLClient(http)
    import strawberry.schema.schema as strawberry_schema

    validated: list[Any] = []
    real = strawberry_schema.validate_document
    monkeypatch.setattr(
        strawberry_schema, "validate_document", lambda *a: validated.append(a) or real(*a)
    )
    from strawberry.extensions import validation_cache

    validation_cache._get_validate_cache.cache_clear()
    document = "{ experiments(first: 3) { totalCount } }"
    for _ in range(3):
        assert (await gql.data(document))["experiments"]["totalCount"] == 0
    assert len(validated) == 1


def test_lean_resolvers_skip_only_wrappers_that_do_nothing() -> None:
    """Relationship resolvers (with or without page arguments) are called
    directly; a field with permissions keeps strawberry's wrapper."""
    types = compat.graphql_schema(build_schema(Settings(fast_path=True))).type_map

    def lean(type_name: str, field: str) -> bool:
        return types[type_name].fields[field].resolve.__name__ == "resolve"  # type: ignore[union-attr]

    assert lean("ExperimentRun", "example") and lean("ExperimentRun", "annotations")
    assert lean("EvaluationExperiment", "tags") and lean("ScenarioNode", "children")
    assert not lean("Query", "tags")  # permission_classes: read permission checked
    assert not lean("Mutation", "createTag")
    assert not lean("Query", "experiments")
