"""Differential test of the read-query compiler: generated read documents answer
the same with compilation on and off.

hypothesis-graphql writes valid queries over the read schema the app serves
(introspected over HTTP), on the root fields the compiler answers: ``node``,
``experiments`` and every other top-level connection it compiles (found by
asking the app, so the set grows with the compiler). Each document is then
decorated: some fields get aliases, some nodes spread a named fragment on the
``Experiment`` interface. Its scalars come from the data: real global ids (and
malformed ones), cursors taken from first and last pages (paging forwards with
``after`` and backwards with ``before``), names and words of the fixtures,
small page sizes. The data covers nulls (experiments without description,
dataset or creator), an empty connection (a filter matching nothing), deleted
rows, tags.

Each document is posted to the app (compiler on) and to a reference app on the
same database with the compiler off (``tests.conftest.Reference``): status and
body must be identical, data in the same key order, errors with the same
message, path and code. Documents the compiler does not cover take the executor
on both sides (still a check); a minimum share must have compiled, so the test
cannot silently check nothing.

Bounded and repeatable: a fixed number of examples, derandomized.
"""

from __future__ import annotations

import asyncio
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import graphql
import httpx
from hypothesis import HealthCheck, Phase, assume, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis_graphql import from_schema, nodes

from expgraph.app import create_app
from expgraph.config import Settings
from expgraph.db.engine import Database
from expgraph.graphql.compiled import execution as compiled_execution
from tests.conftest import GraphQLClient, Reference
from tests.helpers import create_dataset, create_experiment, create_tag, tag_experiment

EXAMPLES = 60
# At least this share of the generated documents must have compiled something.
MIN_COMPILED_SHARE = 0.5

FRAGMENTS = [
    "fragment E on Experiment { __typename id name kind description createdBy { id } }",
    "fragment E on Experiment { name createdAt deletedAt status config }",
    "fragment E on Experiment { id ... on TrainingExperiment { modelType } "
    "... on AbTestExperiment { unitType startAt } }",
]
OF_INTEREST = {
    "Experiment",
    "TrainingExperiment",
    "EvaluationExperiment",
    "AbTestExperiment",
    "SimulationExperiment",
    "ResearchExperiment",
    "Tag",
    "Dataset",
    "DatasetVersion",
}
WORDS = ["exp", "Exp 0", "training", "nothing matches this", "", "é"]


async def _seed(gql: GraphQLClient) -> list[str]:
    """Experiments of every kind, with and without description and dataset
    (no creator: authentication is off), one deleted, some tagged; a dataset,
    tags. Returns the global ids of everything made."""
    dataset_id, version_id = await create_dataset(gql, "ds")
    tags = [await create_tag(gql, name) for name in ("Important", "Blue")]
    made = []
    kinds = ["TRAINING", "EVALUATION", "AB_TEST", "SIMULATION", "RESEARCH"]
    for i, kind in enumerate(kinds * 2):
        extra: dict[str, Any] = {"description": f"about {i}"} if i % 3 == 0 else {}
        if kind == "TRAINING" and i < 5:
            extra["training"] = {"modelType": "cnn", "datasetId": dataset_id}
        if kind == "EVALUATION" and i < 5:
            extra["evaluation"] = {"datasetId": dataset_id, "repetitions": 3}
        made.append(await create_experiment(gql, f"exp {i} {kind.lower()}", kind, **extra))
    for experiment, tag in zip(made[:3], tags * 2, strict=False):
        await tag_experiment(gql, experiment["id"], tag["id"])
    await gql.data(
        "mutation($id: ID!) { deleteExperiment(input: {id: $id}) { experiment { id } } }",
        {"id": made[-1]["id"]},
    )
    return [dataset_id, version_id, *(t["id"] for t in tags), *(e["id"] for e in made)]


async def _cursors(gql: GraphQLClient) -> list[str]:
    """Cursors of first and last pages, in the default order and by name."""
    page = """query($first: Int, $last: Int, $order: [ExperimentOrder!]) {
      experiments(first: $first, last: $last, orderBy: $order) {
        edges { cursor } pageInfo { startCursor endCursor } } }"""
    cursors: list[str] = []
    orderings: list[dict[str, Any]] = [
        {"first": 3},
        {"last": 3},
        {"first": 2, "order": [{"field": "NAME", "direction": "DESC"}]},
    ]
    for variables in orderings:
        data = (await gql.data(page, variables))["experiments"]
        cursors.extend(edge["cursor"] for edge in data["edges"])
        cursors.extend(c for c in data["pageInfo"].values() if c)
    return cursors


