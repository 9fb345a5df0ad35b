"""Relationship fields loaded ahead for a page (graphql/prefetch.py): the same
answers as loading them field by field, one statement per relationship level
whatever the page size, and nothing loaded that the document does not ask for."""

from __future__ import annotations

from typing import Any

import pytest

from expgraph.config import Settings
from expgraph.domains.catalog.models import DatasetExample
from expgraph.graphql.loaders import RowsById
from tests.conftest import GraphQLClient
from tests.helpers import create_experiment
from tests.test_execution import CLAIM, RECORD, runs_for, setup_evaluation


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The executor's look-ahead is what these tests count: the read-query
    compiler (which answers these documents in one statement) is off."""
    return settings.model_copy(update={"compile_queries": False})


ANNOTATE = """mutation($e: ID!, $w: String!, $t: BigInt!, $a: [AnnotationInput!]!) {
  recordRunAnnotations(input: {experimentId: $e, workerId: $w, fencingToken: $t,
                               annotations: $a}) { annotations { name } } }"""
RUN = "id example { id input } annotations { name score }"
PAGE = f"""query($e: ID!) {{ node(id: $e) {{ ... on EvaluationExperiment {{
  runs(first: 100) {{ edges {{ node {{ {RUN} }} }} }} }} }} }}"""
ONE_RUN = f"query($r: ID!) {{ node(id: $r) {{ ... on ExperimentRun {{ {RUN} }} }} }}"


async def recorded(gql: GraphQLClient, name: str, examples: int) -> str:
    """An evaluation with ``examples`` x 2 runs, each with two annotations."""
    experiment_id, example_ids = await setup_evaluation(gql, name, examples=examples)
    await gql.data(CLAIM, {"w": "w1", "e": experiment_id})
    holder = {"e": experiment_id, "w": "w1", "t": "1"}
    runs = (await gql.data(RECORD, {**holder, "runs": runs_for(example_ids, 2)}))[
        "recordExperimentRuns"
    ]["runs"]
    annotations = [
        {"experimentRunId": run["id"], "name": name, "score": float(i), "label": "x"}
        for i, run in enumerate(runs)
        for name in ("exact", "judge")
    ]
    await gql.data(ANNOTATE, {**holder, "a": annotations})
    return experiment_id


async def test_a_page_answers_as_its_runs_do_one_by_one(gql):
    experiment_id = await recorded(gql, "one-by-one", examples=3)
    edges = (await gql.data(PAGE, {"e": experiment_id}))["node"]["runs"]["edges"]
    assert len(edges) == 6
    for edge in edges:
        alone = (await gql.data(ONE_RUN, {"r": edge["node"]["id"]}))["node"]
        assert edge["node"] == alone
        assert len(alone["annotations"]) == 2 and alone["example"]["input"]


async def test_one_statement_per_level_whatever_the_page_size(gql, statements):
    small = await recorded(gql, "small", examples=1)
    large = await recorded(gql, "large", examples=5)
    counts = []
    for experiment_id in (small, large):
        statements.reset()
        await gql.data(PAGE, {"e": experiment_id})
        counts.append(statements.count)
    # the experiment, its runs, their examples, their annotations
    assert counts == [4, 4]


async def test_aliases_and_named_fragments_share_one_load(gql, statements):
    experiment_id = await recorded(gql, "aliases", examples=2)
    statements.reset()
    data = await gql.data(
        """query($e: ID!) { node(id: $e) { ... on EvaluationExperiment {
          runs { edges { node { ...Parts first: example { id } again: example { input } } } } } } }
        fragment Parts on ExperimentRun { annotations { name } }""",
        {"e": experiment_id},
    )
    assert statements.count == 4
    node = data["node"]["runs"]["edges"][0]["node"]
    assert set(node) == {"annotations", "first", "again"}


async def test_skipped_fields_are_not_loaded(gql, statements):
    experiment_id = await recorded(gql, "skipped", examples=2)
    document = """query($e: ID!, $with: Boolean!) { node(id: $e) { ... on EvaluationExperiment {
      runs { edges { node { id example @include(if: $with) { id }
                            annotations @skip(if: true) { name } } } } } } }"""
    statements.reset()
    data = await gql.data(document, {"e": experiment_id, "with": False})
    assert statements.count == 2  # the experiment and its runs
    assert set(data["node"]["runs"]["edges"][0]["node"]) == {"id"}
    statements.reset()
    data = await gql.data(document, {"e": experiment_id, "with": True})
    assert statements.count == 3
    assert set(data["node"]["runs"]["edges"][0]["node"]) == {"id", "example"}


async def test_fragments_on_other_kinds_load_nothing(gql, statements):
    document = """{ experiments { edges { node { name
      ... on EvaluationExperiment { executionConfig { state } } } } } }"""
    for n in range(2):
        await create_experiment(gql, f"simulation {n}", "SIMULATION")
    statements.reset()
    await gql.data(document)
    assert statements.count == 1  # the page: no execution configs for simulations
    await setup_evaluation(gql, "with-config", examples=1)
    statements.reset()
    edges = (await gql.data(document))["experiments"]["edges"]
    assert statements.count == 3  # the page, the configs, their progress
    configs = [
        edge["node"]["executionConfig"] for edge in edges if "executionConfig" in edge["node"]
    ]
    assert configs == [{"state": "QUEUED"}]


async def test_a_failed_look_ahead_is_reported_by_its_fields(gql, monkeypatch):
    experiment_id = await recorded(gql, "failing", examples=1)
    ordinary = RowsById.load

    async def load(self: RowsById, db: Any, keys: list[Any]) -> list[Any]:
        if self.model is DatasetExample:
            raise RuntimeError("examples unavailable")
        return await ordinary(self, db, keys)

    monkeypatch.setattr(RowsById, "load", load)
    body = await gql.post(PAGE, {"e": experiment_id})
    # A run's example fails where it is, as it would without the look-ahead
    # (the page itself was read; the failure is not the connection's).
    paths = [error["path"] for error in body["errors"]]
    assert paths and all(path[:3] == ["node", "runs", "edges"] for path in paths)
    assert all(path[-1] == "example" for path in paths)
    assert {error["extensions"]["code"] for error in body["errors"]} == {"INTERNAL_SERVER_ERROR"}


TAGS = """tags{args} {{ totalCount edges {{ cursor node {{ name }} }}
  pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} }}"""


async def tagged(gql: GraphQLClient, experiments: int, tags: int) -> list[str]:
    """``experiments`` experiments; the i-th has the first i % (tags + 1) of ``tags`` tags."""
    from tests.helpers import create_tag, tag_experiment

    tag_ids = [(await create_tag(gql, f"tag {t}"))["id"] for t in range(tags)]
    ids = []
    for i in range(experiments):
        experiment = await create_experiment(gql, f"tagged {i}", "TRAINING")
        for tag_id in tag_ids[: i % (tags + 1)]:
            await tag_experiment(gql, experiment["id"], tag_id)
        ids.append(experiment["id"])
    return ids


async def test_connections_in_a_page_answer_as_they_do_one_by_one(gql):
    await tagged(gql, experiments=5, tags=3)
    cases = [
        "",
        "(first: 2)",
        "(last: 1)",
        "(first: 1, after: $after)",
        "(orderBy: [{field: NAME, direction: DESC}], first: 2)",
    ]
    after = None
    for args in cases:
        tags = TAGS.format(args=args)
        uses = "$after" in args
        variables = {"after": after} if uses else {}
        declared = "$after: String" if uses else ""
        page = await gql.data(
            f"query({declared}) {{ experiments {{ edges {{ node {{ id {tags} }} }} }} }}"
            if uses
            else f"{{ experiments {{ edges {{ node {{ id {tags} }} }} }} }}",
            variables,
        )
        nodes = [edge["node"] for edge in page["experiments"]["edges"]]
        assert len(nodes) == 5 and any(node["tags"]["edges"] for node in nodes)
        for node in nodes:
            alone = await gql.data(
                f"query($id: ID!, {declared}) "
                f"{{ node(id: $id) {{ ... on Experiment {{ id {tags} }} }} }}",
                {"id": node["id"], **variables},
            )
            assert node == alone["node"], args
        # the next case pages on from the first tag of the most tagged experiment
        after = nodes[-1]["tags"]["edges"][0]["cursor"] if nodes[-1]["tags"]["edges"] else after
    ordered = [edge["node"]["tags"]["edges"] for edge in page["experiments"]["edges"]]
    assert [e["node"]["name"] for e in max(ordered, key=len)] == ["tag 2", "tag 1"]


async def test_connections_in_a_page_are_answered_from_the_look_ahead(
    gql, statements, monkeypatch, settings
):
    """A page's tag connections come from one batch loaded ahead, without their
    resolvers; with other than page arguments, or only ``totalCount``, the
    resolvers answer (still one statement for the whole page). On the stock path
    (no look-ahead) every resolver answers, still in one statement for the page."""
    from expgraph.graphql import connections

    await tagged(gql, experiments=4, tags=2)
    calls = []
    ordinary = connections.child_connection

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        return await ordinary(*args, **kwargs)

    # Every connection field's resolver calls it from the kernel's module.
    monkeypatch.setattr(connections, "child_connection", counted)
    documents = {
        "{ experiments { edges { node { tags(first: 5) { edges { node { name } } } } } } }": 0,
        "{ experiments { edges { node { tags(orderBy: [{field: NAME}]) { edges { node { name } } } } } } }": 4,
        "{ experiments { edges { node { tags { totalCount } } } } }": 4,
    }
    for document, resolved in documents.items():
        calls.clear()
        statements.reset()
        await gql.data(document)
        assert len(calls) == (resolved if settings.fast_path else 4), document
        assert statements.count == 2, document  # the page, then one for every tag connection


async def test_a_bad_page_argument_inside_a_page_is_the_resolvers_error(gql):
    await tagged(gql, experiments=2, tags=1)
    body = await gql.post(
        "{ experiments { edges { node { tags(first: -1) { edges { node { name } } } } } } }"
    )
    assert body["errors"], body
    assert {error["extensions"]["code"] for error in body["errors"]} == {"BAD_REQUEST"}
    assert body["errors"][0]["path"][-1] == "tags"
