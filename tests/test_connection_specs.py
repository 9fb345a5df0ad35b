"""A child connection's loader spec names everything that changes its SQL: two
specs whose conditions differ never share a statement (process-wide cache) or
a loader, and equal filter inputs always share both."""

from __future__ import annotations

from typing import Any

import pytest

from expgraph.domains.catalog.models import Tag
from expgraph.domains.catalog.types import TAGGED
from expgraph.domains.experiments import models
from expgraph.domains.experiments.types import EXPERIMENT_RULES, ExperimentFilter
from expgraph.graphql.filters import narrowing
from expgraph.graphql.loaders import ChildPages, Narrowing, Relation, _pages_statement
from expgraph.graphql.pagination import PageArgs, SortKey
from expgraph.graphql.relay import model_pk
from tests.helpers import create_experiment, create_tag, tag_experiment

E = models.Experiment
KEYS = (SortKey("id"),)


def _training() -> Any:
    return E.kind == models.ExperimentKind.TRAINING


def _evaluation() -> Any:
    return E.kind == models.ExperimentKind.EVALUATION


async def _tagged(gql) -> tuple[str, dict[str, str]]:
    """A tag on one training and one evaluation experiment: (tag id, kind -> name)."""
    tag = await create_tag(gql, "shared")
    names = {}
    for kind in ("TRAINING", "EVALUATION"):
        experiment = await create_experiment(gql, f"{kind.lower()}-one", kind)
        await tag_experiment(gql, experiment["id"], tag["id"])
        names[kind] = experiment["name"]
    return tag["id"], names


def _spec(*narrowings: Narrowing | None) -> ChildPages:
    relation = Relation(E, through=TAGGED)
    for n in narrowings:
        relation = relation.narrowed(n)
    return ChildPages(relation, KEYS, PageArgs(limit=10, forward=True, cursor=None))


async def _names(db, spec: ChildPages, tag_pk: int) -> list[str]:
    [page] = await spec.load(db, [tag_pk])
    return [row.name for row in page.rows]


async def test_specs_differing_only_in_their_condition_get_their_own_statement_and_rows(gql, db):
    tag_id, names = await _tagged(gql)
    tag_pk = model_pk(tag_id, Tag)
    training = _spec(Narrowing.fixed(_training))
    evaluation = _spec(Narrowing.fixed(_evaluation))

    assert training != evaluation
    assert _pages_statement(training) is not _pages_statement(evaluation)
    assert await _names(db, training, tag_pk) == [names["TRAINING"]]
    # Read after the first: a shared cached statement would give training rows here.
    assert await _names(db, evaluation, tag_pk) == [names["EVALUATION"]]


async def test_filter_inputs_key_their_spec(gql, db):
    tag_id, names = await _tagged(gql)
    tag_pk = model_pk(tag_id, Tag)

    def by_kind(kind: models.ExperimentKind) -> Narrowing | None:
        return narrowing(ExperimentFilter(kinds=[kind]), EXPERIMENT_RULES)

    training = _spec(by_kind(models.ExperimentKind.TRAINING))
    again = _spec(by_kind(models.ExperimentKind.TRAINING))
    evaluation = _spec(by_kind(models.ExperimentKind.EVALUATION))

    # Equal inputs (separate objects): one spec, one statement.
    assert training == again and hash(training) == hash(again)
    assert _pages_statement(training) is _pages_statement(again)
    # Inputs that differ: different specs, statements and rows.
    assert training != evaluation
    assert _pages_statement(training) is not _pages_statement(evaluation)
    assert await _names(db, training, tag_pk) == [names["TRAINING"]]
    assert await _names(db, evaluation, tag_pk) == [names["EVALUATION"]]
    # An empty filter is no condition: the unfiltered spec.
    assert _spec(narrowing(ExperimentFilter(), EXPERIMENT_RULES)) == _spec()


TAG_EXPERIMENTS = """
query($id: ID!) {
  node(id: $id) {
    ... on Tag {
      %s
    }
  }
}"""
ALIAS = "x%d: experiments(filter: {kinds: [%s]}) { edges { node { name } } }"


@pytest.mark.executor
async def test_aliases_with_equal_filters_share_one_statement_and_differing_ones_do_not(
    gql, statements
):
    tag_id, names = await _tagged(gql)

    async def run(*kinds: str) -> list[list[str]]:
        fields = "\n".join(ALIAS % (i, kind) for i, kind in enumerate(kinds))
        statements.reset()
        data = await gql.data(TAG_EXPERIMENTS % fields, {"id": tag_id})
        return [
            [e["node"]["name"] for e in data["node"][f"x{i}"]["edges"]] for i in range(len(kinds))
        ]

    assert await run("TRAINING") == [[names["TRAINING"]]]
    one = statements.count
    assert await run("TRAINING", "TRAINING") == [[names["TRAINING"]]] * 2
    assert statements.count == one  # one loader, one statement for both aliases
    assert await run("TRAINING", "EVALUATION") == [[names["TRAINING"]], [names["EVALUATION"]]]
    assert statements.count == one + 1