async def _compiled_roots(gql: GraphQLClient, schema: graphql.GraphQLSchema) -> list[str]:
    """``node``, ``experiments`` and every other top-level connection without
    required arguments that the compiler answers (its counter moves)."""
    assert schema.query_type is not None
    roots = ["node", "experiments"]
    for name, field in schema.query_type.fields.items():
        required = any(isinstance(a.type, graphql.GraphQLNonNull) for a in field.args.values())
        type_name = graphql.get_named_type(field.type).name
        if name in roots or required or not type_name.endswith("Connection"):
            continue
        before = compiled_execution.answered
        await gql.post(f"{{ {name}(first: 1) {{ totalCount }} }}")
        if compiled_execution.answered != before:
            roots.append(name)
    return roots


def _scalars(ids: list[str], cursors: list[str]) -> dict[str, st.SearchStrategy[Any]]:
    ids_ = st.sampled_from(ids) | st.sampled_from(["not an id", "VGFnOjk5OTk5"])
    return {
        "ID": ids_.map(nodes.String),
        "String": st.sampled_from(cursors + WORDS).map(nodes.String),
        "Int": st.integers(min_value=-1, max_value=12).map(nodes.Int),
        "DateTime": st.sampled_from(["2020-01-01T00:00:00Z", "2999-01-01T00:00:00+00:00"]).map(
            nodes.String
        ),
        "BigInt": st.sampled_from(["42", "9007199254740993"]).map(nodes.String),
        "JSON": st.sampled_from(["{}", "{a: 1}", "[1, null]"]).map(graphql.parse_value),
    }


def _read_schema(schema: graphql.GraphQLSchema) -> graphql.GraphQLSchema:
    """The schema with what the compiler covers under a node: outside the root
    and connection types, fields without arguments that are neither lists nor
    connections (scalars, enums, to-one objects). Documents generated from it are
    valid against the real schema (checked)."""

    def kept(field: graphql.FieldDefinitionNode) -> bool:
        type_ = field.type
        if isinstance(type_, graphql.NonNullTypeNode):
            type_ = type_.type
        return (
            not field.arguments
            and isinstance(type_, graphql.NamedTypeNode)
            and not type_.name.value.endswith("Connection")
        )

    class Prune(graphql.Visitor):
        """Object and interface types outside the root and connections, pruned."""

        def enter_object_type_definition(self, node: Any, *args: Any) -> Any:
            return self._pruned(node)

        def enter_interface_type_definition(self, node: Any, *args: Any) -> Any:
            return self._pruned(node)

        def _pruned(self, node: Any) -> Any:
            name = node.name.value
            if name in ("Query", "Mutation", "Subscription") or name.endswith("Connection"):
                return graphql.Visitor.SKIP
            fields = tuple(f for f in node.fields if kept(f))
            if not fields or len(fields) == len(node.fields):
                return graphql.Visitor.SKIP
            return dataclasses.replace(node, fields=fields)

    document = graphql.visit(graphql.parse(graphql.print_schema(schema)), Prune())
    return graphql.build_ast_schema(document, assume_valid=True)


def _one_direction(
    arguments: tuple[graphql.ArgumentNode, ...], forward: bool
) -> tuple[graphql.ArgumentNode, ...]:
    """A root connection's arguments paging one way (``first``/``after`` or
    ``last``/``before``, as drawn) with at most two orderings, so that most
    generated pages are answered rather than refused."""
    names = {argument.name.value for argument in arguments}
    if not names & {"first", "after"} or not names & {"last", "before"}:
        dropped: set[str] = set()
    else:
        dropped = {"last", "before"} if forward else {"first", "after"}
    kept = []
    for argument in arguments:
        if argument.name.value in dropped:
            continue
        value = argument.value
        if argument.name.value == "orderBy" and isinstance(value, graphql.ListValueNode):
            argument = dataclasses.replace(
                argument, value=dataclasses.replace(value, values=value.values[:2])
            )
        kept.append(argument)
    return tuple(kept)


