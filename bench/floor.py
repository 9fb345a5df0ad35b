"""What GraphQL execution alone costs for operation (b)'s response.

No database, no HTTP, no ORM: the 100 runs, their examples and annotations are
Python objects already in memory, and the document is (b)'s. Three ways:
strawberry's stock execution, expgraph's ``Executor`` (plain fields inline), and
the ``Executor`` with lean resolvers (what expgraph runs); each with relationship
resolvers that are ``async`` (as expgraph's are: they await DataLoaders) and
with plain synchronous ones, to show what the asynchronous machinery costs.

    .venv/bin/python -m bench.floor

The figures bound what any change below the GraphQL layer can win: the raw
baseline builds and serialises the whole of (b), database included, in about
2 ms in process.
"""

import asyncio
import time
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.scalars import JSON
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from expgraph.graphql.fastpath.executor import Executor, install_lean_resolvers

DOCUMENT = """query Detail($id: ID!) { node(id: $id) { id name
  runs(first: 100) { edges { node { id repetitionNumber output latencyMs
    example { id input output } annotations { name score label } } } } } }"""


def build(asynchronous: bool) -> type:
    """The schema's Query type, with async or sync relationship resolvers."""

    @strawberry.type
    class Example:
        id: strawberry.ID
        input: JSON
        output: JSON

    @strawberry.type
    class Annotation:
        name: str
        score: float | None
        label: str | None

    @strawberry.type
    class Run:
        id: strawberry.ID
        repetition_number: int
        output: JSON | None
        latency_ms: float | None
        the_example: strawberry.Private[Any]
        the_annotations: strawberry.Private[Any]

        if asynchronous:

            @strawberry.field
            async def example(self) -> Example:
                return self.the_example  # type: ignore[no-any-return]

            @strawberry.field
            async def annotations(self) -> list[Annotation]:
                return self.the_annotations  # type: ignore[no-any-return]

        else:

            @strawberry.field
            def example(self) -> Example:
                return self.the_example  # type: ignore[no-any-return]

            @strawberry.field
            def annotations(self) -> list[Annotation]:
                return self.the_annotations  # type: ignore[no-any-return]

    @strawberry.type
    class Edge:
        cursor: str
        node: Run

    @strawberry.type
    class Connection:
        edges: list[Edge]

    runs = [
        Run(
            id=str(i),
            repetition_number=1,
            output={"answer": i},
            latency_ms=12.5,
            the_example=Example(id=str(i), input={"q": "2+2"}, output={"a": "4"}),
            the_annotations=[Annotation(name="exact", score=1.0, label=None)],
        )
        for i in range(100)
    ]

    @strawberry.type
    class Experiment:
        id: strawberry.ID
        name: str

        @strawberry.field
        async def runs(self, first: int | None = None) -> Connection:
            return Connection(edges=[Edge(cursor="c", node=run) for run in runs[:first]])

    @strawberry.type
    class Query:
        @strawberry.field
        async def node(self, id: strawberry.ID) -> Experiment:
            return Experiment(id=id, name="an experiment")

    return Query


async def per_response(schema: strawberry.Schema, n: int = 300) -> float:
    for _ in range(20):
        result = await schema.execute(DOCUMENT, variable_values={"id": "1"})
        assert not result.errors, result.errors
    started = time.perf_counter()
    for _ in range(n):
        await schema.execute(DOCUMENT, variable_values={"id": "1"})
    return (time.perf_counter() - started) / n * 1000


async def main() -> None:
    caches = [lambda: ParserCache(maxsize=16), lambda: ValidationCache(maxsize=16)]
    print("| resolvers | strawberry stock | Executor | Executor + lean resolvers |")
    print("| --- | ---: | ---: | ---: |")
    for asynchronous in (True, False):
        query = build(asynchronous)
        figures = []
        for execution, lean in (
            (StrawberryGraphQLCoreExecutionContext, False),
            (Executor, False),
            (Executor, True),
        ):
            schema = strawberry.Schema(query, execution_context_class=execution, extensions=caches)
            if lean:
                install_lean_resolvers(schema)
            figures.append(await per_response(schema))
        cells = " | ".join(f"{f:.1f} ms" for f in figures)
        print(f"| {'async' if asynchronous else 'sync'} | {cells} |")


if __name__ == "__main__":
    asyncio.run(main())