def _nodes_of_interest(selection_set: graphql.SelectionSetNode) -> graphql.SelectionSetNode:
    """``node``'s selection without the fragments on types other than
    experiments, tags and datasets (fewer documents with a field the compiler
    leaves to the executor)."""
    selections = tuple(
        selection
        for selection in selection_set.selections
        if not isinstance(selection, graphql.InlineFragmentNode)
        or selection.type_condition is None
        or selection.type_condition.name.value in OF_INTEREST
    )
    if not selections:
        selections = (graphql.FieldNode(name=graphql.NameNode(value="id")),)
    return graphql.SelectionSetNode(selections=selections)


@st.composite
def _decorated(
    draw: st.DrawFn, documents: st.SearchStrategy[str], schema: graphql.GraphQLSchema
) -> str:
    """A generated document with some fields aliased and perhaps the Experiment
    fragment spread into ``node`` at the root or ``experiments { edges { node } }``."""
    document = graphql.parse(draw(documents))
    counter = iter(range(10_000))
    spread = graphql.FragmentSpreadNode(name=graphql.NameNode(value="E"), directives=())
    used = []

    class Decorate(graphql.Visitor):
        def leave_field(self, node: graphql.FieldNode, *args: Any) -> Any:
            ancestors = args[-1]
            names = [a.name.value for a in ancestors if isinstance(a, graphql.FieldNode)]
            selection_set = node.selection_set
            arguments = node.arguments
            if not names:  # a root field
                arguments = _one_direction(arguments or (), draw(st.booleans()))
                if node.name.value == "node" and selection_set is not None:
                    selection_set = _nodes_of_interest(selection_set)
            if (
                selection_set is not None
                and node.name.value == "node"
                and names in ([], ["experiments", "edges"])
                and draw(st.booleans())
            ):
                selection_set = graphql.SelectionSetNode(
                    selections=(*selection_set.selections, spread)
                )
                used.append(node)
            alias = graphql.NameNode(value=f"a{next(counter)}") if draw(st.booleans()) else None
            if alias is None and (selection_set, arguments) == (node.selection_set, node.arguments):
                return None
            return graphql.FieldNode(
                alias=alias or node.alias,
                name=node.name,
                arguments=arguments,
                directives=node.directives,
                selection_set=selection_set,
            )

    document = graphql.visit(document, Decorate())
    if used:
        fragment = graphql.parse(draw(st.sampled_from(FRAGMENTS))).definitions[0]
        document = graphql.DocumentNode(definitions=(*document.definitions, fragment))
    text = graphql.print_ast(document)
    assume(not graphql.validate(schema, graphql.parse(text)))
    return text


def _differential(settings: Settings) -> None:
    loop = asyncio.new_event_loop()
    db = Database(settings)
    app = create_app(settings, db=db)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    gql = GraphQLClient(http)  # no reference: the seeding, not checked
    reference = Reference(settings)
    seen = {"documents": 0, "compiled": 0}
    try:
        ids = loop.run_until_complete(_seed(gql))
        cursors = loop.run_until_complete(_cursors(gql))
        introspected = loop.run_until_complete(gql.data(graphql.get_introspection_query()))
        schema = graphql.build_client_schema(introspected)  # type: ignore[arg-type]
        roots = loop.run_until_complete(_compiled_roots(gql, schema))
        scalars = _scalars(ids, cursors)
        read = _read_schema(schema)
        experiments = from_schema(read, fields=["node", "experiments"], custom_scalars=scalars)
        covered = from_schema(read, fields=roots, custom_scalars=scalars)
        anything = from_schema(schema, fields=roots, custom_scalars=scalars)
        documents = _decorated(st.one_of(experiments, experiments, covered, anything), schema)

        @hypothesis_settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(document=documents)
        def same_answers(document: str) -> None:
            payload = {"query": document, "variables": {}}
            before = compiled_execution.answered
            response = loop.run_until_complete(http.post("/graphql", json=payload))
            seen["documents"] += 1
            seen["compiled"] += compiled_execution.answered != before
            loop.run_until_complete(reference.check(http, payload, response))

        same_answers()
    finally:
        loop.run_until_complete(reference.aclose())
        loop.run_until_complete(http.aclose())
        loop.run_until_complete(db.dispose())
        loop.close()
    if settings.compile_queries:
        assert seen["compiled"] >= MIN_COMPILED_SHARE * seen["documents"], seen


def test_generated_documents_answer_the_same_compiled_and_not(settings: Settings) -> None:
    # Own loop in a worker thread: hypothesis drives the examples synchronously.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_differential, settings).result()
